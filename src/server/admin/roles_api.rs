//! Group-to-role mapping: the application's roles
//! (`/tenants/{t}/roles/{role}`) and the ordered rules that give the
//! members of IdP groups a role, with a default role for users in no mapped
//! group (`/tenants/{t}/role-mappings`). Users' roles are computed by the
//! database whenever their memberships or the rules change (see
//! `store::roles`), shown as `roles` in the user view, and announced by
//! `user.roles_changed` events.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::request::{missing, parse_body, parse_body_or_default, Admin};
use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::http::Response;
use crate::server::webhooks::Outbound;
use crate::store::resources::{self, Resource, Stored};
use crate::store::roles::{self, Deleted, GroupRef, Mapping, Role};
use crate::store::{KeyValue, SqlExecutor};

/// The most rules a tenant may have.
const MAX_MAPPINGS: usize = 100;
/// The longest description.
const MAX_DESCRIPTION: usize = 500;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleBody {
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingBody {
    group: GroupBody,
    role: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MappingsBody {
    mappings: Vec<MappingBody>,
    #[serde(default)]
    default_role: Option<String>,
}

fn role_json(r: &Role) -> Value {
    json!({"name": r.name, "description": r.description, "created": r.created,
           "updated": r.updated, "users": r.users})
}

fn group_json(g: &GroupRef) -> Value {
    match g {
        GroupRef::Id(v) => json!({"id": v}),
        GroupRef::ExternalId(v) => json!({"externalId": v}),
        GroupRef::DisplayName(v) => json!({"displayName": v}),
    }
}

fn bad(detail: String) -> crate::server::error::Error {
    ScimError::invalid_value(detail).into()
}

/// A rule's group: exactly one non-empty selector.
fn group_of(i: usize, g: GroupBody) -> Result<GroupRef> {
    let picked: Vec<GroupRef> = [
        g.id.map(GroupRef::Id),
        g.external_id.map(GroupRef::ExternalId),
        g.display_name.map(GroupRef::DisplayName),
    ]
    .into_iter()
    .flatten()
    .collect();
    match picked.as_slice() {
        [one] => {
            let (GroupRef::Id(v) | GroupRef::ExternalId(v) | GroupRef::DisplayName(v)) = one;
            if v.trim().is_empty() {
                return Err(bad(format!("mappings[{i}].group names an empty value.")));
            }
            Ok(one.clone())
        }
        _ => Err(bad(format!(
            "mappings[{i}].group must name exactly one of id, externalId, displayName."
        ))),
    }
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    pub(super) async fn list_roles(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let items: Vec<Value> = roles::list(self.db, tenant)
            .await?
            .iter()
            .map(role_json)
            .collect();
        Ok(Response::json(200, &json!({"roles": items})))
    }

    /// Creates the role (201) or sets its description (200).
    pub(super) async fn put_role(&self, tenant: &str, name: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if !roles::valid_name(name) {
            return Err(bad(format!(
                "'{name}' is no role name: 1 to 64 letters, digits and _ - . :"
            )));
        }
        let body: RoleBody = parse_body_or_default(self.req)?;
        if body
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Err(bad(format!(
                "A description is at most {MAX_DESCRIPTION} characters."
            )));
        }
        let (role, created) = roles::put(
            self.db,
            tenant,
            name,
            body.description.as_deref(),
            &self.stamp,
        )
        .await?;
        Ok(Response::json(
            if created { 201 } else { 200 },
            &role_json(&role),
        ))
    }

    pub(super) async fn delete_role(&self, tenant: &str, name: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        match roles::delete(self.db, tenant, name).await? {
            Deleted::Done => Ok(Response::empty(204)),
            Deleted::Missing => Err(missing(&format!("Role {name}"))),
            Deleted::InUse => Err(ScimError::new(
                409,
                None,
                format!(
                    "Role {name} is in use: a role mapping or the default role names it. \
                     Change the role mappings first."
                ),
            )
            .into()),
        }
    }

    /// The rules, each with the groups it matches now, and the default role.
    async fn mappings_json(&self, tenant: &str) -> Result<Map<String, Value>> {
        let (mappings, default) = roles::mappings(self.db, tenant).await?;
        let items: Vec<Value> = mappings
            .iter()
            .map(|m| {
                let groups: Vec<Value> = m
                    .groups
                    .iter()
                    .map(|(id, name)| json!({"id": id, "displayName": name}))
                    .collect();
                json!({"group": group_json(&m.mapping.group), "role": m.mapping.role, "groups": groups})
            })
            .collect();
        let mut out = Map::new();
        out.insert("mappings".into(), Value::Array(items));
        out.insert("defaultRole".into(), default.into());
        Ok(out)
    }

    pub(super) async fn get_role_mappings(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        Ok(Response::json(
            200,
            &Value::Object(self.mappings_json(tenant).await?),
        ))
    }

    /// Replaces the rules and the default role, and recomputes every
    /// user's roles with their `user.roles_changed` events, all in one
    /// batch. Every role named must be defined; a group named by id must
    /// exist (one named by externalId or displayName may come later).
    pub(super) async fn put_role_mappings(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let body: MappingsBody = parse_body(self.req)?;
        if body.mappings.len() > MAX_MAPPINGS {
            return Err(bad(format!(
                "At most {MAX_MAPPINGS} role mappings, not {}.",
                body.mappings.len()
            )));
        }
        let defined: Vec<String> = roles::list(self.db, tenant)
            .await?
            .into_iter()
            .map(|r| r.name)
            .collect();
        let mut mappings = Vec::with_capacity(body.mappings.len());
        for (i, m) in body.mappings.into_iter().enumerate() {
            let group = group_of(i, m.group)?;
            if let GroupRef::Id(id) = &group {
                let found: Option<Stored<Value>> =
                    resources::get(self.db, Resource::Group, tenant, id, false).await?;
                if found.is_none() {
                    return Err(bad(format!(
                        "mappings[{i}]: there is no group with id {id}."
                    )));
                }
            }
            mappings.push(Mapping {
                group,
                role: m.role,
            });
        }
        let undefined: Vec<&str> = mappings
            .iter()
            .map(|m| m.role.as_str())
            .chain(body.default_role.as_deref())
            .filter(|r| !defined.iter().any(|d| d == r))
            .collect();
        if !undefined.is_empty() {
            return Err(bad(format!(
                "These roles are not defined: {}. Define them first (PUT /tenants/{tenant}/roles/{{role}}).",
                undefined.join(", ")
            )));
        }
        let ctx = self.ctx(tenant);
        let (stamp, head) = ctx.events.batch_head();
        let changed = roles::replace(
            self.db,
            &stamp,
            &mappings,
            body.default_role.as_deref(),
            &head,
        )
        .await?
        .ok_or_else(|| {
            ScimError::new(
                409,
                None,
                "A role these mappings name was deleted meanwhile; nothing was changed.",
            )
        })?;
        // Whether the tenant maps roles is part of its profile.
        crate::server::schema::forget_tenant(self.db, tenant);
        let mut out = self.mappings_json(tenant).await?;
        out.insert("usersChanged".into(), changed.into());
        Ok(Response::json(200, &Value::Object(out)))
    }
}
