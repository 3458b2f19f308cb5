//! Microsoft Entra ID provisioning into scim-worker (issue 4), one test per
//! requirement of shared/docs/idp-behaviour.md ("Both clients" and
//! "Microsoft Entra ID"), through the whole service over real SQLite.
//!
//! Microsoft sources named there: "Develop and plan provisioning for a SCIM
//! endpoint", "Known issues and resolutions with SCIM 2.0 protocol
//! compliance", and the SCIM Validator.

use scim_worker::testing::{
    urn::{ENTERPRISE as ENT, ERROR, GROUP, LIST_RESPONSE as LIST, PATCH_OP as PATCH, USER},
    App, Creds, Reply,
};
use std::time::{Duration, Instant};

use scim_worker::{Method, Request};
use serde_json::{json, Value};

const MS_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

fn ops(list: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": list})
}

fn new_user(app: &App, c: &Creds, body: Value) -> String {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn named_user(app: &App, c: &Creds, user_name: &str) -> String {
    new_user(app, c, json!({"schemas": [USER], "userName": user_name}))
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

fn patch_user(app: &App, c: &Creds, id: &str, list: Value) -> Reply {
    app.call(c, "PATCH", &format!("/Users/{id}"), Some(ops(list)))
}

fn patch_group(app: &App, c: &Creds, id: &str, list: Value) -> Reply {
    app.call(c, "PATCH", &format!("/Groups/{id}"), Some(ops(list)))
}

/// The stored members of a group, sorted, from the membership table.
fn stored_members(app: &App, gid: &str) -> Vec<String> {
    let mut ids: Vec<String> = app
        .rows(
            "SELECT member_id FROM group_members WHERE group_id = ?",
            vec![gid.into()],
        )
        .iter()
        .map(|r| r["member_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The stored document of a user, parsed.
fn doc(app: &App, id: &str) -> Value {
    let rows = app.rows("SELECT doc FROM users WHERE id = ?", vec![id.into()]);
    serde_json::from_str(rows[0]["doc"].as_str().unwrap()).unwrap()
}

fn active_column(app: &App, id: &str) -> Value {
    app.rows("SELECT active FROM users WHERE id = ?", vec![id.into()])[0]["active"].clone()
}

/// A request exactly as built by hand: no Accept unless given.
fn raw(
    app: &App,
    c: &Creds,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut req = Request::new(
        Method::parse(method),
        &format!("/scim/v2/{}{path}", c.tenant),
    )
    .with_header("Authorization", &format!("Bearer {}", c.token));
    for (k, v) in headers {
        req = req.with_header(k, v);
    }
    if let Some(b) = body {
        req = req.with_body(b.as_bytes().to_vec());
    }
    app.request(req)
}

fn assert_scim_json(r: &Reply) {
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/scim+json"), "content-type {ct}");
}

// ---------------------------------------------------------------------------
// Both clients
// ---------------------------------------------------------------------------

#[test]
fn entra_errors_are_scim_json_with_string_status_detail_and_scim_type() {
    // idp-behaviour.md, Both clients: "Every response, errors included, is JSON
    // with Content-Type: application/scim+json ... status as a string, detail,
    // and scimType where RFC 7644 defines one" (Microsoft SCIM Validator;
    // RFC 7644 §3.12).
    let app = App::new();
    let c = app.tenant("acme");
    let id = named_user(&app, &c, "err@example.com");
    let cases: Vec<(Reply, u16, Option<&str>)> = vec![
        (
            app.call(
                &c,
                "POST",
                "/Users",
                Some(json!({"schemas": [USER], "userName": "ERR@example.com"})),
            ),
            409,
            Some("uniqueness"),
        ),
        (
            app.call(&c, "GET", "/Users?filter=userName+eq", None),
            400,
            Some("invalidFilter"),
        ),
        (
            patch_user(
                &app,
                &c,
                &id,
                json!([{"op": "Replace", "path": "nosuch", "value": "x"}]),
            ),
            400,
            Some("invalidPath"),
        ),
        (
            patch_user(
                &app,
                &c,
                &id,
                json!([{"op": "Replace", "path": "id", "value": "x"}]),
            ),
            400,
            Some("mutability"),
        ),
        (
            raw(&app, &c, "POST", "/Users", &[], Some("{not json")),
            400,
            Some("invalidSyntax"),
        ),
        (app.call(&c, "GET", "/Users/missing", None), 404, None),
        (
            app.call(
                &Creds {
                    tenant: "acme".into(),
                    token: "wrong".into(),
                },
                "GET",
                "/Users",
                None,
            ),
            401,
            None,
        ),
    ];
    for (r, status, scim_type) in cases {
        assert_eq!(r.status, status, "{}", r.body);
        assert_scim_json(&r);
        assert_eq!(r.body["schemas"], json!([ERROR]));
        assert_eq!(r.body["status"], json!(status.to_string()));
        assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(
            r.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "{}",
            r.body
        );
    }
}

#[test]
fn entra_accepts_scim_json_with_charset_and_plain_json_bodies_without_accept() {
    // idp-behaviour.md, Both clients: "Request bodies arrive as
    // application/scim+json; charset=utf-8 or application/json. Never require
    // an Accept header" (Microsoft "Develop and plan provisioning for a SCIM
    // endpoint").
    let app = App::new();
    let c = app.tenant("acme");
    let body = json!({"schemas": [USER], "userName": "charset@example.com"}).to_string();
    let r = raw(
        &app,
        &c,
        "POST",
        "/Users",
        &[("Content-Type", "application/scim+json; charset=utf-8")],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_scim_json(&r);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let patch = ops(json!([{"op": "Replace", "path": "title", "value": "Plain"}])).to_string();
    let r = raw(
        &app,
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        &[("Content-Type", "application/json")],
        Some(&patch),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_scim_json(&r);
    assert_eq!(r.body["title"], "Plain");
    let body = json!({"schemas": [USER], "userName": "json@example.com"}).to_string();
    let r = raw(
        &app,
        &c,
        "POST",
        "/Users",
        &[("Content-Type", "application/json; charset=utf-8")],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // An Accept naming either JSON type is also fine.
    let r = raw(
        &app,
        &c,
        "GET",
        &format!("/Users/{id}"),
        &[("Accept", "application/json")],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["title"], "Plain");
}

#[test]
fn entra_plus_and_percent_encoded_queries_and_unknown_parameters_like_aadoptscim062020() {
    // idp-behaviour.md, Both clients: "Query strings arrive %20- or +-encoded.
    // Unknown query parameters are ignored (Entra tenant URLs may carry
    // ?aadOptscim062020)" (Microsoft "Known issues and resolutions with SCIM
    // 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "Plus Space@example.com", "externalId": "e 1"}),
    );
    for q in [
        "/Users?filter=userName+eq+%22plus+space%40example.com%22",
        "/Users?filter=userName%20eq%20%22plus%20space%40example.com%22",
        "/Users?aadOptscim062020&filter=userName+eq+%22Plus+Space%40example.com%22",
        "/Users?filter=userName%20eq%20%22Plus%20Space@example.com%22&aadOptscim062020",
        "/Users?filter=externalId+eq+%22e+1%22&somethingElse=1&aadOptscim062020=",
    ] {
        let r = app.call(&c, "GET", q, None);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(r.body["totalResults"], 1, "{q}");
        assert_eq!(r.body["Resources"][0]["id"], id.as_str(), "{q}");
    }
    let r = app.call(&c, "GET", &format!("/Users/{id}?aadOptscim062020"), None);
    assert_eq!(r.status, 200);
    let r = patch_user(
        &app,
        &c,
        &format!("{id}?aadOptscim062020"),
        json!([{"op": "Replace", "path": "title", "value": "T"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn entra_user_name_and_group_display_name_unique_case_insensitively_returned_as_sent() {
    // idp-behaviour.md, Both clients: "userName (and group displayName) match
    // case-insensitively and are unique case-insensitively (409, scimType:
    // uniqueness), but are stored and returned exactly as sent" (Microsoft
    // "Develop and plan provisioning for a SCIM endpoint": userName and
    // displayName lookups).
    let app = App::new();
    let c = app.tenant("acme");
    let id = named_user(&app, &c, "Mixed.Case@Contoso.com");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "mixed.case@contoso.COM"})),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.body["scimType"], "uniqueness");
    // A rename to another user's name in another case is 409 too.
    let other = named_user(&app, &c, "other@contoso.com");
    let r = patch_user(
        &app,
        &c,
        &other,
        json!([{"op": "Replace", "path": "userName", "value": "MIXED.CASE@contoso.com"}]),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness");
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName+eq+%22MIXED.case%40contoso.com%22",
        None,
    );
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["userName"], "Mixed.Case@Contoso.com");
    assert_eq!(
        app.rows(
            "SELECT user_name FROM users WHERE id = ?",
            vec![id.as_str().into()]
        )[0]["user_name"],
        "Mixed.Case@Contoso.com"
    );

    let gid = new_group(&app, &c, "Sales EMEA", &[]);
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "sales emea"})),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.body["scimType"], "uniqueness");
    let r = app.call(
        &c,
        "GET",
        "/Groups?filter=displayName+eq+%22SALES+emea%22",
        None,
    );
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["displayName"], "Sales EMEA");
    assert_eq!(r.body["Resources"][0]["id"], gid.as_str());
    // A group renamed to another group's name in another case is 409.
    let g2 = new_group(&app, &c, "Marketing", &[]);
    let r = patch_group(
        &app,
        &c,
        &g2,
        json!([{"op": "Replace", "path": "displayName", "value": "SALES EMEA"}]),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness");
}

#[test]
fn entra_sustains_25_requests_per_second_natively() {
    // idp-behaviour.md, Both clients: "Responses within 60 s; Entra gallery
    // apps must sustain >= 25 requests/s per tenant" (Microsoft "Develop and
    // plan provisioning for a SCIM endpoint", gallery requirements). The
    // service itself must not be the bottleneck: 100 mixed requests in 4 s.
    let app = App::new();
    let c = app.tenant("acme");
    let start = Instant::now();
    for i in 0..25 {
        let id = named_user(&app, &c, &format!("load-{i}@example.com"));
        let r = app.call(
            &c,
            "GET",
            &format!("/Users?filter=userName+eq+%22load-{i}%40example.com%22"),
            None,
        );
        assert_eq!(r.body["totalResults"], 1);
        let r = patch_user(
            &app,
            &c,
            &id,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            app.call(&c, "GET", &format!("/Users/{id}"), None).status,
            200
        );
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "100 requests took {took:?}");
}

// ---------------------------------------------------------------------------
// Microsoft Entra ID
// ---------------------------------------------------------------------------

#[test]
fn entra_test_connection_filter_on_random_guid_without_accept_is_200_empty_list() {
    // idp-behaviour.md, Entra: "Test Connection: GET /Users?filter=userName eq
    // "<random GUID>" with no Accept"; Both clients: "A filter that matches
    // nothing is 200 with an empty ListResponse, never 404. ListResponse
    // numbers are JSON integers" (Microsoft "Develop and plan provisioning for
    // a SCIM endpoint").
    let app = App::new();
    let c = app.tenant("acme");
    named_user(&app, &c, "someone@example.com");
    let guid = uuid::Uuid::new_v4();
    let r = raw(
        &app,
        &c,
        "GET",
        &format!("/Users?filter=userName+eq+%22{guid}%22"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_scim_json(&r);
    assert_eq!(r.body["schemas"], json!([LIST]));
    assert!(r.body["totalResults"].is_u64(), "{}", r.body);
    assert_eq!(r.body["totalResults"], 0);
    assert!(r.body["itemsPerPage"].is_u64());
    assert_eq!(r.body["itemsPerPage"], 0);
    assert!(r.body["startIndex"].is_u64());
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(r.body["Resources"], json!([]));
    // Same for groups.
    let r = raw(
        &app,
        &c,
        "GET",
        &format!("/Groups?filter=displayName+eq+%22{guid}%22"),
        &[],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
}

#[test]
fn entra_looks_up_users_by_external_id_eq_and_with_and() {
    // idp-behaviour.md, Entra: "Users are also looked up by externalId eq ...
    // Entra only uses eq and and" (Microsoft "Develop and plan provisioning
    // for a SCIM endpoint", matching attributes).
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "ext@contoso.com", "externalId": "0a7b-OBJECT-ID"}),
    );
    named_user(&app, &c, "noise@contoso.com");
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=externalId+eq+%220a7b-OBJECT-ID%22",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["id"], id.as_str());
    assert_eq!(r.body["Resources"][0]["externalId"], "0a7b-OBJECT-ID");
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName+eq+%22EXT%40contoso.com%22+and+externalId+eq+%220a7b-OBJECT-ID%22",
        None,
    );
    assert_eq!(r.body["totalResults"], 1);
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName+eq+%22noise%40contoso.com%22+and+externalId+eq+%220a7b-OBJECT-ID%22",
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
}

#[test]
fn entra_looks_up_groups_by_display_name_eq_excluding_members() {
    // idp-behaviour.md, Entra: "groups by displayName eq with
    // excludedAttributes=members" (Microsoft "Develop and plan provisioning for
    // a SCIM endpoint": GET /Groups?excludedAttributes=members&filter=...).
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@contoso.com");
    let gid = new_group(&app, &c, "Finance Team", &[&a]);
    new_group(&app, &c, "Finance", &[&a]);
    let r = app.call(
        &c,
        "GET",
        "/Groups?excludedAttributes=members&filter=displayName+eq+%22Finance+Team%22",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["itemsPerPage"], 1);
    let g = &r.body["Resources"][0];
    assert_eq!(g["id"], gid.as_str());
    assert_eq!(g["displayName"], "Finance Team");
    assert!(g.get("members").is_none(), "{g}");
    // And by id, as Entra checks a group before patching it.
    let r = app.call(
        &c,
        "GET",
        &format!("/Groups/{gid}?excludedAttributes=members"),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.body.get("members").is_none());
    assert_eq!(r.body["displayName"], "Finance Team");
}

#[test]
fn entra_patch_ops_are_case_insensitive() {
    // idp-behaviour.md, Entra: "PATCH op values are capitalised (Add, Replace,
    // Remove): ops are case-insensitive" (Microsoft "Known issues and
    // resolutions with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let id = named_user(&app, &c, "ops@contoso.com");
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([
            {"op": "Add", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": "displayName", "value": "Ops User"},
            {"op": "ADD", "path": "nickName", "value": "Opsy"},
            {"op": "rePlace", "path": "preferredLanguage", "value": "en-US"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "Engineer");
    assert_eq!(r.body["displayName"], "Ops User");
    assert_eq!(r.body["nickName"], "Opsy");
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Remove", "path": "title"}, {"op": "REMOVE", "path": "nickName"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("title").is_none());
    assert!(r.body.get("nickName").is_none());
    let stored = doc(&app, &id);
    assert_eq!(stored["displayName"], "Ops User");
    assert_eq!(stored["preferredLanguage"], "en-US");
    assert!(stored.get("title").is_none());
    assert_eq!(
        app.rows(
            "SELECT display_name FROM users WHERE id = ?",
            vec![id.as_str().into()]
        )[0]["display_name"],
        "Ops User"
    );
    // An unknown op is still an error.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Upsert", "path": "title", "value": "x"}]),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn entra_string_booleans_are_stored_and_returned_as_json_booleans() {
    // idp-behaviour.md, Entra: "Booleans may arrive as strings: "active":
    // "False", "True", "false". Store and return JSON booleans" (Microsoft
    // "Known issues and resolutions with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(
            json!({"schemas": [USER], "userName": "bool@contoso.com", "active": "False",
            "emails": [{"value": "bool@contoso.com", "type": "work", "primary": "True"}]}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(r.body["emails"][0]["primary"], json!(true));
    assert_eq!(active_column(&app, &id), 0);
    assert_eq!(doc(&app, &id)["active"], json!(false));
    for (sent, want) in [
        ("True", true),
        ("false", false),
        ("true", true),
        ("FALSE", false),
    ] {
        let r = patch_user(
            &app,
            &c,
            &id,
            json!([{"op": "Replace", "path": "active", "value": sent}]),
        );
        assert_eq!(r.status, 200, "{sent}: {}", r.body);
        assert_eq!(r.body["active"], json!(want), "{sent}");
        assert_eq!(active_column(&app, &id), i64::from(want), "{sent}");
        assert_eq!(doc(&app, &id)["active"], json!(want), "{sent}");
        let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
        assert_eq!(g.body["active"], json!(want));
    }
    // Path-less, as Entra also sends it.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "value": {"active": "False"}}]),
    );
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(active_column(&app, &id), 0);
    // The stored boolean is what filters see.
    let f = app.call(&c, "GET", "/Users?filter=active+eq+false", None);
    assert_eq!(f.body["totalResults"], 1);
    // PUT with a string boolean.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER], "userName": "bool@contoso.com", "active": "True"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], json!(true));
    assert_eq!(active_column(&app, &id), 1);
    // A string that is not a boolean is refused.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "maybe"}]),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["scimType"], "invalidValue");
}

#[test]
fn entra_value_filter_paths_update_the_matching_element_in_place() {
    // idp-behaviour.md, Entra: "Value paths: emails[type eq "work"].value,
    // phoneNumbers[type eq "work"].value, addresses[type eq
    // "work"].streetAddress must update that element in place" (Microsoft
    // "Develop and plan provisioning for a SCIM endpoint", PATCH examples).
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "vp@contoso.com",
            "emails": [{"value": "old@contoso.com", "type": "work", "primary": true},
                       {"value": "home@example.com", "type": "home"}],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"},
                             {"value": "+1 555 0199", "type": "mobile"}],
            "addresses": [{"type": "work", "streetAddress": "1 Old Road", "locality": "Redmond"}]}),
    );
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
            {"op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0111"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "2 New Street"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["emails"],
        json!([{"value": "new@contoso.com", "type": "work", "primary": true},
               {"value": "home@example.com", "type": "home"}])
    );
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"value": "+1 555 0111", "type": "work"},
               {"value": "+1 555 0199", "type": "mobile"}])
    );
    assert_eq!(
        r.body["addresses"],
        json!([{"type": "work", "streetAddress": "2 New Street", "locality": "Redmond"}])
    );
    // "Add" on an existing element also updates it in place (no duplicate).
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "newer@contoso.com"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["emails"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["emails"][0]["value"], "newer@contoso.com");
    let stored = doc(&app, &id);
    assert_eq!(stored["emails"], r.body["emails"]);
    assert_eq!(stored["addresses"][0]["streetAddress"], "2 New Street");
    // The email index follows: the old address no longer finds the user.
    let rows = app.rows(
        "SELECT value_key, type FROM user_emails WHERE user_id = ? ORDER BY value_key",
        vec![id.as_str().into()],
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["value_key"], "home@example.com");
    assert_eq!(rows[1]["value_key"], "newer@contoso.com");
    let f = app.call(
        &c,
        "GET",
        "/Users?filter=emails.value+eq+%22old%40contoso.com%22",
        None,
    );
    assert_eq!(f.body["totalResults"], 0);
}

