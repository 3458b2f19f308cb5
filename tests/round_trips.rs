//! Round trips to the database per request (issue 6): the lookups identity
//! providers make before every write (`userName eq`, `externalId eq`,
//! `emails[type eq "work"].value eq`, GET by id, a group by displayName)
//! read the tenant's custom attribute definitions in the same round trip as
//! the resource, with or without custom attributes defined. A request that
//! names a custom attribute reads the definitions first, as before, and
//! gets the same answer.
//!
//! The request log's INSERT (issue 14) is counted apart, in
//! `Counted::request_log`: it is made after the answer, off the response
//! path (`ctx.wait_until`). A successful lookup under the default
//! `requestLog` ("writes-and-errors") makes none at all: the tenant's
//! setting is read in the lookup's own round trip.

use scim_worker::testing::{
    urn::{GROUP, USER},
    App, Creds,
};
use std::cell::RefCell;

use scim_worker::testing::SqliteExecutor;
use scim_worker::{Method, Request};
use scim_worker::{Row, SqlExecutor, Stmt, StoreError, Written};
use serde_json::{json, Value};

const URN: &str = "urn:acme-vendor:scim:schemas:extension:acme:2:User";

/// SQLite, recording every call the service makes: each is one round trip.
struct Counting<'a> {
    inner: &'a SqliteExecutor,
    calls: RefCell<Vec<String>>,
    request_log: RefCell<Vec<String>>,
}

impl SqlExecutor for Counting<'_> {
    fn identity(&self) -> u64 {
        self.inner.identity()
    }

    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError> {
        self.calls.borrow_mut().push(format!("query: {}", stmt.sql));
        self.inner.query(stmt).await
    }

    async fn query_all(&self, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, StoreError> {
        let sql: Vec<&str> = stmts.iter().map(|s| s.sql.as_str()).collect();
        self.calls
            .borrow_mut()
            .push(format!("query_all: {}", sql.join(" ; ")));
        self.inner.query_all(stmts).await
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Written>, StoreError> {
        let calls = match stmts.as_slice() {
            [first, ..] if first.sql.starts_with("INSERT INTO request_log") => &self.request_log,
            _ => &self.calls,
        };
        calls.borrow_mut().push(format!("batch of {}", stmts.len()));
        self.inner.batch(stmts).await
    }
}

struct Counted {
    status: u16,
    body: Value,
    etag: Option<String>,
    calls: Vec<String>,
    /// The request log's batches.
    request_log: Vec<String>,
}

/// A SCIM call (path relative to the tenant's base URL) through a counting
/// executor, with extra headers.
fn counted_with(app: &App, c: &Creds, path: &str, headers: &[(&str, &str)]) -> Counted {
    // As a cold isolate: the tenant's profile is read (see `warm` for the
    // steady state).
    scim_worker::testing::forget_cached_profiles();
    warm_with(app, c, path, headers)
}

/// A SCIM GET as an isolate that served the tenant within the last 30 s
/// makes it: with the tenant's profile it keeps.
fn warm(app: &App, c: &Creds, path: &str) -> Counted {
    warm_with(app, c, path, &[])
}

fn warm_with(app: &App, c: &Creds, path: &str, headers: &[(&str, &str)]) -> Counted {
    let mut req = Request::new(Method::Get, &format!("/scim/v2/{}{path}", c.tenant))
        .with_header("Authorization", &format!("Bearer {}", c.token));
    for (k, v) in headers {
        req = req.with_header(k, v);
    }
    through_counting(app, req)
}

/// Serves `req` through a counting executor over the app's database.
fn through_counting(app: &App, req: Request) -> Counted {
    let db = Counting {
        inner: &app.db,
        calls: RefCell::new(Vec::new()),
        request_log: RefCell::new(Vec::new()),
    };
    let response = app.request_with(&db, req).response;
    Counted {
        status: response.status,
        body: response.json_body().unwrap_or(Value::Null),
        etag: response.header("etag").map(str::to_owned),
        calls: db.calls.into_inner(),
        request_log: db.request_log.into_inner(),
    }
}

fn counted(app: &App, c: &Creds, path: &str) -> Counted {
    counted_with(app, c, path, &[])
}

fn filter(f: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
    format!("/Users?filter={q}")
}

fn define(app: &App, tenant: &str, name: &str, def: Value) {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "PUT",
        &format!("/tenants/{tenant}/schema/attributes/{name}"),
        Some(def),
    );
    assert_eq!(r.status, 201, "{name}: {}", r.body);
}

