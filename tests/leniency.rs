//! Issue 13: accept what real identity providers send. One test per
//! behaviour the issue lists, through the whole service over real SQLite:
//! loose input in, clean data stored, every leniency in the request's log
//! line. The IdP-specific behaviours (OneLogin, JumpCloud, Ping, Google,
//! Rippling) are in `tests/other_idps.rs`.

use scim_worker::testing::{
    patch_ops as ops,
    urn::{ENTERPRISE as ENT, GROUP, USER},
    App, Creds, Reply,
};
use serde_json::{json, Value};

/// The custom extension of tenant `acme` in these tests.
const ACME: &str = "urn:acme-vendor:scim:schemas:extension:acme:2:User";

fn create(app: &App, c: &Creds, body: Value) -> Value {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn stored_doc(app: &App, id: &str) -> Value {
    let rows = app.rows("SELECT doc FROM users WHERE id = ?", vec![id.into()]);
    serde_json::from_str(rows[0]["doc"].as_str().unwrap()).unwrap()
}

/// The leniencies of the log lines written so far, as (kind, name).
fn leniencies(app: &App) -> Vec<(String, String)> {
    app.log
        .lines()
        .iter()
        .filter(|l| l["message"] == "accepted with leniency")
        .flat_map(|l| l["leniencies"].as_array().cloned().unwrap_or_default())
        .map(|n| {
            let name = n["name"].as_str().map(str::to_owned);
            let name = name.unwrap_or_else(|| n["skipped"].to_string());
            (n["kind"].as_str().unwrap_or_default().to_owned(), name)
        })
        .collect()
}

fn list(app: &App, c: &Creds, query: &str) -> Reply {
    let r = app.call(c, "GET", &format!("/Users?{query}"), None);
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn user_names(r: &Reply) -> Vec<String> {
    r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect()
}

/// The id of the user named `name`, looked up as IdPs do.
fn user_id(app: &App, c: &Creds, name: &str) -> String {
    id(&list(
        app,
        c,
        &format!("filter={}", enc(&format!("userName eq \"{name}\""))),
    )
    .body["Resources"][0])
}

/// A tenant with a custom `badge` attribute and two users with Enterprise
/// attributes.
fn directory(app: &App) -> Creds {
    let c = app.tenant("acme");
    let r = app.admin(
        &app.admin_token(None),
        "PUT",
        "/tenants/acme/schema/attributes/badge",
        Some(json!({"type": "string"})),
    );
    assert!(r.ok(), "{}", r.body);
    create(
        app,
        &c,
        json!({"schemas": [USER, ENT, ACME], "userName": "ann", "title": "Engineer",
            ENT: {"employeeNumber": "E1", "costCenter": "CC-1"}, ACME: {"badge": "b-1"},
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}, {"value": "+1 555 0199", "type": "mobile"}]}),
    );
    create(
        app,
        &c,
        json!({"schemas": [USER, ENT], "userName": "bob", "title": "Barista",
            ENT: {"employeeNumber": "E2", "costCenter": "CC-2"}}),
    );
    c
}

