//! Users and groups as the host application sees them: retained tombstones
//! included (`"deleted": "<time>"`), member names shown, and what the
//! application does to users itself (deactivate, reactivate, restore).

use serde_json::{Map, Value};

use super::request::{known_params, missing, page_body, Admin};
use crate::proto::error::ScimError;
use crate::proto::schema::{core_group_type, ResourceType};
use crate::server::ctx::Ctx;
use crate::server::error::{changed_meanwhile, Result};
use crate::server::extension;
use crate::server::http::Response;
use crate::server::list::Paging;
use crate::server::op::WRITE_ATTEMPTS;
use crate::server::resources::kind::{change_event, read_form};
use crate::server::resources::list::filter_condition;
use crate::server::resources::{Groups, Users};
use crate::server::schema::TenantSchema;
use crate::server::webhooks::Outbound;
use crate::store::filter::SqlCondition;
use crate::store::groups::Member;
use crate::store::page::{Keyset, Listed, PageSpec};
use crate::store::resources::{self, Resource, Stored};
use crate::store::roles::Candidates;
use crate::store::users::{self, GroupRef};
use crate::store::{KeyValue, SqlExecutor, StoreError, UniqueKey};

/// A user as the application sees it: with its `roles`; tombstones carry
/// `deleted`.
fn user_json<D>(ctx: &Ctx<'_, D>, schema: &TenantSchema, u: Stored<Vec<GroupRef>>) -> Value {
    let deleted = u.deleted.clone();
    let roles = u.roles.clone().unwrap_or_default();
    let mut v = crate::proto::project::project(&schema.rt, read_form::<Users, D>(ctx, u), &[], &[]);
    if let Some(o) = v.as_object_mut() {
        o.insert("roles".into(), roles.into());
        if let Some(d) = deleted {
            o.insert("deleted".into(), Value::String(d));
        }
    }
    v
}

