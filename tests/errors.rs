//! Failures of the server itself (issue 12): a storage or KV fault is
//! logged once as one structured JSON line (request id, tenant, method,
//! path, status, kind, duration; never a token, secret, password or body)
//! and answered with a generic SCIM error that carries the request id and
//! none of the fault's text. Every response carries the request id in
//! `x-request-id`: Cloudflare's `cf-ray` when the request has one.

use scim_worker::testing::urn::USER;
use scim_worker::testing::{App, Creds, Reply};
use scim_worker::{KeyValue, KvError, Method, Request, Service, Shards, REQUEST_ID_HEADER};
use serde_json::{json, Value};

fn post_user(app: &App, c: &Creds, user_name: &str) -> Reply {
    app.call(
        c,
        "POST",
        "/Users",
        Some(
            json!({"schemas": [USER], "userName": user_name, "password": "s3cret-Pa55",
                    "emails": [{"value": format!("{user_name}@example.com"), "type": "work"}]}),
        ),
    )
}

/// The one log line of a failed request, checked for what every such line
/// holds; returns it.
fn failure_line(app: &App, r: &Reply) -> Value {
    let lines = app.log.lines();
    assert_eq!(lines.len(), 1, "one line per failure: {lines:?}");
    let line = lines[0].clone();
    assert_eq!(line["level"], "error");
    assert_eq!(line["status"], r.status);
    assert_eq!(
        line["requestId"].as_str(),
        r.header(REQUEST_ID_HEADER),
        "the log and the answer name the same request"
    );
    assert!(line["durationMs"].is_number(), "{line}");
    line
}

#[test]
fn a_storage_failure_is_logged_once_and_answered_without_its_text() {
    let app = App::new();
    let c = app.tenant("acme");
    // A real SQLite failure inside the write batch (its email rows).
    app.rows("DROP TABLE user_emails", Vec::new());
    let r = post_user(&app, &c, "bjensen");
    assert_eq!(r.status, 500, "{}", r.body);
    // RFC 7644 §3.12 error body, generic detail naming the request id.
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(r.body["status"], "500");
    let id = r.header(REQUEST_ID_HEADER).unwrap();
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(id), "{detail}");
    assert!(
        !r.body_text().contains("user_emails") && !r.body_text().contains("no such table"),
        "storage text reached the client: {}",
        r.body_text()
    );
    let line = failure_line(&app, &r);
    assert_eq!(line["kind"], "storage");
    assert_eq!(line["tenant"], "acme");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/scim/v2/acme/Users");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("no such table: user_emails"),
        "the cause is logged: {line}"
    );
    let text = app.log.text();
    for secret in [c.token.as_str(), "s3cret-Pa55", "bjensen"] {
        assert!(!text.contains(secret), "{secret} in the log: {text}");
    }
    // Nothing was half-written: the batch rolled back.
    let users = app.rows("SELECT count(*) AS n FROM users", Vec::new());
    assert_eq!(users[0]["n"], 0);
}

#[test]
fn protocol_errors_are_not_logged_and_keep_their_detail() {
    let app = App::new();
    let c = app.tenant("acme");
    assert_eq!(post_user(&app, &c, "bjensen").status, 201);
    let dup = post_user(&app, &c, "BJensen");
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["scimType"], "uniqueness");
    assert!(dup.body["detail"].as_str().unwrap().contains("userName"));
    let wrong = app.call(
        &Creds {
            tenant: "acme".into(),
            token: "nope".into(),
        },
        "GET",
        "/Users",
        None,
    );
    assert_eq!(wrong.status, 401);
    // RFC 7644 §3.12 and RFC 6750 §3: SCIM JSON, and a Bearer challenge.
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    assert!(wrong
        .header("content-type")
        .unwrap()
        .starts_with("application/scim+json"));
    assert!(app.log.lines().is_empty(), "{:?}", app.log.lines());
}