#[test]
fn entra_value_filter_paths_create_the_element_when_none_matches() {
    // idp-behaviour.md, Entra: value paths must "create it (with that type)
    // when no element matches yet" (Microsoft "Known issues and resolutions
    // with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "create@contoso.com",
            "emails": [{"value": "home@example.com", "type": "home"}]}),
    );
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "create@contoso.com"},
            {"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Microsoft Way"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0199"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["emails"],
        json!([{"value": "home@example.com", "type": "home"},
               {"value": "create@contoso.com", "type": "work"}])
    );
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"value": "+1 555 0100", "type": "work"},
               {"value": "+1 555 0199", "type": "mobile"}])
    );
    assert_eq!(
        r.body["addresses"],
        json!([{"type": "work", "streetAddress": "1 Microsoft Way", "locality": "Redmond"}])
    );
    let stored = doc(&app, &id);
    assert_eq!(stored["addresses"], r.body["addresses"]);
    assert_eq!(stored["phoneNumbers"], r.body["phoneNumbers"]);
    // The created work email is indexed with its type.
    let rows = app.rows(
        "SELECT value_key, type FROM user_emails WHERE user_id = ? AND type = 'work'",
        vec![id.as_str().into()],
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["value_key"], "create@contoso.com");
    let f = app.call(
        &c,
        "GET",
        "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22create%40contoso.com%22",
        None,
    );
    assert_eq!(f.body["totalResults"], 1);
}

