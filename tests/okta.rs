//! Okta provisioning into scim-worker (issue 4), one test per requirement of
//! shared/docs/idp-behaviour.md ("Both clients" and "Okta"), through the
//! whole service over real SQLite.
//!
//! Okta sources named there: "SCIM 2.0 protocol reference", "Build your SCIM
//! API service", and the OIN SCIM test plan (Runscope/Okta SCIM spec tests).

use scim_worker::testing::{
    urn::{ENTERPRISE as ENT, ERROR, GROUP, LIST_RESPONSE as LIST, PATCH_OP as PATCH, USER},
    App, Creds, Reply,
};
use serde_json::{json, Value};

fn ops(list: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": list})
}

/// The body Okta sends on `POST /Users` ("SCIM 2.0 protocol reference",
/// Create the user).
fn okta_user(login: &str, external_id: &str, password: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": login,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": login, "type": "work", "display": login}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": password,
        "active": true
    })
}

fn create(app: &App, c: &Creds, body: Value) -> Value {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn named_user(app: &App, c: &Creds, user_name: &str) -> String {
    create(app, c, json!({"schemas": [USER], "userName": user_name}))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn patch(app: &App, c: &Creds, path: &str, list: Value) -> Reply {
    app.call(c, "PATCH", path, Some(ops(list)))
}

fn user_row(app: &App, id: &str) -> serde_json::Map<String, Value> {
    app.rows(
        "SELECT user_name, external_id, display_name, active, version, doc FROM users WHERE id = ?",
        vec![id.into()],
    )
    .remove(0)
}

fn stored_members(app: &App, gid: &str) -> Vec<String> {
    app.member_ids(gid)
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    v.sort();
    v
}

/// Checks the shape of a ListResponse: integers, and itemsPerPage equal to
/// the number of Resources returned.
fn assert_list(r: &Reply, total: u64, start: u64) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/scim+json"));
    assert_eq!(r.body["schemas"], json!([LIST]));
    assert!(r.body["totalResults"].is_u64(), "{}", r.body);
    assert!(r.body["itemsPerPage"].is_u64(), "{}", r.body);
    assert!(r.body["startIndex"].is_u64(), "{}", r.body);
    assert_eq!(r.body["totalResults"], total);
    assert_eq!(r.body["startIndex"], start);
    let resources = r.body["Resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(r.body["itemsPerPage"], resources.len() as u64);
    resources
}

// ---------------------------------------------------------------------------
// Both clients
// ---------------------------------------------------------------------------

#[test]
fn okta_every_response_and_error_is_scim_json_with_string_status() {
    // idp-behaviour.md, Both clients: "Every response, errors included, is JSON
    // with Content-Type: application/scim+json. Errors use the
    // urn:ietf:params:scim:api:messages:2.0:Error schema with status as a
    // string, detail, and scimType where RFC 7644 defines one" (Okta OIN SCIM
    // test plan: "Make sure you return a 404 with a SCIM error body").
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("ct@okta.local", "00u1", "p"));
    let id = u["id"].as_str().unwrap();
    let responses = [
        app.call(&c, "GET", "/Users?startIndex=1&count=2", None),
        app.call(&c, "GET", &format!("/Users/{id}"), None),
        app.call(&c, "GET", "/ServiceProviderConfig", None),
        app.call(&c, "GET", "/Schemas", None),
        app.call(&c, "GET", "/ResourceTypes", None),
        app.call(
            &c,
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": "ct", "members": []})),
        ),
    ];
    for r in &responses {
        assert!(r.status < 300, "{}: {}", r.status, r.body);
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/scim+json"));
    }
    let missing = app.call(&c, "GET", "/Users/010101010101", None);
    assert_eq!(missing.status, 404);
    assert!(missing
        .header("content-type")
        .unwrap()
        .starts_with("application/scim+json"));
    assert_eq!(missing.body["schemas"], json!([ERROR]));
    assert_eq!(missing.body["status"], "404");
    assert!(missing.body["detail"].is_string());
    assert!(missing.body.get("scimType").is_none());
    let dup = app.call(
        &c,
        "POST",
        "/Users",
        Some(okta_user("CT@okta.local", "00u2", "p")),
    );
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["schemas"], json!([ERROR]));
    assert_eq!(dup.body["status"], "409");
    assert_eq!(dup.body["scimType"], "uniqueness");
    let bad = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "x", "active": 3})),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["status"], "400");
    assert_eq!(bad.body["scimType"], "invalidValue");
    let gone = app.call(&c, "GET", "/Groups/missing", None);
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["status"], "404");
}