/// A directory page: `page_response`'s, with `next`, the cursor of the
/// page after it (null on the last).
fn directory_response<C>(
    paging: &Paging,
    key: &str,
    listed: Listed<Stored<C>>,
    item: impl FnMut(Stored<C>) -> Value,
) -> Response {
    let next = listed
        .more
        .then(|| listed.items.last().map(|r| r.seq.to_string()))
        .flatten();
    let mut body = page_body(paging, key, listed, item);
    body.insert("next".into(), next.into());
    Response::json(200, &Value::Object(body))
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// Users, retained tombstones included, in insertion order: a page by
    /// `startIndex` or after `cursor` (the `next` of the page before), of
    /// `count`, narrowed by a SCIM `filter` and by `role`.
    pub(super) async fn list_users(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        // One definition load for the page, not one per user.
        let ctx = self.ctx(tenant);
        let schema = TenantSchema::load::<Users, D>(&ctx).await?;
        let role = self.req.params().get("role").filter(|r| !r.is_empty());
        let role = role.map(|r| SqlCondition {
            sql: "EXISTS (SELECT 1 FROM json_each(r.roles) rj WHERE rj.value = ?)".into(),
            params: vec![r.into()],
        });
        let (paging, spec, condition) =
            self.directory_page(&schema.rt, Resource::User, tenant, role)?;
        let spec = PageSpec {
            clause: condition
                .as_ref()
                .map(|c| (c.sql.as_str(), c.params.as_slice())),
            ..spec
        };
        let listed = resources::list_any(self.db, Resource::User, tenant, &spec, true).await?;
        Ok(directory_response(&paging, "users", listed, |u| {
            user_json(&ctx, &schema, u)
        }))
    }

    /// The page a directory list asks for, and its condition: the SCIM
    /// `filter` (over the tenant's schema, as SCIM takes it) and `extra`.
    fn directory_page(
        &self,
        rt: &ResourceType,
        resource: Resource,
        tenant: &str,
        extra: Option<SqlCondition>,
    ) -> Result<(Paging, PageSpec<'static>, Option<SqlCondition>)> {
        let params = self.req.params();
        known_params(
            &params,
            &["startIndex", "count", "cursor", "filter", "role"],
        )?;
        if resource == Resource::Group && params.get("role").is_some() {
            return Err(ScimError::invalid_value("Groups have no role filter.").into());
        }
        let (paging, mut spec) = self.page()?;
        if let Some(c) = params.get("cursor").filter(|c| !c.is_empty()) {
            let seq = c.parse::<i64>().map_err(|_| {
                ScimError::invalid_value("`cursor` is the `next` value of a page before.")
            })?;
            spec.keyset = Some(Keyset::After(seq));
            spec.offset = 0;
        }
        let filter = filter_condition(rt, resource, tenant, params.get("filter").as_deref())?;
        let condition = match (filter, extra) {
            (Some(f), Some(e)) => Some(SqlCondition {
                sql: format!("({}) AND ({})", f.sql, e.sql),
                params: f.params.into_iter().chain(e.params).collect(),
            }),
            (f, e) => f.or(e),
        };
        Ok((paging, spec, condition))
    }

    pub(super) async fn get_user(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let u = resources::get_any(self.db, Resource::User, tenant, id)
            .await?
            .ok_or_else(|| missing(&format!("User {id}")))?;
        let ctx = self.ctx(tenant);
        let schema = TenantSchema::load::<Users, D>(&ctx).await?;
        Ok(Response::json(200, &user_json(&ctx, &schema, u)))
    }

    /// What the application does to a user: `deactivate` or `reactivate`
    /// a live one (a no-op, recording nothing, when it already is so), or
    /// `restore` a retained tombstone. Each change is guarded by the
    /// version read and records its event (`user.deactivated`,
    /// `user.reactivated`, `user.restored`) with the admin token as actor.
    pub(super) async fn user_action(
        &self,
        tenant: &str,
        id: &str,
        action: &str,
    ) -> Result<Response> {
        self.tenant(tenant).await?;
        let target = match action {
            "deactivate" => Some(false),
            "reactivate" => Some(true),
            "restore" => None,
            _ => {
                return Err(ScimError::not_found(format!(
                    "No user action '{action}' (deactivate, reactivate, restore)."
                ))
                .into())
            }
        };
        let ctx = self.ctx(tenant);
        let schema = TenantSchema::load::<Users, D>(&ctx).await?;
        for _ in 0..WRITE_ATTEMPTS {
            let current: Option<Stored<Vec<GroupRef>>> =
                resources::get_any(self.db, Resource::User, tenant, id).await?;
            let current = match (current, target) {
                (Some(u), Some(_)) if u.deleted.is_none() => u,
                (Some(u), None) if u.deleted.is_some() => u,
                (_, Some(_)) => {
                    return Err(ScimError::not_found(format!("No live user {id}.")).into())
                }
                (_, None) => {
                    return Err(ScimError::not_found(format!("No deleted user {id}.")).into())
                }
            };
            let was_active = current
                .doc
                .get("active")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if target == Some(was_active) {
                return self.get_user(tenant, id).await;
            }
            let active = target.unwrap_or(true);
            let mut doc = current.doc.clone();
            if let Some(o) = doc.as_object_mut() {
                o.insert("active".into(), Value::Bool(active));
            }
            let kind = match target {
                Some(false) => "user.deactivated",
                Some(true) => "user.reactivated",
                None => "user.restored",
            };
            let version = current.version;
            let mut extra = match target {
                None => {
                    extension::unique_guards(tenant, &schema.urn, id, &schema.defs, &current.doc)
                }
                Some(_) => Vec::new(),
            };
            extra.extend(change_event::<Users, D>(
                &ctx, &schema.rt, &current, &doc, kind,
            ));
            if target.is_none() {
                // A restored user is in no group: the default role, if any.
                extra.extend(ctx.events.roles(&Candidates::These(vec![id])));
            }
            let done = match target {
                Some(active) => {
                    users::set_active(self.db, tenant, id, active, &self.stamp, version, extra)
                        .await
                }
                None => users::restore(self.db, tenant, id, &self.stamp, version, extra).await,
            };
            let done = match done {
                Err(StoreError::Unique(UniqueKey::UserName)) => {
                    return Err(ScimError::uniqueness(
                        "Another live user has this userName now; it cannot be restored.",
                    )
                    .into())
                }
                Err(StoreError::Unique(UniqueKey::UniqueValue)) => {
                    return Err(ScimError::uniqueness(
                        "Another live user holds one of this user's unique custom values now; it cannot be restored.",
                    )
                    .into())
                }
                other => other?,
            };
            if done {
                if target == Some(false) {
                    self.okta_rule(tenant, &current).await;
                }
                return self.get_user(tenant, id).await;
            }
        }
        Err(changed_meanwhile().into())
    }

    pub(super) async fn list_groups(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let ctx = self.ctx(tenant);
        let rt = core_group_type();
        let (paging, spec, condition) = self.directory_page(rt, Resource::Group, tenant, None)?;
        let spec = PageSpec {
            clause: condition
                .as_ref()
                .map(|c| (c.sql.as_str(), c.params.as_slice())),
            ..spec
        };
        let listed = resources::list_any(self.db, Resource::Group, tenant, &spec, false).await?;
        Ok(directory_response(&paging, "groups", listed, |g| {
            read_form::<Groups, D>(&ctx, g)
        }))
    }

    pub(super) async fn get_group(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let g: Stored<Vec<Member>> = resources::get(self.db, Resource::Group, tenant, id, true)
            .await?
            .ok_or_else(|| missing(&format!("Group {id}")))?;
        let ctx = self.ctx(tenant);
        let members = g.computed.clone();
        let mut v = read_form::<Groups, D>(&ctx, g);
        // The application sees member names too.
        if let (Some(o), Some(members)) = (v.as_object_mut(), members) {
            let list: Vec<Value> = members
                .into_iter()
                .map(|m| {
                    let mut e = Map::new();
                    e.insert("value".into(), Value::String(m.id));
                    e.insert("type".into(), Value::String(m.kind));
                    if let Some(d) = m.display {
                        e.insert("display".into(), Value::String(d));
                    }
                    Value::Object(e)
                })
                .collect();
            o.insert("members".into(), Value::Array(list));
        }
        Ok(Response::json(200, &v))
    }
}
