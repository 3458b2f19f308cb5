//! Provisioning events (issue 14): every change a SCIM request or the admin
//! API makes is recorded in the same batch as the change, numbered per
//! tenant without gaps, and read back through the change feed
//! `GET /admin/v1/tenants/{t}/events`.

use scim_worker::testing::{
    patch_ops,
    urn::{GROUP, USER},
    App, Creds,
};
use serde_json::{json, Value};

fn events(app: &App, tenant: &str, query: &str) -> Value {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "GET",
        &format!("/tenants/{tenant}/events{query}"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn all(app: &App, tenant: &str) -> Vec<Value> {
    events(app, tenant, "?limit=1000")["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn types(list: &[Value]) -> Vec<&str> {
    list.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn user(app: &App, c: &Creds, name: &str) -> String {
    let r = app.call(
        c,
        "POST",
        "/Users",
        Some(
            json!({"schemas": [USER], "userName": name, "externalId": format!("ext-{name}"),
                    "password": "Secret-1", "name": {"givenName": "Bob"}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_created_user_is_one_event_with_actor_resource_and_data_but_no_password() {
    let app = App::new();
    let c = app.provision("acme");
    let id = user(&app, &c, "bob@example.com");
    let list = all(&app, "acme");
    assert_eq!(types(&list), ["user.created"]);
    let e = &list[0];
    assert!(e["id"].as_str().unwrap().starts_with("evt_"), "{e}");
    assert_eq!(e["tenant"], "acme");
    assert_eq!(e["sequence"], 1);
    assert_eq!(e["actor"]["type"], "scim");
    assert_eq!(e["actor"]["label"], "idp");
    assert!(e["actor"]["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(e["requestId"].as_str().is_some_and(|s| s.len() >= 16));
    assert_eq!(
        e["resource"],
        json!({"type": "User", "id": id, "externalId": "ext-bob@example.com", "userName": "bob@example.com"})
    );
    assert_eq!(e["data"]["id"], id);
    assert_eq!(e["data"]["name"]["givenName"], "Bob");
    assert_eq!(e["data"]["meta"]["version"], "W/\"1\"");
    assert!(!e.to_string().contains("Secret-1"), "{e}");
    // RFC 3339 with milliseconds, UTC.
    let at = e["occurredAt"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 24, "{at}");
}

#[test]
fn updates_say_what_changed_and_deactivation_has_its_own_type() {
    let app = App::new();
    let c = app.provision("acme");
    let id = user(&app, &c, "bob@example.com");
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch_ops(
            json!([{"op": "replace", "path": "name.givenName", "value": "Robert"},
                               {"op": "add", "path": "title", "value": "Engineer"}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Okta deactivates with a path-less replace of active (seed okta.md).
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch_ops(
            json!([{"op": "replace", "value": {"active": false}}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch_ops(
            json!([{"op": "replace", "path": "active", "value": true}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let list = all(&app, "acme");
    assert_eq!(
        types(&list),
        [
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated"
        ]
    );
    assert_eq!(list[1]["changed"], json!(["name.givenName", "title"]));
    assert_eq!(
        list[1]["previous"],
        json!({"name.givenName": "Bob", "title": null})
    );
    assert_eq!(list[1]["data"]["title"], "Engineer");
    assert_eq!(list[2]["changed"], json!(["active"]));
    assert_eq!(list[2]["previous"], json!({"active": true}));
    assert_eq!(list[2]["data"]["active"], false);
    let seqs: Vec<i64> = list
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

#[test]
fn writes_that_change_nothing_or_fail_record_nothing() {
    let app = App::new();
    let c = app.provision("acme");
    let id = user(&app, &c, "bob@example.com");
    // The same value again: RFC 7644 §3.5.2 lets it succeed, nothing changes.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch_ops(
            json!([{"op": "replace", "path": "name.givenName", "value": "Bob"}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Refused: a userName that is taken (409), a bad type (400).
    let other = user(&app, &c, "alice@example.com");
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{other}"),
        Some(patch_ops(
            json!([{"op": "replace", "path": "userName", "value": "BOB@example.com"}]),
        )),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "x", "active": 7})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let list = all(&app, "acme");
    assert_eq!(types(&list), ["user.created", "user.created"]);
    // The next event follows without a gap.
    let r = app.call(&c, "DELETE", &format!("/Users/{other}"), None);
    assert_eq!(r.status, 204);
    let list = all(&app, "acme");
    assert_eq!(list[2]["sequence"], 3);
}

#[test]
fn deletes_record_the_last_state_and_whether_a_tombstone_stays() {
    let app = App::new();
    let c = app.provision("acme");
    let kept = user(&app, &c, "kept@example.com");
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{kept}"), None)
            .status,
        204
    );
    app.settings("acme", json!({"deletePolicy": "remove"}));
    let gone = user(&app, &c, "gone@example.com");
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{gone}"), None)
            .status,
        204
    );
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Ops"})),
    );
    let gid = g.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Groups/{gid}"), None)
            .status,
        204
    );
    // A second DELETE is 404 and records nothing.
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Groups/{gid}"), None)
            .status,
        404
    );
    let list = all(&app, "acme");
    assert_eq!(
        types(&list),
        [
            "user.created",
            "user.deleted",
            "user.created",
            "user.deleted",
            "group.created",
            "group.deleted"
        ]
    );
    assert_eq!(list[1]["retained"], true);
    assert_eq!(list[1]["data"]["userName"], "kept@example.com");
    assert_eq!(list[3]["retained"], false);
    assert_eq!(list[5]["resource"]["displayName"], "Ops");
    assert!(list[5].get("retained").is_none());
}

/// "No change goes without its event": a deleted user or group leaves the
/// groups it was in, and each group says so (`group.member_removed`, one per
/// group, before the member's own `deleted`); a deleted group's own members
/// get no such events (its `group.deleted` says it all).
#[test]
fn a_deleted_member_leaves_every_group_with_an_event_each() {
    let app = App::new();
    let c = app.provision("acme");
    let bob = user(&app, &c, "bob@example.com");
    let group = |name: &str, members: Value| {
        let r = app.call(
            &c,
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": name, "members": members})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    };
    let eng = group("Engineering", json!([{"value": bob}]));
    let ops = group("Ops", json!([{"value": bob}]));
    let all_staff = group("All", json!([{"value": eng}, {"value": bob}]));
    let before = all(&app, "acme").len();
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{bob}"), None)
            .status,
        204
    );
    let list = all(&app, "acme");
    let new = &list[before..];
    assert_eq!(
        types(new),
        [
            "group.member_removed",
            "group.member_removed",
            "group.member_removed",
            "user.deleted"
        ]
    );
    let mut groups: Vec<&str> = new[..3]
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    groups.sort_unstable();
    let mut want = vec![eng.as_str(), ops.as_str(), all_staff.as_str()];
    want.sort_unstable();
    assert_eq!(groups, want);
    for e in &new[..3] {
        assert_eq!(e["resource"]["type"], "Group");
        assert_eq!(e["data"]["group"], e["resource"]);
        assert_eq!(e["data"]["member"]["id"], bob.as_str());
        assert_eq!(e["data"]["member"]["userName"], "bob@example.com");
        assert!(e["resource"].get("externalId").is_none(), "{e}");
    }
    // Sequences stay gapless across the batch.
    let seqs: Vec<i64> = list
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=list.len() as i64).collect::<Vec<_>>());
    // The membership is gone from the group.
    let g = app.call(&c, "GET", &format!("/Groups/{ops}"), None);
    assert!(
        g.body.get("members").is_none() || g.body["members"] == json!([]),
        "{}",
        g.body
    );

    // A deleted group leaves its parent (one event), not its members.
    let before = all(&app, "acme").len();
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Groups/{eng}"), None)
            .status,
        204
    );
    let list = all(&app, "acme");
    let new = &list[before..];
    assert_eq!(types(new), ["group.member_removed", "group.deleted"]);
    assert_eq!(new[0]["resource"]["id"], all_staff.as_str());
    assert_eq!(new[0]["data"]["member"]["displayName"], "Engineering");
}

#[test]
fn one_membership_event_per_member_that_really_joins_or_leaves() {
    let app = App::new();
    let c = app.provision("acme");
    let a = user(&app, &c, "a@example.com");
    let b = user(&app, &c, "b@example.com");
    let d = user(&app, &c, "d@example.com");
    // Okta group push with a member that is not in the tenant: skipped.
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Eng",
                    "members": [{"value": a}, {"value": b}, {"value": "nobody"}, {"value": a}]})),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let start = all(&app, "acme").len();
    let list = all(&app, "acme");
    assert_eq!(
        types(&list[3..]),
        ["group.created", "group.member_added", "group.member_added"]
    );
    let added = &list[4];
    assert_eq!(added["resource"]["id"], gid);
    assert_eq!(added["data"]["group"]["displayName"], "Eng");
    assert_eq!(added["data"]["member"]["type"], "User");
    assert!([a.as_str(), b.as_str()].contains(&added["data"]["member"]["id"].as_str().unwrap()));
    assert!(added["data"]["member"]["userName"]
        .as_str()
        .unwrap()
        .ends_with("@example.com"));
    // Adding a member again changes nothing; removing one is one event.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": a}]}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(all(&app, "acme").len(), start);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch_ops(
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let list = all(&app, "acme");
    assert_eq!(types(&list[start..]), ["group.member_removed"]);
    assert_eq!(list[start]["data"]["member"]["id"], a);
    // A PUT that renames and replaces the members: the rename, then b
    // leaves and d joins (a is already out).
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": d}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let list = all(&app, "acme");
    assert_eq!(
        types(&list[start + 1..]),
        [
            "group.updated",
            "group.member_removed",
            "group.member_added"
        ]
    );
    assert_eq!(list[start + 1]["changed"], json!(["displayName"]));
    assert_eq!(list[start + 1]["previous"], json!({"displayName": "Eng"}));
    assert_eq!(list[start + 2]["data"]["member"]["id"], b);
    assert_eq!(list[start + 3]["data"]["member"]["id"], d);
    assert_eq!(
        list[start + 3]["data"]["group"]["displayName"],
        "Engineering"
    );
    // Deleting the group is one event, not one per member leaving.
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Groups/{gid}"), None)
            .status,
        204
    );
    assert_eq!(types(&all(&app, "acme")[start + 4..]), ["group.deleted"]);
}

#[test]
fn admin_actions_record_events_with_the_admin_as_actor() {
    let app = App::new();
    let c = app.provision("acme");
    let id = user(&app, &c, "bob@example.com");
    let admin = app.admin_token(Some("acme"));
    let act = |action: &str| {
        app.admin(
            &admin,
            "POST",
            &format!("/tenants/acme/users/{id}/{action}"),
            None,
        )
    };
    assert_eq!(act("deactivate").status, 200);
    // Already inactive: nothing changes, nothing is recorded.
    assert_eq!(act("deactivate").status, 200);
    assert_eq!(act("reactivate").status, 200);
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{id}"), None).status,
        204
    );
    assert_eq!(act("restore").status, 200);
    assert_eq!(act("restore").status, 404);
    let list = all(&app, "acme");
    assert_eq!(
        types(&list),
        [
            "user.created",
            "user.deactivated",
            "user.reactivated",
            "user.deleted",
            "user.restored"
        ]
    );
    assert_eq!(
        list[1]["actor"],
        json!({"type": "admin", "id": "tenant:acme", "label": "tenant:acme"})
    );
    assert_eq!(list[4]["data"]["active"], true);
    assert_eq!(list[4]["actor"]["type"], "admin");
}

#[test]
fn each_applied_bulk_operation_records_its_own_events() {
    let app = App::new();
    let c = app.provision("acme");
    let r = app.call(
        &c,
        "POST",
        "/Bulk",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "u1",
                 "data": {"schemas": [USER], "userName": "one@example.com"}},
                {"method": "POST", "path": "/Users", "bulkId": "bad",
                 "data": {"schemas": [USER], "userName": "one@example.com"}},
                {"method": "POST", "path": "/Groups", "bulkId": "g1",
                 "data": {"schemas": [GROUP], "displayName": "G", "members": [{"value": "bulkId:u1"}]}}
            ]
        })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        types(&all(&app, "acme")),
        ["user.created", "group.created", "group.member_added"]
    );
}

#[test]
fn the_feed_pages_by_cursor_and_filters_by_type_and_resource() {
    let app = App::new();
    let c = app.provision("acme");
    let a = user(&app, &c, "a@example.com");
    let _b = user(&app, &c, "b@example.com");
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "G",
                                                       "members": [{"value": a}]})),
    );
    assert_eq!(g.status, 201);
    // 4 events: 2 users, the group, a joining.
    let page = events(&app, "acme", "?limit=3");
    assert_eq!(page["events"].as_array().unwrap().len(), 3);
    assert_eq!(page["next"], "3");
    let rest = events(&app, "acme", "?limit=3&after=3");
    assert_eq!(
        types(rest["events"].as_array().unwrap()),
        ["group.member_added"]
    );
    assert_eq!(rest["next"], Value::Null);
    let users = events(&app, "acme", "?types=user.*");
    assert_eq!(
        types(users["events"].as_array().unwrap()),
        ["user.created", "user.created"]
    );
    let groups = events(&app, "acme", "?types=group.created,group.member_added");
    assert_eq!(groups["events"].as_array().unwrap().len(), 2);
    // About user a: its creation and its joining the group.
    let about = events(&app, "acme", &format!("?resource={a}"));
    assert_eq!(
        types(about["events"].as_array().unwrap()),
        ["user.created", "group.member_added"]
    );
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?after=x",
        "?types=User.Created",
        "?type=user.created",
    ] {
        let r = app.admin(
            &app.admin_token(None),
            "GET",
            &format!("/tenants/acme/events{bad}"),
            None,
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[test]
fn tenants_see_only_their_own_events() {
    let app = App::new();
    let acme = app.provision("acme");
    let _globex = app.provision("globex");
    user(&app, &acme, "a@example.com");
    assert!(all(&app, "globex").is_empty());
    let r = app.admin(
        &app.admin_token(Some("globex")),
        "GET",
        "/tenants/acme/events",
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
}
