//! Users and groups as the host application sees them: retained tombstones
//! included (`"deleted": "<time>"`), member names shown, and what the
//! application does to users itself (deactivate, reactivate, restore).

use serde_json::{Map, Value};

use super::request::{missing, page_response, Admin};
use crate::proto::error::ScimError;
use crate::server::ctx::Ctx;
use crate::server::error::{changed_meanwhile, Result};
use crate::server::extension;
use crate::server::http::Response;
use crate::server::op::WRITE_ATTEMPTS;
use crate::server::resources::kind::{change_event, read_form};
use crate::server::resources::{Groups, Users};
use crate::server::schema::TenantSchema;
use crate::server::webhooks::Outbound;
use crate::store::groups::Member;
use crate::store::resources::{self, Resource, Stored};
use crate::store::users::{self, GroupRef};
use crate::store::{KeyValue, SqlExecutor, StoreError, UniqueKey};

/// A user as the application sees it: tombstones carry `deleted`.
fn user_json<D>(ctx: &Ctx<'_, D>, schema: &TenantSchema, u: Stored<Vec<GroupRef>>) -> Value {
    let deleted = u.deleted.clone();
    let mut v = crate::proto::project::project(&schema.rt, read_form::<Users, D>(ctx, u), &[], &[]);
    if let (Some(o), Some(d)) = (v.as_object_mut(), deleted) {
        o.insert("deleted".into(), Value::String(d));
    }
    v
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    pub(super) async fn list_users(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let (paging, spec) = self.page()?;
        let listed = resources::list_any(self.db, Resource::User, tenant, &spec, true).await?;
        // One definition load for the page, not one per user.
        let ctx = self.ctx(tenant);
        let schema = TenantSchema::load::<Users, D>(&ctx).await?;
        Ok(page_response(&paging, "users", listed, |u| {
            user_json(&ctx, &schema, u)
        }))
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
                return self.get_user(tenant, id).await;
            }
        }
        Err(changed_meanwhile().into())
    }

    pub(super) async fn list_groups(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let (paging, spec) = self.page()?;
        let listed = resources::list_any(self.db, Resource::Group, tenant, &spec, false).await?;
        let ctx = self.ctx(tenant);
        Ok(page_response(&paging, "groups", listed, |g| {
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
