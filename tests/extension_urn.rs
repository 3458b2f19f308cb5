//! Each tenant's own extension URN ("Accept what real identity providers
//! send"): set, read and reset through the admin API, validated, matched in
//! any case, and moved with the users' values when it changes; through the
//! whole service over real SQLite.

use std::cell::RefCell;
use std::path::Path;

use scim_worker::testing::{
    urn::{PATCH_OP, USER},
    App, Creds, Reply, SqliteExecutor,
};
use scim_worker::{Method, Request};
use scim_worker::{Row, SqlExecutor, Stmt, StoreError, Written};
use serde_json::{json, Value};

/// Kissflow's account ids are mixed-case.
const KISSFLOW: &str = "urn:kissflow:scim:schemas:extension:Ab3xYz9Q:2:User";
/// Microsoft's guide for Entra ID custom attributes.
const MICROSOFT: &str = "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User";

fn default_urn(tenant: &str) -> String {
    format!("urn:acme-vendor:scim:schemas:extension:{tenant}:2:User")
}

fn put_urn(app: &App, tenant: &str, urn: Value) -> Reply {
    app.admin(
        &app.admin_token(Some(tenant)),
        "PUT",
        &format!("/tenants/{tenant}/schema"),
        Some(json!({ "urn": urn })),
    )
}

fn get_schema(app: &App, tenant: &str) -> Reply {
    app.admin(
        &app.admin_token(Some(tenant)),
        "GET",
        &format!("/tenants/{tenant}/schema"),
        None,
    )
}

fn define(app: &App, tenant: &str, name: &str, def: Value) {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "PUT",
        &format!("/tenants/{tenant}/schema/attributes/{name}"),
        Some(def),
    );
    assert!(r.status == 201 || r.status == 200, "{name}: {}", r.body);
}

fn undefine(app: &App, tenant: &str, name: &str) {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "DELETE",
        &format!("/tenants/{tenant}/schema/attributes/{name}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
}

fn create(app: &App, c: &Creds, body: Value) -> String {
    let r = app.call(c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn filter(f: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
    format!("/Users?filter={q}")
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every user row of the tenant as stored, tombstones included.
fn rows(app: &App, tenant: &str) -> Vec<Row> {
    app.rows(
        "SELECT id, version, deleted_at, doc FROM users WHERE tenant_id = ? ORDER BY id",
        vec![tenant.into()],
    )
}

#[test]
fn the_urn_is_set_read_and_reset() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, "acme", "costCenter", json!({"type": "string"}));
    let platform = app.admin_token(None);
    assert_eq!(get_schema(&app, "acme").body["urn"], default_urn("acme"));

    let r = put_urn(&app, "acme", json!(KISSFLOW));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["urn"], KISSFLOW, "kept as given, case and all");
    assert_eq!(r.body["attributes"][0]["name"], "costCenter");
    assert_eq!(get_schema(&app, "acme").body["urn"], KISSFLOW);
    let t = app.admin(&platform, "GET", "/tenants/acme", None);
    assert_eq!(t.body["schemaUrn"], KISSFLOW);
    let listed = app.admin(&platform, "GET", "/tenants", None);
    assert_eq!(listed.body["tenants"][0]["schemaUrn"], KISSFLOW);
    // Discovery names it as set.
    let schema = app.call(&c, "GET", &format!("/Schemas/{KISSFLOW}"), None);
    assert_eq!(schema.status, 200, "{}", schema.body);
    assert_eq!(schema.body["id"], KISSFLOW);
    let all = app.call(&c, "GET", "/Schemas", None);
    let ids: Vec<&str> = all.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(ids.contains(&KISSFLOW), "{ids:?}");
    assert!(!ids.contains(&default_urn("acme").as_str()), "{ids:?}");
    let rt = app.call(&c, "GET", "/ResourceTypes/User", None);
    assert_eq!(
        rt.body["schemaExtensions"][1]["schema"], KISSFLOW,
        "{}",
        rt.body
    );
    // The same again is no change; platform scope may set it too.
    let again = app.admin(
        &platform,
        "PUT",
        "/tenants/acme/schema",
        Some(json!({"urn": KISSFLOW})),
    );
    assert_eq!(again.status, 200, "{}", again.body);

    let r = put_urn(&app, "acme", Value::Null);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["urn"], default_urn("acme"));
    assert_eq!(
        app.admin(&platform, "GET", "/tenants/acme", None).body["schemaUrn"],
        default_urn("acme")
    );
    let stored = app.rows(
        "SELECT extension_urn FROM tenants WHERE id = 'acme'",
        vec![],
    );
    assert_eq!(
        stored[0]["extension_urn"],
        Value::Null,
        "the default is NULL"
    );
    assert_eq!(
        app.call(&c, "GET", &format!("/Schemas/{KISSFLOW}"), None)
            .status,
        404
    );
    // The default named explicitly is stored, and rewrites no user.
    create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "ann", default_urn("acme"): {"costCenter": "CC-1"}}),
    );
    let before = rows(&app, "acme");
    let r = put_urn(&app, "acme", json!(default_urn("acme")));
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = app.rows(
        "SELECT extension_urn FROM tenants WHERE id = 'acme'",
        vec![],
    );
    assert_eq!(stored[0]["extension_urn"], default_urn("acme"));
    assert_eq!(rows(&app, "acme"), before);
}

