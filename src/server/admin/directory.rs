//! Users and groups as the host application sees them: retained tombstones
//! included (`"deleted": "<time>"`), member names shown, and what the
//! application does to users itself (deactivate, reactivate, restore).

use serde_json::{Map, Value};

use super::request::{missing, page_response, Admin};
use crate::proto::error::ScimError;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::extension;
use crate::server::http::Response;
use crate::server::resources::kind::read_form;
use crate::server::resources::{Groups, Users};
use crate::server::schema::TenantSchema;
use crate::store::groups::Member;
use crate::store::resources::{self, Resource, Stored};
use crate::store::users::{self, GroupRef};
use crate::store::{KeyValue, SqlExecutor, Stmt, StoreError, UniqueKey};

/// A user as the application sees it: tombstones carry `deleted`.
fn user_json<D>(ctx: &Ctx<'_, D>, schema: &TenantSchema, u: Stored<Vec<GroupRef>>) -> Value {
    let deleted = u.deleted.clone();
    let mut v = crate::proto::project::project(&schema.rt, read_form::<Users, D>(ctx, u), &[], &[]);
    if let (Some(o), Some(d)) = (v.as_object_mut(), deleted) {
        o.insert("deleted".into(), Value::String(d));
    }
    v
}

impl<D: SqlExecutor, K: KeyValue> Admin<'_, D, K> {
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

    pub(super) async fn user_action(
        &self,
        tenant: &str,
        id: &str,
        action: &str,
    ) -> Result<Response> {
        self.tenant(tenant).await?;
        let done = match action {
            "deactivate" => users::set_active(self.db, tenant, id, false, &self.stamp).await,
            "reactivate" => users::set_active(self.db, tenant, id, true, &self.stamp).await,
            "restore" => {
                let guards = self.restore_guards(tenant, id).await?;
                users::restore(self.db, tenant, id, &self.stamp, guards).await
            }
            _ => {
                return Err(ScimError::not_found(format!(
                    "No user action '{action}' (deactivate, reactivate, restore)."
                ))
                .into())
            }
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
        if !done {
            let what = if action == "restore" {
                "deleted user"
            } else {
                "live user"
            };
            return Err(ScimError::not_found(format!("No {what} {id}.")).into());
        }
        self.get_user(tenant, id).await
    }

    /// The statements that keep a restored user's unique custom values
    /// unique (none when it is no tombstone: restoring then finds nothing).
    async fn restore_guards(&self, tenant: &str, id: &str) -> Result<Vec<Stmt>> {
        let ctx = self.ctx(tenant);
        let schema = TenantSchema::load::<Users, D>(&ctx).await?;
        let stored: Option<Stored<Vec<GroupRef>>> =
            resources::get_any(self.db, Resource::User, tenant, id).await?;
        Ok(stored
            .map(|u| extension::unique_guards(tenant, &schema.urn, id, &schema.defs, &u.doc))
            .unwrap_or_default())
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
