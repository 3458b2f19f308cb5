//! The router: which tenant, which endpoint, and authentication. Every
//! handler error becomes a SCIM Error response here and nowhere else.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::auth;
use crate::error::{ScimError, ScimResult};
use crate::http::{Method, Request, Response};
use crate::query::timestamp;
use crate::store::{KeyValue, SqlExecutor};
use crate::users;

/// Where SCIM lives: `/scim/v2/<tenant>/...`.
pub const SCIM_PREFIX: &str = "/scim/v2/";

/// What a handler needs to know about the request it serves.
pub struct Ctx<'a, D, K> {
    pub db: &'a D,
    pub kv: &'a K,
    pub tenant: String,
    /// The tenant's SCIM base URL, e.g. `https://host/scim/v2/acme`.
    pub base_url: String,
    /// The request time in the stored timestamp form.
    pub now: String,
}

/// A tenant id: lowercase letters, digits and `-` (never `_`, which Okta
/// rejects in base URLs), 1 to 63 characters, not starting or ending with `-`.
pub fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Serves one request.
pub async fn handle<D: SqlExecutor, K: KeyValue>(
    db: &D,
    kv: &K,
    req: &Request,
    now: DateTime<Utc>,
) -> Response {
    match route(db, kv, req, now).await {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

async fn route<D: SqlExecutor, K: KeyValue>(
    db: &D,
    kv: &K,
    req: &Request,
    now: DateTime<Utc>,
) -> ScimResult<Response> {
    let path = req.path.trim_end_matches('/');
    if path.is_empty() {
        return Ok(Response::json(
            200,
            &json!({"service": "scim-worker", "scim": format!("{}{SCIM_PREFIX}<tenant>", req.origin)}),
        ));
    }
    let Some(rest) = path.strip_prefix(SCIM_PREFIX) else {
        return Err(ScimError::not_found(format!("No endpoint at {path}.")));
    };
    let mut segments = rest.split('/');
    let tenant = segments.next().unwrap_or_default();
    if !valid_tenant_id(tenant) {
        return Err(ScimError::not_found(format!("No endpoint at {path}.")));
    }
    auth::authenticate(kv, req, tenant, now).await?;
    let ctx = Ctx {
        db,
        kv,
        tenant: tenant.to_owned(),
        base_url: format!("{}{SCIM_PREFIX}{tenant}", req.origin),
        now: timestamp(now),
    };
    let segments: Vec<&str> = segments.collect();
    match (segments.as_slice(), req.method) {
        (["Users"], Method::Get) => users::list(&ctx, req).await,
        (["Users"], Method::Post) => users::create(&ctx, req).await,
        (["Users"], _) => Err(ScimError::method_not_allowed("Use GET or POST on /Users.")),
        (["Users", id], Method::Get) => users::get(&ctx, req, id).await,
        (["Users", id], Method::Put) => users::replace(&ctx, req, id).await,
        (["Users", id], Method::Delete) => users::delete(&ctx, id).await,
        (["Users", _], _) => Err(ScimError::method_not_allowed(
            "Use GET, PUT or DELETE on /Users/{id}.",
        )),
        _ => Err(ScimError::not_found(format!("No endpoint at {path}."))),
    }
}
