//! Native integration tests of the /Users slice over real SQLite.

use scim_worker::testing::{urn::USER, App};
use serde_json::json;

fn user(user_name: &str) -> serde_json::Value {
    json!({"schemas": [USER], "userName": user_name})
}

#[test]
fn post_creates_user_with_location_etag_and_meta() {
    // RFC 7644 §3.3: 201, Location equal to meta.location, full resource.
    let app = App::new();
    let acme = app.tenant("acme");
    let r = app.call(
        &acme,
        "POST",
        "/Users",
        Some(json!({
            "schemas": [USER],
            "userName": "Barbara.Jensen@Example.com",
            "externalId": "ext-1",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "password": "t1meMa$heen",
        })),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/scim+json"));
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(r.body["userName"], "Barbara.Jensen@Example.com");
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(
        r.header("location"),
        Some(format!("http://localhost/scim/v2/acme/Users/{id}").as_str())
    );
    assert_eq!(r.body["meta"]["location"], r.header("location").unwrap());
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert!(
        r.body.get("password").is_none(),
        "password is never returned"
    );
    let rows = app.rows(
        "SELECT user_name_key, external_id, doc FROM users WHERE tenant_id = 'acme' AND id = ?",
        vec![id.into()],
    );
    assert_eq!(rows[0]["user_name_key"], "barbara.jensen@example.com");
    assert_eq!(rows[0]["external_id"], "ext-1");
    assert!(!rows[0]["doc"].as_str().unwrap().contains("t1meMa$heen"));
    let emails = app.rows(
        "SELECT value_key, type, is_primary FROM user_emails WHERE tenant_id = 'acme' AND user_id = ?",
        vec![id.into()],
    );
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["value_key"], "bjensen@example.com");
}

