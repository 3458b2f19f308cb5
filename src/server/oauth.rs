//! The OAuth 2.0 authorization server identity providers use (RFC 6749):
//! `POST /oauth/token` with the client credentials grant (§4.4), as
//! Microsoft Entra's provisioning uses it with one client per customer
//! tenant, and its metadata at `/.well-known/oauth-authorization-server`
//! (RFC 8414).
//!
//! A client's secret is 256 random bits, shown once and kept as its
//! SHA-256; a rotation keeps the previous one valid for a grace period. An
//! access token is opaque (`sat_` and 64 hex digits): KV keeps, under the
//! SHA-256 of it, the record SCIM authentication reads (the tenant, the
//! client, the expiry), expiring with it, so a SCIM request with it costs
//! what one with a SCIM token does; D1 lists the hashes so that deleting
//! the client revokes them at once.

use chrono::{DateTime, Duration, Utc};
use ct_codecs::{Base64, Decoder};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::server::auth::{sha256_hex, token_hash};
use crate::server::authorize::{self, AUTHORIZE_PATH, CONSENT_PATH};
use crate::server::ctx::Platform;
use crate::server::error::{Error, Result};
use crate::server::http::{Method, Request, Response};
use crate::server::tokens::random_token;
use crate::server::webhooks::Outbound;
use crate::store::oauth::{self, Client};
use crate::store::tokens::{token_key, CredentialKind, TokenRecord};
use crate::store::{timestamp, KeyValue, SqlExecutor};

/// The token endpoint.
pub(crate) const TOKEN_PATH: &str = "/oauth/token";
/// The authorization server metadata (RFC 8414 §3).
pub(crate) const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// Whether `path` is the OAuth server's.
pub(crate) fn is_oauth_path(path: &str) -> bool {
    path == METADATA_PATH || path == "/oauth" || path.starts_with("/oauth/")
}

/// Serves a request to the OAuth server.
pub(crate) async fn handle<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response> {
    let path = req.path.trim_end_matches('/');
    match (path, req.method) {
        (AUTHORIZE_PATH, Method::Get | Method::Post) | (CONSENT_PATH, Method::Post) => {
            authorize::handle(p, req, now, path).await
        }
        (AUTHORIZE_PATH, _) => Ok(not_allowed("GET, POST")),
        (CONSENT_PATH, _) => Ok(not_allowed("POST")),
        (METADATA_PATH, Method::Get) => Ok(Response::json(
            200,
            &metadata(&req.origin, p.config.okta.is_some()),
        )),
        (METADATA_PATH, _) => Ok(not_allowed("GET")),
        (TOKEN_PATH, Method::Post) => token(p, req, now).await,
        (TOKEN_PATH, _) => Ok(not_allowed("POST")),
        _ => Ok(Response::json(
            404,
            &json!({"error": "not_found", "error_description": format!("No OAuth endpoint at {path}.")}),
        )),
    }
}

fn not_allowed(allow: &str) -> Response {
    Response::json(
        405,
        &json!({"error": "invalid_request", "error_description": format!("This endpoint takes {allow} only.")}),
    )
    .with_header("allow", allow)
}

/// RFC 8414 §2: what this server offers (the authorization code grant
/// only when the deployment has an Okta client).
fn metadata(origin: &str, okta: bool) -> serde_json::Value {
    let mut m = json!({
        "issuer": origin,
        "token_endpoint": format!("{origin}{TOKEN_PATH}"),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
    });
    if okta {
        m["authorization_endpoint"] = json!(format!("{origin}{AUTHORIZE_PATH}"));
        m["grant_types_supported"] =
            json!(["client_credentials", "authorization_code", "refresh_token"]);
        m["response_types_supported"] = json!(["code"]);
    }
    m
}

/// An error answer of the token endpoint (RFC 6749 §5.2): `invalid_client`
/// is 401 with a Basic challenge, every other 400.
pub(crate) fn oauth_error(code: &str, description: &str) -> Response {
    let status = if code == "invalid_client" { 401 } else { 400 };
    let r = no_store(Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    ));
    if status == 401 {
        r.with_header("www-authenticate", "Basic realm=\"scim-worker\"")
    } else {
        r
    }
}

/// RFC 6749 §5.1: token answers are never cached (every answer has
/// `Cache-Control: no-store` already).
pub(crate) fn no_store(r: Response) -> Response {
    r.with_header("pragma", "no-cache")
}

