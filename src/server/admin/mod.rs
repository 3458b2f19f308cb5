//! The admin API under `/admin/v1`: what the host application and operators
//! use to manage tenants, SCIM tokens, custom extension attributes and
//! settings, and to read and act on users as the application (including
//! retained tombstones). JSON in and out. By area: [`tenants`], [`tokens`],
//! [`schema`] (custom attributes), [`directory`] (users and groups).
//!
//! Authentication is a JWT signed with HS256 by the `ADMIN_JWT_SECRET`
//! secret. Its claims name the scope: `{"scope": "platform"}` for every
//! tenant, or `{"scope": "tenant", "tenant": "<id>"}` for one. A token must
//! carry `exp`. Missing, malformed, wrongly signed or expired tokens are
//! 401; a valid token outside its scope is 403.

use chrono::{DateTime, Utc};
use jwt_simple::prelude::{Duration, HS256Key, MACLike, UnixTimeStamp, VerificationOptions};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::proto::error::{ScimError, ScimResult};
use crate::server::config::Config;
use crate::server::ctx::Ctx;
use crate::server::error::{Error, Result};
use crate::server::http::{Method, Request, Response};
use crate::server::list::Paging;
use crate::server::router::{segments, valid_tenant_id, SCIM_PREFIX};
use crate::server::{auth, openapi, Service};
use crate::store::page::{Listed, PageSpec};
use crate::store::{tenants, timestamp, KeyValue, SqlExecutor};

mod directory;
mod schema;
mod tenants_api;
mod tokens_api;

pub(crate) const ADMIN_PREFIX: &str = "/admin/v1";
/// Paths about one tenant start with this.
pub(crate) const TENANTS_PREFIX: &str = "/admin/v1/tenants/";

/// The claims of an admin token besides the registered ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminClaims {
    /// `platform` or `tenant`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    Platform,
    Tenant(String),
}

impl Scope {
    fn allows(&self, tenant: &str) -> bool {
        match self {
            Scope::Platform => true,
            Scope::Tenant(t) => t == tenant,
        }
    }

    fn require_platform(&self) -> ScimResult<()> {
        match self {
            Scope::Platform => Ok(()),
            Scope::Tenant(_) => Err(ScimError::forbidden(
                "This operation needs a platform-scoped admin token.",
            )),
        }
    }

    fn require_tenant(&self, tenant: &str) -> ScimResult<()> {
        if self.allows(tenant) {
            Ok(())
        } else {
            Err(ScimError::forbidden(
                "This admin token is scoped to another tenant.",
            ))
        }
    }
}

/// Verifies an admin JWT (HS256) at time `now`.
pub(crate) fn verify(token: &str, secret: &str, now: DateTime<Utc>) -> ScimResult<Scope> {
    let key = HS256Key::from_bytes(secret.as_bytes());
    let options = VerificationOptions {
        // The request time comes from the runtime, not from the library's clock.
        artificial_time: Some(UnixTimeStamp::from_secs(
            u64::try_from(now.timestamp()).unwrap_or(0),
        )),
        time_tolerance: Some(Duration::from_secs(30)),
        ..VerificationOptions::default()
    };
    let claims = key
        .verify_token::<AdminClaims>(token, Some(options))
        .map_err(|_| ScimError::unauthorized())?;
    if claims.expires_at.is_none() {
        return Err(ScimError::unauthorized());
    }
    match (claims.custom.scope.as_str(), claims.custom.tenant) {
        ("platform", _) => Ok(Scope::Platform),
        ("tenant", Some(t)) if valid_tenant_id(&t) => Ok(Scope::Tenant(t)),
        _ => Err(ScimError::unauthorized()),
    }
}

