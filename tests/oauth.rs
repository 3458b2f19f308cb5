//! OAuth 2.0 client credentials (RFC 6749 §4.4) as Microsoft Entra's
//! provisioning uses it (issue 15; Entra "app gallery user provisioning
//! requirements": one client id and secret per customer, secrets rotated
//! with more than one live, access tokens of 60 minutes to 6 hours): the
//! token endpoint with both client authentication forms (§2.3.1), its
//! errors (§5.2), the tokens on SCIM, rotation, deletion and the metadata
//! document (RFC 8414).

use ct_codecs::{Base64, Encoder};
use scim_worker::testing::{App, Creds, Reply};
use scim_worker::{Method, Request};
use serde_json::{json, Value};

fn admin(app: &App, method: &str, path: &str, body: Option<Value>) -> Reply {
    app.admin(&app.admin_token(None), method, path, body)
}

/// A tenant that allows OAuth, and a client of it: (client_id, secret),
/// and the tenant's SCIM token.
fn tenant_with_client(app: &App, tenant: &str) -> (String, String, Creds) {
    let c = app.provision(tenant);
    app.settings(tenant, json!({"authentication": ["token", "oauth"]}));
    let r = admin(
        app,
        "POST",
        &format!("/tenants/{tenant}/oauth-clients"),
        Some(json!({"label": "entra"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    (
        r.body["clientId"].as_str().unwrap().to_owned(),
        r.body["clientSecret"].as_str().unwrap().to_owned(),
        c,
    )
}

fn token_request(app: &App, form: &str, authorization: Option<&str>) -> Reply {
    let mut req = Request::new(Method::Post, "/oauth/token")
        .with_header("Content-Type", "application/x-www-form-urlencoded")
        .with_body(form.to_owned());
    if let Some(a) = authorization {
        req = req.with_header("Authorization", a);
    }
    app.request(req)
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        Base64::encode_to_string(format!("{id}:{secret}")).unwrap()
    )
}

fn users(app: &App, tenant: &str, access: &str) -> u16 {
    app.request(
        Request::new(Method::Get, &format!("/scim/v2/{tenant}/Users"))
            .with_header("Authorization", &format!("Bearer {access}")),
    )
    .status
}

#[test]
fn entra_gets_a_token_with_either_client_authentication_and_provisions_with_it() {
    let mut app = App::new();
    let (id, secret, _) = tenant_with_client(&app, "acme");
    app.provision("other");
    // client_secret_basic, as RFC 6749 §2.3.1 requires servers to support.
    let r = token_request(
        &app,
        "grant_type=client_credentials",
        Some(&basic(&id, &secret)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.response.header("cache-control"), Some("no-store"));
    assert_eq!(r.response.header("pragma"), Some("no-cache"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("sat_"), "{access}");
    // client_secret_post, with the scope and resource Entra may add (ignored).
    let r = token_request(
        &app,
        &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=scim&resource=https%3A%2F%2Fx"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second, access);

    assert_eq!(users(&app, "acme", &access), 200);
    assert_eq!(users(&app, "acme", &second), 200);
    // Only for its own tenant.
    assert_eq!(users(&app, "other", &access), 401);
    // The client shows when it was last used; its secret never shows.
    let c = admin(
        &app,
        "GET",
        &format!("/tenants/acme/oauth-clients/{id}"),
        None,
    );
    assert_eq!(c.status, 200);
    assert!(c.body["lastUsed"].is_string(), "{}", c.body);
    let list = admin(&app, "GET", "/tenants/acme/oauth-clients", None);
    assert!(!list.body.to_string().contains(&secret));
    // The access token is not a SCIM token of the tenant's list.
    let tokens = admin(&app, "GET", "/tenants/acme/tokens", None);
    assert_eq!(tokens.body["tokens"].as_array().unwrap().len(), 1);
    // An hour later it has expired (Entra asks for a new one).
    app.now += chrono::Duration::seconds(3601);
    assert_eq!(users(&app, "acme", &access), 401);
}

#[test]
fn token_endpoint_errors_follow_rfc_6749_section_5_2() {
    let app = App::new();
    let (id, secret, _) = tenant_with_client(&app, "acme");
    let cases: Vec<(String, Option<String>, u16, &str)> = vec![
        ("grant_type=client_credentials".into(), Some(basic(&id, "swcs_wrong")), 401, "invalid_client"),
        ("grant_type=client_credentials".into(), Some(basic("swc_nobody", &secret)), 401, "invalid_client"),
        ("grant_type=client_credentials".into(), None, 401, "invalid_client"),
        ("grant_type=client_credentials".into(), Some("Bearer x".into()), 401, "invalid_client"),
        (format!("client_id={id}&client_secret={secret}"), None, 400, "invalid_request"),
        (format!("grant_type=password&client_id={id}&client_secret={secret}"), None, 400, "unsupported_grant_type"),
        (
            format!("grant_type=client_credentials&grant_type=client_credentials&client_id={id}&client_secret={secret}"),
            None,
            400,
            "invalid_request",
        ),
        // Two client authentications at once.
        (format!("grant_type=client_credentials&client_secret={secret}"), Some(basic(&id, &secret)), 400, "invalid_request"),
    ];
    for (form, auth, status, error) in cases {
        let r = token_request(&app, &form, auth.as_deref());
        assert_eq!(r.status, status, "{form} {auth:?}: {}", r.body);
        assert_eq!(r.body["error"], error, "{form}: {}", r.body);
        assert!(r.body["error_description"].is_string());
        assert_eq!(r.response.header("cache-control"), Some("no-store"));
        if status == 401 {
            assert_eq!(
                r.response.header("www-authenticate"),
                Some("Basic realm=\"scim-worker\"")
            );
        }
    }
    // Not a form: invalid_request.
    let r = app.request(
        Request::new(Method::Post, "/oauth/token")
            .with_header("Content-Type", "application/json")
            .with_header("Authorization", &basic(&id, &secret))
            .with_body(r#"{"grant_type":"client_credentials"}"#),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_request");
    // GET: 405 with Allow.
    let r = app.request(Request::new(Method::Get, "/oauth/token"));
    assert_eq!(r.status, 405);
    assert_eq!(r.response.header("allow"), Some("POST"));
}

#[test]
fn a_rotated_secret_works_for_its_grace_period_and_a_deleted_client_revokes_its_tokens() {
    let mut app = App::new();
    let (id, old, _) = tenant_with_client(&app, "acme");
    let r = admin(
        &app,
        "POST",
        &format!("/tenants/acme/oauth-clients/{id}/rotate-secret"),
        Some(json!({"graceHours": 2})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.body["clientSecret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(r.body["previousSecretExpires"].is_string());
    assert_eq!(r.body["tokenEndpoint"], "http://localhost/oauth/token");
    let grant = |app: &App, s: &str| {
        token_request(app, "grant_type=client_credentials", Some(&basic(&id, s)))
    };
    // Several live at once while the IT admin updates Entra.
    assert_eq!(grant(&app, &old).status, 200);
    let access = grant(&app, &new).body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bad rotations change nothing.
    for bad in [
        json!({"graceHours": 169}),
        json!({"secretExpiresInDays": 0}),
        json!({"x": 1}),
    ] {
        let r = admin(
            &app,
            "POST",
            &format!("/tenants/acme/oauth-clients/{id}/rotate-secret"),
            Some(bad.clone()),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(grant(&app, &new).status, 200);

    // Deleting the client revokes its access tokens at once.
    let r = admin(
        &app,
        "DELETE",
        &format!("/tenants/acme/oauth-clients/{id}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(users(&app, "acme", &access), 401);
    assert_eq!(grant(&app, &new).status, 401);
    assert_eq!(
        admin(
            &app,
            "DELETE",
            &format!("/tenants/acme/oauth-clients/{id}"),
            None
        )
        .status,
        404
    );

    // After the grace period only the new secret works.
    let r = admin(
        &app,
        "POST",
        "/tenants/acme/oauth-clients",
        Some(json!({"secretExpiresInDays": 1})),
    );
    let id2 = r.body["clientId"].as_str().unwrap().to_owned();
    let s2 = r.body["clientSecret"].as_str().unwrap().to_owned();
    let r = admin(
        &app,
        "POST",
        &format!("/tenants/acme/oauth-clients/{id2}/rotate-secret"),
        Some(json!({"graceHours": 1})),
    );
    let s3 = r.body["clientSecret"].as_str().unwrap().to_owned();
    app.now += chrono::Duration::minutes(61);
    let ok = |s: &str| {
        token_request(&app, "grant_type=client_credentials", Some(&basic(&id2, s))).status
    };
    assert_eq!(ok(&s2), 401);
    assert_eq!(ok(&s3), 200);
}

#[test]
fn oauth_is_per_tenant_and_turning_it_off_revokes_everything() {
    let app = App::new();
    app.provision("plain");
    // Off by default: no client.
    let r = admin(&app, "POST", "/tenants/plain/oauth-clients", None);
    assert_eq!(r.status, 409, "{}", r.body);
    let (id, secret, c) = tenant_with_client(&app, "acme");
    let access = token_request(
        &app,
        "grant_type=client_credentials",
        Some(&basic(&id, &secret)),
    )
    .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let spc = app.call(&c, "GET", "/ServiceProviderConfig", None).body;
    let types: Vec<&str> = spc["authenticationSchemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["oauthbearertoken", "oauth2"]);
    app.settings("acme", json!({"authentication": ["token"]}));
    assert_eq!(users(&app, "acme", &access), 401);
    let r = token_request(
        &app,
        "grant_type=client_credentials",
        Some(&basic(&id, &secret)),
    );
    assert_eq!(r.status, 401);
    let list = admin(&app, "GET", "/tenants/acme/oauth-clients", None);
    assert_eq!(list.body["oauthClients"], json!([]));
    // Another tenant's admin gets 403 on every client endpoint.
    let (id, _, _) = tenant_with_client(&app, "acme2");
    let globex = app.admin_token(Some("plain"));
    for (method, path) in [
        ("GET", "/tenants/acme2/oauth-clients".to_owned()),
        ("POST", "/tenants/acme2/oauth-clients".to_owned()),
        ("GET", format!("/tenants/acme2/oauth-clients/{id}")),
        (
            "POST",
            format!("/tenants/acme2/oauth-clients/{id}/rotate-secret"),
        ),
        ("DELETE", format!("/tenants/acme2/oauth-clients/{id}")),
    ] {
        let r = app.admin(&globex, method, &path, None);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    assert_eq!(
        admin(
            &app,
            "GET",
            &format!("/tenants/acme2/oauth-clients/{id}"),
            None
        )
        .status,
        200
    );
}

#[test]
fn the_metadata_document_describes_the_token_endpoint() {
    // RFC 8414 §3: GET /.well-known/oauth-authorization-server.
    let app = App::new();
    let r = app.request(Request::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["issuer"], "http://localhost");
    assert_eq!(r.body["token_endpoint"], "http://localhost/oauth/token");
    assert_eq!(
        r.body["grant_types_supported"],
        json!(["client_credentials"])
    );
    assert_eq!(
        r.body["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
}