#[test]
fn unknown_attributes_are_ignored_not_stored_and_logged_in_post_put_and_pathless_patch() {
    // Issue 13: "a misspelled `phoneNumbrs`, an attribute the tenant never
    // defined: ignored, not stored, the request succeeds", the ignored
    // names in the request's log line (names only, never values).
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(
        &app,
        &c,
        json!({"schemas": [USER, "urn:other:product:2.0:User"], "userName": "ann",
            "phoneNumbrs": [{"value": "secret-555"}], "name": {"givenName": "Ann", "middle": "x"},
            ENT: {"shoeSize": 9}, "urn:other:product:2.0:User": {"plan": "gold"}}),
    );
    let uid = id(&u);
    assert_eq!(u["name"], json!({"givenName": "Ann"}));
    assert!(
        u.get("phoneNumbrs").is_none() && u.get(ENT).is_none(),
        "{u}"
    );
    assert_eq!(u["schemas"], json!([USER]));
    let stored = stored_doc(&app, &uid);
    assert!(
        stored.get("phoneNumbrs").is_none() && stored.get(ENT).is_none(),
        "{stored}"
    );
    // Each name once, in the order met (`schemas` first).
    let shoe = format!("{ENT}:shoeSize");
    let expected = [
        ("unknownSchema", "urn:other:product:2.0:User"),
        ("unknownAttribute", "phoneNumbrs"),
        ("unknownAttribute", "name.middle"),
        ("unknownAttribute", shoe.as_str()),
    ];
    let seen = leniencies(&app);
    let seen: Vec<(&str, &str)> = seen.iter().map(|(k, n)| (k.as_str(), n.as_str())).collect();
    assert_eq!(seen, expected);
    assert!(!app.log.text().contains("secret-555"), "no value is logged");

    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{uid}"),
        Some(json!({"schemas": [USER], "userName": "ann", "nickNmae": "A"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("nickNmae").is_none());
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{uid}"),
        Some(ops(
            json!([{"op": "replace", "value": {"title": "CTO", "favouriteColour": "red"}}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "CTO");
    assert!(stored_doc(&app, &uid).get("favouriteColour").is_none());
    let seen = leniencies(&app);
    assert!(seen.contains(&("unknownAttribute".into(), "nickNmae".into())));
    assert!(seen.contains(&("unknownAttribute".into(), "favouriteColour".into())));
}

#[test]
fn unknown_attributes_reject_setting_answers_400_and_changes_nothing() {
    // Issue 13: tenant setting `unknownAttributes: "reject"` is today's 400.
    let app = App::new();
    let c = app.tenant("acme");
    let uid = id(&create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "ann"}),
    ));
    let before = stored_doc(&app, &uid);
    app.settings("acme", json!({"unknownAttributes": "reject"}));
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob", "phoneNumbrs": []})),
    );
    // An empty value of an unknown attribute assigns nothing: no error.
    assert_eq!(r.status, 201, "{}", r.body);
    for (method, path, body) in [
        (
            "POST",
            "/Users".to_string(),
            json!({"schemas": [USER], "userName": "carl", "phoneNumbrs": [{"value": "1"}]}),
        ),
        (
            "POST",
            "/Users".to_string(),
            json!({"schemas": [USER, "urn:other:product:2.0:User"], "userName": "dan"}),
        ),
        (
            "PUT",
            format!("/Users/{uid}"),
            json!({"schemas": [USER], "userName": "ann", "name": {"middle": "x"}}),
        ),
        (
            "PATCH",
            format!("/Users/{uid}"),
            ops(json!([{"op": "add", "value": {"nickName": "A", "favouriteColour": "red"}}])),
        ),
        (
            "PATCH",
            format!("/Users/{uid}"),
            ops(json!([{"op": "add", "path": "favouriteColour", "value": "red"}])),
        ),
    ] {
        let r = app.call(&c, method, &path, Some(body.clone()));
        assert_eq!(r.status, 400, "{method} {body}: {}", r.body);
        assert!(
            ["invalidValue", "invalidPath"].contains(&r.body["scimType"].as_str().unwrap()),
            "{}",
            r.body
        );
    }
    assert_eq!(stored_doc(&app, &uid), before);
    let n = app.rows("SELECT count(*) AS n FROM users", vec![])[0]["n"].clone();
    assert_eq!(n, 2, "ann and bob only");
    // And back to the default.
    app.settings("acme", json!({"unknownAttributes": "ignore"}));
    create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "carl", "phoneNumbrs": [{"value": "1"}]}),
    );
}

