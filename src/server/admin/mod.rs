//! The admin API under `/admin/v1`: what the host application and operators
//! use to manage tenants, SCIM tokens, custom extension attributes and
//! settings, and to read and act on users as the application (including
//! retained tombstones). JSON in and out. By area: [`tenants_api`], [`tokens_api`],
//! [`schema`] (the extension URN and custom attributes), [`directory`] (users
//! and groups), [`requests_api`] (the SCIM request log).
//!
//! Authentication is a JWT signed with HS256 by the `ADMIN_JWT_SECRET`
//! secret. Its claims name the scope: `{"scope": "platform"}` for every
//! tenant, or `{"scope": "tenant", "tenant": "<id>"}` for one. A token must
//! carry `exp`. Missing, malformed, wrongly signed or expired tokens are
//! 401; a valid token outside its scope is 403.

use chrono::{DateTime, Utc};

use crate::proto::error::ScimError;
use crate::server::ctx::Platform;
use crate::server::error::Result;
use crate::server::http::{path_segments, Method, Request, Response};
use crate::server::webhooks::Outbound;
use crate::server::{auth, openapi};
use crate::store::{setup_links, timestamp, KeyValue, SqlExecutor};

mod connectors_api;
mod directory;
mod events_api;
pub(crate) mod export_api;
pub(crate) mod jwt;
mod oauth_api;
mod request;
mod requests_api;
mod roles_api;
mod schema;
mod setup;
mod tenants_api;
mod tokens_api;
mod webhooks_api;

use jwt::{verify_with_subject, Scope};
pub(crate) use request::TENANTS_PREFIX;
use request::{Admin, ADMIN_PREFIX};