#[test]
fn an_invalid_or_clashing_urn_is_refused() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, "acme", "costCenter", json!({"type": "string"}));
    let id = create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "ann", default_urn("acme"): {"costCenter": "CC-1"}}),
    );
    let before = rows(&app, "acme");
    for bad in [
        "",
        "costCenter",
        "urn:x:y",              // a namespace id of one character
        "urn:-ab:x",            // a namespace id starting with '-'
        "urn:acme:",            // no namespace-specific string
        "urn:acme:with space",  // whitespace
        "urn:acme:tab\there",   // whitespace
        "urn:acme:caf\u{e9}",   // not ASCII
        "urn:acme:x?+resolver", // an r-component
        "urn:acme:x#frag",      // an f-component
        "urn:acme:x%4",         // a broken escape
        "urn:acme:paren(s)",    // cut by filter parsing
        "urn:acme:a,b",         // cut by attribute lists
        "urn:acme:x:",          // a trailing colon
        "http://schemas.example.com/User",
        // The core and Enterprise schemas, in any case.
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        // Message schemas.
        "urn:ietf:params:scim:api:messages:2.0:PatchOp",
        "urn:ietf:params:scim:api:messages:2.0:ListResponse",
        // A ':'-prefix of one, or one of them as its prefix.
        "urn:ietf:params:scim:schemas:core:2.0",
        "urn:ietf:params:scim",
        "urn:ietf:params:scim:schemas:core:2.0:User:custom",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:x",
    ] {
        let r = put_urn(&app, "acme", json!(bad));
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidValue", "{bad:?}: {}", r.body);
    }
    let long = format!("urn:acme:{}", "x".repeat(300));
    assert_eq!(put_urn(&app, "acme", json!(long)).status, 400);
    // Bodies of another shape.
    let admin = app.admin_token(Some("acme"));
    for body in [
        json!({}),
        json!({"urn": 7}),
        json!({"urn": ["urn:acme:x"]}),
        json!({"urn": KISSFLOW, "attributes": []}),
        json!("urn:acme:x"),
    ] {
        let r = app.admin(&admin, "PUT", "/tenants/acme/schema", Some(body.clone()));
        assert_eq!(r.status, 400, "{body}: {}", r.body);
    }
    // Another tenant's admin token may not set it.
    app.provision("other");
    let r = app.admin(
        &app.admin_token(Some("other")),
        "PUT",
        "/tenants/acme/schema",
        Some(json!({"urn": KISSFLOW})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        app.admin(
            &app.admin_token(None),
            "PUT",
            "/tenants/nobody/schema",
            Some(json!({"urn": KISSFLOW}))
        )
        .status,
        404
    );
    // Nothing changed.
    assert_eq!(get_schema(&app, "acme").body["urn"], default_urn("acme"));
    assert_eq!(rows(&app, "acme"), before);
    let r = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(r.body[default_urn("acme")]["costCenter"], "CC-1");
}

