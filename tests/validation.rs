//! Schema-driven input validation (RFC 7643 §2, §7) and index use by the
//! filters identity providers send (issue 3: no full scans for them).

use scim_worker::testing::proto::parse_filter;
use scim_worker::testing::proto::{group_resource_type, user_resource_type};
use scim_worker::testing::sql::{condition, Resource};
use scim_worker::testing::{urn::USER, App};
use scim_worker::{SqlValue, Stmt};
use serde_json::json;

#[test]
fn wrong_types_and_malformed_bodies_are_400_and_unknown_names_only_under_reject() {
    // Issue 13, "What stays strict": types of known attributes, required
    // attributes, the body's shape. Unknown names are ignored by default
    // and refused under the tenant setting `unknownAttributes: reject`.
    let app = App::new();
    let c = app.tenant("acme");
    let unknown = [
        json!({"schemas": [USER], "userName": "x", "nosuch": 1}),
        json!({"schemas": [USER], "userName": "x", "name": {"nosuch": "y"}}),
        json!({"schemas": [USER, "urn:x:nosuch"], "userName": "x"}),
    ];
    app.settings("acme", json!({"unknownAttributes": "reject"}));
    let bad = [
        json!({"schemas": [USER], "userName": 42}),
        json!({"schemas": [USER], "userName": "x", "active": "maybe"}),
        json!({"schemas": [USER], "userName": "x", "emails": "a@x"}),
        json!({"schemas": [USER], "userName": "x", "name": "X"}),
        json!({"schemas": [USER]}),
        json!({"userName": "x"}),
        json!(["not", "an", "object"]),
    ];
    for body in bad.into_iter().chain(unknown) {
        let r = app.call(&c, "POST", "/Users", Some(body.clone()));
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let t = r.body["scimType"].as_str().unwrap_or_default();
        assert!(
            ["invalidValue", "invalidSyntax"].contains(&t),
            "{body}: {t}"
        );
    }
    let r = app.request(
        scim_worker::Request::new(scim_worker::Method::Post, "/scim/v2/acme/Users")
            .with_header("Authorization", &format!("Bearer {}", c.token))
            .with_body("{not json"),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["scimType"], "invalidSyntax");
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM users", vec![])[0]["n"],
        0
    );
}