#[test]
fn okta_filter_matching_nothing_is_200_empty_list_with_integer_numbers() {
    // idp-behaviour.md, Both clients: "A filter that matches nothing is 200
    // with an empty ListResponse, never 404. ListResponse numbers are JSON
    // integers; itemsPerPage is the number returned" (Okta "SCIM 2.0 protocol
    // reference": "if no users match, return an empty list, not 404").
    let app = App::new();
    let c = app.tenant("acme");
    create(&app, &c, okta_user("someone@okta.local", "00u1", "p"));
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName%20eq%20%22nobody%40okta.local%22&startIndex=1&count=100",
        None,
    );
    assert!(assert_list(&r, 0, 1).is_empty());
    assert_eq!(r.body["Resources"], json!([]));
    let r = app.call(
        &c,
        "GET",
        "/Groups?filter=displayName+eq+%22No+Such+Group%22",
        None,
    );
    assert!(assert_list(&r, 0, 1).is_empty());
}

#[test]
fn okta_user_name_is_unique_case_insensitively_and_returned_as_sent() {
    // idp-behaviour.md, Both clients: "userName ... match case-insensitively and
    // are unique case-insensitively (409, scimType: uniqueness), but are
    // stored and returned exactly as sent" (Okta "SCIM 2.0 protocol
    // reference": "409 Conflict if the user already exists"; OIN test plan).
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("Test.User@Okta.Local", "00u1", "p"));
    let id = u["id"].as_str().unwrap();
    assert_eq!(u["userName"], "Test.User@Okta.Local");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(okta_user("test.user@okta.local", "00u2", "p")),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness");
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName%20eq%20%22TEST.USER%40OKTA.LOCAL%22&startIndex=1&count=100",
        None,
    );
    let found = assert_list(&r, 1, 1);
    assert_eq!(found[0]["id"], id);
    assert_eq!(found[0]["userName"], "Test.User@Okta.Local");
    assert_eq!(user_row(&app, id)["user_name"], "Test.User@Okta.Local");
    // A PUT that takes another user's name in another case is 409 too, and
    // changes nothing.
    let other = named_user(&app, &c, "other@okta.local");
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{other}"),
        Some(json!({"schemas": [USER], "userName": "TEST.user@okta.local"})),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness");
    assert_eq!(user_row(&app, &other)["user_name"], "other@okta.local");
    // Changing only the case of one's own userName is allowed and kept.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER], "userName": "test.user@okta.local"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userName"], "test.user@okta.local");
}

#[test]
fn okta_inactive_user_is_still_returned_by_get_and_filters() {
    // idp-behaviour.md, Both clients: "An inactive user (active: false) is
    // still returned by GET and by filters. Only a hard DELETE makes it 404"
    // (Okta "SCIM 2.0 protocol reference": Okta deactivates, never deletes).
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("inactive@okta.local", "00u1", "p"));
    let id = u["id"].as_str().unwrap();
    let r = patch(
        &app,
        &c,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(g.status, 200);
    assert_eq!(g.body["active"], false);
    for q in [
        "/Users?filter=userName%20eq%20%22inactive%40okta.local%22&startIndex=1&count=100",
        "/Users?filter=externalId+eq+%2200u1%22",
        "/Users?filter=active+eq+false",
        "/Users?startIndex=1&count=100",
    ] {
        let r = app.call(&c, "GET", q, None);
        let found = assert_list(&r, 1, 1);
        assert_eq!(found[0]["id"], id, "{q}");
        assert_eq!(found[0]["active"], false, "{q}");
    }
    let r = app.call(&c, "GET", "/Users?filter=active+eq+true", None);
    assert_eq!(r.body["totalResults"], 0);
}

// ---------------------------------------------------------------------------
// Okta
// ---------------------------------------------------------------------------

