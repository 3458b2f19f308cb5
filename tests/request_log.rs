//! Issue 14, the SCIM request log: what a tenant's operators see at `GET
//! /admin/v1/tenants/{t}/requests` after an identity provider's requests,
//! through the whole service over real SQLite.

use chrono::Duration;
use scim_worker::testing::{patch_ops, urn::USER, App, Creds, Reply};
use scim_worker::{Method, Request, Row, SqlExecutor, Stmt, StoreError, Written};
use serde_json::{json, Value};

const OKTA_AGENT: &str = "Okta SCIM Client 1.0.0";

/// `GET /admin/v1/tenants/{tenant}/requests?{query}` with an admin token
/// of scope `scope` (`None`: the platform).
fn read_log(app: &App, scope: Option<&str>, tenant: &str, query: &str) -> Reply {
    let path = format!("/tenants/{tenant}/requests?{query}");
    app.admin(&app.admin_token(scope), "GET", &path, None)
}

/// The tenant's request log, newest first (`query` after `?`), as the
/// platform reads it.
fn log_page(app: &App, tenant: &str, query: &str) -> Reply {
    let r = read_log(app, None, tenant, query);
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r
}

/// Every entry of the tenant's log, newest first.
fn entries(app: &App, tenant: &str) -> Vec<Value> {
    log_page(app, tenant, "limit=1000").body["requests"]
        .as_array()
        .unwrap()
        .clone()
}

fn statuses(list: &[Value]) -> Vec<u64> {
    list.iter().map(|e| e["status"].as_u64().unwrap()).collect()
}

/// A SCIM request as Okta sends it: with its user agent.
fn from_okta(creds: &Creds, method: Method, path: &str, body: Option<Value>) -> Request {
    App::scim_request(creds, method, path, body).with_header("User-Agent", OKTA_AGENT)
}

fn new_user(name: &str) -> Value {
    json!({"schemas": [USER], "userName": name})
}