#[test]
fn null_empty_array_and_empty_object_are_unassigned_and_never_returned() {
    // RFC 7643 §2.5: "Unassigned attributes, the null value, or empty array
    // (in the case of a multi-valued attribute) SHALL be considered to be
    // equivalent in state"; RFC 7644 §3.5.2.3: replace with null removes.
    let app = App::new();
    let c = app.tenant("acme");
    let u = create(
        &app,
        &c,
        json!({"schemas": [USER, ENT], "userName": "ann", "title": null, "nickName": {},
            "emails": [], "name": {}, "addresses": [{}], "locale": [],
            "phoneNumbrs": null, "unknownObject": {}, ENT: {"department": null, "manager": {}}}),
    );
    let uid = id(&u);
    for k in [
        "title",
        "nickName",
        "emails",
        "name",
        "addresses",
        "locale",
        ENT,
    ] {
        assert!(u.get(k).is_none(), "{k}: {u}");
    }
    assert!(!u.to_string().contains("null"), "{u}");
    // Nothing unknown was stored or even noted: an empty value says nothing.
    assert!(leniencies(&app).is_empty(), "{:?}", leniencies(&app));
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{uid}"),
        Some(ops(
            json!([{"op": "add", "value": {"title": "CTO", "nickName": "A"}}]),
        )),
    );
    assert_eq!(r.body["title"], "CTO");
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{uid}"),
        Some(ops(json!([
            {"op": "replace", "path": "title", "value": null},
            {"op": "replace", "value": {"nickName": {}}}
        ]))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.get("title").is_none() && r.body.get("nickName").is_none(),
        "{}",
        r.body
    );
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{uid}"),
        Some(json!({"schemas": [USER], "userName": "ann", "displayName": null, "emails": [null]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("null"), "{}", r.body);
    assert!(!stored_doc(&app, &uid).to_string().contains("null"));
}

#[test]
fn extension_attributes_without_their_urn_resolve_wherever_a_path_is_accepted() {
    // Issue 13: filters, sortBy, attributes/excludedAttributes, PATCH paths,
    // path-less PATCH keys and top-level body keys: the core schema first,
    // then the resource type's extensions.
    let app = App::new();
    let c = directory(&app);
    let r = list(
        &app,
        &c,
        &format!("filter={}", enc("employeeNumber eq \"E1\"")),
    );
    assert_eq!(user_names(&r), ["ann"]);
    let r = list(&app, &c, &format!("filter={}", enc("badge eq \"b-1\"")));
    assert_eq!(user_names(&r), ["ann"]);
    let r = list(&app, &c, "sortBy=employeeNumber&sortOrder=descending");
    assert_eq!(user_names(&r), ["bob", "ann"]);
    let r = list(&app, &c, "attributes=employeeNumber,badge");
    let ann = &r.body["Resources"][0];
    assert_eq!(ann[ENT], json!({"employeeNumber": "E1"}), "{ann}");
    assert_eq!(ann[ACME], json!({"badge": "b-1"}), "{ann}");
    assert!(ann.get("userName").is_none());
    let r = list(&app, &c, "excludedAttributes=costCenter");
    assert_eq!(r.body["Resources"][0][ENT], json!({"employeeNumber": "E1"}));

    // Top-level keys of a POST body; a PATCH path; a path-less PATCH key.
    let u = create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "carl", "department": "Sales", "badge": "b-3"}),
    );
    assert_eq!(u[ENT], json!({"department": "Sales"}));
    assert_eq!(u[ACME], json!({"badge": "b-3"}));
    assert_eq!(u["schemas"], json!([USER, ENT, ACME]));
    let uid = id(&u);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{uid}"),
        Some(ops(json!([
            {"op": "replace", "path": "department", "value": "Ops"},
            {"op": "add", "value": {"division": "EMEA", "badge": "b-4"}}
        ]))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body[ENT],
        json!({"department": "Ops", "division": "EMEA"})
    );
    assert_eq!(r.body[ACME], json!({"badge": "b-4"}));
    assert!(
        leniencies(&app).is_empty(),
        "nothing unknown: {:?}",
        leniencies(&app)
    );
}