#[test]
fn okta_create_looks_up_by_user_name_with_paging_then_posts() {
    // idp-behaviour.md, Okta: "Create: GET /Users?filter=userName eq
    // "x"&startIndex=1&count=100, then POST /Users" (Okta "SCIM 2.0 protocol
    // reference", Create the user).
    let app = App::new();
    let c = app.tenant("acme");
    let lookup =
        "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100";
    let r = app.call(&c, "GET", lookup, None);
    assert!(assert_list(&r, 0, 1).is_empty());
    let u = create(
        &app,
        &c,
        okta_user("test.user@okta.local", "00ujl29u0le5T6Aj10h7", "1mz050nq"),
    );
    let r = app.call(&c, "GET", lookup, None);
    let found = assert_list(&r, 1, 1);
    assert_eq!(found[0]["id"], u["id"]);
    // The lookup's answer carries the full user, as Okta links on it.
    assert_eq!(found[0]["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(found[0]["active"], true);
    assert_eq!(found[0]["emails"][0]["value"], "test.user@okta.local");
}

#[test]
fn okta_post_body_with_password_groups_locale_and_email_display_gives_201_full_user() {
    // idp-behaviour.md, Okta: "The body always contains password (store it
    // nowhere ...; never return it), externalId, groups: [] (read-only: ignore,
    // don't reject), locale, displayName, emails[].display. The 201 response
    // must carry the full user; an empty body fails the provisioning" (Okta
    // "SCIM 2.0 protocol reference"; OIN SCIM test plan).
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(okta_user(
            "full@okta.local",
            "00ujl29u0le5T6Aj10h7",
            "S3cr3t-Pa55",
        )),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.response.body.is_empty());
    let id = r.body["id"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(r.body["schemas"], json!([USER]));
    assert_eq!(r.body["userName"], "full@okta.local");
    assert_eq!(
        r.body["name"],
        json!({"familyName": "User", "givenName": "Test"})
    );
    assert_eq!(
        r.body["emails"],
        json!([{"value": "full@okta.local", "display": "full@okta.local", "type": "work", "primary": true}])
    );
    assert_eq!(r.body["displayName"], "Test User");
    assert_eq!(r.body["locale"], "en-US");
    assert_eq!(r.body["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(
        r.body["meta"]["location"],
        format!("http://localhost/scim/v2/acme/Users/{id}").as_str()
    );
    assert!(r.body["meta"]["created"].is_string());
    assert!(r.body["meta"]["lastModified"].is_string());
    assert_eq!(r.header("location"), r.body["meta"]["location"].as_str());
    assert!(
        r.body.get("password").is_none(),
        "password is never returned"
    );
    assert!(!r.body.to_string().contains("S3cr3t-Pa55"));
    // groups: [] is ignored, not stored.
    assert!(r.body.get("groups").is_none_or(|g| g == &json!([])));
    let row = user_row(&app, id);
    let doc = row["doc"].as_str().unwrap();
    assert!(!doc.contains("S3cr3t-Pa55"), "{doc}");
    assert!(!doc.contains("password"), "{doc}");
    assert!(!doc.contains("\"groups\""), "{doc}");
    assert_eq!(row["external_id"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(row["display_name"], "Test User");
    assert_eq!(row["active"], 1);
    // No column anywhere holds the password.
    for table in ["users", "user_emails", "tenants"] {
        let dump = app.rows(&format!("SELECT * FROM {table}"), vec![]);
        assert!(
            !Value::from(dump).to_string().contains("S3cr3t-Pa55"),
            "{table}"
        );
    }
    // GET returns the same user, without password.
    let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(g.body["emails"], r.body["emails"]);
    assert!(g.body.get("password").is_none());
    // groups with entries is also read-only: ignored, not rejected.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "g@okta.local", "groups": [{"value": "whatever"}]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("groups").is_none_or(|g| g == &json!([])));
}

#[test]
fn okta_full_put_ignores_read_only_id_meta_groups_and_password() {
    // idp-behaviour.md, Okta: "Template (catalog) apps update users with a
    // full PUT that includes read-only id, meta, groups (ignore them)" (Okta
    // "SCIM 2.0 protocol reference", Update a specific user (PUT)).
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("put@okta.local", "00u1", "first-pass"));
    let id = u["id"].as_str().unwrap().to_owned();
    let gid = app
        .call(
            &c,
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": "Real", "members": [{"value": id}]})),
        )
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({
        "schemas": [USER],
        "id": id,
        "userName": "put@okta.local",
        "name": {"givenName": "Another", "familyName": "Name"},
        "emails": [{"primary": true, "value": "put@okta.local", "type": "work", "display": "put@okta.local"}],
        "displayName": "Another Name",
        "locale": "en-US",
        "externalId": "00u1",
        "active": true,
        "groups": [{"value": "fake-group", "display": "Fake"}],
        "password": "second-pass",
        "meta": {"resourceType": "User", "created": "2001-01-01T00:00:00Z",
                 "lastModified": "2001-01-01T00:00:00Z", "version": "W/\"99\"",
                 "location": "https://elsewhere.example/Users/x"}
    });
    let r = app.call(&c, "PUT", &format!("/Users/{id}"), Some(body));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(
        r.body["name"],
        json!({"familyName": "Name", "givenName": "Another"})
    );
    assert_eq!(r.body["displayName"], "Another Name");
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    assert_eq!(
        r.body["meta"]["location"],
        format!("http://localhost/scim/v2/acme/Users/{id}").as_str()
    );
    // groups is computed from real memberships, never from the body.
    assert_eq!(r.body["groups"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["groups"][0]["value"], gid.as_str());
    assert_eq!(stored_members(&app, &gid), vec![id.clone()]);
    assert!(r.body.get("password").is_none());
    let row = user_row(&app, &id);
    let doc = row["doc"].as_str().unwrap();
    for needle in [
        "second-pass",
        "first-pass",
        "password",
        "fake-group",
        "2001-01-01",
        "elsewhere",
    ] {
        assert!(!doc.contains(needle), "{needle} in {doc}");
    }
    assert_eq!(row["display_name"], "Another Name");
    assert_eq!(row["version"], 2);
    // A different id in the body does not move the user either.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER], "id": "not-this-one", "userName": "put@okta.local"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id.as_str());
}

#[test]
fn okta_patch_without_path_deactivates_and_reactivates_keeping_id_and_attributes() {
    // idp-behaviour.md, Okta: "use PATCH only for {"op":"replace","value":
    // {"active":false}} (no path), reactivation, password sync"; Both clients:
    // "Reactivation keeps the same id and attributes" (Okta "SCIM 2.0 protocol
    // reference", Update a specific user (PATCH)).
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("deact@okta.local", "00u1", "p"));
    let id = u["id"].as_str().unwrap();
    let r = patch(
        &app,
        &c,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["id"], id);
    assert_eq!(user_row(&app, id)["active"], 0);
    let r = patch(
        &app,
        &c,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": true}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["id"], id);
    assert_eq!(user_row(&app, id)["active"], 1);
    // Every other attribute came back unchanged.
    let mut before = u.clone();
    let mut after = r.body.clone();
    for v in [&mut before, &mut after] {
        v.as_object_mut().unwrap().remove("meta");
    }
    assert_eq!(before, after);
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
}

#[test]
fn okta_password_sync_by_patch_is_accepted_and_never_stored() {
    // idp-behaviour.md, Okta: PATCH is used for "password sync"; password:
    // "store it nowhere ... never return it" (Okta "SCIM 2.0 protocol
    // reference", Update a specific user (PATCH)).
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("sync@okta.local", "00u1", "p0"));
    let id = u["id"].as_str().unwrap();
    for list in [
        json!([{"op": "replace", "value": {"password": "Sync-Pass-1"}}]),
        json!([{"op": "replace", "path": "password", "value": "Sync-Pass-2"}]),
    ] {
        let r = patch(&app, &c, &format!("/Users/{id}"), list.clone());
        assert_eq!(r.status, 200, "{list}: {}", r.body);
        assert!(r.body.get("password").is_none());
        assert!(!r.body.to_string().contains("Sync-Pass"));
    }
    let row = user_row(&app, id);
    let doc = row["doc"].as_str().unwrap();
    assert!(!doc.contains("Sync-Pass"), "{doc}");
    assert!(!doc.contains("password"), "{doc}");
    let g = app.call(
        &c,
        "GET",
        &format!("/Users/{id}?attributes=password,userName"),
        None,
    );
    assert!(g.body.get("password").is_none(), "{}", g.body);
}

#[test]
fn okta_wizard_app_deactivates_and_updates_with_put() {
    // idp-behaviour.md, Okta: "Wizard-created apps do every update,
    // deactivation too, with PUT" (Okta "Build your SCIM API service").
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(&app, &c, okta_user("wizard@okta.local", "00u1", "p"));
    let id = u["id"].as_str().unwrap();
    let mut body = okta_user("wizard@okta.local", "00u1", "p");
    body["active"] = json!(false);
    body["id"] = json!(id);
    body["title"] = json!("Leaver");
    let r = app.call(&c, "PUT", &format!("/Users/{id}"), Some(body.clone()));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["title"], "Leaver");
    assert_eq!(user_row(&app, id)["active"], 0);
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).status,
        200
    );
    body["active"] = json!(true);
    let r = app.call(&c, "PUT", &format!("/Users/{id}"), Some(body));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["id"], id);
    assert_eq!(user_row(&app, id)["active"], 1);
}