#[test]
fn a_urn_change_keeps_users_values_hidden_ones_and_tombstones_included() {
    let app = App::new();
    let c = app.provision("acme");
    let old = &default_urn("acme");
    define(&app, "acme", "costCenter", json!({"type": "string"}));
    define(&app, "acme", "seats", json!({"type": "integer"}));
    define(&app, "acme", "legacy", json!({"type": "string"}));
    let ann = create(
        &app,
        &c,
        json!({"schemas": [USER, old], "userName": "ann", "title": "Boss",
               old: {"costCenter": "CC-1", "seats": 3, "legacy": "L-1"}}),
    );
    let bob = create(
        &app,
        &c,
        json!({"schemas": [USER, old], "userName": "bob", old: {"costCenter": "CC-2"}}),
    );
    let plain = create(&app, &c, json!({"schemas": [USER], "userName": "carl"}));
    let gone = create(
        &app,
        &c,
        json!({"schemas": [USER, old], "userName": "dora", old: {"costCenter": "CC-9"}}),
    );
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{gone}"), None)
            .status,
        204
    );
    // `legacy` is removed: ann's value is hidden, kept in her document.
    undefine(&app, "acme", "legacy");
    let etag = app
        .call(&c, "GET", &format!("/Users/{ann}"), None)
        .header("etag")
        .map(str::to_owned);

    let r = put_urn(&app, "acme", json!(KISSFLOW));
    assert_eq!(r.status, 200, "{}", r.body);

    // Read back by id: the values under the new URN, which `schemas` names.
    let r = app.call(&c, "GET", &format!("/Users/{ann}"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[KISSFLOW], json!({"costCenter": "CC-1", "seats": 3}));
    assert!(r.body.get(old).is_none(), "{}", r.body);
    assert_eq!(r.body["schemas"], json!([USER, KISSFLOW]));
    assert_eq!(r.body["title"], "Boss", "the rest is untouched");
    assert_ne!(
        r.header("etag").map(str::to_owned),
        etag,
        "the representation changed: so did the version"
    );
    // Found by a filter and sorted on the new URN.
    let f = app.call(
        &c,
        "GET",
        &filter(&format!(r#"{KISSFLOW}:costCenter eq "cc-2""#)),
        None,
    );
    assert_eq!(f.status, 200, "{}", f.body);
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
    assert_eq!(f.body["Resources"][0]["id"], bob.as_str());
    let f = app.call(&c, "GET", &filter(&format!("{KISSFLOW}:seats gt 2")), None);
    assert_eq!(f.body["Resources"][0]["id"], ann.as_str(), "{}", f.body);
    let sorted = app.call(
        &c,
        "GET",
        &format!(
            "/Users?sortBy={}&sortOrder=descending&filter={}",
            enc(&format!("{KISSFLOW}:costCenter")),
            enc(&format!("{KISSFLOW}:costCenter pr"))
        ),
        None,
    );
    let names: Vec<&str> = sorted.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userName"].as_str())
        .collect();
    assert_eq!(names, ["bob", "ann"], "{}", sorted.body);
    // The old URN is no schema of the tenant any more.
    let f = app.call(
        &c,
        "GET",
        &filter(&format!(r#"{old}:costCenter eq "CC-1""#)),
        None,
    );
    assert_eq!(f.status, 400, "{}", f.body);
    // Values sent under it are another schema's: ignored by default (issue
    // 13), refused under `unknownAttributes: reject`.
    let body = json!({"schemas": [USER, old], "userName": "eve", old: {"costCenter": "x"}});
    let r = app.call(&c, "POST", "/Users", Some(body.clone()));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["schemas"], json!([USER]), "nothing stored under it");
    app.settings("acme", json!({"unknownAttributes": "reject"}));
    let body = json!({"schemas": [USER, old], "userName": "eva", old: {"costCenter": "x"}});
    let r = app.call(&c, "POST", "/Users", Some(body));
    assert_eq!(r.status, 400, "{}", r.body);
    // A user without values is untouched; the tombstone moved too.
    let carl = app.call(&c, "GET", &format!("/Users/{plain}"), None);
    assert_eq!(carl.body["schemas"], json!([USER]));
    let dora = app.admin(
        &app.admin_token(Some("acme")),
        "GET",
        &format!("/tenants/acme/users/{gone}"),
        None,
    );
    assert!(dora.body["deleted"].is_string(), "{}", dora.body);
    assert_eq!(dora.body[KISSFLOW]["costCenter"], "CC-9", "{}", dora.body);
    // The hidden value moved with the others: defined again, it shows.
    define(&app, "acme", "legacy", json!({"type": "string"}));
    let r = app.call(&c, "GET", &format!("/Users/{ann}"), None);
    assert_eq!(r.body[KISSFLOW]["legacy"], "L-1", "{}", r.body);
    // Writes keep working under the new URN, and back to the default.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{bob}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{KISSFLOW}:seats"), "value": 5}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[KISSFLOW], json!({"costCenter": "CC-2", "seats": 5}));
    assert_eq!(put_urn(&app, "acme", Value::Null).status, 200);
    let r = app.call(&c, "GET", &format!("/Users/{bob}"), None);
    assert_eq!(
        r.body[old],
        json!({"costCenter": "CC-2", "seats": 5}),
        "{}",
        r.body
    );
    assert_eq!(r.body["schemas"], json!([USER, old]));
}

#[test]
fn the_urn_is_matched_in_any_case_in_filters_patch_paths_attributes_and_bodies() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, "acme", "costCenter", json!({"type": "string"}));
    define(&app, "acme", "seats", json!({"type": "integer"}));
    assert_eq!(put_urn(&app, "acme", json!(KISSFLOW)).status, 200);
    let lower = KISSFLOW.to_lowercase();
    let upper = KISSFLOW.to_uppercase();

    // A POST body naming it in other cases, as a key and in `schemas`.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER, lower], "userName": "ann", upper.clone(): {"costCenter": "CC-1"}})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body[KISSFLOW],
        json!({"costCenter": "CC-1"}),
        "answered as set"
    );
    assert_eq!(r.body["schemas"], json!([USER, KISSFLOW]));
    // A URN-qualified attribute at the top level.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob", format!("{lower}:seats"): 2})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body[KISSFLOW], json!({"seats": 2}));

    // A filter.
    let f = app.call(
        &c,
        "GET",
        &filter(&format!(r#"{lower}:costCenter eq "CC-1""#)),
        None,
    );
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
    assert_eq!(f.body["Resources"][0]["id"], id.as_str());
    // attributes= and excludedAttributes=.
    let r = app.call(
        &c,
        "GET",
        &format!(
            "/Users/{id}?attributes={}",
            enc(&format!("{upper}:costCenter"))
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body[KISSFLOW],
        json!({"costCenter": "CC-1"}),
        "{}",
        r.body
    );
    assert!(r.body.get("userName").is_none(), "{}", r.body);
    let r = app.call(
        &c,
        "GET",
        &format!("/Users/{id}?excludedAttributes={}", enc(&lower)),
        None,
    );
    assert!(r.body.get(KISSFLOW).is_none(), "{}", r.body);
    // PATCH paths, qualified and bare, and a path-less value keyed by it.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{lower}:costCenter"), "value": "CC-2"},
            {"op": "add", "path": format!("{upper}:seats"), "value": 4},
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[KISSFLOW], json!({"costCenter": "CC-2", "seats": 4}));
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "value": {lower.clone(): {"seats": 6}}},
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[KISSFLOW]["seats"], 6, "{}", r.body);
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "remove", "path": format!("{lower}:costCenter")},
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[KISSFLOW], json!({"seats": 6}));
    // A PUT.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER, upper], "userName": "ann", lower.clone(): {"costCenter": "CC-3"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[KISSFLOW], json!({"costCenter": "CC-3"}));
    // Stored once, under the URN as set.
    let stored = app.rows(
        "SELECT doc FROM users WHERE tenant_id = 'acme' AND id = ?",
        vec![id.as_str().into()],
    );
    let doc: Value = serde_json::from_str(stored[0]["doc"].as_str().unwrap()).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert!(keys.iter().any(|k| *k == KISSFLOW), "{doc}");
    assert!(!keys.iter().any(|k| **k == lower || **k == upper), "{doc}");
    // /Schemas/{id} in another case.
    let s = app.call(&c, "GET", &format!("/Schemas/{lower}"), None);
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["id"], KISSFLOW);
}