#[test]
fn a_name_two_extensions_define_is_400_naming_both_urns() {
    // Issue 13: "a name found in two extensions is 400
    // `invalidPath`/`invalidFilter` naming both URNs"; the core schema
    // wins over any extension.
    let app = App::new();
    let c = directory(&app);
    let r = app.admin(
        &app.admin_token(None),
        "PUT",
        "/tenants/acme/schema/attributes/costCenter",
        Some(json!({"type": "string"})),
    );
    assert!(r.ok(), "{}", r.body);
    let both = |r: &Reply| {
        let d = r.body["detail"].as_str().unwrap_or_default();
        d.contains(ENT) && d.contains(ACME)
    };
    let r = app.call(
        &c,
        "GET",
        &format!("/Users?filter={}", enc("costCenter eq \"CC-1\"")),
        None,
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidFilter"))
    );
    assert!(both(&r), "{}", r.body);
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "carl", "costCenter": "x"})),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidPath"))
    );
    assert!(both(&r), "{}", r.body);
    let ann =
        id(&list(&app, &c, &format!("filter={}", enc("userName eq \"ann\""))).body["Resources"][0]);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{ann}"),
        Some(ops(
            json!([{"op": "replace", "path": "costCenter", "value": "x"}]),
        )),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidPath"))
    );
    assert!(both(&r), "{}", r.body);
    // Qualified, each is its own.
    let r = list(
        &app,
        &c,
        &format!("filter={}", enc(&format!("{ENT}:costCenter eq \"CC-1\""))),
    );
    assert_eq!(user_names(&r), ["ann"]);
    // A core name is never ambiguous: `title` is core User's.
    let r = list(
        &app,
        &c,
        &format!("filter={}", enc("title eq \"Engineer\"")),
    );
    assert_eq!(user_names(&r), ["ann"]);
}

#[test]
fn extension_attributes_under_a_urn_missing_from_schemas_are_stored_and_listed() {
    // Issue 13 and idp-behaviour.md (Entra): custom extension attributes
    // arrive under their URN key without the URN in `schemas`.
    let app = App::new();
    let c = directory(&app);
    let u = create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "carl", ENT: {"department": "Sales"}, ACME: {"badge": "b-3"}}),
    );
    assert_eq!(u["schemas"], json!([USER, ENT, ACME]));
    let stored = stored_doc(&app, &id(&u));
    assert_eq!(stored[ENT]["department"], "Sales");
    assert_eq!(stored[ACME]["badge"], "b-3");
    let got = app.call(&c, "GET", &format!("/Users/{}", id(&u)), None);
    assert_eq!(got.body["schemas"], json!([USER, ENT, ACME]));
}

#[test]
fn unquoted_filter_values_are_strings_unless_true_false_null_or_a_number() {
    // Issue 13: `displayName sw Bar`, `title eq Engineer`.
    let app = App::new();
    let c = directory(&app);
    let r = list(&app, &c, &format!("filter={}", enc("title eq Engineer")));
    assert_eq!(user_names(&r), ["ann"]);
    let r = list(&app, &c, &format!("filter={}", enc("title sw Bar")));
    assert_eq!(user_names(&r), ["bob"]);
    let r = list(
        &app,
        &c,
        &format!("filter={}", enc("userName eq ann and active eq true")),
    );
    assert_eq!(user_names(&r), ["ann"]);
    // An unquoted number is a number, and a string attribute is compared
    // with strings only: 400, as with any number.
    let r = app.call(
        &c,
        "GET",
        &format!("/Users?filter={}", enc("title eq 7")),
        None,
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidFilter"))
    );
    // The grammar stays strict: a dangling operator is still 400.
    let r = app.call(
        &c,
        "GET",
        &format!("/Users?filter={}", enc("title eq")),
        None,
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidFilter"))
    );
}

