//! The authorization code grant with refresh tokens (RFC 6749 §4.1, §6), as
//! Okta's OIN SCIM integrations use it: one client for the whole deployment
//! (`OKTA_OAUTH_CLIENT_ID`, `OKTA_OAUTH_CLIENT_SECRET`), redirect URIs of
//! the form `https://system-admin.<okta host>/admin/app/cpc/<OKTA_APP_NAME>/oauth/callback`,
//! and the customer's tenant decided at the authorize step: the Okta admin
//! types a one-time connect code their tenant admin got from the admin API
//! (or signs in through the host product, `OAUTH_LOGIN_URL`, which posts
//! back a tenant-scoped admin JWT), sees what is granted, and allows it.
//!
//! A redirect URI that is not one of Okta's is refused with a page before
//! any redirect. Codes live 10 minutes and are single use; refresh tokens
//! rotate on every use, and presenting a used one (or a used code) revokes
//! the whole grant. All of it is in D1, as hashes.

use chrono::{DateTime, Duration, Utc};
use ct_codecs::{Base64UrlSafeNoPadding, Decoder, Encoder};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::server::admin::jwt::{self, Scope};
use crate::server::auth::sha256_hex;
use crate::server::config::OktaClient;
use crate::server::ctx::Platform;
use crate::server::error::Result;
use crate::server::http::{Method, Request, Response};
use crate::server::oauth::{issue_access, no_store, oauth_error, revoke_tokens};
use crate::server::tokens::random_token;
use crate::server::webhooks::Outbound;
use crate::store::oauth::{self as store, Granted};
use crate::store::tenants::{self, AuthMode};
use crate::store::{timestamp, KeyValue, SqlExecutor};

/// The authorize endpoint (the connect page, and its form).
pub(crate) const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Where the confirmation page's Allow and Deny go.
pub(crate) const CONSENT_PATH: &str = "/oauth/authorize/consent";
/// How long a code lives (RFC 6749 §4.1.2: at most 10 minutes).
const CODE_SECONDS: i64 = 600;
/// How long a refresh token lives unused (each use gives a new one).
pub(crate) const REFRESH_DAYS: i64 = 90;
/// How long a connect code lives.
pub(crate) const CONNECT_CODE_MINUTES: i64 = 60;
/// How long the confirmation page may wait for Allow.
const TICKET_SECONDS: i64 = 600;

/// The Okta hosts whose callback may receive a code.
const OKTA_HOSTS: [&str; 4] = [
    "system-admin.okta.com",
    "system-admin.okta-emea.com",
    "system-admin.oktapreview.com",
    "system-admin.trexcloud.com",
];

/// Whether `uri` is one of Okta's callbacks for the app.
pub(crate) fn okta_redirect_ok(uri: &str, app: &str) -> bool {
    OKTA_HOSTS
        .iter()
        .any(|h| uri == format!("https://{h}/admin/app/cpc/{app}/oauth/callback"))
}

/// HTML-escapes text for an element or a quoted attribute.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page of the flow: small, no script, a strict Content-Security-Policy
/// (`form-action` names where its form may lead: here, and the callback).
fn page(status: u16, title: &str, body: &str, form_to: Option<&str>) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         input,button{{font:inherit;padding:.4rem .6rem}}.err{{color:#a00}}</style></head>\
         <body><main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    );
    let origin = form_to
        .and_then(|u| u.find("/admin/").map(|i| &u[..i]))
        .unwrap_or("");
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut r = Response::empty(status);
    r.body = html.into_bytes();
    r.with_header("content-type", "text/html; charset=utf-8")
        .with_header("content-security-policy", csp)
        .with_header("referrer-policy", "no-referrer")
        .with_header("x-frame-options", "DENY")
}

fn refused(why: &str) -> Response {
    page(
        400,
        "This request cannot be authorized",
        &format!("<p>{}</p><p>Nothing was granted. Start again from your identity provider's admin console.</p>", esc(why)),
        None,
    )
}