#[test]
fn get_reads_back_and_unknown_id_is_404_scim_error() {
    let app = App::new();
    let acme = app.tenant("acme");
    let id = app.call(&acme, "POST", "/Users", Some(user("reader"))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.call(&acme, "GET", &format!("/Users/{id}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["userName"], "reader");
    assert_eq!(r.body["id"], id.as_str());
    let missing = app.call(&acme, "GET", "/Users/nope", None);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(missing.body["status"], "404");
}

#[test]
fn filter_user_name_eq_is_case_insensitive_and_stored_case_is_kept() {
    // idp-behaviour.md: userName matches case-insensitively, returned as sent.
    let app = App::new();
    let acme = app.tenant("acme");
    app.call(
        &acme,
        "POST",
        "/Users",
        Some(user("Case.Mixed@Example.com")),
    );
    app.call(
        &acme,
        "POST",
        "/Users",
        Some(user("someone.else@example.com")),
    );
    let r = app.call(
        &acme,
        "GET",
        "/Users?filter=userName%20eq%20%22case.mixed%40EXAMPLE.com%22",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["itemsPerPage"], 1);
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(r.body["Resources"][0]["userName"], "Case.Mixed@Example.com");
}

#[test]
fn filter_matching_nothing_is_an_empty_200_list() {
    // Entra Test Connection: filter on a random GUID, no Accept header.
    let app = App::new();
    let acme = app.tenant("acme");
    let r = app.call(
        &acme,
        "GET",
        "/Users?filter=userName+eq+%229b1d2c3e-1111-4a2b-8c3d-000000000000%22&aadOptscim062020",
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    assert_eq!(r.body["Resources"], json!([]));
}

#[test]
fn invalid_filter_is_400_invalid_filter() {
    let app = App::new();
    let acme = app.tenant("acme");
    for f in [
        "userName%20eq",
        "userName%20zz%20%22a%22",
        "(userName%20eq%20%22a%22",
        "nosuchattr%20eq%20%22a%22",
    ] {
        let r = app.call(&acme, "GET", &format!("/Users?filter={f}"), None);
        assert_eq!(r.status, 400, "{f}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidFilter", "{f}");
    }
}

#[test]
fn duplicate_user_name_in_any_case_is_409_and_other_tenants_are_separate() {
    let app = App::new();
    let acme = app.tenant("acme");
    let other = app.tenant("other");
    assert_eq!(
        app.call(&acme, "POST", "/Users", Some(user("dup@example.com")))
            .status,
        201
    );
    let r = app.call(&acme, "POST", "/Users", Some(user("DUP@Example.com")));
    assert_eq!(r.status, 409);
    assert_eq!(r.body["scimType"], "uniqueness");
    // Uniqueness is per tenant.
    assert_eq!(
        app.call(&other, "POST", "/Users", Some(user("dup@example.com")))
            .status,
        201
    );
    let n = app.rows(
        "SELECT count(*) AS n FROM users WHERE tenant_id = 'acme'",
        vec![],
    );
    assert_eq!(n[0]["n"], 1);
}

#[test]
fn delete_is_204_then_404_and_the_user_name_is_free_again() {
    let app = App::new();
    let acme = app.tenant("acme");
    let id = app.call(&acme, "POST", "/Users", Some(user("leaver"))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.call(&acme, "DELETE", &format!("/Users/{id}"), None);
    assert_eq!(r.status, 204);
    assert!(r.response.body.is_empty());
    assert_eq!(
        app.call(&acme, "GET", &format!("/Users/{id}"), None).status,
        404
    );
    assert_eq!(
        app.call(&acme, "DELETE", &format!("/Users/{id}"), None)
            .status,
        404
    );
    assert_eq!(
        app.call(&acme, "POST", "/Users", Some(user("leaver")))
            .status,
        201
    );
}

#[test]
fn wrong_missing_or_foreign_tokens_are_401_with_bearer_challenge() {
    let app = App::new();
    let acme = app.tenant("acme");
    let other = app.tenant("other");
    let wrong = scim_worker::testing::Creds {
        tenant: "acme".into(),
        token: "not-a-token".into(),
    };
    let foreign = scim_worker::testing::Creds {
        tenant: "acme".into(),
        token: other.token.clone(),
    };
    for creds in [&wrong, &foreign] {
        let r = app.call(creds, "GET", "/Users", None);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.body["status"], "401");
        assert_eq!(r.body["detail"], "Authentication failed.");
    }
    let no_auth = app.request(scim_worker::Request::new(
        scim_worker::Method::Get,
        "/scim/v2/acme/Users",
    ));
    assert_eq!(no_auth.status, 401);
    assert_eq!(app.call(&acme, "GET", "/Users", None).status, 200);
}

#[test]
fn unknown_endpoints_are_404_scim_errors() {
    let app = App::new();
    let acme = app.tenant("acme");
    for path in ["/Nope", "/Users/x/y"] {
        let r = app.call(&acme, "GET", path, None);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    let r = app.request(scim_worker::Request::new(
        scim_worker::Method::Get,
        "/elsewhere",
    ));
    assert_eq!(r.status, 404);
}

#[test]
fn index_paging_is_stable_and_exact() {
    // RFC 7644 §3.4.2.4: 1-based startIndex, count, exact totalResults.
    let app = App::new();
    let acme = app.tenant("acme");
    for i in 0..5 {
        app.call(&acme, "POST", "/Users", Some(user(&format!("u{i}"))));
    }
    let page = app.call(&acme, "GET", "/Users?startIndex=2&count=2", None);
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "u1");
    assert_eq!(page.body["Resources"][1]["userName"], "u2");
    // A short last page, and a page past the end, still report the exact total.
    let tail = app.call(&acme, "GET", "/Users?startIndex=4&count=10", None);
    assert_eq!(tail.body["totalResults"], 5);
    assert_eq!(tail.body["itemsPerPage"], 2);
    let past = app.call(&acme, "GET", "/Users?startIndex=9", None);
    assert_eq!(past.body["totalResults"], 5);
    assert_eq!(past.body["itemsPerPage"], 0);
    let none = app.call(&acme, "GET", "/Users?count=0", None);
    assert_eq!(none.body["totalResults"], 5);
    assert_eq!(none.body["Resources"], json!([]));
}

#[test]
fn delete_retains_a_tombstone_by_default_and_removes_the_row_when_configured() {
    // Issue 4: the DELETE policy is a tenant setting; "retain" is the default.
    let app = App::new();
    let acme = app.tenant("acme");
    let id = app.call(&acme, "POST", "/Users", Some(user("gone"))).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.call(&acme, "DELETE", &format!("/Users/{id}"), None)
            .status,
        204
    );
    let rows = app.rows(
        "SELECT active, deleted_at, user_name FROM users WHERE id = ?",
        vec![id.as_str().into()],
    );
    assert_eq!(rows.len(), 1, "the tombstone is kept");
    assert_eq!(rows[0]["active"], 0);
    assert!(rows[0]["deleted_at"].is_string());
    assert_eq!(rows[0]["user_name"], "gone");
    // SCIM no longer sees it, and a new user may take the userName.
    assert_eq!(
        app.call(&acme, "GET", &format!("/Users/{id}"), None).status,
        404
    );
    let list = app.call(&acme, "GET", "/Users?filter=userName+eq+%22gone%22", None);
    assert_eq!(list.body["totalResults"], 0);
    assert_eq!(
        app.call(&acme, "POST", "/Users", Some(user("gone"))).status,
        201
    );

    app.rows(
        "UPDATE tenants SET settings = '{\"deletePolicy\":\"remove\"}' WHERE id = 'acme'",
        vec![],
    );
    let id2 = app
        .call(&acme, "POST", "/Users", Some(user("removed")))
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.call(&acme, "DELETE", &format!("/Users/{id2}"), None)
            .status,
        204
    );
    let rows = app.rows(
        "SELECT id FROM users WHERE id = ?",
        vec![id2.as_str().into()],
    );
    assert!(rows.is_empty(), "the row is removed");
}

#[test]
fn over_the_rate_limit_is_429_with_integer_retry_after() {
    // idp-behaviour.md, both clients: under overload answer 429 with an
    // integer-seconds Retry-After.
    let mut app = App::new();
    app.limiter = scim_worker::testing::Budget::new(2);
    let acme = app.tenant("acme");
    assert_eq!(app.call(&acme, "GET", "/Users", None).status, 200);
    assert_eq!(app.call(&acme, "GET", "/Users", None).status, 200);
    let r = app.call(&acme, "GET", "/Users", None);
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0);
    assert_eq!(r.body["status"], "429");
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    // The limit is per token: another tenant's token is unaffected.
    let other = app.tenant("other");
    assert_eq!(app.call(&other, "GET", "/Users", None).status, 200);
}
