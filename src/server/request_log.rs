//! The SCIM request log: what one served SCIM request leaves for its
//! tenant's operators (`GET /admin/v1/tenants/{t}/requests`). An entry holds
//! the time, request id, method, path and query (secret parameters
//! redacted, [`redact_query`]), status, an error's
//! `scimType` and `detail` (as the client got them), duration, the token's
//! id and label, the `User-Agent`, the leniencies applied, and the body with
//! every secret redacted ([`redact`]) and capped at [`MAX_BODY_BYTES`]. It
//! never holds the `Authorization` header or a token. Admin API requests
//! are not logged; a request no token authenticated (a 401) is logged
//! without its body. Which requests are kept is the tenant's `requestLog`
//! setting, decided inside the statement (`requests::record_all`) unless the request read it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::server::ctx::{valid_tenant_id, SCIM_PREFIX};
use crate::server::http::{Method, Request, Response};
use crate::server::log::{self, Note, Token};
use crate::store::requests::{Entry, Pending};
use crate::store::tenants::RequestLog;
use crate::store::timestamp;

/// The most of a request body an entry keeps (of its compact, redacted
/// JSON); the rest is cut and the cut marked.
pub(crate) const MAX_BODY_BYTES: usize = 4096;
/// The most of a path, query or `User-Agent` an entry keeps.
const MAX_TEXT_BYTES: usize = 2048;
/// What a secret's value becomes.
pub(crate) const REDACTED: &str = "[redacted]";

/// One served request, as the request log sees it.
pub(crate) struct Served<'a> {
    pub req: &'a Request,
    pub response: &'a Response,
    pub request_id: &'a str,
    /// What the request was let through.
    pub notes: &'a [Note],
    /// The SCIM token that authenticated it, if one did.
    pub token: Option<&'a Token>,
    /// The tenant's `requestLog` setting, if the request read it.
    pub setting: Option<RequestLog>,
    pub at: DateTime<Utc>,
    pub duration_ms: f64,
}

/// The tenant of a SCIM request's path (`/scim/v2/<tenant>/...`); `None`
/// for every other path (the admin API, the SCIM OpenAPI document).
fn scim_tenant(path: &str) -> Option<&str> {
    let rest = path.trim_end_matches('/').strip_prefix(SCIM_PREFIX)?;
    let tenant = rest.split('/').next()?;
    valid_tenant_id(tenant).then_some(tenant)
}

/// The entry that records `s` in its tenant's request log, or `None` when
/// it is no SCIM request of a tenant, or a successful GET the tenant's
/// setting (read by the request) does not keep. The statement that records
/// it writes nothing for a tenant that does not exist, nor for a successful
/// GET unless the tenant's setting is `requestLog: "all"`.
pub(crate) fn entry(s: &Served<'_>) -> Option<Pending> {
    let tenant = scim_tenant(&s.req.path)?;
    let status = s.response.status;
    let error = if status >= 400 {
        s.response.json_body()
    } else {
        None
    };
    let of_error = |k: &str| {
        let v = error.as_ref()?.get(k)?.as_str()?;
        Some(v.to_owned())
    };
    let text = |t: &str| (!t.is_empty()).then(|| cap(t, MAX_TEXT_BYTES));
    let entry = Entry {
        at: timestamp(s.at),
        request_id: s.request_id.to_owned(),
        method: s.req.method.as_str().to_owned(),
        path: cap(&s.req.path, MAX_TEXT_BYTES),
        query: text(&redact_query(&s.req.query)),
        status,
        scim_type: of_error("scimType"),
        detail: of_error("detail"),
        duration_ms: s.duration_ms.max(0.0).round() as i64,
        token_id: s.token.map(|t| t.id.clone()),
        token_label: s.token.map(|t| t.label.clone()),
        user_agent: s.req.header("user-agent").and_then(text),
        leniencies: log::leniencies(s.notes).to_string(),
        // Only an authenticated client's body: anyone can send a 401.
        body: s.token.and_then(|_| body_text(&s.req.body)),
    };
    let always = s.req.method != Method::Get || status >= 400;
    // A successful GET is kept only under `requestLog: "all"`: when the
    // request read the setting (a Users lookup reads it with the schema),
    // a GET under the default costs no statement at all; otherwise the
    // statement itself looks it up.
    let always = match (always, s.setting) {
        (true, _) | (false, Some(RequestLog::All)) => true,
        (false, Some(RequestLog::WritesAndErrors)) => return None,
        (false, None) => false,
    };
    Some(Pending {
        tenant: tenant.to_owned(),
        entry,
        always,
    })
}

/// The body as an entry keeps it: JSON with its secrets redacted, compact
/// (members in the order sent) and capped at [`MAX_BODY_BYTES`]; anything else only as its size;
/// `None` when there is none.
pub(crate) fn body_text(body: &[u8]) -> Option<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(match serde_json::from_slice::<Value>(body) {
        Ok(mut json) => {
            redact(&mut json);
            cap(&json.to_string(), MAX_BODY_BYTES)
        }
        Err(_) => format!("[{} bytes, not JSON]", body.len()),
    })
}