#[test]
fn a_microsoft_style_urn_works_end_to_end() {
    let app = App::new();
    let c = app.provision("contoso");
    define(&app, "contoso", "costCenter", json!({"type": "string"}));
    assert_eq!(put_urn(&app, "contoso", json!(MICROSOFT)).status, 200);
    // Entra ID sends the extension's attributes qualified at the top level.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER, MICROSOFT], "userName": "ann@contoso.com",
                    format!("{MICROSOFT}:costCenter"): "CC-1",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body[MICROSOFT]["costCenter"], "CC-1");
    assert_eq!(
        r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "Sales",
        "the Enterprise extension is told apart"
    );
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": format!("{MICROSOFT}:costCenter"), "value": "CC-2"}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let f = app.call(
        &c,
        "GET",
        &filter(&format!(r#"{MICROSOFT}:costCenter eq "CC-2""#)),
        None,
    );
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
}

#[test]
fn one_tenants_urn_never_affects_another() {
    let app = App::new();
    let a = app.provision("tenant-a");
    let b = app.provision("tenant-b");
    for t in ["tenant-a", "tenant-b"] {
        define(&app, t, "costCenter", json!({"type": "string"}));
    }
    let b_urn = default_urn("tenant-b");
    create(
        &app,
        &a,
        json!({"schemas": [USER], "userName": "ann", default_urn("tenant-a"): {"costCenter": "A"}}),
    );
    let bob = create(
        &app,
        &b,
        json!({"schemas": [USER], "userName": "bob", b_urn.clone(): {"costCenter": "B"}}),
    );
    let b_before = rows(&app, "tenant-b");
    assert_eq!(put_urn(&app, "tenant-a", json!(KISSFLOW)).status, 200);
    assert_eq!(rows(&app, "tenant-b"), b_before, "B's users are untouched");
    assert_eq!(get_schema(&app, "tenant-b").body["urn"], b_urn);
    let r = app.call(&b, "GET", &format!("/Users/{bob}"), None);
    assert_eq!(r.body[&b_urn]["costCenter"], "B");
    assert_eq!(
        app.call(&b, "GET", &format!("/Schemas/{KISSFLOW}"), None)
            .status,
        404
    );
    let f = app.call(
        &b,
        "GET",
        &filter(&format!(r#"{KISSFLOW}:costCenter eq "A""#)),
        None,
    );
    assert_eq!(f.status, 400, "{}", f.body);
    // Both may take the same URN; each keeps its own users.
    assert_eq!(put_urn(&app, "tenant-b", json!(KISSFLOW)).status, 200);
    let f = app.call(
        &a,
        "GET",
        &filter(&format!(r#"{KISSFLOW}:costCenter pr"#)),
        None,
    );
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
    assert_eq!(f.body["Resources"][0]["userName"], "ann");
    let f = app.call(
        &b,
        "GET",
        &filter(&format!(r#"{KISSFLOW}:costCenter pr"#)),
        None,
    );
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
    assert_eq!(f.body["Resources"][0]["userName"], "bob");
    // Resetting A's leaves B's.
    assert_eq!(put_urn(&app, "tenant-a", Value::Null).status, 200);
    assert_eq!(get_schema(&app, "tenant-b").body["urn"], KISSFLOW);
    let r = app.call(&b, "GET", &format!("/Users/{bob}"), None);
    assert_eq!(r.body[KISSFLOW]["costCenter"], "B");
}

/// SQLite, but the first write batch is preceded by `interleave`: another
/// request's write landing between this request's reads and its write.
struct Interleaved<'a> {
    inner: &'a SqliteExecutor,
    interleave: RefCell<Option<Vec<Stmt>>>,
}

impl SqlExecutor for Interleaved<'_> {
    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError> {
        self.inner.query(stmt).await
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Written>, StoreError> {
        let other = self.interleave.borrow_mut().take();
        if let Some(other) = other {
            self.inner.batch(other).await?;
        }
        self.inner.batch(stmts).await
    }
}

fn set_stored_urn(tenant: &str, urn: &str) -> Vec<Stmt> {
    vec![Stmt::new(
        "UPDATE tenants SET extension_urn = ? WHERE id = ?",
        vec![urn.into(), tenant.into()],
    )]
}

#[test]
fn a_urn_change_that_lost_a_race_writes_nothing() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, "acme", "costCenter", json!({"type": "string"}));
    create(
        &app,
        &c,
        json!({"schemas": [USER], "userName": "ann", default_urn("acme"): {"costCenter": "CC-1"}}),
    );
    let before = rows(&app, "acme");
    // Another change of the URN lands between this one's read and write.
    let db = Interleaved {
        inner: &app.db,
        interleave: RefCell::new(Some(set_stored_urn("acme", MICROSOFT))),
    };
    let req = Request::new(Method::Put, "/admin/v1/tenants/acme/schema")
        .with_header(
            "Authorization",
            &format!("Bearer {}", app.admin_token(Some("acme"))),
        )
        .with_header("Content-Type", "application/json")
        .with_body(json!({"urn": KISSFLOW}).to_string());
    let r = app.request_with(&db, req);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(get_schema(&app, "acme").body["urn"], MICROSOFT);
    assert_eq!(rows(&app, "acme"), before, "no user was rewritten");
}

#[test]
fn a_write_made_under_the_old_urn_that_lands_after_the_change_is_made_again_under_the_new_one() {
    let app = App::new();
    let c = app.provision("acme");
    define(&app, "acme", "costCenter", json!({"type": "string"}));
    let old = default_urn("acme");
    // The URN changes between the POST's read of the schema and its write.
    let db = Interleaved {
        inner: &app.db,
        interleave: RefCell::new(Some(set_stored_urn("acme", KISSFLOW))),
    };
    let req = App::scim_request(
        &c,
        Method::Post,
        "/Users",
        Some(
            json!({"schemas": [USER, old], "userName": "ann", old.clone(): {"costCenter": "CC-1"}}),
        ),
    );
    let r = app.request_with(&db, req);
    // The first batch aborts (its profile version is gone); the POST is
    // made again with the schema in force, where the old URN is unknown
    // (ignored by default), as if it had come a moment later.
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get(&old).is_none(), "{}", r.body);
    let stored = rows(&app, "acme");
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0]["doc"].as_str().unwrap().contains(&old),
        "nothing stored under {old}"
    );
    // Without custom values the URN does not matter.
    let db = Interleaved {
        inner: &app.db,
        interleave: RefCell::new(Some(set_stored_urn("acme", MICROSOFT))),
    };
    let req = App::scim_request(
        &c,
        Method::Post,
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob"})),
    );
    assert_eq!(app.request_with(&db, req).status, 201);
}

