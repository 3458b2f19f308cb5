//! The router: which tenant, which endpoint, and authentication. Every
//! handler error becomes a SCIM Error response here and nowhere else.

use chrono::{DateTime, Utc};
use serde_json::json;

use percent_encoding::percent_decode_str;

use crate::proto::error::{ScimError, ScimResult, ScimType};
use crate::proto::filter::parse_filter;
use crate::proto::messages::list_response;
use crate::proto::schema::{group_resource_type, ResourceType};
use crate::server::admin;
use crate::server::auth;
use crate::server::bulk;
use crate::server::config::{Config, Limits};
use crate::server::discovery;
use crate::server::groups;
use crate::server::http::{Method, Request, Response};
use crate::server::limits::{self, RateLimit, Unlimited};
use crate::server::list::{Found, ListQuery};
use crate::server::openapi;
use crate::server::tokens;
use crate::server::users;
use crate::store::query::timestamp;
use crate::store::{KeyValue, SqlExecutor};

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
    /// The vendor part of custom extension URNs.
    pub vendor: String,
    /// The request limits of this deployment.
    pub limits: Limits,
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

/// Serves one request with the default configuration and no rate limit.
pub async fn handle<D: SqlExecutor, K: KeyValue>(
    db: &D,
    kv: &K,
    req: &Request,
    now: DateTime<Utc>,
) -> Response {
    handle_with(&Config::default(), db, kv, &Unlimited, req, now).await
}