#[test]
fn datetime_filters_take_fractional_seconds_of_any_length_and_any_offset() {
    // Issue 13: `meta.lastModified ge 2024-03-01T08:00:00.1234567+02:00`
    // (the seven digits .NET writes).
    let app = App::new();
    let c = directory(&app);
    let created = list(&app, &c, "filter=userName+eq+%22ann%22").body["Resources"][0]["meta"]
        ["created"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = chrono::DateTime::parse_from_rfc3339(&created).unwrap();
    let later = (t + chrono::Duration::hours(1))
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap());
    let earlier = (t - chrono::Duration::hours(1))
        .with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).unwrap());
    let seven = |d: chrono::DateTime<chrono::FixedOffset>| {
        d.format("%Y-%m-%dT%H:%M:%S%.f").to_string() + "1234" + &d.format("%:z").to_string()
    };
    for (f, n) in [
        (format!("meta.lastModified ge {}", seven(earlier)), 2),
        (format!("meta.lastModified gt \"{}\"", seven(later)), 0),
        (format!("meta.created lt {}", seven(later)), 2),
        (
            format!("meta.created le {}", earlier.format("%Y-%m-%dT%H:%M:%S%:z")),
            0,
        ),
    ] {
        let r = list(&app, &c, &format!("filter={}", enc(&f)));
        assert_eq!(r.body["totalResults"], n, "{f}: {}", r.body);
    }
    // A dateTime the client stored (here a custom attribute, written with
    // an offset) is compared as the instant it names, not as text.
    let r = app.admin(
        &app.admin_token(None),
        "PUT",
        "/tenants/acme/schema/attributes/hired",
        Some(json!({"type": "dateTime"})),
    );
    assert!(r.ok(), "{}", r.body);
    create(
        &app,
        &c,
        json!({"schemas": [USER, ACME], "userName": "carl", ACME: {"hired": "2026-03-01T11:00:00+01:00"}}),
    );
    for (f, n) in [
        ("hired eq \"2026-03-01T10:00:00Z\"", 1),
        ("hired eq 2026-03-01T12:00:00.0000000+02:00", 1),
        ("hired gt \"2026-03-01T10:30:00+01:00\"", 1),
        ("hired lt \"2026-03-01T10:00:00.0000001Z\"", 1),
        ("hired gt \"2026-03-01T10:00:00.0000001Z\"", 0),
        // Only the two users without the attribute.
        ("hired ne \"2026-03-01T10:00:00Z\"", 2),
    ] {
        let r = list(&app, &c, &format!("filter={}", enc(f)));
        assert_eq!(r.body["totalResults"], n, "{f}: {}", r.body);
    }
}

#[test]
fn filter_operators_and_attribute_names_match_in_any_case() {
    // RFC 7644 §3.4.2.2: "Attribute names and attribute operators used in
    // filters are case insensitive"; Ping sends `username Eq "x"`.
    let app = App::new();
    let c = directory(&app);
    for f in [
        "USERNAME EQ \"ann\"",
        "userName Eq \"ANN\"",
        "Title SW \"eng\" AND EMPLOYEENUMBER eq \"E1\"",
        "name.GIVENNAME pr OR userName eq \"ann\"",
        "PHONENUMBERS[TYPE EQ \"mobile\"]",
    ] {
        let r = list(&app, &c, &format!("filter={}", enc(f)));
        assert_eq!(user_names(&r), ["ann"], "{f}");
    }
}

#[test]
fn attributes_with_value_filters_return_only_the_matching_elements() {
    // Issue 13: `attributes=phoneNumbers[type eq "mobile"]` and
    // `phoneNumbers[type eq "mobile"].value`, with id, schemas and meta as
    // always (RFC 7644 §3.4.2.5, RFC 7643 §2.4).
    let app = App::new();
    let c = directory(&app);
    let ann = user_id(&app, &c, "ann");
    let get = |q: &str| {
        let r = app.call(&c, "GET", &format!("/Users/{ann}?{q}"), None);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        r.body
    };
    let u = get(&format!(
        "attributes={}",
        enc("phoneNumbers[type eq \"mobile\"]")
    ));
    assert_eq!(
        u["phoneNumbers"],
        json!([{"value": "+1 555 0199", "type": "mobile"}])
    );
    assert!(u.get("userName").is_none());
    // id and schemas are returned always; meta's sub-attributes are
    // "returned" "default" (RFC 7643 §3.1), so meta comes only when asked.
    assert!(u["id"].is_string() && u["schemas"].is_array(), "{u}");
    assert!(u.get("meta").is_none(), "{u}");
    let u = get(&format!(
        "attributes={}",
        enc("phoneNumbers[type eq \"mobile\"].value,userName")
    ));
    assert_eq!(u["phoneNumbers"], json!([{"value": "+1 555 0199"}]));
    assert_eq!(u["userName"], "ann");
    // Nothing matches: the attribute is left out.
    let u = get(&format!(
        "attributes={}",
        enc("phoneNumbers[type eq \"fax\"]")
    ));
    assert!(u.get("phoneNumbers").is_none(), "{u}");
    // Excluding the matching elements keeps the others.
    let u = get(&format!(
        "excludedAttributes={}",
        enc("phoneNumbers[type eq \"mobile\"]")
    ));
    assert_eq!(
        u["phoneNumbers"],
        json!([{"value": "+1 555 0100", "type": "work"}])
    );
    // In lists too.
    let r = list(
        &app,
        &c,
        &format!("attributes={}", enc("phoneNumbers[type eq \"work\"].value")),
    );
    assert_eq!(
        r.body["Resources"][0]["phoneNumbers"],
        json!([{"value": "+1 555 0100"}])
    );
}