#[test]
fn entra_pathless_dotted_and_urn_qualified_keys_land_nested() {
    // idp-behaviour.md, Entra: "Path-less operations carry dotted and
    // URN-qualified keys ... must land nested, never as literal keys"
    // (Microsoft "Known issues and resolutions with SCIM 2.0 protocol
    // compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let id = named_user(&app, &c, "nested@contoso.com");
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "value": {
            "name.givenName": "A",
            "name.familyName": "Nested",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D",
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Lead",
        }}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["name"],
        json!({"familyName": "Nested", "givenName": "A"})
    );
    assert_eq!(
        r.body[ENT],
        json!({"employeeNumber": "7", "department": "R&D"})
    );
    assert_eq!(r.body["title"], "Lead");
    assert_eq!(r.body["schemas"], json!([USER, ENT]));
    let stored = doc(&app, &id);
    assert_eq!(stored["name"]["givenName"], "A");
    assert_eq!(stored[ENT]["employeeNumber"], "7");
    let text = stored.to_string();
    assert!(!text.contains("name.givenName"), "{text}");
    assert!(!text.contains("User:employeeNumber"), "{text}");
    // "Add" with the same keys replaces only those sub-attributes.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Add", "value": {"name.givenName": "B",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "8"}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["name"],
        json!({"familyName": "Nested", "givenName": "B"})
    );
    assert_eq!(
        r.body[ENT],
        json!({"employeeNumber": "8", "department": "R&D"})
    );
}