/// Whether a member of this name holds a secret: `password`, `token`,
/// `secret`, `client_secret`, `access_token`, `refresh_token`, or any name
/// with `password` or `secret` in it, in any case.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "token" | "client_secret" | "access_token" | "refresh_token"
    ) || name.contains("password")
        || name.contains("secret")
}

/// Whether a PATCH `path` (`password`, `urn:...:User:password`) names a
/// secret attribute; a value filter (`emails[type eq "x"]`) is not read.
fn names_secret(path: &str) -> bool {
    let mut depth = 0usize;
    let outside: String = path
        .chars()
        .filter(|c| {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    outside.split([':', '.']).any(is_secret)
}

/// Replaces, at any depth, the value of every member that holds a secret
/// (see [`is_secret`]) with `"[redacted]"`; and the `value` of an object
/// whose `path` names one (a PATCH operation setting a password).
pub(crate) fn redact(json: &mut Value) {
    match json {
        Value::Object(members) => {
            let secret_path = members.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("path") && v.as_str().is_some_and(names_secret)
            });
            for (k, v) in members.iter_mut() {
                if is_secret(k) || (secret_path && k.eq_ignore_ascii_case("value")) {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A raw query string with the value of every parameter whose name holds a
/// secret (see [`is_secret`]: `?access_token=...`, as RFC 6750 §2.3 lets a
/// client send its token) replaced by `[redacted]`; the rest kept as sent.
pub(crate) fn redact_query(raw: &str) -> String {
    let pairs: Vec<String> = raw
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let decoded: String = form_urlencoded::parse(name.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            if is_secret(&decoded) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    pairs.join("&")
}

/// `text` cut to at most `max` bytes (at a character boundary) and marked
/// `…[cut: N bytes in all]`, when it is longer.
pub(crate) fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let kept = text.get(..end).unwrap_or_default();
    format!("{kept}…[cut: {} bytes in all]", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_in_patch_values() {
        let mut body = json!({
            "userName": "ann",
            "password": "hunter2",
            "Token": "t-1",
            "urn:acme:User": {"oldPassword": "a", "apiSecret": "b", "tokens": 3},
            "Operations": [
                {"op": "replace", "path": "password", "value": "c"},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD", "value": "d"},
                {"op": "replace", "value": {"password": "e", "displayName": "Ann"}},
                {"op": "add", "path": "emails[type eq \"password\"].value", "value": "ann@x"},
                {"op": "replace", "path": "title", "value": "Boss"}
            ],
            "x": {"client_secret": "f", "access_token": "g", "Refresh_Token": "h"}
        });
        redact(&mut body);
        let r = REDACTED;
        assert_eq!(
            body,
            json!({
                "userName": "ann",
                "password": r,
                "Token": r,
                "urn:acme:User": {"oldPassword": r, "apiSecret": r, "tokens": 3},
                "Operations": [
                    {"op": "replace", "path": "password", "value": r},
                    {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD", "value": r},
                    {"op": "replace", "value": {"password": r, "displayName": "Ann"}},
                    {"op": "add", "path": "emails[type eq \"password\"].value", "value": "ann@x"},
                    {"op": "replace", "path": "title", "value": "Boss"}
                ],
                "x": {"client_secret": r, "access_token": r, "Refresh_Token": r}
            })
        );
    }

    #[test]
    fn bodies_are_kept_as_compact_redacted_json_or_as_their_size() {
        assert_eq!(
            body_text(br#"{ "userName": "ann", "password": "x" }"#).as_deref(),
            Some(r#"{"userName":"ann","password":"[redacted]"}"#)
        );
        assert_eq!(
            body_text(b"userName=ann&password=x").as_deref(),
            Some("[23 bytes, not JSON]")
        );
        assert_eq!(body_text(b""), None);
        assert_eq!(body_text(b" \n"), None);
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_and_marked() {
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("abcd", 3), "abc…[cut: 4 bytes in all]");
        // 'é' is two bytes: a cut inside it keeps the whole character out.
        assert_eq!(cap("aéb", 2), "a…[cut: 4 bytes in all]");
        let big = json!({"note": "x".repeat(5000)}).to_string();
        let kept = body_text(big.as_bytes()).unwrap();
        assert!(kept.starts_with(&big[..MAX_BODY_BYTES]), "{kept}");
        assert!(kept.ends_with("…[cut: 5011 bytes in all]"), "{kept}");
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        assert_eq!(
            redact_query("filter=userName%20eq%20%22a%22&access_token=abc&Client%5Fsecret=x&count=2"),
            "filter=userName%20eq%20%22a%22&access_token=[redacted]&Client%5Fsecret=[redacted]&count=2"
        );
        assert_eq!(redact_query(""), "");
        assert_eq!(redact_query("startIndex=1&"), "startIndex=1&");
    }

    #[test]
    fn only_scim_paths_of_a_tenant_are_logged() {
        assert_eq!(scim_tenant("/scim/v2/acme/Users/1"), Some("acme"));
        assert_eq!(scim_tenant("/scim/v2/acme/"), Some("acme"));
        assert_eq!(scim_tenant("/scim/v2/openapi.json"), None);
        assert_eq!(scim_tenant("/admin/v1/tenants/acme/requests"), None);
        assert_eq!(scim_tenant("/"), None);
    }
}
