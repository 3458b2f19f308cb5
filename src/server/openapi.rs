//! The OpenAPI 3.1 documents the worker serves: the admin API at
//! `/admin/v1/openapi.json` and the SCIM API at `/scim/v2/openapi.json`.

use serde_json::{json, Map, Value};

use crate::proto::schema::{AttrType, Attribute, Mutability, ResourceType, Returned};
use crate::server::discovery::core_types;
use crate::server::events::EVENT_TYPES;

/// The types an endpoint may ask for: every event type and the patterns.
fn webhook_types() -> Vec<&'static str> {
    let mut t = EVENT_TYPES.to_vec();
    t.extend(["user.*", "group.*", "*"]);
    t
}

/// An OpenAPI 3.1 description of the admin API.
pub(crate) fn document(origin: &str) -> Value {
    let tenant = json!({"name": "tenant", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"}});
    let id = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let schema_ref = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let ok = |d: &str, schema: &str| json!({"description": d, "content": {"application/json": {"schema": schema_ref(schema)}}});
    let no_content = json!({"description": "Done"});
    // Every call may be refused these ways; the body is the SCIM Error form.
    let with_errors = |mut responses: Value, bad_request: bool| {
        let mut errors = vec![
            (
                "401",
                "Missing, malformed, wrongly signed or expired admin token",
            ),
            (
                "403",
                "The token's scope does not cover this tenant or operation",
            ),
            ("404", "No such tenant or resource"),
        ];
        if bad_request {
            errors.push(("400", "Invalid body or parameters"));
        }
        if let Some(r) = responses.as_object_mut() {
            for (code, d) in errors {
                r.insert(code.to_owned(), ok(d, "Error"));
            }
        }
        responses
    };
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let paging = json!([
        {"name": "startIndex", "in": "query", "schema": {"type": "integer"}},
        {"name": "count", "in": "query", "schema": {"type": "integer"}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "The `next` of the page before (instead of startIndex)"},
        {"name": "filter", "in": "query", "schema": {"type": "string"}, "description": "A SCIM filter (RFC 7644 §3.4.2.2), as the SCIM endpoint takes it"}
    ]);
    let mut user_paging = paging.clone();
    if let Some(list) = user_paging.as_array_mut() {
        list.push(json!({"name": "role", "in": "query", "schema": {"type": "string"}, "description": "Only users with this computed role"}));
    }
    let string = json!({"type": "string"});
    // The request log (see server::request_log), apart: one json! of the
    // whole document would pass the macro's recursion limit.
    let logged_request = json!({
        "type": "object", "additionalProperties": false,
        "required": ["at", "requestId", "method", "path", "query", "status", "scimType", "detail", "durationMs", "token", "userAgent", "leniencies", "body"],
        "properties": {
            "at": {"type": "string", "format": "date-time"}, "requestId": string, "method": string,
            "path": {"type": "string", "description": "As sent, without the query"},
            "query": {"type": ["string", "null"], "description": "The raw query string, without '?'; the value of a parameter whose name is a secret's (access_token...) '[redacted]'"},
            "status": {"type": "integer"},
            "scimType": {"type": ["string", "null"], "description": "Of an error answer"},
            "detail": {"type": ["string", "null"], "description": "Of an error answer"},
            "durationMs": {"type": "integer", "minimum": 0},
            "token": {"description": "The SCIM token that authenticated the request; null when none did",
                      "oneOf": [{"type": "null"}, {"type": "object", "required": ["id", "label"], "properties": {"id": string, "label": string}}]},
            "userAgent": {"type": ["string", "null"]},
            "leniencies": {"type": "array", "description": "What the request was let through: {kind, name} or {kind: unknownMembers, skipped: [ids]}",
                           "items": {"type": "object", "required": ["kind"], "properties": {"kind": string, "name": string, "skipped": {"type": "array", "items": string}}}},
            "body": {"type": ["string", "null"], "description": "The request body as compact JSON with every secret (password, token, secret... members) '[redacted]', cut after 4096 bytes and marked; '[N bytes, not JSON]' for another body; null when there is none or no token authenticated the request"}}
    });
    let request_log = json!({"type": "object", "required": ["requests", "next"], "properties": {
        "requests": {"type": "array", "items": schema_ref("LoggedRequest")},
        "next": {"type": ["string", "null"], "description": "The cursor of the next (older) page, for after; null on the last page"}}});
    let mut doc = json!({
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
                "Error": {"type": "object", "required": ["status"], "properties": {"status": string, "scimType": string, "detail": string}},
                "Settings": {"type": "object", "additionalProperties": false, "description": "Only the settings given change; the others keep their values (defaults: retain, ignore, skip, writes-and-errors, 7).", "properties": {
                    "deletePolicy": {"enum": ["retain", "remove"], "description": "DELETE /Users/{id}: keep a deactivated tombstone (retain) or remove the row."},
                    "unknownAttributes": {"enum": ["ignore", "reject"], "description": "Attributes, sub-attributes and schema URNs a write names that the tenant's schema does not define: ignored, not stored and logged (ignore), or 400 invalidValue (reject)."},
                    "unknownMembers": {"enum": ["skip", "reject"], "description": "Group members to add that are no users or groups of the tenant: skipped and logged, the others added (skip), or 400 invalidValue with nothing stored (reject)."},
                    "eventRetentionDays": {"type": "integer", "minimum": 1, "maximum": 365, "description": "How many days provisioning events are kept (default 30)."},
                    "requestLog": {"enum": ["writes-and-errors", "all"], "description": "Which SCIM requests the request log keeps (GET /tenants/{tenant}/requests): every request but a GET and every request answered 400 or more (writes-and-errors), or every request (all)."},
                    "requestLogRetentionDays": {"type": "integer", "minimum": 1, "maximum": 365, "description": "How many days the request log keeps an entry."},
                    "authentication": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"enum": ["token", "basic", "oauth"]}, "description": "How the tenant's IdP may authenticate: token (a SCIM token, as Authorization: Bearer <token> or the token alone), basic (a Basic credential) and oauth (access tokens of its OAuth clients, client credentials grant at /oauth/token). The first is the primary scheme of the tenant's ServiceProviderConfig. Removing a mode revokes its credentials."}}},
                "NewTenant": {"type": "object", "required": ["id"], "additionalProperties": false, "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"}, "name": string, "settings": schema_ref("Settings"),
                    "shard": {"type": "string", "description": "The D1 binding to put it on (DB, DB_2, ...); default: the eligible shard with the fewest tenants"},
                    "region": {"enum": ["eu", "fedramp", "wnam", "enam", "weur", "eeur", "apac", "oc"], "description": "Where its data must stay: only a shard with this label (DB_<n>_REGION) takes it"}}},
                "TenantUpdate": {"type": "object", "additionalProperties": false, "properties": {"name": string, "settings": schema_ref("Settings")}},
                "Tenant": {"type": "object", "required": ["id", "name", "settings", "created", "updated", "scimBaseUrl", "schemaUrn"], "properties": {
                    "id": string, "name": string, "settings": schema_ref("Settings"), "created": string, "updated": string, "scimBaseUrl": string, "schemaUrn": string,
                    "shard": {"type": "string", "description": "The D1 binding its data is on"}, "region": {"type": ["string", "null"], "description": "The region it was placed for, or its shard's label"}}},
                "Tenants": {"type": "object", "required": ["tenants"], "properties": {"tenants": {"type": "array", "items": schema_ref("Tenant")}}},
                "NewToken": {"type": "object", "additionalProperties": false, "properties": {"label": string, "expires": {"type": "string", "format": "date-time"}, "expiresInDays": {"type": "integer", "minimum": 0}}},
                "Token": {"type": "object", "required": ["id", "label", "created", "fingerprint"], "properties": {
                    "id": string, "label": string, "created": string, "expires": string, "lastUsed": string, "fingerprint": string,
                    "hash": false}},
                "IssuedToken": {"description": "The token itself is in this answer only", "type": "object", "required": ["token", "baseUrl"], "properties": {
                    "id": string, "label": string, "created": string, "expires": string, "fingerprint": string, "token": string, "baseUrl": string,
                    "previous": {"description": "After a rotation with graceHours: the old token, working until expires", "type": "object", "properties": {"id": string, "expires": string}}}},
                "BasicCredential": {"type": "object", "required": ["id", "username", "created", "fingerprint"], "properties": {
                    "id": string, "label": string, "username": string, "created": string, "lastUsed": {"type": ["string", "null"]}, "fingerprint": string, "password": false}},
                "AttributeDef": {"type": "object", "required": ["type"], "additionalProperties": false, "properties": {
                    "name": string,
                    "type": {"enum": ["string", "integer", "number", "boolean", "date", "dateTime", "dropdown", "currency", "uniqueNumber", "userReference"]},
                    "multiValued": {"type": "boolean"}, "required": {"type": "boolean"}, "caseExact": {"type": "boolean"},
                    "description": string, "values": {"type": "array", "items": string},
                    "unique": {"type": "boolean", "description": "No two live users may hold the same value (strings in any case unless caseExact; a currency by amount and code). Single-valued string, integer, number, date, dateTime, dropdown and currency only."}}},
                "Extension": {"type": "object", "required": ["urn", "attributes"], "properties": {
                    "urn": {"type": "string", "description": "The extension's URN in force: the tenant's own, or the default"},
                    "attributes": {"type": "array", "items": schema_ref("AttributeDef")}}},
                "ExtensionUrn": {"type": "object", "required": ["urn"], "additionalProperties": false, "properties": {
                    "urn": {"type": ["string", "null"], "maxLength": 255, "description": "An RFC 8141 URN, case kept, that neither equals nor ':'-prefixes (either way) a schema of RFC 7643/7644; null returns to the default"}}},
                "User": {"type": "object", "required": ["schemas", "id", "userName"], "properties": {"id": string, "userName": string, "active": {"type": "boolean"}, "deleted": string, "roles": {"type": "array", "items": string, "description": "Computed from the role mappings"}, "password": false}},
                "Users": {"type": "object", "required": ["totalResults", "startIndex", "users", "next"], "properties": {"totalResults": {"type": "integer"}, "startIndex": {"type": "integer"}, "users": {"type": "array", "items": schema_ref("User")}, "next": {"type": ["string", "null"]}}},
                "Group": {"type": "object", "required": ["schemas", "id", "displayName"], "properties": {"id": string, "displayName": string, "members": {"type": "array", "items": {"type": "object", "required": ["value"], "properties": {"value": string, "type": string, "display": string}}}}},
                "Groups": {"type": "object", "required": ["totalResults", "startIndex", "groups", "next"], "properties": {"totalResults": {"type": "integer"}, "startIndex": {"type": "integer"}, "groups": {"type": "array", "items": schema_ref("Group")}, "next": {"type": ["string", "null"]}}},
                "LoggedRequest": logged_request,
                "RequestLog": request_log
            }
        },
        "security": [{"adminJwt": []}],
        "paths": {
            "/tenants": {
                "get": {"operationId": "listTenants", "summary": "List tenants (platform scope)", "responses": with_errors(json!({"200": ok("Tenants", "Tenants")}), false)},
                "post": {"operationId": "createTenant", "summary": "Create a tenant (platform scope)", "requestBody": body(schema_ref("NewTenant")),
                         "responses": with_errors(json!({
                            "201": {"description": "The tenant", "content": {"application/json": {"schema": schema_ref("Tenant")}},
                                    "links": {"getTenant": {"operationId": "getTenant", "parameters": {"tenant": "$response.body#/id"}},
                                              "issueToken": {"operationId": "issueToken", "parameters": {"tenant": "$response.body#/id"}}}},
                            "409": ok("The id is taken", "Error")}), true)}
            },
            "/tenants/{tenant}": {
                "parameters": [tenant],
                "get": {"operationId": "getTenant", "summary": "Read a tenant", "responses": with_errors(json!({"200": ok("The tenant", "Tenant")}), false)},
                "patch": {"operationId": "updateTenant", "summary": "Update a tenant's name and settings", "requestBody": body(schema_ref("TenantUpdate")), "responses": with_errors(json!({"200": ok("The tenant", "Tenant")}), true)},
                "delete": {"operationId": "deleteTenant", "summary": "Delete a tenant, its data and its tokens (platform scope)", "responses": with_errors(json!({"204": no_content}), false)}
            },
            "/tenants/{tenant}/tokens": {
                "parameters": [tenant],
                "get": {"operationId": "listTokens", "summary": "List SCIM tokens (metadata only)", "responses": with_errors(json!({"200": ok("Tokens", "Tokens")}), false)},
                "post": {"operationId": "issueToken", "summary": "Issue a SCIM token, shown once; ?download=true answers {baseUrl, token} as an attachment",
                         "parameters": [{"name": "download", "in": "query", "schema": {"type": "boolean"}}],
                         "requestBody": {"content": {"application/json": {"schema": schema_ref("NewToken")}}},
                         "responses": with_errors(json!({"201": ok("The token", "IssuedToken")}), true)}
            },
            "/tenants/{tenant}/tokens/{id}": {
                "parameters": [tenant, id("id")],
                "patch": {"operationId": "setTokenExpiry", "summary": "Set or clear a token's expiry ('now' expires it)", "requestBody": body(json!({"type": "object", "additionalProperties": false, "properties": {"expires": {"type": ["string", "null"]}}})), "responses": with_errors(json!({"200": ok("The token", "Token")}), true)},
                "delete": {"operationId": "revokeToken", "summary": "Revoke a token", "responses": with_errors(json!({"204": no_content}), false)}
            },
            "/tenants/{tenant}/tokens/{id}/rotate": {
                "parameters": [tenant, id("id")],
                "post": {"operationId": "rotateToken", "summary": "Replace a token with a new one; with graceHours the old one keeps working that long (its id and new expiry in previous)",
                         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"graceHours": {"type": "integer", "minimum": 0, "maximum": 168}}}}}},
                         "responses": with_errors(json!({"201": ok("The new token", "IssuedToken")}), true)}
            },
            "/tenants/{tenant}/schema": {
                "parameters": [tenant],
                "get": {"operationId": "getSchema", "summary": "The tenant's extension URN and attribute definitions", "responses": with_errors(json!({"200": ok("The extension", "Extension")}), false)},
                "put": {"operationId": "putSchema", "summary": "Set the tenant's extension URN (null: the default); users' values move with it", "requestBody": body(schema_ref("ExtensionUrn")),
                        "responses": with_errors(json!({"200": ok("The extension", "Extension"), "409": ok("Another request changed the URN meanwhile", "Error")}), true)}
            },
            "/tenants/{tenant}/schema/attributes/{name}": {
                "parameters": [tenant, id("name")],
                "put": {"operationId": "putAttribute", "summary": "Define or change a custom attribute", "requestBody": body(schema_ref("AttributeDef")),
                        "responses": with_errors(json!({"200": ok("Changed", "AttributeDef"), "201": ok("Created", "AttributeDef"), "409": ok("Type change refused while users hold values, or unique refused while live users share a value", "Error")}), true)},
                "delete": {"operationId": "deleteAttribute", "summary": "Remove a definition (stored values are hidden, not deleted)", "responses": with_errors(json!({"204": no_content}), false)}
            },
            "/tenants/{tenant}/users": {
                "parameters": [tenant],
                "get": {"operationId": "listUsers", "summary": "Users, deleted tombstones included", "parameters": user_paging, "responses": with_errors(json!({"200": ok("Users", "Users")}), true)}
            },
            "/tenants/{tenant}/users/{id}": {
                "parameters": [tenant, id("id")],
                "get": {"operationId": "getUser", "summary": "A user, also when deleted", "responses": with_errors(json!({"200": ok("The user", "User")}), false)}
            },
            "/tenants/{tenant}/users/{id}/{action}": {
                "parameters": [tenant, id("id"), {"name": "action", "in": "path", "required": true, "schema": {"enum": ["deactivate", "reactivate", "restore"]}}],
                "post": {"operationId": "userAction", "summary": "Deactivate, reactivate or restore a user from the application side", "responses": with_errors(json!({"200": ok("The user", "User"), "409": ok("Restoring: the userName is taken", "Error")}), false)}
            },
            "/tenants/{tenant}/groups": {
                "parameters": [tenant],
                "get": {"operationId": "listGroups", "summary": "Groups", "parameters": paging, "responses": with_errors(json!({"200": ok("Groups", "Groups")}), true)}
            },
            "/tenants/{tenant}/groups/{id}": {
                "parameters": [tenant, id("id")],
                "get": {"operationId": "getGroup", "summary": "A group with its members", "responses": with_errors(json!({"200": ok("The group", "Group")}), false)}
            },
            "/tenants/{tenant}/requests": {
                "parameters": [tenant],
                "get": {"operationId": "listRequests", "summary": "The tenant's SCIM request log, newest first",
                        "parameters": [
                            {"name": "after", "in": "query", "schema": {"type": "string"}, "description": "The next cursor of the page before; empty or absent: the newest entries"},
                            {"name": "status", "in": "query", "schema": {"type": "string", "pattern": "^([1-5][0-9][0-9]|[1-5][xX][xX])$"}, "description": "A status code (409) or class (4xx)"},
                            {"name": "method", "in": "query", "schema": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]}, "description": "An HTTP method, in any case"},
                            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
                        "responses": with_errors(json!({"200": ok("A page of the log", "RequestLog")}), true)}
            },
            "/openapi.json": {
                "get": {"operationId": "openapi", "summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            }
        }
    });
    // Events and webhooks (see server::events, server::webhooks), added
    // apart: one json! of the whole document would pass the macro's
    // recursion limit.
    let summary = json!({"type": "object", "required": ["type", "id"], "properties": {
        "type": {"enum": ["User", "Group"]}, "id": string, "externalId": string, "userName": string, "displayName": string}});
    let event = json!({"type": "object", "required": ["id", "type", "tenant", "sequence", "occurredAt", "actor", "requestId", "resource", "data"],
        "properties": {
            "id": {"type": "string", "pattern": "^evt_"}, "type": {"enum": EVENT_TYPES}, "tenant": string,
            "sequence": {"type": "integer", "minimum": 1}, "occurredAt": {"type": "string", "format": "date-time"},
            "actor": {"type": "object", "required": ["type", "id", "label"], "properties": {"type": {"enum": ["scim", "admin", "system"]}, "id": string, "label": string}},
            "requestId": string, "resource": summary, "data": {"type": "object"},
            "changed": {"type": "array", "items": string}, "previous": {"type": "object"}, "retained": {"type": "boolean"}}});
    let events_page = json!({"type": "object", "required": ["events", "next"], "properties": {
        "events": {"type": "array", "items": schema_ref("Event")},
        "next": {"type": ["string", "null"], "description": "The cursor of the next page (a sequence), for after; null when no more events follow now"}}});
    let types = json!({"type": "array", "minItems": 1, "items": {"enum": webhook_types()}});
    let webhook = json!({"type": "object", "required": ["id", "url", "types", "enabled", "created", "updated"], "properties": {
        "id": string, "url": string, "types": types, "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
        "disabledReason": {"type": ["string", "null"]}, "previousSecretExpires": {"type": ["string", "null"]},
        "created": string, "updated": string, "secret": {"type": "string", "pattern": "^whsec_", "description": "Only when created or rotated"}}});
    let new_webhook = json!({"type": "object", "required": ["url"], "additionalProperties": false, "properties": {
        "url": {"type": "string", "description": "https to a public host (http://127.0.0.1 where WEBHOOK_ALLOW_LOCAL is set)"},
        "types": types, "description": string}});
    let webhook_change = json!({"type": "object", "additionalProperties": false, "properties": {
        "url": string, "types": types, "description": string, "enabled": {"type": "boolean"}}});
    let delivery = json!({"type": "object", "required": ["id", "event", "state", "attempts"], "properties": {
        "id": string, "event": {"type": "object"}, "state": {"enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "integer"}, "lastStatus": {"type": ["integer", "null"]}, "lastError": {"type": ["string", "null"]},
        "nextAttempt": {"type": ["string", "null"]}, "created": string, "updated": string}});
    let deliveries = json!({"type": "object", "required": ["deliveries", "next"], "properties": {
        "deliveries": {"type": "array", "items": schema_ref("Delivery")}, "next": {"type": ["string", "null"]}}});
    let tested = json!({"type": "object", "required": ["delivered", "event"], "properties": {
        "delivered": {"type": "boolean"}, "status": {"type": ["integer", "null"]}, "error": string, "event": {"type": "object"}}});
    let webhooks = json!({"type": "object", "required": ["webhooks"], "properties": {"webhooks": {"type": "array", "items": schema_ref("Webhook")}}});
    let mut schemas = vec![
        ("Event", event),
        ("Events", events_page),
        ("Webhook", webhook),
        ("Webhooks", webhooks),
        ("NewWebhook", new_webhook),
        ("WebhookChange", webhook_change),
        ("Delivery", delivery),
        ("Deliveries", deliveries),
        ("WebhookTest", tested),
        (
            "OAuthClient",
            json!({"type": "object", "required": ["clientId", "label", "created"], "properties": {
                    "clientId": string, "label": string, "created": string, "secretExpires": {"type": ["string", "null"]}, "rotated": {"type": ["string", "null"]},
                    "previousSecretExpires": {"type": ["string", "null"]}, "lastUsed": {"type": ["string", "null"]}, "clientSecret": false}}),
        ),
        (
            "OAuthClientList",
            json!({"type": "object", "required": ["oauthClients"], "properties": {"oauthClients": {"type": "array", "items": schema_ref("OAuthClient")}}}),
        ),
        (
            "IssuedOAuthClient",
            json!({"description": "The secret is in this answer only", "type": "object", "required": ["clientId", "clientSecret", "tokenEndpoint", "baseUrl"], "properties": {
                    "clientId": string, "clientSecret": string, "tokenEndpoint": string, "baseUrl": string, "label": string, "created": string,
                    "secretExpires": {"type": ["string", "null"]}, "rotated": {"type": ["string", "null"]}, "previousSecretExpires": {"type": ["string", "null"]}, "lastUsed": {"type": ["string", "null"]}}}),
        ),
        (
            "BasicCredentialList",
            json!({"type": "object", "required": ["basicCredentials"], "properties": {"basicCredentials": {"type": "array", "items": schema_ref("BasicCredential")}}}),
        ),
        (
            "IssuedBasicCredential",
            json!({"description": "The password is in this answer only", "type": "object", "required": ["id", "username", "password", "baseUrl"], "properties": {
                    "id": string, "label": string, "username": string, "password": string, "created": string, "lastUsed": {"type": ["string", "null"]}, "fingerprint": string, "baseUrl": string}}),
        ),
        (
            "Tokens",
            json!({"type": "object", "required": ["tokens"], "properties": {"tokens": {"type": "array", "items": schema_ref("Token")}}}),
        ),
        (
            "ConnectCode",
            json!({"type": "object", "required": ["code", "expires"], "properties": {"code": {"type": "string", "pattern": "^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"}, "expires": {"type": "string"}}}),
        ),
        (
            "Grants",
            json!({"type": "object", "required": ["grants"], "properties": {"grants": {"type": "array", "items": {"type": "object", "required": ["id", "client", "how", "created"], "properties": {
            "id": {"type": "string"}, "client": {"type": "string"}, "how": {"enum": ["connect-code", "admin-token"]}, "created": {"type": "string"},
            "lastUsed": {"type": ["string", "null"]}, "revoked": {"type": ["string", "null"]}, "revokedReason": {"type": ["string", "null"]}}}}}}),
        ),
        (
            "SetupLink",
            json!({"type": "object", "required": ["id", "url", "expires"], "properties": {"id": {"type": "string"}, "url": {"type": "string", "description": "Holds the credential in its fragment: hand it to the customer's IT admin"}, "expires": {"type": "string"}}}),
        ),
        (
            "SetupLinks",
            json!({"type": "object", "required": ["setupLinks"], "properties": {"setupLinks": {"type": "array", "items": {"type": "object", "required": ["id", "created", "expires"], "properties": {
            "id": {"type": "string"}, "created": {"type": "string"}, "expires": {"type": "string"}, "revoked": {"type": ["string", "null"]}, "lastUsed": {"type": ["string", "null"]}, "url": false}}}}}),
        ),
        (
            "WhoAmI",
            json!({"type": "object", "required": ["scope", "tenant", "setupLink"], "properties": {"scope": {"enum": ["platform", "tenant"]}, "tenant": {"type": ["string", "null"]}, "setupLink": {"type": "boolean"}, "subject": {"type": ["string", "null"]}}}),
        ),
    ];
    let query = |name: &str, schema: Value, d: &str| json!({"name": name, "in": "query", "schema": schema, "description": d});
    let limit = query(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
        "Entries per page",
    );
    let mut paths = vec![
        (
            "/tenants/{tenant}/events",
            json!({"parameters": [tenant],
            "get": {"operationId": "listEvents", "summary": "The tenant's provisioning events in sequence order (the change feed)",
                    "parameters": [
                        query("after", json!({"type": "string", "pattern": "^[0-9]*$"}), "A cursor: the sequence of the last event read"),
                        query("types", string.clone(), "Comma list of event types or prefixes like user.*"),
                        query("resource", string.clone(), "Events about this user or group, or with it as the member"),
                        limit.clone()],
                    "responses": with_errors(json!({"200": ok("A page of events", "Events")}), true)}}),
        ),
        (
            "/tenants/{tenant}/webhooks",
            json!({"parameters": [tenant],
            "get": {"operationId": "listWebhooks", "summary": "The tenant's webhook endpoints (no secrets)", "responses": with_errors(json!({"200": ok("Endpoints", "Webhooks")}), false)},
            "post": {"operationId": "createWebhook", "summary": "Add an endpoint; its signing secret is shown once", "requestBody": body(schema_ref("NewWebhook")),
                     "responses": with_errors(json!({"201": ok("The endpoint with its secret", "Webhook"), "409": ok("Too many endpoints", "Error"), "503": ok("SECRETS_KEY is not set", "Error")}), true)}}),
        ),
        (
            "/tenants/{tenant}/webhooks/{id}",
            json!({"parameters": [tenant, id("id")],
            "get": {"operationId": "getWebhook", "summary": "An endpoint", "responses": with_errors(json!({"200": ok("The endpoint", "Webhook")}), false)},
            "patch": {"operationId": "updateWebhook", "summary": "Change an endpoint's url, types, description or enabled", "requestBody": body(schema_ref("WebhookChange")),
                      "responses": with_errors(json!({"200": ok("The endpoint", "Webhook")}), true)},
            "delete": {"operationId": "deleteWebhook", "summary": "Remove an endpoint and its deliveries", "responses": with_errors(json!({"204": no_content}), false)}}),
        ),
        (
            "/tenants/{tenant}/webhooks/{id}/rotate-secret",
            json!({"parameters": [tenant, id("id")],
            "post": {"operationId": "rotateWebhookSecret", "summary": "A new secret, shown once; the old one signs too for 24 hours",
                     "responses": with_errors(json!({"200": ok("The endpoint with its new secret", "Webhook"), "503": ok("SECRETS_KEY is not set", "Error")}), false)}}),
        ),
        (
            "/tenants/{tenant}/webhooks/{id}/test",
            json!({"parameters": [tenant, id("id")],
            "post": {"operationId": "testWebhook", "summary": "Send a webhook.test event now",
                     "responses": with_errors(json!({"200": ok("How the receiver answered", "WebhookTest"), "503": ok("SECRETS_KEY is not set", "Error")}), false)}}),
        ),
        (
            "/tenants/{tenant}/webhooks/{id}/deliveries",
            json!({"parameters": [tenant, id("id")],
            "get": {"operationId": "listDeliveries", "summary": "An endpoint's deliveries, newest event first",
                    "parameters": [query("after", json!({"type": "string", "pattern": "^[0-9]*$"}), "The next cursor of the page before"), limit],
                    "responses": with_errors(json!({"200": ok("A page of deliveries", "Deliveries")}), true)}}),
        ),
        (
            "/tenants/{tenant}/webhooks/{id}/deliveries/{delivery}/retry",
            json!({"parameters": [tenant, id("id"), id("delivery")],
            "post": {"operationId": "retryDelivery", "summary": "Attempt a delivery again from its first attempt, now",
                     "responses": with_errors(json!({"202": ok("The delivery", "Delivery")}), false)}}),
        ),
        (
            "/tenants/{tenant}/basic-credentials",
            json!({
                "parameters": [tenant],
                "get": {"operationId": "listBasicCredentials", "summary": "The tenant's Basic credentials (never their passwords)",
                        "responses": with_errors(json!({"200": ok("Basic credentials", "BasicCredentialList")}), false)},
                "post": {"operationId": "issueBasicCredential", "summary": "A username and generated password, the password shown once (409 unless settings.authentication has basic)",
                         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"label": {"type": "string"}}}}}},
                         "responses": with_errors(json!({"201": ok("The credential with its password, shown once", "IssuedBasicCredential"), "409": ok("Basic is off for this tenant (settings.authentication)", "Error")}), true)}
            }),
        ),
        (
            "/tenants/{tenant}/basic-credentials/{id}",
            json!({
                "parameters": [tenant, id("id")],
                "delete": {"operationId": "revokeBasicCredential", "summary": "Revoke: the next request with it fails",
                           "responses": with_errors(json!({"204": no_content}), false)}
            }),
        ),
        (
            "/tenants/{tenant}/oauth-clients",
            json!({
                "parameters": [tenant],
                "get": {"operationId": "listOAuthClients", "summary": "The tenant's OAuth clients (client credentials grant; never their secrets)",
                        "responses": with_errors(json!({"200": ok("OAuth clients", "OAuthClientList")}), false)},
                "post": {"operationId": "createOAuthClient", "summary": "A client id and secret for the tenant's IdP (Entra), the secret shown once (409 unless settings.authentication has oauth)",
                         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"label": string, "secretExpiresInDays": {"type": "integer", "minimum": 1, "maximum": 1095}}}}}},
                         "responses": with_errors(json!({"201": ok("The client with its secret, shown once", "IssuedOAuthClient"), "409": ok("OAuth is off for this tenant (settings.authentication)", "Error")}), true)}
            }),
        ),
        (
            "/tenants/{tenant}/oauth-clients/{id}",
            json!({
                "parameters": [tenant, id("id")],
                "get": {"operationId": "getOAuthClient", "summary": "Read a client", "responses": with_errors(json!({"200": ok("The client", "OAuthClient")}), false)},
                "delete": {"operationId": "deleteOAuthClient", "summary": "Delete a client; its access tokens stop at once", "responses": with_errors(json!({"204": no_content}), false)}
            }),
        ),
        (
            "/tenants/{tenant}/oauth-clients/{id}/rotate-secret",
            json!({
                "parameters": [tenant, id("id")],
                "post": {"operationId": "rotateOAuthClientSecret", "summary": "A new secret, shown once; the old one works for graceHours more (default 24, at most 168)",
                         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"graceHours": {"type": "integer", "minimum": 0, "maximum": 168}, "secretExpiresInDays": {"type": "integer", "minimum": 1, "maximum": 1095}}}}}},
                         "responses": with_errors(json!({"200": ok("The client with its new secret, shown once", "IssuedOAuthClient")}), true)}
            }),
        ),
        (
            "/tenants/{tenant}/oauth/connect-codes",
            json!({"parameters": [tenant],
            "post": {"operationId": "createConnectCode", "summary": "A one-time code (60 minutes) the tenant's admin types into Okta's consent page (409 unless settings.authentication has oauth)",
                     "responses": with_errors(json!({"201": ok("The code, shown once", "ConnectCode"), "409": ok("OAuth is off for this tenant (settings.authentication)", "Error")}), false)}}),
        ),
        (
            "/tenants/{tenant}/oauth/grants",
            json!({"parameters": [tenant],
            "get": {"operationId": "listGrants", "summary": "The tenant's authorizations of the Okta client (authorization code grant), newest first",
                    "responses": with_errors(json!({"200": ok("Grants", "Grants")}), false)}}),
        ),
        (
            "/tenants/{tenant}/oauth/grants/{id}",
            json!({"parameters": [tenant, id("id")],
            "delete": {"operationId": "revokeGrant", "summary": "Revoke an authorization: its refresh and access tokens stop at once",
                       "responses": with_errors(json!({"204": no_content}), false)}}),
        ),
        (
            "/whoami",
            json!({"get": {"operationId": "whoami", "summary": "The credential's scope (platform, or tenant and its id), whether it is a setup link, its subject",
                   "responses": with_errors(json!({"200": ok("The scope", "WhoAmI")}), false)}}),
        ),
        (
            "/tenants/{tenant}/setup-links",
            json!({"parameters": [tenant],
            "get": {"operationId": "listSetupLinks", "summary": "The tenant's setup links (never their credentials); not with a setup link's credential",
                    "responses": with_errors(json!({"200": ok("Setup links", "SetupLinks")}), false)},
            "post": {"operationId": "createSetupLink", "summary": "A link for the customer's IT admin: /setup/#token=<credential>, the tenant's scope until it expires (default 72 h, at most 720) or is revoked",
                     "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"expiresInHours": {"type": "integer", "minimum": 1, "maximum": 720}}}}}},
                     "responses": with_errors(json!({"201": ok("The link, shown once", "SetupLink")}), true)}}),
        ),
        (
            "/tenants/{tenant}/setup-links/{id}",
            json!({"parameters": [tenant, id("id")],
            "delete": {"operationId": "revokeSetupLink", "summary": "Revoke a setup link: its credential stops at once",
                       "responses": with_errors(json!({"204": no_content}), false)}}),
        ),
    ];
    let selector = |k: &str| json!({"type": "object", "additionalProperties": false, "required": [k], "properties": {k: {"type": "string", "minLength": 1}}});
    let group_selector =
        json!({"oneOf": [selector("id"), selector("externalId"), selector("displayName")]});
    let mapping = json!({"type": "object", "additionalProperties": false, "required": ["group", "role"],
                         "properties": {"group": group_selector, "role": {"type": "string"}}});
    schemas.extend([
        ("Role", json!({"type": "object", "properties": {"name": {"type": "string"}, "description": {"type": ["string", "null"]}, "created": {"type": "string"}, "updated": {"type": "string"}, "users": {"type": "integer", "description": "Live users with the role"}}})),
        ("Roles", json!({"type": "object", "properties": {"roles": {"type": "array", "items": schema_ref("Role")}}})),
        ("RoleMappingsInput", json!({"type": "object", "additionalProperties": false, "required": ["mappings"],
            "properties": {"mappings": {"type": "array", "maxItems": 100, "items": mapping}, "defaultRole": {"type": ["string", "null"]}}})),
        ("RoleMappings", json!({"type": "object", "properties": {
            "mappings": {"type": "array", "items": {"type": "object", "properties": {"group": {"type": "object"}, "role": {"type": "string"},
                "groups": {"type": "array", "description": "The groups the rule matches now", "items": {"type": "object", "properties": {"id": {"type": "string"}, "displayName": {"type": "string"}}}}}}},
            "defaultRole": {"type": ["string", "null"]},
            "usersChanged": {"type": "integer", "description": "After a PUT: the users whose roles changed"}}})),
    ]);
    schemas.push(("Connection", json!({"type": "object", "properties": {
        "baseUrl": {"type": "string"},
        "credentials": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"enum": ["token", "basic", "oauth-client"]}, "id": {"type": "string"}, "label": {"type": "string"},
            "lastSeen": {"type": ["string", "null"], "description": "Its last recorded use or request-log entry, whichever is later"},
            "userAgent": {"type": ["string", "null"]}, "idp": {"type": ["string", "null"], "description": "The IdP its User-Agent names (Okta, Microsoft Entra ID, ...)"},
            "lastRequest": {"type": ["object", "null"]}}}},
        "lastRequest": {"type": ["object", "null"], "description": "The newest request in the request log, with its credential and IdP"}}})));
    paths.push((
        "/tenants/{tenant}/connection",
        json!({"parameters": [tenant],
        "get": {"operationId": "getConnection", "summary": "The live connection status: each credential's last use and the IdP that made it",
                "responses": with_errors(json!({"200": ok("The status", "Connection")}), false)}}),
    ));
    schemas.push(("ImportResult", json!({"type": "object", "properties": {
        "loaded": {"type": "integer", "description": "Lines of this part loaded"},
        "resumeAt": {"type": ["integer", "null"], "description": "The line the next part starts at (null: complete)"},
        "complete": {"type": "boolean"}, "counts": {"type": "object"}}})));
    schemas.push(("ImportStatus", json!({"type": "object", "required": ["inProgress"], "properties": {
        "inProgress": {"type": "boolean"}, "resumeAt": {"type": "integer"}, "phase": {"type": "string"},
        "counts": {"type": "object"}, "source": {"type": "string"}, "started": {"type": "string"}}})));
    paths.push((
        "/tenants/{tenant}/export",
        json!({"parameters": [tenant],
        "get": {"operationId": "exportTenant", "summary": "The tenant's directory as NDJSON, streamed: header, tenant settings, attribute definitions, roles and rules, users (tombstones too), groups, memberships, end (with counts). No credentials, webhooks, connectors, events or request log.",
                "responses": with_errors(json!({"200": {"description": "NDJSON lines", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}}), false)}}),
    ));
    paths.push((
        "/tenants/{tenant}/import",
        json!({"parameters": [tenant],
        "get": {"operationId": "importStatus", "summary": "Where the tenant's import is (where to resume)",
                "responses": with_errors(json!({"200": ok("The status", "ImportStatus")}), false)},
        "post": {"operationId": "importTenant", "summary": "Load an export into an empty tenant, in parts: the body holds the lines from ?line= on; each part is checked whole first",
                "parameters": [{"name": "line", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "The number of the body's first line in the export (from 0)"}],
                "requestBody": {"required": true, "description": "NDJSON lines; sent as application/x-ndjson or text/plain",
                    "content": {"text/plain": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": with_errors(json!({"200": ok("What was loaded", "ImportResult"),
                    "409": ok("The tenant is not empty, or the part does not start where the import is (resumeAt says where)", "Error")}), true)}}),
    ));
    schemas.extend([
        ("OktaConnector", json!({"type": "object", "properties": {
            "kind": {"const": "okta"}, "orgUrl": {"type": "string"}, "tokenLast4": {"type": "string", "description": "The API token itself is never shown"},
            "created": {"type": "string"}, "updated": {"type": "string"},
            "rules": {"type": "object", "properties": {"deactivateUsers": {"type": "boolean"}}},
            "lastTest": {"type": ["object", "null"], "description": "The last test: ok, at, and the token's user or the error"}}})),
        ("OktaUser", json!({"type": "object", "properties": {
            "id": {"type": "string"}, "status": {"type": "string", "description": "STAGED, PROVISIONED, ACTIVE, ..., DEPROVISIONED"},
            "login": {"type": "string"}, "profile": {"type": "object"}, "created": {"type": ["string", "null"]},
            "activated": {"type": ["string", "null"]}, "lastLogin": {"type": ["string", "null"]},
            "okta": {"type": "object", "description": "Okta's user object as it answered"}}})),
        ("OktaError", json!({"type": "object", "properties": {
            "status": {"type": "string"}, "detail": {"type": "string", "description": "What happened and what to do"},
            "okta": {"type": ["object", "null"], "description": "Okta's error: status, errorCode, errorSummary, errorId (for Okta support), errorCauses"}}})),
    ]);
    let okta_errors = |ok_: Value| {
        let mut r = with_errors(ok_, true);
        r["429"] = ok(
            "Okta's rate limit: retry after Retry-After seconds",
            "OktaError",
        );
        r["502"] = ok(
            "Okta refused the token (401/403), failed (5xx) or could not be reached",
            "OktaError",
        );
        r["504"] = ok("Okta did not answer in time", "OktaError");
        r
    };
    let okta_user = json!({"name": "user", "in": "path", "required": true, "schema": {"type": "string"}, "description": "An Okta user id or login"});
    paths.extend([
        (
            "/tenants/{tenant}/connectors/okta",
            json!({"parameters": [tenant],
            "get": {"operationId": "getOktaConnector", "summary": "The tenant's Okta connection (never its API token)",
                    "responses": with_errors(json!({"200": ok("The connector", "OktaConnector")}), false)},
            "put": {"operationId": "putOktaConnector", "summary": "Connect the customer's Okta org: its URL and an API token (stored AES-256-GCM sealed)",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["orgUrl", "apiToken"],
                        "properties": {"orgUrl": {"type": "string", "example": "https://acme.okta.com"}, "apiToken": {"type": "string", "writeOnly": true}}}}}},
                    "responses": with_errors(json!({"200": ok("The connector", "OktaConnector"), "503": ok("SECRETS_KEY is not set", "Error")}), true)},
            "delete": {"operationId": "deleteOktaConnector", "summary": "Forget the connection and its token",
                       "responses": with_errors(json!({"204": no_content}), false)}}),
        ),
        (
            "/tenants/{tenant}/connectors/okta/test",
            json!({"parameters": [tenant],
            "post": {"operationId": "testOktaConnector", "summary": "Call Okta with the token: who it belongs to, or what is wrong (kept as lastTest)",
                     "responses": okta_errors(json!({"200": {"description": "ok, at, and the token's user (id, login, name)", "content": {"application/json": {"schema": {"type": "object"}}}}}))}}),
        ),
        (
            "/tenants/{tenant}/connectors/okta/rules",
            json!({"parameters": [tenant],
            "put": {"operationId": "putOktaRules", "summary": "deactivateUsers: when the application deactivates a user (admin API), deactivate the matching Okta user",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["deactivateUsers"], "properties": {"deactivateUsers": {"type": "boolean"}}}}}},
                    "responses": with_errors(json!({"200": ok("The connector", "OktaConnector")}), true)}}),
        ),
        (
            "/tenants/{tenant}/connectors/okta/users",
            json!({"parameters": [tenant],
            "get": {"operationId": "searchOktaUsers", "summary": "Find Okta users by name (\"Bob\", \"Bob Ross\") or email prefix",
                    "parameters": [{"name": "search", "in": "query", "required": true, "schema": {"type": "string"}},
                                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}}],
                    "responses": okta_errors(json!({"200": {"description": "Users", "content": {"application/json": {"schema": {"type": "object", "properties": {"users": {"type": "array", "items": schema_ref("OktaUser")}}}}}}}))},
            "post": {"operationId": "createOktaUser", "summary": "Add a user to the Okta org (activated unless activate is false: STAGED)",
                     "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["profile"],
                         "properties": {"profile": {"type": "object", "required": ["firstName", "lastName", "email", "login"]}, "activate": {"type": "boolean", "default": true}}}}}},
                     "responses": okta_errors(json!({"201": ok("The new Okta user", "OktaUser")}))}}),
        ),
        (
            "/tenants/{tenant}/connectors/okta/users/{user}",
            json!({"parameters": [tenant, okta_user.clone()],
            "get": {"operationId": "getOktaUser", "summary": "An Okta user by id or login",
                    "responses": okta_errors(json!({"200": ok("The Okta user", "OktaUser")}))}}),
        ),
        (
            "/tenants/{tenant}/connectors/okta/users/{user}/deactivate",
            json!({"parameters": [tenant, okta_user],
            "post": {"operationId": "deactivateOktaUser", "summary": "Deactivate an Okta user; 409 when it is deprovisioned already (deactivate is then not called)",
                     "responses": okta_errors(json!({"200": ok("The deactivated user", "OktaUser"), "409": ok("Deprovisioned already", "Error")}))}}),
        ),
    ]);
    let role_name = json!({"name": "role", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}});
    paths.extend([
        (
            "/tenants/{tenant}/roles",
            json!({"parameters": [tenant],
            "get": {"operationId": "listRoles", "summary": "The application's roles, with how many users have each",
                    "responses": with_errors(json!({"200": ok("Roles", "Roles")}), false)}}),
        ),
        (
            "/tenants/{tenant}/roles/{role}",
            json!({"parameters": [tenant, role_name],
            "put": {"operationId": "putRole", "summary": "Define a role (201) or set its description (200)",
                    "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"description": {"type": "string", "maxLength": 500}}}}}},
                    "responses": with_errors(json!({"200": ok("The role", "Role"), "201": ok("The new role", "Role")}), true)},
            "delete": {"operationId": "deleteRole", "summary": "Delete a role no mapping or default names",
                       "responses": with_errors(json!({"204": no_content, "409": ok("A mapping or the default role names it", "Error")}), false)}}),
        ),
        (
            "/tenants/{tenant}/role-mappings",
            json!({"parameters": [tenant],
            "get": {"operationId": "getRoleMappings", "summary": "The ordered group-to-role rules, each with the groups it matches now, and the default role",
                    "responses": with_errors(json!({"200": ok("The rules", "RoleMappings")}), false)},
            "put": {"operationId": "putRoleMappings", "summary": "Replace the rules and the default role; every user's roles are recomputed in the same batch, with user.roles_changed events",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema_ref("RoleMappingsInput")}}},
                    "responses": with_errors(json!({"200": ok("The rules, and usersChanged", "RoleMappings"), "409": ok("A role was deleted meanwhile", "Error")}), true)}}),
        ),
    ]);
    for (name, schema) in schemas {
        doc["components"]["schemas"][name] = schema;
    }
    for (path, item) in paths {
        doc["paths"][path] = item;
    }
    doc
}

