//! The outbound Okta connector (issue 17), natively: the admin API against
//! a stand-in of Okta's Users API answering as developer.okta.com's
//! reference shows (`Authorization: SSWS`, users with `id`, `status`,
//! `profile`; errors with `errorCode`, `errorSummary`, `errorId`,
//! `errorCauses`; `X-Rate-Limit-*` headers). The Miniflare test
//! (`e2e/okta-connector.test.mjs`) runs the built worker against an HTTP
//! stand-in with the same answers.

use std::sync::{Arc, Mutex};

use scim_worker::testing::{urn::USER, App, Creds};
use scim_worker::{Fetch, Fetched};
use serde_json::{json, Value};

const TOKEN: &str = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcd";

#[derive(Default)]
struct Org {
    users: Vec<Value>,
    /// Statuses to answer before serving, in order (429, 500...).
    script: Vec<u16>,
}

fn error(status: u16, code: &str, summary: &str, causes: Value) -> Result<Fetched, String> {
    Ok(Fetched {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-rate-limit-limit".into(), "600".into()),
            ("x-rate-limit-remaining".into(), "599".into()),
            ("x-rate-limit-reset".into(), "4102444800".into()),
        ],
        body: json!({"errorCode": code, "errorSummary": summary, "errorLink": code,
                     "errorId": "oae-test-1", "errorCauses": causes})
        .to_string(),
    })
}

fn ok(status: u16, body: Value) -> Result<Fetched, String> {
    Ok(Fetched {
        status,
        headers: vec![
            ("x-rate-limit-limit".into(), "600".into()),
            ("x-rate-limit-remaining".into(), "599".into()),
            ("x-rate-limit-reset".into(), "4102444800".into()),
        ],
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    })
}

/// Okta's Users API, in memory.
fn serve(org: &Arc<Mutex<Org>>, f: &Fetch) -> Result<Fetched, String> {
    let mut o = org.lock().unwrap();
    if !o.script.is_empty() {
        let status = o.script.remove(0);
        return match status {
            429 => Ok(Fetched {
                status,
                headers: vec![
                    ("x-rate-limit-remaining".into(), "0".into()),
                    // Two seconds after the test app's clock.
                    ("x-rate-limit-reset".into(), (App::new().now.timestamp() + 2).to_string()),
                ],
                body: json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests.", "errorId": "oae-rl", "errorCauses": []}).to_string(),
            }),
            0 => Err("The operation was aborted due to timeout".into()),
            s => error(s, "E0000009", "Internal Server Error", json!([])),
        };
    }
    let auth = f
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    if auth != Some(&format!("SSWS {TOKEN}")) {
        return error(401, "E0000011", "Invalid token provided", json!([]));
    }
    let url = f.url.strip_prefix("https://acme.okta.com").unwrap();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let find = |o: &Org, key: &str| {
        o.users
            .iter()
            .position(|u| u["id"] == key || u["profile"]["login"] == key)
    };
    let decoded = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    match (f.method, path) {
        ("GET", "/api/v1/users/me") => ok(
            200,
            json!({"id": "00uadmin", "status": "ACTIVE", "profile": {"login": "admin@acme.com", "firstName": "Ada", "lastName": "Admin"}}),
        ),
        ("POST", "/api/v1/users") => {
            let body: Value = serde_json::from_str(f.body.as_deref().unwrap()).unwrap();
            let login = body["profile"]["login"].clone();
            if o.users.iter().any(|u| u["profile"]["login"] == login) {
                return error(
                    400,
                    "E0000001",
                    "Api validation failed: login",
                    json!([{"errorSummary": "login: An object with this field already exists in the current organization"}]),
                );
            }
            let status = if query.contains("activate=false") {
                "STAGED"
            } else {
                "ACTIVE"
            };
            let user = json!({"id": format!("00u{}", o.users.len() + 1), "status": status, "created": "2026-12-01T10:00:00.000Z",
                              "activated": null, "lastLogin": null, "profile": body["profile"]});
            o.users.push(user.clone());
            ok(200, user)
        }
        ("GET", "/api/v1/users") => {
            let q = query
                .split('&')
                .find_map(|p| p.strip_prefix("q="))
                .map(decoded);
            let search = query
                .split('&')
                .find_map(|p| p.strip_prefix("search="))
                .map(decoded);
            let found: Vec<Value> = o
                .users
                .iter()
                .filter(|u| {
                    let p = &u["profile"];
                    let sw = |k: &str, v: &str| {
                        p[k].as_str()
                            .is_some_and(|s| s.to_lowercase().starts_with(&v.to_lowercase()))
                    };
                    match (&q, &search) {
                        (Some(q), _) => {
                            u["status"] != "DEPROVISIONED"
                                && (sw("firstName", q) || sw("lastName", q) || sw("email", q))
                        }
                        (_, Some(s)) => {
                            let parts: Vec<&str> = s.split('"').collect();
                            sw("firstName", parts[1]) && sw("lastName", parts[3])
                        }
                        _ => true,
                    }
                })
                .cloned()
                .collect();
            ok(200, Value::Array(found))
        }
        ("GET", p) => {
            let key = decoded(p.strip_prefix("/api/v1/users/").unwrap());
            match find(&o, &key) {
                Some(i) => ok(200, o.users[i].clone()),
                None => error(
                    404,
                    "E0000007",
                    &format!("Not found: Resource not found: {key} (User)"),
                    json!([]),
                ),
            }
        }
        ("POST", p) if p.ends_with("/lifecycle/deactivate") => {
            let key = decoded(
                p.strip_prefix("/api/v1/users/")
                    .unwrap()
                    .strip_suffix("/lifecycle/deactivate")
                    .unwrap(),
            );
            match find(&o, &key) {
                Some(i) => {
                    o.users[i]["status"] = json!("DEPROVISIONED");
                    ok(200, Value::Null)
                }
                None => error(404, "E0000007", "Not found: Resource not found", json!([])),
            }
        }
        _ => error(
            404,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
            json!([]),
        ),
    }
}

