//! Outbound connectors: the host product acting on the customer's own
//! identity provider. One so far: Okta's Users API ([`okta`]), with the API
//! token kept only sealed ([`seal`]).

use serde_json::{json, Value};

use crate::proto::error::{ScimError, ERROR_SCHEMA};
use crate::server::config::Config;
use crate::server::http::Response;
use crate::server::webhooks::Outbound;
use crate::store::connectors::Connector;

pub(crate) mod okta;
pub(crate) mod seal;

/// The connector kind of Okta's, in paths and rows.
pub(crate) const OKTA: &str = "okta";
/// What the Okta token's encryption key is derived for.
const PURPOSE: &str = "okta-connector-api-token";

/// Who a sealed token belongs to (its associated data).
fn owner(tenant: &str) -> String {
    format!("{tenant}/{OKTA}")
}

/// The deployment's `SECRETS_KEY`, which connectors need.
pub(crate) fn secrets_key(config: &Config) -> Result<&str, ScimError> {
    config.require_secrets("Connectors are")
}

/// Seals tenant `tenant`'s Okta API token.
pub(crate) fn seal_token(config: &Config, tenant: &str, token: &str) -> Result<String, ScimError> {
    seal::seal(secrets_key(config)?, PURPOSE, &owner(tenant), token)
        .map_err(|e| ScimError::new(500, None, format!("The token could not be sealed: {e}.")))
}

/// Opens the stored token of `c`.
pub(crate) fn open_token(
    config: &Config,
    tenant: &str,
    c: &Connector,
) -> Result<String, ScimError> {
    seal::open(
        secrets_key(config)?,
        PURPOSE,
        &owner(tenant),
        &c.token_sealed,
    )
    .map_err(|e| {
        ScimError::new(
            500,
            None,
            format!("The stored Okta API token cannot be opened ({e}); PUT the connector again."),
        )
    })
}

/// The client of `c`'s org with its token.
pub(crate) fn client<'a, O: Outbound>(
    config: &Config,
    out: &'a O,
    c: &'a Connector,
    token: &'a str,
    now: i64,
) -> okta::Okta<'a, O> {
    okta::Okta {
        out,
        org: &c.org_url,
        token,
        now,
        timeout_ms: config.webhooks.timeout_ms,
    }
}

/// The admin API answer of a failed Okta call made to do `what`: an
/// error body with `detail` (what happened, what to do) and `okta` (its
/// error, `errorId` included), and `Retry-After` when rate-limited.
pub(crate) fn failure_response(f: &okta::Failure, what: &str) -> Response {
    let (status, detail, error) = okta::explain(f, what);
    let body = json!({"schemas": [ERROR_SCHEMA], "status": status.to_string(), "detail": detail, "okta": error});
    let r = Response::json(status, &body);
    match f {
        okta::Failure::RateLimited { retry_after, .. } => {
            r.with_header("retry-after", retry_after.to_string())
        }
        _ => r,
    }
}

/// The org URL as stored: `https://<host>` (any case, no trailing slash),
/// with no path, query or credentials; `http://127.0.0.1` only where
/// `WEBHOOK_ALLOW_LOCAL` allows a local stand-in.
pub(crate) fn org_url(url: &str, allow_local: bool) -> Result<String, ScimError> {
    let trimmed = url.trim().trim_end_matches('/');
    crate::server::webhooks::url::check(trimmed, allow_local)
        .map_err(|e| ScimError::invalid_value(format!("orgUrl: {e}")))?;
    let after_scheme = trimmed.split_once("://").map_or("", |(_, r)| r);
    if after_scheme.contains(['/', '?', '#']) {
        return Err(ScimError::invalid_value(
            "orgUrl is the org's address alone, like https://acme.okta.com (no path).",
        ));
    }
    Ok(trimmed.to_owned())
}

/// What the connector's GET shows: never the token, its last four
/// characters only.
pub(crate) fn view(c: &Connector) -> Value {
    json!({"kind": OKTA, "orgUrl": c.org_url, "tokenLast4": c.token_last4, "created": c.created,
           "updated": c.updated, "rules": c.rules, "lastTest": c.last_test})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_org_url_is_an_https_origin() {
        assert_eq!(
            org_url("https://acme.okta.com/", false).unwrap(),
            "https://acme.okta.com"
        );
        assert!(org_url("http://acme.okta.com", false).is_err());
        assert!(org_url("https://acme.okta.com/api/v1", false).is_err());
        assert!(org_url("https://127.0.0.1:9", false).is_err());
        assert_eq!(
            org_url("http://127.0.0.1:8123", true).unwrap(),
            "http://127.0.0.1:8123"
        );
    }
}
