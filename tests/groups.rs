//! Native integration tests of /Groups and membership over real SQLite.

use scim_worker::testing::{urn::GROUP, App, Creds};
use serde_json::{json, Value};

fn new_group(app: &App, c: &Creds, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let r = app.call(
        c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": name, "members": members})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn member_ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn post_group_with_members_returns_value_ref_type_and_display_on_request() {
    // RFC 7643 §4.2: members carry value, $ref, display and type.
    let app = App::new();
    let acme = app.tenant("acme");
    let alice = app.named_user(&acme, "alice");
    let g = new_group(&app, &acme, "Engineering", &[&alice]);
    let m = &g["members"][0];
    assert_eq!(m["value"], alice.as_str());
    assert_eq!(m["type"], "User");
    // display is computed, so it is returned on request (returned: request).
    assert!(m.get("display").is_none());
    let gid = g["id"].as_str().unwrap();
    let asked = app.call(
        &acme,
        "GET",
        &format!("/Groups/{gid}?attributes=members.display,members.value"),
        None,
    );
    assert_eq!(asked.body["members"][0]["display"], "alice");
    assert_eq!(asked.body["members"][0]["value"], alice.as_str());
    assert_eq!(
        m["$ref"],
        format!("http://localhost/scim/v2/acme/Users/{alice}").as_str()
    );
    assert_eq!(g["meta"]["resourceType"], "Group");
    // The user's read-only groups attribute is computed from membership.
    let u = app.call(&acme, "GET", &format!("/Users/{alice}"), None);
    assert_eq!(u.body["groups"][0]["value"], g["id"]);
    assert_eq!(u.body["groups"][0]["display"], "Engineering");
}

#[test]
fn under_unknown_members_reject_a_member_that_does_not_exist_is_400_and_nothing_is_stored() {
    let app = App::new();
    let acme = app.tenant("acme");
    app.settings("acme", json!({"unknownMembers": "reject"}));
    let alice = app.named_user(&acme, "alice");
    let r = app.call(
        &acme,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": alice}, {"value": "ghost"}]})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["scimType"], "invalidValue");
    assert!(r.body["detail"].as_str().unwrap().contains("ghost"));
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM groups", vec![])[0]["n"],
        0
    );
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM group_members", vec![])[0]["n"],
        0
    );
}

#[test]
fn a_user_of_another_tenant_cannot_become_a_member() {
    let app = App::new();
    let acme = app.tenant("acme");
    let other = app.tenant("other");
    let foreign = app.named_user(&other, "foreign");
    let r = app.call(
        &acme,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": foreign}]})),
    );
    // Skipped (the default `unknownMembers: skip`): the group has no member.
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("members").is_none(), "{}", r.body);
    assert!(app
        .rows("SELECT member_id FROM group_members", vec![])
        .is_empty());
    app.settings("acme", json!({"unknownMembers": "reject"}));
    let r = app.call(
        &acme,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "G2", "members": [{"value": foreign}]})),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn display_name_is_unique_case_insensitively_per_tenant() {
    let app = App::new();
    let acme = app.tenant("acme");
    new_group(&app, &acme, "Sales", &[]);
    let r = app.call(
        &acme,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "SALES"})),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.body["scimType"], "uniqueness");
}

#[test]
fn filter_display_name_eq_with_excluded_members() {
    // Entra: GET /Groups?filter=displayName eq "x"&excludedAttributes=members
    let app = App::new();
    let acme = app.tenant("acme");
    let alice = app.named_user(&acme, "alice");
    new_group(&app, &acme, "Finance Team", &[&alice]);
    new_group(&app, &acme, "Other", &[]);
    let r = app.call(
        &acme,
        "GET",
        "/Groups?filter=displayName+eq+%22finance+team%22&excludedAttributes=members",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    let g = &r.body["Resources"][0];
    assert_eq!(g["displayName"], "Finance Team");
    assert!(g.get("members").is_none());
}

#[test]
fn put_replaces_members_and_keeps_the_id() {
    let app = App::new();
    let acme = app.tenant("acme");
    let a = app.named_user(&acme, "a");
    let b = app.named_user(&acme, "b");
    let g = new_group(&app, &acme, "G", &[&a]);
    let id = g["id"].as_str().unwrap();
    let r = app.call(
        &acme,
        "PUT",
        &format!("/Groups/{id}"),
        Some(json!({"schemas": [GROUP], "id": id, "displayName": "G2", "members": [{"value": b}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "G2");
    assert_eq!(member_ids(&r.body), vec![b.clone()]);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
}

#[test]
fn deleting_a_user_removes_its_memberships_and_deleting_a_group_keeps_users() {
    // Issue 3: "Deleting a User removes its memberships. Deleting a Group leaves its users."
    let app = App::new();
    let acme = app.tenant("acme");
    let a = app.named_user(&acme, "a");
    let b = app.named_user(&acme, "b");
    let g = new_group(&app, &acme, "G", &[&a, &b]);
    let gid = g["id"].as_str().unwrap();
    assert_eq!(
        app.call(&acme, "DELETE", &format!("/Users/{a}"), None)
            .status,
        204
    );
    let after = app.call(&acme, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(member_ids(&after.body), vec![b.clone()]);
    assert_eq!(
        app.call(&acme, "DELETE", &format!("/Groups/{gid}"), None)
            .status,
        204
    );
    assert_eq!(
        app.call(&acme, "GET", &format!("/Groups/{gid}"), None)
            .status,
        404
    );
    assert_eq!(
        app.call(&acme, "GET", &format!("/Users/{b}"), None).status,
        200
    );
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM group_members", vec![])[0]["n"],
        0
    );
}

#[test]
fn filter_members_value_and_user_groups_value() {
    let app = App::new();
    let acme = app.tenant("acme");
    let a = app.named_user(&acme, "a");
    let b = app.named_user(&acme, "b");
    let g = new_group(&app, &acme, "G", &[&a]);
    let gid = g["id"].as_str().unwrap();
    let r = app.call(
        &acme,
        "GET",
        &format!("/Groups?filter=members.value+eq+%22{a}%22"),
        None,
    );
    assert_eq!(r.body["totalResults"], 1);
    let r = app.call(
        &acme,
        "GET",
        &format!("/Groups?filter=members%5Bvalue+eq+%22{b}%22%5D"),
        None,
    );
    assert_eq!(r.body["totalResults"], 0);
    let r = app.call(
        &acme,
        "GET",
        &format!("/Users?filter=groups.value+eq+%22{gid}%22"),
        None,
    );
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["id"], a.as_str());
}