/// Serves one request.
pub async fn handle_with<D: SqlExecutor, K: KeyValue, L: RateLimit>(
    config: &Config,
    db: &D,
    kv: &K,
    limiter: &L,
    req: &Request,
    now: DateTime<Utc>,
) -> Response {
    let max_bytes = config.limits.max_request_bytes;
    if req.body.len() > max_bytes {
        return ScimError::payload_too_large(format!(
            "The request body is larger than {max_bytes} bytes."
        ))
        .into();
    }
    let path = req.path.trim_end_matches('/');
    if let Some(rest) = path.strip_prefix(admin::ADMIN_PREFIX) {
        if rest.is_empty() || rest.starts_with('/') {
            return admin::handle(db, kv, config, req, now, rest).await;
        }
    }
    match route(config, db, kv, limiter, req, now).await {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

async fn route<D: SqlExecutor, K: KeyValue, L: RateLimit>(
    config: &Config,
    db: &D,
    kv: &K,
    limiter: &L,
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
    if rest == "openapi.json" {
        return match req.method {
            Method::Get => Ok(Response::json(200, &openapi::scim_document(&req.origin))),
            _ => not_allowed("GET"),
        };
    }
    let mut segments = rest.split('/');
    let tenant = segments.next().unwrap_or_default();
    if !valid_tenant_id(tenant) {
        return Err(ScimError::not_found(format!("No endpoint at {path}.")));
    }
    let token = auth::authenticate(kv, req, tenant, now).await?;
    if !limiter.allow(&token.id).await {
        return Ok(limits::too_many_requests());
    }
    let ctx = Ctx {
        db,
        kv,
        tenant: tenant.to_owned(),
        base_url: format!("{}{SCIM_PREFIX}{tenant}", req.origin),
        now: timestamp(now),
        vendor: config.vendor.clone(),
        limits: config.limits,
    };
    tokens::touch(kv, &token, &ctx.now).await?;
    let segments: Vec<String> = segments.map(decode_segment).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let base = ctx.base_url.as_str();
    let max = ctx.limits.max_results;
    use Method::{Get, Post};
    match (segments.as_slice(), req.method) {
        ([".search"], Post) => root_search(&ctx, &ListQuery::from_search(&req.json()?, max)?).await,
        ([".search"], _) => not_allowed("POST"),
        (["ServiceProviderConfig"], Get) => Ok(Response::scim(
            200,
            &discovery::service_provider_config(base, &ctx.limits),
        )),
        (["Schemas"], Get) => discovery::schemas(&tenant_types(&ctx).await?, base, None),
        (["Schemas", id], Get) => discovery::schemas(&tenant_types(&ctx).await?, base, Some(id)),
        (["ResourceTypes"], Get) => {
            discovery::resource_type_list(&tenant_types(&ctx).await?, base, None)
        }
        (["ResourceTypes", id], Get) => {
            discovery::resource_type_list(&tenant_types(&ctx).await?, base, Some(id))
        }
        (["ServiceProviderConfig" | "Schemas" | "ResourceTypes", ..], _) => not_allowed("GET"),
        (["Bulk"], Post) => bulk::run(&ctx, req).await,
        (["Bulk"], _) => not_allowed("POST"),
        (["Me", ..], _) => Err(not_implemented("/Me")),
        _ => resource(&ctx, req, &segments)
            .await
            .unwrap_or_else(|| Err(ScimError::not_found(format!("No endpoint at {path}.")))),
    }
}

/// The resource types of the request's tenant (its User type carries the
/// tenant's custom extension).
async fn tenant_types<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
) -> ScimResult<Vec<ResourceType>> {
    Ok(vec![
        users::resource_type(ctx).await?,
        group_resource_type(),
    ])
}

/// A percent-decoded path segment (ids and schema URNs may be encoded).
pub fn decode_segment(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The /Users and /Groups endpoints; `None` when the path names neither.
/// Bulk operations are dispatched here too.
pub async fn resource<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    segments: &[&str],
) -> Option<ScimResult<Response>> {
    use Method::{Delete, Get, Patch, Post, Put};
    let max = ctx.limits.max_results;
    Some(match (segments, req.method) {
        (["Users"], Get) => match ListQuery::from_query(req, max) {
            Ok(q) => users::list(ctx, &q).await,
            Err(e) => Err(e),
        },
        (["Users"], Post) => users::create(ctx, req).await,
        (["Users"], _) => not_allowed("GET, POST"),
        (["Users", ".search"], Post) => {
            match req.json().and_then(|b| ListQuery::from_search(&b, max)) {
                Ok(q) => users::list(ctx, &q).await,
                Err(e) => Err(e),
            }
        }
        (["Users", ".search"], _) => not_allowed("POST"),
        (["Users", id], Get) => users::get(ctx, req, id).await,
        (["Users", id], Put) => users::replace(ctx, req, id).await,
        (["Users", id], Delete) => users::delete(ctx, req, id).await,
        (["Users", id], Patch) => users::patch(ctx, req, id).await,
        (["Users", _], _) => not_allowed("GET, PUT, PATCH, DELETE"),
        (["Groups"], Get) => match ListQuery::from_query(req, max) {
            Ok(q) => groups::list(ctx, &q).await,
            Err(e) => Err(e),
        },
        (["Groups"], Post) => groups::create(ctx, req).await,
        (["Groups"], _) => not_allowed("GET, POST"),
        (["Groups", ".search"], Post) => {
            match req.json().and_then(|b| ListQuery::from_search(&b, max)) {
                Ok(q) => groups::list(ctx, &q).await,
                Err(e) => Err(e),
            }
        }
        (["Groups", ".search"], _) => not_allowed("POST"),
        (["Groups", id], Get) => groups::get(ctx, req, id).await,
        (["Groups", id], Put) => groups::replace(ctx, req, id).await,
        (["Groups", id], Delete) => groups::delete(ctx, req, id).await,
        (["Groups", id], Patch) => groups::patch(ctx, req, id).await,
        (["Groups", _], _) => not_allowed("GET, PUT, PATCH, DELETE"),
        _ => return None,
    })
}

fn not_allowed(allow: &str) -> ScimResult<Response> {
    Ok(Response::from(ScimError::method_not_allowed(format!(
        "This endpoint supports {allow}."
    )))
    .with_header("allow", allow))
}

fn not_implemented(what: &str) -> ScimError {
    ScimError::new(
        501,
        None,
        format!("{what} is not supported by this server."),
    )
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): Users, then Groups, as one
/// list. A filter that cannot apply to a resource type matches none of it.
async fn root_search<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    query: &ListQuery,
) -> ScimResult<Response> {
    if let Some(f) = query.filter.as_deref() {
        // A filter that is not even syntactically valid is 400, whatever
        // the resource type.
        let urns: Vec<String> = tenant_types(ctx)
            .await?
            .iter()
            .flat_map(|rt| rt.all_schema_urns().into_iter().map(str::to_owned))
            .collect();
        let urns: Vec<&str> = urns.iter().map(String::as_str).collect();
        parse_filter(f, &urns).map_err(|e| ScimError::invalid_filter(e.message))?;
    }
    if query.cursor.is_some() {
        return Err(ScimError::invalid_value(
            "Cursor pagination is offered on /Users and /Groups, not across resource types.",
        ));
    }
    let offset = query.paging.offset();
    let count = query.paging.count;
    let tolerant = |r: ScimResult<Found>| match r {
        Err(e) if e.scim_type == Some(ScimType::InvalidFilter) && query.filter.is_some() => {
            Ok(Found::default())
        }
        other => other,
    };
    let users = tolerant(users::search(ctx, query, offset, count, None).await)?;
    let group_offset = offset.saturating_sub(users.total);
    let group_limit = count.saturating_sub(users.resources.len() as u64);
    let groups = tolerant(groups::search(ctx, query, group_offset, group_limit, None).await)?;
    let total = users.total + groups.total;
    let mut resources = users.resources;
    resources.extend(groups.resources);
    Ok(Response::scim(
        200,
        &list_response(total, query.paging.start_index, resources),
    ))
}
