//! The OAuth 2.0 authorization code grant with refresh tokens (RFC 6749
//! §4.1, §6) as Okta's OIN SCIM integrations use it (issue 15; Okta "OIN
//! SCIM protocol properties": one client id and secret for every customer,
//! redirect URIs `https://system-admin.<okta host>/admin/app/cpc/<app>/oauth/callback`,
//! refresh tokens used when the server supports them), acting as Okta and
//! as the customer's admin: authorize, consent with a connect code, code,
//! token, SCIM, refresh with rotation, reuse revoking the family.

use ct_codecs::{Base64, Encoder};
use scim_worker::testing::{App, Reply};
use scim_worker::{Method, OktaClient, Request};
use serde_json::{json, Value};

const CLIENT: &str = "okta-client-id";
const SECRET: &str = "okta-client-secret-0123456789";
const APP: &str = "acme_scim";
const CALLBACK: &str = "https://system-admin.okta.com/admin/app/cpc/acme_scim/oauth/callback";

fn app() -> App {
    let mut app = App::new();
    app.config.okta = Some(OktaClient {
        client_id: CLIENT.into(),
        client_secret: SECRET.into(),
        app_name: APP.into(),
    });
    app.provision("acme");
    app.provision("globex");
    app.settings("acme", json!({"authentication": ["token", "oauth"]}));
    app
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn authorize_query(redirect: &str, extra: &str) -> String {
    format!(
        "response_type=code&client_id={CLIENT}&redirect_uri={}&state=xyz%201&scope=scim{extra}",
        enc(redirect)
    )
}

fn get(app: &App, path: &str) -> Reply {
    app.request(Request::new(Method::Get, path))
}

fn post_form(app: &App, path: &str, form: &str, auth: Option<&str>) -> Reply {
    let mut req = Request::new(Method::Post, path)
        .with_header("Content-Type", "application/x-www-form-urlencoded")
        .with_body(form.to_owned());
    if let Some(a) = auth {
        req = req.with_header("Authorization", a);
    }
    app.request(req)
}

fn html(r: &Reply) -> String {
    String::from_utf8(r.response.body.clone()).unwrap()
}

fn okta_basic() -> String {
    format!(
        "Basic {}",
        Base64::encode_to_string(format!("{CLIENT}:{SECRET}")).unwrap()
    )
}

fn connect_code(app: &App, tenant: &str) -> String {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "POST",
        &format!("/tenants/{tenant}/oauth/connect-codes"),
        None,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["code"].as_str().unwrap().to_owned()
}

/// The consent page's ticket, from its hidden field.
fn ticket_of(page: &str) -> String {
    let at = page
        .find("name=\"ticket\" value=\"")
        .expect("a ticket field")
        + 21;
    page[at..].split('"').next().unwrap().to_owned()
}

/// The parameters of a redirect's Location.
fn location(r: &Reply) -> (String, Vec<(String, String)>) {
    let l = r
        .response
        .header("location")
        .expect("a Location")
        .to_owned();
    let (base, q) = l.split_once('?').unwrap_or((&l, ""));
    (
        base.to_owned(),
        form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
    )
}

fn param<'a>(ps: &'a [(String, String)], k: &str) -> Option<&'a str> {
    ps.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// The whole browser part: authorize, the connect code, Allow. Answers the
/// code the callback receives.
fn authorize(app: &App, tenant: &str) -> String {
    let q = authorize_query(CALLBACK, "&code_challenge=abc&code_challenge_method=S256");
    let page = get(app, &format!("/oauth/authorize?{q}"));
    assert_eq!(page.status, 200, "{}", html(&page));
    let code = connect_code(app, tenant);
    let form = format!("{q}&connect_code={}", enc(&code.to_lowercase()));
    let confirm = post_form(app, "/oauth/authorize", &form, None);
    assert_eq!(confirm.status, 200, "{}", html(&confirm));
    let body = html(&confirm);
    assert!(body.contains(tenant), "{body}");
    let allow = post_form(
        app,
        "/oauth/authorize/consent",
        &format!("ticket={}&decision=allow", enc(&ticket_of(&body))),
        None,
    );
    assert_eq!(allow.status, 302, "{}", html(&allow));
    let (base, ps) = location(&allow);
    assert_eq!(base, CALLBACK);
    assert_eq!(param(&ps, "state"), Some("xyz 1"));
    param(&ps, "code").unwrap().to_owned()
}

