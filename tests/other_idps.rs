//! OneLogin, JumpCloud, Ping Identity (PingFederate SCIM Provisioner and
//! PingOne SCIM Outbound), Google Workspace and Rippling provisioning into
//! scim-worker, one test per documented behaviour, through the whole service
//! over real SQLite. `docs/idp-behaviour.md` lists each behaviour with its
//! source and this file's test.
//!
//! Each test's leading comment names the IdP, its source tags
//! (`[OL-impl]`, `[AK-11249]`, `[JC-custom]`, `[PF-lim]`, ...; each IdP's
//! section of `docs/idp-behaviour.md` gives the source behind a tag) and
//! whether the behaviour is stated by the source, observed in real traffic,
//! or inferred. Where the only source is another vendor's setup guide it
//! says third-party.
//!
//! The generic leniencies these clients rely on (unknown attributes,
//! null/[]/{} as unassigned, SCIM 1.1 URNs, a single object for a
//! multi-valued attribute, string booleans, unquoted filter values, endpoint
//! names in any case, unknown group members) are tested one by one in
//! `tests/leniency.rs`; here each is shown with the body or request the IdP
//! sends.

use scim_worker::testing::{
    patch_ops as ops,
    urn::{ENTERPRISE as ENT, ERROR, GROUP, LIST_RESPONSE as LIST, USER},
    App, Creds, Reply,
};
use scim_worker::{Method, Request};
use serde_json::{json, Value};

/// SCIM 1.1 and non-RFC URNs OneLogin's templates and traffic carry.
const CORE_1_0: &str = "urn:scim:schemas:core:1.0";
const CORE_2_0: &str = "urn:scim:schemas:core:2.0";
const ENT_1_0: &str = "urn:scim:schemas:extension:enterprise:1.0";
const ENT_2_0: &str = "urn:scim:schemas:extension:enterprise:2.0";

fn create_user(app: &App, c: &Creds, body: Value) -> Value {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn named_user(app: &App, c: &Creds, user_name: &str) -> String {
    id(&create_user(
        app,
        c,
        json!({"schemas": [USER], "userName": user_name}),
    ))
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
    id(&r.body)
}

fn patch(app: &App, c: &Creds, path: &str, list: Value) -> Reply {
    app.call(c, "PATCH", path, Some(ops(list)))
}

/// A request built by hand under the tenant's base URL: the tenant's
/// Bearer token, then exactly these headers (no Accept unless given).
fn raw(
    app: &App,
    c: &Creds,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
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
        req = req.with_body(b.to_string());
    }
    app.request(req)
}

/// A request with this `Authorization` header (or none).
fn with_auth(app: &App, c: &Creds, path: &str, authorization: Option<&str>) -> Reply {
    let mut req = Request::new(Method::Get, &format!("/scim/v2/{}{path}", c.tenant));
    if let Some(a) = authorization {
        req = req.with_header("Authorization", a);
    }
    app.request(req)
}