#[test]
fn entra_extension_urn_paths_resolve_by_the_longest_schema_urn() {
    // idp-behaviour.md, Entra: "Extension URN paths contain colons and dots
    // (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department):
    // resolve them by the longest registered schema URN, never by splitting at
    // a dot or the first colon" (Microsoft "Known issues and resolutions with
    // SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let id = named_user(&app, &c, "urn@contoso.com");
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", "value": "CC-1"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", "value": "U"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body[ENT],
        json!({"costCenter": "CC-1", "department": "Sales"})
    );
    assert_eq!(r.body["name"]["givenName"], "U");
    let stored = doc(&app, &id);
    assert_eq!(stored[ENT]["department"], "Sales");
    // Filters and attribute lists use the same resolution.
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Aextension%3Aenterprise%3A2.0%3AUser%3Adepartment+eq+%22Sales%22\
         &attributes=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Aextension%3Aenterprise%3A2.0%3AUser%3Adepartment",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0][ENT], json!({"department": "Sales"}));
    // Removal by the URN path.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[ENT], json!({"costCenter": "CC-1"}));
}

#[test]
fn entra_manager_as_bare_string_object_or_legacy_array() {
    // idp-behaviour.md, Entra: "manager may arrive as a bare string id, as
    // {"value": id}, or (legacy) as an array" (Microsoft "Known issues and
    // resolutions with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let boss = named_user(&app, &c, "boss@contoso.com");
    let boss2 = named_user(&app, &c, "boss2@contoso.com");
    let boss3 = named_user(&app, &c, "boss3@contoso.com");
    let id = named_user(&app, &c, "report@contoso.com");
    let manager_path = format!("{ENT}:manager");
    for (value, want) in [
        (json!(boss), &boss),
        (json!({"value": boss2}), &boss2),
        (json!([{"value": boss3}]), &boss3),
    ] {
        let r = patch_user(
            &app,
            &c,
            &id,
            json!([{"op": "Add", "path": manager_path, "value": value}]),
        );
        assert_eq!(r.status, 200, "{value}: {}", r.body);
        assert_eq!(r.body[ENT]["manager"]["value"], want.as_str(), "{value}");
        assert_eq!(
            r.body[ENT]["manager"]["$ref"],
            format!("http://localhost/scim/v2/acme/Users/{want}").as_str()
        );
        assert_eq!(
            doc(&app, &id)[ENT]["manager"],
            json!({"value": want}),
            "{value}"
        );
    }
    // Path-less with the URN-qualified key, bare string (Entra's usual form).
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "value": {manager_path.clone(): boss}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[ENT]["manager"]["value"], boss.as_str());
    // On POST and PUT too.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(
            json!({"schemas": [USER, ENT], "userName": "posted@contoso.com",
                    ENT: {"manager": boss2}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body[ENT]["manager"]["value"], boss2.as_str());
    let posted = r.body["id"].as_str().unwrap().to_owned();
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{posted}"),
        Some(
            json!({"schemas": [USER, ENT], "userName": "posted@contoso.com",
                    ENT: {"manager": [{"value": boss3}]}}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[ENT]["manager"]["value"], boss3.as_str());
}

#[test]
fn entra_manager_removed_by_remove_by_replace_to_empty_or_by_value_filter() {
    // idp-behaviour.md, Entra: manager: "remove it with remove, with replace
    // to "", or with manager[value eq "id"]" (Microsoft "Known issues and
    // resolutions with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let boss = named_user(&app, &c, "boss@contoso.com");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER, ENT], "userName": "report@contoso.com",
               ENT: {"department": "D"}}),
    );
    let manager_path = format!("{ENT}:manager");
    let set = |app: &App| {
        let r = patch_user(
            app,
            &c,
            &id,
            json!([{"op": "Add", "path": manager_path, "value": boss}]),
        );
        assert_eq!(r.body[ENT]["manager"]["value"], boss.as_str());
    };
    let removals = [
        json!([{"op": "Remove", "path": manager_path}]),
        json!([{"op": "Replace", "path": manager_path, "value": ""}]),
        json!([{"op": "Replace", "value": {manager_path.clone(): ""}}]),
        json!([{"op": "Remove", "path": format!("{manager_path}[value eq \"{boss}\"]")}]),
        json!([{"op": "Remove", "path": format!("manager[value eq \"{boss}\"]")}]),
        json!([{"op": "Replace", "path": manager_path, "value": {"value": ""}}]),
    ];
    for removal in removals {
        set(&app);
        let r = patch_user(&app, &c, &id, removal.clone());
        assert_eq!(r.status, 200, "{removal}: {}", r.body);
        assert!(
            r.body[ENT].get("manager").is_none(),
            "{removal}: {}",
            r.body
        );
        assert_eq!(r.body[ENT]["department"], "D");
        let stored = doc(&app, &id);
        assert!(stored[ENT].get("manager").is_none(), "{removal}: {stored}");
        let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
        assert!(g.body[ENT].get("manager").is_none());
    }
    // A value filter naming another manager leaves it in place.
    set(&app);
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Remove", "path": format!("{manager_path}[value eq \"someone-else\"]")}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[ENT]["manager"]["value"], boss.as_str());
}

