//! Tenants across D1 databases (issue 18): `DB` holds the registry and is
//! the first shard, `DB_2`, ... more. A new tenant goes on the eligible shard
//! with the fewest tenants, or the one `POST /admin/v1/tenants` names; a
//! tenant with a `region` only on a shard carrying that label (D1's
//! `--jurisdiction eu` / `--location weur`). Every statement about a
//! tenant goes to its shard. Export and import move a tenant between
//! shards, resource for resource.

use chrono::Duration;
use scim_worker::testing::{
    patch_ops,
    urn::{ENTERPRISE, GROUP, USER},
    App, Creds,
};
use scim_worker::SqlValue;
use serde_json::{json, Value};

fn platform(app: &App, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let r = app.admin(&app.admin_token(None), method, path, body);
    (r.status, r.body)
}

fn create(app: &App, body: Value) -> (u16, Value) {
    platform(app, "POST", "/tenants", Some(body))
}

fn token(app: &App, tenant: &str) -> Creds {
    let (s, t) = platform(
        app,
        "POST",
        &format!("/tenants/{tenant}/tokens"),
        Some(json!({"label": "idp"})),
    );
    assert_eq!(s, 201, "{t}");
    Creds {
        tenant: tenant.into(),
        token: t["token"].as_str().unwrap().into(),
    }
}

fn count(app: &App, shard: &str, sql: &str, tenant: &str) -> i64 {
    let rows = app
        .shard(shard)
        .query_sync(scim_worker::Stmt::new(
            sql,
            vec![SqlValue::Text(tenant.into())],
        ))
        .unwrap();
    rows[0]["n"].as_i64().unwrap()
}

fn users_on(app: &App, shard: &str, tenant: &str) -> i64 {
    count(
        app,
        shard,
        "SELECT count(*) AS n FROM users WHERE tenant_id = ?",
        tenant,
    )
}

fn three_shards() -> App {
    App::with_shards(&[("DB_2", None), ("DB_3", Some("eu"))])
}

#[test]
fn new_tenants_go_to_the_unlabelled_shard_with_the_fewest_tenants() {
    let app = three_shards();
    let mut placed = Vec::new();
    for id in ["a1", "a2", "a3", "a4"] {
        let (s, t) = create(&app, json!({"id": id}));
        assert_eq!(s, 201, "{t}");
        placed.push(t["shard"].as_str().unwrap().to_owned());
        assert_eq!(t["region"], Value::Null);
    }
    // DB_3 carries a region: only tenants asking for it go there.
    assert_eq!(placed, ["DB", "DB_2", "DB", "DB_2"]);
    let (s, list) = platform(&app, "GET", "/tenants", None);
    assert_eq!(s, 200);
    let ids: Vec<&str> = list["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["a1", "a2", "a3", "a4"],
        "every shard's tenants listed"
    );
    assert_eq!(list["tenants"][1]["shard"], "DB_2");
    // The registry knows all four; DB_2 holds only its own.
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM tenants", vec![])[0]["n"],
        4
    );
    assert_eq!(
        count(
            &app,
            "DB_2",
            "SELECT count(*) AS n FROM tenants WHERE shard = ?",
            "DB_2"
        ),
        2
    );
}