/// `s` encoded as a query-string value, spaces as `+` (as OneLogin sends).
fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /Users?filter=<filter>` or `/Groups`, answered 200.
fn filter(app: &App, c: &Creds, endpoint: &str, filter: &str) -> Reply {
    let r = app.call(
        c,
        "GET",
        &format!("{endpoint}?filter={}", enc(filter)),
        None,
    );
    assert_eq!(r.status, 200, "{filter}: {}", r.body);
    assert_eq!(r.body["schemas"], json!([LIST]));
    r
}

/// The ids of a ListResponse's resources, in order.
fn listed_ids(r: &Reply) -> Vec<String> {
    r.body["Resources"]
        .as_array()
        .map(|a| a.iter().map(id).collect())
        .unwrap_or_default()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The stored document of a user, parsed.
fn stored_doc(app: &App, id: &str) -> Value {
    let rows = app.rows("SELECT doc FROM users WHERE id = ?", vec![id.into()]);
    serde_json::from_str(rows[0]["doc"].as_str().unwrap()).unwrap()
}

/// The stored `active` column of a user (1 or 0).
fn active_column(app: &App, id: &str) -> Value {
    app.rows("SELECT active FROM users WHERE id = ?", vec![id.into()])[0]["active"].clone()
}

fn content_type(r: &Reply) -> String {
    r.header("content-type").unwrap_or_default().to_owned()
}

/// A resource without its `meta` (which may change on a no-op write).
fn without_meta(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("meta");
    v
}

/// How many elements of `values` say `"primary": true`.
fn primaries(values: &Value) -> usize {
    values
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == true)
        .count()
}

mod onelogin {
    use super::*;

    #[test]
    fn onelogin_lookup_with_trailing_ampersand_matches_like_without() {
        // OneLogin [AK-11249] (observed): real traffic is
        // `GET /Users?filter=userName+eq+%22onelogin-test-user01%22&`, a
        // `+`-encoded query string with a trailing `&`. It must be handled
        // exactly like the same URL without the `&`.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = named_user(&app, &c, "onelogin-test-user01");
        named_user(&app, &c, "someone-else");
        let with = app.call(
            &c,
            "GET",
            "/Users?filter=userName+eq+%22onelogin-test-user01%22&",
            None,
        );
        let without = app.call(
            &c,
            "GET",
            "/Users?filter=userName+eq+%22onelogin-test-user01%22",
            None,
        );
        assert_eq!(with.status, 200, "{}", with.body);
        assert_eq!(with.body["totalResults"], 1, "{}", with.body);
        assert_eq!(listed_ids(&with), [uid]);
        assert_eq!(with.body, without.body);
        // A miss is the same empty list either way.
        let miss = app.call(&c, "GET", "/Users?filter=userName+eq+%22nobody%22&", None);
        assert_eq!(miss.status, 200, "{}", miss.body);
        assert_eq!(miss.body["totalResults"], 0);
    }

    #[test]
    fn onelogin_put_with_empty_query_string_routes_to_the_user() {
        // OneLogin [AK-11249] (observed): user updates arrive as
        // `PUT /Users/{id}?`, an empty query string after the id.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = named_user(&app, &c, "qm@onelogin.example");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}?"),
            Some(
                json!({"schemas": [CORE_1_0], "userName": "qm@onelogin.example",
                "name": {"givenName": "Q", "familyName": "M", "formatted": "Q M"}}),
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], uid.as_str());
        assert_eq!(r.body["name"]["formatted"], "Q M");
        let g = app.call(&c, "GET", &format!("/Users/{uid}?"), None);
        assert_eq!(g.status, 200, "{}", g.body);
        assert_eq!(g.body["name"]["givenName"], "Q");
    }

    #[test]
    fn onelogin_connection_test_lookup_of_unknown_user_name_is_200_empty_list() {
        // OneLogin [OL-impl] (stated): enabling the API connection "makes a
        // Get User by userName request using a userName filter value that it
        // knows is non-existent"; the server answers "with an empty array of
        // users" (or 404). scim-worker answers 200 with an empty ListResponse.
        let app = App::new();
        let c = app.tenant("acme");
        named_user(&app, &c, "real-user");
        let probe = format!("onelogin-{}", uuid::Uuid::new_v4().simple());
        let r = app.call(
            &c,
            "GET",
            &format!("/Users?filter=userName+eq+%22{probe}%22&"),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["schemas"], json!([LIST]));
        assert_eq!(r.body["totalResults"], 0);
        assert_eq!(r.body["Resources"], json!([]));
    }

    #[test]
    fn onelogin_bearer_token_needs_no_user_agent() {
        // OneLogin [OL-php] (stated): "a bearer token supplied in an
        // authorization header of each request"; [AK-11249] (observed): the
        // requests carry an empty `User-Agent`.
        let app = App::new();
        let c = app.tenant("acme");
        let body = json!({"schemas": [CORE_2_0], "userName": "ua@onelogin.example"});
        let r = raw(
            &app,
            &c,
            "POST",
            "/Users",
            &[
                ("Content-Type", "application/scim+json"),
                ("User-Agent", ""),
            ],
            Some(&body),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let r = raw(
            &app,
            &c,
            "GET",
            "/Users?filter=userName+eq+%22ua%40onelogin.example%22&",
            &[],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["totalResults"], 1);
        // Without the token the same request is refused, so it is the token
        // that lets it in.
        let r = with_auth(&app, &c, "/Users", None);
        assert_eq!(r.status, 401);
    }

    #[test]
    fn onelogin_scim_1_1_and_nonstandard_core_urns_in_schemas_are_core_users() {
        // OneLogin [OL-schema] (stated): the Core template sends
        // `"schemas": ["urn:scim:schemas:core:1.0"]`, the Enterprise template
        // adds `urn:scim:schemas:extension:enterprise:1.0`; [AK-11249]
        // (observed): SCIM v2 traffic used `urn:scim:schemas:core:2.0` and
        // `...:extension:enterprise:2.0`; [TPL-sd] (third-party): the Core 1.0
        // template is pasted into a /scim/v2/ base URL. None may be rejected
        // as invalidSyntax; all are core (and enterprise) Users, answered
        // with RFC URNs.
        let app = App::new();
        let c = app.tenant("acme");
        for (i, schemas) in [
            json!([CORE_1_0]),
            json!([CORE_2_0]),
            json!([CORE_1_0, ENT_1_0]),
            json!([CORE_2_0, ENT_2_0]),
        ]
        .into_iter()
        .enumerate()
        {
            let r = app.call(
                &c,
                "POST",
                "/Users",
                Some(json!({"schemas": schemas, "userName": format!("urn{i}@onelogin.example"),
                    "name": {"givenName": "U", "familyName": format!("{i}"), "formatted": format!("U {i}")}})),
            );
            assert_eq!(r.status, 201, "{schemas}: {}", r.body);
            assert_eq!(r.body["schemas"][0], USER, "{}", r.body);
            assert!(
                !r.body.to_string().contains("urn:scim:schemas"),
                "{}",
                r.body
            );
            assert_eq!(r.body["name"]["formatted"], format!("U {i}"));
            let uid = id(&r.body);
            let f = filter(
                &app,
                &c,
                "/Users",
                &format!("userName eq \"urn{i}@onelogin.example\""),
            );
            assert_eq!(listed_ids(&f), [uid]);
        }
    }

    #[test]
    fn onelogin_scim_1_1_enterprise_keys_map_to_the_rfc_enterprise_extension() {
        // OneLogin [OL-schema] (stated) and [AK-11249] (observed): the
        // enterprise attributes arrive under the key
        // `urn:scim:schemas:extension:enterprise:1.0` (or `:2.0`). They must
        // land in the RFC enterprise extension, not be dropped.
        let app = App::new();
        let c = app.tenant("acme");
        let boss = named_user(&app, &c, "boss@onelogin.example");
        for (n, (core, ext)) in [(CORE_1_0, ENT_1_0), (CORE_2_0, ENT_2_0)]
            .into_iter()
            .enumerate()
        {
            let u = create_user(
                &app,
                &c,
                json!({"schemas": [core, ext], "userName": format!("ent{n}@onelogin.example"),
                    ext: {"department": "Sales", "employeeNumber": format!("E{n}"),
                          "manager": {"value": boss}}}),
            );
            let uid = id(&u);
            assert_eq!(u["schemas"], json!([USER, ENT]), "{u}");
            assert_eq!(u[ENT]["department"], "Sales", "{u}");
            assert_eq!(u[ENT]["employeeNumber"], format!("E{n}"));
            assert_eq!(u[ENT]["manager"]["value"], boss.as_str());
            assert!(u.get(ext).is_none(), "{u}");
            assert_eq!(stored_doc(&app, &uid)[ENT]["department"], "Sales");
            let f = filter(
                &app,
                &c,
                "/Users",
                &format!("{ENT}:employeeNumber eq \"E{n}\""),
            );
            assert_eq!(listed_ids(&f), [uid]);
        }
    }

    #[test]
    fn onelogin_single_email_object_is_stored_as_a_one_element_array() {
        // OneLogin [OL-schema] (stated): the Enterprise template sends
        // `"emails": {"value": ..., "type": "work", "primary": true}`, an
        // object, not an array; [DJ-scim2] (stated by a SCIM server: "OneLogin
        // sends a dict despite the spec"). Stored and answered as a
        // one-element array.
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(
            &app,
            &c,
            json!({"schemas": [CORE_1_0, ENT_1_0], "userName": "dict@onelogin.example",
                "emails": {"value": "Dict@OneLogin.example", "type": "work", "primary": true}}),
        );
        let uid = id(&u);
        let expected = json!([{"value": "Dict@OneLogin.example", "type": "work", "primary": true}]);
        assert_eq!(u["emails"], expected, "{u}");
        assert_eq!(
            app.call(&c, "GET", &format!("/Users/{uid}"), None).body["emails"],
            expected
        );
        assert_eq!(stored_doc(&app, &uid)["emails"], expected);
        let f = filter(
            &app,
            &c,
            "/Users",
            "emails.value eq \"dict@onelogin.example\"",
        );
        assert_eq!(listed_ids(&f), vec![uid.clone()]);
        // The same in a PUT.
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}?"),
            Some(
                json!({"schemas": [CORE_1_0], "userName": "dict@onelogin.example",
                "emails": {"value": "new@onelogin.example", "type": "work", "primary": true}}),
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body["emails"],
            json!([{"value": "new@onelogin.example", "type": "work", "primary": true}])
        );
    }

    #[test]
    fn onelogin_manager_manager_id_is_manager_value() {
        // OneLogin [OL-schema] (stated): the Enterprise template sends the
        // manager as `manager.managerId`; [TPL-kn] (third-party) puts
        // `manager.managerId` inside the RFC 2.0 enterprise extension.
        let app = App::new();
        let c = app.tenant("acme");
        let boss = named_user(&app, &c, "boss@onelogin.example");
        for (n, (schemas, key)) in [
            (json!([CORE_1_0, ENT_1_0]), ENT_1_0),
            (json!([USER, ENT]), ENT),
        ]
        .into_iter()
        .enumerate()
        {
            let u = create_user(
                &app,
                &c,
                json!({"schemas": schemas, "userName": format!("report{n}@onelogin.example"),
                    key: {"manager": {"managerId": boss}}}),
            );
            assert_eq!(u[ENT]["manager"]["value"], boss.as_str(), "{u}");
            assert!(u[ENT]["manager"].get("managerId").is_none(), "{u}");
            let f = filter(
                &app,
                &c,
                "/Users",
                &format!("{ENT}:manager.value eq \"{boss}\""),
            );
            assert!(listed_ids(&f).contains(&id(&u)), "{}", f.body);
        }
    }

    #[test]
    fn onelogin_string_active_in_post_and_put_is_a_json_boolean() {
        // OneLogin [TPL-kn] (third-party): templates carry
        // `"active": "{$user.active}"`, which OneLogin fills as the string
        // "true" or "false". Stored and answered as a JSON boolean.
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(
            &app,
            &c,
            json!({"schemas": [USER], "userName": "str@onelogin.example", "active": "true"}),
        );
        let uid = id(&u);
        assert_eq!(u["active"], true);
        assert_eq!(active_column(&app, &uid), 1);
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}?"),
            Some(json!({"schemas": [USER], "userName": "str@onelogin.example", "active": "false"})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["active"], false);
        assert_eq!(active_column(&app, &uid), 0);
        assert_eq!(stored_doc(&app, &uid)["active"], false);
        let f = filter(&app, &c, "/Users", "active eq false");
        assert_eq!(listed_ids(&f), [uid]);
    }

    #[test]
    fn onelogin_null_id_and_client_meta_are_ignored_in_post_and_put() {
        // OneLogin [TPL-kn] (third-party): templates include `"id": null` and
        // `"meta": {"resourceType": "User"}`. Ignored, not rejected; the
        // server assigns the id and writes its own meta.
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(
            &app,
            &c,
            json!({"schemas": [USER, ENT], "id": null, "meta": {"resourceType": "User"},
                "userName": "meta@onelogin.example", "active": "true"}),
        );
        let uid = id(&u);
        assert!(!uid.is_empty());
        assert_eq!(u["meta"]["resourceType"], "User");
        assert!(
            u["meta"]["location"].as_str().unwrap().ends_with(&uid),
            "{u}"
        );
        assert!(u["meta"]["created"].is_string(), "{u}");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}?"),
            Some(json!({"schemas": [USER], "id": null,
                "meta": {"resourceType": "User", "created": "1999-01-01T00:00:00Z"},
                "userName": "meta@onelogin.example", "title": "T"})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], uid.as_str());
        assert_eq!(r.body["title"], "T");
        assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
    }

    /// A OneLogin body whose template parameters the user has no value
    /// for were filled with "".
    fn unfilled(user_name: &str) -> Value {
        json!({"schemas": [CORE_1_0, ENT_1_0], "userName": user_name,
            "title": "", "nickName": "",
            "name": {"givenName": "E", "familyName": "", "formatted": "E "},
            "emails": {"value": "", "type": "work", "primary": true},
            ENT_1_0: {"department": "", "manager": {"managerId": ""}}})
    }

    #[test]
    fn onelogin_empty_strings_from_unfilled_template_parameters_pass_validation() {
        // OneLogin [OL-kb] [OL-schema] (inferred from the template
        // mechanism): a template parameter the user has no value for is
        // filled as "" (`"title": ""`). It must not fail validation, in POST
        // or PUT.
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(&app, &c, unfilled("empty@onelogin.example"));
        let uid = id(&u);
        assert_eq!(u["name"]["givenName"], "E");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}?"),
            Some(unfilled("empty@onelogin.example")),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], uid.as_str());
    }

    #[test]
    fn onelogin_empty_string_for_a_string_attribute_is_kept_as_sent() {
        // OneLogin [OL-kb] [OL-schema] (inferred from the template
        // mechanism): an unfilled parameter arrives as "". For a string
        // attribute "" is a value RFC 7643 allows, and a request that was
        // already valid keeps its meaning (issue 13): it is stored and
        // returned as sent, and a later PUT with "" sets it to "".
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(&app, &c, unfilled("empty@onelogin.example"));
        let uid = id(&u);
        assert_eq!(u["title"], "", "{u}");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}"),
            Some(json!({"schemas": [USER], "userName": "empty@onelogin.example", "title": "Boss"})),
        );
        assert_eq!(r.body["title"], "Boss");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}"),
            Some(json!({"schemas": [USER], "userName": "empty@onelogin.example", "title": ""})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["title"], "");
        assert_eq!(stored_doc(&app, &uid)["title"], "");
    }

    #[test]
    fn onelogin_empty_string_active_from_an_unfilled_template_passes_validation() {
        // OneLogin [TPL-kn] (third-party: `"active": "{$user.active}"`) and
        // [OL-kb] [OL-schema] (inferred from the template mechanism): an
        // unfilled `active` parameter arrives as "". "" cannot be a boolean:
        // it is no value (logged as `emptyValue`), so the user is not created
        // inactive. The same for a number, a dateTime or a fixed set of
        // values.
        let app = App::new();
        let c = app.tenant("acme");
        let r = app.call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [CORE_1_0], "userName": "noactive@onelogin.example", "active": ""})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        assert_ne!(r.body["active"], false, "{}", r.body);
    }

    #[test]
    fn onelogin_suspend_is_a_put_with_active_false_and_a_put_with_true_reactivates() {
        // OneLogin [OL-test] (stated): on user deletion the app can
        // "Delete, Suspend, or Do Nothing"; [DK-19484] recommends Suspend.
        // [OL-impl] [OL-node] (inferred): with no Patch User call, Suspend is
        // a full PUT carrying `"active": false`, and reactivation a PUT with
        // `"active": true`, on the same id.
        let app = App::new();
        let c = app.tenant("acme");
        let full = |active: &str| {
            json!({"schemas": [CORE_1_0, ENT_1_0], "userName": "susp@onelogin.example",
                "name": {"givenName": "Sus", "familyName": "Pend", "formatted": "Sus Pend"},
                "emails": {"value": "susp@onelogin.example", "type": "work", "primary": true},
                "active": active, ENT_1_0: {"department": "Ops"}})
        };
        let uid = id(&create_user(&app, &c, full("true")));
        let r = app.call(&c, "PUT", &format!("/Users/{uid}?"), Some(full("false")));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["active"], false);
        let g = app.call(&c, "GET", &format!("/Users/{uid}"), None);
        assert_eq!(g.status, 200, "a suspended user is still there");
        assert_eq!(g.body["active"], false);
        assert_eq!(g.body[ENT]["department"], "Ops");
        let f = filter(&app, &c, "/Users", "userName eq \"susp@onelogin.example\"");
        assert_eq!(listed_ids(&f), vec![uid.clone()]);
        let r = app.call(&c, "PUT", &format!("/Users/{uid}?"), Some(full("true")));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], uid.as_str());
        assert_eq!(r.body["active"], true);
        assert_eq!(active_column(&app, &uid), 1);
    }

    #[test]
    fn onelogin_delete_user_is_204_and_then_404() {
        // OneLogin [OL-impl] (stated): "Delete User" is in the call list;
        // [OL-node] [OL-php] (inferred): it is `DELETE /Users/{id}`.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = named_user(&app, &c, "del@onelogin.example");
        let r = app.call(&c, "DELETE", &format!("/Users/{uid}"), None);
        assert_eq!(r.status, 204, "{}", r.body);
        assert!(r.response.body.is_empty());
        let g = app.call(&c, "GET", &format!("/Users/{uid}"), None);
        assert_eq!(g.status, 404);
        assert_eq!(g.body["schemas"], json!([ERROR]));
        let f = app.call(
            &c,
            "GET",
            "/Users?filter=userName+eq+%22del%40onelogin.example%22&",
            None,
        );
        assert_eq!(f.body["totalResults"], 0);
    }

    #[test]
    fn onelogin_refresh_lists_every_group_without_filter_or_paging() {
        // OneLogin [SO-ol] (community) [TC-ol] (third-party): "Refresh" calls
        // the groups endpoint "to retrieve what groups are available";
        // [OL-node] [OL-php] (inferred): `GET /Groups` with no filter and no
        // paging, every group in one list with a correct totalResults.
        let app = App::new();
        let c = app.tenant("acme");
        let u = named_user(&app, &c, "member@onelogin.example");
        let mut ids = vec![
            new_group(&app, &c, "Sales", &[]),
            new_group(&app, &c, "Engineering", &[&u]),
            new_group(&app, &c, "Support", &[]),
        ];
        let r = app.call(&c, "GET", "/Groups", None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["totalResults"], 3);
        assert_eq!(r.body["itemsPerPage"], 3);
        ids.sort();
        assert_eq!(sorted(listed_ids(&r)), ids);
        let mut names: Vec<&str> = r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["displayName"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["Engineering", "Sales", "Support"]);
    }

    #[test]
    fn onelogin_group_patch_with_scim_json_and_empty_user_agent_adds_and_removes() {
        // OneLogin [OL-impl] [OL-node] [OL-php] (stated): membership changes
        // are `PATCH /Groups/{id}`; [AK-11249] (observed): sent with
        // `Content-Type: application/scim+json` and an empty `User-Agent`.
        // The answer must be 204 (or 200).
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@onelogin.example");
        let b = named_user(&app, &c, "b@onelogin.example");
        let gid = new_group(&app, &c, "Pulled", &[]);
        let headers = [
            ("Content-Type", "application/scim+json"),
            ("User-Agent", ""),
        ];
        let send = |list: Value| {
            raw(
                &app,
                &c,
                "PATCH",
                &format!("/Groups/{gid}"),
                &headers,
                Some(&ops(list)),
            )
        };
        let r =
            send(json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]));
        assert!([200, 204].contains(&r.status), "{}: {}", r.status, r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![a.clone(), b.clone()]));
        let r = send(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]));
        assert!([200, 204].contains(&r.status), "{}: {}", r.status, r.body);
        assert_eq!(app.member_ids(&gid), vec![b.clone()]);
        let r = send(json!([{"op": "remove", "path": "members", "value": [{"value": b}]}]));
        assert!([200, 204].contains(&r.status), "{}: {}", r.status, r.body);
        assert!(app.member_ids(&gid).is_empty());
    }

    #[test]
    fn onelogin_accept_application_json_answers_application_json() {
        // OneLogin [OL-impl] (stated): "the content type header for all
        // responses must be of type application/json". RFC 7644 §8.1
        // content negotiation: a request with `Accept: application/json` is
        // answered with that type (errors included); without it, scim+json.
        let app = App::new();
        let c = app.tenant("acme");
        let accept = [("Accept", "application/json")];
        let body = json!({"schemas": [CORE_1_0], "userName": "json@onelogin.example"});
        let r = raw(
            &app,
            &c,
            "POST",
            "/Users",
            &[
                ("Accept", "application/json"),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(
            content_type(&r).starts_with("application/json"),
            "{}",
            content_type(&r)
        );
        let uid = id(&r.body);
        for path in [
            format!("/Users/{uid}"),
            "/Users?filter=userName+eq+%22json%40onelogin.example%22&".to_string(),
            "/Groups".to_string(),
            "/Users/no-such-id".to_string(),
        ] {
            let r = raw(&app, &c, "GET", &path, &accept, None);
            assert!(
                content_type(&r).starts_with("application/json"),
                "{path}: {} {}",
                r.status,
                content_type(&r)
            );
            assert!(r.body.is_object(), "{path}: JSON body");
        }
        let r = raw(&app, &c, "GET", &format!("/Users/{uid}"), &[], None);
        assert!(content_type(&r).starts_with("application/scim+json"));
    }
}

mod jumpcloud {
    use super::*;

    /// JumpCloud's test user, from the admin's Test User Email
    /// ([JC-custom], [JC-85119] attribute mapping).
    fn test_user(email: &str) -> Value {
        json!({"schemas": [USER], "userName": email,
            "emails": [{"value": email, "type": "work", "primary": true}],
            "name": {"givenName": "JumpCloud", "familyName": "Test"},
            "displayName": "JumpCloud Test", "externalId": "jc-test", "active": true})
    }

    /// Creates the test user and test group, then deletes both (the
    /// activation test of [JC-custom]); returns the user's id.
    fn activation_test(app: &App, c: &Creds, email: &str) -> String {
        let r = app.call(c, "POST", "/Users", Some(test_user(email)));
        assert_eq!(r.status, 201, "{}", r.body);
        let uid = id(&r.body);
        assert_eq!(r.body["userName"], email);
        assert_eq!(r.body["emails"][0]["value"], email);
        assert_eq!(r.body["name"]["givenName"], "JumpCloud");
        assert_eq!(r.body["externalId"], "jc-test");
        assert_eq!(r.body["active"], true);
        assert_eq!(r.body["schemas"], json!([USER]));
        assert_eq!(r.body["meta"]["resourceType"], "User");
        let g = app.call(
            c,
            "POST",
            "/Groups",
            Some(
                json!({"schemas": [GROUP], "displayName": "JumpCloud Test Group",
                "members": [{"value": uid}]}),
            ),
        );
        assert_eq!(g.status, 201, "{}", g.body);
        let gid = id(&g.body);
        assert_eq!(g.body["displayName"], "JumpCloud Test Group");
        let r = app.call(c, "DELETE", &format!("/Groups/{gid}"), None);
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.call(c, "DELETE", &format!("/Users/{uid}"), None);
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(
            app.call(c, "GET", &format!("/Groups/{gid}"), None).status,
            404
        );
        assert_eq!(
            app.call(c, "GET", &format!("/Users/{uid}"), None).status,
            404
        );
        uid
    }

    #[test]
    fn jumpcloud_bearer_token_is_accepted_and_nothing_else() {
        // JumpCloud [JC-custom] (stated): the target must support "SCIM API
        // Key, Bearer Token"; [JC-inf] (third-party): "Authorization: Bearer".
        // The wire form of "SCIM API Key" is not documented.
        let app = App::new();
        let c = app.tenant("acme");
        named_user(&app, &c, "jc@jumpcloud.example");
        let r = with_auth(&app, &c, "/Users", Some(&format!("Bearer {}", c.token)));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["totalResults"], 1);
        for bad in [
            None,
            Some(format!("Bearer {}x", c.token)),
            // (The token alone is Okta's "HTTP Header" mode, accepted since
            // issue 15; another scheme is not.)
            Some(format!("Token {}", c.token)),
        ] {
            let r = with_auth(&app, &c, "/Users", bad.as_deref());
            assert_eq!(r.status, 401, "{bad:?}");
        }
    }

    #[test]
    fn jumpcloud_activation_test_creates_then_deletes_test_user_and_group() {
        // JumpCloud [JC-custom] (stated): "A test user and test group are
        // created to test the integration. Both will be deleted if the DELETE
        // method is supported". POST /Users → 201 with the full user, POST
        // /Groups → 201, DELETE /Groups/{id} → 204, DELETE /Users/{id} → 204,
        // both GETs 404 afterwards.
        let app = App::new();
        let c = app.tenant("acme");
        activation_test(&app, &c, "test.user@jumpcloud.example");
        let r = app.call(&c, "GET", "/Users", None);
        assert_eq!(r.body["totalResults"], 0);
        let r = app.call(&c, "GET", "/Groups", None);
        assert_eq!(r.body["totalResults"], 0);
    }

    #[test]
    fn jumpcloud_rerun_of_activation_test_gets_a_fresh_user_under_the_deleted_email() {
        // JumpCloud [JC-76256] (stated): "Enter a test email address for
        // changing any settings ... in an active SCIM configuration"; so the
        // create-and-delete test runs again with the same email (inferred).
        // A deleted user's userName must be free again. Under the default
        // delete policy the deleted user is kept as a tombstone; the
        // re-created one is a new user with a new id and only what was sent.
        let app = App::new();
        let c = app.tenant("acme");
        let email = "test.user@jumpcloud.example";
        let first = activation_test(&app, &c, email);
        // The tombstone is still stored, hidden from SCIM.
        let rows = app.rows(
            "SELECT deleted_at FROM users WHERE id = ?",
            vec![first.as_str().into()],
        );
        assert!(rows[0]["deleted_at"].is_string());
        let second = activation_test(&app, &c, email);
        assert_ne!(first, second);
        // And once more, leaving the user this time: it carries nothing over
        // from the deleted ones.
        let r = app.call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": email})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let third = id(&r.body);
        assert!(third != first && third != second);
        for key in ["emails", "name", "externalId", "displayName", "groups"] {
            assert!(r.body.get(key).is_none(), "{key}: {}", r.body);
        }
        assert_ne!(r.body["active"], false, "{}", r.body);
        assert_eq!(r.body["meta"]["version"], "W/\"1\"", "{}", r.body);
        let f = filter(&app, &c, "/Users", &format!("userName eq \"{email}\""));
        assert_eq!(listed_ids(&f), [third]);
    }

    #[test]
    fn jumpcloud_test_user_that_still_exists_is_409_uniqueness() {
        // JumpCloud [JC-custom] (stated) and [JC-cur] (third-party: the test
        // email must be one "that does not already exist"): if the test user
        // is still there, POST /Users answers 409 uniqueness, not 500.
        let app = App::new();
        let c = app.tenant("acme");
        let existing = id(&create_user(&app, &c, test_user("kept@jumpcloud.example")));
        for email in ["kept@jumpcloud.example", "KEPT@JumpCloud.example"] {
            let r = app.call(&c, "POST", "/Users", Some(test_user(email)));
            assert_eq!(r.status, 409, "{email}: {}", r.body);
            assert_eq!(r.body["schemas"], json!([ERROR]));
            assert_eq!(r.body["status"], "409");
            assert_eq!(r.body["scimType"], "uniqueness");
        }
        let r = app.call(&c, "GET", "/Users", None);
        assert_eq!(listed_ids(&r), [existing]);
    }

    #[test]
    fn jumpcloud_remove_members_with_a_value_list_removes_only_the_listed() {
        // JumpCloud [JC-um] (third-party): "Azure AD-style value=[{value:uid}]
        // without an RFC filter", i.e.
        // `{"op":"remove","path":"members","value":[{"value":"<id>"}]}`;
        // [FX-jc] (weak, corroboration). Only the listed members go.
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@jumpcloud.example");
        let b = named_user(&app, &c, "b@jumpcloud.example");
        let d = named_user(&app, &c, "d@jumpcloud.example");
        let gid = new_group(&app, &c, "JC", &[&a, &b, &d]);
        let r = patch(
            &app,
            &c,
            &format!("/Groups/{gid}"),
            json!([{"op": "remove", "path": "members", "value": [{"value": a}, {"value": d}]}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), [b]);
    }

    #[test]
    fn jumpcloud_remove_member_by_value_filter_path_removes_that_member() {
        // JumpCloud [WM-7495] (inferred from the PR title "support jumpcloud
        // scim members filter syntax (RFC7644)"):
        // `{"op":"remove","path":"members[value eq \"<id>\"]"}`.
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@jumpcloud.example");
        let b = named_user(&app, &c, "b@jumpcloud.example");
        let gid = new_group(&app, &c, "JC", &[&a, &b]);
        let r = patch(
            &app,
            &c,
            &format!("/Groups/{gid}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), [a]);
    }

    #[test]
    fn jumpcloud_add_members_with_value_only_objects_is_accepted() {
        // JumpCloud [FX-jc] (weak) [JC-um] (third-party): member objects
        // carry only `value`, no `display` or `type`.
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@jumpcloud.example");
        let b = named_user(&app, &c, "b@jumpcloud.example");
        let gid = new_group(&app, &c, "JC", &[]);
        let r = patch(
            &app,
            &c,
            &format!("/Groups/{gid}"),
            json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![a.clone(), b.clone()]));
        let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
        let members = g.body["members"].as_array().unwrap();
        assert_eq!(members.len(), 2);
        assert!(members.iter().all(|m| m["type"] == "User"), "{}", g.body);
    }

    #[test]
    fn jumpcloud_existing_group_is_found_by_display_name_for_takeover() {
        // JumpCloud [JC-85119] (stated): "JumpCloud takes over management of
        // existing groups in the application when the user group name in
        // JumpCloud matches the name of the group"; the lookup by
        // `displayName eq` is inferred (the request is not documented).
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@jumpcloud.example");
        // Made by hand in the application, before JumpCloud was connected.
        let gid = new_group(&app, &c, "Engineering Team", &[&a]);
        new_group(&app, &c, "Engineering", &[]);
        for name in ["Engineering Team", "engineering team"] {
            let f = filter(&app, &c, "/Groups", &format!("displayName eq \"{name}\""));
            assert_eq!(listed_ids(&f), vec![gid.clone()], "{name}");
            assert_eq!(f.body["Resources"][0]["displayName"], "Engineering Team");
        }
        // Taking it over: JumpCloud's members are added to what is there.
        let b = named_user(&app, &c, "b@jumpcloud.example");
        let r = patch(
            &app,
            &c,
            &format!("/Groups/{gid}"),
            json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![a, b]));
    }

    #[test]
    fn jumpcloud_rename_by_patch_with_path_pathless_or_put_keeps_id_and_members() {
        // JumpCloud [JC-85119] (stated): "Group renaming is supported"; the
        // request is not documented, so all three forms: PATCH replace of
        // `displayName` with a path, path-less with `{"displayName": ...}`,
        // and PUT with a new displayName.
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@jumpcloud.example");
        let gid = new_group(&app, &c, "Old", &[&a]);
        let path = format!("/Groups/{gid}");
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "replace", "path": "displayName", "value": "Renamed 1"}]),
        );
        assert!(r.ok(), "{}", r.body);
        let g = app.call(&c, "GET", &path, None);
        assert_eq!(g.body["displayName"], "Renamed 1");
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "replace", "value": {"displayName": "Renamed 2"}}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(
            app.call(&c, "GET", &path, None).body["displayName"],
            "Renamed 2"
        );
        let r = app.call(
            &c,
            "PUT",
            &path,
            Some(
                json!({"schemas": [GROUP], "displayName": "Renamed 3", "members": [{"value": a}]}),
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], gid.as_str());
        assert_eq!(r.body["displayName"], "Renamed 3");
        assert_eq!(app.member_ids(&gid), [a]);
        let f = filter(&app, &c, "/Groups", "displayName eq \"Renamed 3\"");
        assert_eq!(listed_ids(&f), [gid]);
        assert_eq!(
            filter(&app, &c, "/Groups", "displayName eq \"Old\"").body["totalResults"],
            0
        );
    }

    #[test]
    fn jumpcloud_deactivated_user_stays_readable_by_get_and_by_filter() {
        // JumpCloud [JC-76256] (stated): `user_deprovision` "tries to change
        // an existing user to inactive"; whether by PATCH or PUT is not
        // documented, so PATCH replace with a path, path-less PATCH, and PUT.
        let app = App::new();
        let c = app.tenant("acme");
        for (n, how) in ["path", "pathless", "put"].into_iter().enumerate() {
            let email = format!("leaver{n}@jumpcloud.example");
            let uid = id(&create_user(&app, &c, test_user(&email)));
            let path = format!("/Users/{uid}");
            let r = match how {
                "path" => patch(
                    &app,
                    &c,
                    &path,
                    json!([{"op": "replace", "path": "active", "value": false}]),
                ),
                "pathless" => patch(
                    &app,
                    &c,
                    &path,
                    json!([{"op": "replace", "value": {"active": false}}]),
                ),
                _ => {
                    let mut body = test_user(&email);
                    body["active"] = json!(false);
                    app.call(&c, "PUT", &path, Some(body))
                }
            };
            assert_eq!(r.status, 200, "{how}: {}", r.body);
            assert_eq!(r.body["active"], false, "{how}");
            let g = app.call(&c, "GET", &path, None);
            assert_eq!(g.status, 200, "{how}");
            assert_eq!(g.body["active"], false, "{how}");
            assert_eq!(g.body["name"]["givenName"], "JumpCloud", "{how}");
            let f = filter(&app, &c, "/Users", &format!("userName eq \"{email}\""));
            assert_eq!(listed_ids(&f), vec![uid.clone()], "{how}");
            assert_eq!(f.body["Resources"][0]["active"], false, "{how}");
        }
        assert_eq!(
            filter(&app, &c, "/Users", "active eq false").body["totalResults"],
            3
        );
    }

    #[test]
    fn jumpcloud_one_replace_per_attribute_patch_applies_all_in_one_request() {
        // JumpCloud [FX-jc] (weak): a PATCH with one `replace` per attribute,
        // each with a path (`name.givenName`, `name.familyName`, `active`
        // with JSON false). All apply in one request.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = id(&create_user(&app, &c, test_user("multi@jumpcloud.example")));
        let r = patch(
            &app,
            &c,
            &format!("/Users/{uid}"),
            json!([
                {"op": "replace", "path": "name.givenName", "value": "Jane"},
                {"op": "replace", "path": "name.familyName", "value": "Doe"},
                {"op": "replace", "path": "displayName", "value": "Jane Doe"},
                {"op": "replace", "path": "externalId", "value": "jc-42"},
                {"op": "replace", "path": "active", "value": false},
            ]),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let g = app.call(&c, "GET", &format!("/Users/{uid}"), None);
        assert_eq!(g.body["name"]["givenName"], "Jane");
        assert_eq!(g.body["name"]["familyName"], "Doe");
        assert_eq!(g.body["displayName"], "Jane Doe");
        assert_eq!(g.body["externalId"], "jc-42");
        assert_eq!(g.body["active"], false);
        assert_eq!(
            g.body["meta"]["version"], "W/\"2\"",
            "one write: {}",
            g.body
        );
    }
}

mod ping {
    use super::*;

    #[test]
    fn ping_bearer_token_is_accepted_in_any_scheme_case() {
        // Ping [PF-set] [P1-feat] (stated): "OAuth 2 Bearer Token" is one of
        // the authentication methods; [P1-conn] (stated): the Auth Type
        // Header can be "Bearer". The scheme name is case-insensitive
        // (RFC 7235 §2.1). An OAuth2 client-credentials token is a Bearer
        // token on the wire: a token issued by the admin API works as one.
        let app = App::new();
        let c = app.provision("acme");
        named_user(&app, &c, "ping@ping.example");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let r = with_auth(&app, &c, "/Users", Some(&format!("{scheme} {}", c.token)));
            assert_eq!(r.status, 200, "{scheme}: {}", r.body);
            assert_eq!(r.body["totalResults"], 1, "{scheme}");
        }
    }

    #[test]
    fn ping_basic_credentials_are_401_scim_error_with_www_authenticate() {
        // Ping [PF-set] [P1-feat] (stated): "Basic Authentication" is
        // offered; [P1-conn] (stated): the Auth Type Header can be Basic or
        // Custom. scim-worker offers no Basic credentials, so such a request
        // must get 401 with a SCIM error and `WWW-Authenticate`.
        let app = App::new();
        let c = app.tenant("acme");
        for auth in [
            "Basic YWRtaW46c2VjcmV0".to_string(),
            format!("Basic {}", c.token),
            format!("Token {}", c.token),
        ] {
            let r = with_auth(&app, &c, "/Users", Some(&auth));
            assert_eq!(r.status, 401, "{auth}: {}", r.body);
            assert_eq!(r.body["schemas"], json!([ERROR]), "{auth}");
            assert_eq!(r.body["status"], "401");
            assert!(content_type(&r).starts_with("application/scim+json"));
            let challenge = r.header("www-authenticate").unwrap_or_default();
            assert!(challenge.starts_with("Bearer"), "{auth}: {challenge:?}");
        }
    }

    #[test]
    fn ping_base_url_with_trailing_slash_routes_doubled_slash_like_users() {
        // Ping [PF-set] [P1-conn] (stated): base URL examples end in a slash
        // (`https://scim-example.com/v2/`), and [P1-tut] [P1-api] (stated):
        // the Users and Groups resources are `/Users` and `/Groups`. Joined,
        // that is `.../v2//Users` (inferred as possible). It must route like
        // `/Users`.
        let app = App::new();
        let c = app.tenant("acme");
        let r = app.call(
            &c,
            "POST",
            "//Users",
            Some(json!({"schemas": [USER], "userName": "slash@ping.example"})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let uid = id(&r.body);
        let r = app.call(
            &c,
            "GET",
            "//Users?filter=userName+eq+%22slash%40ping.example%22",
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(listed_ids(&r), vec![uid.clone()]);
        let r = app.call(
            &c,
            "PUT",
            &format!("//Users/{uid}"),
            Some(json!({"schemas": [USER], "userName": "slash@ping.example", "title": "T"})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["title"], "T");
        let r = app.call(
            &c,
            "POST",
            "//Groups",
            Some(json!({"schemas": [GROUP], "displayName": "Slash", "members": [{"value": uid}]})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let gid = id(&r.body);
        let r = app.call(&c, "GET", "//Groups", None);
        assert_eq!(listed_ids(&r), vec![gid.clone()]);
        assert_eq!(
            app.call(&c, "DELETE", &format!("//Groups/{gid}"), None)
                .status,
            204
        );
        assert_eq!(
            app.call(&c, "DELETE", &format!("//Users/{uid}"), None)
                .status,
            204
        );
    }

    #[test]
    fn ping_filter_attribute_names_and_operators_are_case_insensitive() {
        // Ping [P1-filt] (stated): documented examples `username Eq "%s"`;
        // [P1-api] (stated): the API default is
        // `"USER_FILTER": "username Eq \"%s\""`. Attribute names and
        // operators are case-insensitive (RFC 7644 §3.4.2.2).
        let app = App::new();
        let c = app.tenant("acme");
        let uid = named_user(&app, &c, "Case.Test@ping.example");
        named_user(&app, &c, "other@ping.example");
        for f in [
            "username Eq \"Case.Test@ping.example\"",
            "USERNAME EQ \"case.test@ping.example\"",
            "userName eq \"CASE.TEST@PING.EXAMPLE\"",
        ] {
            let r = filter(&app, &c, "/Users", f);
            assert_eq!(listed_ids(&r), vec![uid.clone()], "{f}");
        }
    }

    #[test]
    fn ping_emails_eq_without_sub_attribute_matches_any_email_value() {
        // Ping [PF-set] (stated): Unique User Identifier `workEmail` "sets
        // ... `emails eq <workEmail_value>`", the complex multi-valued
        // attribute compared directly. It must match any `emails[].value`,
        // case-insensitively.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = id(&create_user(
            &app,
            &c,
            json!({"schemas": [USER], "userName": "jdoe",
                "emails": [{"value": "home@ping.example", "type": "home"},
                           {"value": "J.Doe@Ping.example", "type": "work", "primary": true}]}),
        ));
        named_user(&app, &c, "other");
        for f in [
            "emails eq \"j.doe@ping.example\"",
            "emails eq \"HOME@ping.example\"",
            "emails Eq \"J.Doe@Ping.example\"",
        ] {
            let r = filter(&app, &c, "/Users", f);
            assert_eq!(listed_ids(&r), vec![uid.clone()], "{f}");
        }
        assert_eq!(
            filter(&app, &c, "/Users", "emails eq \"nobody@ping.example\"").body["totalResults"],
            0
        );
    }

    #[test]
    fn ping_unquoted_filter_value_matches_never_500() {
        // Ping [PF-set] (inferred): the docs show `userName eq
        // <userName_value>`, whether the value is quoted on the wire is not
        // documented. An unquoted value must match or be 400 invalidFilter,
        // never 500; scim-worker tolerates it.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = named_user(&app, &c, "unquoted@ping.example");
        let r = app.call(
            &c,
            "GET",
            "/Users?filter=userName+eq+unquoted%40ping.example",
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(listed_ids(&r), [uid]);
        let r = app.call(
            &c,
            "GET",
            "/Users?filter=username+Eq+nobody%40ping.example",
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["totalResults"], 0);
    }

    #[test]
    fn ping_filter_on_an_unknown_attribute_is_400_invalid_filter() {
        // Ping [P1-filt] (stated): the Filter Expression is typed by the
        // admin, e.g. `email Co "%s"`, an attribute that is not in the
        // schema. It must be 400 invalidFilter, never 500 and never an
        // unfiltered list.
        let app = App::new();
        let c = app.tenant("acme");
        named_user(&app, &c, "x@ping.example");
        for f in ["email Co \"x\"", "workEmail eq \"x@ping.example\""] {
            let r = app.call(&c, "GET", &format!("/Users?filter={}", enc(f)), None);
            assert_eq!(r.status, 400, "{f}: {}", r.body);
            assert_eq!(r.body["schemas"], json!([ERROR]));
            assert_eq!(r.body["scimType"], "invalidFilter", "{f}");
            assert!(r.body.get("Resources").is_none());
        }
    }

    #[test]
    fn ping_provision_disabled_users_creates_an_inactive_user() {
        // Ping [PF-main] [PF-mgmt] (stated): "Provision disabled users": a
        // user disabled at the source is created already disabled; that is
        // a `POST /Users` with `"active": false` (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(
            &app,
            &c,
            json!({"schemas": [USER], "userName": "disabled@ping.example", "active": false}),
        );
        let uid = id(&u);
        assert_eq!(u["active"], false);
        assert_eq!(active_column(&app, &uid), 0);
        let g = app.call(&c, "GET", &format!("/Users/{uid}"), None);
        assert_eq!(g.body["active"], false);
        assert_eq!(
            listed_ids(&filter(&app, &c, "/Users", "active eq false")),
            [uid]
        );
    }

    #[test]
    fn ping_full_put_with_active_false_then_true_disables_and_re_enables_same_id() {
        // Ping [PF-lim] [P1-lim] [PF-main] (stated): users are never PATCHed
        // ("PATCH: Users No"); [PF-c42] (stated): "PingFederate can also
        // re-enable disabled users". Disable and re-enable are full PUTs
        // (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        let full = |active: bool| {
            json!({"schemas": [USER, ENT], "userName": "toggle@ping.example",
                "name": {"givenName": "Tog", "familyName": "Gle"},
                "emails": [{"value": "toggle@ping.example", "type": "work", "primary": true}],
                "active": active, ENT: {"employeeNumber": "P-1"}})
        };
        let uid = id(&create_user(&app, &c, full(true)));
        let path = format!("/Users/{uid}");
        let r = app.call(&c, "PUT", &path, Some(full(false)));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["active"], false);
        assert_eq!(active_column(&app, &uid), 0);
        assert_eq!(app.call(&c, "GET", &path, None).body["active"], false);
        let r = app.call(&c, "PUT", &path, Some(full(true)));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], uid.as_str());
        assert_eq!(r.body["active"], true);
        assert_eq!(r.body[ENT]["employeeNumber"], "P-1");
        assert_eq!(active_column(&app, &uid), 1);
    }

    #[test]
    fn ping_put_equal_to_the_stored_user_is_200_and_changes_nothing() {
        // Ping [PF-lim] [PF-main] (stated: PUT is the only user update; "the
        // connector cannot clear a user attribute once it has been set"), so
        // identical PUTs recur (inferred). A PUT whose body equals the stored
        // user answers 200 and changes nothing (a meta.lastModified bump is
        // allowed).
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(
            &app,
            &c,
            json!({"schemas": [USER, ENT], "userName": "same@ping.example", "externalId": "p-9",
                "name": {"givenName": "Sam", "familyName": "E"}, "title": "Eng",
                "emails": [{"value": "same@ping.example", "type": "work", "primary": true}],
                ENT: {"department": "R&D"}}),
        );
        let uid = id(&u);
        let path = format!("/Users/{uid}");
        let before = app.call(&c, "GET", &path, None).body;
        let stored = stored_doc(&app, &uid);
        for _ in 0..2 {
            let r = app.call(&c, "PUT", &path, Some(before.clone()));
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(without_meta(&r.body), without_meta(&before));
        }
        let after = app.call(&c, "GET", &path, None).body;
        assert_eq!(without_meta(&after), without_meta(&before));
        assert_eq!(after["meta"]["created"], before["meta"]["created"]);
        assert_eq!(without_meta(&stored_doc(&app, &uid)), without_meta(&stored));
    }

    #[test]
    fn ping_duplicate_emails_both_primary_are_accepted_with_at_most_one_primary() {
        // Ping [PF-lim] [P1-lim] (stated): "If the target application
        // supports two email attributes and one attribute is empty, the
        // connector populates both attributes with the email address and sets
        // both as 'primary'". Accepted; the response has at most one primary.
        let app = App::new();
        let c = app.tenant("acme");
        for (n, emails) in [
            json!([{"value": "dup@ping.example", "type": "work", "primary": true},
                   {"value": "dup@ping.example", "type": "other", "primary": true}]),
            json!([{"value": "dup@ping.example", "primary": true},
                   {"value": "dup@ping.example", "primary": true}]),
        ]
        .into_iter()
        .enumerate()
        {
            let u = create_user(
                &app,
                &c,
                json!({"schemas": [USER], "userName": format!("dup{n}"), "emails": emails}),
            );
            let uid = id(&u);
            assert!(primaries(&u["emails"]) <= 1, "{u}");
            assert_eq!(u["emails"][0]["value"], "dup@ping.example");
            let g = app.call(&c, "GET", &format!("/Users/{uid}"), None);
            assert!(primaries(&g.body["emails"]) <= 1, "{}", g.body);
            // The same body again as a PUT.
            let r = app.call(
                &c,
                "PUT",
                &format!("/Users/{uid}"),
                Some(json!({"schemas": [USER], "userName": format!("dup{n}"), "emails": emails})),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(primaries(&r.body["emails"]) <= 1, "{}", r.body);
        }
    }

    #[test]
    fn ping_groups_list_without_filter_is_paged_with_an_integer_total() {
        // Ping [PF-main] (stated): "The connector allows group filtering by
        // retrieving all groups and finding a match". `GET /Groups` with no
        // filter lists every group, paged by startIndex and count, with an
        // integer totalResults.
        let app = App::new();
        let c = app.tenant("acme");
        let mut all: Vec<String> = (1..=5)
            .map(|i| new_group(&app, &c, &format!("G{i}"), &[]))
            .collect();
        let r = app.call(&c, "GET", "/Groups", None);
        assert!(r.body["totalResults"].is_u64());
        assert_eq!(r.body["totalResults"], 5);
        let mut paged = Vec::new();
        for start in [1, 3, 5] {
            let r = app.call(
                &c,
                "GET",
                &format!("/Groups?startIndex={start}&count=2"),
                None,
            );
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(r.body["totalResults"].is_u64(), "{}", r.body);
            assert_eq!(r.body["totalResults"], 5);
            assert_eq!(r.body["startIndex"], start);
            let ids = listed_ids(&r);
            assert_eq!(r.body["itemsPerPage"], ids.len());
            assert_eq!(ids.len(), if start == 5 { 1 } else { 2 });
            paged.extend(ids);
        }
        all.sort();
        assert_eq!(sorted(paged), all);
    }

    #[test]
    fn ping_group_lookup_by_percent_encoded_unicode_display_name() {
        // PingOne [P1-lim] (stated: "400 invalid filter when a group's name
        // has a special character in a different language" at one target;
        // inferred that the name goes into a displayName filter as-is).
        let app = App::new();
        let c = app.tenant("acme");
        let gid = new_group(&app, &c, "Ünïcødé & Co", &[]);
        new_group(&app, &c, "Unicode & Co", &[]);
        let r = app.call(
            &c,
            "GET",
            "/Groups?filter=displayName%20eq%20%22%C3%9Cn%C3%AFc%C3%B8d%C3%A9%20%26%20Co%22",
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(listed_ids(&r), vec![gid.clone()]);
        assert_eq!(r.body["Resources"][0]["displayName"], "Ünïcødé & Co");
        let r = filter(&app, &c, "/Groups", "displayName eq \"Ünïcødé & Co\"");
        assert_eq!(listed_ids(&r), [gid]);
    }

    #[test]
    fn ping_group_post_with_only_display_name_and_members_succeeds() {
        // Ping [PF-lim] (stated): "When provisioning groups, only required
        // attributes, such as displayName and members, are supported. Common
        // attributes, such as id and externalID, are not supported".
        let app = App::new();
        let c = app.tenant("acme");
        let a = named_user(&app, &c, "a@ping.example");
        let r = app.call(
            &c,
            "POST",
            "/Groups",
            Some(
                json!({"schemas": [GROUP], "displayName": "Ping Group", "members": [{"value": a}]}),
            ),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let gid = id(&r.body);
        assert!(r.body.get("externalId").is_none());
        assert_eq!(r.body["members"][0]["value"], a.as_str());
        assert_eq!(app.member_ids(&gid), [a]);
    }

    #[test]
    fn ping_ldap_dn_display_name_is_stored_exactly_and_findable() {
        // Ping [P1-api] (stated: `"GROUP_NAME_SOURCE": "Distinguished Name"`)
        // and [PF-src] (stated: user-group DNs); so displayName may be a full
        // DN (inferred): `=`, `,` and spaces stored exactly, found by
        // `displayName eq`.
        let app = App::new();
        let c = app.tenant("acme");
        let dn = "cn=Eng Team,ou=Groups,dc=example,dc=com";
        let gid = new_group(&app, &c, dn, &[]);
        new_group(&app, &c, "cn=Eng Team,ou=Other,dc=example,dc=com", &[]);
        let rows = app.rows(
            "SELECT display_name FROM groups WHERE id = ?",
            vec![gid.as_str().into()],
        );
        assert_eq!(rows[0]["display_name"], dn);
        assert_eq!(
            app.call(&c, "GET", &format!("/Groups/{gid}"), None).body["displayName"],
            dn
        );
        let r = filter(&app, &c, "/Groups", &format!("displayName eq \"{dn}\""));
        assert_eq!(listed_ids(&r), [gid]);
    }

    #[test]
    fn ping_overwrite_replaces_the_whole_member_list_by_patch_or_put() {
        // PingOne [P1-api] [P1-grp] (stated): `GROUP_MEMBERSHIP_HANDLING`
        // "Overwrite": "provisioning overwrites the group and its members";
        // the request is inferred: PATCH replace of `members`, or a PUT.
        let app = App::new();
        let c = app.tenant("acme");
        let [a, b, d, e] =
            ["a", "b", "d", "e"].map(|n| named_user(&app, &c, &format!("{n}@ping.example")));
        let gid = new_group(&app, &c, "Overwritten", &[&a, &b]);
        let path = format!("/Groups/{gid}");
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "replace", "path": "members", "value": [{"value": b}, {"value": d}]}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![b.clone(), d.clone()]));
        let r = app.call(
            &c,
            "PUT",
            &path,
            Some(json!({"schemas": [GROUP], "displayName": "Overwritten", "members": [{"value": e}]})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(app.member_ids(&gid), [e]);
    }

    #[test]
    fn ping_delete_user_and_delete_group_answer_204() {
        // Ping [PF-main] [PF-c42] [P1-api] (stated): Remove User Action
        // "Delete", and groups are deleted; `DELETE /Users/{id}` and
        // `DELETE /Groups/{id}` (inferred). Both 204.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = named_user(&app, &c, "gone@ping.example");
        let gid = new_group(&app, &c, "Gone", &[&uid]);
        let r = app.call(&c, "DELETE", &format!("/Users/{uid}"), None);
        assert_eq!(r.status, 204, "{}", r.body);
        assert!(app.member_ids(&gid).is_empty());
        let r = app.call(&c, "DELETE", &format!("/Groups/{gid}"), None);
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(
            app.call(&c, "GET", &format!("/Users/{uid}"), None).status,
            404
        );
        assert_eq!(
            app.call(&c, "GET", &format!("/Groups/{gid}"), None).status,
            404
        );
    }

    #[test]
    fn ping_configured_extension_is_stored_and_an_unknown_one_is_not_rejected() {
        // PingOne [P1-api] (stated): `SCHEMA_EXTENSION_URNS`, so extension
        // URNs the admin configures appear in `schemas` with their attribute
        // object; [PF-main] (stated): custom schema for Users. A configured
        // extension is stored; an unknown one is ignored, not rejected.
        let app = App::new();
        let c = app.tenant("acme");
        let r = app.admin(
            &app.admin_token(None),
            "PUT",
            "/tenants/acme/schema/attributes/costCode",
            Some(json!({"type": "string"})),
        );
        assert!(r.ok(), "{}", r.body);
        let acme = "urn:acme-vendor:scim:schemas:extension:acme:2:User";
        let unknown = "urn:pingidentity:schemas:custom:2.0:User";
        let u = create_user(
            &app,
            &c,
            json!({"schemas": [USER, acme, unknown], "userName": "ext@ping.example",
                acme: {"costCode": "CC-7"}, unknown: {"region": "EMEA"}}),
        );
        let uid = id(&u);
        assert_eq!(u[acme]["costCode"], "CC-7", "{u}");
        assert!(u.get(unknown).is_none(), "{u}");
        assert_eq!(stored_doc(&app, &uid)[acme]["costCode"], "CC-7");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}"),
            Some(
                json!({"schemas": [USER, acme, unknown], "userName": "ext@ping.example",
                acme: {"costCode": "CC-8"}, unknown: {"region": "APAC"}}),
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body[acme]["costCode"], "CC-8");
        let f = filter(&app, &c, "/Users", &format!("{acme}:costCode eq \"CC-8\""));
        assert_eq!(listed_ids(&f), [uid]);
    }
}

