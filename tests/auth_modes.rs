//! How identity providers authenticate (issue 15), acting as each client:
//! Okta's "HTTP Header" mode (the token with no scheme) and "Bearer" mode
//! (Okta OIN SCIM protocol properties), Basic as Okta's "SCIM 2.0 Test App
//! (Basic Auth)" sends it (RFC 7617), the tenant's `authentication` setting
//! reflected in its ServiceProviderConfig (RFC 7643 §5), and overlapping
//! rotation of SCIM tokens.

use ct_codecs::{Base64, Encoder};
use scim_worker::testing::{urn::USER, App, Creds, Reply};
use scim_worker::{KeyValue, Method, Request};
use serde_json::{json, Value};

/// GET /Users of `tenant` with this `Authorization` header.
fn users_with(app: &App, tenant: &str, authorization: &str) -> Reply {
    app.request(
        Request::new(Method::Get, &format!("/scim/v2/{tenant}/Users"))
            .with_header("Authorization", authorization),
    )
}

fn basic(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        Base64::encode_to_string(format!("{username}:{password}")).unwrap()
    )
}

fn admin(app: &App, method: &str, path: &str, body: Option<Value>) -> Reply {
    app.admin(&app.admin_token(None), method, path, body)
}

#[test]
fn okta_header_mode_sends_the_token_alone_and_bearer_mode_with_its_scheme() {
    let app = App::new();
    let c = app.provision("acme");
    app.provision("other");
    assert_eq!(users_with(&app, "acme", &c.token).status, 200);
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {}", c.token)).status,
        200
    );
    // The same checks as Bearer: another tenant's base URL, a wrong token.
    let r = users_with(&app, "other", &c.token);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["detail"], "Authentication failed.");
    assert_eq!(users_with(&app, "acme", "swt_0000").status, 401);
    // A write in header mode works and is attributed to the token.
    let r = app.request(
        Request::new(Method::Post, "/scim/v2/acme/Users")
            .with_header("Authorization", &c.token)
            .with_header("Content-Type", "application/scim+json")
            .with_body(json!({"schemas": [USER], "userName": "hdr@example.com"}).to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn basic_credentials_once_the_tenant_allows_them() {
    let app = App::new();
    let c = app.provision("acme");
    // Off by default: a clear 409, nothing issued.
    let r = admin(
        &app,
        "POST",
        "/tenants/acme/basic-credentials",
        Some(json!({"label": "okta"})),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("settings.authentication"));
    let spc = |app: &App, c: &Creds| app.call(c, "GET", "/ServiceProviderConfig", None).body;
    assert_eq!(
        spc(&app, &c)["authenticationSchemes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["oauthbearertoken"]
    );

    app.settings("acme", json!({"authentication": ["token", "basic"]}));
    let schemes = spc(&app, &c)["authenticationSchemes"].clone();
    assert_eq!(schemes[0]["type"], "oauthbearertoken");
    assert_eq!(schemes[0]["primary"], true);
    assert_eq!(schemes[1]["type"], "httpbasic");
    assert_eq!(schemes[1]["primary"], false);

    let r = admin(
        &app,
        "POST",
        "/tenants/acme/basic-credentials",
        Some(json!({"label": "okta"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let username = r.body["username"].as_str().unwrap().to_owned();
    let password = r.body["password"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(username.starts_with("scim-"), "{username}");
    assert!(
        password.starts_with("swb_") && password.len() == 68,
        "{password}"
    );
    assert_eq!(r.body["baseUrl"], "http://localhost/scim/v2/acme");

    assert_eq!(
        users_with(&app, "acme", &basic(&username, &password)).status,
        200
    );
    for bad in [
        basic(&username, "swb_wrong"),
        basic("scim-nobody", &password),
        format!("Bearer {password}"),
        password.clone(),
    ] {
        assert_eq!(users_with(&app, "acme", &bad).status, 401, "{bad}");
    }
    // The listing shows it with its last use, never the password; the
    // token listing does not show it at all.
    let list = admin(&app, "GET", "/tenants/acme/basic-credentials", None);
    assert_eq!(list.status, 200);
    let item = &list.body["basicCredentials"][0];
    assert_eq!(item["username"], username.as_str());
    assert_eq!(item["label"], "okta");
    assert!(item["lastUsed"].is_string(), "{item}");
    assert!(!list.body.to_string().contains(&password));
    let tokens = admin(&app, "GET", "/tenants/acme/tokens", None);
    assert!(!tokens.body.to_string().contains(&id), "{}", tokens.body);
    // Nothing the worker keeps holds the password.
    for key in app.kv.keys() {
        let v = pollster::block_on(KeyValue::get(&app.kv, &key))
            .unwrap()
            .unwrap();
        assert!(!v.contains(&password) && !key.contains(&password));
    }

    // Revoked: the next request fails; a second revoke finds nothing.
    let revoke = |id: &str| {
        admin(
            &app,
            "DELETE",
            &format!("/tenants/acme/basic-credentials/{id}"),
            None,
        )
        .status
    };
    assert_eq!(revoke(&id), 204);
    assert_eq!(
        users_with(&app, "acme", &basic(&username, &password)).status,
        401
    );
    assert_eq!(revoke(&id), 404);
    // A token id is no Basic credential id.
    let token_id = tokens.body["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(revoke(&token_id), 404);
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {}", c.token)).status,
        200
    );
}

#[test]
fn turning_a_mode_off_revokes_its_credentials() {
    let app = App::new();
    let c = app.provision("acme");
    app.settings("acme", json!({"authentication": ["token", "basic"]}));
    let r = admin(&app, "POST", "/tenants/acme/basic-credentials", None);
    let (u, p) = (
        r.body["username"].as_str().unwrap().to_owned(),
        r.body["password"].as_str().unwrap().to_owned(),
    );
    assert_eq!(users_with(&app, "acme", &basic(&u, &p)).status, 200);
    app.settings("acme", json!({"authentication": ["token"]}));
    assert_eq!(users_with(&app, "acme", &basic(&u, &p)).status, 401);
    // Turned on again, the old credential stays gone.
    app.settings("acme", json!({"authentication": ["basic", "token"]}));
    assert_eq!(users_with(&app, "acme", &basic(&u, &p)).status, 401);
    // Basic only: the SCIM tokens go, Basic is the primary scheme.
    app.settings("acme", json!({"authentication": ["basic"]}));
    assert_eq!(users_with(&app, "acme", &c.token).status, 401);
    // Bad values change nothing.
    for bad in [json!([]), json!(["carrier-pigeon"]), json!("basic")] {
        let r = admin(
            &app,
            "PATCH",
            "/tenants/acme",
            Some(json!({"settings": {"authentication": bad}})),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let t = admin(&app, "GET", "/tenants/acme", None);
    assert_eq!(t.body["settings"]["authentication"], json!(["basic"]));
}

#[test]
fn a_rotated_token_keeps_working_for_its_grace_period() {
    let mut app = App::new();
    let c = app.provision("acme");
    let id = admin(&app, "GET", "/tenants/acme/tokens", None).body["tokens"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin(
        &app,
        "POST",
        &format!("/tenants/acme/tokens/{id}/rotate"),
        Some(json!({"graceHours": 24})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let new = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(r.body["previous"]["id"], id.as_str());
    let until = r.body["previous"]["expires"].as_str().unwrap().to_owned();
    // Both work while the IT admin pastes the new one into the IdP.
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {}", c.token)).status,
        200
    );
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {new}")).status,
        200
    );
    let listed = admin(&app, "GET", "/tenants/acme/tokens", None);
    assert_eq!(listed.body["tokens"].as_array().unwrap().len(), 2);
    let new_id = r.body["id"].as_str().unwrap().to_owned();
    for bad in [
        json!({"graceHours": 169}),
        json!({"graceHours": -1}),
        json!({"grace": 1}),
    ] {
        let r = admin(
            &app,
            "POST",
            &format!("/tenants/acme/tokens/{new_id}/rotate"),
            Some(bad.clone()),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {new}")).status,
        200
    );
    // Without a grace period the rotated token stops at once (as before).
    let r2 = admin(
        &app,
        "POST",
        &format!("/tenants/acme/tokens/{new_id}/rotate"),
        None,
    );
    assert_eq!(r2.status, 201, "{}", r2.body);
    assert!(r2.body.get("previous").is_none());
    let newest = r2.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {new}")).status,
        401
    );
    // After the grace period the first token stops too.
    app.now += chrono::Duration::hours(25);
    assert!(app.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) > until);
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {}", c.token)).status,
        401
    );
    assert_eq!(
        users_with(&app, "acme", &format!("Bearer {newest}")).status,
        200
    );
}

/// Another tenant's admin token gets 403 on every new credential endpoint
/// and changes nothing.
#[test]
fn another_tenants_admin_gets_403_on_credentials() {
    let app = App::new();
    let c = app.provision("acme");
    app.provision("globex");
    app.settings("acme", json!({"authentication": ["token", "basic"]}));
    let r = admin(&app, "POST", "/tenants/acme/basic-credentials", None);
    let (id, u, p) = (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["username"].as_str().unwrap().to_owned(),
        r.body["password"].as_str().unwrap().to_owned(),
    );
    let token_id = admin(&app, "GET", "/tenants/acme/tokens", None).body["tokens"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let globex = app.admin_token(Some("globex"));
    for (method, path, body) in [
        ("GET", "/tenants/acme/basic-credentials".to_owned(), None),
        ("POST", "/tenants/acme/basic-credentials".to_owned(), None),
        (
            "DELETE",
            format!("/tenants/acme/basic-credentials/{id}"),
            None,
        ),
        (
            "POST",
            format!("/tenants/acme/tokens/{token_id}/rotate"),
            Some(json!({"graceHours": 1})),
        ),
        (
            "PATCH",
            "/tenants/acme".to_owned(),
            Some(json!({"settings": {"authentication": ["basic"]}})),
        ),
    ] {
        let r = app.admin(&globex, method, &path, body);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    assert_eq!(users_with(&app, "acme", &basic(&u, &p)).status, 200);
    assert_eq!(users_with(&app, "acme", &c.token).status, 200);
    let list = admin(&app, "GET", "/tenants/acme/basic-credentials", None);
    assert_eq!(list.body["basicCredentials"].as_array().unwrap().len(), 1);
}