#[test]
fn read_only_input_is_ignored_and_string_booleans_are_stored_as_booleans() {
    // Okta sends id/meta/groups; Entra sends "True"/"False".
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(
            json!({"schemas": [USER], "userName": "x", "id": "mine", "active": "False",
                    "meta": {"created": "1999-01-01T00:00:00Z"}, "groups": [], "password": "p"}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_ne!(r.body["id"], "mine");
    assert_eq!(r.body["active"], false);
    assert_ne!(r.body["meta"]["created"], "1999-01-01T00:00:00Z");
    assert!(r.body.get("password").is_none());
}

fn plan(app: &App, resource: Resource, filter: &str) -> String {
    // The same base condition the store uses for lists.
    let (rt, table, base) = match resource {
        Resource::User => (
            user_resource_type(Vec::new()),
            "users",
            "r.tenant_id = ? AND r.deleted_at IS NULL",
        ),
        Resource::Group => (group_resource_type(), "groups", "r.tenant_id = ?"),
    };
    let f = parse_filter(filter, &rt.all_schema_urns()).unwrap();
    let cond = condition(&rt, resource, "acme", &f).unwrap();
    let mut params: Vec<SqlValue> = vec!["acme".into()];
    params.extend(cond.params);
    let rows = app
        .db
        .query_sync(Stmt::new(
            format!(
                "EXPLAIN QUERY PLAN SELECT r.id FROM {table} r WHERE {base} AND ({})",
                cond.sql
            ),
            params,
        ))
        .unwrap();
    let detail = rows
        .iter()
        .map(|r| r["detail"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join(" | ");
    format!("{detail} [{}]", cond.sql)
}

#[test]
fn identity_provider_lookups_use_indexes_not_scans() {
    // EXPLAIN QUERY PLAN of the SQL each IdP filter becomes.
    let app = App::new();
    let cases = [
        (
            Resource::User,
            r#"userName eq "Alice""#,
            "users_by_user_name",
        ),
        (
            Resource::User,
            r#"externalId eq "e-1""#,
            "users_by_external_id",
        ),
        (
            Resource::User,
            r#"emails[type eq "work"].value eq "a@x""#,
            "user_emails_by_value",
        ),
        (
            Resource::User,
            r#"emails.value eq "a@x""#,
            "user_emails_by_value",
        ),
        (Resource::User, r#"groups.value eq "g-1""#, "group_members"),
        (
            Resource::Group,
            r#"members[value eq "u-1"]"#,
            "group_members_by_member",
        ),
        (
            Resource::User,
            r#"meta.lastModified gt "2026-01-01T00:00:00Z""#,
            "users_by_last_modified",
        ),
        (
            Resource::Group,
            r#"displayName eq "Sales""#,
            "groups_by_display_name",
        ),
        (
            Resource::Group,
            r#"externalId eq "g-1""#,
            "groups_by_external_id",
        ),
    ];
    for (resource, filter, index) in cases {
        let p = plan(&app, resource, filter);
        assert!(p.contains(index), "{filter}: {p}");
        assert!(!p.contains("SCAN r"), "{filter} scans: {p}");
    }
}

#[test]
fn bodies_over_the_limit_are_413_before_anything_is_parsed() {
    let app = App::new();
    let c = app.tenant("acme");
    let big = json!({"schemas": [USER], "userName": "x".repeat(scim_worker::Limits::default().max_request_bytes)});
    let r = app.call(&c, "POST", "/Users", Some(big));
    assert_eq!(r.status, 413);
    assert_eq!(r.body["status"], "413");
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM users", vec![])[0]["n"],
        0
    );
}

#[test]
fn configured_limits_are_advertised_and_enforced_with_scim_errors_changing_nothing() {
    // Issue 7: every limit is configurable (SCIM_MAX_* variables); those SCIM
    // has a place for are advertised (RFC 7643 §5 ServiceProviderConfig).
    let mut app = App::new();
    app.config.limits = scim_worker::Limits {
        max_request_bytes: 4000,
        max_results: 3,
        max_patch_operations: 2,
        max_bulk_operations: 2,
        max_value_bytes: 100,
    };
    let c = app.tenant("acme");
    let spc = app.call(&c, "GET", "/ServiceProviderConfig", None).body;
    assert_eq!(spc["filter"]["maxResults"], 3);
    assert_eq!(spc["pagination"]["maxPageSize"], 3);
    assert_eq!(spc["bulk"]["maxOperations"], 2);
    assert_eq!(spc["bulk"]["maxPayloadSize"], 4000);

    for i in 0..5 {
        let r = app.call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": format!("u{i}")})),
        );
        assert_eq!(r.status, 201);
    }
    let page = app.call(&c, "GET", "/Users?count=50", None).body;
    assert_eq!(
        page["itemsPerPage"], 3,
        "count above maxResults is read as maxResults"
    );
    assert_eq!(page["totalResults"], 5);
    let page = app.call(&c, "GET", "/Users", None).body;
    assert_eq!(
        page["itemsPerPage"], 3,
        "the default page is no larger either"
    );

    let id = app
        .call(&c, "GET", "/Users?filter=userName+eq+%22u0%22", None)
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.rows("SELECT version, doc FROM users ORDER BY id", vec![]);

    // An attribute value over max_value_bytes: 400 invalidValue naming it.
    let long = "x".repeat(101);
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "long", "title": long})),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    assert!(r.body["detail"].as_str().unwrap().contains("'title'"));
    let patch = |ops: serde_json::Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "add", "path": "emails", "value": [{"value": long}]}]),
        )),
    );
    assert_eq!(r.status, 400);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("'emails.value'"));
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER], "userName": "u0", "nickName": long})),
    );
    assert_eq!(r.status, 400);
    let r = app.call(&c, "POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": long})));
    assert_eq!(r.status, 400);

    // PATCH adds that would grow the document past the size limit.
    let emails: Vec<_> = (0..80)
        .map(|i| json!({"value": format!("address-{i:03}@a-long-example-domain.com")}))
        .collect();
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "add", "path": "emails", "value": emails[..40]}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let grown = app.rows("SELECT version, doc FROM users ORDER BY id", vec![]);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "add", "path": "emails", "value": emails[40..]}]),
        )),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("largest stored is 4000"));
    assert_eq!(
        app.rows("SELECT version, doc FROM users ORDER BY id", vec![]),
        grown
    );

    // More PATCH operations than allowed: 400 invalidValue.
    let three = patch(json!([
        {"op": "replace", "path": "title", "value": "a"},
        {"op": "replace", "path": "title", "value": "b"},
        {"op": "replace", "path": "title", "value": "c"}]));
    let r = app.call(&c, "PATCH", &format!("/Users/{id}"), Some(three));
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("at most 2 operations"));
    // Bulk over maxOperations: 413 (RFC 7644 §3.7.4).
    let op = json!({"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": "bulk"}});
    let r = app.call(&c, "POST", "/Bulk", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [op, op, op]})));
    assert_eq!(r.status, 413);
    // A body over max_request_bytes: 413 before parsing.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "y".repeat(5000)})),
    );
    assert_eq!(r.status, 413);
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM users", vec![])[0]["n"],
        5
    );
    // Of all these refusals only the one successful PATCH changed a row.
    let changed = before
        .iter()
        .zip(app.rows("SELECT version, doc FROM users ORDER BY id", vec![]))
        .filter(|(a, b)| *a != b)
        .count();
    assert_eq!(changed, 1);
}
