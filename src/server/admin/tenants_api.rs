//! Tenants: list, create, read, update (name and settings), delete with all
//! their data and tokens.

use serde::Deserialize;
use serde_json::{json, Value};

use super::jwt::Scope;
use super::request::{parse_body, Admin, ADMIN_PREFIX};
use crate::proto::error::ScimError;
use crate::server::ctx::valid_tenant_id;
use crate::server::error::Result;
use crate::server::extension;
use crate::server::http::Response;
use crate::server::oauth;
use crate::server::tokens;
use crate::server::webhooks::Outbound;
use crate::store::oauth as oauth_store;
use crate::store::shards::{self, Placement, REGIONS, REGISTRY};
use crate::store::tenants::{self, AuthMode, Place, Settings, SettingsChange};
use crate::store::tokens::CredentialKind;
use crate::store::{KeyValue, SqlExecutor, StoreError, UniqueKey};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewTenant {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    settings: Option<SettingsChange>,
    /// The shard (D1 binding) to put it on; default: the fewest tenants.
    #[serde(default)]
    shard: Option<String>,
    /// Where its data must stay: only a shard with this label takes it.
    #[serde(default)]
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TenantUpdate {
    #[serde(default)]
    name: Option<String>,
    /// Only the settings given change.
    #[serde(default)]
    settings: Option<SettingsChange>,
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    fn tenant_json(&self, t: &tenants::Tenant) -> Value {
        let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("scimBaseUrl".into(), Value::String(self.base_url(&t.id)));
            o.insert(
                "schemaUrn".into(),
                Value::String(extension::urn_in_force(
                    &self.config.vendor,
                    &t.id,
                    t.extension_urn.as_deref(),
                )),
            );
        }
        v
    }

    /// What the credential is: its scope (`platform`, or `tenant` with the
    /// tenant), whether it is a setup link, and its subject (the console
    /// starts here).
    pub(super) fn whoami(&self) -> Response {
        let (scope, tenant) = match &self.scope {
            Scope::Platform => ("platform", None),
            Scope::Tenant(t) => ("tenant", Some(t.clone())),
        };
        Response::json(
            200,
            &json!({"scope": scope, "tenant": tenant, "setupLink": self.via_link, "subject": self.subject}),
        )
    }

    pub(super) async fn list_tenants(&self) -> Result<Response> {
        self.scope.require_platform()?;
        let mut list = Vec::new();
        for shard in self.shards.all() {
            list.extend(tenants::list_on(shard.db, &shard.name).await?);
        }
        list.sort_by(|a, b| a.id.cmp(&b.id));
        let items: Vec<Value> = list.iter().map(|t| self.tenant_json(t)).collect();
        Ok(Response::json(200, &json!({"tenants": items})))
    }

    pub(super) async fn create_tenant(&self) -> Result<Response> {
        self.scope.require_platform()?;
        let body: NewTenant = parse_body(self.req)?;
        if !valid_tenant_id(&body.id) {
            return Err(ScimError::invalid_value(
                "A tenant id is 1-63 lowercase letters, digits and '-' (no '_', which Okta rejects in base URLs), not starting or ending with '-'.",
            )
            .into());
        }
        let name = body.name.unwrap_or_else(|| body.id.clone());
        let settings = Settings::default().with(body.settings.unwrap_or_default());
        let region = body.region.as_deref();
        if let Some(r) = region.filter(|r| !REGIONS.contains(r)) {
            return Err(ScimError::invalid_value(format!(
                "Unknown region {r:?}: a region is a D1 jurisdiction (eu, fedramp) or location ({}).",
                REGIONS[2..].join(", ")
            ))
            .into());
        }
        let shard = match self.shards.place(body.shard.as_deref(), region).await? {
            Ok(s) => s,
            Err(why) => {
                let shards = self.shards.describe();
                let detail = match why {
                    Placement::NoSuchShard(s) => {
                        format!("There is no shard {s}; this deployment has {shards}.")
                    }
                    Placement::NoShardIn(r) => format!(
                        "No shard of this deployment is in region {r}, so the tenant would not stay there; the shards are {shards}. Add one (see the README's deploy steps)."
                    ),
                    Placement::WrongRegion { shard, region } => {
                        format!("Shard {shard} is not in region {region}; the shards are {shards}.")
                    }
                };
                return Err(ScimError::invalid_value(detail).into());
            }
        };
        // Where the data is: the region asked for, else the shard's label.
        let region = region.or(shard.region.as_deref());
        let place = Place {
            shard: &shard.name,
            region,
        };
        // The registry row first: it takes the id (or finds it taken). On
        // `DB` it is the tenant's row; for another shard its settings there
        // are never read.
        let defaults = Settings::default();
        let registry_settings = if shard.name == REGISTRY {
            &settings
        } else {
            &defaults
        };
        let registered = tenants::insert(
            self.registry,
            &body.id,
            &name,
            registry_settings,
            &self.stamp,
            &place,
        )
        .await;
        match registered {
            Err(StoreError::Unique(UniqueKey::TenantId)) => {
                return Err(
                    ScimError::uniqueness(format!("Tenant {} already exists.", body.id)).into(),
                )
            }
            other => other?,
        }
        if shard.name != REGISTRY {
            let on_shard =
                tenants::insert_on_shard(shard.db, &body.id, &name, &settings, &self.stamp, &place)
                    .await;
            if let Err(e) = on_shard {
                // Nothing half-made: the id is free again.
                let _ = tenants::delete(self.registry, &body.id).await;
                return Err(e.into());
            }
        }
        self.shards
            .placed(&body.id, &shard.name, self.now.timestamp_millis());
        let t = tenants::get(shard.db, &body.id)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("Tenant {} not found.", body.id)))?;
        Ok(Response::json(201, &self.tenant_json(&t)).with_header(
            "location",
            format!("{}{ADMIN_PREFIX}/tenants/{}", self.req.origin, t.id),
        ))
    }

    pub(super) async fn get_tenant(&self, id: &str) -> Result<Response> {
        let t = self.tenant(id).await?;
        Ok(Response::json(200, &self.tenant_json(&t)))
    }

    pub(super) async fn update_tenant(&self, id: &str) -> Result<Response> {
        let current = self.tenant(id).await?;
        let body: TenantUpdate = parse_body(self.req)?;
        // The customer's IT admin connects their IdP (which may mean
        // allowing Basic or OAuth); how the tenant keeps and treats its data
        // stays the operator's.
        if self.via_link {
            let s = body.settings.clone().unwrap_or_default();
            let other = body.name.is_some()
                || s.delete_policy.is_some()
                || s.unknown_attributes.is_some()
                || s.unknown_members.is_some()
                || s.event_retention_days.is_some()
                || s.request_log.is_some()
                || s.request_log_retention_days.is_some();
            if other {
                return Err(ScimError::new(
                    403,
                    None,
                    "A setup link may change only settings.authentication; ask the operator for the rest.",
                )
                .into());
            }
        }
        let name = body.name.unwrap_or_else(|| current.name.clone());
        let settings = current
            .settings
            .clone()
            .with(body.settings.unwrap_or_default());
        tenants::update(self.db, id, &name, &settings, &self.stamp).await?;
        crate::server::schema::forget_tenant(self.db, id);
        if current.shard != REGISTRY && name != current.name {
            tenants::rename(self.registry, id, &name, &self.stamp).await?;
        }
        // A mode turned off takes its credentials with it: none of them
        // can authenticate again, whatever is turned on later.
        let turned_off =
            |m| current.settings.authentication.allows(m) && !settings.authentication.allows(m);
        for (mode, kind) in [
            (AuthMode::Token, None),
            (AuthMode::Basic, Some(CredentialKind::Basic)),
        ] {
            if turned_off(mode) {
                for r in tokens::list(self.kv, id, kind).await? {
                    tokens::revoke(self.kv, id, &r.id, kind).await?;
                }
            }
        }
        if turned_off(AuthMode::OAuth) {
            self.drop_oauth(id).await?;
        }
        let t = self.tenant(id).await?;
        Ok(Response::json(200, &self.tenant_json(&t)))
    }

    /// Deletes the tenant's OAuth clients and revokes their access tokens.
    async fn drop_oauth(&self, id: &str) -> Result<()> {
        let hashes = oauth_store::tenant_tokens(self.registry, id).await?;
        oauth::revoke_tokens(self.kv, &hashes).await?;
        let mut stmts = oauth_store::delete_all(id);
        stmts.extend(oauth_store::delete_all_grants(id));
        self.registry.batch(stmts).await?;
        Ok(())
    }

    pub(super) async fn delete_tenant(&self, id: &str) -> Result<Response> {
        self.scope.require_platform()?;
        let t = self.tenant(id).await?;
        // Credentials first: once they are gone nothing can write to the tenant.
        tokens::revoke_all(self.kv, id).await?;
        self.drop_oauth(id).await?;
        // Its data, then its registry row (which takes its setup links):
        // should the second fail, the tenant is still listed, to delete again.
        tenants::delete(self.db, id).await?;
        if t.shard != REGISTRY {
            tenants::delete(self.registry, id).await?;
        }
        shards::forget(id);
        crate::server::schema::forget_tenant(self.db, id);
        Ok(Response::empty(204))
    }
}
