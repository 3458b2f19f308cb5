//! Unique custom fields ("Accept what real identity providers send": the
//! "Unique Number" and "Unique Currency" fields of Kissflow's Entra guide):
//! any single-valued scalar definition, or a currency, may be `unique`; a
//! write giving a live user a value another live user holds is 409 and
//! changes nothing. Through the whole service over real SQLite.

use std::cell::RefCell;

use scim_worker::testing::{
    urn::{BULK_REQUEST, PATCH_OP, USER},
    App, Creds, Reply, SqliteExecutor,
};
use scim_worker::{Method, Row, SqlExecutor, Stmt, StoreError, Written};
use serde_json::{json, Value};

const URN: &str = "urn:acme-vendor:scim:schemas:extension:acme:2:User";

fn define(app: &App, tenant: &str, name: &str, def: Value) -> Reply {
    app.admin(
        &app.admin_token(Some(tenant)),
        "PUT",
        &format!("/tenants/{tenant}/schema/attributes/{name}"),
        Some(def),
    )
}

fn defined(app: &App, name: &str, def: Value) {
    let r = define(app, "acme", name, def);
    assert!(r.status == 201 || r.status == 200, "{name}: {}", r.body);
}

fn post(app: &App, c: &Creds, user_name: &str, ext: Value) -> Reply {
    app.call(
        c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER, URN], "userName": user_name, URN: ext})),
    )
}

fn created(app: &App, c: &Creds, user_name: &str, ext: Value) -> String {
    let r = post(app, c, user_name, ext);
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn users(app: &App) -> Vec<Row> {
    app.rows(
        "SELECT id, version, deleted_at, doc FROM users ORDER BY id",
        vec![],
    )
}

fn uniqueness(r: &Reply) {
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness", "{}", r.body);
}

/// POST, PUT and PATCH giving user `other` the value `taken` of `name`
/// (in `ext` form) are 409 `uniqueness`, and no row changes.
fn refused_everywhere(app: &App, c: &Creds, other: &str, name: &str, taken: &Value) {
    let before = users(app);
    uniqueness(&post(app, c, "newcomer", json!({ name: taken })));
    let put = app.call(
        c,
        "PUT",
        &format!("/Users/{other}"),
        Some(json!({"schemas": [USER, URN], "userName": "other", URN: { name: taken }})),
    );
    uniqueness(&put);
    let patch = app.call(
        c,
        "PATCH",
        &format!("/Users/{other}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{URN}:{name}"), "value": taken}]})),
    );
    uniqueness(&patch);
    // Bulk answers each operation alike.
    let bulk = app.call(
        c,
        "POST",
        "/Bulk",
        Some(json!({"schemas": [BULK_REQUEST], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "n",
             "data": {"schemas": [USER, URN], "userName": "bulky", URN: { name: taken }}}]})),
    );
    assert_eq!(bulk.body["Operations"][0]["status"], "409", "{}", bulk.body);
    assert_eq!(users(app), before, "no row changed");
}

