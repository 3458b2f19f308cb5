//! The admin API under `/admin/v1`: what the host application and operators
//! use to manage tenants, SCIM tokens, custom extension attributes and
//! settings, and to read and act on users as the application (including
//! retained tombstones). JSON in and out.
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
use crate::proto::schema::ResourceType;
use crate::server::config::Config;
use crate::server::extension::{self, AttributeDef};
use crate::server::http::{Method, Request, Response};
use crate::server::list::Paging;
use crate::server::service::{valid_tenant_id, Ctx, SCIM_PREFIX};
use crate::store::tenants::{self, Settings};
use crate::store::{
    groups as group_store, users as user_store, DbError, KeyValue, Listed, PageSpec, SqlExecutor,
};
use crate::{server::groups, server::openapi, server::tokens, server::users};

pub const ADMIN_PREFIX: &str = "/admin/v1";

/// HS256 keys shorter than this are refused (as jwt-simple does).
pub const MIN_SECRET_LEN: usize = 32;

/// The claims of an admin token besides the registered ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminClaims {
    /// `platform` or `tenant`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
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
pub fn verify(token: &str, secret: &str, now: DateTime<Utc>) -> ScimResult<Scope> {
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

/// Signs an admin JWT valid for `valid_for` from now (used by tests and
/// tooling; the worker itself only verifies).
pub fn sign(claims: AdminClaims, secret: &str, valid_for: Duration) -> ScimResult<String> {
    let key = HS256Key::from_bytes(secret.as_bytes());
    key.authenticate(jwt_simple::claims::Claims::with_custom_claims(
        claims, valid_for,
    ))
    .map_err(|e| ScimError::internal(format!("Cannot sign: {e}")))
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::json(status, body)
}

/// Admin errors: the same fields as SCIM errors, as `application/json`.
fn error_response(e: &ScimError) -> Response {
    let r = json_response(e.status, &e.to_json());
    if e.status == 401 {
        r.with_header("www-authenticate", "Bearer")
    } else {
        r
    }
}

fn db_error(e: DbError) -> ScimError {
    match e {
        DbError::Unique(_) => ScimError::uniqueness("That already exists."),
        other => ScimError::internal(format!("Storage error: {other}")),
    }
}

/// Serves a request under `/admin/v1`.
pub async fn handle<D: SqlExecutor, K: KeyValue>(
    db: &D,
    kv: &K,
    config: &Config,
    req: &Request,
    now: DateTime<Utc>,
    rest: &str,
) -> Response {
    match route(db, kv, config, req, now, rest).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

async fn route<D: SqlExecutor, K: KeyValue>(
    db: &D,
    kv: &K,
    config: &Config,
    req: &Request,
    now: DateTime<Utc>,
    rest: &str,
) -> ScimResult<Response> {
    let segments: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(crate::server::service::decode_segment)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let (["openapi.json"], Method::Get) = (segments.as_slice(), req.method) {
        return Ok(json_response(200, &openapi::document(&req.origin)));
    }
    let secret = config
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
    let token = crate::server::auth::bearer_token(req).ok_or_else(ScimError::unauthorized)?;
    let scope = verify(token, secret, now)?;
    let a = Admin {
        db,
        kv,
        config,
        req,
        now: crate::store::query::timestamp(now),
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
        ))),
    }
}