#[test]
fn a_region_places_a_tenant_only_on_a_shard_with_that_label() {
    let app = three_shards();
    let (s, t) = create(&app, json!({"id": "eu-co", "region": "eu"}));
    assert_eq!(s, 201, "{t}");
    assert_eq!(
        (t["shard"].as_str(), t["region"].as_str()),
        (Some("DB_3"), Some("eu"))
    );
    let (s, got) = platform(&app, "GET", "/tenants/eu-co", None);
    assert_eq!(
        (s, got["shard"].clone(), got["region"].clone()),
        (200, json!("DB_3"), json!("eu"))
    );

    // No shard in that region: refused, nothing created.
    let (s, e) = create(&app, json!({"id": "apac-co", "region": "apac"}));
    assert_eq!(s, 400, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("No shard"), "{e}");
    assert!(e["detail"].as_str().unwrap().contains("DB_3 (eu)"), "{e}");
    let (s, e) = create(&app, json!({"id": "mars-co", "region": "mars"}));
    assert_eq!(s, 400, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("Unknown region"),
        "{e}"
    );
    // A named shard must exist and carry the region asked for.
    let (s, e) = create(&app, json!({"id": "x1", "shard": "DB_9"}));
    assert_eq!(s, 400, "{e}");
    let (s, e) = create(&app, json!({"id": "x2", "shard": "DB_2", "region": "eu"}));
    assert_eq!(s, 400, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("not in region eu"),
        "{e}"
    );
    for id in ["apac-co", "mars-co", "x1", "x2"] {
        assert_eq!(
            platform(&app, "GET", &format!("/tenants/{id}"), None).0,
            404
        );
    }
    // Named, without a region: the shard's label is where its data is.
    let (s, t) = create(&app, json!({"id": "named", "shard": "DB_3"}));
    assert_eq!((s, t["region"].clone()), (201, json!("eu")), "{t}");
    // A taken id is taken whichever shard holds it.
    let (s, _) = create(&app, json!({"id": "eu-co"}));
    assert_eq!(s, 409);
}

#[test]
fn a_tenants_requests_read_and_write_only_its_shard() {
    let app = three_shards();
    create(&app, json!({"id": "home"}));
    let (_, t) = create(&app, json!({"id": "away", "shard": "DB_2"}));
    assert_eq!(t["shard"], "DB_2");
    let home = token(&app, "home");
    let away = token(&app, "away");
    for (c, name) in [(&home, "h@x.test"), (&away, "a@x.test")] {
        let r = app.call(
            c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": name})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let g = app.call(
            c,
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": "Eng",
            "members": [{"value": r.body["id"]}]})),
        );
        assert_eq!(g.status, 201, "{}", g.body);
    }
    assert_eq!(users_on(&app, "DB", "home"), 1);
    assert_eq!(users_on(&app, "DB_2", "away"), 1);
    assert_eq!(users_on(&app, "DB", "away"), 0, "nothing of away on DB");
    assert_eq!(users_on(&app, "DB_2", "home"), 0);
    // Reads find them there, and each token only sees its tenant.
    let r = app.call(
        &away,
        "GET",
        "/Users?filter=userName%20eq%20%22a@x.test%22",
        None,
    );
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    let r = app.call(
        &away,
        "GET",
        "/Users?filter=userName%20eq%20%22h@x.test%22",
        None,
    );
    assert_eq!(r.body["totalResults"], 0);
    // The admin API goes to the shard too: users, events, settings.
    let (s, users) = platform(&app, "GET", "/tenants/away/users", None);
    assert_eq!(
        (s, users["totalResults"].clone()),
        (200, json!(1)),
        "{users}"
    );
    let (s, ev) = platform(&app, "GET", "/tenants/away/events", None);
    assert_eq!(s, 200, "{ev}");
    let types: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"user.created") && types.contains(&"group.member_added"),
        "{types:?}"
    );
    assert_eq!(
        count(
            &app,
            "DB_2",
            "SELECT count(*) AS n FROM events WHERE tenant_id = ?",
            "away"
        ),
        types.len() as i64
    );
    let (s, _) = platform(
        &app,
        "PATCH",
        "/tenants/away",
        Some(json!({"name": "Away Inc",
        "settings": {"deletePolicy": "remove"}})),
    );
    assert_eq!(s, 200);
    let (_, got) = platform(&app, "GET", "/tenants/away", None);
    assert_eq!(
        (got["name"].clone(), got["settings"]["deletePolicy"].clone()),
        (json!("Away Inc"), json!("remove"))
    );
    let (_, list) = platform(&app, "GET", "/tenants", None);
    assert_eq!(list["tenants"][0]["name"], "Away Inc");
    // The request log is kept on the tenant's shard.
    assert!(
        count(
            &app,
            "DB_2",
            "SELECT count(*) AS n FROM request_log WHERE tenant_id = ?",
            "away"
        ) >= 2
    );
    assert_eq!(
        count(
            &app,
            "DB",
            "SELECT count(*) AS n FROM request_log WHERE tenant_id = ?",
            "away"
        ),
        0
    );
}