/// The parameters of the authorize request: the query of a GET, the form of
/// a POST.
fn params(req: &Request) -> Vec<(String, String)> {
    let raw: &[u8] = if req.method == Method::Get {
        req.query.as_bytes()
    } else {
        &req.body
    };
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(ps: &'a [(String, String)], name: &str) -> Option<&'a str> {
    ps.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The checked request: the client is Okta's and the redirect URI one of
/// its callbacks (else a page, and no redirect ever).
struct Checked {
    redirect_uri: String,
    state: Option<String>,
}

fn check<'a>(
    okta: Option<&'a OktaClient>,
    ps: &[(String, String)],
) -> std::result::Result<(&'a OktaClient, Checked), Response> {
    let Some(okta) = okta else {
        return Err(refused(
            "OAuth for Okta is not configured on this deployment.",
        ));
    };
    if param(ps, "client_id") != Some(okta.client_id.as_str()) {
        return Err(refused(
            "The client_id is not this deployment's Okta client.",
        ));
    }
    let redirect = param(ps, "redirect_uri").unwrap_or("");
    if !okta_redirect_ok(redirect, &okta.app_name) {
        return Err(refused(
            "The redirect_uri is not one of Okta's callbacks for this app.",
        ));
    }
    Ok((
        okta,
        Checked {
            redirect_uri: redirect.to_owned(),
            state: param(ps, "state").map(str::to_owned),
        },
    ))
}

/// A redirect to the callback with `params` (and the state, if any).
fn back(c: &Checked, params: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    if let Some(s) = &c.state {
        q.append_pair("state", s);
    }
    let sep = if c.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    Response::empty(302)
        .with_header("location", format!("{}{sep}{}", c.redirect_uri, q.finish()))
        .with_header("referrer-policy", "no-referrer")
}

/// The hidden fields that carry the request through the connect form.
fn hidden(ps: &[(String, String)]) -> String {
    [
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "scope",
    ]
    .iter()
    .filter_map(|k| {
        param(ps, k).map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    })
    .collect()
}

fn connect_page(
    req: &Request,
    ps: &[(String, String)],
    login_url: Option<&str>,
    error: Option<&str>,
) -> Response {
    let err = error
        .map(|e| format!("<p class=\"err\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let login = login_url
        .map(|u| {
            let here = format!("{}{AUTHORIZE_PATH}?{}", req.origin, req.query);
            let sep = if u.contains('?') { '&' } else { '?' };
            let to: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
            format!(
                "<p>Or <a href=\"{}\">sign in to your account</a> to choose the tenant.</p>",
                esc(&format!("{u}{sep}return_to={to}"))
            )
        })
        .unwrap_or_default();
    page(
        if error.is_some() { 400 } else { 200 },
        "Connect Okta to your account",
        &format!(
            "<p>Okta asks to provision users and groups into your account with SCIM.</p>{err}\
             <form method=\"post\" action=\"{AUTHORIZE_PATH}\">{}\
             <p><label for=\"connect_code\">Connect code</label><br>\
             <input id=\"connect_code\" name=\"connect_code\" autocomplete=\"one-time-code\" required autofocus></p>\
             <p>Your account's administrator makes one in its settings (it is good for {CONNECT_CODE_MINUTES} minutes, once).</p>\
             <p><button type=\"submit\">Continue</button></p></form>{login}",
            hidden(ps)
        ),
        None,
    )
}

/// A signed, short-lived ticket that carries what the confirmation page
/// allows to its Allow button: `base64url(json).base64url(HMAC)`.
fn ticket(key: &str, v: &Value) -> String {
    let body = Base64UrlSafeNoPadding::encode_to_string(v.to_string()).unwrap_or_default();
    let mac = hmac_sha256::HMAC::mac(body.as_bytes(), ticket_key(key));
    format!(
        "{body}.{}",
        Base64UrlSafeNoPadding::encode_to_string(mac).unwrap_or_default()
    )
}

fn ticket_key(key: &str) -> [u8; 32] {
    hmac_sha256::HMAC::mac(b"scim-worker oauth consent ticket", key.as_bytes())
}

fn read_ticket(key: &str, t: &str, now: DateTime<Utc>) -> Option<Value> {
    let (body, mac) = t.split_once('.')?;
    let want = hmac_sha256::HMAC::mac(body.as_bytes(), ticket_key(key));
    let got = Base64UrlSafeNoPadding::decode_to_vec(mac, None).ok()?;
    if !bool::from(want.as_slice().ct_eq(&got)) {
        return None;
    }
    let v: Value =
        serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(body, None).ok()?).ok()?;
    (v["exp"].as_i64()? > now.timestamp()).then_some(v)
}

/// A connect code as people type it: upper case, without spaces or dashes.
pub(crate) fn connect_code_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(format!("connect:{norm}").as_bytes())
}

/// A new connect code: 12 characters of an alphabet without look-alikes,
/// as `XXXX-XXXX-XXXX` (60 bits).
pub(crate) fn new_connect_code() -> Result<String> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| {
        crate::server::error::Error::internal(format!("No randomness available: {e}"))
    })?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// `GET` and `POST /oauth/authorize`, `POST /oauth/authorize/consent`.
pub(crate) async fn handle<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    req: &Request,
    now: DateTime<Utc>,
    path: &str,
) -> Result<Response> {
    let ps = params(req);
    let (okta, checked) = match check(p.config.okta.as_ref(), &ps) {
        Ok(c) => c,
        Err(page) if path == CONSENT_PATH => {
            // The consent form carries the request in its ticket.
            return consent(p, req, now, &ps).await.map(|r| r.unwrap_or(page));
        }
        Err(page) => return Ok(page),
    };
    if path == CONSENT_PATH {
        return consent(p, req, now, &ps)
            .await
            .map(|r| r.unwrap_or_else(|| refused("The confirmation expired or was altered.")));
    }
    if param(&ps, "response_type") != Some("code") {
        return Ok(back(&checked, &[("error", "unsupported_response_type")]));
    }
    let connect = |error| connect_page(req, &ps, p.config.login_url.as_deref(), error);
    if req.method == Method::Get {
        return Ok(connect(None));
    }
    // The connect form, or the host product's sign-in posting an admin JWT.
    let stamp = timestamp(now);
    let (tenant, how) = if let Some(code) = param(&ps, "connect_code") {
        match store::use_connect_code(p.db, &connect_code_hash(code), &stamp).await? {
            Some(t) => (t, "connect-code"),
            None => {
                return Ok(connect(Some(
                    "That connect code is unknown, expired or already used. Ask for a new one.",
                )))
            }
        }
    } else if let Some(token) = param(&ps, "admin_token") {
        let secret = p.config.admin_jwt_secret.as_deref().unwrap_or("");
        match jwt::verify_with_subject(token, secret, now) {
            Ok((Scope::Tenant(t), _)) if !secret.is_empty() => (t, "admin-token"),
            _ => {
                return Ok(connect(Some(
                    "The sign-in did not name one account; try again.",
                )))
            }
        }
    } else {
        return Ok(connect(Some("Enter a connect code.")));
    };
    let shard = p.shards.of(&tenant, now.timestamp_millis()).await?;
    let Some(t) = tenants::get(shard, &tenant).await? else {
        return Ok(refused("That account no longer exists."));
    };
    if !t.settings.authentication.allows(AuthMode::OAuth) {
        return Ok(refused(
            "OAuth is off for this account: its administrator must allow it first.",
        ));
    }
    let Some(key) = p.config.secrets() else {
        return Ok(refused(
            "This deployment has no SECRETS_KEY; OAuth cannot be confirmed.",
        ));
    };
    let t_json = json!({"tenant": tenant, "client": okta.client_id, "redirect_uri": checked.redirect_uri,
                        "state": checked.state, "how": how, "exp": now.timestamp() + TICKET_SECONDS});
    let ticket = ticket(key, &t_json);
    Ok(page(
        200,
        "Allow Okta to provision this account?",
        &format!(
            "<p>Okta (app <strong>{app}</strong>) will be able to create, update, deactivate and delete the users and groups of <strong>{name}</strong> (<code>{id}</code>) over SCIM, until the connection is revoked.</p>\
             <form method=\"post\" action=\"{CONSENT_PATH}\"><input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
             <p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p></form>",
            app = esc(&okta.app_name),
            name = esc(&t.name),
            id = esc(&tenant),
            ticket = esc(&ticket),
        ),
        Some(&checked.redirect_uri),
    ))
}