#[test]
fn migration_0003_applies_to_a_database_made_by_0001_and_0002_with_data_in_it() {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let dir = std::env::temp_dir().join(format!("scim-worker-0003-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["0001_init.sql", "0002_counts.sql"] {
        std::fs::copy(migrations.join(f), dir.join(f)).unwrap();
    }
    let db = SqliteExecutor::open_in_memory(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stamp = "2026-01-01T00:00:00.000Z";
    db.query_sync(Stmt::new(
        "INSERT INTO tenants (id, name, settings, created_at, updated_at) \
         VALUES ('acme', 'Acme', '{\"deletePolicy\":\"remove\"}', ?, ?)",
        vec![stamp.into(), stamp.into()],
    ))
    .unwrap();
    db.query_sync(Stmt::new(
        "INSERT INTO users (tenant_id, id, user_name, user_name_key, created_at, last_modified, doc) \
         VALUES ('acme', 'u1', 'ann', 'ann', ?, ?, '{}')",
        vec![stamp.into(), stamp.into()],
    ))
    .unwrap();
    let sql = std::fs::read_to_string(migrations.join("0003_extension_urn.sql")).unwrap();
    let statements: Vec<String> = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(statements.len(), 1, "{statements:?}");
    for s in statements {
        db.query_sync(Stmt::new(s, vec![])).unwrap();
    }
    let t = db
        .query_sync(Stmt::new(
            "SELECT extension_urn, settings, user_count FROM tenants WHERE id = 'acme'",
            vec![],
        ))
        .unwrap();
    assert_eq!(
        t[0]["extension_urn"],
        Value::Null,
        "existing tenants keep the default"
    );
    assert_eq!(t[0]["settings"], "{\"deletePolicy\":\"remove\"}");
    assert_eq!(t[0]["user_count"], 1);
}