/// The JSON Schema of one SCIM attribute, from its definition (RFC 7643 §2.3,
/// §7). In responses a `returned: never` attribute must be absent (`false`).
fn attribute_schema(a: &Attribute, response: bool) -> Value {
    let one = match a.attr_type {
        AttrType::String => json!({"type": "string"}),
        AttrType::Boolean => json!({"type": "boolean"}),
        AttrType::Decimal => json!({"type": "number"}),
        AttrType::Integer => json!({"type": "integer"}),
        AttrType::DateTime => json!({"type": "string", "format": "date-time"}),
        AttrType::Binary => json!({"type": "string", "contentEncoding": "base64"}),
        AttrType::Reference => json!({"type": "string"}),
        AttrType::Complex => object_schema(&a.sub_attributes, response),
    };
    let mut one = one;
    if !a.description.is_empty() {
        if let Some(m) = one.as_object_mut() {
            m.insert("description".into(), Value::String(a.description.clone()));
        }
    }
    if a.multi_valued {
        json!({"type": "array", "items": one})
    } else {
        one
    }
}

/// An object whose properties are `attrs`. Attribute names are
/// case-insensitive in SCIM, so other properties are not forbidden.
fn object_schema(attrs: &[Attribute], response: bool) -> Value {
    let mut props = Map::new();
    for a in attrs {
        if response && a.returned == Returned::Never {
            props.insert(a.name.clone(), Value::Bool(false));
        } else if !response && a.mutability == Mutability::ReadOnly {
            // Sent read-only attributes are ignored (RFC 7644 §3.5.1).
            continue;
        } else {
            props.insert(a.name.clone(), attribute_schema(a, response));
        }
    }
    if response {
        json!({"type": "object", "properties": props})
    } else {
        // Requests are described in their canonical spelling only, so that
        // generated examples reach past attribute-name validation.
        json!({"type": "object", "properties": props, "additionalProperties": false})
    }
}