fn create(app: &App, c: &Creds, body: Value) -> String {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// A tenant `acme` with custom attributes, and its users ann and bob.
fn custom_tenant(app: &App) -> (Creds, String, String) {
    let c = app.tenant("acme");
    define(app, "acme", "costCenter", json!({"type": "string"}));
    define(app, "acme", "badge", json!({"type": "uniqueNumber"}));
    let ann = create(
        app,
        &c,
        json!({"schemas": [USER, URN], "userName": "ann", "externalId": "ext-ann",
               "emails": [{"value": "ann@example.com", "type": "work"}],
               URN: {"costCenter": "CC-1", "badge": 2}}),
    );
    let bob = create(
        app,
        &c,
        json!({"schemas": [USER, URN], "userName": "bob", "externalId": "ext-bob",
               "emails": [{"value": "bob@example.com", "type": "work"}],
               URN: {"costCenter": "CC-2", "badge": 1}}),
    );
    (c, ann, bob)
}

fn ids(body: &Value) -> Vec<&str> {
    body["Resources"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn idp_lookups_are_one_round_trip_without_custom_attributes() {
    let app = App::new();
    let c = app.tenant("plain");
    let id = create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "Alice@Example.com", "externalId": "00u1",
               "emails": [{"value": "alice@example.com", "type": "work"}]}),
    );
    for f in [
        r#"userName eq "ALICE@example.COM""#,
        r#"externalId eq "00u1""#,
        r#"emails[type eq "work"].value eq "alice@example.com""#,
    ] {
        let r = counted(&app, &c, &filter(f));
        assert_eq!(r.status, 200, "{f}: {}", r.body);
        assert_eq!(r.body["totalResults"], 1, "{f}: {}", r.body);
        assert_eq!(ids(&r.body), [id.as_str()], "{f}");
        assert_eq!(r.calls.len(), 1, "{f}: {:?}", r.calls);
        assert!(r.calls[0].starts_with("query_all: "), "{:?}", r.calls);
        assert!(r.request_log.is_empty(), "{f}: {:?}", r.request_log);
    }
    let miss = counted(&app, &c, &filter(r#"userName eq "nobody""#));
    assert_eq!(miss.body["totalResults"], 0, "{}", miss.body);
    assert_eq!(miss.calls.len(), 1, "{:?}", miss.calls);
}

#[test]
fn idp_lookups_are_one_round_trip_with_custom_attributes() {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    for f in [
        r#"userName eq "ANN""#,
        r#"externalId eq "ext-ann""#,
        r#"emails[type eq "work"].value eq "ann@example.com""#,
    ] {
        let r = counted(&app, &c, &filter(f));
        assert_eq!(r.status, 200, "{f}: {}", r.body);
        assert_eq!(ids(&r.body), [ann.as_str()], "{f}: {}", r.body);
        assert_eq!(r.calls.len(), 1, "{f}: {:?}", r.calls);
        // Decoded and projected with the tenant's full schema.
        let user = &r.body["Resources"][0];
        assert_eq!(user[URN], json!({"costCenter": "CC-1", "badge": 2}), "{f}");
        assert!(user["schemas"].as_array().unwrap().contains(&json!(URN)));
    }
    // excludedAttributes naming a custom attribute needs no second read.
    let r = counted(
        &app,
        &c,
        &format!(
            "{}&excludedAttributes={URN}:badge",
            filter(r#"userName eq "ann""#)
        ),
    );
    assert_eq!(r.body["Resources"][0][URN], json!({"costCenter": "CC-1"}));
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
}

#[test]
fn get_user_is_one_round_trip() {
    let app = App::new();
    let plain = app.tenant("plain");
    let id = create(
        &app,
        &plain,
        json!({"schemas": [USER], "userName": "alice"}),
    );
    let r = counted(&app, &plain, &format!("/Users/{id}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userName"], "alice");
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // And no request log statement: a successful GET under the default
    // setting is not kept, and the setting came with the user.
    assert!(r.request_log.is_empty(), "{:?}", r.request_log);

    let (c, ann, _) = custom_tenant(&app);
    let r = counted(&app, &c, &format!("/Users/{ann}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[URN], json!({"costCenter": "CC-1", "badge": 2}));
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // If-None-Match on the current version: 304, still one round trip.
    let etag = r.etag.unwrap();
    let r = counted_with(
        &app,
        &c,
        &format!("/Users/{ann}"),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(r.status, 304);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // Unknown id: 404 in one round trip.
    let r = counted(&app, &c, "/Users/no-such-id");
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // A projection naming only a custom attribute: the full schema reads
    // the user without its groups, so it is read again so.
    let r = counted(
        &app,
        &c,
        &format!("/Users/{ann}?attributes={URN}:costCenter"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[URN], json!({"costCenter": "CC-1"}));
    assert!(r.body.get("userName").is_none(), "{}", r.body);
    assert_eq!(r.calls.len(), 2, "{:?}", r.calls);
}

#[test]
fn custom_attribute_filter_falls_back_and_finds_the_user() {
    let app = App::new();
    let (c, ann, bob) = custom_tenant(&app);
    let r = counted(&app, &c, &filter(&format!(r#"{URN}:costCenter eq "cc-2""#)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), [bob.as_str()], "{}", r.body);
    assert_eq!(r.body["Resources"][0][URN]["costCenter"], "CC-2");
    // The definitions first, then the page.
    assert_eq!(r.calls.len(), 2, "{:?}", r.calls);
    assert!(r.calls[0].contains("tenant_attributes"), "{:?}", r.calls);

    // Combined with a core condition.
    let f = format!(r#"userName eq "ann" and {URN}:badge eq 2"#);
    let r = counted(&app, &c, &filter(&f));
    assert_eq!(ids(&r.body), [ann.as_str()], "{}", r.body);

    // Sorting by a custom attribute: the tenant's schema orders the page.
    let r = counted(&app, &c, &format!("/Users?sortBy={URN}:badge"));
    assert_eq!(ids(&r.body), [bob.as_str(), ann.as_str()], "{}", r.body);
    assert_eq!(r.calls.len(), 2, "{:?}", r.calls);
    let r = counted(
        &app,
        &c,
        &format!("/Users?sortBy={URN}:badge&sortOrder=descending"),
    );
    assert_eq!(ids(&r.body), [ann.as_str(), bob.as_str()], "{}", r.body);
}

#[test]
fn invalid_and_unknown_filters_answer_as_before() {
    let app = App::new();
    let (c, _, _) = custom_tenant(&app);
    for f in [
        "userName eq",
        "userName zz \"ann\"",
        "noSuchAttribute eq \"x\"",
    ] {
        let r = counted(&app, &c, &filter(f));
        assert_eq!(r.status, 400, "{f}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidFilter", "{f}: {}", r.body);
        // Only the definitions were read, as before.
        assert_eq!(r.calls.len(), 1, "{f}: {:?}", r.calls);
        assert!(r.calls[0].starts_with("query: "), "{f}: {:?}", r.calls);
    }
    // An Enterprise attribute without its URN (issue 13) resolves in the
    // core schema's plan: one round trip, as with its URN.
    let r = counted(&app, &c, &filter("employeeNumber eq \"7\""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // The tenant's `costCenter` shadows nothing: a name two extensions
    // define is 400 naming both.
    let r = counted(&app, &c, &filter("costCenter eq \"CC-1\""));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["scimType"], "invalidFilter");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("enterprise:2.0:User") && detail.contains(":acme:2:User"),
        "{detail}"
    );
}

#[test]
fn group_lookup_by_display_name_is_one_round_trip() {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": ann}]})),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    let r = counted(
        &app,
        &c,
        "/Groups?filter=displayName%20eq%20%22sales%22&excludedAttributes=members",
    );
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    assert!(r.body["Resources"][0].get("members").is_none());
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    assert!(r.request_log.is_empty(), "{:?}", r.request_log);
    // Under requestLog "all" the same lookup is kept, still in one round
    // trip before the answer.
    let set = app.admin(
        &app.admin_token(None),
        "PATCH",
        &format!("/tenants/{}", c.tenant),
        Some(json!({"settings": {"requestLog": "all"}})),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let r = counted(
        &app,
        &c,
        "/Groups?filter=displayName%20eq%20%22sales%22&excludedAttributes=members",
    );
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    assert_eq!(r.request_log, ["batch of 1"]);
}

#[test]
fn list_pages_read_their_count_with_the_page_when_it_is_needed() {
    let app = App::new();
    let (c, ann, bob) = custom_tenant(&app);
    let carl = create(&app, &c, json!({"schemas": [USER], "userName": "carl"}));
    // Unfiltered, the tenant row keeps the total (second migration): a full
    // page reads it along with its rows, and never counts the users.
    let r = counted(&app, &c, "/Users?startIndex=1&count=2");
    assert_eq!(r.body["totalResults"], 3, "{}", r.body);
    assert_eq!(ids(&r.body), [ann.as_str(), bob.as_str()]);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    assert!(r.calls[0].contains("SELECT user_count"), "{:?}", r.calls);
    assert!(!r.calls[0].contains("count(*)"), "{:?}", r.calls);
    // A full filtered page cannot tell the total: the count follows.
    let r = counted(
        &app,
        &c,
        "/Users?filter=active%20eq%20true&startIndex=1&count=2",
    );
    assert_eq!(r.body["totalResults"], 3, "{}", r.body);
    assert_eq!(ids(&r.body), [ann.as_str(), bob.as_str()]);
    assert_eq!(r.calls.len(), 2, "{:?}", r.calls);
    assert!(r.calls[1].contains("count(*)"), "{:?}", r.calls);
    // A short filtered page tells it.
    let r = counted(
        &app,
        &c,
        "/Users?filter=active%20eq%20true&startIndex=3&count=2",
    );
    assert_eq!(r.body["totalResults"], 3, "{}", r.body);
    assert_eq!(ids(&r.body), [carl.as_str()]);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // count=0 is the count alone, with the definitions.
    let r = counted(&app, &c, "/Users?count=0");
    assert_eq!(r.body["totalResults"], 3, "{}", r.body);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // A filtered cursor page past the first needs the count: it comes along.
    let first = counted(&app, &c, "/Users?filter=active%20eq%20true&cursor=&count=2");
    assert_eq!(ids(&first.body), [ann.as_str(), bob.as_str()]);
    let next = first.body["nextCursor"].as_str().unwrap().to_owned();
    let r = counted(
        &app,
        &c,
        &format!("/Users?filter=active%20eq%20true&cursor={next}&count=2"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), [carl.as_str()]);
    assert_eq!(r.body["totalResults"], 3, "{}", r.body);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    assert!(r.calls[0].contains("count(*)"), "{:?}", r.calls);
    // Groups keep their total too.
    let r = counted(&app, &c, "/Groups?count=1");
    assert_eq!(r.body["totalResults"], 0, "{}", r.body);
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    assert!(r.calls[0].contains("SELECT group_count"), "{:?}", r.calls);
}

#[test]
fn a_tenant_set_urn_costs_no_round_trip() {
    // The URN is read with the definitions, by the same statement.
    let app = App::new();
    let (c, ann, bob) = custom_tenant(&app);
    let own = "urn:kissflow:scim:schemas:extension:Ab3xYz9Q:2:User";
    let r = app.admin(
        &app.admin_token(Some("acme")),
        "PUT",
        "/tenants/acme/schema",
        Some(json!({"urn": own})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = counted(&app, &c, &format!("/Users/{ann}"));
    assert_eq!(
        r.body[own],
        json!({"costCenter": "CC-1", "badge": 2}),
        "{}",
        r.body
    );
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    assert!(r.calls[0].contains("tenant_attributes"), "{:?}", r.calls);
    let r = counted(&app, &c, &filter(r#"userName eq "ann""#));
    assert_eq!(ids(&r.body), [ann.as_str()], "{}", r.body);
    assert_eq!(r.body["Resources"][0][own]["costCenter"], "CC-1");
    assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
    // Naming a custom attribute under it reads the definitions first, as
    // under the default URN.
    let r = counted(&app, &c, &filter(&format!(r#"{own}:costCenter eq "cc-2""#)));
    assert_eq!(ids(&r.body), [bob.as_str()], "{}", r.body);
    assert_eq!(r.calls.len(), 2, "{:?}", r.calls);
    assert!(r.calls[0].contains("tenant_attributes"), "{:?}", r.calls);
}

/// A SCIM write through a counting executor, as a cold isolate makes it.
fn counted_write(app: &App, c: &Creds, method: Method, path: &str, body: Value) -> Counted {
    scim_worker::testing::forget_cached_profiles();
    warm_write(app, c, method, path, body)
}

/// A SCIM write as an isolate that served the tenant within 30 s makes it.
fn warm_write(app: &App, c: &Creds, method: Method, path: &str, body: Value) -> Counted {
    through_counting(app, App::scim_request(c, method, path, Some(body)))
}

/// Round trips of the writes identity providers make most, in a cold
/// isolate (issue 18 counts them): a create reads the tenant's profile
/// (definitions, settings) and then writes one batch (the row, its emails,
/// its events, the roles); a PATCH without a projection reads the resource
/// and the profile in one round trip and writes one batch; a member change
/// reads the group and whether the members it adds exist in one round trip,
/// and writes one batch. Events, the roles and their
/// events ride in the write's own batch: none of them adds a round trip.
#[test]
fn writes_are_a_read_and_one_batch() {
    let app = App::new();
    let c = app.provision("acme");
    let post = counted_write(
        &app,
        &c,
        Method::Post,
        "/Users",
        json!({"schemas": [USER], "userName": "bob@example.com", "emails": [{"value": "bob@example.com", "type": "work"}]}),
    );
    assert_eq!(post.status, 201, "{}", post.body);
    let batches = |c: &Counted| c.calls.iter().filter(|s| s.starts_with("batch")).count();
    assert_eq!(
        (post.calls.len(), batches(&post)),
        (2, 1),
        "{:?}",
        post.calls
    );
    let id = post.body["id"].as_str().unwrap().to_owned();

    let ops = |v: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": v});
    let patch = counted_write(
        &app,
        &c,
        Method::Patch,
        &format!("/Users/{id}"),
        ops(json!([{"op": "replace", "value": {"active": false}}])),
    );
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(
        (patch.calls.len(), batches(&patch)),
        (2, 1),
        "{:?}",
        patch.calls
    );
    assert!(patch.calls[0].starts_with("query_all"), "{:?}", patch.calls);

    let group = counted_write(
        &app,
        &c,
        Method::Post,
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Sales"}),
    );
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let member = counted_write(
        &app,
        &c,
        Method::Patch,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
    );
    assert_eq!(member.status, 204, "{}", member.body);
    // The group and whether the members to add exist (the `unknownMembers`
    // setting decides what a missing one does) in one round trip, then the
    // batch.
    assert_eq!(
        (member.calls.len(), batches(&member)),
        (2, 1),
        "{:?}",
        member.calls
    );
    assert!(
        member.calls[0].starts_with("query_all"),
        "{:?}",
        member.calls
    );
    assert_eq!(app.member_ids(&gid), vec![id.clone()]);
    // Entra's form: capitalised op. A member that does not exist is skipped
    // and logged, as the tenant's settings say (read with the group).
    let entra = counted_write(
        &app,
        &c,
        Method::Patch,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "Add", "path": "members", "value": [{"value": "no-such-user"}]}])),
    );
    assert_eq!(entra.status, 204, "{}", entra.body);
    // Nothing to write: the group, the probe and the tenant's profile (its
    // settings) in one round trip.
    assert_eq!(
        (entra.calls.len(), batches(&entra)),
        (1, 0),
        "{:?}",
        entra.calls
    );
    assert_eq!(app.member_ids(&gid), vec![id.clone()]);
    // The request log is written after the answer, apart.
    assert!(post.request_log.len() <= 1);
}

/// The steady state (issue 18): an isolate that served the tenant within
/// the last 30 s keeps its profile (settings, extension URN, definitions),
/// so a lookup is one statement, the page's, and a create is one batch. A
/// PATCH of a user this isolate just created, read or found is one batch
/// too (it starts from the isolate's copy: see the tests after this one),
/// and so is a member change of a group it created (the batch checks that
/// the members it adds exist). Each user write carries
/// the profile version it was made with: a write made with a profile that
/// changed meanwhile aborts whole and is made again with the current one.
#[test]
fn in_steady_state_a_lookup_is_one_statement_and_a_create_one_batch() {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    let first = counted(&app, &c, &filter(r#"userName eq "ann""#));
    assert!(
        first.calls[0].contains("tenant_attributes"),
        "{:?}",
        first.calls
    );
    for f in [r#"userName eq "ANN""#, r#"externalId eq "ext-ann""#] {
        let r = warm(&app, &c, &filter(f));
        assert_eq!(ids(&r.body), [ann.as_str()], "{f}: {}", r.body);
        assert_eq!(
            r.body["Resources"][0][URN]["costCenter"], "CC-1",
            "the tenant's schema"
        );
        assert_eq!(r.calls.len(), 1, "{f}: {:?}", r.calls);
        assert!(
            r.calls[0].starts_with("query: "),
            "one statement: {:?}",
            r.calls
        );
        assert!(!r.calls[0].contains("tenant_attributes"), "{:?}", r.calls);
    }
    let r = warm(&app, &c, &format!("/Users/{ann}"));
    assert_eq!((r.status, r.calls.len()), (200, 1), "{:?}", r.calls);
    let batches = |c: &Counted| c.calls.iter().filter(|s| s.starts_with("batch")).count();
    let post = warm_write(
        &app,
        &c,
        Method::Post,
        "/Users",
        json!({"schemas": [USER, URN], "userName": "cat", URN: {"costCenter": "CC-3"}}),
    );
    assert_eq!(post.status, 201, "{}", post.body);
    assert_eq!(
        (post.calls.len(), batches(&post)),
        (1, 1),
        "{:?}",
        post.calls
    );
    let id = post.body["id"].as_str().unwrap().to_owned();
    let patch = warm_write(
        &app,
        &c,
        Method::Patch,
        &format!("/Users/{id}"),
        scim_worker::testing::patch_ops(json!([{"op": "replace", "value": {"active": false}}])),
    );
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(
        (patch.calls.len(), batches(&patch)),
        (1, 1),
        "{:?}",
        patch.calls
    );
    assert_eq!(patch.body["active"], false);
    assert_eq!(patch.body[URN]["costCenter"], "CC-3");
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Ops"})),
    );
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let member = warm_write(
        &app,
        &c,
        Method::Patch,
        &format!("/Groups/{gid}"),
        scim_worker::testing::patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": id}, {"value": ann}]}]),
        ),
    );
    assert_eq!(member.status, 204, "{}", member.body);
    assert_eq!(
        (member.calls.len(), batches(&member)),
        (1, 1),
        "{:#?}",
        member.calls
    );
    let mut want = vec![id.clone(), ann.clone()];
    want.sort();
    assert_eq!(app.member_ids(&gid), want);
}

#[test]
fn a_write_made_with_a_profile_changed_elsewhere_is_made_again_with_the_current_one() {
    let app = App::new();
    let (c, _, _) = custom_tenant(&app);
    // This isolate keeps the profile with costCenter defined ...
    warm(&app, &c, &filter(r#"userName eq "ann""#));
    // ... when another isolate removes it (no forgetting here).
    app.rows(
        "DELETE FROM tenant_attributes WHERE tenant_id = 'acme' AND name = 'costCenter'",
        vec![],
    );
    let post = warm_write(
        &app,
        &c,
        Method::Post,
        "/Users",
        json!({"schemas": [USER, URN], "userName": "dan", URN: {"costCenter": "CC-4", "badge": 9}}),
    );
    assert_eq!(post.status, 201, "{}", post.body);
    // Made again with the current schema: costCenter is unknown now (ignored).
    assert_eq!(post.body[URN], json!({"badge": 9}), "{}", post.body);
    let batches: Vec<&String> = post
        .calls
        .iter()
        .filter(|s| s.starts_with("batch"))
        .collect();
    assert_eq!(
        batches.len(),
        2,
        "the first batch aborted: {:?}",
        post.calls
    );
    let stored = app.rows("SELECT doc FROM users WHERE user_name = 'dan'", vec![]);
    assert_eq!(stored.len(), 1);
    assert!(!stored[0]["doc"].as_str().unwrap().contains("CC-4"));
}

/// A PATCH without `If-Match`, as Okta and Entra send it, of a user this
/// isolate found just now.
fn patch_active(app: &App, c: &Creds, id: &str, active: bool) -> Counted {
    warm_write(
        app,
        c,
        Method::Patch,
        &format!("/Users/{id}"),
        scim_worker::testing::patch_ops(json!([{"op": "replace", "value": {"active": active}}])),
    )
}

/// A member PATCH adding `ids` to group `gid` (Okta's form), as an isolate
/// that served the tenant just now makes it.
fn add_members(app: &App, c: &Creds, gid: &str, ids: &[&str]) -> Counted {
    let value: Vec<Value> = ids.iter().map(|i| json!({"value": i})).collect();
    warm_write(
        app,
        c,
        Method::Patch,
        &format!("/Groups/{gid}"),
        scim_worker::testing::patch_ops(json!([{"op": "add", "path": "members", "value": value}])),
    )
}

/// What another isolate writes: straight to the database, past this
/// isolate's copies (every statement that rewrites a user bumps its
/// version, as this one does).
fn elsewhere(app: &App, sql: &str, id: &str) {
    app.rows(
        &format!("UPDATE users SET {sql}, version = version + 1 WHERE id = ?1"),
        vec![id.into()],
    );
}

/// The custom tenant (see [`custom_tenant`]) after an IdP's lookup of ann
/// in this isolate; ann's id.
fn ann_found() -> (App, Creds, String) {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    let found = warm(&app, &c, &filter(r#"userName eq "ann""#));
    assert_eq!(ids(&found.body), [ann.as_str()]);
    (app, c, ann)
}

/// The user as stored, through SCIM, from a cold isolate.
fn stored(app: &App, c: &Creds, id: &str) -> Value {
    scim_worker::testing::forget_cached_profiles();
    let r = app.call(c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The write after a lookup (Okta's and Entra's `GET ?filter=` then PATCH)
/// is one batch, from the copy of the user the lookup found; the answer's
/// `groups`, which a membership change alters without touching the user, is
/// read back in that batch, not taken from the copy.
#[test]
fn a_patch_after_a_lookup_is_one_batch_and_answers_the_stored_groups() {
    let (app, c, ann) = ann_found();
    let gid = app.named_group(&c, "Ops");
    // The group gains ann after the lookup: ann's version stays.
    let member = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(scim_worker::testing::patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": ann}]}]),
        )),
    );
    assert_eq!(member.status, 204, "{}", member.body);
    let patch = patch_active(&app, &c, &ann, false);
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(patch.calls.len(), 1, "{:?}", patch.calls);
    assert!(patch.calls[0].starts_with("batch"), "{:?}", patch.calls);
    assert_eq!(patch.body["active"], false);
    assert_eq!(
        patch.body["groups"][0]["value"],
        gid.as_str(),
        "{}",
        patch.body
    );
    assert_eq!(
        patch.body["meta"]["version"],
        stored(&app, &c, &ann)["meta"]["version"]
    );
    assert_eq!(stored(&app, &c, &ann)["active"], false);
}

/// A copy another isolate's write made stale is found out by the write's
/// version guard: the batch aborts whole, and the PATCH is made again on
/// the stored user, so the other write is not lost.
#[test]
fn a_stale_copy_costs_a_read_and_loses_no_other_write() {
    let (app, c, ann) = ann_found();
    elsewhere(
        &app,
        "doc = json_set(doc, '$.displayName', 'Ann Elsewhere')",
        &ann,
    );
    let before = app.rows("SELECT COUNT(*) AS n FROM events", vec![]);
    let patch = patch_active(&app, &c, &ann, false);
    assert_eq!(patch.status, 200, "{}", patch.body);
    // The aborted batch, the read, the batch.
    assert_eq!(patch.calls.len(), 3, "{:?}", patch.calls);
    assert_eq!(patch.body["displayName"], "Ann Elsewhere");
    assert_eq!(patch.body["active"], false);
    let now = stored(&app, &c, &ann);
    assert_eq!(
        (now["displayName"].as_str(), now["active"].as_bool()),
        (Some("Ann Elsewhere"), Some(false))
    );
    // One change, one event: the aborted batch recorded nothing.
    let after = app.rows("SELECT COUNT(*) AS n FROM events", vec![]);
    assert_eq!(
        after[0]["n"].as_i64().unwrap() - before[0]["n"].as_i64().unwrap(),
        1
    );
}

/// A change the copy says changes nothing is not taken from the copy: the
/// stored user may differ (here another isolate deactivated ann, and the IdP
/// reactivates her).
#[test]
fn a_change_that_leaves_the_copy_unchanged_is_checked_against_the_stored_user() {
    let (app, c, ann) = ann_found();
    elsewhere(
        &app,
        "active = 0, doc = json_set(doc, '$.active', json('false'))",
        &ann,
    );
    let patch = patch_active(&app, &c, &ann, true);
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(patch.body["active"], true);
    assert_eq!(stored(&app, &c, &ann)["active"], true);
}

/// `If-Match` is answered from the stored version, never from a copy: the
/// version another isolate wrote matches (RFC 7644 §3.14).
#[test]
fn if_match_reads_the_stored_version_not_the_copy() {
    let (app, c, ann) = ann_found();
    elsewhere(&app, "doc = json_set(doc, '$.displayName', 'Ann B')", &ann);
    let version = stored(&app, &c, &ann)["meta"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    warm(&app, &c, &filter(r#"userName eq "ann""#));
    let mut req = App::scim_request(
        &c,
        Method::Patch,
        &format!("/Users/{ann}"),
        Some(scim_worker::testing::patch_ops(
            json!([{"op": "replace", "value": {"active": false}}]),
        )),
    );
    req = req.with_header("If-Match", &version);
    let patch = through_counting(&app, req);
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(
        patch.calls.len(),
        2,
        "the read and the batch: {:?}",
        patch.calls
    );
}

/// A user deleted elsewhere after this isolate found it: the PATCH answers
/// 404 (RFC 7644 §3.12), and writes nothing.
#[test]
fn a_user_deleted_elsewhere_is_not_found_by_a_patch_from_its_copy() {
    let (app, c, ann) = ann_found();
    app.rows("DELETE FROM users WHERE id = ?1", vec![ann.clone().into()]);
    let patch = patch_active(&app, &c, &ann, false);
    assert_eq!(patch.status, 404, "{}", patch.body);
    assert!(app
        .rows("SELECT id FROM users WHERE id = ?1", vec![ann.into()])
        .is_empty());
}

/// A member PATCH of a group this isolate created adds members without
/// reading whether they exist: a guard in the batch aborts it unless all of
/// them became members. With one that does not exist, the PATCH is made
/// again the checked way: the default `unknownMembers: skip` adds the ones
/// that exist, `reject` answers 400 naming the missing one and adds none.
/// Either way the aborted batch recorded no event.
#[test]
fn a_member_change_from_a_copy_with_a_missing_member_is_made_the_checked_way() {
    let app = App::new();
    let (c, ann, bob) = custom_tenant(&app);
    let events = || {
        app.rows(
            "SELECT type FROM events WHERE tenant_id = 'acme' AND type LIKE 'group.member%'",
            vec![],
        )
        .len()
    };
    let add = |gid: &str, ids: &[&str]| add_members(&app, &c, gid, ids);
    let skip = app.named_group(&c, "Skip");
    let r = add(&skip, &[&ann, "no-such-user"]);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(
        r.calls.len() > 2,
        "the aborted batch, then the checked write: {:?}",
        r.calls
    );
    assert_eq!(app.member_ids(&skip), vec![ann.clone()]);
    assert_eq!(events(), 1, "one member_added, for ann");

    app.settings("acme", json!({"unknownMembers": "reject"}));
    let reject = app.named_group(&c, "Reject");
    let r = add(&reject, &[&bob, "no-such-user"]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("no-such-user"),
        "{}",
        r.body
    );
    assert!(app.member_ids(&reject).is_empty());
    assert_eq!(events(), 1);
    // A group cannot be its own member, whatever the copy says.
    let r = add(&reject, &[&reject]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(app.member_ids(&reject).is_empty());
    // And with members that exist it is one batch.
    let r = add(&reject, &[&bob, &ann]);
    assert_eq!((r.status, r.calls.len()), (204, 1), "{:?}", r.calls);
    assert_eq!(events(), 3);
}

/// A group deleted elsewhere after this isolate created it: its member
/// PATCH answers 404 and adds no row.
#[test]
fn a_member_change_of_a_group_deleted_elsewhere_is_not_found() {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    let gid = app.named_group(&c, "Gone");
    app.rows("DELETE FROM groups WHERE id = ?1", vec![gid.clone().into()]);
    let r = add_members(&app, &c, &gid, &[&ann]);
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(app
        .rows(
            "SELECT * FROM group_members WHERE group_id = ?1",
            vec![gid.into()]
        )
        .is_empty());
}

/// A member change from a group's copy names the group in its events as it
/// is stored, not as the copy has it: a rename elsewhere aborts the batch,
/// and the change is made again on the stored group.
#[test]
fn a_member_change_from_a_copy_names_the_group_as_stored() {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    let gid = app.named_group(&c, "Old name");
    app.rows(
        "UPDATE groups SET doc = json_set(doc, '$.displayName', 'New name'), version = version + 1 WHERE id = ?1",
        vec![gid.clone().into()],
    );
    let r = add_members(&app, &c, &gid, &[&ann]);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.member_ids(&gid), vec![ann.clone()]);
    let added = app.rows(
        "SELECT body FROM events WHERE type = 'group.member_added' AND resource_id = ?1",
        vec![gid.into()],
    );
    assert_eq!(added.len(), 1);
    let body: Value = serde_json::from_str(added[0]["body"].as_str().unwrap()).unwrap();
    assert!(body.to_string().contains("New name"), "{body}");
    assert!(!body.to_string().contains("Old name"), "{body}");
}

/// Renaming a group and adding a member in one PATCH from its copy is one
/// batch too (the rename is guarded by the copy's version), and the event
/// names the group by its new name.
#[test]
fn a_rename_with_a_member_add_from_a_copy_is_one_batch() {
    let app = App::new();
    let (c, ann, _) = custom_tenant(&app);
    let gid = app.named_group(&c, "Old name");
    let r = warm_write(
        &app,
        &c,
        Method::Patch,
        &format!("/Groups/{gid}"),
        scim_worker::testing::patch_ops(json!([
            {"op": "replace", "path": "displayName", "value": "New name"},
            {"op": "add", "path": "members", "value": [{"value": ann}]}
        ])),
    );
    assert_eq!((r.status, r.calls.len()), (204, 1), "{:?}", r.calls);
    assert_eq!(app.member_ids(&gid), vec![ann.clone()]);
    let added = app.rows(
        "SELECT body FROM events WHERE type = 'group.member_added' AND resource_id = ?1",
        vec![gid.into()],
    );
    assert!(
        added[0]["body"].as_str().unwrap().contains("New name"),
        "{added:?}"
    );
}

/// A stream of member changes alone (no user request to cache the tenant's
/// profile, whose version keys the copies): the first reads the group, the
/// members it adds and the profile in one round trip; the next ones, adding
/// and removing (the bench's `memberSmall`), are one batch each.
#[test]
fn member_changes_alone_are_one_batch_after_the_first() {
    let app = App::new();
    let (c, ann, bob) = custom_tenant(&app);
    let gid = app.named_group(&c, "Small");
    scim_worker::testing::forget_cached_profiles();
    let first = add_members(&app, &c, &gid, &[&bob]);
    assert_eq!(
        (first.status, first.calls.len()),
        (204, 2),
        "{:?}",
        first.calls
    );
    for _ in 0..2 {
        let add = add_members(&app, &c, &gid, &[&ann]);
        assert_eq!((add.status, add.calls.len()), (204, 1), "{:?}", add.calls);
        let remove = warm_write(
            &app,
            &c,
            Method::Patch,
            &format!("/Groups/{gid}"),
            scim_worker::testing::patch_ops(
                json!([{"op": "Remove", "path": format!("members[value eq \"{ann}\"]")}]),
            ),
        );
        assert_eq!(
            (remove.status, remove.calls.len()),
            (204, 1),
            "{:?}",
            remove.calls
        );
        assert_eq!(app.member_ids(&gid), vec![bob.clone()]);
    }
}