/// The client's credentials as the request presents them: HTTP Basic
/// (`client_secret_basic`, each part form-encoded, §2.3.1) or the form's
/// `client_id` and `client_secret` (`client_secret_post`), not both.
fn client_credentials(
    req: &Request,
    form: &[(String, String)],
) -> std::result::Result<(String, String), Response> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let in_form = (field("client_id"), field("client_secret"));
    let header = req.header("authorization").map(str::trim);
    match (header, in_form) {
        (Some(h), (_, Some(_))) if !h.is_empty() => Err(oauth_error(
            "invalid_request",
            "Authenticate the client one way: the Authorization header or client_secret in the body, not both.",
        )),
        (Some(h), (form_id, None)) if !h.is_empty() => {
            let bad = || oauth_error("invalid_client", "The Authorization header is not HTTP Basic with client_id:client_secret.");
            let (scheme, rest) = h.split_once(' ').ok_or_else(bad)?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(bad());
            }
            let decoded = Base64::decode_to_vec(rest.trim(), None).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            let decode = |s: &str| -> String {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let (id, secret) = (decode(id), decode(secret));
            if form_id.is_some_and(|f| f != id) {
                return Err(oauth_error("invalid_request", "client_id in the body is not the one in the Authorization header."));
            }
            Ok((id, secret))
        }
        (_, (Some(id), Some(secret))) => Ok((id, secret)),
        _ => Err(oauth_error(
            "invalid_client",
            "Authenticate the client: HTTP Basic with client_id:client_secret, or client_id and client_secret in the body.",
        )),
    }
}

/// Whether `secret` is the client's, at `now`: its current secret (unless
/// expired) or, during a rotation's grace period, the previous one.
fn secret_matches(client: &Client, secret: &str, now: &str) -> bool {
    let hash = sha256_hex(secret.as_bytes());
    let current: bool = client.secret_hash.as_bytes().ct_eq(hash.as_bytes()).into();
    let current_live = client.secret_expires.as_deref().is_none_or(|e| e > now);
    let previous: bool = match (&client.previous_hash, &client.previous_until) {
        (Some(p), Some(until)) if until.as_str() > now => {
            p.as_bytes().ct_eq(hash.as_bytes()).into()
        }
        _ => false,
    };
    (current && current_live) || previous
}