#[test]
fn endpoint_names_match_in_any_case() {
    // Issue 13: `/users`, `/Users/{id}`, `/groups`, `/schemas`,
    // `/resourcetypes`, `/serviceproviderconfig`, `/bulk`, `/.search`.
    let app = App::new();
    let c = directory(&app);
    let ann = user_id(&app, &c, "ann");
    for path in [
        "/users".to_string(),
        "/USERS?filter=userName+eq+%22ann%22".to_string(),
        format!("/users/{ann}"),
        "/groups".to_string(),
        "/schemas".to_string(),
        format!("/schemas/{USER}"),
        "/resourcetypes".to_string(),
        "/resourcetypes/User".to_string(),
        "/serviceproviderconfig".to_string(),
        "/ServiceProviderconfig".to_string(),
    ] {
        let r = app.call(&c, "GET", &path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"ann\""});
    for path in ["/.SEARCH", "/users/.Search", "/Users/.search"] {
        let r = app.call(&c, "POST", path, Some(search.clone()));
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.body["totalResults"], 1, "{path}");
    }
    let r = app.call(
        &c,
        "POST",
        "/bulk",
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{"method": "POST", "path": "/groups", "bulkId": "g", "data": {"schemas": [GROUP], "displayName": "G"}},
                           {"method": "GET", "path": format!("/users/{ann}")}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["Operations"][0]["status"], "201", "{}", r.body);
    // An id is not an endpoint name: ids keep their case.
    let r = app.call(&c, "GET", &format!("/Users/{}", ann.to_uppercase()), None);
    assert_eq!(r.status, 404);
}

#[test]
fn group_members_arrive_as_bare_ids_arrays_of_ids_or_objects() {
    // Issue 13: `value` as a bare id string, an array of id strings, or
    // objects, in PATCH and in POST/PUT of a group.
    let app = App::new();
    let c = directory(&app);
    let r = list(&app, &c, "sortBy=userName");
    let mut ids: Vec<String> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    let (ann, bob) = (&ids[0].clone(), &ids[1].clone());
    ids.sort();
    let members = |gid: &str| app.member_ids(gid);
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "G", "members": [ann]})),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = id(&g.body);
    assert_eq!(members(&gid), [ann.as_str()]);
    assert_eq!(g.body["members"][0]["value"], json!(ann));
    let path = format!("/Groups/{gid}");
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(json!([{"op": "add", "path": "members", "value": bob}]))),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(members(&gid), ids.clone());
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "remove", "path": "members", "value": [ann, bob]}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(members(&gid).is_empty());
    let r = app.call(
        &c,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "add", "value": {"members": [ann, {"value": bob}]}}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(members(&gid), ids.clone());
    let r = app.call(
        &c,
        "PUT",
        &path,
        Some(json!({"schemas": [GROUP], "displayName": "G", "members": bob})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(members(&gid), [bob.as_str()]);
}

#[test]
fn unknown_members_are_skipped_and_logged_by_default_and_refused_under_reject() {
    // Issue 13 and seed Kissflow (Okta group push): "only those members of
    // the group who are already a part of Kissflow will be assigned".
    let app = App::new();
    let c = directory(&app);
    let ann = user_id(&app, &c, "ann");
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": ann}, {"value": "ghost-1"}]})),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(g.body["members"].as_array().unwrap().len(), 1, "{}", g.body);
    let gid = id(&g.body);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(ops(
            json!([{"op": "add", "path": "members", "value": [{"value": "ghost-2"}]}]),
        )),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": "ghost-3"}, {"value": ann}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = app.rows("SELECT member_id FROM group_members", vec![]);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["member_id"], json!(ann));
    let skipped: Vec<String> = leniencies(&app)
        .into_iter()
        .filter(|(k, _)| k == "unknownMembers")
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        skipped,
        [r#"["ghost-1"]"#, r#"["ghost-2"]"#, r#"["ghost-3"]"#]
    );

    app.settings("acme", json!({"unknownMembers": "reject"}));
    let r = app.call(
        &c,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [GROUP], "displayName": "Renamed", "members": [{"value": "ghost-4"}]})),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    assert!(r.body["detail"].as_str().unwrap().contains("ghost-4"));
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["displayName"], "G", "nothing changed");
    assert_eq!(g.body["members"][0]["value"], json!(ann));
}