fn connected() -> (App, Arc<Mutex<Org>>, String) {
    let (app, org, admin, _) = connected_with_creds();
    (app, org, admin)
}

fn connected_with_creds() -> (App, Arc<Mutex<Org>>, String, Creds) {
    let app = App::new();
    let creds = app.provision("acme");
    let org = Arc::new(Mutex::new(Org::default()));
    let served = Arc::clone(&org);
    app.out.serve_fetches(Box::new(move |f| serve(&served, f)));
    let admin = app.admin_token(Some("acme"));
    let r = app.admin(
        &admin,
        "PUT",
        "/tenants/acme/connectors/okta",
        Some(json!({"orgUrl": "https://acme.okta.com/", "apiToken": TOKEN})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    (app, org, admin, creds)
}

fn profile(first: &str, last: &str) -> Value {
    let login = format!("{}.{}@acme.com", first.to_lowercase(), last.to_lowercase());
    json!({"firstName": first, "lastName": last, "email": login, "login": login})
}

#[test]
fn the_token_is_sealed_and_never_shown_or_logged() {
    let (app, _, admin) = connected();
    let shown = app.admin(&admin, "GET", "/tenants/acme/connectors/okta", None);
    assert_eq!(shown.body["orgUrl"], "https://acme.okta.com");
    assert_eq!(shown.body["tokenLast4"], "abcd");
    assert!(!shown.body.to_string().contains(TOKEN));
    // D1 holds it only sealed.
    let rows = app.rows("SELECT * FROM connectors", Vec::new());
    assert_eq!(rows.len(), 1);
    assert!(!Value::Object(rows[0].clone())
        .to_string()
        .contains(&TOKEN[..20]));
    // The test answers who the token belongs to, and is kept.
    let t = app.admin(&admin, "POST", "/tenants/acme/connectors/okta/test", None);
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["user"]["login"], "admin@acme.com");
    let shown = app.admin(&admin, "GET", "/tenants/acme/connectors/okta", None);
    assert_eq!(shown.body["lastTest"]["ok"], true);
    // Okta got the token as SSWS, with a timeout.
    let f = &app.out.fetches()[0];
    assert_eq!(f.url, "https://acme.okta.com/api/v1/users/me");
    assert_eq!(f.timeout_ms, 10_000);
    assert!(!app.log.text().contains(&TOKEN[..20]));
    // Another tenant's admin token gets 403 on all of it.
    app.provision("globex");
    let other = app.admin_token(Some("globex"));
    for (m, p) in [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/test"),
        ("GET", "/users?search=a"),
        ("POST", "/users"),
        ("GET", "/users/x"),
        ("POST", "/users/x/deactivate"),
        ("PUT", "/rules"),
    ] {
        let r = app.admin(
            &other,
            m,
            &format!("/tenants/acme/connectors/okta{p}"),
            Some(json!({})),
        );
        assert_eq!(r.status, 403, "{m} {p}");
    }
}

#[test]
fn users_are_created_found_read_and_deactivated_once() {
    let (app, org, admin) = connected();
    let path = "/tenants/acme/connectors/okta/users";
    let bob = app.admin(
        &admin,
        "POST",
        path,
        Some(json!({"profile": profile("Bob", "Ross")})),
    );
    assert_eq!(bob.status, 201, "{}", bob.body);
    assert_eq!(bob.body["status"], "ACTIVE");
    assert_eq!(bob.body["okta"]["profile"]["login"], "bob.ross@acme.com");
    let staged = app.admin(
        &admin,
        "POST",
        path,
        Some(json!({"profile": profile("Eve", "Stone"), "activate": false})),
    );
    assert_eq!(staged.body["status"], "STAGED");
    // Okta's 400 for a login that exists, with its causes and error id.
    let again = app.admin(
        &admin,
        "POST",
        path,
        Some(json!({"profile": profile("Bob", "Ross")})),
    );
    assert_eq!(again.status, 400);
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{}",
        again.body
    );
    assert_eq!(again.body["okta"]["errorCode"], "E0000001");
    assert_eq!(again.body["okta"]["errorId"], "oae-test-1");
    // A profile without what Okta needs is refused before any call.
    let calls = app.out.fetches().len();
    let r = app.admin(
        &admin,
        "POST",
        path,
        Some(json!({"profile": {"login": "x@acme.com"}})),
    );
    assert_eq!(r.status, 400);
    assert!(r.body["detail"].as_str().unwrap().contains("firstName"));
    assert_eq!(app.out.fetches().len(), calls);

    // By id and by login; 404 for neither.
    let id = bob.body["id"].as_str().unwrap();
    assert_eq!(
        app.admin(&admin, "GET", &format!("{path}/{id}"), None).body["login"],
        "bob.ross@acme.com"
    );
    assert_eq!(
        app.admin(&admin, "GET", &format!("{path}/bob.ross%40acme.com"), None)
            .body["id"],
        id
    );
    let none = app.admin(&admin, "GET", &format!("{path}/nobody%40acme.com"), None);
    assert_eq!(none.status, 404);
    assert_eq!(none.body["okta"]["errorCode"], "E0000007");
    // Search by name, full name and email.
    let found = |q: &str| {
        let r = app.admin(&admin, "GET", &format!("{path}?search={q}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["login"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(found("bob"), ["bob.ross@acme.com"]);
    assert_eq!(found("Eve%20Stone"), ["eve.stone@acme.com"]);
    assert_eq!(found("eve.stone%40acme.com"), ["eve.stone@acme.com"]);

    // Deactivate; the second time is 409 and calls no deactivate.
    let d = app.admin(&admin, "POST", &format!("{path}/{id}/deactivate"), None);
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["status"], "DEPROVISIONED");
    let before = app.out.fetches().len();
    let twice = app.admin(&admin, "POST", &format!("{path}/{id}/deactivate"), None);
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(twice.body["detail"]
        .as_str()
        .unwrap()
        .contains("deprovisioned"));
    let calls: Vec<String> = app.out.fetches()[before..]
        .iter()
        .map(|f| f.url.clone())
        .collect();
    assert!(calls.iter().all(|u| !u.contains("lifecycle")), "{calls:?}");
    assert_eq!(org.lock().unwrap().users[0]["status"], "DEPROVISIONED");
}

#[test]
fn errors_say_what_to_do_rate_limits_wait_and_retry_once() {
    let (app, org, admin) = connected();
    let path = "/tenants/acme/connectors/okta/users/someone";
    // A 429 with a reset 2 s away: waited for, retried once, answered.
    org.lock().unwrap().script = vec![429];
    let r = app.admin(&admin, "GET", path, None);
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.out.sleeps(), [2000]);
    // Two 429s: after the retry, 429 with Retry-After.
    org.lock().unwrap().script = vec![429, 429];
    let r = app.admin(&admin, "GET", path, None);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert_eq!(r.body["okta"]["errorCode"], "E0000047");
    // A timeout, a 5xx.
    org.lock().unwrap().script = vec![0];
    let r = app.admin(&admin, "GET", path, None);
    assert_eq!(r.status, 504);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("did not answer"));
    org.lock().unwrap().script = vec![500];
    assert_eq!(app.admin(&admin, "GET", path, None).status, 502);
    // A bad token: 502 that says to make a new one; the test records it.
    let r = app.admin(
        &admin,
        "PUT",
        "/tenants/acme/connectors/okta",
        Some(json!({"orgUrl": "https://acme.okta.com", "apiToken": "00-wrong-token-xyz"})),
    );
    assert_eq!(r.status, 200);
    let t = app.admin(&admin, "POST", "/tenants/acme/connectors/okta/test", None);
    assert_eq!(t.status, 502);
    assert!(
        t.body["detail"]
            .as_str()
            .unwrap()
            .contains("Security > API > Tokens"),
        "{}",
        t.body
    );
    let shown = app.admin(&admin, "GET", "/tenants/acme/connectors/okta", None);
    assert_eq!(shown.body["lastTest"]["ok"], false);
    assert_eq!(shown.body["lastTest"]["okta"]["errorCode"], "E0000011");
    // Bad connection input changes nothing.
    for body in [
        json!({"orgUrl": "http://acme.okta.com", "apiToken": TOKEN}),
        json!({"orgUrl": "https://acme.okta.com/api", "apiToken": TOKEN}),
        json!({"orgUrl": "https://acme.okta.com", "apiToken": "short"}),
        json!({"orgUrl": "https://acme.okta.com"}),
    ] {
        let r = app.admin(
            &admin,
            "PUT",
            "/tenants/acme/connectors/okta",
            Some(body.clone()),
        );
        assert_eq!(r.status, 400, "{body}");
    }
    assert_eq!(
        app.admin(&admin, "GET", "/tenants/acme/connectors/okta", None)
            .body["tokenLast4"],
        "-xyz"
    );
}