/// The part of `path` after `/admin/v1`, when the path is the admin API's.
pub(crate) fn route_of(path: &str) -> Option<&str> {
    path.strip_prefix(ADMIN_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Serves a request under `/admin/v1`; `rest` is the path after it.
pub(crate) async fn handle<D: SqlExecutor, K: KeyValue, L>(
    service: &Service<'_, D, K, L>,
    req: &Request,
    now: DateTime<Utc>,
    rest: &str,
) -> Result<Response> {
    let segments: Vec<String> = segments(rest.trim_matches('/'))
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
    let scope = verify(token, secret, now)?;
    let a = Admin {
        db: service.db,
        kv: service.kv,
        config: service.config,
        req,
        now,
        stamp: timestamp(now),
        scope,
    };
    use Method::{Delete, Get, Patch, Post, Put};
    match (segments.as_slice(), req.method) {
        (["tenants"], Get) => a.list_tenants().await,
        (["tenants"], Post) => a.create_tenant().await,
        (["tenants", t], Get) => a.get_tenant(t).await,
        (["tenants", t], Patch) => a.update_tenant(t).await,
        (["tenants", t], Delete) => a.delete_tenant(t).await,
        (["tenants", t, "tokens"], Get) => a.list_tokens(t).await,
        (["tenants", t, "tokens"], Post) => a.issue_token(t).await,
        (["tenants", t, "tokens", id], Patch) => a.expire_token(t, id).await,
        (["tenants", t, "tokens", id], Delete) => a.revoke_token(t, id).await,
        (["tenants", t, "tokens", id, "rotate"], Post) => a.rotate_token(t, id).await,
        (["tenants", t, "schema"], Get) => a.get_schema(t).await,
        (["tenants", t, "schema", "attributes", name], Put) => a.put_attribute(t, name).await,
        (["tenants", t, "schema", "attributes", name], Delete) => a.delete_attribute(t, name).await,
        (["tenants", t, "users"], Get) => a.list_users(t).await,
        (["tenants", t, "users", id], Get) => a.get_user(t, id).await,
        (["tenants", t, "users", id, action], Post) => a.user_action(t, id, action).await,
        (["tenants", t, "groups"], Get) => a.list_groups(t).await,
        (["tenants", t, "groups", id], Get) => a.get_group(t, id).await,
        _ => Err(ScimError::not_found(format!(
            "No admin endpoint for {:?} {ADMIN_PREFIX}/{}.",
            req.method,
            segments.join("/")
        ))
        .into()),
    }
}

/// One admin request: who asks (its scope), at what time, with what.
struct Admin<'a, D, K> {
    db: &'a D,
    kv: &'a K,
    config: &'a Config,
    req: &'a Request,
    now: DateTime<Utc>,
    /// `now` in the stored timestamp form.
    stamp: String,
    scope: Scope,
}

fn parse_body<T: for<'de> Deserialize<'de>>(req: &Request) -> ScimResult<T> {
    serde_json::from_slice(&req.body)
        .map_err(|e| ScimError::invalid_syntax(format!("Invalid request body: {e}")))
}

fn parse_body_or_default<T: for<'de> Deserialize<'de> + Default>(req: &Request) -> ScimResult<T> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_body(req)
    }
}

impl<D: SqlExecutor, K: KeyValue> Admin<'_, D, K> {
    fn base_url(&self, tenant: &str) -> String {
        format!("{}{SCIM_PREFIX}{tenant}", self.req.origin)
    }

    /// The tenant, after checking the token may act on it.
    async fn tenant(&self, id: &str) -> Result<tenants::Tenant> {
        self.scope.require_tenant(id)?;
        tenants::get(self.db, id)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("Tenant {id} not found.")).into())
    }

    /// The resource pipeline's view of `tenant`.
    fn ctx(&self, tenant: &str) -> Ctx<'_, D> {
        Ctx::new(self.config, self.db, &self.req.origin, tenant, self.now)
    }

    /// The page a list request asks for (`startIndex`, `count`), and its
    /// window for the store.
    fn page(&self) -> ScimResult<(Paging, PageSpec<'static>)> {
        let paging = Paging::of(&self.req.params(), self.config.limits.max_results)?;
        let spec = PageSpec {
            offset: paging.offset(),
            limit: paging.count,
            ..PageSpec::default()
        };
        Ok((paging, spec))
    }
}

/// A list answer of the admin API: `{totalResults, startIndex, <key>: [...]}`
/// with each listed resource as `item` gives it.
fn page_response<T>(
    paging: &Paging,
    key: &str,
    listed: Listed<T>,
    item: impl FnMut(T) -> Value,
) -> Response {
    let items: Vec<Value> = listed.items.into_iter().map(item).collect();
    let mut body = Map::new();
    body.insert("totalResults".into(), json!(listed.total));
    body.insert("startIndex".into(), json!(paging.start_index));
    body.insert(key.into(), Value::Array(items));
    Response::json(200, &Value::Object(body))
}

/// 404 for a tenant's `what` (a token, an attribute...).
fn missing(what: &str) -> Error {
    ScimError::not_found(format!("{what} not found.")).into()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sign;

    const SECRET: &str = "a-test-secret-that-is-32-bytes-long";

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn platform_and_tenant_scopes_verify() {
        let t = sign(
            AdminClaims {
                scope: "platform".into(),
                tenant: None,
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        assert_eq!(verify(&t, SECRET, now()).unwrap(), Scope::Platform);
        let t = sign(
            AdminClaims {
                scope: "tenant".into(),
                tenant: Some("acme".into()),
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        let scope = verify(&t, SECRET, now()).unwrap();
        assert_eq!(scope, Scope::Tenant("acme".into()));
        assert_eq!(scope.require_tenant("other").unwrap_err().status, 403);
        assert_eq!(scope.require_platform().unwrap_err().status, 403);
    }

    #[test]
    fn wrong_key_expired_or_malformed_tokens_are_401() {
        let t = sign(
            AdminClaims {
                scope: "platform".into(),
                tenant: None,
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        assert_eq!(
            verify(&t, "another-secret-of-at-least-32-bytes!", now())
                .unwrap_err()
                .status,
            401
        );
        // Two hours later the one-hour token has expired.
        let later = now() + chrono::Duration::hours(2);
        assert_eq!(verify(&t, SECRET, later).unwrap_err().status, 401);
        assert_eq!(verify("not.a.jwt", SECRET, now()).unwrap_err().status, 401);
        let bad_scope = sign(
            AdminClaims {
                scope: "tenant".into(),
                tenant: Some("Bad_Id".into()),
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        assert_eq!(verify(&bad_scope, SECRET, now()).unwrap_err().status, 401);
    }
}
