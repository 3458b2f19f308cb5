//! Filters, sorting, projection and search over real SQLite (RFC 7644 §3.4).

use scim_worker::testing::{
    urn::{ENTERPRISE, USER},
    App, Creds,
};
use serde_json::{json, Value};

fn seed(app: &App) -> Creds {
    let acme = app.tenant("acme");
    let users = [
        json!({"schemas": [USER, ENTERPRISE], "userName": "bjensen", "externalId": "E1",
               "name": {"familyName": "Jensen", "givenName": "Barbara"}, "title": "Tour Guide",
               "userType": "Employee", "active": true,
               "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                          {"value": "babs@home.org", "type": "home"}],
               ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations"}}),
        json!({"schemas": [USER], "userName": "jsmith", "externalId": "E2",
               "name": {"familyName": "O'Malley", "givenName": "John"}, "userType": "Intern",
               "active": false, "emails": [{"value": "john@example.org", "type": "work"}]}),
        json!({"schemas": [USER], "userName": "Zed", "userType": "Employee",
               "emails": [{"value": "zed@example.com", "type": "home"}]}),
    ];
    for u in users {
        let r = app.call(&acme, "POST", "/Users", Some(u));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    acme
}

fn names(body: &Value) -> Vec<String> {
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn filter(app: &App, c: &Creds, f: &str) -> Vec<String> {
    let q: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
    let r = app.call(c, "GET", &format!("/Users?filter={q}"), None);
    assert_eq!(r.status, 200, "{f}: {}", r.body);
    let mut n = names(&r.body);
    n.sort();
    n
}

#[test]
fn rfc7644_filter_examples_select_the_right_users() {
    // RFC 7644 §3.4.2.2, the example filters, evaluated in SQL.
    let app = App::new();
    let c = seed(&app);
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "BJENSEN""#, &["bjensen"]),
        (r#"name.familyName co "O'Malley""#, &["jsmith"]),
        (r#"userName sw "J""#, &["jsmith"]),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            &["jsmith"],
        ),
        (r#"title pr"#, &["bjensen"]),
        (r#"title pr and userType eq "Employee""#, &["bjensen"]),
        (
            r#"title pr or userType eq "Intern""#,
            &["bjensen", "jsmith"],
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            &["Zed", "bjensen"],
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            &[],
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            &["bjensen"],
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            &["bjensen"],
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or emails[type eq "home" and value co "@example.com"]"#,
            &["Zed", "bjensen"],
        ),
        (r#"externalId eq "E2""#, &["jsmith"]),
        (r#"externalId eq "e2""#, &[]), // externalId is caseExact (RFC 7643 §3.1)
        (r#"active eq false"#, &["jsmith"]),
        (r#"active eq true"#, &["Zed", "bjensen"]),
        (
            r#"emails[type eq "work"].value eq "JOHN@example.org""#,
            &["jsmith"],
        ),
        (r#"emails.value ew ".org""#, &["bjensen", "jsmith"]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
            &["bjensen"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "tour""#,
            &["bjensen"],
        ),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            &["Zed", "bjensen", "jsmith"],
        ),
        (r#"meta.created lt "2011-05-13T04:42:34Z""#, &[]),
        (
            r#"meta.resourceType eq "User""#,
            &["Zed", "bjensen", "jsmith"],
        ),
        (r#"not (userName eq "zed")"#, &["bjensen", "jsmith"]),
        (r#"title eq null"#, &["Zed", "jsmith"]),
        (r#"userName gt "c""#, &["jsmith", "Zed"]),
    ];
    for (f, want) in cases {
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(filter(&app, &c, f), want, "filter {f}");
    }
}

#[test]
fn sort_by_orders_case_insensitively_and_descending() {
    // RFC 7644 §3.4.2.3.
    let app = App::new();
    let c = seed(&app);
    let r = app.call(&c, "GET", "/Users?sortBy=userName", None);
    assert_eq!(names(&r.body), ["bjensen", "jsmith", "Zed"]);
    let r = app.call(
        &c,
        "GET",
        "/Users?sortBy=userName&sortOrder=descending",
        None,
    );
    assert_eq!(names(&r.body), ["Zed", "jsmith", "bjensen"]);
    // Unassigned values sort last.
    let r = app.call(&c, "GET", "/Users?sortBy=name.familyName", None);
    assert_eq!(names(&r.body), ["bjensen", "jsmith", "Zed"]);
    let r = app.call(&c, "GET", "/Users?sortBy=userName&sortOrder=sideways", None);
    assert_eq!(r.status, 400);
}

#[test]
fn attributes_and_excluded_attributes_shape_every_read() {
    // RFC 7644 §3.4.2.5: id and schemas are always returned.
    let app = App::new();
    let c = seed(&app);
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName+eq+%22bjensen%22&attributes=name.givenName,emails",
        None,
    );
    let u = &r.body["Resources"][0];
    assert!(u.get("id").is_some());
    assert_eq!(u["name"], json!({"givenName": "Barbara"}));
    assert!(u.get("emails").is_some());
    assert!(u.get("userName").is_none());
    assert!(u.get("title").is_none());
    let r = app.call(
        &c,
        "GET",
        "/Users?filter=userName+eq+%22bjensen%22&excludedAttributes=emails,meta",
        None,
    );
    let u = &r.body["Resources"][0];
    assert!(u.get("emails").is_none());
    assert!(u.get("meta").is_none());
    assert_eq!(u["userName"], "bjensen");
}

#[test]
fn post_search_takes_a_search_request() {
    // RFC 7644 §3.4.3.
    let app = App::new();
    let c = seed(&app);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["userName"],
        "filter": "userType eq \"Employee\"",
        "sortBy": "userName",
        "startIndex": 1,
        "count": 1,
    });
    let r = app.call(&c, "POST", "/Users/.search", Some(body.clone()));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 2);
    assert_eq!(names(&r.body), ["bjensen"]);
    assert!(r.body["Resources"][0].get("emails").is_none());
    let root = app.call(&c, "POST", "/.search", Some(body));
    assert_eq!(root.status, 200, "{}", root.body);
    assert_eq!(root.body["totalResults"], 2);
    let bad = app.call(
        &c,
        "POST",
        "/.search",
        Some(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq"})),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["scimType"], "invalidFilter");
}

#[test]
fn etag_if_none_match_and_if_match() {
    // RFC 7644 §3.14.
    let app = App::new();
    let c = seed(&app);
    let list = app.call(&c, "GET", "/Users?filter=userName+eq+%22zed%22", None);
    let id = list.body["Resources"][0]["id"].as_str().unwrap().to_owned();
    let get = app.call(&c, "GET", &format!("/Users/{id}"), None);
    let tag = get.header("etag").unwrap().to_owned();
    assert_eq!(get.body["meta"]["version"], tag.as_str());
    let mut req = scim_worker::Request::new(
        scim_worker::Method::Get,
        &format!("/scim/v2/acme/Users/{id}"),
    )
    .with_header("Authorization", &format!("Bearer {}", c.token))
    .with_header("If-None-Match", &tag);
    assert_eq!(app.request(req.clone()).status, 304);
    let put_body = json!({"schemas": [USER], "userName": "Zed", "title": "New"}).to_string();
    req = req.with_body(put_body.clone());
    req.method = scim_worker::Method::Put;
    req.headers.retain(|(k, _)| k != "if-none-match");
    let stale = req.clone().with_header("If-Match", "W/\"99\"");
    let r = app.request(stale);
    assert_eq!(r.status, 412);
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{id}"), None)
            .body
            .get("title"),
        None
    );
    let ok = app.request(req.with_header("If-Match", &tag));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["title"], "New");
    assert_eq!(ok.header("etag"), Some("W/\"2\""));
}

#[test]
fn discovery_endpoints_describe_the_server() {
    // RFC 7644 §4.
    let app = App::new();
    let c = app.tenant("acme");
    let spc = app.call(&c, "GET", "/ServiceProviderConfig", None);
    assert_eq!(spc.status, 200);
    assert_eq!(spc.body["filter"]["supported"], true);
    let schemas = app.call(&c, "GET", "/Schemas", None);
    assert_eq!(schemas.body["totalResults"], 3);
    let user = app.call(
        &c,
        "GET",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        None,
    );
    assert_eq!(user.status, 200);
    assert_eq!(user.body["name"], "User");
    let rts = app.call(&c, "GET", "/ResourceTypes", None);
    assert_eq!(rts.body["totalResults"], 2);
    let rt = app.call(&c, "GET", "/ResourceTypes/User", None);
    assert_eq!(rt.body["schemaExtensions"][0]["schema"], ENTERPRISE);
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        for p in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
            let r = app.call(&c, m, p, Some(json!({})));
            assert_eq!(r.status, 405, "{m} {p}");
            assert_eq!(
                r.body["schemas"][0],
                "urn:ietf:params:scim:api:messages:2.0:Error"
            );
        }
    }
    assert_eq!(app.call(&c, "GET", "/Schemas/urn:nope", None).status, 404);
    assert_eq!(app.call(&c, "GET", "/ResourceTypes/Nope", None).status, 404);
}

#[test]
fn cursor_pagination_walks_forward_and_back_with_keysets() {
    // RFC 9865: cursor= asks for the first page; nextCursor/previousCursor.
    let app = App::new();
    let c = app.tenant("acme");
    for i in 0..5 {
        let r = app.call(
            &c,
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": format!("u{i}")})),
        );
        assert_eq!(r.status, 201);
    }
    let first = app.call(&c, "GET", "/Users?cursor=&count=2", None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(names(&first.body), ["u0", "u1"]);
    assert_eq!(first.body["totalResults"], 5);
    assert!(first.body.get("startIndex").is_none());
    assert!(first.body.get("previousCursor").is_none());
    let next = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = app.call(&c, "GET", &format!("/Users?cursor={next}&count=2"), None);
    assert_eq!(names(&second.body), ["u2", "u3"]);
    let next = second.body["nextCursor"].as_str().unwrap().to_owned();
    let prev = second.body["previousCursor"].as_str().unwrap().to_owned();
    let last = app.call(&c, "GET", &format!("/Users?cursor={next}&count=2"), None);
    assert_eq!(names(&last.body), ["u4"]);
    assert!(last.body.get("nextCursor").is_none());
    let back = app.call(&c, "GET", &format!("/Users?cursor={prev}&count=2"), None);
    assert_eq!(names(&back.body), ["u0", "u1"]);
    assert!(back.body.get("previousCursor").is_none());
    // A cursor is bound to its query: replaying it with another filter fails.
    let replay = app.call(
        &c,
        "GET",
        &format!("/Users?cursor={next}&filter=userName+pr"),
        None,
    );
    assert_eq!(replay.status, 400);
    assert_eq!(replay.body["scimType"], "invalidCursor");
    let garbage = app.call(&c, "GET", "/Users?cursor=zzz", None);
    assert_eq!(garbage.body["scimType"], "invalidCursor");
    let both = app.call(&c, "GET", "/Users?cursor=&startIndex=1", None);
    assert_eq!(both.status, 400);
}
