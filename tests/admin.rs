//! The admin API, SCIM tokens, tenant isolation and custom extensions
//! (issue 5), through the whole service over real SQLite.

use scim_worker::testing::{
    urn::{PATCH_OP as PATCH, USER},
    App, Creds,
};
use serde_json::{json, Value};

/// Creates a tenant through the admin API and issues it a SCIM token.

#[test]
fn tenant_crud_with_platform_scope() {
    let app = App::new();
    let admin = app.admin_token(None);
    let r = app.admin(
        &admin,
        "POST",
        "/tenants",
        Some(json!({"id": "acme-eu", "name": "Acme EU"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["scimBaseUrl"], "http://localhost/scim/v2/acme-eu");
    assert_eq!(
        r.body["schemaUrn"],
        "urn:acme-vendor:scim:schemas:extension:acme-eu:2:User"
    );
    assert_eq!(r.body["settings"]["deletePolicy"], "retain");
    // Okta rejects '_' in base URLs: tenant ids never have one.
    for bad in ["acme_eu", "Acme", "-x", ""] {
        let r = app.admin(&admin, "POST", "/tenants", Some(json!({"id": bad})));
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        app.admin(&admin, "POST", "/tenants", Some(json!({"id": "acme-eu"})))
            .status,
        409
    );
    let r = app.admin(
        &admin,
        "PATCH",
        "/tenants/acme-eu",
        Some(json!({"settings": {"deletePolicy": "remove"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["settings"]["deletePolicy"], "remove");
    assert_eq!(r.body["name"], "Acme EU");
    let list = app.admin(&admin, "GET", "/tenants", None);
    assert_eq!(list.body["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.admin(&admin, "DELETE", "/tenants/acme-eu", None).status,
        204
    );
    assert_eq!(
        app.admin(&admin, "GET", "/tenants/acme-eu", None).status,
        404
    );
}

#[test]
fn admin_tokens_are_checked_for_signature_expiry_and_scope() {
    let app = App::new();
    app.provision("a");
    app.provision("b");
    let a_only = app.admin_token(Some("a"));
    assert_eq!(app.admin(&a_only, "GET", "/tenants/a", None).status, 200);
    assert_eq!(app.admin(&a_only, "GET", "/tenants/b", None).status, 403);
    assert_eq!(app.admin(&a_only, "GET", "/tenants", None).status, 403);
    assert_eq!(
        app.admin(&a_only, "POST", "/tenants", Some(json!({"id": "c"})))
            .status,
        403
    );
    assert_eq!(
        app.admin(&a_only, "GET", "/tenants/b/users", None).status,
        403
    );
    let forged = scim_worker::testing::sign(
        scim_worker::testing::AdminClaims {
            scope: "platform".into(),
            tenant: None,
        },
        "a-different-secret-also-32-bytes-long",
        jwt_simple::prelude::Duration::from_hours(1),
    )
    .unwrap();
    let r = app.admin(&forged, "GET", "/tenants", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(app.admin("garbage", "GET", "/tenants", None).status, 401);
    // Expired: the same token checked three hours later.
    let mut later = App::new();
    later.now = app.now + chrono::Duration::hours(3);
    let t = app.admin_token(None);
    assert_eq!(later.admin(&t, "GET", "/tenants", None).status, 401);
    // A SCIM token is not an admin token, nor the other way round.
    let scim = app.provision("c");
    assert_eq!(app.admin(&scim.token, "GET", "/tenants", None).status, 401);
    let as_scim = Creds {
        tenant: "c".into(),
        token: app.admin_token(None),
    };
    assert_eq!(app.call(&as_scim, "GET", "/Users", None).status, 401);
    // The OpenAPI document needs no token.
    let doc = app.request(scim_worker::Request::new(
        scim_worker::Method::Get,
        "/admin/v1/openapi.json",
    ));
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    // Nor does the SCIM API's (issue 7), which is the same for every tenant.
    let scim_doc = app.request(scim_worker::Request::new(
        scim_worker::Method::Get,
        "/scim/v2/openapi.json",
    ));
    assert_eq!(scim_doc.status, 200);
    assert_eq!(scim_doc.body["openapi"], "3.1.0");
    assert!(scim_doc.body["paths"]["/Users/{id}"]["patch"].is_object());
    let post = app.request(scim_worker::Request::new(
        scim_worker::Method::Post,
        "/scim/v2/openapi.json",
    ));
    assert_eq!(post.status, 405);
}

#[test]
fn scim_token_lifecycle_issue_list_expire_rotate_revoke() {
    let app = App::new();
    let c = app.provision("acme");
    let admin = app.admin_token(None);
    assert_eq!(app.call(&c, "GET", "/Users", None).status, 200);
    let list = app.admin(&admin, "GET", "/tenants/acme/tokens", None);
    let tokens = list.body["tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 1);
    assert!(
        tokens[0].get("token").is_none(),
        "a token is shown only once"
    );
    assert!(!list
        .response
        .body
        .windows(c.token.len())
        .any(|w| w == c.token.as_bytes()));
    assert!(tokens[0]["lastUsed"].is_string(), "use is recorded");
    let id = tokens[0]["id"].as_str().unwrap().to_owned();
    // Only hashes are stored in KV.
    for key in app.kv.keys() {
        assert!(!key.contains(&c.token));
    }
    // Expire: the next request fails.
    let r = app.admin(
        &admin,
        "PATCH",
        &format!("/tenants/acme/tokens/{id}"),
        Some(json!({"expires": "now"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.call(&c, "GET", "/Users", None).status, 401);
    app.admin(
        &admin,
        "PATCH",
        &format!("/tenants/acme/tokens/{id}"),
        Some(json!({"expires": null})),
    );
    assert_eq!(app.call(&c, "GET", "/Users", None).status, 200);
    // Rotate: the old token stops working, the new one works.
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/tokens/{id}/rotate"),
        None,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let new = Creds {
        tenant: "acme".into(),
        token: r.body["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(app.call(&c, "GET", "/Users", None).status, 401);
    assert_eq!(app.call(&new, "GET", "/Users", None).status, 200);
    // Revoke: takes effect on the next request.
    let new_id = r.body["id"].as_str().unwrap();
    assert_eq!(
        app.admin(
            &admin,
            "DELETE",
            &format!("/tenants/acme/tokens/{new_id}"),
            None
        )
        .status,
        204
    );
    assert_eq!(app.call(&new, "GET", "/Users", None).status, 401);
    // The download form is the document an IdP needs.
    let r = app.admin(
        &admin,
        "POST",
        "/tenants/acme/tokens?download=true",
        Some(json!({"expiresInDays": 30})),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"scim-acme.json\"")
    );
    assert_eq!(r.body["baseUrl"], "http://localhost/scim/v2/acme");
    let fresh = Creds {
        tenant: "acme".into(),
        token: r.body["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(app.call(&fresh, "GET", "/Users", None).status, 200);
    // Deleting the tenant revokes its tokens.
    app.admin(&admin, "DELETE", "/tenants/acme", None);
    assert_eq!(app.call(&fresh, "GET", "/Users", None).status, 401);
}

#[test]
fn a_token_of_tenant_a_reaches_nothing_of_tenant_b_on_any_endpoint() {
    // Issue 5: tenant isolation, every endpoint, both ways of trying.
    let app = App::new();
    let a = app.provision("tenant-a");
    let b = app.provision("tenant-b");
    let uid = app
        .call(
            &b,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": "secret"})),
        )
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gid = app.call(&b, "POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "B"}))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = |app: &App| {
        [
            "SELECT tenant_id, id, version, doc, deleted_at FROM users WHERE tenant_id = 'tenant-b' ORDER BY id",
            "SELECT tenant_id, id, version, doc FROM groups WHERE tenant_id = 'tenant-b' ORDER BY id",
            "SELECT tenant_id, group_id, member_id FROM group_members WHERE tenant_id = 'tenant-b' ORDER BY member_id",
            "SELECT tenant_id, name, definition FROM tenant_attributes WHERE tenant_id = 'tenant-b' ORDER BY name",
        ]
        .map(|q| app.rows(q, vec![]))
    };
    // B has a member in its group and a custom attribute, so there is
    // something of every kind to reach for.
    let r = app.call(&b, "PATCH", &format!("/Groups/{gid}"), Some(json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]})));
    assert_eq!(r.status, 204);
    define(&app, "tenant-b", "badge", json!({"type": "string"}));
    let before = state(&app);
    // Every SCIM path, with B's ids where a path takes one, by every method.
    let paths = [
        "/Users".to_string(),
        format!("/Users/{uid}"),
        "/Users/.search".to_string(),
        "/Groups".to_string(),
        format!("/Groups/{gid}"),
        "/Groups/.search".to_string(),
        "/.search".to_string(),
        "/Bulk".to_string(),
        "/Me".to_string(),
        "/Schemas".to_string(),
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User".to_string(),
        "/ResourceTypes".to_string(),
        "/ResourceTypes/User".to_string(),
        "/ServiceProviderConfig".to_string(),
    ];
    let body = json!({"schemas": [USER, PATCH], "userName": "x", "displayName": "x", "Operations": [{"op": "remove", "path": "members"}]});
    let mut checked = 0;
    for p in &paths {
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            // A's token on B's base URL: 401, whatever the method.
            let crossed = Creds {
                tenant: "tenant-b".into(),
                token: a.token.clone(),
            };
            let r = app.call(&crossed, m, p, Some(body.clone()));
            assert_eq!(r.status, 401, "{m} {p}");
            // A's token on A's base URL with B's ids: not found.
            if p.contains(&uid) || p.contains(&gid) {
                let r = app.call(&a, m, p, Some(body.clone()));
                assert!(
                    r.status == 404 || (r.status == 405 && m == "POST"),
                    "{m} {p}: {}",
                    r.body
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 70);
    // The admin API: A's tenant-scoped JWT on B's tenant is 403 everywhere.
    let a_admin = app.admin_token(Some("tenant-a"));
    for (m, p) in [
        ("GET", "/tenants/tenant-b".to_string()),
        ("PATCH", "/tenants/tenant-b".to_string()),
        ("DELETE", "/tenants/tenant-b".to_string()),
        ("GET", "/tenants/tenant-b/tokens".to_string()),
        ("POST", "/tenants/tenant-b/tokens".to_string()),
        ("GET", "/tenants/tenant-b/schema".to_string()),
        (
            "PUT",
            "/tenants/tenant-b/schema/attributes/badge".to_string(),
        ),
        (
            "DELETE",
            "/tenants/tenant-b/schema/attributes/badge".to_string(),
        ),
        ("GET", "/tenants/tenant-b/users".to_string()),
        ("GET", format!("/tenants/tenant-b/users/{uid}")),
        ("POST", format!("/tenants/tenant-b/users/{uid}/deactivate")),
        ("GET", "/tenants/tenant-b/groups".to_string()),
        ("GET", format!("/tenants/tenant-b/groups/{gid}")),
        ("GET", "/tenants".to_string()),
        ("POST", "/tenants".to_string()),
    ] {
        let r = app.admin(
            &a_admin,
            m,
            &p,
            Some(json!({"type": "integer", "name": "n", "id": "x"})),
        );
        assert_eq!(r.status, 403, "{m} {p}: {}", r.body);
        // And B's ids under A's own tenant are not found.
        let own = p.replace("tenant-b", "tenant-a");
        if p.contains(&uid) || p.contains(&gid) {
            let r = app.admin(&a_admin, m, &own, None);
            assert_eq!(r.status, 404, "{m} {own}");
        }
    }
    let filtered = app.call(&a, "GET", &format!("/Users?filter=id+eq+%22{uid}%22"), None);
    assert_eq!(filtered.body["totalResults"], 0);
    let bulk = app.call(
        &a,
        "POST",
        "/Bulk",
        Some(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "DELETE", "path": format!("/Users/{uid}")}]})),
    );
    assert_eq!(bulk.body["Operations"][0]["status"], "404");
    // B's user is not a member A can add: skipped by default (A's group
    // has no members), refused under `unknownMembers: reject`.
    let member = app.call(&a, "POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "A", "members": [{"value": uid}]})));
    assert_eq!(member.status, 201, "{}", member.body);
    assert!(member.body.get("members").is_none(), "{}", member.body);
    let r = app.admin(
        &a_admin,
        "PATCH",
        "/tenants/tenant-a",
        Some(json!({"settings": {"unknownMembers": "reject"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let member = app.call(&a, "POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "A2", "members": [{"value": uid}]})));
    assert_eq!(member.status, 400);
    assert_eq!(state(&app), before, "nothing of B's changed");
}

fn define(app: &App, tenant: &str, name: &str, def: Value) -> scim_worker::testing::Reply {
    app.admin(
        &app.admin_token(Some(tenant)),
        "PUT",
        &format!("/tenants/{tenant}/schema/attributes/{name}"),
        Some(def),
    )
}

#[test]
fn each_custom_field_type_round_trips_through_post_put_patch_filter_and_sort() {
    let app = App::new();
    let c = app.provision("acme");
    let urn = "urn:acme-vendor:scim:schemas:extension:acme:2:User";
    let manager = app
        .call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": "boss"})),
        )
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let defs = [
        ("costCenter", json!({"type": "string"})),
        ("seats", json!({"type": "integer"})),
        ("ratio", json!({"type": "number"})),
        ("vip", json!({"type": "boolean"})),
        ("startDate", json!({"type": "date"})),
        ("lastReview", json!({"type": "dateTime"})),
        (
            "tier",
            json!({"type": "dropdown", "values": ["Gold", "Silver"]}),
        ),
        ("salary", json!({"type": "currency"})),
        ("badge", json!({"type": "uniqueNumber"})),
        ("mentor", json!({"type": "userReference"})),
        ("languages", json!({"type": "string", "multiValued": true})),
    ];
    for (name, def) in &defs {
        let r = define(&app, "acme", name, def.clone());
        assert_eq!(r.status, 201, "{name}: {}", r.body);
    }
    // The extension is in /Schemas and in the User resource type.
    let rt = app.call(&c, "GET", "/ResourceTypes/User", None);
    assert!(rt.body["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["schema"] == urn));
    let schema = app.call(&c, "GET", &format!("/Schemas/{urn}"), None);
    assert_eq!(schema.status, 200);
    assert_eq!(
        schema.body["attributes"].as_array().unwrap().len(),
        defs.len()
    );
    let values = json!({
        "costCenter": "CC-1", "seats": 3, "ratio": 0.5, "vip": "True", "startDate": "2026-02-01",
        "lastReview": "2026-03-01T10:00:00Z", "tier": "Gold",
        "salary": {"amount": 1000.5, "currency": "EUR"}, "badge": 7,
        "mentor": {"value": manager}, "languages": ["de", "en"]
    });
    // Okta sends custom attributes under the extension URN; Entra may omit it from schemas.
    let r = app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "ann", urn: values})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let ext = &r.body[urn];
    assert_eq!(ext["costCenter"], "CC-1");
    assert_eq!(ext["vip"], true);
    assert_eq!(ext["salary"]["currency"], "EUR");
    assert_eq!(ext["mentor"]["value"], manager.as_str());
    assert_eq!(ext["mentor"], json!({"value": manager}));
    assert!(r.body["schemas"].as_array().unwrap().contains(&json!(urn)));
    // Filter and sort on extension attributes.
    for f in [
        format!("{urn}:costCenter eq \"cc-1\""),
        format!("{urn}:seats gt 2"),
        format!("{urn}:tier eq \"Gold\""),
        format!("{urn}:salary.currency eq \"EUR\""),
        format!("{urn}:languages eq \"en\""),
        format!("{urn}:vip eq true"),
    ] {
        let q: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
        let r = app.call(&c, "GET", &format!("/Users?filter={q}"), None);
        assert_eq!(r.body["totalResults"], 1, "{f}: {}", r.body);
    }
    app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bob", urn: {"seats": 1, "badge": 8}})),
    );
    let sorted = app.call(
        &c,
        "GET",
        &format!("/Users?sortBy={urn}:seats&filter=userName+ne+%22boss%22"),
        None,
    );
    let names: Vec<&str> = sorted.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob", "ann"]);
    // PATCH with the URN-qualified path; PUT replaces.
    let r = app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": format!("{urn}:tier"), "value": "Silver"}]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[urn]["tier"], "Silver");
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER, urn], "userName": "ann", urn: {"seats": 9}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[urn], json!({"seats": 9}));
    // Enforced rules: dropdown values, dates, currencies, references, unique numbers.
    let bad = [
        json!({"tier": "Bronze"}),
        json!({"startDate": "01/02/2026"}),
        json!({"salary": {"amount": 1, "currency": "euro"}}),
        json!({"mentor": {"value": "nobody"}}),
        json!({"badge": 8}),
        json!({"seats": "three"}),
    ];
    for b in bad {
        let r = app.call(
            &c,
            "PUT",
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER, urn], "userName": "ann", urn: b})),
        );
        assert!(
            r.status == 400 || r.status == 409,
            "{b}: {} {}",
            r.status,
            r.body
        );
    }
    let r = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(
        r.body[urn],
        json!({"seats": 9}),
        "rejected writes changed nothing"
    );
}

#[test]
fn definition_changes_never_corrupt_stored_users() {
    let app = App::new();
    let c = app.provision("acme");
    let urn = "urn:acme-vendor:scim:schemas:extension:acme:2:User";
    assert_eq!(
        define(&app, "acme", "dept", json!({"type": "string"})).status,
        201
    );
    assert_eq!(
        define(&app, "acme", "level", json!({"type": "integer"})).status,
        201
    );
    let id = app
        .call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": "u", urn: {"dept": "R&D"}})),
        )
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Changing a type while values exist is refused; with no values it is free.
    assert_eq!(
        define(&app, "acme", "dept", json!({"type": "integer"})).status,
        409
    );
    assert_eq!(
        define(&app, "acme", "level", json!({"type": "string"})).status,
        200
    );
    // Names are case-insensitive in SCIM.
    assert_eq!(
        define(&app, "acme", "Dept", json!({"type": "string"})).status,
        409
    );
    // Removing hides the values; a later write keeps them; re-adding shows them.
    let admin = app.admin_token(Some("acme"));
    assert_eq!(
        app.admin(
            &admin,
            "DELETE",
            "/tenants/acme/schema/attributes/dept",
            None
        )
        .status,
        204
    );
    let r = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert!(r.body.get(urn).is_none(), "{}", r.body);
    let r = app.call(&c, "PATCH", &format!("/Users/{id}"), Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "T"}]})));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.call(
        &c,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER], "userName": "u", "title": "T2"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        define(&app, "acme", "dept", json!({"type": "string"})).status,
        201
    );
    let r = app.call(&c, "GET", &format!("/Users/{id}"), None);
    assert_eq!(r.body[urn]["dept"], "R&D");
    assert_eq!(r.body["title"], "T2");
}

#[test]
fn the_application_reads_tombstones_and_deactivates_reactivates_restores() {
    let app = App::new();
    let c = app.provision("acme");
    let admin = app.admin_token(Some("acme"));
    let id = app
        .call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": "tom"})),
        )
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{id}/deactivate"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).body["active"],
        false
    );
    app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{id}/reactivate"),
        None,
    );
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).body["active"],
        true
    );
    // SCIM DELETE retains a tombstone the application can see and restore.
    assert_eq!(
        app.call(&c, "DELETE", &format!("/Users/{id}"), None).status,
        204
    );
    let r = app.admin(&admin, "GET", &format!("/tenants/acme/users/{id}"), None);
    assert_eq!(r.status, 200);
    assert!(r.body["deleted"].is_string());
    assert_eq!(r.body["active"], false);
    let list = app.admin(&admin, "GET", "/tenants/acme/users", None);
    assert_eq!(list.body["totalResults"], 1);
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/users/{id}/restore"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("deleted").is_none());
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None).status,
        200
    );
    // Restoring when the userName was taken meanwhile is 409.
    app.call(&c, "DELETE", &format!("/Users/{id}"), None);
    app.call(
        &c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "TOM"})),
    );
    assert_eq!(
        app.admin(
            &admin,
            "POST",
            &format!("/tenants/acme/users/{id}/restore"),
            None
        )
        .status,
        409
    );
}