/// The part of `path` after `/admin/v1`, when the path is the admin API's.
pub(crate) fn route_of(path: &str) -> Option<&str> {
    path.strip_prefix(ADMIN_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Serves a request under `/admin/v1`; `rest` is the path after it.
pub(crate) async fn handle<D: SqlExecutor, K: KeyValue, L, O: Outbound>(
    service: &Platform<'_, D, K, L, O>,
    req: &Request,
    now: DateTime<Utc>,
    rest: &str,
) -> Result<Response> {
    let segments: Vec<String> = path_segments(rest.trim_matches('/'))
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let (["openapi.json"], Method::Get) = (segments.as_slice(), req.method) {
        return Ok(Response::json(200, &openapi::document(&req.origin)));
    }
    let secret = service
        .config
        .admin_jwt_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ScimError::new(
                503,
                None,
                "The admin API is disabled: ADMIN_JWT_SECRET is not set.",
            )
        })?;
    let token = auth::bearer_token(req).ok_or_else(ScimError::unauthorized)?;
    // A setup link's credential is its one tenant's scope while it lives.
    let (scope, subject, via_link) = if token.starts_with(setup::LINK_PREFIX) {
        let link = setup_links::authenticate(
            service.db,
            &auth::sha256_hex(token.as_bytes()),
            &timestamp(now),
        )
        .await?
        .ok_or_else(ScimError::unauthorized)?;
        (
            Scope::Tenant(link.tenant),
            Some(format!("setup-link:{}", link.id)),
            true,
        )
    } else {
        let (scope, subject) = verify_with_subject(token, secret, now)?;
        (scope, subject, false)
    };
    // The shard of the tenant the path names.
    let db = match segments.as_slice() {
        ["tenants", t, ..] if crate::server::ctx::valid_tenant_id(t) => {
            service.shards.of(t, now.timestamp_millis()).await?
        }
        _ => service.db,
    };
    let a = Admin {
        db,
        registry: service.db,
        shards: service.shards,
        kv: service.kv,
        out: service.out,
        config: service.config,
        req,
        now,
        stamp: timestamp(now),
        scope,
        subject,
        notes: service.notes,
        request_id: service.request_id,
        via_link,
    };
    use Method::{Delete, Get, Patch, Post, Put};
    match (segments.as_slice(), req.method) {
        (["whoami"], Get) => Ok(a.whoami()),
        (["tenants"], Get) => a.list_tenants().await,
        (["tenants"], Post) => a.create_tenant().await,
        (["tenants", t], Get) => a.get_tenant(t).await,
        (["tenants", t], Patch) => a.update_tenant(t).await,
        (["tenants", t], Delete) => a.delete_tenant(t).await,
        (["tenants", t, "connection"], Get) => a.connection(t).await,
        (["tenants", t, "export"], Get) => a.export_tenant(t).await,
        (["tenants", t, "import"], Get) => a.import_status(t).await,
        (["tenants", t, "import"], Post) => a.import_tenant(t).await,
        (["tenants", t, "tokens"], Get) => a.list_tokens(t).await,
        (["tenants", t, "tokens"], Post) => a.issue_token(t).await,
        (["tenants", t, "tokens", id], Patch) => a.expire_token(t, id).await,
        (["tenants", t, "tokens", id], Delete) => a.revoke_token(t, id).await,
        (["tenants", t, "tokens", id, "rotate"], Post) => a.rotate_token(t, id).await,
        (["tenants", t, "basic-credentials"], Get) => a.list_basic(t).await,
        (["tenants", t, "basic-credentials"], Post) => a.issue_basic(t).await,
        (["tenants", t, "basic-credentials", id], Delete) => a.revoke_basic(t, id).await,
        (["tenants", t, "setup-links"], Get) => a.list_setup_links(t).await,
        (["tenants", t, "setup-links"], Post) => a.create_setup_link(t).await,
        (["tenants", t, "setup-links", id], Delete) => a.revoke_setup_link(t, id).await,
        (["tenants", t, "oauth", "connect-codes"], Post) => a.create_connect_code(t).await,
        (["tenants", t, "oauth", "grants"], Get) => a.list_grants(t).await,
        (["tenants", t, "oauth", "grants", id], Delete) => a.revoke_grant(t, id).await,
        (["tenants", t, "oauth-clients"], Get) => a.list_oauth_clients(t).await,
        (["tenants", t, "oauth-clients"], Post) => a.create_oauth_client(t).await,
        (["tenants", t, "oauth-clients", id], Get) => a.get_oauth_client(t, id).await,
        (["tenants", t, "oauth-clients", id], Delete) => a.delete_oauth_client(t, id).await,
        (["tenants", t, "oauth-clients", id, "rotate-secret"], Post) => {
            a.rotate_oauth_secret(t, id).await
        }
        (["tenants", t, "schema"], Get) => a.get_schema(t).await,
        (["tenants", t, "schema"], Put) => a.put_schema(t).await,
        (["tenants", t, "schema", "attributes", name], Put) => a.put_attribute(t, name).await,
        (["tenants", t, "schema", "attributes", name], Delete) => a.delete_attribute(t, name).await,
        (["tenants", t, "users"], Get) => a.list_users(t).await,
        (["tenants", t, "users", id], Get) => a.get_user(t, id).await,
        (["tenants", t, "users", id, action], Post) => a.user_action(t, id, action).await,
        (["tenants", t, "groups"], Get) => a.list_groups(t).await,
        (["tenants", t, "groups", id], Get) => a.get_group(t, id).await,
        (["tenants", t, "roles"], Get) => a.list_roles(t).await,
        (["tenants", t, "roles", name], Put) => a.put_role(t, name).await,
        (["tenants", t, "roles", name], Delete) => a.delete_role(t, name).await,
        (["tenants", t, "role-mappings"], Get) => a.get_role_mappings(t).await,
        (["tenants", t, "role-mappings"], Put) => a.put_role_mappings(t).await,
        (["tenants", t, "connectors", "okta"], Get) => a.get_okta(t).await,
        (["tenants", t, "connectors", "okta"], Put) => a.put_okta(t).await,
        (["tenants", t, "connectors", "okta"], Delete) => a.delete_okta(t).await,
        (["tenants", t, "connectors", "okta", "rules"], Put) => a.put_okta_rules(t).await,
        (["tenants", t, "connectors", "okta", "test"], Post) => a.test_okta(t).await,
        (["tenants", t, "connectors", "okta", "users"], Get) => a.search_okta_users(t).await,
        (["tenants", t, "connectors", "okta", "users"], Post) => a.create_okta_user(t).await,
        (["tenants", t, "connectors", "okta", "users", id], Get) => a.get_okta_user(t, id).await,
        (["tenants", t, "connectors", "okta", "users", id, "deactivate"], Post) => {
            a.deactivate_okta_user(t, id).await
        }
        (["tenants", t, "events"], Get) => a.list_events(t).await,
        (["tenants", t, "webhooks"], Get) => a.list_webhooks(t).await,
        (["tenants", t, "webhooks"], Post) => a.create_webhook(t).await,
        (["tenants", t, "webhooks", id], Get) => a.get_webhook(t, id).await,
        (["tenants", t, "webhooks", id], Patch) => a.update_webhook(t, id).await,
        (["tenants", t, "webhooks", id], Delete) => a.delete_webhook(t, id).await,
        (["tenants", t, "webhooks", id, "rotate-secret"], Post) => {
            a.rotate_webhook_secret(t, id).await
        }
        (["tenants", t, "webhooks", id, "test"], Post) => a.test_webhook(t, id).await,
        (["tenants", t, "webhooks", id, "deliveries"], Get) => a.list_deliveries(t, id).await,
        (["tenants", t, "webhooks", id, "deliveries", d, "retry"], Post) => {
            a.retry_delivery(t, id, d).await
        }
        (["tenants", t, "requests"], Get) => a.list_requests(t).await,
        _ => Err(ScimError::not_found(format!(
            "No admin endpoint for {:?} {ADMIN_PREFIX}/{}.",
            req.method,
            segments.join("/")
        ))
        .into()),
    }
}