#[test]
fn tenant_settings_are_validated_and_shown_by_the_admin_api() {
    // Issue 13: the two settings, `unknownAttributes` and `unknownMembers`,
    // with their defaults; a bad value changes nothing.
    let app = App::new();
    let admin = app.admin_token(None);
    let r = app.admin(
        &admin,
        "POST",
        "/tenants",
        Some(json!({"id": "acme", "name": "Acme"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["settings"]["unknownAttributes"], "ignore");
    assert_eq!(r.body["settings"]["unknownMembers"], "skip");
    for bad in [
        json!({"unknownAttributes": "drop"}),
        json!({"unknownMembers": true}),
        json!({"unknownMember": "reject"}),
    ] {
        let r = app.admin(
            &admin,
            "PATCH",
            "/tenants/acme",
            Some(json!({"settings": bad})),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let r = app.admin(
        &admin,
        "PATCH",
        "/tenants/acme",
        Some(json!({"settings": {"unknownMembers": "reject"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.admin(&admin, "GET", "/tenants/acme", None);
    // The admin OpenAPI document describes every setting a tenant has, with
    // the values the API takes.
    let doc = app.request(scim_worker::Request::new(
        scim_worker::Method::Get,
        "/admin/v1/openapi.json",
    ));
    let documented = &doc.body["components"]["schemas"]["Settings"]["properties"];
    for (name, value) in r.body["settings"].as_object().unwrap() {
        let setting = &documented[name];
        let allowed = match setting["enum"].as_array() {
            Some(choices) => choices.contains(value),
            None if setting["type"] == "array" => {
                let choices = setting["items"]["enum"].as_array().unwrap();
                value
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|v| choices.contains(v))
            }
            None => {
                let range =
                    setting["minimum"].as_i64().unwrap()..=setting["maximum"].as_i64().unwrap();
                setting["type"] == "integer" && value.as_i64().is_some_and(|v| range.contains(&v))
            }
        };
        assert!(allowed, "{name}: {documented}");
    }
    for (name, choices) in [
        ("unknownAttributes", json!(["ignore", "reject"])),
        ("unknownMembers", json!(["skip", "reject"])),
    ] {
        assert_eq!(documented[name]["enum"], choices);
    }
    assert_eq!(
        r.body["settings"],
        json!({"deletePolicy": "retain", "unknownAttributes": "ignore", "unknownMembers": "reject",
               "eventRetentionDays": 30, "requestLog": "writes-and-errors", "requestLogRetentionDays": 7,
               "authentication": ["token"]})
    );
}

/// A PATCH made again (here: from the isolate's copy of a user another
/// request changed meanwhile, so its first batch aborts) logs its
/// leniencies once, for the attempt that was made.
#[test]
fn a_write_made_again_logs_its_leniencies_once() {
    let app = App::new();
    let c = app.tenant("acme");
    let uid = app.named_user(&c, "ann");
    // Another isolate's write: this isolate's copy of ann is stale.
    app.rows(
        "UPDATE users SET doc = json_set(doc, '$.title', 'CFO'), version = version + 1 WHERE id = ?1",
        vec![uid.clone().into()],
    );
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{uid}"),
        Some(ops(
            json!([{"op": "replace", "value": {"nickNmae": "A", "active": false}}]),
        )),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["title"].as_str(), r.body["active"].as_bool()),
        (Some("CFO"), Some(false))
    );
    let seen = leniencies(&app);
    assert_eq!(
        seen,
        vec![("unknownAttribute".to_owned(), "nickNmae".to_owned())]
    );
}