fn exchange(app: &App, code: &str) -> Reply {
    post_form(
        app,
        "/oauth/token",
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}",
            enc(code),
            enc(CALLBACK)
        ),
        Some(&okta_basic()),
    )
}

fn refresh(app: &App, token: &str) -> Reply {
    post_form(
        app,
        "/oauth/token",
        &format!(
            "grant_type=refresh_token&refresh_token={}&client_id={CLIENT}&client_secret={SECRET}",
            enc(token)
        ),
        None,
    )
}

fn users(app: &App, tenant: &str, access: &str) -> u16 {
    app.request(
        Request::new(Method::Get, &format!("/scim/v2/{tenant}/Users"))
            .with_header("Authorization", &format!("Bearer {access}")),
    )
    .status
}

fn tokens(r: &Reply) -> (String, String) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    (
        r.body["access_token"].as_str().unwrap().to_owned(),
        r.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn the_full_okta_flow_with_rotating_refresh_tokens() {
    let app = app();
    let code = authorize(&app, "acme");
    let (access, refresh1) = tokens(&exchange(&app, &code));
    assert_eq!(users(&app, "acme", &access), 200);
    assert_eq!(users(&app, "globex", &access), 401);
    // A refresh rotates: new access and refresh tokens.
    let (access2, refresh2) = tokens(&refresh(&app, &refresh1));
    assert_ne!(refresh2, refresh1);
    assert_eq!(users(&app, "acme", &access2), 200);
    let (access3, refresh3) = tokens(&refresh(&app, &refresh2));
    assert_eq!(users(&app, "acme", &access3), 200);
    // The grant shows in the admin API with its last use.
    let grants = app.admin(
        &app.admin_token(None),
        "GET",
        "/tenants/acme/oauth/grants",
        None,
    );
    assert_eq!(grants.body["grants"][0]["how"], "connect-code");
    assert!(grants.body["grants"][0]["lastUsed"].is_string());
    // An old refresh token presented again: the whole family is revoked.
    let r = refresh(&app, &refresh1);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_grant");
    for a in [&access, &access2, &access3] {
        assert_eq!(users(&app, "acme", a), 401);
    }
    assert_eq!(refresh(&app, &refresh3).body["error"], "invalid_grant");
    let grants = app.admin(
        &app.admin_token(None),
        "GET",
        "/tenants/acme/oauth/grants",
        None,
    );
    assert!(
        grants.body["grants"][0]["revoked"].is_string(),
        "{}",
        grants.body
    );
}

#[test]
fn a_code_is_single_use_bound_to_its_redirect_and_short_lived() {
    let mut app = app();
    // Used twice: the second is invalid_grant and revokes what the first gave.
    let code = authorize(&app, "acme");
    let (access, _) = tokens(&exchange(&app, &code));
    let again = exchange(&app, &code);
    assert_eq!(again.body["error"], "invalid_grant", "{}", again.body);
    assert_eq!(users(&app, "acme", &access), 401);
    // Another redirect_uri at the token endpoint.
    let code = authorize(&app, "acme");
    let r = post_form(
        &app,
        "/oauth/token",
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            enc("https://system-admin.okta-emea.com/admin/app/cpc/acme_scim/oauth/callback")
        ),
        Some(&okta_basic()),
    );
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    // Expired: codes live at most 10 minutes.
    let code = authorize(&app, "acme");
    app.now += chrono::Duration::minutes(11);
    assert_eq!(exchange(&app, &code).body["error"], "invalid_grant");
    // Unknown code; a wrong client secret; the Okta client asking for client credentials.
    assert_eq!(exchange(&app, "sac_nope").body["error"], "invalid_grant");
    let bad = format!(
        "Basic {}",
        Base64::encode_to_string(format!("{CLIENT}:wrong")).unwrap()
    );
    let r = post_form(
        &app,
        "/oauth/token",
        "grant_type=authorization_code&code=x",
        Some(&bad),
    );
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let r = post_form(
        &app,
        "/oauth/token",
        "grant_type=client_credentials",
        Some(&okta_basic()),
    );
    assert_eq!(r.body["error"], "unauthorized_client");
}