#[test]
fn okta_group_push_looks_up_by_display_name_then_posts_with_empty_members() {
    // idp-behaviour.md, Okta: "Group push: GET /Groups?filter=displayName eq
    // "...", POST /Groups with members: []" (Okta "SCIM 2.0 protocol
    // reference", Create groups).
    let app = App::new();
    let c = app.tenant("acme");
    let lookup = "/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100";
    let r = app.call(&c, "GET", lookup, None);
    assert!(assert_list(&r, 0, 1).is_empty());
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let gid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["displayName"], "Test SCIMv2");
    assert_eq!(r.body["schemas"], json!([GROUP]));
    assert_eq!(r.body["meta"]["resourceType"], "Group");
    assert!(r.body.get("members").is_none_or(|m| m == &json!([])));
    assert!(stored_members(&app, &gid).is_empty());
    let r = app.call(&c, "GET", lookup, None);
    let found = assert_list(&r, 1, 1);
    assert_eq!(found[0]["id"], gid.as_str());
    let rows = app.rows(
        "SELECT display_name FROM groups WHERE id = ?",
        vec![gid.as_str().into()],
    );
    assert_eq!(rows[0]["display_name"], "Test SCIMv2");
}

#[test]
fn okta_group_membership_patch_adds_an_array_and_removes_by_value_filter() {
    // idp-behaviour.md, Okta: "membership by PATCH (remove with members[value
    // eq "id"], add with a members array)" (Okta "SCIM 2.0 protocol
    // reference", Update a specific group membership).
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@okta.local");
    let b = named_user(&app, &c, "b@okta.local");
    let d = named_user(&app, &c, "d@okta.local");
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Push", "members": []})),
    );
    let gid = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{gid}");
    let r = patch(
        &app,
        &c,
        &path,
        json!([{"op": "add", "path": "members", "value": [
            {"value": a, "display": "a@okta.local"},
            {"value": b, "display": "b@okta.local"},
            {"value": d, "display": "d@okta.local"}]}]),
    );
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    assert_eq!(stored_members(&app, &gid), sorted(&[&a, &b, &d]));
    let r = patch(
        &app,
        &c,
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
    );
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    assert_eq!(stored_members(&app, &gid), sorted(&[&a, &d]));
    // Okta's combined form: the group's own id and name with the changes.
    let r = patch(
        &app,
        &c,
        &path,
        json!([
            {"op": "replace", "value": {"id": gid, "displayName": "Push"}},
            {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
            {"op": "add", "path": "members", "value": [{"value": b, "display": "b@okta.local"}]},
        ]),
    );
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    assert_eq!(stored_members(&app, &gid), sorted(&[&b, &d]));
    let g = app.call(&c, "GET", &path, None);
    let mut listed: Vec<String> = g.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, sorted(&[&b, &d]));
    // The users see the membership.
    let u = app.call(&c, "GET", &format!("/Users/{d}"), None);
    assert_eq!(u.body["groups"][0]["value"], gid.as_str());
    assert_eq!(u.body["groups"][0]["display"], "Push");
}