#[test]
fn entra_roles_with_stringified_json_and_primary_as_json_boolean() {
    // idp-behaviour.md, Entra: "roles[].value may be stringified JSON; primary
    // must go out as a JSON boolean" (Microsoft "Known issues and resolutions
    // with SCIM 2.0 protocol compliance"; app role provisioning).
    let app = App::new();
    let c = app.tenant("acme");
    let id = named_user(&app, &c, "roles@contoso.com");
    let role_value =
        r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"Admin","displayName":"Admin"}"#;
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Add", "path": "roles", "value": [
            {"value": role_value, "primary": "True", "type": "WindowsAzureActiveDirectoryRole"}]}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["roles"],
        json!([{"value": role_value, "type": "WindowsAzureActiveDirectoryRole", "primary": true}])
    );
    assert_eq!(doc(&app, &id)["roles"][0]["primary"], json!(true));
    // A stringified roles array (Entra's other form), primary "False".
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "path": "roles",
                "value": r#"[{"value":"Reader","display":"Reader","primary":"False"},{"value":"Writer","primary":"true"}]"#}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["roles"],
        json!([{"value": "Reader", "display": "Reader", "primary": false},
               {"value": "Writer", "primary": true}])
    );
    let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(g.body["roles"], r.body["roles"]);
    assert!(g.body["roles"][0]["primary"].is_boolean());
    // Path-less, a stringified single role.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "value": {"roles": r#"{"value":"Owner","primary":"True"}"#}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["roles"],
        json!([{"value": "Owner", "primary": true}])
    );
    // POST with string primaries.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "roles2@contoso.com",
            "roles": [{"value": role_value, "primary": "False", "type": "WindowsAzureActiveDirectoryRole"}]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["roles"][0]["primary"], json!(false));
    assert_eq!(r.body["roles"][0]["value"], role_value);
}