struct Admin<'a, D, K> {
    db: &'a D,
    kv: &'a K,
    config: &'a Config,
    req: &'a Request,
    now: String,
    scope: Scope,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewTenant {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    settings: Option<Settings>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TenantUpdate {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    settings: Option<Settings>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    label: Option<String>,
    /// RFC 3339 expiry.
    #[serde(default)]
    expires: Option<String>,
    /// Or a lifetime in days.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenUpdate {
    /// RFC 3339 expiry; `null` clears it. `"now"` expires the token at once.
    expires: Option<String>,
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

fn check_expiry(expires: &str) -> ScimResult<String> {
    DateTime::parse_from_rfc3339(expires)
        .map(|t| crate::store::query::timestamp(t.with_timezone(&Utc)))
        .map_err(|_| {
            ScimError::invalid_value(format!("expires must be RFC 3339, not '{expires}'."))
        })
}

impl<D: SqlExecutor, K: KeyValue> Admin<'_, D, K> {
    fn base_url(&self, tenant: &str) -> String {
        format!("{}{SCIM_PREFIX}{tenant}", self.req.origin)
    }

    fn tenant_json(&self, t: &tenants::Tenant) -> Value {
        let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("scimBaseUrl".into(), Value::String(self.base_url(&t.id)));
            o.insert(
                "schemaUrn".into(),
                Value::String(extension::urn(&self.config.vendor, &t.id)),
            );
        }
        v
    }

    /// The tenant, after checking the token may act on it.
    async fn tenant(&self, id: &str) -> ScimResult<tenants::Tenant> {
        self.scope.require_tenant(id)?;
        tenants::get(self.db, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ScimError::not_found(format!("Tenant {id} not found.")))
    }

    async fn list_tenants(&self) -> ScimResult<Response> {
        self.scope.require_platform()?;
        let list = tenants::list(self.db).await.map_err(db_error)?;
        let items: Vec<Value> = list.iter().map(|t| self.tenant_json(t)).collect();
        Ok(json_response(200, &json!({"tenants": items})))
    }

    async fn create_tenant(&self) -> ScimResult<Response> {
        self.scope.require_platform()?;
        let body: NewTenant = parse_body(self.req)?;
        if !valid_tenant_id(&body.id) {
            return Err(ScimError::invalid_value(
                "A tenant id is 1-63 lowercase letters, digits and '-' (no '_', which Okta rejects in base URLs), not starting or ending with '-'.",
            ));
        }
        let name = body.name.unwrap_or_else(|| body.id.clone());
        let settings = body.settings.unwrap_or_default();
        tenants::insert(self.db, &body.id, &name, &settings, &self.now)
            .await
            .map_err(|e| match e {
                DbError::Unique(_) => {
                    ScimError::uniqueness(format!("Tenant {} already exists.", body.id))
                }
                other => db_error(other),
            })?;
        let t = self.tenant(&body.id).await?;
        Ok(json_response(201, &self.tenant_json(&t)).with_header(
            "location",
            format!("{}{ADMIN_PREFIX}/tenants/{}", self.req.origin, t.id),
        ))
    }

    async fn get_tenant(&self, id: &str) -> ScimResult<Response> {
        let t = self.tenant(id).await?;
        Ok(json_response(200, &self.tenant_json(&t)))
    }

    async fn update_tenant(&self, id: &str) -> ScimResult<Response> {
        let current = self.tenant(id).await?;
        let body: TenantUpdate = parse_body(self.req)?;
        let name = body.name.unwrap_or(current.name);
        let settings = body.settings.unwrap_or(current.settings);
        tenants::update(self.db, id, &name, &settings, &self.now)
            .await
            .map_err(db_error)?;
        let t = self.tenant(id).await?;
        Ok(json_response(200, &self.tenant_json(&t)))
    }

    async fn delete_tenant(&self, id: &str) -> ScimResult<Response> {
        self.scope.require_platform()?;
        self.tenant(id).await?;
        // Tokens first: once they are gone nothing can write to the tenant.
        tokens::revoke_all(self.kv, id).await?;
        tenants::delete(self.db, id).await.map_err(db_error)?;
        Ok(Response::empty(204))
    }

    async fn list_tokens(&self, tenant: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let list = tokens::list(self.kv, tenant).await?;
        let items: Vec<tokens::TokenInfo> = list.iter().map(tokens::TokenInfo::from).collect();
        Ok(json_response(200, &json!({"tokens": items})))
    }

    /// Issues a token. The answer shows the token once; with
    /// `?download=true` it is the `{"baseUrl", "token"}` document to paste
    /// into an identity provider, as an attachment.
    async fn issue_token(&self, tenant: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let body: NewToken = parse_body_or_default(self.req)?;
        let expires = match (body.expires, body.expires_in_days) {
            (Some(_), Some(_)) => {
                return Err(ScimError::invalid_value(
                    "Give expires or expiresInDays, not both.",
                ))
            }
            (Some(e), None) => Some(check_expiry(&e)?),
            (None, Some(days)) => DateTime::parse_from_rfc3339(&self.now)
                .ok()
                .map(|n| n + chrono::Duration::days(i64::from(days)))
                .map(|t| crate::store::query::timestamp(t.with_timezone(&Utc))),
            (None, None) => None,
        };
        let label = body.label.unwrap_or_default();
        let (token, record) = tokens::issue(self.kv, tenant, &label, expires, &self.now).await?;
        self.token_created(tenant, &token, &record)
    }

    fn token_created(
        &self,
        tenant: &str,
        token: &str,
        record: &crate::server::auth::TokenRecord,
    ) -> ScimResult<Response> {
        let base_url = self.base_url(tenant);
        let download = self
            .req
            .query_param("download")
            .is_some_and(|v| v.is_empty() || v == "true" || v == "1");
        if download {
            let doc = json!({"baseUrl": base_url, "token": token});
            return Ok(json_response(201, &doc).with_header(
                "content-disposition",
                format!("attachment; filename=\"scim-{tenant}.json\""),
            ));
        }
        let mut v = serde_json::to_value(tokens::TokenInfo::from(record)).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("token".into(), Value::String(token.to_owned()));
            o.insert("baseUrl".into(), Value::String(base_url));
        }
        Ok(json_response(201, &v))
    }

    async fn expire_token(&self, tenant: &str, id: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let body: TokenUpdate = parse_body(self.req)?;
        let expires = match body.expires.as_deref() {
            None => None,
            Some("now") => Some(self.now.clone()),
            Some(e) => Some(check_expiry(e)?),
        };
        let r = tokens::set_expiry(self.kv, tenant, id, expires)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("Token {id} not found.")))?;
        Ok(json_response(200, &json!(tokens::TokenInfo::from(&r))))
    }

    async fn revoke_token(&self, tenant: &str, id: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        if tokens::revoke(self.kv, tenant, id).await? {
            Ok(Response::empty(204))
        } else {
            Err(ScimError::not_found(format!("Token {id} not found.")))
        }
    }

    async fn rotate_token(&self, tenant: &str, id: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let (token, record) = tokens::rotate(self.kv, tenant, id, &self.now)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("Token {id} not found.")))?;
        self.token_created(tenant, &token, &record)
    }

    async fn get_schema(&self, tenant: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let defs = extension::load(self.db, tenant).await?;
        Ok(json_response(
            200,
            &json!({
                "urn": extension::urn(&self.config.vendor, tenant),
                "attributes": defs,
            }),
        ))
    }

    async fn put_attribute(&self, tenant: &str, name: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let mut body: Value = parse_body(self.req)?;
        if let Some(o) = body.as_object_mut() {
            o.entry("name")
                .or_insert_with(|| Value::String(name.to_owned()));
        }
        let def: AttributeDef = serde_json::from_value(body)
            .map_err(|e| ScimError::invalid_value(format!("Invalid attribute definition: {e}")))?;
        if def.name != name {
            return Err(ScimError::invalid_value(
                "The attribute name in the body differs from the one in the path.",
            ));
        }
        let created = extension::put(self.db, &self.config.vendor, tenant, &def, &self.now).await?;
        Ok(json_response(if created { 201 } else { 200 }, &json!(def)))
    }

    async fn delete_attribute(&self, tenant: &str, name: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        if extension::remove(self.db, tenant, name).await? {
            Ok(Response::empty(204))
        } else {
            Err(ScimError::not_found(format!("Attribute {name} not found.")))
        }
    }

    fn ctx(&self, tenant: &str) -> Ctx<'_, D, K> {
        Ctx {
            db: self.db,
            kv: self.kv,
            tenant: tenant.to_owned(),
            base_url: self.base_url(tenant),
            now: self.now.clone(),
            vendor: self.config.vendor.clone(),
            limits: self.config.limits,
        }
    }

    /// A user as the application sees it: tombstones carry `deleted`.
    fn user_json(
        &self,
        ctx: &Ctx<'_, D, K>,
        rt: &ResourceType,
        u: user_store::StoredUser,
    ) -> Value {
        let deleted = u.deleted.clone();
        let mut v = crate::proto::project::project(rt, users::read_form(ctx, u), &[], &[]);
        if let (Some(o), Some(d)) = (v.as_object_mut(), deleted) {
            o.insert("deleted".into(), Value::String(d));
        }
        v
    }

    /// The page a list request asks for (`startIndex`, `count`), and its
    /// window for the store.
    fn page(&self) -> ScimResult<(Paging, PageSpec<'static>)> {
        let paging = Paging::of(self.req, self.config.limits.max_results)?;
        let spec = PageSpec {
            offset: paging.offset(),
            limit: paging.count,
            ..PageSpec::default()
        };
        Ok((paging, spec))
    }

    async fn list_users(&self, tenant: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let (paging, spec) = self.page()?;
        let listed = user_store::list_any(self.db, tenant, &spec)
            .await
            .map_err(db_error)?;
        // One definition load for the page, not one per user.
        let ctx = self.ctx(tenant);
        let rt = users::resource_type(&ctx).await?;
        Ok(page_response(&paging, "users", listed, |u| {
            self.user_json(&ctx, &rt, u)
        }))
    }

    async fn get_user(&self, tenant: &str, id: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let u = user_store::get_any(self.db, tenant, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ScimError::not_found(format!("User {id} not found.")))?;
        let ctx = self.ctx(tenant);
        let rt = users::resource_type(&ctx).await?;
        Ok(json_response(200, &self.user_json(&ctx, &rt, u)))
    }

    async fn user_action(&self, tenant: &str, id: &str, action: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let done = match action {
            "deactivate" => user_store::set_active(self.db, tenant, id, false, &self.now).await,
            "reactivate" => user_store::set_active(self.db, tenant, id, true, &self.now).await,
            "restore" => user_store::restore(self.db, tenant, id, &self.now).await,
            _ => {
                return Err(ScimError::not_found(format!(
                    "No user action '{action}' (deactivate, reactivate, restore)."
                )))
            }
        }
        .map_err(|e| match e {
            DbError::Unique(_) => ScimError::uniqueness(
                "Another live user has this userName now; it cannot be restored.",
            ),
            other => db_error(other),
        })?;
        if !done {
            let what = if action == "restore" {
                "deleted user"
            } else {
                "live user"
            };
            return Err(ScimError::not_found(format!("No {what} {id}.")));
        }
        self.get_user(tenant, id).await
    }

    async fn list_groups(&self, tenant: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let (paging, spec) = self.page()?;
        let listed = group_store::list(self.db, tenant, &spec, false)
            .await
            .map_err(db_error)?;
        let ctx = self.ctx(tenant);
        Ok(page_response(&paging, "groups", listed, |g| {
            groups::read_form(&ctx, g)
        }))
    }

    async fn get_group(&self, tenant: &str, id: &str) -> ScimResult<Response> {
        self.tenant(tenant).await?;
        let g = group_store::get(self.db, tenant, id, true)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ScimError::not_found(format!("Group {id} not found.")))?;
        let ctx = self.ctx(tenant);
        let members = g.members.clone();
        let mut v = groups::read_form(&ctx, g);
        // The application sees member names too.
        if let (Some(o), Some(members)) = (v.as_object_mut(), &members) {
            let list: Vec<Value> = members
                .iter()
                .map(|m| {
                    let mut e = Map::new();
                    e.insert("value".into(), Value::String(m.id.clone()));
                    e.insert("type".into(), Value::String(m.kind.clone()));
                    if let Some(d) = &m.display {
                        e.insert("display".into(), Value::String(d.clone()));
                    }
                    Value::Object(e)
                })
                .collect();
            o.insert("members".into(), Value::Array(list));
        }
        Ok(json_response(200, &v))
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
    json_response(200, &Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

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
