//! Users (RFC 7643 §4.1, §4.3): the tenant's own extension with its write
//! checks and hidden values, the manager's `$ref`, the computed `groups`,
//! and the tenant's DELETE policy (a retained tombstone or removal).

use serde_json::{json, Map, Value};

use crate::proto::schema::{core_user_type, ResourceType, ENTERPRISE_USER_SCHEMA};
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::events;
use crate::server::extension;
use crate::server::limits;
use crate::server::resources::kind::{Hidden, Kind, PatchMode};
use crate::server::schema::{TenantSchema, Typed};
use crate::store::resources::{Doc, Removal, Resource, Stored, Update};
use crate::store::roles::Candidates;
use crate::store::tenants::{self, DeletePolicy};
use crate::store::users::GroupRef;
use crate::store::SqlExecutor;

pub(crate) struct Users;

impl Users {
    /// Validates a document beyond its SCIM types (the request limits, the
    /// tenant's custom attribute checks), puts back the hidden values of
    /// removed attributes, and returns the guard statements of the write.
    async fn checked<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        id: &str,
        mut doc: Value,
        hidden: Hidden,
    ) -> Result<Doc> {
        limits::check_document(&doc, &ctx.limits)?;
        let mut extra =
            extension::check(ctx.db, &ctx.tenant, &schema.urn, id, &schema.defs, &doc).await?;
        extension::restore_hidden(&schema.urn, &mut doc, hidden);
        // Checked and stored with this schema only while it is still the
        // tenant's (it may come from this isolate's cache, or another
        // request may change it before this write lands).
        extra.push(tenants::profile_guard(&ctx.tenant, schema.version));
        Ok(Doc { doc, extra })
    }
}

impl Typed for Users {
    const EXTENSIBLE: bool = true;

    fn core_type() -> &'static ResourceType {
        core_user_type()
    }
}

impl Kind for Users {
    const RESOURCE: Resource = Resource::User;
    const COMPUTED: &'static str = "groups";
    type Computed = Vec<GroupRef>;
    const EVENT: &'static str = "user";
    const RETAINS: bool = true;
    const KEEPS_RECENT: bool = true;

    fn summary(id: &str, doc: &Value) -> Value {
        events::user_summary(id, doc)
    }

    /// A change of `active` is a deactivation or reactivation.
    fn update_type(old: &Value, new: &Value) -> String {
        events::user_update_type(old, new).to_owned()
    }

    /// `manager.$ref` is the URI of the manager's resource (RFC 7643
    /// §4.3), derived from its id rather than stored; `groups` lists the
    /// direct memberships (§4.1.2).
    fn derive<D>(ctx: &Ctx<'_, D>, form: &mut Map<String, Value>, groups: Option<Vec<GroupRef>>) {
        if let Some(manager) = form
            .get_mut(ENTERPRISE_USER_SCHEMA)
            .and_then(|e| e.get_mut("manager"))
            .and_then(Value::as_object_mut)
        {
            if let Some(id) = manager.get("value").and_then(Value::as_str) {
                let uri = ctx.location("Users", id);
                manager.insert("$ref".into(), Value::String(uri));
            }
        }
        if let Some(groups) = groups.filter(|g| !g.is_empty()) {
            let list = groups
                .into_iter()
                .map(|g| {
                    json!({
                        "value": g.id,
                        "$ref": ctx.location("Groups", &g.id),
                        "display": g.display,
                        "type": "direct",
                    })
                })
                .collect();
            form.insert("groups".into(), Value::Array(list));
        }
    }

    fn split_hidden(schema: &TenantSchema, doc: &Value) -> (Value, Hidden) {
        let mut d = doc.clone();
        let hidden = extension::take_hidden(&schema.urn, &schema.defs, &mut d);
        (d, hidden)
    }

    async fn prepare_create<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        id: &str,
        doc: Value,
    ) -> Result<Doc> {
        let mut new = Self::checked(ctx, schema, id, doc, Hidden::new()).await?;
        // A new user is in no group: the tenant's default role, if any. A
        // tenant without rules or a default role needs no statements (the
        // write's profile guard holds it to that).
        if schema.roles_configured {
            new.extra
                .extend(ctx.events.roles(&Candidates::These(vec![id])));
        }
        Ok(new)
    }

    /// A rewrite of `current`'s document, guarded by its version.
    async fn prepare_replace<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        current: &Stored<Vec<GroupRef>>,
        doc: Value,
        hidden: Hidden,
    ) -> Result<Update> {
        let new = Self::checked(ctx, schema, &current.id, doc, hidden).await?;
        Ok(Update::rewrite(new, current.version))
    }

    async fn prepare_patch<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        current: &Stored<Vec<GroupRef>>,
        patched: crate::proto::patch::Outcome,
        hidden: Hidden,
        _how: PatchMode,
    ) -> Result<Option<Update>> {
        // The same rewrite as a PUT's.
        Self::prepare_replace(ctx, schema, current, patched.doc, hidden)
            .await
            .map(Some)
    }

    async fn removal<'c, D: SqlExecutor>(ctx: &'c Ctx<'_, D>) -> Result<Removal<'c>> {
        let policy = ctx.settings().await?.delete_policy;
        Ok(match policy {
            DeletePolicy::Retain => Removal::Tombstone(&ctx.now),
            DeletePolicy::Remove => Removal::Delete,
        })
    }
}