#[test]
fn a_foreign_redirect_uri_or_client_is_refused_before_any_redirect() {
    let app = app();
    for q in [
        authorize_query("https://evil.example.com/callback", ""),
        authorize_query(
            "https://system-admin.okta.com/admin/app/cpc/other_app/oauth/callback",
            "",
        ),
        authorize_query(
            "http://system-admin.okta.com/admin/app/cpc/acme_scim/oauth/callback",
            "",
        ),
        authorize_query(CALLBACK, "").replace(CLIENT, "someone-else"),
    ] {
        let r = get(&app, &format!("/oauth/authorize?{q}"));
        assert_eq!(r.status, 400, "{q}");
        assert!(r.response.header("location").is_none(), "{q}");
        assert!(html(&r).contains("Nothing was granted"));
    }
    // With a good redirect, errors go back to Okta (§4.1.2.1).
    let q = authorize_query(CALLBACK, "").replace("response_type=code", "response_type=token");
    let r = get(&app, &format!("/oauth/authorize?{q}"));
    assert_eq!(r.status, 302);
    let (_, ps) = location(&r);
    assert_eq!(param(&ps, "error"), Some("unsupported_response_type"));
    assert_eq!(param(&ps, "state"), Some("xyz 1"));
    // The pages are locked down.
    let page = get(
        &app,
        &format!("/oauth/authorize?{}", authorize_query(CALLBACK, "")),
    );
    let csp = page.response.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(html(&page).contains("name=\"connect_code\""));
}

#[test]
fn connect_codes_are_single_use_and_deny_goes_back_with_access_denied() {
    let app = app();
    let q = authorize_query(CALLBACK, "");
    let code = connect_code(&app, "acme");
    let first = post_form(
        &app,
        "/oauth/authorize",
        &format!("{q}&connect_code={code}"),
        None,
    );
    assert_eq!(first.status, 200);
    let second = post_form(
        &app,
        "/oauth/authorize",
        &format!("{q}&connect_code={code}"),
        None,
    );
    assert_eq!(second.status, 400);
    assert!(html(&second).contains("already used"));
    // A tenant without oauth gets no connect code.
    let r = app.admin(
        &app.admin_token(None),
        "POST",
        "/tenants/globex/oauth/connect-codes",
        None,
    );
    assert_eq!(r.status, 409, "{}", r.body);
    // Deny.
    let deny = post_form(
        &app,
        "/oauth/authorize/consent",
        &format!("ticket={}&decision=deny", enc(&ticket_of(&html(&first)))),
        None,
    );
    assert_eq!(deny.status, 302);
    assert_eq!(param(&location(&deny).1, "error"), Some("access_denied"));
    // A tampered ticket: a page, no redirect.
    let r = post_form(
        &app,
        "/oauth/authorize/consent",
        "ticket=abc.def&decision=allow",
        None,
    );
    assert_eq!(r.status, 400);
    assert!(r.response.header("location").is_none());
}

#[test]
fn the_host_products_sign_in_posts_a_tenant_scoped_admin_token() {
    let mut app = app();
    app.config.login_url = Some("https://app.example.com/login".into());
    let q = authorize_query(CALLBACK, "");
    let page = html(&get(&app, &format!("/oauth/authorize?{q}")));
    assert!(
        page.contains("https://app.example.com/login?return_to="),
        "{page}"
    );
    let form = format!("{q}&admin_token={}", app.admin_token(Some("acme")));
    let confirm = post_form(&app, "/oauth/authorize", &form, None);
    assert_eq!(confirm.status, 200, "{}", html(&confirm));
    assert!(html(&confirm).contains("acme"));
    // A platform token names no tenant: refused.
    let form = format!("{q}&admin_token={}", app.admin_token(None));
    assert_eq!(post_form(&app, "/oauth/authorize", &form, None).status, 400);
}

