//! Schema-driven input validation (RFC 7643 §2, §7) and index use by the
//! filters identity providers send (issue 3: no full scans for them).

mod common;

use common::App;
use scim_worker::filter::parse_filter;
use scim_worker::query::{condition, Resource};
use scim_worker::schema::{group_resource_type, user_resource_type};
use scim_worker::store::{SqlValue, Stmt};
use serde_json::json;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

#[test]
fn wrong_types_unknown_attributes_and_two_primaries_are_400() {
    let app = App::new();
    let c = app.tenant("acme");
    let bad = [
        json!({"schemas": [USER], "userName": 42}),
        json!({"schemas": [USER], "userName": "x", "active": "maybe"}),
        json!({"schemas": [USER], "userName": "x", "nosuch": 1}),
        json!({"schemas": [USER], "userName": "x", "name": {"nosuch": "y"}}),
        json!({"schemas": [USER], "userName": "x", "emails": [
            {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
        json!({"schemas": [USER]}),
        json!({"userName": "x"}),
        json!(["not", "an", "object"]),
    ];
    for body in bad {
        let r = app.call(&c, "POST", "/Users", Some(body.clone()));
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let t = r.body["scimType"].as_str().unwrap_or_default();
        assert!(
            ["invalidValue", "invalidSyntax"].contains(&t),
            "{body}: {t}"
        );
    }
    let r = app.request(
        scim_worker::http::Request::new(scim_worker::http::Method::Post, "/scim/v2/acme/Users")
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
    let big =
        json!({"schemas": [USER], "userName": "x".repeat(scim_worker::service::MAX_REQUEST_BYTES)});
    let r = app.call(&c, "POST", "/Users", Some(big));
    assert_eq!(r.status, 413);
    assert_eq!(r.body["status"], "413");
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM users", vec![])[0]["n"],
        0
    );
}