/// `POST /oauth/token`.
async fn token<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response> {
    let form_type = req
        .header("content-type")
        .and_then(|c| c.split(';').next())
        .map(|c| {
            c.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if form_type != Some(true) {
        return Ok(oauth_error(
            "invalid_request",
            "Send the token request as application/x-www-form-urlencoded (RFC 6749 §4.4.2).",
        ));
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    // §3.2: a parameter is sent at most once.
    if let Some((k, _)) = form
        .iter()
        .enumerate()
        .find(|(i, (k, _))| form[..*i].iter().any(|(k2, _)| k2 == k))
        .map(|(_, kv)| kv)
    {
        return Ok(oauth_error(
            "invalid_request",
            &format!("The parameter {k} is given more than once."),
        ));
    }
    let grant = form
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str());
    let (client_id, secret) = match client_credentials(req, &form) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let Some(grant) = grant else {
        return Ok(oauth_error("invalid_request", "grant_type is missing."));
    };
    // The deployment's Okta client: the authorization code grant.
    if let Some(ok) = authorize::is_okta(p.config.okta.as_ref(), &client_id, &secret) {
        if !ok {
            return Ok(oauth_error(
                "invalid_client",
                "Unknown client, or a wrong or expired secret.",
            ));
        }
        return match grant {
            "authorization_code" => authorize::code_grant(p, &form, &client_id, now).await,
            "refresh_token" => authorize::refresh_grant(p, &form, &client_id, now).await,
            "client_credentials" => Ok(oauth_error(
                "unauthorized_client",
                "The Okta client uses the authorization code grant; client credentials are for a tenant's own clients.",
            )),
            other => Ok(oauth_error("unsupported_grant_type", &format!("grant_type {other} is not supported."))),
        };
    }
    match grant {
        "client_credentials" => client_credentials_grant(p, &client_id, &secret, now).await,
        "authorization_code" | "refresh_token" => {
            // Only after the client authenticates may it learn why not.
            let stamp = timestamp(now);
            let known = oauth::get(p.db, &client_id).await?;
            if known.is_some_and(|c| secret_matches(&c, &secret, &stamp)) {
                Ok(oauth_error(
                    "unauthorized_client",
                    "A tenant's client uses the client credentials grant.",
                ))
            } else {
                Ok(oauth_error(
                    "invalid_client",
                    "Unknown client, or a wrong or expired secret.",
                ))
            }
        }
        other => Ok(oauth_error(
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported here; use client_credentials."),
        )),
    }
}

/// §4.4: an access token for an authenticated client of a tenant.
async fn client_credentials_grant<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    client_id: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Response> {
    let stamp = timestamp(now);
    let client = oauth::get(p.db, client_id).await?;
    let Some(client) = client.filter(|c| secret_matches(c, secret, &stamp)) else {
        return Ok(oauth_error(
            "invalid_client",
            "Unknown client, or a wrong or expired secret.",
        ));
    };
    let (access, lifetime) =
        issue_access(p, &client.tenant, &client.client_id, &client.label, now).await?;
    Ok(no_store(Response::json(
        200,
        &json!({"access_token": access, "token_type": "Bearer", "expires_in": lifetime}),
    )))
}

/// A new access token for `owner` (a client, or a grant) of `tenant`:
/// listed in D1 first (so that revoking its owner revokes it), then its KV
/// record, expiring with it. Answers the token and its lifetime in seconds.
pub(crate) async fn issue_access<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    p: &Platform<'_, D, K, L, O>,
    tenant: &str,
    owner: &str,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(String, u32)> {
    let stamp = timestamp(now);
    let lifetime = p.config.oauth_token_seconds;
    let access = format!("sat_{}", &random_token()?[4..]);
    let hash = token_hash(&access);
    let expires = timestamp(now + Duration::seconds(i64::from(lifetime)));
    let record = TokenRecord {
        last_user_agent: None,
        tenant: tenant.to_owned(),
        id: owner.to_owned(),
        label: label.to_owned(),
        hash: hash.clone(),
        created: stamp.clone(),
        expires: Some(expires.clone()),
        last_used: None,
        kind: Some(CredentialKind::OAuth),
        username: None,
    };
    oauth::issued(p.db, tenant, owner, &hash, &expires, &stamp).await?;
    let json = serde_json::to_string(&record).map_err(|e| Error::internal(e.to_string()))?;
    p.kv.put(&token_key(&hash), &json, Some(u64::from(lifetime) + 60))
        .await?;
    Ok((access, lifetime))
}

/// A new client secret: `swcs_` and 64 hex digits (256 bits).
pub(crate) fn new_secret() -> Result<String> {
    Ok(format!("swcs_{}", &random_token()?[4..]))
}

/// A new client id: `swc_` and 32 hex digits (public).
pub(crate) fn new_client_id() -> String {
    format!("swc_{}", uuid::Uuid::new_v4().simple())
}

/// Revokes access tokens by hash (their KV records go).
pub(crate) async fn revoke_tokens<K: KeyValue>(kv: &K, hashes: &[String]) -> Result<()> {
    for h in hashes {
        crate::store::tokens::forget(h);
        kv.delete(&token_key(h)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(secret: &str) -> Client {
        Client {
            client_id: "swc_1".into(),
            tenant: "acme".into(),
            label: String::new(),
            secret_hash: sha256_hex(secret.as_bytes()),
            secret_expires: None,
            previous_hash: None,
            previous_until: None,
            created: "2026-01-01T00:00:00.000Z".into(),
            rotated: None,
            last_used: None,
        }
    }

    #[test]
    fn a_secret_matches_until_it_expires_and_a_previous_one_during_its_grace() {
        let now = "2026-06-01T00:00:00.000Z";
        let mut c = client("s1");
        assert!(secret_matches(&c, "s1", now));
        assert!(!secret_matches(&c, "s2", now));
        c.secret_expires = Some("2026-05-31T23:59:59.999Z".into());
        assert!(!secret_matches(&c, "s1", now));
        c.secret_expires = None;
        c.previous_hash = Some(sha256_hex(b"old"));
        c.previous_until = Some("2026-06-01T00:00:00.001Z".into());
        assert!(secret_matches(&c, "old", now));
        c.previous_until = Some(now.into());
        assert!(!secret_matches(&c, "old", now));
    }

    #[test]
    fn basic_client_authentication_decodes_form_encoded_parts() {
        // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
        use ct_codecs::Encoder;
        let h = format!(
            "Basic {}",
            Base64::encode_to_string("swc%5F1:a%2Bb%3Ac").unwrap()
        );
        let req = Request::new(Method::Post, TOKEN_PATH).with_header("authorization", &h);
        assert_eq!(
            client_credentials(&req, &[]).ok(),
            Some(("swc_1".to_owned(), "a+b:c".to_owned()))
        );
    }
}
