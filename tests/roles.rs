//! Group-to-role mapping (issue 16): the application's roles, ordered rules
//! that give the members of IdP groups a role (by group id, externalId or
//! displayName), a default role for users in no mapped group; each user's
//! roles computed by the database on every membership, group and rule
//! change, kept with the user, filterable, and announced by
//! `user.roles_changed` with the previous roles.

use scim_worker::testing::{
    patch_ops,
    urn::{GROUP, USER},
    App, Creds,
};
use serde_json::{json, Value};

fn admin(app: &App, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let r = app.admin(&app.admin_token(Some("acme")), method, path, body);
    (r.status, r.body)
}

fn user(app: &App, c: &Creds, name: &str) -> String {
    let r = app.call(
        c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": name})),
    );
    assert_eq!(r.status, 201, "{} {}", r.body, app.log.text());
    r.body["id"].as_str().unwrap().to_owned()
}

fn group(app: &App, c: &Creds, name: &str, external: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let r = app.call(
        c,
        "POST",
        "/Groups",
        Some(
            json!({"schemas": [GROUP], "displayName": name, "externalId": external, "members": members}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn roles_of(app: &App, id: &str) -> Value {
    let (s, u) = admin(app, "GET", &format!("/tenants/acme/users/{id}"), None);
    assert_eq!(s, 200, "{u}");
    u["roles"].clone()
}

fn define(app: &App, roles: &[&str]) {
    for r in roles {
        let (s, b) = admin(
            app,
            "PUT",
            &format!("/tenants/acme/roles/{r}"),
            Some(json!({"description": format!("The {r} role")})),
        );
        assert_eq!(s, 201, "{b}");
    }
}

fn map(app: &App, body: Value) -> Value {
    let (s, b) = admin(app, "PUT", "/tenants/acme/role-mappings", Some(body));
    assert_eq!(s, 200, "{b}");
    b
}

/// The `user.roles_changed` events after sequence `after`.
fn role_events(app: &App, after: i64) -> Vec<Value> {
    let (s, b) = admin(
        app,
        "GET",
        &format!("/tenants/acme/events?types=user.roles_changed&after={after}&limit=1000"),
        None,
    );
    assert_eq!(s, 200, "{b}");
    b["events"].as_array().cloned().unwrap_or_default()
}

fn last_seq(app: &App) -> i64 {
    let (_, b) = admin(app, "GET", "/tenants/acme/events?limit=1000", None);
    b["events"]
        .as_array()
        .and_then(|e| e.last())
        .map_or(0, |e| e["sequence"].as_i64().unwrap())
}

#[test]
fn roles_follow_memberships_in_rule_order_with_a_default_and_their_events() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, &["admin", "editor", "member"]);
    let bob = user(&app, &c, "bob@example.com");
    // No rule yet: no roles, and no event about them.
    assert_eq!(roles_of(&app, &bob), json!([]));
    assert!(role_events(&app, 0).is_empty());

    let admins = group(&app, &c, "Admins", "okta-00g1", &[]);
    let mapped = map(
        &app,
        json!({"mappings": [
            {"group": {"externalId": "okta-00g1"}, "role": "admin"},
            {"group": {"displayName": "editors"}, "role": "editor"}
        ], "defaultRole": "member"}),
    );
    // The rules come back in order, with the groups each matches now.
    assert_eq!(mapped["usersChanged"], 1);
    assert_eq!(mapped["defaultRole"], "member");
    assert_eq!(
        mapped["mappings"][0],
        json!({"group": {"externalId": "okta-00g1"}, "role": "admin",
               "groups": [{"id": admins, "displayName": "Admins"}]})
    );
    assert_eq!(mapped["mappings"][1]["groups"], json!([]));
    // The default role reached the user in no mapped group.
    assert_eq!(roles_of(&app, &bob), json!(["member"]));
    let seq = last_seq(&app);

    // Joining both groups (the second matched by displayName in any case):
    // roles in rule order, the default gone.
    let editors = group(&app, &c, "Editors", "okta-00g2", &[&bob]);
    assert_eq!(roles_of(&app, &bob), json!(["editor"]));
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{admins}"),
        Some(patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(roles_of(&app, &bob), json!(["admin", "editor"]));
    let events = role_events(&app, seq);
    assert_eq!(events.len(), 2, "{events:?}");
    let e = &events[1];
    assert_eq!(
        e["resource"],
        json!({"type": "User", "id": bob, "userName": "bob@example.com"})
    );
    assert_eq!(e["changed"], json!(["roles"]));
    assert_eq!(e["previous"], json!({"roles": ["editor"]}));
    assert_eq!(e["data"]["roles"], json!(["admin", "editor"]));
    assert_eq!(e["actor"]["type"], "scim");
    assert_eq!(events[0]["previous"], json!({"roles": ["member"]}));

    // The filter of the user list.
    let (_, listed) = admin(&app, "GET", "/tenants/acme/users?role=admin", None);
    assert_eq!(listed["totalResults"], 1);
    assert_eq!(listed["users"][0]["id"], bob.as_str());
    let (_, none) = admin(&app, "GET", "/tenants/acme/users?role=member", None);
    assert_eq!(none["totalResults"], 0);

    // A rename out of the rule's match takes the role away from every member.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{editors}"),
        Some(patch_ops(
            json!([{"op": "replace", "path": "displayName", "value": "Writers"}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(roles_of(&app, &bob), json!(["admin"]));
    // Leaving the last mapped group brings the default back.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{admins}"),
        Some(patch_ops(
            json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(roles_of(&app, &bob), json!(["member"]));
    // A member PATCH that changes nothing changes no roles either.
    let before = role_events(&app, 0).len();
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{editors}"),
        Some(patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]),
        )),
    );
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    assert_eq!(role_events(&app, 0).len(), before);
}

#[test]
fn replacing_or_deleting_a_group_and_deleting_or_restoring_a_user_recompute_roles() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, &["admin", "member"]);
    let bob = user(&app, &c, "bob@example.com");
    let eve = user(&app, &c, "eve@example.com");
    let admins = group(&app, &c, "Admins", "g1", &[&bob, &eve]);
    map(
        &app,
        json!({"mappings": [{"group": {"id": admins}, "role": "admin"}], "defaultRole": "member"}),
    );
    assert_eq!(roles_of(&app, &bob), json!(["admin"]));
    assert_eq!(roles_of(&app, &eve), json!(["admin"]));

    // PUT replaces the member list: Eve is out, and loses the role.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{admins}"),
        Some(
            json!({"schemas": [GROUP], "displayName": "Admins", "externalId": "g1",
                    "members": [{"value": bob}]}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(roles_of(&app, &bob), json!(["admin"]));
    assert_eq!(roles_of(&app, &eve), json!(["member"]));

    // A deleted user has no roles; restored, it is in no group.
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{bob}"), None)
            .status,
        204
    );
    let (_, tomb) = admin(&app, "GET", &format!("/tenants/acme/users/{bob}"), None);
    assert_eq!(tomb["roles"], json!([]));
    assert!(tomb["deleted"].is_string());
    let (s, restored) = admin(
        &app,
        "POST",
        &format!("/tenants/acme/users/{bob}/restore"),
        None,
    );
    assert_eq!(s, 200, "{restored}");
    assert_eq!(restored["roles"], json!(["member"]));
    let last = role_events(&app, 0).pop().unwrap();
    assert_eq!(last["actor"]["type"], "admin");
    assert_eq!(last["previous"], json!({"roles": []}));

    // Deleting the group takes its role from its members.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{admins}"),
        Some(patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": eve}]}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(roles_of(&app, &eve), json!(["admin"]));
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Groups/{admins}"), None)
            .status,
        204
    );
    assert_eq!(roles_of(&app, &eve), json!(["member"]));
    // The batch's scratch rows never outlive it.
    assert!(app
        .rows("SELECT * FROM role_candidates", Vec::new())
        .is_empty());

    // Removing every rule and the default empties every user's roles.
    let cleared = map(&app, json!({"mappings": []}));
    assert_eq!(cleared["usersChanged"], 2);
    assert_eq!(roles_of(&app, &eve), json!([]));
    assert_eq!(roles_of(&app, &bob), json!([]));
}

#[test]
fn bad_roles_and_rules_are_refused_and_change_nothing() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, &["admin"]);
    let bob = user(&app, &c, "bob@example.com");
    group(&app, &c, "Admins", "g1", &[&bob]);
    let cases = [
        (
            json!({"mappings": [{"group": {"displayName": "Admins"}, "role": "owner"}]}),
            "owner",
        ),
        (json!({"mappings": [], "defaultRole": "nobody"}), "nobody"),
        (
            json!({"mappings": [{"group": {"id": "no-such-group"}, "role": "admin"}]}),
            "no group with id",
        ),
        (
            json!({"mappings": [{"group": {"id": "x", "displayName": "Admins"}, "role": "admin"}]}),
            "exactly one",
        ),
        (
            json!({"mappings": [{"group": {"displayName": " "}, "role": "admin"}]}),
            "empty",
        ),
        (
            json!({"mappings": [{"group": {"name": "Admins"}, "role": "admin"}]}),
            "unknown field",
        ),
    ];
    for (body, says) in cases {
        let (s, b) = admin(
            &app,
            "PUT",
            "/tenants/acme/role-mappings",
            Some(body.clone()),
        );
        assert_eq!(s, 400, "{body}: {b}");
        assert!(b["detail"].as_str().unwrap().contains(says), "{body}: {b}");
    }
    assert_eq!(roles_of(&app, &bob), json!([]));
    let (_, m) = admin(&app, "GET", "/tenants/acme/role-mappings", None);
    assert_eq!(m, json!({"mappings": [], "defaultRole": null}));

    // Role names are plain; a role in use cannot be deleted.
    let (s, _) = admin(&app, "PUT", "/tenants/acme/roles/has%20space", None);
    assert_eq!(s, 400);
    map(
        &app,
        json!({"mappings": [{"group": {"displayName": "admins"}, "role": "admin"}]}),
    );
    let (s, b) = admin(&app, "DELETE", "/tenants/acme/roles/admin", None);
    assert_eq!(s, 409, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("in use"), "{b}");
    let (s, _) = admin(&app, "DELETE", "/tenants/acme/roles/ghost", None);
    assert_eq!(s, 404);
    // The list counts each role's users; a second PUT updates (200).
    let (s, r) = admin(
        &app,
        "PUT",
        "/tenants/acme/roles/admin",
        Some(json!({"description": "Full access"})),
    );
    assert_eq!((s, r["description"].as_str()), (200, Some("Full access")));
    let (_, list) = admin(&app, "GET", "/tenants/acme/roles", None);
    assert_eq!(list["roles"][0]["name"], "admin");
    assert_eq!(list["roles"][0]["users"], 1);
    // Unmapped, it can go.
    map(&app, json!({"mappings": []}));
    let (s, _) = admin(&app, "DELETE", "/tenants/acme/roles/admin", None);
    assert_eq!(s, 204);
}

#[test]
fn roles_are_per_tenant() {
    let app = App::new();
    app.provision("acme");
    app.provision("globex");
    let other = app.admin_token(Some("globex"));
    for (method, path) in [
        ("GET", "/tenants/acme/roles"),
        ("PUT", "/tenants/acme/roles/admin"),
        ("DELETE", "/tenants/acme/roles/admin"),
        ("GET", "/tenants/acme/role-mappings"),
        ("PUT", "/tenants/acme/role-mappings"),
    ] {
        let r = app.admin(&other, method, path, Some(json!({"mappings": []})));
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    // Globex's rules do not reach Acme's users.
    define(&app, &["admin"]);
    let r = app.admin(
        &other,
        "PUT",
        "/tenants/globex/role-mappings",
        Some(json!({"mappings": [], "defaultRole": "admin"})),
    );
    assert_eq!(r.status, 400, "a role of another tenant: {}", r.body);
}

#[test]
fn the_directory_lists_take_a_scim_filter_and_a_cursor() {
    let app = App::new();
    let c = app.provision("acme");
    for i in 0..5 {
        user(&app, &c, &format!("user{i}@example.com"));
    }
    let (s, page) = admin(&app, "GET", "/tenants/acme/users?count=2", None);
    assert_eq!(s, 200, "{page}");
    let mut seen: Vec<String> = Vec::new();
    let mut page = page;
    loop {
        for u in page["users"].as_array().unwrap() {
            seen.push(u["userName"].as_str().unwrap().to_owned());
        }
        let Some(next) = page["next"].as_str().map(str::to_owned) else {
            break;
        };
        page = admin(
            &app,
            "GET",
            &format!("/tenants/acme/users?count=2&cursor={next}"),
            None,
        )
        .1;
    }
    let expected: Vec<String> = (0..5).map(|i| format!("user{i}@example.com")).collect();
    assert_eq!(seen, expected);
    let (_, found) = admin(
        &app,
        "GET",
        "/tenants/acme/users?filter=userName%20sw%20%22user3%22",
        None,
    );
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["users"][0]["userName"], "user3@example.com");
    let (s, bad) = admin(
        &app,
        "GET",
        "/tenants/acme/users?filter=userName%20eq",
        None,
    );
    assert_eq!(s, 400, "{bad}");
    let (s, _) = admin(&app, "GET", "/tenants/acme/users?sort=x", None);
    assert_eq!(s, 400);
    group(&app, &c, "Sales", "s1", &[]);
    group(&app, &c, "Support", "s2", &[]);
    let (_, groups) = admin(
        &app,
        "GET",
        "/tenants/acme/groups?filter=displayName%20eq%20%22support%22",
        None,
    );
    assert_eq!(groups["totalResults"], 1);
    assert_eq!(groups["groups"][0]["displayName"], "Support");
}

/// A new user of a tenant without rules or a default role makes no role
/// statements; the isolate's cached profile says so. A default role set by
/// another isolate meanwhile (here straight in the database, which bumps the
/// profile version) aborts that write, which is made again with the roles.
#[test]
fn a_default_role_set_elsewhere_reaches_the_next_new_user() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, &["member"]);
    user(&app, &c, "warm@example.com");
    app.rows(
        "UPDATE tenants SET default_role = 'member' WHERE id = 'acme'",
        vec![],
    );
    let id = user(&app, &c, "new@example.com");
    assert_eq!(roles_of(&app, &id), json!(["member"]));
}
