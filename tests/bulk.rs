//! Bulk (RFC 7644 §3.7) over real SQLite.

use scim_worker::testing::{
    urn::{BULK_REQUEST as BULK, GROUP, USER},
    App,
};
use serde_json::{json, Value};

fn statuses(body: &Value) -> Vec<String> {
    body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn bulk_ids_link_a_new_user_into_a_new_group_even_when_referenced_first() {
    // RFC 7644 §3.7.2: the group refers to the user by bulkId before it exists.
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Bulk",
        Some(json!({
            "schemas": [BULK],
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "g1",
                 "data": {"schemas": [GROUP], "displayName": "Tour Guides",
                          "members": [{"type": "User", "value": "bulkId:u1"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "u1",
                 "data": {"schemas": [USER], "userName": "alice"}},
            ]
        })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    assert_eq!(statuses(&r.body), ["201", "201"]);
    let group_location = r.body["Operations"][0]["location"].as_str().unwrap();
    let user_location = r.body["Operations"][1]["location"].as_str().unwrap();
    let gid = group_location.rsplit('/').next().unwrap();
    let uid = user_location.rsplit('/').next().unwrap();
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["members"][0]["value"], uid);
    assert!(r.body["Operations"][0]["version"]
        .as_str()
        .unwrap()
        .starts_with("W/"));
}

#[test]
fn fail_on_errors_stops_after_that_many_errors() {
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Bulk",
        Some(json!({
            "schemas": [BULK],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "dup"}},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": "DUP"}},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [USER], "userName": "never"}},
            ]
        })),
    );
    assert_eq!(r.status, 200);
    assert_eq!(statuses(&r.body), ["201", "409"]);
    assert_eq!(
        r.body["Operations"][1]["response"]["scimType"],
        "uniqueness"
    );
    let never = app.call(&c, "GET", "/Users?filter=userName+eq+%22never%22", None);
    assert_eq!(never.body["totalResults"], 0);
}

#[test]
fn operations_referring_to_a_failed_bulk_id_fail_with_409() {
    let app = App::new();
    let c = app.tenant("acme");
    let r = app.call(
        &c,
        "POST",
        "/Bulk",
        Some(json!({
            "schemas": [BULK],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"schemas": [USER]}},
                {"method": "DELETE", "path": "/Users/bulkId:bad"},
                {"method": "PUT", "path": "/Users/nope", "data": {"schemas": [USER], "userName": "x"}},
            ]
        })),
    );
    assert_eq!(statuses(&r.body), ["400", "409", "404"]);
}

#[test]
fn limits_are_advertised_and_enforced_with_413() {
    // RFC 7644 §3.7.4: maxOperations and maxPayloadSize.
    let app = App::new();
    let c = app.tenant("acme");
    let spc = app.call(&c, "GET", "/ServiceProviderConfig", None);
    assert_eq!(spc.body["bulk"]["supported"], true);
    let max_ops = spc.body["bulk"]["maxOperations"].as_u64().unwrap() as usize;
    let max_payload = spc.body["bulk"]["maxPayloadSize"].as_u64().unwrap() as usize;
    let op = json!({"method": "DELETE", "path": "/Users/x"});
    let too_many = json!({"schemas": [BULK], "Operations": vec![op; max_ops + 1]});
    let r = app.call(&c, "POST", "/Bulk", Some(too_many));
    assert_eq!(r.status, 413);
    let big = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a",
         "data": {"schemas": [USER], "userName": "x".repeat(max_payload)}}]});
    let r = app.call(&c, "POST", "/Bulk", Some(big));
    assert_eq!(r.status, 413);
    assert_eq!(
        app.rows("SELECT count(*) AS n FROM users", vec![])[0]["n"],
        0
    );
}