/// The confirmation's answer: `None` when its ticket is bad or expired.
async fn consent<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    req: &Request,
    now: DateTime<Utc>,
    ps: &[(String, String)],
) -> Result<Option<Response>> {
    if req.method != Method::Post {
        return Ok(None);
    }
    let (Some(key), Some(okta)) = (p.config.secrets(), p.config.okta.as_ref()) else {
        return Ok(None);
    };
    let Some(t) = param(ps, "ticket").and_then(|t| read_ticket(key, t, now)) else {
        return Ok(None);
    };
    let redirect = t["redirect_uri"].as_str().unwrap_or("");
    if t["client"].as_str() != Some(okta.client_id.as_str())
        || !okta_redirect_ok(redirect, &okta.app_name)
    {
        return Ok(None);
    }
    let c = Checked {
        redirect_uri: redirect.to_owned(),
        state: t["state"].as_str().map(str::to_owned),
    };
    if param(ps, "decision") != Some("allow") {
        return Ok(Some(back(&c, &[("error", "access_denied")])));
    }
    let tenant = t["tenant"].as_str().unwrap_or("");
    let code = format!("sac_{}", &random_token()?[4..]);
    let grant = format!("swg_{}", uuid::Uuid::new_v4().simple());
    let stamp = timestamp(now);
    store::add_grant_with_code(
        p.db,
        &grant,
        tenant,
        &okta.client_id,
        t["how"].as_str().unwrap_or("connect-code"),
        &sha256_hex(code.as_bytes()),
        redirect,
        &stamp,
        &timestamp(now + Duration::seconds(CODE_SECONDS)),
    )
    .await?;
    Ok(Some(back(&c, &[("code", &code)])))
}