#[test]
fn webhooks_of_a_tenant_on_another_shard_are_delivered_from_it() {
    let app = three_shards();
    create(&app, json!({"id": "away", "shard": "DB_2"}));
    let c = token(&app, "away");
    let (s, h) = platform(
        &app,
        "POST",
        "/tenants/away/webhooks",
        Some(json!({"url": "https://hooks.example.com/in"})),
    );
    assert_eq!(s, 201, "{h}");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob"})),
    );
    assert_eq!(r.status, 201);
    app.pump(20);
    let posted = app.out.posts();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let body: Value = serde_json::from_str(&posted[0].body).unwrap();
    assert_eq!(body["type"], "user.created");
    assert_eq!(
        count(
            &app,
            "DB_2",
            "SELECT count(*) AS n FROM deliveries WHERE tenant_id = ? AND state = 'delivered'",
            "away"
        ),
        1
    );
}

#[test]
fn deleting_a_tenant_of_another_shard_removes_its_data_and_its_registry_row() {
    let app = three_shards();
    create(&app, json!({"id": "away", "shard": "DB_2"}));
    let c = token(&app, "away");
    app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob"})),
    );
    let (s, _) = platform(&app, "DELETE", "/tenants/away", None);
    assert_eq!(s, 204);
    assert_eq!(users_on(&app, "DB_2", "away"), 0);
    assert_eq!(
        count(
            &app,
            "DB_2",
            "SELECT count(*) AS n FROM tenants WHERE id = ?",
            "away"
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "DB",
            "SELECT count(*) AS n FROM tenants WHERE id = ?",
            "away"
        ),
        0
    );
    assert_eq!(app.call(&c, "GET", "/Users", None).status, 401);
    // The id is free again, on any shard.
    let (s, t) = create(&app, json!({"id": "away"}));
    assert_eq!((s, t["shard"].clone()), (201, json!("DB")));
}

#[test]
fn the_registry_is_read_once_per_tenant_then_trusted_for_thirty_seconds() {
    let mut app = three_shards();
    create(&app, json!({"id": "away", "shard": "DB_2"}));
    let c = token(&app, "away");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob"})),
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Another isolate points the registry elsewhere (as a move would).
    app.rows(
        "UPDATE tenants SET shard = 'DB_3' WHERE id = 'away'",
        vec![],
    );
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).status,
        200,
        "cached: still DB_2"
    );
    app.now += Duration::seconds(31);
    // Past the bound this isolate reads the registry again; DB_3 has no such tenant.
    assert_ne!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).status,
        200
    );
}

// --- export and import ---