mod google {
    use super::*;

    fn google_user(given: &str, active: bool) -> Value {
        json!({"schemas": [USER], "userName": "pat@workspace.example",
            "name": {"givenName": given, "familyName": "Lee"},
            "emails": [{"value": "pat@workspace.example", "type": "work", "primary": true}],
            "displayName": format!("{given} Lee"), "active": active})
    }

    #[test]
    fn google_users_only_tenant_gets_the_whole_lifecycle_without_groups() {
        // Google Workspace [G-help] (stated): "add, modify, or delete a user
        // ... will be added, modified, or deleted from the third-party
        // application"; [KP-g] [AWS-38] (third-party): Google's SCIM sends no
        // groups. A tenant that only ever sees /Users traffic gets create,
        // update, deactivate, reactivate and delete, with nothing depending
        // on group membership.
        let app = App::new();
        let c = app.tenant("acme");
        let u = create_user(&app, &c, google_user("Pat", true));
        let uid = id(&u);
        let path = format!("/Users/{uid}");
        assert_eq!(u["active"], true);
        assert!(u.get("groups").is_none() || u["groups"] == json!([]), "{u}");
        let r = app.call(&c, "PUT", &path, Some(google_user("Patricia", true)));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"]["givenName"], "Patricia");
        assert_eq!(r.body["active"], true, "no groups does not mean no access");
        let r = app.call(&c, "PUT", &path, Some(google_user("Patricia", false)));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["active"], false);
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "replace", "path": "active", "value": true}]),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["active"], true);
        assert_eq!(r.body["id"], uid.as_str());
        assert_eq!(app.call(&c, "DELETE", &path, None).status, 204);
        assert_eq!(app.call(&c, "GET", &path, None).status, 404);
        assert!(app.rows("SELECT * FROM groups", vec![]).is_empty());
        assert!(app.rows("SELECT * FROM group_members", vec![]).is_empty());
    }

    #[test]
    fn google_the_same_update_every_few_hours_is_200_and_a_no_op() {
        // Google Workspace [G-help] (stated): "Users are synced every few
        // hours"; so the same update arrives again and again (inferred): an
        // identical PUT, or a PATCH replace with the current values. Each
        // answers 200 and changes nothing.
        let app = App::new();
        let c = app.tenant("acme");
        let uid = id(&create_user(&app, &c, google_user("Pat", true)));
        let path = format!("/Users/{uid}");
        let before = app.call(&c, "GET", &path, None).body;
        let stored = without_meta(&stored_doc(&app, &uid));
        for _ in 0..3 {
            let r = app.call(&c, "PUT", &path, Some(google_user("Pat", true)));
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(without_meta(&r.body), without_meta(&before));
            let r = patch(
                &app,
                &c,
                &path,
                json!([
                    {"op": "replace", "path": "name.givenName", "value": "Pat"},
                    {"op": "replace", "path": "active", "value": true},
                    {"op": "replace", "value": {"displayName": "Pat Lee"}},
                ]),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(without_meta(&r.body), without_meta(&before));
        }
        assert_eq!(without_meta(&stored_doc(&app, &uid)), stored);
        let after = app.call(&c, "GET", &path, None).body;
        assert_eq!(after["meta"]["created"], before["meta"]["created"]);
    }

    #[test]
    fn google_deactivation_then_a_delete_days_later_both_succeed() {
        // Google Workspace [G-blog] (stated): admins "specify how many days
        // after a user's Google account is deleted that their third-party
        // application account should be suspended and deleted"; [G-adobe]
        // (low credibility, option labels): "within 24 hours or after one,
        // 7, or 30 days". Deactivation, and the hard DELETE of the
        // already-deactivated user days later, both succeed: DELETE → 204.
        let mut app = App::new();
        let c = app.tenant("acme");
        let uid = id(&create_user(&app, &c, google_user("Pat", true)));
        let path = format!("/Users/{uid}");
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "replace", "path": "active", "value": false}]),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["active"], false);
        app.now += chrono::Duration::days(30);
        assert_eq!(app.call(&c, "GET", &path, None).body["active"], false);
        let r = app.call(&c, "DELETE", &path, None);
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(app.call(&c, "GET", &path, None).status, 404);
        // A second user suspended by PUT and deleted a day later.
        let mut body = google_user("Sam", true);
        body["userName"] = json!("sam@workspace.example");
        let sid = id(&create_user(&app, &c, body.clone()));
        body["active"] = json!(false);
        assert_eq!(
            app.call(&c, "PUT", &format!("/Users/{sid}"), Some(body))
                .status,
            200
        );
        app.now += chrono::Duration::days(1);
        assert_eq!(
            app.call(&c, "DELETE", &format!("/Users/{sid}"), None)
                .status,
            204
        );
    }

    #[test]
    fn google_create_of_an_existing_user_name_is_409_and_the_lookup_finds_it() {
        // Google Workspace [G-help] (stated: periodic sync); the lookup is
        // not documented, so a create for a user who already exists (after
        // a resync) must be 409 uniqueness, letting the client fall back to
        // matching by `userName eq` (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        let uid = id(&create_user(&app, &c, google_user("Pat", true)));
        let r = app.call(&c, "POST", "/Users", Some(google_user("Pat", true)));
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.body["scimType"], "uniqueness");
        let f = filter(&app, &c, "/Users", "userName eq \"pat@workspace.example\"");
        assert_eq!(listed_ids(&f), [uid]);
        assert_eq!(f.body["Resources"][0]["name"]["givenName"], "Pat");
    }

    #[test]
    fn google_reactivation_of_a_suspended_user_keeps_the_same_id() {
        // Google Workspace [G-help] [G-blog] (stated): "When a user is
        // suspended on Google" the app account is suspended; unsuspending
        // reactivates it with the same id (how it is signalled is not
        // documented, so PATCH and PUT).
        let app = App::new();
        let c = app.tenant("acme");
        let uid = id(&create_user(&app, &c, google_user("Pat", true)));
        let path = format!("/Users/{uid}");
        for (off, on) in [
            (
                ops(json!([{"op": "replace", "path": "active", "value": false}])),
                ops(json!([{"op": "replace", "path": "active", "value": true}])),
            ),
            (google_user("Pat", false), google_user("Pat", true)),
        ] {
            let method = if off.get("Operations").is_some() {
                "PATCH"
            } else {
                "PUT"
            };
            let r = app.call(&c, method, &path, Some(off));
            assert_eq!(
                (r.status, &r.body["active"]),
                (200, &json!(false)),
                "{}",
                r.body
            );
            let r = app.call(&c, method, &path, Some(on));
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["id"], uid.as_str());
            assert_eq!(r.body["active"], true);
            assert_eq!(r.body["emails"][0]["value"], "pat@workspace.example");
        }
        assert_eq!(app.rows("SELECT id FROM users", vec![]).len(), 1);
    }
}

