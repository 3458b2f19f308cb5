//! The per-tenant counts of the second migration: an unfiltered list's
//! `totalResults` (RFC 7644 §3.4.2) comes from the tenant row, kept by
//! triggers. Every write path must keep it equal to what counting the rows
//! gives, and a rejected write must leave it alone.

use scim_worker::testing::{
    urn::{BULK_REQUEST as BULK, GROUP, USER},
    App, Creds,
};
use scim_worker::SqlValue;
use serde_json::json;

/// The totals an unfiltered list answers, and the rows counted directly.
fn totals(app: &App, c: &Creds) -> (u64, u64) {
    let users = app.call(c, "GET", "/Users?count=0", None);
    assert_eq!(users.status, 200, "{}", users.body);
    let groups = app.call(c, "GET", "/Groups?count=0", None);
    assert_eq!(groups.status, 200, "{}", groups.body);
    let counted = |sql: &str| {
        app.rows(sql, vec![SqlValue::from(c.tenant.as_str())])[0]["n"]
            .as_u64()
            .unwrap()
    };
    let live =
        counted("SELECT count(*) AS n FROM users WHERE tenant_id = ? AND deleted_at IS NULL");
    let grouped = counted("SELECT count(*) AS n FROM groups WHERE tenant_id = ?");
    let answered = (
        users.body["totalResults"].as_u64().unwrap(),
        groups.body["totalResults"].as_u64().unwrap(),
    );
    assert_eq!(
        answered,
        (live, grouped),
        "kept counts differ from the rows"
    );
    // A full page (count=1 of several) reads the kept count as well.
    if live > 1 {
        let page = app.call(c, "GET", "/Users?count=1", None);
        assert_eq!(page.body["totalResults"].as_u64(), Some(live));
    }
    answered
}