/// A tenant with something of everything an export carries.
fn populated(app: &App, tenant: &str) -> Creds {
    let c = token(app, tenant);
    let admin = |m: &str, p: &str, b: Value| {
        let (s, body) = platform(app, m, &format!("/tenants/{tenant}{p}"), Some(b));
        assert!((200..300).contains(&s), "{p}: {body}");
    };
    admin(
        "PATCH",
        "",
        json!({"settings": {"unknownMembers": "reject", "eventRetentionDays": 9}}),
    );
    admin(
        "PUT",
        "/schema/attributes/costCenter",
        json!({"type": "string"}),
    );
    admin(
        "PUT",
        "/schema/attributes/badge",
        json!({"type": "uniqueNumber"}),
    );
    admin("PUT", "/roles/admin", json!({"description": "Admins"}));
    admin("PUT", "/roles/member", json!({}));
    let urn = format!("urn:acme-vendor:scim:schemas:extension:{tenant}:2:User");
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut u = json!({"schemas": [USER, ENTERPRISE, &urn], "userName": format!("user{i}@example.com"),
            "externalId": format!("00u{i}"), "name": {"givenName": "U", "familyName": format!("N{i}")},
            "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true},
                       {"value": format!("u{i}@home.test"), "type": "home"}],
            ENTERPRISE: {"department": "R&D", "employeeNumber": format!("{i}")},
            &urn: {"costCenter": format!("cc-{i}"), "badge": i}});
        if i == 3 {
            u["active"] = json!(false);
        }
        let r = app.call(&c, "POST", "/Users", Some(u));
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Admins",
        "externalId": "grp-1", "members": [{"value": ids[0]}, {"value": ids[1]}]})),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    let admins = g.body["id"].as_str().unwrap().to_owned();
    let g2 = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Everyone",
        "members": [{"value": ids[2]}, {"value": admins, "type": "Group"}]})),
    );
    assert_eq!(g2.status, 201, "{}", g2.body);
    admin(
        "PUT",
        "/role-mappings",
        json!({"mappings": [{"group": {"externalId": "grp-1"}, "role": "admin"}],
        "defaultRole": "member"}),
    );
    let p = app.call(
        &c,
        "PATCH",
        &format!("/Users/{}", ids[4]),
        Some(patch_ops(json!([
        {"op": "replace", "path": "displayName", "value": "Four"}]))),
    );
    assert_eq!(p.status, 200);
    // A retained tombstone.
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{}", ids[5]), None)
            .status,
        204
    );
    c
}

fn export(app: &App, tenant: &str) -> String {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "GET",
        &format!("/tenants/{tenant}/export"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body_text());
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/x-ndjson"));
    r.body_text()
}

