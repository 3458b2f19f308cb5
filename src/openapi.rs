//! The OpenAPI document the worker serves at `/admin/v1/openapi.json`.

use serde_json::{json, Value};

/// An OpenAPI 3.1 description of the admin API (the SCIM API is described by
/// its own discovery endpoints, RFC 7644 §4).
pub fn document(origin: &str) -> Value {
    let tenant = json!({"name": "tenant", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"}});
    let id = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let ok = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object"}}}});
    let no_content = json!({"description": "Done"});
    let errors = json!({
        "401": {"description": "Missing, malformed, wrongly signed or expired admin token"},
        "403": {"description": "The token's scope does not cover this tenant or operation"},
        "404": {"description": "No such tenant or resource"}
    });
    let with_errors = |mut responses: Value| {
        if let (Some(r), Some(e)) = (responses.as_object_mut(), errors.as_object()) {
            for (k, v) in e {
                r.insert(k.clone(), v.clone());
            }
        }
        responses
    };
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "scim-worker admin API",
            "version": "1",
            "description": "Manage tenants, SCIM tokens, custom extension attributes and settings; read users and groups as the host application. Authenticate with a JWT (HS256, ADMIN_JWT_SECRET) whose claims carry scope 'platform', or scope 'tenant' with a 'tenant' id, and an exp."
        },
        "servers": [{"url": format!("{origin}/admin/v1")}],
        "components": {
            "securitySchemes": {"adminJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Settings": {"type": "object", "properties": {"deletePolicy": {"enum": ["retain", "remove"]}}},
                "NewTenant": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "settings": {"$ref": "#/components/schemas/Settings"}}},
                "NewToken": {"type": "object", "properties": {"label": {"type": "string"}, "expires": {"type": "string", "format": "date-time"}, "expiresInDays": {"type": "integer", "minimum": 0}}},
                "AttributeDef": {"type": "object", "required": ["type"], "properties": {
                    "name": {"type": "string"},
                    "type": {"enum": ["string", "integer", "number", "boolean", "date", "dateTime", "dropdown", "currency", "uniqueNumber", "userReference"]},
                    "multiValued": {"type": "boolean"}, "required": {"type": "boolean"}, "caseExact": {"type": "boolean"},
                    "description": {"type": "string"}, "values": {"type": "array", "items": {"type": "string"}}}}
            }
        },
        "security": [{"adminJwt": []}],
        "paths": {
            "/tenants": {
                "get": {"summary": "List tenants (platform scope)", "responses": with_errors(json!({"200": ok("Tenants")}))},
                "post": {"summary": "Create a tenant (platform scope)", "requestBody": body(json!({"$ref": "#/components/schemas/NewTenant"})), "responses": with_errors(json!({"201": ok("The tenant"), "409": {"description": "The id is taken"}}))}
            },
            "/tenants/{tenant}": {
                "parameters": [tenant],
                "get": {"summary": "Read a tenant", "responses": with_errors(json!({"200": ok("The tenant")}))},
                "patch": {"summary": "Update a tenant's name and settings", "requestBody": body(json!({"type": "object"})), "responses": with_errors(json!({"200": ok("The tenant")}))},
                "delete": {"summary": "Delete a tenant, its data and its tokens (platform scope)", "responses": with_errors(json!({"204": no_content}))}
            },
            "/tenants/{tenant}/tokens": {
                "parameters": [tenant],
                "get": {"summary": "List SCIM tokens (metadata only)", "responses": with_errors(json!({"200": ok("Tokens")}))},
                "post": {"summary": "Issue a SCIM token, shown once; ?download=true answers {baseUrl, token} as an attachment", "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewToken"}}}}, "responses": with_errors(json!({"201": ok("The token")}))}
            },
            "/tenants/{tenant}/tokens/{id}": {
                "parameters": [tenant, id("id")],
                "patch": {"summary": "Set or clear a token's expiry ('now' expires it)", "requestBody": body(json!({"type": "object", "properties": {"expires": {"type": ["string", "null"]}}})), "responses": with_errors(json!({"200": ok("The token")}))},
                "delete": {"summary": "Revoke a token", "responses": with_errors(json!({"204": no_content}))}
            },
            "/tenants/{tenant}/tokens/{id}/rotate": {
                "parameters": [tenant, id("id")],
                "post": {"summary": "Replace a token with a new one", "responses": with_errors(json!({"201": ok("The new token")}))}
            },
            "/tenants/{tenant}/schema": {
                "parameters": [tenant],
                "get": {"summary": "The tenant's extension URN and attribute definitions", "responses": with_errors(json!({"200": ok("The extension")}))}
            },
            "/tenants/{tenant}/schema/attributes/{name}": {
                "parameters": [tenant, id("name")],
                "put": {"summary": "Define or change a custom attribute", "requestBody": body(json!({"$ref": "#/components/schemas/AttributeDef"})), "responses": with_errors(json!({"200": ok("Changed"), "201": ok("Created"), "409": {"description": "Type change refused while users hold values"}}))},
                "delete": {"summary": "Remove a definition (stored values are hidden, not deleted)", "responses": with_errors(json!({"204": no_content}))}
            },
            "/tenants/{tenant}/users": {
                "parameters": [tenant],
                "get": {"summary": "Users, deleted tombstones included", "responses": with_errors(json!({"200": ok("Users")}))}
            },
            "/tenants/{tenant}/users/{id}": {
                "parameters": [tenant, id("id")],
                "get": {"summary": "A user, also when deleted", "responses": with_errors(json!({"200": ok("The user")}))}
            },
            "/tenants/{tenant}/users/{id}/{action}": {
                "parameters": [tenant, id("id"), {"name": "action", "in": "path", "required": true, "schema": {"enum": ["deactivate", "reactivate", "restore"]}}],
                "post": {"summary": "Deactivate, reactivate or restore a user from the application side", "responses": with_errors(json!({"200": ok("The user"), "409": {"description": "Restoring: the userName is taken"}}))}
            },
            "/tenants/{tenant}/groups": {
                "parameters": [tenant],
                "get": {"summary": "Groups", "responses": with_errors(json!({"200": ok("Groups")}))}
            },
            "/tenants/{tenant}/groups/{id}": {
                "parameters": [tenant, id("id")],
                "get": {"summary": "A group with its members", "responses": with_errors(json!({"200": ok("The group")}))}
            },
            "/openapi.json": {
                "get": {"summary": "This document", "security": [], "responses": {"200": ok("OpenAPI 3.1")}}
            }
        }
    })
}
