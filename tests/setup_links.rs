//! Setup links (issue 16): a URL the SaaS hands its customer's IT admin,
//! carrying in its fragment a credential the admin API takes as that one
//! tenant's scope: expiry, revocation, isolation, and no way to outlive its
//! revocation by making more links.

use scim_worker::testing::{urn::USER, App, Reply};
use serde_json::{json, Value};

fn admin(app: &App, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
    app.admin(token, method, path, body)
}

/// A link of `tenant`: (id, credential, url).
fn link(app: &App, tenant: &str, body: Option<Value>) -> (String, String, String) {
    let r = admin(
        app,
        &app.admin_token(None),
        "POST",
        &format!("/tenants/{tenant}/setup-links"),
        body,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.body["url"].as_str().unwrap().to_owned();
    let credential = url.split("#token=").nth(1).unwrap().to_owned();
    (r.body["id"].as_str().unwrap().to_owned(), credential, url)
}

#[test]
fn a_setup_link_is_its_tenants_scope_in_the_url_fragment() {
    let app = App::new();
    let c = app.provision("acme");
    app.provision("globex");
    let (id, credential, url) = link(&app, "acme", None);
    // The credential is in the fragment, which browsers never send.
    assert!(
        url.starts_with("http://localhost/setup/#token=ssl_"),
        "{url}"
    );
    assert!(!url.contains('?'));
    let listed = admin(
        &app,
        &app.admin_token(None),
        "GET",
        "/tenants/acme/setup-links",
        None,
    );
    let item = &listed.body["setupLinks"][0];
    assert_eq!(item["id"], id.as_str());
    let hours = (chrono::DateTime::parse_from_rfc3339(item["expires"].as_str().unwrap()).unwrap()
        - app.now.fixed_offset())
    .num_minutes();
    assert!((72 * 60 - 1..=72 * 60).contains(&hours), "{hours}");
    assert!(!listed.body.to_string().contains(&credential));

    // The console learns the link's tenant from whoami.
    let who = admin(&app, &credential, "GET", "/whoami", None);
    assert_eq!(
        who.body,
        json!({"scope": "tenant", "tenant": "acme", "setupLink": true, "subject": format!("setup-link:{id}")})
    );
    let who = admin(&app, &app.admin_token(None), "GET", "/whoami", None);
    assert_eq!(
        (who.body["scope"].as_str(), who.body["setupLink"].as_bool()),
        (Some("platform"), Some(false))
    );
    // What the IT admin can do: its tenant, connecting the IdP.
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        200
    );
    let issued = admin(
        &app,
        &credential,
        "POST",
        "/tenants/acme/tokens",
        Some(json!({"label": "okta"})),
    );
    assert_eq!(issued.status, 201, "{}", issued.body);
    // An action through the link names it as the actor of its events.
    let u = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob"})),
    );
    let uid = u.body["id"].as_str().unwrap();
    let r = admin(
        &app,
        &credential,
        "POST",
        &format!("/tenants/acme/users/{uid}/deactivate"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let events = admin(
        &app,
        &app.admin_token(None),
        "GET",
        "/tenants/acme/events?types=user.deactivated",
        None,
    );
    assert_eq!(
        events.body["events"][0]["actor"]["id"],
        format!("setup-link:{id}")
    );
    // What it cannot: another tenant, the platform, more links.
    for (method, path) in [
        ("GET", "/tenants/globex"),
        ("GET", "/tenants"),
        ("DELETE", "/tenants/acme"),
        ("POST", "/tenants/acme/setup-links"),
        ("GET", "/tenants/acme/setup-links"),
    ] {
        let r = admin(&app, &credential, method, path, None);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    // It records when it was last used.
    let listed = admin(
        &app,
        &app.admin_token(None),
        "GET",
        "/tenants/acme/setup-links",
        None,
    );
    assert!(listed.body["setupLinks"][0]["lastUsed"].is_string());
}

#[test]
fn a_setup_link_ends_when_revoked_or_expired() {
    let mut app = App::new();
    app.provision("acme");
    app.provision("globex");
    let (id, credential, _) = link(&app, "acme", Some(json!({"expiresInHours": 2})));
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        200
    );
    // Another tenant's path does not reach it.
    let r = admin(
        &app,
        &app.admin_token(None),
        "DELETE",
        &format!("/tenants/globex/setup-links/{id}"),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        200
    );
    let r = admin(
        &app,
        &app.admin_token(Some("acme")),
        "DELETE",
        &format!("/tenants/acme/setup-links/{id}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        401
    );
    let r = admin(
        &app,
        &app.admin_token(None),
        "DELETE",
        &format!("/tenants/acme/setup-links/{id}"),
        None,
    );
    assert_eq!(r.status, 404);
    let listed = admin(
        &app,
        &app.admin_token(None),
        "GET",
        "/tenants/acme/setup-links",
        None,
    );
    assert!(listed.body["setupLinks"][0]["revoked"].is_string());
    for bad in [
        json!({"expiresInHours": 0}),
        json!({"expiresInHours": 721}),
        json!({"hours": 1}),
    ] {
        let r = admin(
            &app,
            &app.admin_token(None),
            "POST",
            "/tenants/acme/setup-links",
            Some(bad.clone()),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    // Expiry.
    let (_, credential, _) = link(&app, "acme", Some(json!({"expiresInHours": 1})));
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        200
    );
    app.now += chrono::Duration::minutes(61);
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        401
    );
    // A made-up credential of the right shape.
    assert_eq!(
        admin(
            &app,
            &format!("ssl_{}", "0".repeat(64)),
            "GET",
            "/tenants/acme",
            None
        )
        .status,
        401
    );
}

/// Another tenant's admin token gets 403 on every setup-link endpoint and
/// changes nothing.
#[test]
fn another_tenants_admin_gets_403_on_setup_links() {
    let app = App::new();
    app.provision("acme");
    app.provision("globex");
    let (id, credential, _) = link(&app, "acme", None);
    let globex = app.admin_token(Some("globex"));
    for (method, path) in [
        ("GET", "/tenants/acme/setup-links".to_owned()),
        ("POST", "/tenants/acme/setup-links".to_owned()),
        ("DELETE", format!("/tenants/acme/setup-links/{id}")),
    ] {
        let r = admin(&app, &globex, method, &path, None);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    assert_eq!(
        admin(&app, &credential, "GET", "/tenants/acme", None).status,
        200
    );
    let listed = admin(
        &app,
        &app.admin_token(None),
        "GET",
        "/tenants/acme/setup-links",
        None,
    );
    assert_eq!(listed.body["setupLinks"].as_array().unwrap().len(), 1);
}

#[test]
fn a_setup_link_may_allow_auth_modes_but_not_change_how_data_is_kept() {
    let app = App::new();
    app.provision("acme");
    let (_, credential, _) = link(&app, "acme", None);
    // Connecting Entra with OAuth: the IT admin allows it.
    let r = admin(
        &app,
        &credential,
        "PATCH",
        "/tenants/acme",
        Some(json!({"settings": {"authentication": ["token", "oauth"]}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["settings"]["authentication"],
        json!(["token", "oauth"])
    );
    for body in [
        json!({"settings": {"deletePolicy": "remove"}}),
        json!({"settings": {"eventRetentionDays": 1}}),
        json!({"name": "Renamed"}),
    ] {
        let r = admin(
            &app,
            &credential,
            "PATCH",
            "/tenants/acme",
            Some(body.clone()),
        );
        assert_eq!(r.status, 403, "{body}: {}", r.body);
    }
    let t = admin(&app, &app.admin_token(None), "GET", "/tenants/acme", None);
    assert_eq!(t.body["settings"]["deletePolicy"], "retain");
    assert_eq!(t.body["name"], "acme");
}