#[test]
fn entra_legacy_member_removal_removes_only_the_listed_members() {
    // idp-behaviour.md, Entra: "Legacy member removal: {"op":"Remove",
    // "path":"members","value":[{"value":"id"}]} removes only the listed
    // members (it must NOT empty the group)" (Microsoft "Known issues and
    // resolutions with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@contoso.com");
    let b = named_user(&app, &c, "b@contoso.com");
    let d = named_user(&app, &c, "d@contoso.com");
    let gid = new_group(&app, &c, "Legacy", &[&a, &b, &d]);
    let r = patch_group(
        &app,
        &c,
        &gid,
        json!([{"op": "Remove", "path": "members", "value": [{"value": a}, {"value": d}]}]),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(stored_members(&app, &gid), vec![b.clone()]);
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(g.body["members"][0]["value"], b.as_str());
    // The users themselves remain.
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{a}"), None).status,
        200
    );
}

#[test]
fn entra_remove_members_without_value_empties_the_group() {
    // idp-behaviour.md, Entra: "remove with path members and no value empties
    // it" (RFC 7644 §3.5.2.2; Microsoft "Known issues and resolutions with
    // SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@contoso.com");
    let b = named_user(&app, &c, "b@contoso.com");
    let gid = new_group(&app, &c, "Emptied", &[&a, &b]);
    let r = patch_group(&app, &c, &gid, json!([{"op": "Remove", "path": "members"}]));
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(stored_members(&app, &gid).is_empty());
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.status, 200);
    assert_eq!(g.body["displayName"], "Emptied");
    assert!(g.body.get("members").is_none_or(|m| m == &json!([])));
}

#[test]
fn entra_readding_a_member_and_removing_a_non_member_are_no_op_successes() {
    // idp-behaviour.md, Entra: "Re-adding an existing member is a no-op
    // success; removing a non-member is a no-op success" (Microsoft "Known
    // issues and resolutions with SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@contoso.com");
    let b = named_user(&app, &c, "b@contoso.com");
    let gid = new_group(&app, &c, "NoOps", &[&a]);
    for list in [
        json!([{"op": "Add", "path": "members", "value": [{"value": a}]}]),
        json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": a}]}]),
        json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]),
        json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
        json!([{"op": "Remove", "path": "members", "value": [{"value": "never-existed"}]}]),
    ] {
        let r = patch_group(&app, &c, &gid, list.clone());
        assert_eq!(r.status, 204, "{list}: {}", r.body);
        assert_eq!(stored_members(&app, &gid), vec![a.clone()], "{list}");
    }
    let n = app.rows(
        "SELECT count(*) AS n FROM group_members WHERE group_id = ?",
        vec![gid.as_str().into()],
    );
    assert_eq!(n[0]["n"], 1);
}