/// A User or Group as sent (`response == false`) or as answered.
fn resource_schema(rt: &ResourceType, response: bool) -> Value {
    let mut schema = object_schema(&rt.schema.attributes, response);
    let urns: Vec<&str> = rt.all_schema_urns();
    if let Some(m) = schema.as_object_mut() {
        if let Some(Value::Object(props)) = m.get_mut("properties") {
            let schemas = if response {
                json!({"type": "array", "items": {"type": "string"}, "minItems": 1})
            } else {
                json!({"type": "array", "items": {"enum": urns}, "minItems": 1,
                       "contains": {"const": rt.schema.id}, "uniqueItems": true})
            };
            props.insert("schemas".into(), schemas);
            for ext in &rt.extensions {
                props.insert(
                    ext.schema.id.clone(),
                    object_schema(&ext.schema.attributes, response),
                );
            }
            if response {
                props.insert("meta".into(), json!({"$ref": "#/components/schemas/Meta"}));
            }
        }
        let required: Vec<&str> = if response {
            vec!["schemas", "id"]
        } else {
            rt.schema
                .attributes
                .iter()
                .filter(|a| a.required && a.mutability != Mutability::ReadOnly)
                .map(|a| a.name.as_str())
                .chain(["schemas"])
                .collect()
        };
        m.insert("required".into(), json!(required));
        m.insert(
            "description".into(),
            Value::String(format!(
                "{} (schemas {}); a tenant's own extension appears as one more URN-named object.",
                rt.name,
                urns.join(", ")
            )),
        );
    }
    schema
}