#[test]
fn revoking_the_grant_or_turning_oauth_off_stops_okta() {
    let app = app();
    let (access, refresh_token) = tokens(&exchange(&app, &authorize(&app, "acme")));
    let grants = app.admin(
        &app.admin_token(None),
        "GET",
        "/tenants/acme/oauth/grants",
        None,
    );
    let id = grants.body["grants"][0]["id"].as_str().unwrap().to_owned();
    let r = app.admin(
        &app.admin_token(None),
        "DELETE",
        &format!("/tenants/acme/oauth/grants/{id}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(users(&app, "acme", &access), 401);
    assert_eq!(refresh(&app, &refresh_token).body["error"], "invalid_grant");

    let (access, refresh_token) = tokens(&exchange(&app, &authorize(&app, "acme")));
    app.settings("acme", json!({"authentication": ["token"]}));
    assert_eq!(users(&app, "acme", &access), 401);
    assert_eq!(refresh(&app, &refresh_token).body["error"], "invalid_grant");
    // Other tenants' admins get 403 on the grant endpoints.
    let other = app.admin_token(Some("globex"));
    for (m, p) in [
        ("POST", "/tenants/acme/oauth/connect-codes".to_owned()),
        ("GET", "/tenants/acme/oauth/grants".to_owned()),
        ("DELETE", format!("/tenants/acme/oauth/grants/{id}")),
    ] {
        assert_eq!(app.admin(&other, m, &p, None).status, 403, "{m} {p}");
    }
    let meta: Value = get(&app, "/.well-known/oauth-authorization-server").body;
    assert_eq!(
        meta["authorization_endpoint"],
        "http://localhost/oauth/authorize"
    );
    assert_eq!(
        meta["grant_types_supported"],
        json!(["client_credentials", "authorization_code", "refresh_token"])
    );
}

/// Codes, connect codes and refresh tokens are kept as hashes only, and the
/// daily cron deletes the expired ones (with expired access token rows).
#[test]
fn only_hashes_are_kept_and_the_cron_purges_what_expired() {
    let mut app = app();
    let code = authorize(&app, "acme");
    let (access, refresh_token) = tokens(&exchange(&app, &code));
    let unused = connect_code(&app, "acme");
    let count = |app: &App, t: &str| {
        app.rows(&format!("SELECT count(*) AS n FROM {t}"), vec![])[0]["n"]
            .as_i64()
            .unwrap()
    };
    for secret in [&code, &access, &refresh_token, &unused] {
        for t in [
            "oauth_codes",
            "oauth_refresh_tokens",
            "oauth_connect_codes",
            "oauth_tokens",
            "oauth_grants",
        ] {
            let dump = format!("{:?}", app.rows(&format!("SELECT * FROM {t}"), vec![]));
            assert!(!dump.contains(secret.as_str()), "{t} holds a secret");
        }
    }
    assert_eq!(count(&app, "oauth_codes"), 1);
    assert_eq!(count(&app, "oauth_connect_codes"), 2);
    app.cron("17 3 * * *");
    assert_eq!(count(&app, "oauth_codes"), 1, "nothing expired yet");
    app.now += chrono::Duration::days(REFRESH_DAYS + 1);
    app.cron("17 3 * * *");
    for t in [
        "oauth_codes",
        "oauth_refresh_tokens",
        "oauth_connect_codes",
        "oauth_tokens",
    ] {
        assert_eq!(count(&app, t), 0, "{t}");
    }
    // The grant itself stays listed (revocable, with its history).
    assert_eq!(count(&app, "oauth_grants"), 1);
}

const REFRESH_DAYS: i64 = 90;
