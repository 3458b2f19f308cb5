//! Service provider configuration endpoints (RFC 7644 §4): what this server
//! supports, reported exactly, and the schemas and resource types it serves.

use serde_json::{json, Value};

use crate::proto::error::{ScimError, ScimResult};
use crate::proto::messages::list_response;
use crate::proto::schema::{group_resource_type, user_resource_type, ResourceType, SPC_SCHEMA};
use crate::server::config::Limits;
use crate::store::tenants::{AuthMode, AuthModes};

/// What the server implements; ServiceProviderConfig is built from this, so
/// it cannot claim more than the code does.
pub(crate) struct Features {
    pub patch: bool,
    pub sort: bool,
    pub etag: bool,
    pub bulk: bool,
}

pub(crate) const FEATURES: Features = Features {
    patch: true,
    sort: true,
    etag: true,
    bulk: true,
};

/// The resource types without any tenant's custom extension.
pub(crate) fn core_types() -> Vec<ResourceType> {
    vec![user_resource_type(Vec::new()), group_resource_type()]
}

/// `GET /ServiceProviderConfig` (RFC 7643 §5).
/// The limits are the deployment's (`SCIM_MAX_*` variables).
pub(crate) fn service_provider_config(base_url: &str, limits: &Limits, modes: &AuthModes) -> Value {
    let (bulk_supported, max_ops, max_payload) = match FEATURES.bulk {
        true => (true, limits.max_bulk_operations, limits.max_request_bytes),
        false => (false, 0, 0),
    };
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": FEATURES.patch},
        "bulk": {
            "supported": bulk_supported,
            "maxOperations": max_ops,
            "maxPayloadSize": max_payload,
        },
        "filter": {"supported": true, "maxResults": limits.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": FEATURES.sort},
        "etag": {"supported": FEATURES.etag},
        // RFC 9865 §4: both pagination methods, index by default.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": limits.max_results,
            "maxPageSize": limits.max_results,
        },
        "authenticationSchemes": authentication_schemes(modes),
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    })
}

/// RFC 7643 §5 `authenticationSchemes`: the modes the tenant allows, the
/// first one primary.
fn authentication_schemes(modes: &AuthModes) -> Vec<Value> {
    modes
        .modes()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut v = match m {
                AuthMode::Token => json!({
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "A SCIM token issued for this tenant, sent as Authorization: Bearer <token>, or as the token alone.",
                    "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                }),
                AuthMode::OAuth => json!({
                    "type": "oauth2",
                    "name": "OAuth 2.0",
                    "description": "An access token from this deployment's token endpoint (POST /oauth/token: a tenant's own client with the client credentials grant, or Okta with the authorization code grant), sent as Authorization: Bearer <token>.",
                    "specUri": "https://www.rfc-editor.org/rfc/rfc6749",
                }),
                AuthMode::Basic => json!({
                    "type": "httpbasic",
                    "name": "HTTP Basic",
                    "description": "A username and password issued for this tenant, sent as Authorization: Basic.",
                    "specUri": "https://www.rfc-editor.org/rfc/rfc7617",
                }),
            };
            if let Some(o) = v.as_object_mut() {
                o.insert("primary".into(), Value::Bool(i == 0));
            }
            v
        })
        .collect()
}

fn all_schemas(types: &[ResourceType], base_url: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for rt in types {
        for schema in rt.schemas() {
            if !seen.contains(&schema.id) {
                seen.push(schema.id.clone());
                out.push(schema.to_json(base_url));
            }
        }
    }
    out
}

/// `GET /Schemas` and `GET /Schemas/{id}` (RFC 7644 §4).
pub(crate) fn schemas(
    types: &[ResourceType],
    base_url: &str,
    id: Option<&str>,
) -> ScimResult<Value> {
    one_or_all(all_schemas(types, base_url), id, "Schema")
}

/// The whole list as a ListResponse, or the entry whose `id` is `id`.
fn one_or_all(list: Vec<Value>, id: Option<&str>, what: &str) -> ScimResult<Value> {
    match id {
        None => Ok(list_response(list.len() as u64, 1, list)),
        Some(id) => list
            .into_iter()
            .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
            .ok_or_else(|| ScimError::not_found(format!("{what} {id} not found."))),
    }
}

/// `GET /ResourceTypes` and `GET /ResourceTypes/{id}` (RFC 7644 §4).
pub(crate) fn resource_types(
    types: &[ResourceType],
    base_url: &str,
    id: Option<&str>,
) -> ScimResult<Value> {
    let list = types.iter().map(|rt| rt.to_json(base_url)).collect();
    one_or_all(list, id, "ResourceType")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_nulls(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Array(a) => a.iter().all(no_nulls),
            Value::Object(o) => o.values().all(no_nulls),
            _ => true,
        }
    }

    #[test]
    fn service_provider_config_reports_features_without_nulls() {
        // RFC 7643 §5: every capability object has "supported".
        let limits = Limits {
            max_results: 50,
            max_bulk_operations: 7,
            ..Limits::default()
        };
        let spc = service_provider_config("https://x/scim/v2/t", &limits, &AuthModes::default());
        assert!(no_nulls(&spc));
        assert_eq!(spc["patch"]["supported"], FEATURES.patch);
        // The advertised limits are the configured ones.
        assert_eq!(spc["filter"]["maxResults"], 50);
        assert_eq!(spc["pagination"]["maxPageSize"], 50);
        assert_eq!(spc["pagination"]["defaultPageSize"], 50);
        assert_eq!(spc["bulk"]["maxOperations"], 7);
        assert_eq!(spc["bulk"]["maxPayloadSize"], 1_048_576);
        assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    }

    #[test]
    fn schemas_list_user_group_and_enterprise_once_each() {
        let list = all_schemas(&core_types(), "https://x");
        let ids: Vec<&str> = list.iter().filter_map(|s| s["id"].as_str()).collect();
        assert_eq!(
            ids,
            [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:ietf:params:scim:schemas:core:2.0:Group",
            ]
        );
        assert!(list.iter().all(no_nulls));
        assert_eq!(
            schemas(
                &core_types(),
                "https://x",
                Some("urn:ietf:params:scim:schemas:core:2.0:group")
            )
            .unwrap()["id"],
            "urn:ietf:params:scim:schemas:core:2.0:Group"
        );
        assert_eq!(
            schemas(&core_types(), "https://x", Some("nope"))
                .unwrap_err()
                .status,
            404
        );
    }
}