/// Whether the request authenticated as the deployment's Okta client.
pub(crate) fn is_okta(okta: Option<&OktaClient>, id: &str, secret: &str) -> Option<bool> {
    let o = okta.filter(|o| o.client_id == id)?;
    Some(bool::from(
        o.client_secret.as_bytes().ct_eq(secret.as_bytes()),
    ))
}

/// Revokes a grant whose code or refresh token was presented twice.
async fn reuse<D: SqlExecutor, K: KeyValue>(
    db: &D,
    kv: &K,
    g: &Granted,
    now: &str,
) -> Result<Response> {
    if let Some(hashes) = store::revoke_grant(
        db,
        &g.tenant,
        &g.grant,
        "a used code or refresh token was presented again",
        now,
    )
    .await?
    {
        revoke_tokens(kv, &hashes).await?;
    }
    Ok(oauth_error(
        "invalid_grant",
        "This was used already, so the whole authorization is revoked: authorize again.",
    ))
}

/// Access and refresh tokens for a grant.
async fn tokens_for<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    g: &Granted,
    now: DateTime<Utc>,
) -> Result<Response> {
    let stamp = timestamp(now);
    let refresh = format!("srt_{}", &random_token()?[4..]);
    p.db.batch(store::add_refresh(
        &g.grant,
        &g.tenant,
        &sha256_hex(refresh.as_bytes()),
        &timestamp(now + Duration::days(REFRESH_DAYS)),
        &stamp,
    ))
    .await?;
    let (access, lifetime) = issue_access(p, &g.tenant, &g.grant, "okta", now).await?;
    Ok(no_store(Response::json(
        200,
        &json!({"access_token": access, "token_type": "Bearer", "expires_in": lifetime, "refresh_token": refresh}),
    )))
}