#[test]
fn a_failed_write_shows_its_status_scim_type_and_detail() {
    let app = App::new();
    let acme = app.provision("acme");
    let r = app.call(&acme, "POST", "/Users", Some(json!({"schemas": [USER]})));
    assert_eq!(r.status, 400, "{}", r.body);
    let page = log_page(&app, "acme", "");
    assert_eq!(page.body["next"], Value::Null);
    let list = page.body["requests"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let e = &list[0];
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/scim/v2/acme/Users");
    assert_eq!(e["status"], 400);
    assert_eq!(e["scimType"], r.body["scimType"]);
    assert!(e["scimType"].is_string(), "{e}");
    assert_eq!(e["detail"], r.body["detail"]);
    assert_eq!(e["requestId"], r.header("x-request-id").unwrap());
    assert_eq!(e["leniencies"], json!([]));
    assert!(e["durationMs"].is_u64(), "{e}");
    assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
}

#[test]
fn writes_are_logged_and_reads_only_when_the_setting_says_all() {
    let app = App::new();
    let acme = app.provision("acme");
    let id = app.named_user(&acme, "ann@example.com");
    assert_eq!(
        app.call(&acme, "GET", &format!("/Users/{id}"), None).status,
        200
    );
    assert_eq!(app.call(&acme, "GET", "/Users/nobody", None).status, 404);
    let list = entries(&app, "acme");
    // The write and the failed read; not the successful read, nor any of
    // the admin API's own requests.
    assert_eq!(statuses(&list), [404, 201], "{list:?}");
    assert_eq!(list[1]["scimType"], Value::Null);
    assert_eq!(list[1]["detail"], Value::Null);

    app.settings("acme", json!({"requestLog": "all"}));
    let list_query = "/Users?filter=userName%20eq%20%22ann%40example.com%22";
    assert_eq!(app.call(&acme, "GET", list_query, None).status, 200);
    let list = entries(&app, "acme");
    assert_eq!(statuses(&list), [200, 404, 201]);
    assert_eq!(list[0]["method"], "GET");
    assert_eq!(list[0]["path"], "/scim/v2/acme/Users");
    assert_eq!(
        list[0]["query"],
        "filter=userName%20eq%20%22ann%40example.com%22"
    );
    assert_eq!(list[1]["query"], Value::Null);

    app.settings("acme", json!({"requestLog": "writes-and-errors"}));
    assert_eq!(app.call(&acme, "GET", list_query, None).status, 200);
    assert_eq!(entries(&app, "acme").len(), 3);
}

#[test]
fn the_token_and_user_agent_are_shown_and_never_the_authorization_header() {
    let app = App::new();
    let acme = app.provision("acme");
    let tokens = app.admin(&app.admin_token(None), "GET", "/tenants/acme/tokens", None);
    let token_id = tokens.body["tokens"][0]["id"].clone();
    let r = app.request(from_okta(
        &acme,
        Method::Post,
        "/Users",
        Some(new_user("ann")),
    ));
    assert_eq!(r.status, 201, "{}", r.body);
    let e = &entries(&app, "acme")[0];
    assert_eq!(e["token"], json!({"id": token_id, "label": "idp"}));
    assert_eq!(e["userAgent"], OKTA_AGENT);
    // A client that also sends its token in the query (RFC 6750 §2.3).
    let path = format!("/Users?access_token={}&count=1", acme.token);
    let r = app.request(from_okta(&acme, Method::Delete, &path, None));
    assert_eq!(r.status, 405, "{}", r.body);
    let all = log_page(&app, "acme", "").body_text();
    assert!(!all.contains(&acme.token), "{all}");
    assert_eq!(
        entries(&app, "acme")[0]["query"],
        "access_token=[redacted]&count=1"
    );
}

#[test]
fn an_unauthenticated_request_is_logged_without_token_or_body() {
    let app = App::new();
    app.provision("acme");
    let stranger = Creds {
        tenant: "acme".into(),
        token: "swt_guessed".into(),
    };
    let body = json!({"schemas": [USER], "userName": "mallory", "notes": "spam"});
    let r = app.call(&stranger, "POST", "/Users", Some(body));
    assert_eq!(r.status, 401);
    let list = entries(&app, "acme");
    assert_eq!(statuses(&list), [401]);
    assert_eq!(list[0]["token"], Value::Null);
    assert_eq!(list[0]["body"], Value::Null);
    assert_eq!(list[0]["detail"], "Authentication failed.");
    // A tenant that does not exist has no log to write to.
    let ghost = Creds {
        tenant: "ghost".into(),
        token: "swt_guessed".into(),
    };
    assert_eq!(app.call(&ghost, "GET", "/Users", None).status, 401);
    let rows = app.rows("SELECT count(*) AS n FROM request_log", Vec::new());
    assert_eq!(rows[0]["n"], 1);
}

#[test]
fn passwords_and_tokens_in_the_body_are_redacted() {
    let app = App::new();
    let acme = app.provision("acme");
    let body = json!({
        "schemas": [USER],
        "userName": "ann",
        "password": "hunter2-secret-value",
        "urn:example:okta": {"token": "tok-123-value", "apiSecret": "s3cr3t-value"}
    });
    assert_eq!(app.call(&acme, "POST", "/Users", Some(body)).status, 201);
    let id = app.named_user(&acme, "bob");
    let change = patch_ops(json!([
        {"op": "replace", "path": "password", "value": "patched-pw-value"},
        {"op": "replace", "value": {"password": "pathless-pw-value", "title": "Boss"}}
    ]));
    let r = app.call(&acme, "PATCH", &format!("/Users/{id}"), Some(change));
    assert!(r.ok(), "{}", r.body);
    let text = log_page(&app, "acme", "").body_text();
    for secret in [
        "hunter2-secret-value",
        "tok-123-value",
        "s3cr3t-value",
        "patched-pw-value",
        "pathless-pw-value",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let list = entries(&app, "acme");
    let post: Value = serde_json::from_str(list[2]["body"].as_str().unwrap()).unwrap();
    assert_eq!(post["userName"], "ann");
    assert_eq!(post["password"], "[redacted]");
    assert_eq!(post["urn:example:okta"]["token"], "[redacted]");
    assert_eq!(post["urn:example:okta"]["apiSecret"], "[redacted]");
    let patch: Value = serde_json::from_str(list[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(patch["Operations"][0]["value"], "[redacted]");
    assert_eq!(patch["Operations"][1]["value"]["password"], "[redacted]");
    assert_eq!(patch["Operations"][1]["value"]["title"], "Boss");
}

#[test]
fn a_large_body_is_capped_and_a_body_that_is_not_json_is_kept_as_its_size() {
    let app = App::new();
    let acme = app.provision("acme");
    let body = json!({"schemas": [USER], "userName": "ann", "title": "x".repeat(5 * 1024)});
    let sent = body.to_string().len();
    assert_eq!(app.call(&acme, "POST", "/Users", Some(body)).status, 201);
    let text = App::scim_request(&acme, Method::Post, "/Users", None).with_body("userName=bob");
    assert_eq!(app.request(text).status, 400);
    let list = entries(&app, "acme");
    assert_eq!(list[0]["body"], "[12 bytes, not JSON]");
    let kept = list[1]["body"].as_str().unwrap();
    let marker = format!("…[cut: {sent} bytes in all]");
    assert!(kept.ends_with(&marker), "{kept}");
    assert_eq!(kept.len(), 4096 + marker.len());
    assert!(kept.starts_with(r#"{"schemas":["#), "{kept}");
}

#[test]
fn leniencies_applied_are_listed() {
    let app = App::new();
    let acme = app.provision("acme");
    let body = json!({"schemas": [USER], "userName": "ann", "phoneNumbrs": [{"value": "1"}]});
    assert_eq!(app.call(&acme, "POST", "/Users", Some(body)).status, 201);
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Sales",
        "members": [{"value": "not-a-user"}]
    });
    assert_eq!(app.call(&acme, "POST", "/Groups", Some(group)).status, 201);
    let list = entries(&app, "acme");
    assert_eq!(
        list[1]["leniencies"],
        json!([{"kind": "unknownAttribute", "name": "phoneNumbrs"}])
    );
    assert_eq!(
        list[0]["leniencies"],
        json!([{"kind": "unknownMembers", "skipped": ["not-a-user"]}])
    );
}

#[test]
fn status_and_method_filters_and_the_cursor_page_through_the_log() {
    let app = App::new();
    let acme = app.provision("acme");
    let id = app.named_user(&acme, "ann");
    assert_eq!(
        app.call(&acme, "POST", "/Users", Some(new_user("ann")))
            .status,
        409
    );
    assert_eq!(app.call(&acme, "GET", "/Users/nobody", None).status, 404);
    let change = patch_ops(json!([{"op": "replace", "path": "title", "value": "Boss"}]));
    let r = app.call(&acme, "PATCH", &format!("/Users/{id}"), Some(change));
    assert!(r.ok(), "{}", r.body);
    assert_eq!(app.call(&acme, "DELETE", "/Users/nobody", None).status, 404);
    let all = statuses(&entries(&app, "acme"));
    assert_eq!(all.len(), 5, "{all:?}");

    let errors = log_page(&app, "acme", "status=4xx").body["requests"].clone();
    assert_eq!(statuses(errors.as_array().unwrap()), [404, 404, 409]);
    let one = log_page(&app, "acme", "status=409").body["requests"].clone();
    assert_eq!(statuses(one.as_array().unwrap()), [409]);
    let posts = log_page(&app, "acme", "method=post").body["requests"].clone();
    assert_eq!(statuses(posts.as_array().unwrap()), [409, 201]);
    let both = log_page(&app, "acme", "method=POST&status=2xx").body["requests"].clone();
    assert_eq!(statuses(both.as_array().unwrap()), [201]);

    // Two at a time, newest first, until `next` is null.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let page = log_page(&app, "acme", &format!("limit=2&after={after}"));
        let items = page.body["requests"].as_array().unwrap();
        assert!(items.len() <= 2);
        paged.extend(statuses(items));
        match page.body["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, all);
    for bad in [
        "limit=0",
        "limit=1001",
        "status=4x",
        "method=FETCH",
        "after=x",
    ] {
        let r = read_log(&app, None, "acme", bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[test]
fn another_tenants_admin_token_is_refused() {
    let app = App::new();
    let acme = app.provision("acme");
    app.provision("beta");
    app.named_user(&acme, "ann");
    let own = read_log(&app, Some("acme"), "acme", "");
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["requests"].as_array().unwrap().len(), 1);
    let other = read_log(&app, Some("beta"), "acme", "");
    assert_eq!(other.status, 403, "{}", other.body);
    assert!(!other.body_text().contains("ann"), "{}", other.body);
    // And each tenant sees its own requests only.
    assert_eq!(entries(&app, "beta").len(), 0);
    let missing = app.admin(
        &app.admin_token(None),
        "GET",
        "/tenants/nope/requests",
        None,
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn retention_deletes_entries_older_than_the_setting_and_keeps_newer_ones() {
    let mut app = App::new();
    let acme = app.provision("acme");
    let beta = app.provision("beta");
    app.settings("beta", json!({"requestLogRetentionDays": 30}));
    let now = app.now;
    for (days, name) in [(10, "ten"), (2, "two")] {
        app.now = now - Duration::days(days);
        app.named_user(&acme, &format!("{name}@acme"));
        app.named_user(&beta, &format!("{name}@beta"));
    }
    app.now = now;
    // Seven days by default: the 10-day-old entry of acme goes; beta keeps 30.
    assert_eq!(app.purge_request_log(), 1);
    let kept = entries(&app, "acme");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0]["body"].as_str().unwrap().contains("two@acme"));
    assert_eq!(entries(&app, "beta").len(), 2);
    // Running it again deletes nothing more; a shorter setting, more.
    assert_eq!(app.purge_request_log(), 0);
    app.settings("acme", json!({"requestLogRetentionDays": 1}));
    assert_eq!(app.purge_request_log(), 1);
    assert_eq!(entries(&app, "acme").len(), 0);
    assert_eq!(entries(&app, "beta").len(), 2);
}

#[test]
fn request_log_settings_have_defaults_and_refuse_invalid_values() {
    let app = App::new();
    app.provision("acme");
    let admin = app.admin_token(None);
    let t = app.admin(&admin, "GET", "/tenants/acme", None);
    assert_eq!(t.body["settings"]["requestLog"], "writes-and-errors");
    assert_eq!(t.body["settings"]["requestLogRetentionDays"], 7);
    for bad in [
        json!({"requestLog": "everything"}),
        json!({"requestLog": "All"}),
        json!({"requestLogRetentionDays": 0}),
        json!({"requestLogRetentionDays": 366}),
        json!({"requestLogRetentionDays": -1}),
        json!({"requestLogRetentionDays": 7.5}),
        json!({"requestLogRetentionDays": "7"}),
    ] {
        let update = json!({"settings": bad});
        let r = app.admin(&admin, "PATCH", "/tenants/acme", Some(update));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        let create = json!({"id": "other", "settings": bad});
        let r = app.admin(&admin, "POST", "/tenants", Some(create));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    for days in [1, 365] {
        app.settings("acme", json!({"requestLogRetentionDays": days}));
    }
    app.settings("acme", json!({"requestLog": "all"}));
    let t = app.admin(&admin, "GET", "/tenants/acme", None);
    assert_eq!(t.body["settings"]["requestLog"], "all");
    assert_eq!(t.body["settings"]["requestLogRetentionDays"], 365);
    // Other settings keep their values.
    assert_eq!(t.body["settings"]["deletePolicy"], "retain");
}

/// SQLite that refuses every write to the request log.
struct NoRequestLog<'a>(&'a App);

impl SqlExecutor for NoRequestLog<'_> {
    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError> {
        self.0.db.query(stmt).await
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Written>, StoreError> {
        if stmts.iter().any(|s| s.sql.contains("INTO request_log")) {
            return Err(StoreError::Unavailable("D1 is overloaded".into()));
        }
        self.0.db.batch(stmts).await
    }
}

#[test]
fn a_log_that_cannot_be_written_changes_no_answer() {
    let app = App::new();
    let acme = app.provision("acme");
    let req = App::scim_request(&acme, Method::Post, "/Users", Some(new_user("ann")));
    let r = app.request_with(&NoRequestLog(&app), req);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["userName"], "ann");
    let lines = app.log.lines();
    let line = lines
        .iter()
        .find(|l| l["message"] == "request log entry not written")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(line["error"], "D1 is overloaded");
    assert_eq!(line["status"], 201);
    assert_eq!(line["tenant"], "acme");
    assert_eq!(entries(&app, "acme").len(), 0);
}

/// The worker gathers what the requests of an isolate leave for after their
/// responses into one D1 round trip (src/edge: `gather`, `After::run_all`):
/// every entry is written, and each tenant with undispatched events gets
/// one dispatch message, whoever else shares the round trip.
#[test]
fn several_requests_leftovers_share_one_round_trip() {
    let app = App::new();
    let a = app.tenant("gather-a");
    let b = app.tenant("gather-b");
    let hook = app.admin(
        &app.admin_token(Some("gather-a")),
        "POST",
        "/tenants/gather-a/webhooks",
        Some(json!({"url": "https://hooks.example.com/a"})),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let user = |name: &str| Some(json!({"schemas": [USER], "userName": name}));
    let replies = app.calls_then_after(vec![
        (&a, "POST", "/Users", user("a1")),
        (&b, "POST", "/Users", user("b1")),
        (&a, "POST", "/Users", user("a2")),
        (&b, "GET", "/Users/nobody", None),
    ]);
    assert_eq!(
        replies.iter().map(|r| r.status).collect::<Vec<_>>(),
        [201, 201, 201, 404]
    );
    let logged = |t: &str| {
        let r = app.admin(
            &app.admin_token(Some(t)),
            "GET",
            &format!("/tenants/{t}/requests"),
            None,
        );
        r.body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e["method"].as_str().unwrap(), e["status"]))
            .collect::<Vec<_>>()
    };
    assert_eq!(logged("gather-a"), ["POST 201", "POST 201"]);
    assert_eq!(logged("gather-b"), ["GET 404", "POST 201"]);
    // One dispatch for the tenant with a webhook, none for the other.
    let queued = app.out.take_queued();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        queued[0].0,
        json!({"kind": "dispatch", "tenant": "gather-a"})
    );
}

/// A failed request log write loses the entries (logged as unrecorded)
/// but never the dispatch of the events committed with the writes.
#[test]
fn a_failed_log_write_still_dispatches_the_events() {
    let app = App::new();
    let a = app.tenant("gather-c");
    let hook = app.admin(
        &app.admin_token(Some("gather-c")),
        "POST",
        "/tenants/gather-c/webhooks",
        Some(json!({"url": "https://hooks.example.com/c"})),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let req = App::scim_request(&a, Method::Post, "/Users", Some(new_user("c1")));
    let r = app.request_with(&NoRequestLog(&app), req);
    assert_eq!(r.status, 201, "{}", r.body);
    let queued = app.out.queued();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].0["tenant"], "gather-c");
    let lines = app.log.lines();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request log entry not written"),
        "{lines:?}"
    );
    // And the consumer delivers the event.
    app.out.answer(200);
    app.pump(10);
    assert_eq!(app.out.posts().len(), 1);
}