fn import(app: &App, tenant: &str, line: usize, lines: &[&str]) -> (u16, Value) {
    let mut req = scim_worker::Request::new(
        scim_worker::Method::Post,
        &format!("/admin/v1/tenants/{tenant}/import?line={line}"),
    )
    .with_header(
        "Authorization",
        &format!("Bearer {}", app.admin_token(None)),
    );
    req = req
        .with_header("Content-Type", "application/x-ndjson")
        .with_body(lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    let r = app.request(req);
    (r.status, r.body)
}

/// Every resource of `tenant` as SCIM and the admin API give it, with the
/// tenant's own id and URN made neutral.
fn everything(app: &App, c: &Creds) -> Vec<String> {
    let mut out = Vec::new();
    let neutral = |v: &Value| {
        v.to_string()
            .replace(&format!("/scim/v2/{}/", c.tenant), "/scim/v2/T/")
    };
    for endpoint in ["Users", "Groups"] {
        let list = app.call(c, "GET", &format!("/{endpoint}?count=1000"), None);
        assert_eq!(list.status, 200);
        out.push(format!("{endpoint} total {}", list.body["totalResults"]));
        for r in list.body["Resources"].as_array().unwrap() {
            let one = app.call(
                c,
                "GET",
                &format!("/{endpoint}/{}", r["id"].as_str().unwrap()),
                None,
            );
            out.push(neutral(&one.body));
            out.push(format!("etag {:?}", one.header("etag")));
        }
    }
    let (_, users) = platform(
        app,
        "GET",
        &format!("/tenants/{}/users?count=1000", c.tenant),
        None,
    );
    for u in users["users"].as_array().unwrap() {
        let (_, one) = platform(
            app,
            "GET",
            &format!("/tenants/{}/users/{}", c.tenant, u["id"].as_str().unwrap()),
            None,
        );
        out.push(neutral(&one));
    }
    for p in ["/schema", "/roles", "/role-mappings"] {
        let (_, b) = platform(app, "GET", &format!("/tenants/{}{p}", c.tenant), None);
        out.push(neutral(&b));
    }
    let (_, t) = platform(app, "GET", &format!("/tenants/{}", c.tenant), None);
    out.push(neutral(&t["settings"]));
    out
}

#[test]
fn an_export_imported_on_another_shard_gives_back_every_resource_byte_for_byte() {
    let app = three_shards();
    create(&app, json!({"id": "acme", "shard": "DB"}));
    let src = populated(&app, "acme");
    let text = export(&app, "acme");
    let lines: Vec<&str> = text.lines().collect();
    let kinds: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("header"));
    assert_eq!(kinds.last().map(String::as_str), Some("end"));
    let end: Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    assert_eq!(
        end["counts"],
        json!({"attribute": 2, "role": 2, "role_mapping": 1, "user": 7, "group": 2, "member": 4})
    );
    // No secret in it: no token, no webhook, no hash.
    assert!(!text.contains(&src.token) && !text.contains("swt_") && !text.contains("hash"));

    // Into a new tenant on DB_2, in three parts, as scripts/admin sends it.
    create(&app, json!({"id": "moved", "shard": "DB_2"}));
    let (s, b) = import(&app, "moved", 0, &lines[..4]);
    assert_eq!(
        (s, b["complete"].clone(), b["resumeAt"].clone()),
        (200, json!(false), json!(4)),
        "{b}"
    );
    // A part out of place is refused and says where to resume.
    let (s, b) = import(&app, "moved", 9, &lines[9..]);
    assert_eq!((s, b["resumeAt"].clone()), (409, json!(4)), "{b}");
    // A part with one bad line stores nothing of it.
    let mut bad: Vec<&str> = lines[4..10].to_vec();
    bad[3] = r#"{"type":"user","row":{"id":"x"}}"#;
    let (s, b) = import(&app, "moved", 4, &bad);
    assert_eq!(s, 400, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("Line 7"), "{b}");
    let (_, st) = platform(&app, "GET", "/tenants/moved/import", None);
    assert_eq!(
        (st["inProgress"].clone(), st["resumeAt"].clone()),
        (json!(true), json!(4)),
        "{st}"
    );
    let (s, b) = import(&app, "moved", 4, &lines[4..10]);
    assert_eq!(s, 200, "{b}");
    let (s, b) = import(&app, "moved", 10, &lines[10..]);
    assert_eq!((s, b["complete"].clone()), (200, json!(true)), "{b}");
    let (_, st) = platform(&app, "GET", "/tenants/moved/import", None);
    assert_eq!(st["inProgress"], false);

    assert_eq!(users_on(&app, "DB_2", "moved"), 7);
    assert_eq!(users_on(&app, "DB", "moved"), 0);
    let dst = token(&app, "moved");
    assert_eq!(everything(&app, &src), everything(&app, &dst));
    // The moved tenant exports the same lines, but for the header, and the
    // default URN of acme now set explicitly (it names acme's id).
    let again = export(&app, "moved");
    assert_eq!(
        text.lines().skip(2).collect::<Vec<_>>(),
        again.lines().skip(2).collect::<Vec<_>>()
    );
    let tenant_line: Value = serde_json::from_str(again.lines().nth(1).unwrap()).unwrap();
    assert_eq!(
        tenant_line["row"]["extension_urn"],
        "urn:acme-vendor:scim:schemas:extension:acme:2:User"
    );
    // Lookups use the loaded index rows, and writes go on from there.
    let r = app.call(
        &dst,
        "GET",
        "/Users?filter=emails.value%20eq%20%22u2@home.test%22",
        None,
    );
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    let r = app.call(
        &dst,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "user0@example.com"})),
    );
    assert_eq!(r.status, 409, "a loaded userName is taken");
    // One event says the import happened; none per resource.
    let (_, ev) = platform(&app, "GET", "/tenants/moved/events", None);
    let types: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["tenant.imported"]);
    assert_eq!(ev["events"][0]["data"]["counts"]["user"], 7);
    assert_eq!(ev["events"][0]["data"]["source"], "acme");
}

