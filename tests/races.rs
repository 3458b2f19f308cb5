//! Native tests of writes racing another write (issue 7): another request's
//! write lands between this request's read of a resource and its own write,
//! as happens when Okta or Entra send parallel requests for one group or
//! user. Without If-Match the loser is redone on the new state; with a stale
//! If-Match it is 412 and writes nothing (RFC 7644 §3.14).

use scim_worker::testing::{
    urn::{GROUP, PATCH_OP, USER},
    App, Creds,
};
use std::cell::RefCell;

use scim_worker::testing::SqliteExecutor;
use scim_worker::{Method, Request, Response};
use scim_worker::{Row, SqlExecutor, Stmt, StoreError, Written};
use serde_json::{json, Value};

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

/// Another request adding `member` to `group`, as the store writes it.
fn concurrent_add(tenant: &str, group: &str, member: &str) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "UPDATE groups SET version = version + 1 WHERE tenant_id = ? AND id = ?",
            vec![tenant.into(), group.into()],
        ),
        Stmt::new(
            "INSERT INTO group_members (tenant_id, group_id, member_id, member_type) VALUES (?, ?, ?, 'User')",
            vec![tenant.into(), group.into(), member.into()],
        ),
    ]
}

fn patch_with_race(
    app: &App,
    c: &Creds,
    group: &str,
    ops: Value,
    if_match: Option<&str>,
    interleave: Vec<Stmt>,
) -> Response {
    let mut req = Request::new(
        Method::Patch,
        &format!("/scim/v2/{}/Groups/{group}", c.tenant),
    )
    .with_header("Authorization", &format!("Bearer {}", c.token))
    .with_header("Content-Type", "application/scim+json")
    .with_body(json!({"schemas": [PATCH_OP], "Operations": ops}).to_string());
    if let Some(tag) = if_match {
        req = req.with_header("If-Match", tag);
    }
    let db = Interleaved {
        inner: &app.db,
        interleave: RefCell::new(Some(interleave)),
    };
    app.request_with(&db, req).response
}

fn members(app: &App, c: &Creds, group: &str) -> Vec<String> {
    let mut ids: Vec<String> = app
        .rows(
            "SELECT member_id FROM group_members WHERE tenant_id = ? AND group_id = ?",
            vec![c.tenant.as_str().into(), group.into()],
        )
        .iter()
        .filter_map(|r| r.get("member_id")?.as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

fn setup() -> (App, Creds, String, String, String) {
    let app = App::new();
    let c = app.tenant("acme");
    let a = app.named_user(&c, "a");
    let b = app.named_user(&c, "b");
    let g = app.call(
        &c,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "g"})),
    );
    assert_eq!(g.status, 201);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    (app, c, gid, a, b)
}

#[test]
fn a_member_add_without_if_match_applies_although_another_add_bumped_the_version() {
    // Okta/Entra: PATCH add members, no If-Match, in parallel. Before the
    // fix the loser of the race answered 412 and its member was lost.
    let (app, c, gid, a, b) = setup();
    let r = patch_with_race(
        &app,
        &c,
        &gid,
        json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
        None,
        concurrent_add("acme", &gid, &a),
    );
    assert_eq!(r.status, 204, "{:?}", r.json_body());
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(members(&app, &c, &gid), want);
    // Both writes bumped the version; the ETag is the one after both.
    assert_eq!(r.header("etag"), Some("W/\"3\""));
}

#[test]
fn a_member_add_with_a_stale_if_match_is_still_412_and_adds_nothing() {
    // RFC 7644 §3.14: with If-Match the write is conditional on the version.
    let (app, c, gid, a, b) = setup();
    let r = patch_with_race(
        &app,
        &c,
        &gid,
        json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
        Some("W/\"1\""),
        concurrent_add("acme", &gid, &a),
    );
    assert_eq!(r.status, 412);
    assert_eq!(members(&app, &c, &gid), vec![a]);
}