#[test]
fn okta_group_membership_by_full_put() {
    // idp-behaviour.md, Okta: membership "... or by a full PUT" (Okta "SCIM
    // 2.0 protocol reference", Update a specific group name / PUT).
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@okta.local");
    let b = named_user(&app, &c, "b@okta.local");
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "PutGroup", "members": [{"value": a}]})),
    );
    let gid = r.body["id"].as_str().unwrap().to_owned();
    let created = r.body["meta"]["created"].clone();
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(
            json!({"schemas": [GROUP], "id": gid, "displayName": "PutGroup",
            "members": [{"value": b, "display": "b@okta.local"}],
            "meta": {"resourceType": "Group", "created": "2001-01-01T00:00:00Z"}}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], gid.as_str());
    assert_eq!(r.body["meta"]["created"], created);
    assert_eq!(r.body["members"][0]["value"], b.as_str());
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(stored_members(&app, &gid), vec![b.clone()]);
    // PUT with members: [] empties it.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [GROUP], "id": gid, "displayName": "PutGroup", "members": []})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(stored_members(&app, &gid).is_empty());
}

#[test]
fn okta_group_rename_is_a_pathless_replace_carrying_its_own_id() {
    // idp-behaviour.md, Okta: "A rename is a path-less replace whose value
    // includes the group's own id, sent with every membership change: accept
    // an id equal to the resource's own" (Okta "SCIM 2.0 protocol reference",
    // Update a specific group name).
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@okta.local");
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Old Name", "members": [{"value": a}]})),
    );
    let gid = r.body["id"].as_str().unwrap().to_owned();
    let r = patch(
        &app,
        &c,
        &format!("/Groups/{gid}"),
        json!([{"op": "replace", "value": {"id": gid, "displayName": "New Name"}}]),
    );
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["displayName"], "New Name");
    assert_eq!(g.body["id"], gid.as_str());
    assert_eq!(stored_members(&app, &gid), vec![a.clone()]);
    let rows = app.rows(
        "SELECT display_name, display_name_key FROM groups WHERE id = ?",
        vec![gid.as_str().into()],
    );
    assert_eq!(rows[0]["display_name"], "New Name");
    assert_eq!(rows[0]["display_name_key"], "new name");
    let f = app.call(
        &c,
        "GET",
        "/Groups?filter=displayName+eq+%22new+name%22",
        None,
    );
    assert_eq!(f.body["totalResults"], 1);
    // Someone else's id is not accepted, and nothing changes.
    let r = patch(
        &app,
        &c,
        &format!("/Groups/{gid}"),
        json!([{"op": "replace", "value": {"id": "another-group", "displayName": "Hijack"}}]),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["scimType"], "mutability");
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["displayName"], "New Name");
}