#[test]
fn entra_legacy_group_schema_urn_is_tolerated() {
    // idp-behaviour.md, Entra: "Groups may carry the legacy schema URN
    // http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group:
    // tolerate it" (Microsoft "Known issues and resolutions with SCIM 2.0
    // protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@contoso.com");
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [MS_GROUP], "displayName": "Legacy URN",
                    "externalId": "aad-group-1", "members": [{"value": a}]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["schemas"], json!([GROUP]), "answered in RFC form");
    assert_eq!(r.body["displayName"], "Legacy URN");
    assert_eq!(r.body["externalId"], "aad-group-1");
    let gid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(stored_members(&app, &gid), vec![a.clone()]);
    // Both URNs together, and on PUT.
    let r = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP, MS_GROUP], "displayName": "Both URNs"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let f = app.call(
        &c,
        "GET",
        "/Groups?filter=externalId+eq+%22aad-group-1%22",
        None,
    );
    assert_eq!(f.body["totalResults"], 1);
    assert_eq!(f.body["Resources"][0]["schemas"], json!([GROUP]));
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [MS_GROUP], "displayName": "Legacy URN 2",
                    "externalId": "aad-group-1", "members": []})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "Legacy URN 2");
    assert!(stored_members(&app, &gid).is_empty());
}

#[test]
fn entra_extension_object_without_its_urn_in_schemas_is_accepted() {
    // idp-behaviour.md, Entra: "Custom extension objects may arrive without
    // their URN in schemas[]" (Microsoft "Known issues and resolutions with
    // SCIM 2.0 protocol compliance").
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "ext@contoso.com",
                    ENT: {"employeeNumber": "42", "department": "Ops"}})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["schemas"], json!([USER, ENT]));
    assert_eq!(
        r.body[ENT],
        json!({"employeeNumber": "42", "department": "Ops"})
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(doc(&app, &id)[ENT]["employeeNumber"], "42");
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER], "userName": "ext@contoso.com",
                    ENT: {"employeeNumber": "43"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[ENT], json!({"employeeNumber": "43"}));
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Add", "value": {ENT: {"division": "West"}}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body[ENT],
        json!({"employeeNumber": "43", "division": "West"})
    );
}

#[test]
fn entra_explicit_null_is_absent_and_never_echoed() {
    // idp-behaviour.md, Entra: "Explicit null values mean "absent" and are
    // never echoed back" (Microsoft "Known issues and resolutions with SCIM
    // 2.0 protocol compliance"; RFC 7644 §3.5.2).
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(
            json!({"schemas": [USER, ENT], "userName": "absent@contoso.com",
            "title": null, "nickName": null, "externalId": null,
            "name": {"givenName": "N", "familyName": null, "middleName": null},
            "emails": [{"value": "absent@contoso.com", "type": "work", "display": null}],
            "phoneNumbers": null,
            ENT: {"department": null, "manager": null}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let text = r.body.to_string();
    assert!(!text.contains("null"), "{text}");
    assert!(r.body.get("title").is_none());
    assert_eq!(r.body["name"], json!({"givenName": "N"}));
    assert!(r.body.get(ENT).is_none());
    assert_eq!(r.body["schemas"], json!([USER]));
    let id = r.body["id"].as_str().unwrap().to_owned();
    let stored = app.rows(
        "SELECT doc, external_id FROM users WHERE id = ?",
        vec![id.as_str().into()],
    );
    assert!(!stored[0]["doc"].as_str().unwrap().contains("null"));
    assert!(stored[0]["external_id"].is_null());
    // PATCH: a null value removes the attribute, path-less or by path.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "value": {"title": "T", "displayName": "D"}}]),
    );
    assert_eq!(r.body["title"], "T");
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([
            {"op": "Replace", "value": {"title": null, "name.givenName": null}},
            {"op": "Replace", "path": "displayName", "value": null},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("null"), "{}", r.body);
    assert!(r.body.get("title").is_none());
    assert!(r.body.get("displayName").is_none());
    assert!(r.body.get("name").is_none());
    let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert!(!g.body.to_string().contains("null"), "{}", g.body);
    assert!(!doc(&app, &id).to_string().contains("null"));
    // Lists never echo nulls either.
    let l = app.call(&c, "GET", "/Users", None);
    assert!(!l.body.to_string().contains("null"), "{}", l.body);
}

#[test]
fn entra_unassign_is_a_disable_and_the_user_stays_visible_and_reactivates() {
    // idp-behaviour.md, Entra: "Unassigning a user is a disable (active
    // false), hard DELETE comes ~30 days later"; Both clients: "An inactive
    // user is still returned by GET and by filters ... Reactivation keeps the
    // same id and attributes" (Microsoft "Develop and plan provisioning for a
    // SCIM endpoint").
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER, ENT], "userName": "leaver@contoso.com", "externalId": "obj-1",
               "name": {"givenName": "Lea"}, ENT: {"department": "D"}}),
    );
    let a = new_group(&app, &c, "Team", &[]);
    patch_group(
        &app,
        &c,
        &a,
        json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
    );
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(active_column(&app, &id), 0);
    let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(g.status, 200);
    assert_eq!(g.body["active"], false);
    assert_eq!(g.body["groups"][0]["value"], a.as_str());
    for q in [
        "/Users?filter=userName+eq+%22leaver%40contoso.com%22",
        "/Users?filter=externalId+eq+%22obj-1%22",
        "/Users?filter=active+eq+false",
        "/Users",
    ] {
        let f = app.call(&c, "GET", q, None);
        assert_eq!(f.body["totalResults"], 1, "{q}");
        assert_eq!(f.body["Resources"][0]["active"], false, "{q}");
    }
    // Reassignment re-enables the same user with all its attributes.
    let r = patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    );
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["name"]["givenName"], "Lea");
    assert_eq!(r.body[ENT]["department"], "D");
    assert_eq!(r.body["externalId"], "obj-1");
    assert_eq!(active_column(&app, &id), 1);
    assert_eq!(stored_members(&app, &a), vec![id.clone()]);
}