#[test]
fn a_document_change_racing_a_member_add_loses_neither() {
    // The rename is written guarded by the version it was read at; it loses
    // the race, is redone on the new state, and keeps the other's member.
    let (app, c, gid, a, _) = setup();
    let r = patch_with_race(
        &app,
        &c,
        &gid,
        json!([{"op": "replace", "path": "displayName", "value": "renamed"}]),
        None,
        concurrent_add("acme", &gid, &a),
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.header("etag"), Some("W/\"3\""));
    let g = app.call(&c, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(g.body["displayName"], "renamed");
    assert_eq!(members(&app, &c, &gid), vec![a]);
}

/// Another request changing the user's title (and version) in the store.
fn concurrent_user_write(tenant: &str, user: &str) -> Vec<Stmt> {
    vec![Stmt::new(
        "UPDATE users SET version = version + 1, doc = json_set(doc, '$.title', 'Set meanwhile') \
         WHERE tenant_id = ? AND id = ?",
        vec![tenant.into(), user.into()],
    )]
}

fn user_write_with_race(
    app: &App,
    c: &Creds,
    method: Method,
    user: &str,
    body: Value,
    if_match: Option<&str>,
) -> Response {
    let mut req = Request::new(method, &format!("/scim/v2/{}/Users/{user}", c.tenant))
        .with_header("Authorization", &format!("Bearer {}", c.token))
        .with_header("Content-Type", "application/scim+json")
        .with_body(body.to_string());
    if let Some(tag) = if_match {
        req = req.with_header("If-Match", tag);
    }
    let db = Interleaved {
        inner: &app.db,
        interleave: RefCell::new(Some(concurrent_user_write(&c.tenant, user))),
    };
    app.request_with(&db, req).response
}

#[test]
fn a_user_patch_without_if_match_is_redone_on_the_state_another_request_left() {
    // Entra sends PATCHes of one user without If-Match; a race must not
    // answer 412 (that is only for a failed If-Match, RFC 7644 §3.14) nor
    // lose the other request's change.
    let (app, c, _, a, _) = setup();
    let r = user_write_with_race(
        &app,
        &c,
        Method::Patch,
        &a,
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "displayName", "value": "Ann"}]}),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.json_body());
    let body = r.json_body().unwrap();
    assert_eq!(body["displayName"], "Ann");
    assert_eq!(body["title"], "Set meanwhile", "the other write is kept");
    assert_eq!(r.header("etag"), Some("W/\"3\""));
    let read = app.call(&c, "GET", &format!("/Users/{a}"), None);
    assert_eq!(read.body["displayName"], "Ann");
    assert_eq!(read.body["title"], "Set meanwhile");
}

#[test]
fn a_user_patch_or_put_with_the_if_match_it_read_is_412_after_another_write() {
    let (app, c, _, a, _) = setup();
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Ann"}]});
    let put = json!({"schemas": [USER], "userName": "a", "displayName": "Ann"});
    for (method, body) in [(Method::Patch, patch), (Method::Put, put)] {
        let before = app.call(&c, "GET", &format!("/Users/{a}"), None);
        let tag = before.header("etag").unwrap().to_owned();
        let r = user_write_with_race(&app, &c, method, &a, body, Some(&tag));
        assert_eq!(r.status, 412, "{method:?}");
        let after = app.call(&c, "GET", &format!("/Users/{a}"), None);
        assert_eq!(after.body["title"], "Set meanwhile");
        assert!(
            after.body.get("displayName").is_none(),
            "{method:?} wrote nothing"
        );
    }
}

#[test]
fn a_user_put_without_if_match_replaces_whatever_another_request_wrote() {
    // PUT replaces the resource (RFC 7644 §3.5.1): the last write wins whole.
    let (app, c, _, a, _) = setup();
    let r = user_write_with_race(
        &app,
        &c,
        Method::Put,
        &a,
        json!({"schemas": [USER], "userName": "a", "displayName": "Ann"}),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.json_body());
    let read = app.call(&c, "GET", &format!("/Users/{a}"), None);
    assert_eq!(read.body["displayName"], "Ann");
    assert!(
        read.body.get("title").is_none(),
        "PUT replaced the other write"
    );
    assert_eq!(read.header("etag"), Some("W/\"3\""));
}

#[test]
fn a_delete_with_the_if_match_it_read_is_412_after_another_write_and_deletes_nothing() {
    // RFC 7644 §3.14: the version check and the delete are one statement, so
    // a write landing between the read and the delete is not overwritten.
    let (app, c, _, a, _) = setup();
    let r = user_write_with_race(&app, &c, Method::Delete, &a, json!(null), Some("W/\"1\""));
    assert_eq!(r.status, 412);
    let read = app.call(&c, "GET", &format!("/Users/{a}"), None);
    assert_eq!(read.status, 200);
    assert_eq!(read.body["title"], "Set meanwhile");
    // Without If-Match the delete applies whatever the version.
    let r = user_write_with_race(&app, &c, Method::Delete, &a, json!(null), None);
    assert_eq!(r.status, 204);
    assert_eq!(
        app.call(&c, "GET", &format!("/Users/{a}"), None).status,
        404
    );
}
