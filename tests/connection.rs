//! The console's live connection status (issue 16): for each credential of
//! a tenant, when the IdP last used it and which IdP it is, told from its
//! `User-Agent` ("Okta connected 3 minutes ago", "no request yet").

use scim_worker::testing::{urn::USER, App};
use scim_worker::Method;
use serde_json::json;

/// What Okta's SCIM client sends as its User-Agent.
const OKTA_AGENT: &str = "Okta SCIM Client 1.0.0";

#[test]
fn each_credential_shows_when_it_was_last_seen_and_by_which_idp() {
    let app = App::new();
    let c = app.provision("acme");
    let admin = app.admin_token(Some("acme"));
    app.settings("acme", json!({"authentication": ["token", "basic"]}));
    let basic = app.admin(
        &admin,
        "POST",
        "/tenants/acme/basic-credentials",
        Some(json!({"label": "entra"})),
    );
    assert_eq!(basic.status, 201, "{}", basic.body);

    // Before any request: every credential is "no request yet".
    let r = app.admin(&admin, "GET", "/tenants/acme/connection", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["baseUrl"], "http://localhost/scim/v2/acme");
    assert_eq!(r.body["lastRequest"], json!(null));
    let creds = r.body["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 2, "{creds:?}");
    assert!(creds
        .iter()
        .all(|c| c["lastSeen"].is_null() && c["idp"].is_null()));

    // Okta's "Test API Credentials" is a GET, which the request log does
    // not keep by default: the token's recorded use tells it.
    let get = App::scim_request(&c, Method::Get, "/Users?count=1", None)
        .with_header("User-Agent", OKTA_AGENT);
    assert_eq!(app.request(get).status, 200);
    let r = app.admin(&admin, "GET", "/tenants/acme/connection", None);
    let first = &r.body["credentials"][0];
    assert_eq!(first["kind"], "token");
    assert_eq!(first["idp"], "Okta");
    assert_eq!(first["userAgent"], OKTA_AGENT);
    assert!(first["lastSeen"].is_string(), "{first}");
    assert_eq!(r.body["credentials"][1]["kind"], "basic");
    assert!(r.body["credentials"][1]["lastSeen"].is_null());
    // The token list shows it too.
    let tokens = app.admin(&admin, "GET", "/tenants/acme/tokens", None);
    assert_eq!(tokens.body["tokens"][0]["idp"], "Okta");

    // A write is in the request log: the newest request, with its status.
    let post = App::scim_request(
        &c,
        Method::Post,
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob@example.com"})),
    )
    .with_header("User-Agent", OKTA_AGENT);
    assert_eq!(app.request(post).status, 201);
    let r = app.admin(&admin, "GET", "/tenants/acme/connection", None);
    let last = &r.body["lastRequest"];
    assert_eq!(last["method"], "POST");
    assert_eq!(last["status"], 201);
    assert_eq!(last["idp"], "Okta");
    assert_eq!(last["credential"], r.body["credentials"][0]["id"]);
    assert_eq!(
        r.body["credentials"][0]["lastRequest"]["path"],
        "/scim/v2/acme/Users"
    );

    // Another tenant's admin token sees none of it.
    app.provision("globex");
    let other = app.admin(
        &app.admin_token(Some("globex")),
        "GET",
        "/tenants/acme/connection",
        None,
    );
    assert_eq!(other.status, 403);
}