#[test]
fn okta_only_existing_users_can_become_members() {
    // idp-behaviour.md, Okta: "Only users that exist can become members"
    // (Okta "SCIM 2.0 protocol reference", Update a specific group
    // membership).
    // By default (`unknownMembers: skip`) the members that exist are added
    // and the others skipped (seed Kissflow, Okta group push: "only those
    // members of the group who are already a part of Kissflow will be
    // assigned"); under `reject`, nothing at all. Either way a user that
    // does not exist never becomes a member.
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@okta.local");
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Pushed", "members": [{"value": a}, {"value": "ghost"}]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let pushed = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(stored_members(&app, &pushed), vec![a.clone()]);
    app.settings("acme", json!({"unknownMembers": "reject"}));
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Strict", "members": [{"value": "ghost"}]})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["scimType"], "invalidValue");
    assert!(app
        .rows(
            "SELECT id FROM groups WHERE display_name = 'Strict'",
            vec![]
        )
        .is_empty());
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Strict", "members": []})),
    );
    let gid = r.body["id"].as_str().unwrap().to_owned();
    let r = patch(
        &app,
        &c,
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": "ghost"}]}]),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["scimType"], "invalidValue");
    assert!(stored_members(&app, &gid).is_empty(), "all or nothing");
    // A user of another tenant does not exist here.
    let other = app.tenant("other");
    let foreign = named_user(&app, &other, "foreign@okta.local");
    let r = patch(
        &app,
        &c,
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": foreign}]}]),
    );
    assert_eq!(r.status, 400);
    // A deleted (tombstoned) user cannot become a member either.
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{a}"), None).status,
        204
    );
    let r = patch(
        &app,
        &c,
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": a}]}]),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(stored_members(&app, &gid).is_empty());
}