#[test]
fn a_unique_string_is_unique_in_any_letter_case() {
    let app = App::new();
    let c = app.provision("acme");
    defined(
        &app,
        "employeeCode",
        json!({"type": "string", "unique": true}),
    );
    created(&app, &c, "ann", json!({"employeeCode": "EMP-1"}));
    let other = created(&app, &c, "other", json!({"employeeCode": "EMP-2"}));
    refused_everywhere(&app, &c, &other, "employeeCode", &json!("emp-1"));
    refused_everywhere(&app, &c, &other, "employeeCode", &json!("EMP-1"));
    // A user keeps its own value through a rewrite.
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{other}"),
        Some(json!({"schemas": [USER, URN], "userName": "other", "title": "T", URN: {"employeeCode": "emp-2"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Other values, and users without one, are free.
    created(&app, &c, "bob", json!({"employeeCode": "EMP-3"}));
    created(&app, &c, "carl", json!({}));
    created(&app, &c, "dora", json!({}));
    // SQLite folds ASCII letters only, and so do both sides of the
    // comparison: letters beyond ASCII compare as written.
    created(&app, &c, "eve", json!({"employeeCode": "ÉLODIE"}));
    created(&app, &c, "fay", json!({"employeeCode": "élodie"}));
    uniqueness(&post(&app, &c, "gil", json!({"employeeCode": "éLODIE"})));
}

#[test]
fn a_case_exact_unique_string_is_unique_as_written() {
    let app = App::new();
    let c = app.provision("acme");
    defined(
        &app,
        "token",
        json!({"type": "string", "unique": true, "caseExact": true}),
    );
    created(&app, &c, "ann", json!({"token": "AbC"}));
    // Another case is another value.
    let other = created(&app, &c, "other", json!({"token": "abc"}));
    refused_everywhere(&app, &c, &other, "token", &json!("AbC"));
}

#[test]
fn a_unique_date_time_compares_the_instants() {
    let app = App::new();
    let c = app.provision("acme");
    defined(&app, "hiredAt", json!({"type": "dateTime", "unique": true}));
    created(&app, &c, "ann", json!({"hiredAt": "2026-03-01T10:00:00Z"}));
    let other = created(
        &app,
        &c,
        "other",
        json!({"hiredAt": "2026-03-01T10:00:01Z"}),
    );
    // The same instant written otherwise.
    refused_everywhere(
        &app,
        &c,
        &other,
        "hiredAt",
        &json!("2026-03-01T11:00:00+01:00"),
    );
    refused_everywhere(
        &app,
        &c,
        &other,
        "hiredAt",
        &json!("2026-03-01T10:00:00.000Z"),
    );
}

#[test]
fn a_unique_currency_compares_amount_and_code() {
    let app = App::new();
    let c = app.provision("acme");
    defined(&app, "price", json!({"type": "currency", "unique": true}));
    created(
        &app,
        &c,
        "ann",
        json!({"price": {"amount": 100, "currency": "EUR"}}),
    );
    // The same amount in another currency, another amount in the same.
    created(
        &app,
        &c,
        "bob",
        json!({"price": {"amount": 100, "currency": "USD"}}),
    );
    let other = created(
        &app,
        &c,
        "other",
        json!({"price": {"amount": 100.5, "currency": "EUR"}}),
    );
    refused_everywhere(
        &app,
        &c,
        &other,
        "price",
        &json!({"amount": 100, "currency": "EUR"}),
    );
    // 100.0 is 100.
    refused_everywhere(
        &app,
        &c,
        &other,
        "price",
        &json!({"amount": 100.0, "currency": "EUR"}),
    );
}

#[test]
fn unique_numbers_dates_integers_and_dropdowns_can_be_unique() {
    let app = App::new();
    let c = app.provision("acme");
    defined(&app, "seat", json!({"type": "integer", "unique": true}));
    defined(&app, "score", json!({"type": "number", "unique": true}));
    defined(&app, "startDate", json!({"type": "date", "unique": true}));
    defined(
        &app,
        "slot",
        json!({"type": "dropdown", "values": ["Early", "Late"], "unique": true}),
    );
    defined(&app, "badge", json!({"type": "uniqueNumber"}));
    created(
        &app,
        &c,
        "ann",
        json!({"seat": 1, "score": 2.5, "startDate": "2026-01-31", "slot": "Early", "badge": 7}),
    );
    let other = created(&app, &c, "other", json!({}));
    for (name, taken) in [
        ("seat", json!(1)),
        ("score", json!(2.5)),
        ("startDate", json!("2026-01-31")),
        ("slot", json!("Early")),
        ("badge", json!(7)),
    ] {
        refused_everywhere(&app, &c, &other, name, &taken);
    }
}

#[test]
fn a_deleted_user_holds_no_unique_value_until_it_is_restored() {
    let app = App::new();
    let c = app.provision("acme");
    defined(
        &app,
        "employeeCode",
        json!({"type": "string", "unique": true}),
    );
    let ann = created(&app, &c, "ann", json!({"employeeCode": "EMP-1"}));
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{ann}"), None)
            .status,
        204
    );
    // Retained as a tombstone, it no longer holds the value.
    let bob = created(&app, &c, "bob", json!({"employeeCode": "EMP-1"}));
    // Restoring it while bob holds it is 409, and changes nothing.
    let admin = app.admin_token(Some("acme"));
    let restore = format!("/tenants/acme/users/{ann}/restore");
    let before = users(&app);
    uniqueness(&app.admin(&admin, "POST", &restore, None));
    assert_eq!(users(&app), before);
    // Once bob's value differs, it comes back.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{bob}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{URN}:employeeCode"), "value": "EMP-2"}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.admin(&admin, "POST", &restore, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[URN]["employeeCode"], "EMP-1");
    // A live user is no tombstone to restore, unique values or not.
    assert_eq!(app.admin(&admin, "POST", &restore, None).status, 404);
}

#[test]
fn unique_values_are_per_tenant() {
    let app = App::new();
    let a = app.provision("acme");
    let b = app.provision("other");
    defined(
        &app,
        "employeeCode",
        json!({"type": "string", "unique": true}),
    );
    let r = define(
        &app,
        "other",
        "employeeCode",
        json!({"type": "string", "unique": true}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    created(&app, &a, "ann", json!({"employeeCode": "EMP-1"}));
    let other_urn = "urn:acme-vendor:scim:schemas:extension:other:2:User";
    let r = app.call(
        &b,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "ann", other_urn: {"employeeCode": "EMP-1"}})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn unique_is_refused_where_it_makes_no_sense() {
    let app = App::new();
    app.provision("acme");
    for (name, def, why) in [
        ("vip", json!({"type": "boolean", "unique": true}), "boolean"),
        (
            "mentor",
            json!({"type": "userReference", "unique": true}),
            "reference",
        ),
        (
            "langs",
            json!({"type": "string", "multiValued": true, "unique": true}),
            "multi-valued",
        ),
        (
            "prices",
            json!({"type": "currency", "multiValued": true, "unique": true}),
            "multi-valued",
        ),
    ] {
        let r = define(&app, "acme", name, def);
        assert_eq!(r.status, 400, "{name}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidValue", "{name}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(name) && detail.contains(why), "{detail}");
    }
    let r = define(
        &app,
        "acme",
        "code",
        json!({"type": "string", "unique": "yes"}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let schema = app.admin(
        &app.admin_token(Some("acme")),
        "GET",
        "/tenants/acme/schema",
        None,
    );
    assert_eq!(schema.body["attributes"], json!([]), "nothing was defined");
}

#[test]
fn schemas_advertise_server_uniqueness_for_unique_attributes() {
    let app = App::new();
    let c = app.provision("acme");
    defined(
        &app,
        "employeeCode",
        json!({"type": "string", "unique": true}),
    );
    defined(&app, "price", json!({"type": "currency", "unique": true}));
    defined(&app, "badge", json!({"type": "uniqueNumber"}));
    defined(&app, "nickname", json!({"type": "string"}));
    let s = app.call(&c, "GET", &format!("/Schemas/{URN}"), None);
    assert_eq!(s.status, 200, "{}", s.body);
    let of = |name: &str| {
        s.body["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .map(|a| a["uniqueness"].clone())
            .unwrap()
    };
    assert_eq!(of("employeeCode"), "server");
    assert_eq!(of("price"), "server");
    assert_eq!(of("badge"), "server");
    assert_eq!(of("nickname"), "none");
    // The definition reads back as given.
    let schema = app.admin(
        &app.admin_token(Some("acme")),
        "GET",
        "/tenants/acme/schema",
        None,
    );
    let def = |name: &str| {
        schema.body["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(def("employeeCode")["unique"], true, "{}", schema.body);
    assert!(def("nickname").get("unique").is_none(), "{}", schema.body);
}

#[test]
fn making_an_attribute_unique_while_live_users_share_a_value_is_409() {
    let app = App::new();
    let c = app.provision("acme");
    defined(&app, "employeeCode", json!({"type": "string"}));
    defined(&app, "price", json!({"type": "currency"}));
    created(
        &app,
        &c,
        "ann",
        json!({"employeeCode": "EMP-1", "price": {"amount": 5, "currency": "EUR"}}),
    );
    let bob = created(
        &app,
        &c,
        "bob",
        json!({"employeeCode": "emp-1", "price": {"amount": 5, "currency": "EUR"}}),
    );
    for (name, def) in [
        ("employeeCode", json!({"type": "string", "unique": true})),
        ("price", json!({"type": "currency", "unique": true})),
    ] {
        let r = define(&app, "acme", name, def);
        uniqueness(&r);
        assert!(
            r.body["detail"].as_str().unwrap().contains(name),
            "names the attribute: {}",
            r.body
        );
    }
    let schema = app.admin(
        &app.admin_token(Some("acme")),
        "GET",
        "/tenants/acme/schema",
        None,
    );
    assert!(
        schema.body["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.get("unique").is_none()),
        "unchanged: {}",
        schema.body
    );
    // caseExact tells "EMP-1" from "emp-1": then it may be unique.
    let r = define(
        &app,
        "acme",
        "employeeCode",
        json!({"type": "string", "unique": true, "caseExact": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Once their prices differ, so may the price.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{bob}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{URN}:price.amount"), "value": 6}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = define(
        &app,
        "acme",
        "price",
        json!({"type": "currency", "unique": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A tombstone shares nothing.
    defined(&app, "desk", json!({"type": "integer"}));
    let carl = created(&app, &c, "carl", json!({"desk": 1}));
    created(&app, &c, "dora", json!({"desk": 2}));
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{carl}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{URN}:desk"), "value": 2}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{carl}"), None)
            .status,
        204
    );
    let r = define(
        &app,
        "acme",
        "desk",
        json!({"type": "integer", "unique": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
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

#[test]
fn a_unique_value_taken_by_a_racing_write_is_409() {
    let app = App::new();
    let c = app.provision("acme");
    defined(
        &app,
        "employeeCode",
        json!({"type": "string", "unique": true}),
    );
    // Another request stores a user holding EMP-1 after this POST checked
    // its input and before its batch: the guard inside the batch sees it.
    let racing =
        json!({"schemas": [USER, URN], "userName": "rival", URN: {"employeeCode": "EMP-1"}});
    let db = Interleaved {
        inner: &app.db,
        interleave: RefCell::new(Some(vec![Stmt::new(
            "INSERT INTO users (tenant_id, id, user_name, user_name_key, created_at, last_modified, doc) \
             VALUES ('acme', 'rival', 'rival', 'rival', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', ?)",
            vec![racing.to_string().into()],
        )])),
    };
    let req = App::scim_request(
        &c,
        Method::Post,
        "/Users",
        Some(json!({"schemas": [USER, URN], "userName": "ann", URN: {"employeeCode": "emp-1"}})),
    );
    let r = app.request_with(&db, req);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness");
    let names: Vec<Value> = users(&app).iter().map(|u| u["id"].clone()).collect();
    assert_eq!(names, [json!("rival")], "only the racing write landed");
}