#[test]
fn every_response_carries_a_request_id_cf_ray_when_given() {
    let app = App::new();
    let c = app.tenant("acme");
    let a = app.call(&c, "GET", "/Users", None);
    let b = app.call(&c, "GET", "/Users", None);
    let (ia, ib) = (a.header(REQUEST_ID_HEADER), b.header(REQUEST_ID_HEADER));
    assert!(ia.is_some_and(|i| i.len() >= 16), "{ia:?}");
    assert_ne!(ia, ib, "each request has its own id");
    let ray = "8f1a2b3c4d5e6f70-AMS";
    let r = app.request(
        App::scim_request(&c, Method::Get, "/Users/none", None).with_header("CF-Ray", ray),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.header(REQUEST_ID_HEADER), Some(ray));
    // Errors of the admin API and unknown paths carry one too.
    let admin = app.admin("not-a-jwt", "GET", "/tenants", None);
    assert_eq!(admin.status, 401);
    assert!(admin.header(REQUEST_ID_HEADER).is_some());
    let root = app.request(Request::new(Method::Get, "/nowhere"));
    assert_eq!(root.status, 404);
    assert!(root.header(REQUEST_ID_HEADER).is_some());
}

/// A KV store that cannot be reached.
struct DownKv;

impl KeyValue for DownKv {
    async fn get(&self, _key: &str) -> Result<Option<String>, KvError> {
        Err(KvError("KV GET failed: 503 (kv-internal-detail)".into()))
    }
    async fn put(&self, _key: &str, _value: &str, _ttl: Option<u64>) -> Result<(), KvError> {
        Err(KvError("KV PUT failed".into()))
    }
    async fn delete(&self, _key: &str) -> Result<(), KvError> {
        Err(KvError("KV DELETE failed".into()))
    }
    async fn list(&self, _prefix: &str) -> Result<Vec<String>, KvError> {
        Err(KvError("KV LIST failed".into()))
    }
}

#[test]
fn a_token_store_failure_is_a_logged_500_not_a_401() {
    let app = App::new();
    let c = app.tenant("acme");
    let service = Service {
        config: &app.config,
        shards: Shards::one(&app.db),
        kv: &DownKv,
        limiter: &app.limiter,
        out: &app.out,
        log: &app.log,
    };
    let req = App::scim_request(&c, Method::Get, "/Users", None);
    let response = pollster::block_on(service.handle(&req, app.now));
    assert_eq!(response.status, 500);
    let text = String::from_utf8_lossy(&response.body).into_owned();
    assert!(!text.contains("kv-internal-detail"), "{text}");
    let lines = app.log.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["kind"], "kv");
    assert_eq!(lines[0]["tenant"], "acme");
    assert!(!app.log.text().contains(&c.token));
}

#[test]
fn a_fault_inside_bulk_stops_the_request_and_is_logged() {
    let app = App::new();
    let c = app.tenant("acme");
    app.rows("DROP TABLE user_emails", Vec::new());
    let r = app.call(
        &c,
        "POST",
        "/Bulk",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a",
                            "data": {"schemas": [USER], "userName": "ann",
                                     "emails": [{"value": "ann@example.com"}]}}],
        })),
    );
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(!r.body_text().contains("user_emails"));
    assert_eq!(failure_line(&app, &r)["kind"], "storage");
}

#[test]
fn an_admin_api_fault_is_answered_as_json_and_logged_with_its_tenant() {
    let app = App::new();
    let c = app.provision("acme");
    app.rows("DROP TABLE tenant_attributes", Vec::new());
    let jwt = app.admin_token(Some("acme"));
    let r = app.admin(&jwt, "GET", "/tenants/acme/schema", None);
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(!r.body_text().contains("tenant_attributes"));
    let line = failure_line(&app, &r);
    assert_eq!(line["tenant"], "acme");
    assert_eq!(line["path"], "/admin/v1/tenants/acme/schema");
    let text = app.log.text();
    assert!(!text.contains(&jwt) && !text.contains(&c.token), "{text}");
}