#[test]
fn okta_delete_group_unlinks_a_pushed_group_and_keeps_its_users() {
    // idp-behaviour.md, Okta: "DELETE /Groups/{id} unlinks a pushed group"
    // (Okta "SCIM 2.0 protocol reference", Delete a specific group).
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@okta.local");
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Unlinked", "members": [{"value": a}]})),
    );
    let gid = r.body["id"].as_str().unwrap().to_owned();
    let r = app.call(&c, "DELETE", &format!("/Groups/{gid}"), None);
    assert_eq!(r.status, 204);
    assert!(r.response.body.is_empty());
    assert_eq!(
        app.call(&c, "GET", &format!("/Groups/{gid}"), None).status,
        404
    );
    assert!(app
        .rows(
            "SELECT id FROM groups WHERE id = ?",
            vec![gid.as_str().into()]
        )
        .is_empty());
    assert!(stored_members(&app, &gid).is_empty());
    let u = app.call(&c, "GET", &format!("/Users/{a}"), None);
    assert_eq!(u.status, 200);
    assert!(u.body.get("groups").is_none_or(|g| g == &json!([])));
    // The name is free for a later push.
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Unlinked", "members": []})),
    );
    assert_eq!(r.status, 201);
}

#[test]
fn okta_import_pages_with_start_index_and_count_until_total_results() {
    // idp-behaviour.md, Okta: "Import: GET /Users?startIndex=1&count=100,
    // paging until totalResults"; Both clients: "itemsPerPage is the number
    // returned; order is stable across pages" (Okta "SCIM 2.0 protocol
    // reference", Retrieve all users).
    let app = App::new();
    let c = app.tenant("acme");
    let mut created = Vec::new();
    for i in 0..250 {
        let u = create(
            &app,
            &c,
            json!({"schemas": [USER], "userName": format!("import{i:03}@okta.local")}),
        );
        created.push(u["id"].as_str().unwrap().to_owned());
    }
    // An inactive one is imported too.
    patch(
        &app,
        &c,
        &format!("/Users/{}", created[7]),
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    let mut seen = Vec::new();
    let mut start = 1u64;
    let mut pages = 0;
    loop {
        let r = app.call(
            &c,
            "GET",
            &format!("/Users?startIndex={start}&count=100"),
            None,
        );
        let page = assert_list(&r, 250, start);
        assert!(page.len() <= 100);
        seen.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        pages += 1;
        start += page.len() as u64;
        if page.is_empty() || start > 250 {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every user once, in a stable order");
    // Asking past the end is an empty page, not an error.
    let r = app.call(&c, "GET", "/Users?startIndex=251&count=100", None);
    assert!(assert_list(&r, 250, 251).is_empty());
    // The same walk again gives the same order.
    let again: Vec<String> = (0..3)
        .flat_map(|p| {
            let r = app.call(
                &c,
                "GET",
                &format!("/Users?startIndex={}&count=100", p * 100 + 1),
                None,
            );
            r.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(again, created);
}

#[test]
fn okta_test_connector_lists_users_with_count_2() {
    // idp-behaviour.md, Okta: "Test connector: GET /Users?startIndex=1&count=2"
    // (Okta "SCIM 2.0 protocol reference"; OIN SCIM test plan).
    let app = App::new();
    let c = app.tenant("acme");
    // On an empty tenant.
    let r = app.call(&c, "GET", "/Users?startIndex=1&count=2", None);
    assert!(assert_list(&r, 0, 1).is_empty());
    for i in 0..3 {
        named_user(&app, &c, &format!("t{i}@okta.local"));
    }
    let r = app.call(&c, "GET", "/Users?startIndex=1&count=2", None);
    let page = assert_list(&r, 3, 1);
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["userName"], "t0@okta.local");
    assert_eq!(page[1]["userName"], "t1@okta.local");
    assert!(page
        .iter()
        .all(|u| u["id"].is_string() && u["meta"].is_object()));
}

#[test]
fn okta_schemas_and_resource_types_feed_import_user_schema() {
    // idp-behaviour.md, Okta: "/ResourceTypes and /Schemas feed Okta's "Import
    // User Schema"" (Okta "Build your SCIM API service", custom attributes).
    let app = App::new();
    let c = app.tenant("acme");
    let rt = app.call(&c, "GET", "/ResourceTypes", None);
    assert_eq!(rt.status, 200, "{}", rt.body);
    let types = rt.body["Resources"].as_array().unwrap();
    let user = types.iter().find(|t| t["id"] == "User").unwrap();
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER);
    assert!(user["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["schema"] == ENT));
    assert!(types.iter().any(|t| t["id"] == "Group"));
    let s = app.call(&c, "GET", "/Schemas", None);
    assert_eq!(s.status, 200);
    let ids: Vec<&str> = s.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["id"].as_str())
        .collect();
    assert!(
        ids.contains(&USER) && ids.contains(&ENT) && ids.contains(&GROUP),
        "{ids:?}"
    );
    let one = app.call(&c, "GET", &format!("/Schemas/{USER}"), None);
    assert_eq!(one.status, 200);
    let attrs = one.body["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
}

#[test]
fn okta_custom_attributes_arrive_in_their_external_namespace() {
    // idp-behaviour.md, Okta: "Custom attributes arrive in the attribute's
    // "external namespace", e.g. urn:acme:scim:schemas:extension:<account
    // id>:2:User with the app's field ids as attribute names (case-sensitive).
    // /ResourceTypes and /Schemas feed Okta's "Import User Schema"" (Okta
    // "Build your SCIM API service", custom attributes; the tenant's fields are
    // defined through the admin API, the vendor of test apps is "acme-vendor").
    let app = App::new();
    let c = app.tenant("acme");
    let urn = "urn:acme-vendor:scim:schemas:extension:acme:2:User";
    let admin = app.admin_token(Some("acme"));
    for (name, def) in [
        ("costCenterID", json!({"type": "string"})),
        ("isContractor", json!({"type": "boolean"})),
    ] {
        let r = app.admin(
            &admin,
            "PUT",
            &format!("/tenants/acme/schema/attributes/{name}"),
            Some(def),
        );
        assert!(r.status == 201 || r.status == 200, "{name}: {}", r.body);
    }
    // Import User Schema sees the extension and the field ids as sent.
    let rt = app.call(&c, "GET", "/ResourceTypes/User", None);
    assert!(rt.body["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["schema"] == urn));
    let s = app.call(&c, "GET", &format!("/Schemas/{urn}"), None);
    assert_eq!(s.status, 200, "{}", s.body);
    let mut names: Vec<&str> = s.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["costCenterID", "isContractor"]);
    // Okta's create carries them under the namespace, listed in schemas.
    let mut body = okta_user("custom@okta.local", "00u1", "p");
    body["schemas"] = json!([USER, urn]);
    body[urn] = json!({"costCenterID": "CC-7", "isContractor": false});
    let r = app.call(&c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body[urn],
        json!({"costCenterID": "CC-7", "isContractor": false})
    );
    assert!(r.body["schemas"].as_array().unwrap().contains(&json!(urn)));
    let id = r.body["id"].as_str().unwrap().to_owned();
    let doc: Value = serde_json::from_str(user_row(&app, &id)["doc"].as_str().unwrap()).unwrap();
    assert_eq!(doc[urn]["costCenterID"], "CC-7");
    // Full PUT with the namespace, and a PATCH by URN path.
    let mut put = okta_user("custom@okta.local", "00u1", "p");
    put["id"] = json!(id);
    put["schemas"] = json!([USER, urn]);
    put[urn] = json!({"costCenterID": "CC-8", "isContractor": true});
    let r = app.call(&c, "PUT", &format!("/Users/{id}"), Some(put));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body[urn],
        json!({"costCenterID": "CC-8", "isContractor": true})
    );
    let r = patch(
        &app,
        &c,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": format!("{urn}:costCenterID"), "value": "CC-9"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[urn]["costCenterID"], "CC-9");
    // Lookups by the custom attribute.
    let q: String =
        form_urlencoded::byte_serialize(format!("{urn}:costCenterID eq \"CC-9\"").as_bytes())
            .collect();
    let f = app.call(&c, "GET", &format!("/Users?filter={q}"), None);
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
    // A field the tenant never defined is not stored: ignored by default
    // (issue 13), refused under `unknownAttributes: reject`.
    let body =
        json!({"schemas": [USER, urn], "userName": "x@okta.local", urn: {"undefinedField": "v"}});
    let r = app.call(&c, "POST", "/Users", Some(body.clone()));
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get(urn).is_none(), "{}", r.body);
    app.settings("acme", json!({"unknownAttributes": "reject"}));
    let body =
        json!({"schemas": [USER, urn], "userName": "y@okta.local", urn: {"undefinedField": "v"}});
    let r = app.call(&c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 400, "{}", r.body);
}
