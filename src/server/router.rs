//! The SCIM router: which tenant, which endpoint, authentication, and the
//! request turned into a typed operation. This is the only SCIM code that
//! reads the URL, the query string and the headers of a request.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::proto::error::{ScimError, ScimType};
use crate::proto::filter::parse_filter;
use crate::proto::messages::list_response;
use crate::server::ctx::{valid_tenant_id, Ctx, Platform, SCIM_PREFIX};
use crate::server::error::{Error, Result};
use crate::server::events::Actor;
use crate::server::http::{Method, Request, Response};
use crate::server::limits::RateLimit;
use crate::server::list::{Found, ListQuery};
use crate::server::op::{self, Precondition};
use crate::server::resources::{self, list::search, Groups, Users};
use crate::server::schema::{TenantSchema, Typed};
use crate::server::{auth, bulk, discovery, openapi, tokens};
use crate::store::{KeyValue, SqlExecutor};

fn not_found(path: &str) -> Error {
    ScimError::not_found(format!("No endpoint at {path}.")).into()
}

fn not_allowed(allow: &'static str) -> Error {
    Error::MethodNotAllowed { allow }
}

/// Serves a request outside `/admin/v1`.
pub(crate) async fn route<D: SqlExecutor, K: KeyValue, L: RateLimit, O>(
    service: &Platform<'_, D, K, L, O>,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response> {
    let path = req.path.trim_end_matches('/');
    if path.is_empty() {
        return Ok(Response::json(
            200,
            &json!({"service": "scim-worker", "scim": format!("{}{SCIM_PREFIX}<tenant>", req.origin)}),
        ));
    }
    let Some(rest) = path.strip_prefix(SCIM_PREFIX) else {
        return Err(not_found(path));
    };
    if rest == "openapi.json" {
        return match req.method {
            Method::Get => Ok(Response::json(200, &openapi::scim_document(&req.origin))),
            _ => Err(not_allowed("GET")),
        };
    }
    let (tenant, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if !valid_tenant_id(tenant) {
        return Err(not_found(path));
    }
    let token = auth::authenticate(service.kv, req, tenant, now).await?;
    service.notes.set_token(&token.id, &token.label);
    if !service.limiter.allow(&token.id).await {
        return Err(Error::TooManyRequests);
    }
    // The tenant's shard: cached in the isolate, so no read in steady state.
    let db = service.shards.of(tenant, now.timestamp_millis()).await?;
    let ctx = Ctx::new(
        service.config,
        db,
        service.notes,
        &req.origin,
        tenant,
        now,
        service.request_id,
    );
    ctx.events.set_actor(Actor::scim(&token.id, &token.label));
    tokens::touch(service.kv, &token, &ctx.now, req.header("user-agent")).await?;
    let segments = op::segments(rest);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let base = ctx.base_url.as_str();
    let max = ctx.limits.max_results;
    use Method::{Get, Post};
    let body = match (segments.as_slice(), req.method) {
        ([".search"], Post) => {
            let query = ListQuery::from_search(&req.json()?, max)?;
            root_search(&ctx, &query).await?
        }
        ([".search"], _) => return Err(not_allowed("POST")),
        (["ServiceProviderConfig"], Get) => discovery::service_provider_config(
            base,
            &ctx.limits,
            &ctx.settings().await?.authentication,
        ),
        (["Schemas"], Get) => discovery::schemas(&tenant_types(&ctx).await?, base, None)?,
        (["Schemas", id], Get) => discovery::schemas(&tenant_types(&ctx).await?, base, Some(id))?,
        (["ResourceTypes"], Get) => {
            discovery::resource_types(&tenant_types(&ctx).await?, base, None)?
        }
        (["ResourceTypes", id], Get) => {
            discovery::resource_types(&tenant_types(&ctx).await?, base, Some(id))?
        }
        (["ServiceProviderConfig" | "Schemas" | "ResourceTypes", ..], _) => {
            return Err(not_allowed("GET"))
        }
        (["Bulk"], Post) => bulk::run(&ctx, req).await?,
        (["Bulk"], _) => return Err(not_allowed("POST")),
        (["Me", ..], _) => {
            return Err(ScimError::new(501, None, "/Me is not supported by this server.").into())
        }
        _ => {
            let precondition = Precondition {
                if_match: req.header("if-match").map(str::to_owned),
                if_none_match: req.header("if-none-match").map(str::to_owned),
            };
            let op = op::parse(
                req.method,
                &segments,
                &req.params(),
                || req.json(),
                precondition,
                max,
            )
            .ok_or_else(|| not_found(path))??;
            return Ok(resources::run(&ctx, op).await?.into_response());
        }
    };
    Ok(Response::scim(200, &body))
}

/// The resource types of the request's tenant (its User type carries the
/// tenant's custom extension).
async fn tenant_types<D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
) -> Result<Vec<crate::proto::schema::ResourceType>> {
    let users = TenantSchema::load::<Users, D>(ctx).await?;
    Ok(vec![users.rt.into_owned(), Groups::core_type().clone()])
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): Users, then Groups, as one
/// list. A filter that cannot apply to a resource type matches none of it.
async fn root_search<D: SqlExecutor>(ctx: &Ctx<'_, D>, query: &ListQuery) -> Result<Value> {
    if let Some(f) = query.filter.as_deref() {
        // A filter that is not even syntactically valid is 400, whatever
        // the resource type.
        let types = tenant_types(ctx).await?;
        let urns: Vec<&str> = types.iter().flat_map(|rt| rt.all_schema_urns()).collect();
        parse_filter(f, &urns).map_err(|e| ScimError::invalid_filter(e.message))?;
    }
    if query.cursor.is_some() {
        return Err(ScimError::invalid_value(
            "Cursor pagination is offered on /Users and /Groups, not across resource types.",
        )
        .into());
    }
    let offset = query.paging.offset();
    let count = query.paging.count;
    let tolerant = |r: Result<Found>| match r {
        Err(Error::Scim(e))
            if e.scim_type == Some(ScimType::InvalidFilter) && query.filter.is_some() =>
        {
            Ok(Found::default())
        }
        other => other,
    };
    let users = tolerant(search::<Users, D>(ctx, query, (offset, count, None)).await)?;
    let group_offset = offset.saturating_sub(users.total);
    let group_limit = count.saturating_sub(users.resources.len() as u64);
    let groups =
        tolerant(search::<Groups, D>(ctx, query, (group_offset, group_limit, None)).await)?;
    let total = users.total + groups.total;
    let mut found = users.resources;
    found.extend(groups.resources);
    Ok(list_response(total, query.paging.start_index, found))
}
