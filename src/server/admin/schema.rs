//! A tenant's custom attributes: the extension URN (read, set, reset) and
//! definitions; define or change one, remove one.

use serde_json::{json, Map, Value};

use super::request::{missing, parse_body, Admin};
use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::extension::{self, AttributeDef};
use crate::server::http::Response;
use crate::server::webhooks::Outbound;
use crate::store::attributes::{self, TenantProfile};
use crate::store::{KeyValue, SqlExecutor};

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// `{"urn": <in force>, "attributes": [...]}`.
    async fn schema_json(&self, tenant: &str) -> Result<Value> {
        let profile: TenantProfile<AttributeDef> = attributes::load(self.db, tenant).await?;
        Ok(json!({
            "urn": extension::urn_in_force(&self.config.vendor, tenant, profile.urn.as_deref()),
            "attributes": profile.defs,
        }))
    }

    pub(super) async fn get_schema(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        Ok(Response::json(200, &self.schema_json(tenant).await?))
    }

    /// `PUT /tenants/{t}/schema` `{"urn": "<urn>"}` sets the extension's URN,
    /// `{"urn": null}` returns to the default; users' values move with it.
    pub(super) async fn put_schema(&self, tenant: &str) -> Result<Response> {
        let current = self.tenant(tenant).await?;
        let body: Map<String, Value> = parse_body(self.req)?;
        if let Some(other) = body.keys().find(|k| *k != "urn") {
            return Err(ScimError::invalid_value(format!(
                "Unknown member '{other}': the schema takes {{\"urn\": \"<urn>\" or null}}."
            ))
            .into());
        }
        let wanted =
            match body.get("urn") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Null) => None,
                Some(_) | None => return Err(ScimError::invalid_value(
                    "The schema takes {\"urn\": \"<urn>\"}, or {\"urn\": null} for the default.",
                )
                .into()),
            };
        extension::set_urn(
            self.db,
            &self.config.vendor,
            tenant,
            current.extension_urn.as_deref(),
            wanted,
            &self.stamp,
        )
        .await?;
        Ok(Response::json(200, &self.schema_json(tenant).await?))
    }

    pub(super) async fn put_attribute(&self, tenant: &str, name: &str) -> Result<Response> {
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
            )
            .into());
        }
        let created =
            extension::put(self.db, &self.config.vendor, tenant, &def, &self.stamp).await?;
        Ok(Response::json(if created { 201 } else { 200 }, &json!(def)))
    }

    pub(super) async fn delete_attribute(&self, tenant: &str, name: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if extension::remove(self.db, tenant, name).await? {
            Ok(Response::empty(204))
        } else {
            Err(missing(&format!("Attribute {name}")))
        }
    }
}
