//! PATCH (RFC 7644 §3.5.2) through the whole service over real SQLite,
//! including the dialects of Okta and Microsoft Entra ID
//! (shared/docs/idp-behaviour.md).

use scim_worker::testing::{
    urn::{ENTERPRISE, GROUP, PATCH_OP as PATCH, USER},
    App, Creds,
};
use serde_json::{json, Value};

fn ops(list: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": list})
}

fn new_user(app: &App, c: &Creds, body: Value) -> String {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn new_group(app: &App, c: &Creds, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let r = app.call(
        c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": name, "members": members})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn members(app: &App, c: &Creds, gid: &str) -> Vec<String> {
    let r = app.call(c, "GET", &format!("/Groups/{gid}"), None);
    let mut ids: Vec<String> = r.body["members"]
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
fn okta_deactivate_and_reactivate_keep_id_and_attributes() {
    // Okta: {"op":"replace","value":{"active":false}} without a path.
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "okta@example.com", "name": {"givenName": "O"}}),
    );
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(ops(json!([{"op": "replace", "value": {"active": false}}]))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    // Inactive users stay visible to GET and filters.
    let f = app.call(
        &c,
        "GET",
        "/Users?filter=userName+eq+%22okta%40example.com%22",
        None,
    );
    assert_eq!(f.body["Resources"][0]["active"], false);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(ops(json!([{"op": "replace", "value": {"active": true}}]))),
    );
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["name"]["givenName"], "O");
    let rows = app.rows(
        "SELECT active FROM users WHERE id = ?",
        vec![id.as_str().into()],
    );
    assert_eq!(rows[0]["active"], 1);
}

#[test]
fn entra_capitalised_ops_string_booleans_dotted_and_urn_keys() {
    // Entra: "Replace", "False", name.givenName and URN-qualified keys land nested.
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "entra@example.com"}),
    );
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(ops(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "value": {
                "name.givenName": "Ada",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "mgr-1"}},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ada@work.example"},
        ]))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["name"]["givenName"], "Ada");
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "7");
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "mgr-1");
    // RFC 7643 §4.3: manager.$ref is the manager's resource URI.
    assert_eq!(
        r.body[ENTERPRISE]["manager"]["$ref"],
        "http://localhost/scim/v2/acme/Users/mgr-1"
    );
    assert_eq!(
        r.body["emails"][0],
        json!({"type": "work", "value": "ada@work.example"})
    );
    assert!(r.body["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(ENTERPRISE)));
    // The created email is indexed: the filter finds it.
    let f = app.call(
        &c,
        "GET",
        "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22ADA%40work.example%22",
        None,
    );
    assert_eq!(f.body["totalResults"], 1);
    // Manager removal by replace to "" (Entra).
    let r = app.call(&c, "PATCH", &format!("/Users/{id}"), Some(ops(json!([
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}]))));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body[ENTERPRISE].get("manager").is_none());
}

#[test]
fn a_failing_operation_leaves_the_user_unchanged() {
    // RFC 7644 §3.5.2: all operations apply, or none.
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "atomic", "title": "Before"}),
    );
    let before = app.rows(
        "SELECT doc, version FROM users WHERE id = ?",
        vec![id.as_str().into()],
    );
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(ops(json!([
        {"op": "replace", "path": "title", "value": "After"},
        {"op": "replace", "path": "nosuch", "value": "x"}]))),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["scimType"], "invalidPath");
    let after = app.rows(
        "SELECT doc, version FROM users WHERE id = ?",
        vec![id.as_str().into()],
    );
    assert_eq!(before, after);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(ops(json!([{"op": "remove"}]))),
    );
    assert_eq!(r.body["scimType"], "noTarget");
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(ops(json!([{"op": "replace", "path": "id", "value": "x"}]))),
    );
    assert_eq!(r.body["scimType"], "mutability");
    let r = app.call(
        &c,
        "PATCH",
        "/Users/missing",
        Some(ops(
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        )),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn group_member_add_remove_touch_only_named_rows() {
    // Okta group push and Entra membership PATCHes; re-adding and removing a
    // non-member are no-op successes.
    let app = App::new();
    let c = app.tenant("acme");
    let a = new_user(&app, &c, json!({"schemas": [USER], "userName": "a"}));
    let b = new_user(&app, &c, json!({"schemas": [USER], "userName": "b"}));
    let d = new_user(&app, &c, json!({"schemas": [USER], "userName": "d"}));
    let gid = new_group(&app, &c, "Team", &[&a]);
    let path = format!("/Groups/{gid}");
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "add", "path": "members", "value": [{"value": b}, {"value": a}]}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(members(&app, &c, &gid), want);
    // Okta: remove with a value filter.
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
        )),
    );
    assert_eq!(r.status, 204);
    assert_eq!(members(&app, &c, &gid), vec![b.clone()]);
    // Entra legacy: remove with path members and a value list removes only those.
    app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "Add", "path": "members", "value": [{"value": d}]}]),
        )),
    );
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]),
        )),
    );
    assert_eq!(r.status, 204);
    assert_eq!(members(&app, &c, &gid), vec![d.clone()]);
    // Removing a non-member is a no-op success.
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]),
        )),
    );
    assert_eq!(r.status, 204);
    // A member that does not exist: skipped (the default), nothing changes.
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "add", "path": "members", "value": [{"value": "ghost"}]}]),
        )),
    );
    assert_eq!(r.status, 204);
    assert_eq!(members(&app, &c, &gid), vec![d.clone()]);
    // remove with path members and no value empties the group.
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(json!([{"op": "remove", "path": "members"}]))),
    );
    assert_eq!(r.status, 204);
    assert!(members(&app, &c, &gid).is_empty());
}

#[test]
fn okta_rename_with_own_id_and_member_filters() {
    // Okta sends the group's own id with every rename.
    let app = App::new();
    let c = app.tenant("acme");
    let a = new_user(&app, &c, json!({"schemas": [USER], "userName": "a"}));
    let gid = new_group(&app, &c, "Old", &[&a]);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(ops(json!([
        {"op": "replace", "value": {"id": gid, "displayName": "New"}}]))),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["displayName"], "New");
    assert_eq!(members(&app, &c, &gid), vec![a.clone()]);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(ops(json!([
        {"op": "replace", "value": {"id": "someone-else", "displayName": "X"}}]))),
    );
    assert_eq!(r.status, 400);
    // A members filter other than value eq is evaluated on the members.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}?attributes=members"),
        Some(ops(json!([
        {"op": "remove", "path": "members[type eq \"User\"]"}]))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("members").is_none());
    assert!(members(&app, &c, &gid).is_empty());
}