#[test]
fn every_write_path_keeps_the_tenant_counts() {
    let app = App::new();
    let c = app.provision("acme");
    let other = app.provision("other");
    let admin = app.admin_token(Some("acme"));
    assert_eq!(totals(&app, &c), (0, 0));

    let ann = app.named_user(&c, "ann");
    let bob = app.named_user(&c, "bob");
    app.named_user(&c, "carl");
    app.named_user(&other, "olga");
    assert_eq!(totals(&app, &c), (3, 0));
    assert_eq!(totals(&app, &other), (1, 0));

    // Rejected writes change nothing: a duplicate userName (RFC 7644 §3.3
    // 409 uniqueness), a DELETE at a stale version (§3.14 412).
    let dup = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "ANN"})),
    );
    assert_eq!(dup.status, 409, "{}", dup.body);
    let stale = app.request(
        scim_worker::Request::new(
            scim_worker::Method::parse("DELETE"),
            &format!("/scim/v2/acme/Users/{ann}"),
        )
        .with_header("Authorization", &format!("Bearer {}", c.token))
        .with_header("If-Match", "W/\"999\""),
    );
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(totals(&app, &c), (3, 0));

    // Deactivation keeps a user live; DELETE under the default `retain`
    // policy leaves a tombstone that is no longer counted; restore counts it
    // again.
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{ann}/deactivate"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(totals(&app, &c), (3, 0));
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{ann}"), None)
            .status,
        204
    );
    assert_eq!(totals(&app, &c), (2, 0));
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{ann}/restore"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(totals(&app, &c), (3, 0));
    // The admin list counts tombstones too: it never reads the kept count.
    app.call(&c, "DELETE", &format!("/Users/{ann}"), None);
    let list = app.admin(&admin, "GET", "/tenants/acme/users", None);
    assert_eq!(list.body["totalResults"], 3, "{}", list.body);
    assert_eq!(totals(&app, &c), (2, 0));

    // Under `remove` the row goes.
    let r = app.admin(
        &app.admin_token(None),
        "PATCH",
        "/tenants/acme",
        Some(json!({"settings": {"deletePolicy": "remove"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{bob}"), None)
            .status,
        204
    );
    assert_eq!(totals(&app, &c), (1, 0));

    // Bulk (RFC 7644 §3.7): two creates and a delete; a failing operation
    // counts nothing.
    let r = app.call(
        &c,
        "POST",
        "/Bulk",
        Some(json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "d",
             "data": {"schemas": [USER], "userName": "dora"}},
            {"method": "POST", "path": "/Users", "bulkId": "e",
             "data": {"schemas": [USER], "userName": "carl"}},
            {"method": "POST", "path": "/Users", "bulkId": "f",
             "data": {"schemas": [USER], "userName": "finn"}},
            {"method": "DELETE", "path": "/Users/bulkId:f"},
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["201", "409", "201", "204"], "{}", r.body);
    assert_eq!(totals(&app, &c), (2, 0));

    // Groups: create, a rejected duplicate, delete.
    let mut groups = Vec::new();
    for name in ["Sales", "Ops"] {
        let r = app.call(
            &c,
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": name})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        groups.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let dup = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "sales"})),
    );
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert_eq!(totals(&app, &c), (2, 2));
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Groups/{}", groups[0]), None)
            .status,
        204
    );
    assert_eq!(totals(&app, &c), (2, 1));
    assert_eq!(totals(&app, &other), (1, 0));

    // A tenant deleted and created again starts from zero.
    let platform = app.admin_token(None);
    assert_eq!(
        app.admin(&platform, "DELETE", "/tenants/other", None)
            .status,
        204
    );
    let other = app.provision("other");
    assert_eq!(totals(&app, &other), (0, 0));
    assert_eq!(totals(&app, &c), (2, 1));
}

/// The migration counts the rows a database already holds when it is
/// applied (a deployment upgraded in place).
#[test]
fn the_migration_counts_existing_rows() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(&std::fs::read_to_string(dir.join("0001_init.sql")).unwrap())
        .unwrap();
    let now = "2026-01-01T00:00:00Z";
    for t in ["a", "b"] {
        conn.execute(
            "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (?1, ?1, ?2, ?2)",
            [t, now],
        )
        .unwrap();
    }
    let users = [
        ("a", "u1", None),
        ("a", "u2", None),
        ("a", "u3", Some(now)),
        ("b", "u4", None),
    ];
    for (t, id, deleted) in users {
        conn.execute(
            "INSERT INTO users (tenant_id, id, user_name, user_name_key, deleted_at, created_at, \
             last_modified, doc) VALUES (?1, ?2, ?2, ?2, ?3, ?4, ?4, '{}')",
            rusqlite::params![t, id, deleted, now],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO groups (tenant_id, id, display_name, display_name_key, created_at, \
         last_modified, doc) VALUES ('b', 'g1', 'G', 'g', ?1, ?1, '{}')",
        [now],
    )
    .unwrap();
    conn.execute_batch(&std::fs::read_to_string(dir.join("0002_counts.sql")).unwrap())
        .unwrap();
    let counts = |t: &str| -> (i64, i64) {
        conn.query_row(
            "SELECT user_count, group_count FROM tenants WHERE id = ?1",
            [t],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(counts("a"), (2, 0));
    assert_eq!(counts("b"), (1, 1));
    // From then on the triggers keep them.
    conn.execute("UPDATE users SET deleted_at = ?1 WHERE id = 'u1'", [now])
        .unwrap();
    assert_eq!(counts("a"), (1, 0));
    // A tombstone's deletion time changing is no change of the count.
    conn.execute(
        "UPDATE users SET deleted_at = ?1 WHERE id = 'u1'",
        ["later"],
    )
    .unwrap();
    assert_eq!(counts("a"), (1, 0));
    conn.execute("UPDATE users SET deleted_at = NULL WHERE id = 'u3'", [])
        .unwrap();
    assert_eq!(counts("a"), (2, 0));
    conn.execute("DELETE FROM users WHERE id IN ('u2', 'u4')", [])
        .unwrap();
    conn.execute("DELETE FROM groups WHERE id = 'g1'", [])
        .unwrap();
    assert_eq!(counts("a"), (1, 0));
    assert_eq!(counts("b"), (0, 0));
}