#[test]
fn entra_group_patch_answers_204_without_the_member_list() {
    // idp-behaviour.md, Entra: "Group PATCH should answer 204 (200 with the
    // resource is tolerated); returning the whole member list on PATCH is
    // discouraged" (Microsoft "Develop and plan provisioning for a SCIM
    // endpoint").
    let app = App::new();
    let c = app.tenant("acme");
    let a = named_user(&app, &c, "a@contoso.com");
    let gid = new_group(&app, &c, "Quiet", &[]);
    let r = patch_group(
        &app,
        &c,
        &gid,
        json!([
            {"op": "Add", "path": "members", "value": [{"value": a}]},
            {"op": "Replace", "path": "displayName", "value": "Quieter"},
        ]),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.response.body.is_empty());
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(stored_members(&app, &gid), vec![a.clone()]);
    let rows = app.rows(
        "SELECT display_name, version FROM groups WHERE id = ?",
        vec![gid.as_str().into()],
    );
    assert_eq!(rows[0]["display_name"], "Quieter");
    assert_eq!(rows[0]["version"], 2);
}

#[test]
fn entra_hard_delete_retains_a_tombstone_by_default_and_the_user_name_is_reusable() {
    // idp-behaviour.md, Entra: "hard DELETE comes ~30 days later"; Both
    // clients: "Only a hard DELETE makes it 404". Issue 4: the default tenant
    // setting keeps a tombstone (row kept, deleted_at set, active 0).
    let app = App::new();
    let c = app.tenant("acme");
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "Gone@Contoso.com", "externalId": "obj-9",
               "emails": [{"value": "gone@contoso.com", "type": "work"}]}),
    );
    let gid = new_group(&app, &c, "Had Member", &[&id]);
    patch_user(
        &app,
        &c,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    let r = app.call(&c, "DELETE", &format!("/Users/{id}"), None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.response.body.is_empty());
    let rows = app.rows(
        "SELECT active, deleted_at, user_name FROM users WHERE id = ?",
        vec![id.as_str().into()],
    );
    assert_eq!(rows.len(), 1, "the tombstone is kept");
    assert_eq!(rows[0]["active"], 0);
    assert!(rows[0]["deleted_at"].is_string());
    assert_eq!(rows[0]["user_name"], "Gone@Contoso.com");
    // SCIM sees a 404 everywhere.
    let g = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(g.status, 404);
    assert_eq!(g.body["status"], "404");
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{id}"), None).status,
        404
    );
    assert_eq!(
        patch_user(
            &app,
            &c,
            &id,
            json!([{"op": "Replace", "path": "active", "value": "True"}])
        )
        .status,
        404
    );
    for q in [
        "/Users?filter=userName+eq+%22gone%40contoso.com%22",
        "/Users?filter=externalId+eq+%22obj-9%22",
        "/Users?filter=emails.value+eq+%22gone%40contoso.com%22",
        "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22gone%40contoso.com%22",
        "/Users?filter=active+eq+false",
        "/Users",
    ] {
        assert_eq!(app.call(&c, "GET", q, None).body["totalResults"], 0, "{q}");
    }
    assert!(stored_members(&app, &gid).is_empty());
    // A later POST of the same userName (any case) creates a new user.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "gone@contoso.com", "externalId": "obj-9"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_ne!(r.body["id"], id.as_str());
    let f = app.call(&c, "GET", "/Users?filter=externalId+eq+%22obj-9%22", None);
    assert_eq!(f.body["totalResults"], 1);
    assert_eq!(f.body["Resources"][0]["id"], r.body["id"]);
}

#[test]
fn entra_hard_delete_removes_the_row_when_the_tenant_delete_policy_is_remove() {
    // idp-behaviour.md, Entra: "hard DELETE comes ~30 days later". Issue 4:
    // with settings {"deletePolicy":"remove"} the row goes.
    let app = App::new();
    let c = app.tenant("acme");
    app.rows(
        "UPDATE tenants SET settings = '{\"deletePolicy\":\"remove\"}' WHERE id = 'acme'",
        vec![],
    );
    let id = new_user(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "removed@contoso.com",
               "emails": [{"value": "removed@contoso.com", "type": "work"}]}),
    );
    let gid = new_group(&app, &c, "G", &[&id]);
    let r = app.call(&c, "DELETE", &format!("/Users/{id}"), None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(app
        .rows(
            "SELECT id FROM users WHERE id = ?",
            vec![id.as_str().into()]
        )
        .is_empty());
    assert!(app
        .rows(
            "SELECT user_id FROM user_emails WHERE user_id = ?",
            vec![id.as_str().into()]
        )
        .is_empty());
    assert!(stored_members(&app, &gid).is_empty());
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).status,
        404
    );
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{id}"), None).status,
        404
    );
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "removed@contoso.com"})),
    );
    assert_eq!(r.status, 201);
    // Another tenant keeps the default (retain).
    let other = app.tenant("other");
    let oid = named_user(&app, &other, "kept@contoso.com");
    assert_eq!(
        app.call(&other, "DELETE", &format!("/Users/{oid}"), None)
            .status,
        204
    );
    assert_eq!(
        app.rows(
            "SELECT id FROM users WHERE id = ?",
            vec![oid.as_str().into()]
        )
        .len(),
        1
    );
}