#[test]
fn the_rule_deactivates_the_matching_okta_user_when_the_application_does() {
    let (app, org, admin, creds) = connected_with_creds();
    // Okta's own provisioning set externalId to its user id.
    let okta = app.admin(
        &admin,
        "POST",
        "/tenants/acme/connectors/okta/users",
        Some(json!({"profile": profile("Bob", "Ross")})),
    );
    let okta_id = okta.body["id"].as_str().unwrap().to_owned();
    let r = app.call(
        &creds,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob.ross@acme.com", "externalId": okta_id})),
    );
    let bob = r.body["id"].as_str().unwrap().to_owned();
    let r = app.call(
        &creds,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "nobody@acme.com"})),
    );
    let nobody = r.body["id"].as_str().unwrap().to_owned();
    // Off by default: nothing is called.
    let before = app.out.fetches().len();
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{nobody}/deactivate"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(app.out.fetches().len(), before);

    let r = app.admin(
        &admin,
        "PUT",
        "/tenants/acme/connectors/okta/rules",
        Some(json!({"deactivateUsers": true})),
    );
    assert_eq!(r.body["rules"], json!({"deactivateUsers": true}));
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{bob}/deactivate"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(org.lock().unwrap().users[0]["status"], "DEPROVISIONED");
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{nobody}/reactivate"),
        None,
    );
    assert_eq!(r.status, 200);
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{nobody}/deactivate"),
        None,
    );
    assert_eq!(
        r.status, 200,
        "the application's deactivation stands when Okta's fails"
    );
    let events = app.admin(
        &admin,
        "GET",
        "/tenants/acme/events?types=connector.okta.*",
        None,
    );
    let list = events.body["events"].as_array().unwrap();
    let types: Vec<&str> = list.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["connector.okta.user_deactivated", "connector.okta.failed"],
        "{list:?}"
    );
    assert_eq!(list[0]["data"]["matchedBy"], "externalId");
    assert_eq!(list[0]["resource"]["id"], bob.as_str());
    assert_eq!(list[1]["data"]["matchedBy"], "userName");
    assert_eq!(list[1]["data"]["status"], 404);
    // The request log shows the outbound calls.
    let log = app.admin(&admin, "GET", "/tenants/acme/requests", None);
    let outbound: Vec<&Value> = log.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .starts_with("https://acme.okta.com")
        })
        .collect();
    assert_eq!(outbound.len(), 2, "{}", log.body);
}