/// §4.1.3: a code for tokens.
pub(crate) async fn code_grant<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    form: &[(String, String)],
    client: &str,
    now: DateTime<Utc>,
) -> Result<Response> {
    let Some(code) = param(form, "code") else {
        return Ok(oauth_error("invalid_request", "code is missing."));
    };
    let stamp = timestamp(now);
    let Some(g) = store::use_code(p.db, &sha256_hex(code.as_bytes()), &stamp).await? else {
        return Ok(oauth_error("invalid_grant", "Unknown authorization code."));
    };
    if g.reused {
        return reuse(p.db, p.kv, &g, &stamp).await;
    }
    if g.expired || g.revoked {
        return Ok(oauth_error(
            "invalid_grant",
            "The authorization code has expired or its authorization was revoked.",
        ));
    }
    if g.client != client || param(form, "redirect_uri") != Some(g.redirect_uri.as_str()) {
        return Ok(oauth_error(
            "invalid_grant",
            "The code was issued to another client or redirect_uri.",
        ));
    }
    tokens_for(p, &g, now).await
}

/// §6: a refresh token for new tokens (it rotates).
pub(crate) async fn refresh_grant<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    form: &[(String, String)],
    client: &str,
    now: DateTime<Utc>,
) -> Result<Response> {
    let Some(token) = param(form, "refresh_token") else {
        return Ok(oauth_error("invalid_request", "refresh_token is missing."));
    };
    let stamp = timestamp(now);
    let Some(g) = store::use_refresh(p.db, &sha256_hex(token.as_bytes()), &stamp).await? else {
        return Ok(oauth_error("invalid_grant", "Unknown refresh token."));
    };
    if g.reused {
        return reuse(p.db, p.kv, &g, &stamp).await;
    }
    if g.expired || g.revoked || g.client != client {
        return Ok(oauth_error(
            "invalid_grant",
            "The refresh token has expired or its authorization was revoked.",
        ));
    }
    tokens_for(p, &g, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_oktas_callbacks_for_the_app_are_redirect_uris() {
        for host in OKTA_HOSTS {
            assert!(okta_redirect_ok(
                &format!("https://{host}/admin/app/cpc/acme_scim/oauth/callback"),
                "acme_scim"
            ));
        }
        for bad in [
            "https://system-admin.okta.com/admin/app/cpc/other/oauth/callback",
            "http://system-admin.okta.com/admin/app/cpc/acme_scim/oauth/callback",
            "https://system-admin.okta.com.evil.com/admin/app/cpc/acme_scim/oauth/callback",
            "https://evil.com/?https://system-admin.okta.com/admin/app/cpc/acme_scim/oauth/callback",
            "https://system-admin.okta.com/admin/app/cpc/acme_scim/oauth/callback/../x",
        ] {
            assert!(!okta_redirect_ok(bad, "acme_scim"), "{bad}");
        }
    }

    #[test]
    fn connect_codes_read_as_typed_and_tickets_refuse_tampering() {
        let code = new_connect_code().unwrap();
        assert_eq!(code.len(), 14);
        assert_eq!(
            connect_code_hash(&code),
            connect_code_hash(&code.to_lowercase().replace('-', " "))
        );
        let now = Utc::now();
        let t = ticket("k", &json!({"tenant": "acme", "exp": now.timestamp() + 60}));
        assert_eq!(read_ticket("k", &t, now).unwrap()["tenant"], "acme");
        assert!(read_ticket("other", &t, now).is_none());
        let forged = ticket(
            "k",
            &json!({"tenant": "globex", "exp": now.timestamp() + 60}),
        );
        let mixed = format!(
            "{}.{}",
            forged.split('.').next().unwrap(),
            t.split('.').nth(1).unwrap()
        );
        assert!(read_ticket("k", &mixed, now).is_none());
        assert!(read_ticket("k", &t, now + Duration::seconds(61)).is_none());
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