/// An OpenAPI 3.1 description of the SCIM API of every tenant (RFC 7644),
/// generated from the same schema definitions that validate requests.
pub(crate) fn scim_document(origin: &str) -> Value {
    let types = core_types();
    let mut schemas = Map::new();
    for rt in &types {
        schemas.insert(rt.name.clone(), resource_schema(rt, true));
        schemas.insert(format!("{}Input", rt.name), resource_schema(rt, false));
    }
    let other: Value = json!({
        "Meta": {"type": "object", "properties": {
            "resourceType": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "lastModified": {"type": "string", "format": "date-time"},
            "location": {"type": "string"},
            "version": {"type": "string"}}},
        "Error": {"type": "object", "required": ["schemas", "status"], "properties": {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:Error"}},
            "status": {"type": "string", "pattern": "^[1-5][0-9][0-9]$"},
            "scimType": {"enum": ["invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive", "invalidCursor", "expiredCursor", "invalidCount"]},
            "detail": {"type": "string"}}},
        "ListResponse": {"type": "object", "required": ["schemas", "totalResults"], "properties": {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:ListResponse"}},
            "totalResults": {"type": "integer", "minimum": 0},
            "startIndex": {"type": "integer", "minimum": 1},
            "itemsPerPage": {"type": "integer", "minimum": 0},
            "nextCursor": {"type": "string"},
            "previousCursor": {"type": "string"},
            "Resources": {"type": "array", "items": {"type": "object", "required": ["schemas", "id"]}}}},
        "SearchRequest": {"type": "object", "required": ["schemas"], "additionalProperties": false, "properties": {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "minItems": 1, "maxItems": 1},
            "attributes": {"type": "array", "items": {"type": "string"}},
            "excludedAttributes": {"type": "array", "items": {"type": "string"}},
            "filter": {"type": "string"},
            "sortBy": {"type": "string"},
            "sortOrder": {"enum": ["ascending", "descending"]},
            "startIndex": {"type": "integer"},
            "count": {"type": "integer"},
            "cursor": {"type": "string"}}},
        "PatchOp": {"type": "object", "required": ["schemas", "Operations"], "properties": {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "minItems": 1, "maxItems": 1},
            "Operations": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["op"], "additionalProperties": false, "properties": {
                "op": {"description": "Any case (Microsoft Entra ID capitalises)", "enum": ["add", "remove", "replace", "Add", "Remove", "Replace"]},
                "path": {"type": "string"},
                "value": {}}}}}},
        "BulkRequest": {"type": "object", "required": ["schemas", "Operations"], "properties": {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "minItems": 1, "maxItems": 1},
            "failOnErrors": {"type": "integer", "minimum": 1},
            "Operations": {"type": "array", "items": {"type": "object", "required": ["method", "path"], "additionalProperties": false, "properties": {
                "method": {"enum": ["POST", "PUT", "PATCH", "DELETE"]},
                "bulkId": {"type": "string"},
                "version": {"type": "string"},
                "path": {"type": "string", "pattern": "^/(Users|Groups)(/[^/]+)?$"},
                "data": {"type": "object"}}}}}},
        "BulkResponse": {"type": "object", "required": ["schemas", "Operations"], "properties": {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:BulkResponse"}},
            "Operations": {"type": "array", "items": {"type": "object", "required": ["method", "status"], "properties": {
                "method": {"type": "string"},
                "bulkId": {"type": "string"},
                "version": {"type": "string"},
                "location": {"type": "string"},
                "status": {"type": "string"},
                "response": {}}}}}},
        "ServiceProviderConfig": {"type": "object", "required": ["schemas", "patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes"]},
        "Schema": {"type": "object", "required": ["id", "attributes"], "properties": {"id": {"type": "string"}, "attributes": {"type": "array"}}},
        "ResourceType": {"type": "object", "required": ["id", "name", "endpoint", "schema"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "endpoint": {"type": "string"}, "schema": {"type": "string"}}}
    });
    if let Value::Object(o) = other {
        schemas.extend(o);
    }
    let scim = |schema: &str| json!({"application/scim+json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}});
    let error = |d: &str| json!({"description": d, "content": scim("Error")});
    // The answers every authenticated call may get.
    let responses = |ok: &[(&str, &str, Option<&str>)], errors: &[&str]| {
        let mut r = Map::new();
        for (code, d, schema) in ok {
            let v = match schema {
                Some(s) => json!({"description": d, "content": scim(s)}),
                None => json!({"description": d}),
            };
            r.insert((*code).to_owned(), v);
        }
        let all = [
            ("400", "Invalid request (scimType says why)"),
            ("401", "Missing, unknown, revoked or expired token"),
            ("404", "No such resource"),
            (
                "409",
                "uniqueness: the userName/displayName, or a unique custom value, is taken",
            ),
            ("412", "If-Match does not match the current version"),
            ("413", "The body is larger than the limit"),
        ];
        for (code, d) in all {
            if errors.contains(&code) {
                r.insert(code.to_owned(), error(d));
            }
        }
        r.insert(
            "429".into(),
            error("Over the token's rate limit; see Retry-After"),
        );
        Value::Object(r)
    };
    let body = |schema: &str| json!({"required": true, "content": {"application/scim+json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    let p = |name: &str| json!({"$ref": format!("#/components/parameters/{name}")});
    let list_params = json!([
        p("filter"),
        p("sortBy"),
        p("sortOrder"),
        p("startIndex"),
        p("count"),
        p("cursor"),
        p("attributes"),
        p("excludedAttributes")
    ]);
    let mut paths = Map::new();
    for rt in &types {
        let name = rt.name.as_str();
        let ep = rt.endpoint.as_str();
        // Links let a stateful run follow a created resource to its other
        // operations (OpenAPI 3.1 §4.8.20).
        let mut created = responses(
            &[("201", "Created", Some(name))],
            &["400", "401", "409", "413"],
        );
        created["201"]["links"] = ["get", "replace", "modify", "delete"]
            .iter()
            .map(|verb| {
                (
                    format!("{verb}{name}"),
                    json!({"operationId": format!("{verb}{name}"), "parameters": {"id": "$response.body#/id"}}),
                )
            })
            .collect::<Map<String, Value>>()
            .into();
        paths.insert(ep.to_owned(), json!({
            "get": {"operationId": format!("list{name}s"), "summary": format!("List or filter {ep} (RFC 7644 §3.4.2)"), "parameters": list_params,
                    "responses": responses(&[("200", "A page", Some("ListResponse"))], &["400", "401"])},
            "post": {"operationId": format!("create{name}"), "summary": format!("Create a {name} (RFC 7644 §3.3)"), "requestBody": body(&format!("{name}Input")),
                     "responses": created}
        }));
        paths.insert(format!("{ep}/.search"), json!({
            "post": {"summary": format!("Search {ep} (RFC 7644 §3.4.3)"), "requestBody": body("SearchRequest"),
                     "responses": responses(&[("200", "A page", Some("ListResponse"))], &["400", "401", "413"])}
        }));
        let if_match = json!({"name": "If-Match", "in": "header", "schema": {"type": "string"}});
        paths.insert(format!("{ep}/{{id}}"), json!({
            "parameters": [p("id")],
            "get": {"operationId": format!("get{name}"), "summary": format!("Read a {name}"), "parameters": [p("attributes"), p("excludedAttributes"), {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
                    "responses": responses(&[("200", "The resource", Some(name)), ("304", "Not modified", None)], &["400", "401", "404"])},
            "put": {"operationId": format!("replace{name}"), "summary": format!("Replace a {name} (RFC 7644 §3.5.1)"), "parameters": [if_match], "requestBody": body(&format!("{name}Input")),
                    "responses": responses(&[("200", "Replaced", Some(name))], &["400", "401", "404", "409", "412", "413"])},
            "patch": {"operationId": format!("modify{name}"), "summary": format!("Modify a {name} (RFC 7644 §3.5.2)"), "parameters": [if_match], "requestBody": body("PatchOp"),
                      "responses": responses(&[("200", "Modified", Some(name)), ("204", "Modified", None)], &["400", "401", "404", "409", "412", "413"])},
            "delete": {"operationId": format!("delete{name}"), "summary": format!("Delete a {name} (RFC 7644 §3.6)"), "parameters": [if_match],
                       "responses": responses(&[("204", "Deleted", None)], &["401", "404", "412"])}
        }));
    }
    paths.insert("/.search".into(), json!({
        "post": {"summary": "Search every resource type (RFC 7644 §3.4.3)", "requestBody": body("SearchRequest"),
                 "responses": responses(&[("200", "A page", Some("ListResponse"))], &["400", "401", "413"])}
    }));
    paths.insert("/Bulk".into(), json!({
        "post": {"summary": "Bulk operations (RFC 7644 §3.7)", "requestBody": body("BulkRequest"),
                 "responses": responses(&[("200", "Each operation's result", Some("BulkResponse"))], &["400", "401", "413"])}
    }));
    paths.insert("/ServiceProviderConfig".into(), json!({
        "get": {"summary": "What this server supports (RFC 7644 §4)", "responses": responses(&[("200", "The configuration", Some("ServiceProviderConfig"))], &["401"])}
    }));
    for (ep, schema) in [("Schemas", "Schema"), ("ResourceTypes", "ResourceType")] {
        paths.insert(format!("/{ep}"), json!({
            "get": {"summary": format!("All {ep} (RFC 7644 §4)"), "responses": responses(&[("200", "The list", Some("ListResponse"))], &["401"])}
        }));
        paths.insert(format!("/{ep}/{{id}}"), json!({
            "parameters": [p("id")],
            "get": {"summary": format!("One of {ep}"), "responses": responses(&[("200", "It", Some(schema))], &["401", "404"])}
        }));
    }
    let q = |name: &str, schema: Value, d: &str| json!({"name": name, "in": "query", "schema": schema, "description": d});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "scim-worker SCIM 2.0 API",
            "version": "2.0",
            "description": "The SCIM 2.0 service (RFC 7643, RFC 7644) of one tenant. Authenticate with the tenant's SCIM token as a bearer token. A tenant's own extension attributes are described at its /Schemas endpoint."
        },
        "servers": [{
            "url": format!("{origin}/scim/v2/{{tenant}}"),
            "variables": {"tenant": {"default": "acme", "description": "The tenant id"}}
        }],
        "security": [{"scimToken": []}],
        "components": {
            "securitySchemes": {"scimToken": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                "filter": q("filter", json!({"type": "string"}), "RFC 7644 §3.4.2.2"),
                "sortBy": q("sortBy", json!({"type": "string"}), "RFC 7644 §3.4.2.3"),
                "sortOrder": q("sortOrder", json!({"enum": ["ascending", "descending"]}), "RFC 7644 §3.4.2.3"),
                "startIndex": q("startIndex", json!({"type": "integer"}), "1-based; less than 1 is read as 1 (RFC 7644 §3.4.2.4)"),
                "count": q("count", json!({"type": "integer"}), "Page size; negative is read as 0, above maxResults as maxResults"),
                "cursor": q("cursor", json!({"type": "string"}), "RFC 9865 cursor pagination; empty for the first page"),
                "attributes": q("attributes", json!({"type": "string"}), "Comma-separated attributes to return (RFC 7644 §3.9)"),
                "excludedAttributes": q("excludedAttributes", json!({"type": "string"}), "Comma-separated attributes to leave out (RFC 7644 §3.9)")
            },
            "schemas": schemas
        },
        "paths": paths
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_document_describes_the_extension_urn_and_unique_definitions() {
        let d = document("https://scim.example");
        let schema = &d["paths"]["/tenants/{tenant}/schema"];
        assert_eq!(schema["get"]["operationId"], "getSchema");
        assert_eq!(schema["put"]["operationId"], "putSchema");
        assert_eq!(
            schema["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ExtensionUrn"
        );
        for code in ["200", "400", "401", "403", "404", "409"] {
            assert!(schema["put"]["responses"][code].is_object(), "{code}");
        }
        let components = &d["components"]["schemas"];
        assert_eq!(
            components["ExtensionUrn"]["properties"]["urn"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(components["ExtensionUrn"]["required"], json!(["urn"]));
        assert_eq!(
            components["AttributeDef"]["properties"]["unique"]["type"],
            "boolean"
        );
    }

    #[test]
    fn the_admin_document_describes_roles_and_role_mappings() {
        let doc = document("https://x");
        let paths = &doc["paths"];
        for (path, ops) in [
            ("/tenants/{tenant}/roles", &["get"][..]),
            ("/tenants/{tenant}/roles/{role}", &["put", "delete"][..]),
            ("/tenants/{tenant}/role-mappings", &["get", "put"][..]),
        ] {
            for op in ops {
                assert!(paths[path][op]["operationId"].is_string(), "{path} {op}");
            }
        }
        let users = &paths["/tenants/{tenant}/users"]["get"]["parameters"];
        let names: Vec<&str> = users
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["startIndex", "count", "cursor", "filter", "role"]);
        let user = &doc["components"]["schemas"]["User"]["properties"];
        assert_eq!(user["roles"]["type"], "array");
    }

    #[test]
    fn the_admin_document_describes_the_credential_endpoints() {
        let doc = document("https://x");
        let paths = &doc["paths"];
        for (path, ops) in [
            ("/tenants/{tenant}/basic-credentials", &["get", "post"][..]),
            ("/tenants/{tenant}/basic-credentials/{id}", &["delete"][..]),
            ("/tenants/{tenant}/oauth-clients", &["get", "post"][..]),
            (
                "/tenants/{tenant}/oauth-clients/{id}",
                &["get", "delete"][..],
            ),
            (
                "/tenants/{tenant}/oauth-clients/{id}/rotate-secret",
                &["post"][..],
            ),
            ("/tenants/{tenant}/tokens/{id}/rotate", &["post"][..]),
        ] {
            for op in ops {
                assert!(paths[path][op]["operationId"].is_string(), "{path} {op}");
            }
        }
        let settings = &doc["components"]["schemas"]["Settings"]["properties"];
        assert_eq!(
            settings["authentication"]["items"]["enum"],
            json!(["token", "basic", "oauth"])
        );
        // No listing shows a secret.
        for listed in ["OAuthClient", "BasicCredential"] {
            let props = &doc["components"]["schemas"][listed]["properties"];
            assert_eq!(
                props.get("clientSecret").or(props.get("password")),
                Some(&json!(false))
            );
        }
    }

    #[test]
    fn the_admin_document_describes_the_request_log_and_its_settings() {
        let d = document("https://scim.example");
        let get = &d["paths"]["/tenants/{tenant}/requests"]["get"];
        assert_eq!(get["operationId"], "listRequests");
        for code in ["200", "400", "401", "403", "404"] {
            assert!(get["responses"][code].is_object(), "{code}");
        }
        let components = &d["components"]["schemas"];
        let entry = &components["LoggedRequest"]["properties"];
        for field in [
            "at",
            "requestId",
            "scimType",
            "durationMs",
            "token",
            "leniencies",
            "body",
        ] {
            assert!(entry[field].is_object(), "{field}");
        }
        assert_eq!(
            components["RequestLog"]["required"],
            json!(["requests", "next"])
        );
        let settings = &components["Settings"]["properties"];
        assert_eq!(
            settings["requestLog"]["enum"],
            json!(["writes-and-errors", "all"])
        );
        assert_eq!(settings["requestLogRetentionDays"]["maximum"], 365);
    }

    #[test]
    fn the_scim_document_describes_every_endpoint_with_schemas_from_the_definitions() {
        let d = scim_document("https://scim.example");
        assert_eq!(d["openapi"], "3.1.0");
        for path in [
            "/Users",
            "/Users/{id}",
            "/Users/.search",
            "/Groups",
            "/Groups/{id}",
            "/Groups/.search",
            "/.search",
            "/Bulk",
            "/ServiceProviderConfig",
            "/Schemas",
            "/Schemas/{id}",
            "/ResourceTypes",
            "/ResourceTypes/{id}",
        ] {
            assert!(d["paths"][path].is_object(), "{path}");
        }
        let user = &d["components"]["schemas"]["User"]["properties"];
        // RFC 7643 §4.1: password is returned never; a response holding it violates the document.
        assert_eq!(user["password"], json!(false));
        assert_eq!(user["active"]["type"], "boolean");
        assert_eq!(user["emails"]["type"], "array");
        assert_eq!(
            user["emails"]["items"]["properties"]["primary"]["type"],
            "boolean"
        );
        assert!(
            user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["properties"]
                ["manager"]
                .is_object()
        );
        let input = &d["components"]["schemas"]["UserInput"];
        assert_eq!(input["properties"]["password"]["type"], "string");
        assert!(input["properties"].get("id").is_none(), "id is read-only");
        assert_eq!(input["required"], json!(["userName", "schemas"]));
        assert_eq!(
            d["components"]["schemas"]["GroupInput"]["required"],
            json!(["displayName", "schemas"])
        );
    }
}