mod rippling {
    use super::*;

    #[test]
    fn rippling_bearer_token_is_accepted() {
        // Rippling [WO-rip] [KB-rip] [AD-rip] (third-party): "SCIM
        // Authorization Method" set to "Bearer Token".
        let app = App::new();
        let c = app.tenant("acme");
        let other = app.tenant("other");
        let r = with_auth(&app, &c, "/Users", Some(&format!("Bearer {}", c.token)));
        assert_eq!(r.status, 200, "{}", r.body);
        // Another tenant's token does not open this tenant.
        let r = with_auth(&app, &c, "/Users", Some(&format!("Bearer {}", other.token)));
        assert_eq!(r.status, 401);
    }

    #[test]
    fn rippling_service_provider_config_reports_patch_filter_and_paging() {
        // Rippling [KB-rip] [AD-rip] [WO-rip] (third-party): the admin ticks
        // "Supports Pagination", "Use PATCH to edit Groups" to match the
        // server; ServiceProviderConfig must say patch.supported true and the
        // filter and paging support (Rippling itself does not document
        // reading it).
        let app = App::new();
        let c = app.tenant("acme");
        let r = app.call(&c, "GET", "/ServiceProviderConfig", None);
        assert_eq!(r.status, 200, "{}", r.body);
        let spc = &r.body;
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["filter"]["supported"], true);
        let max = spc["filter"]["maxResults"].as_u64().unwrap();
        assert_eq!(max, app.config.limits.max_results);
        assert_eq!(spc["pagination"]["index"], true);
        assert_eq!(spc["pagination"]["maxPageSize"], max);
        let default = spc["pagination"]["defaultPageSize"].as_u64().unwrap();
        assert!((1..=max).contains(&default), "{spc}");
        // What it says is what lists do.
        for i in 0..3 {
            new_group(&app, &c, &format!("G{i}"), &[]);
        }
        let r = app.call(&c, "GET", "/Groups?startIndex=2&count=1", None);
        assert_eq!(r.body["itemsPerPage"], 1);
        assert_eq!(r.body["totalResults"], 3);
        let r = app.call(&c, "GET", &format!("/Groups?count={}", max + 5), None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["itemsPerPage"], 3);
    }

    #[test]
    fn rippling_lists_without_paging_parameters_return_everything_with_the_full_total() {
        // Rippling [KB-rip] [AD-rip] (third-party): "Supports Pagination" can
        // be off; then lists are read without startIndex/count and expected
        // whole (inferred). `GET /Users` and `GET /Groups` return all, with
        // totalResults equal to the full count.
        let app = App::new();
        let c = app.tenant("acme");
        let users: Vec<String> = (0..12)
            .map(|i| named_user(&app, &c, &format!("u{i}@rippling.example")))
            .collect();
        let groups: Vec<String> = (0..7)
            .map(|i| new_group(&app, &c, &format!("Team {i}"), &[&users[i]]))
            .collect();
        for (endpoint, ids) in [("/Users", &users), ("/Groups", &groups)] {
            let r = app.call(&c, "GET", endpoint, None);
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["totalResults"], ids.len(), "{endpoint}");
            assert_eq!(r.body["itemsPerPage"], ids.len(), "{endpoint}");
            assert_eq!(sorted(listed_ids(&r)), sorted(ids.clone()), "{endpoint}");
        }
    }

    #[test]
    fn rippling_list_without_count_returns_at_least_max_results() {
        // Rippling [KB-rip] [AD-rip] (third-party; inferred meaning of
        // "Supports Pagination" off): without startIndex/count the list must
        // return all resources, or a default page of at least the documented
        // maxResults, with totalResults equal to the full count.
        let app = App::new();
        let c = app.tenant("acme");
        let n = 101;
        for i in 0..n {
            new_group(&app, &c, &format!("Team {i:03}"), &[]);
        }
        let max = app.config.limits.max_results;
        let r = app.call(&c, "GET", "/Groups", None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["totalResults"], n);
        let returned = listed_ids(&r).len() as u64;
        assert!(
            returned == n || returned >= max,
            "{returned} of {n} groups returned without count (maxResults {max})"
        );
        // What /ServiceProviderConfig says of it.
        let spc = app.call(&c, "GET", "/ServiceProviderConfig", None);
        assert_eq!(spc.body["pagination"]["defaultPageSize"], max);
    }

    #[test]
    fn rippling_put_group_with_a_full_member_list_replaces_membership_exactly() {
        // Rippling [KB-rip] [AD-rip] (third-party): "Use PATCH to edit
        // Groups" can be off; then groups are edited by a full
        // `PUT /Groups/{id}` (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        let [a, b, d] =
            ["a", "b", "d"].map(|n| named_user(&app, &c, &format!("{n}@rippling.example")));
        let gid = new_group(&app, &c, "Sales", &[&a, &b]);
        let put = |members: &[&String]| {
            let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
            app.call(
                &c,
                "PUT",
                &format!("/Groups/{gid}"),
                Some(json!({"schemas": [GROUP], "displayName": "Sales", "members": members})),
            )
        };
        let r = put(&[&b, &d]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![b.clone(), d.clone()]));
        let r = put(&[]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(app.member_ids(&gid).is_empty());
        let r = put(&[&a, &b, &d]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![a, b, d]));
    }

    #[test]
    fn rippling_patch_group_adds_and_removes_members() {
        // Rippling [KB-rip] [AD-rip] [WO-rip] (third-party): "Use PATCH to edit
        // Groups" on; PATCH `add` and `remove` on `members` (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        let [a, b] = ["a", "b"].map(|n| named_user(&app, &c, &format!("{n}@rippling.example")));
        let gid = new_group(&app, &c, "Eng", &[]);
        let path = format!("/Groups/{gid}");
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), sorted(vec![a.clone(), b.clone()]));
        let r = patch(
            &app,
            &c,
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
        );
        assert!(r.ok(), "{}", r.body);
        assert_eq!(app.member_ids(&gid), [b]);
    }

    #[test]
    fn rippling_move_between_mutually_exclusive_groups_leaves_the_user_only_in_b() {
        // Rippling [KB-rip] [AD-rip] (third-party): "Mutually Exclusive
        // Groups"; a move is a remove from A and an add to B, two requests in
        // either order (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        for (n, remove_first) in [true, false].into_iter().enumerate() {
            let u = named_user(&app, &c, &format!("mover{n}@rippling.example"));
            let ga = new_group(&app, &c, &format!("A{n}"), &[&u]);
            let gb = new_group(&app, &c, &format!("B{n}"), &[]);
            let remove = || {
                patch(
                    &app,
                    &c,
                    &format!("/Groups/{ga}"),
                    json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}]),
                )
            };
            let add = || {
                patch(
                    &app,
                    &c,
                    &format!("/Groups/{gb}"),
                    json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
                )
            };
            let (first, second) = if remove_first {
                (remove(), add())
            } else {
                (add(), remove())
            };
            assert!(first.ok() && second.ok(), "{} {}", first.body, second.body);
            assert!(app.member_ids(&ga).is_empty());
            assert_eq!(app.member_ids(&gb), vec![u.clone()]);
            let g = app.call(&c, "GET", &format!("/Users/{u}"), None);
            let groups = g.body["groups"].as_array().unwrap();
            assert_eq!(groups.len(), 1, "{}", g.body);
            assert_eq!(groups[0]["value"], gb.as_str());
        }
    }

    #[test]
    fn rippling_create_and_delete_groups() {
        // Rippling [KB-rip] [AD-rip] [WO-rip] (third-party): "Create & Delete
        // Groups" enables `POST /Groups` and `DELETE /Groups/{id}` (inferred).
        let app = App::new();
        let c = app.tenant("acme");
        let u = named_user(&app, &c, "m@rippling.example");
        let gid = new_group(&app, &c, "Temporary", &[&u]);
        assert_eq!(app.member_ids(&gid), vec![u.clone()]);
        let r = app.call(&c, "DELETE", &format!("/Groups/{gid}"), None);
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(
            app.call(&c, "GET", &format!("/Groups/{gid}"), None).status,
            404
        );
        assert_eq!(app.call(&c, "GET", "/Groups", None).body["totalResults"], 0);
        assert!(app.member_ids(&gid).is_empty());
        let g = app.call(&c, "GET", &format!("/Users/{u}"), None);
        assert_eq!(g.status, 200, "the member stays");
        assert!(
            g.body.get("groups").is_none() || g.body["groups"] == json!([]),
            "{}",
            g.body
        );
        // The name is free again.
        new_group(&app, &c, "Temporary", &[]);
    }

    #[test]
    fn rippling_employee_number_and_external_id_round_trip_on_post_and_put() {
        // Rippling [WO-rip] [KB-rip] (third-party): "Supported SCIM
        // Attributes" include `externalId` and `employeeNumber` (enterprise
        // extension), sent "On user creation and updates".
        let app = App::new();
        let c = app.tenant("acme");
        let body = |ext: &str, num: &str| {
            json!({"schemas": [USER, ENT], "userName": "emp@rippling.example", "externalId": ext,
                "name": {"givenName": "Em", "familyName": "Ployee"},
                "emails": [{"value": "emp@rippling.example", "primary": true}],
                ENT: {"employeeNumber": num}})
        };
        let u = create_user(&app, &c, body("rip-1", "1001"));
        let uid = id(&u);
        assert_eq!(u["externalId"], "rip-1");
        assert_eq!(u[ENT]["employeeNumber"], "1001");
        let g = app.call(&c, "GET", &format!("/Users/{uid}"), None);
        assert_eq!(g.body["externalId"], "rip-1");
        assert_eq!(g.body[ENT]["employeeNumber"], "1001");
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}"),
            Some(body("rip-2", "2002")),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["externalId"], "rip-2");
        assert_eq!(r.body[ENT]["employeeNumber"], "2002");
        let f = filter(&app, &c, "/Users", "externalId eq \"rip-2\"");
        assert_eq!(listed_ids(&f), vec![uid.clone()]);
        let f = filter(
            &app,
            &c,
            "/Users",
            &format!("{ENT}:employeeNumber eq \"2002\""),
        );
        assert_eq!(listed_ids(&f), [uid]);
    }

    #[test]
    fn rippling_user_name_equal_to_email_changes_together_on_the_same_user() {
        // Rippling [AD-rip] (third-party): "Use email address as user name"
        // and "Update application user name on: 'User Management via SCIM'".
        // userName equal to the primary email is accepted, and a later change
        // of both together updates the same user.
        let app = App::new();
        let c = app.tenant("acme");
        let body = |email: &str| {
            json!({"schemas": [USER], "userName": email,
                "emails": [{"value": email, "type": "work", "primary": true}]})
        };
        let uid = id(&create_user(&app, &c, body("old.name@rippling.example")));
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{uid}"),
            Some(body("new.name@rippling.example")),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], uid.as_str());
        assert_eq!(r.body["userName"], "new.name@rippling.example");
        assert_eq!(r.body["emails"][0]["value"], "new.name@rippling.example");
        let f = filter(
            &app,
            &c,
            "/Users",
            "userName eq \"new.name@rippling.example\"",
        );
        assert_eq!(listed_ids(&f), vec![uid.clone()]);
        let f = filter(
            &app,
            &c,
            "/Users",
            "emails.value eq \"new.name@rippling.example\"",
        );
        assert_eq!(listed_ids(&f), vec![uid.clone()]);
        assert_eq!(
            filter(
                &app,
                &c,
                "/Users",
                "userName eq \"old.name@rippling.example\""
            )
            .body["totalResults"],
            0
        );
        assert_eq!(
            filter(
                &app,
                &c,
                "/Users",
                "emails.value eq \"old.name@rippling.example\""
            )
            .body["totalResults"],
            0
        );
        // And by PATCH, both at once.
        let r = patch(
            &app,
            &c,
            &format!("/Users/{uid}"),
            json!([
                {"op": "replace", "path": "userName", "value": "third@rippling.example"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "third@rippling.example"},
            ]),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["userName"], "third@rippling.example");
        assert_eq!(
            r.body["emails"],
            json!([{"value": "third@rippling.example", "type": "work", "primary": true}])
        );
        assert_eq!(app.rows("SELECT id FROM users", vec![]).len(), 1);
    }
}