#[test]
fn an_import_loads_only_into_an_empty_tenant_and_only_a_complete_export() {
    let app = App::new();
    app.provision("acme");
    populated(&app, "acme");
    let text = export(&app, "acme");
    let lines: Vec<&str> = text.lines().collect();
    // Not into a tenant that has data.
    let (s, b) = import(&app, "acme", 0, &lines);
    assert_eq!(s, 409, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("empty tenant"),
        "{b}"
    );
    // An end line that does not count what came: nothing of the part stored.
    app.provision("copy");
    let mut altered: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let last = altered.len() - 1;
    altered.remove(last - 1);
    let refs: Vec<&str> = altered.iter().map(String::as_str).collect();
    let (s, b) = import(&app, "copy", 0, &refs);
    assert_eq!(s, 400, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("incomplete"), "{b}");
    assert_eq!(
        app.rows(
            "SELECT count(*) AS n FROM users WHERE tenant_id = 'copy'",
            vec![]
        )[0]["n"],
        0
    );
    // Lines must come in an export's order.
    let (s, b) = import(&app, "copy", 0, &lines[1..3]);
    assert_eq!(s, 400, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("header"), "{b}");
    // A setup link may not export.
    let (s, link) = platform(&app, "POST", "/tenants/acme/setup-links", Some(json!({})));
    assert_eq!(s, 201, "{link}");
    let credential = link["url"]
        .as_str()
        .unwrap()
        .split("#token=")
        .nth(1)
        .unwrap();
    let r = app.admin(credential, "GET", "/tenants/acme/export", None);
    assert_eq!(r.status, 403);
}

#[test]
fn an_export_larger_than_its_chunks_is_whole_and_loads_in_parts() {
    let app = App::with_shards(&[("DB_2", None)]);
    create(&app, json!({"id": "big", "shard": "DB"}));
    let c = token(&app, "big");
    // More users and memberships than one read of an export takes (500).
    let mut members = Vec::new();
    for i in 0..1234 {
        let r = app.call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": format!("u{i:04}")})),
        );
        assert_eq!(r.status, 201);
        members.push(json!({"value": r.body["id"]}));
    }
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "All", "members": members})),
    );
    assert_eq!(g.status, 201);
    let text = export(&app, "big");
    let lines: Vec<&str> = text.lines().collect();
    let users: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "user")
        .collect();
    assert_eq!(users.len(), 1234);
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["row"]["user_name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 1234, "each user once");
    assert_eq!(names, sorted, "in creation order");
    let end: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(
        (
            end["counts"]["user"].clone(),
            end["counts"]["member"].clone()
        ),
        (json!(1234), json!(1234))
    );

    create(&app, json!({"id": "big2", "shard": "DB_2"}));
    for start in (0..lines.len()).step_by(700) {
        let part = &lines[start..(start + 700).min(lines.len())];
        let (s, b) = import(&app, "big2", start, part);
        assert_eq!(s, 200, "{b}");
    }
    let c2 = token(&app, "big2");
    let r = app.call(&c2, "GET", "/Users?count=1", None);
    assert_eq!(r.body["totalResults"], 1234);
    let gid = g.body["id"].as_str().unwrap();
    let (a, b) = (
        app.call(&c, "GET", &format!("/Groups/{gid}"), None),
        app.call(&c2, "GET", &format!("/Groups/{gid}"), None),
    );
    assert_eq!(b.body["members"].as_array().unwrap().len(), 1234);
    assert_eq!(
        a.body.to_string().replace("/scim/v2/big/", "/"),
        b.body.to_string().replace("/scim/v2/big2/", "/")
    );
}
