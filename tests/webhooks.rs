//! Webhooks (issue 14): endpoints managed through the admin API, events
//! dispatched after the write's commit through the events queue, delivered
//! signed per Standard Webhooks (standardwebhooks.com v1.0.0), retried on
//! the schedule, disabled by 410 Gone, recovered by the cron when a queue
//! send is lost. The queue and receivers are the harness's in-memory ones;
//! e2e/webhooks.test.mjs checks the same on the built worker with Miniflare's
//! queues and the `standardwebhooks` package as the independent verifier.

use scim_worker::testing::{urn::USER, App, Creds, Post};
use serde_json::{json, Value};

fn hook(app: &App, tenant: &str, body: Value) -> Value {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "POST",
        &format!("/tenants/{tenant}/webhooks"),
        Some(body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn user(app: &App, c: &Creds, name: &str) -> String {
    let r = app.call(
        c,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": name})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn header<'a>(p: &'a Post, name: &str) -> &'a str {
    p.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Verifies like a Standard Webhooks receiver: any `v1,` signature of
/// `id.timestamp.body` under the secret's bytes.
fn verifies(p: &Post, secret: &str) -> bool {
    use hmac_sha256::HMAC;
    let key = secret.strip_prefix("whsec_").unwrap();
    let key = base64_decode(key);
    let content = format!(
        "{}.{}.{}",
        header(p, "webhook-id"),
        header(p, "webhook-timestamp"),
        p.body
    );
    let want = base64_encode(&HMAC::mac(content.as_bytes(), &key));
    header(p, "webhook-signature")
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(want.as_str()))
}

fn base64_encode(b: &[u8]) -> String {
    use ct_codecs::{Base64, Encoder};
    Base64::encode_to_string(b).unwrap()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use ct_codecs::{Base64, Decoder};
    Base64::decode_to_vec(s, None).unwrap()
}

fn deliveries(app: &App, tenant: &str, id: &str) -> Vec<Value> {
    let r = app.admin(
        &app.admin_token(Some(tenant)),
        "GET",
        &format!("/tenants/{tenant}/webhooks/{id}/deliveries"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["deliveries"].as_array().unwrap().clone()
}

#[test]
fn an_endpoint_shows_its_secret_once_and_refuses_unsafe_urls() {
    let app = App::new();
    app.provision("acme");
    let h = hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim", "description": "CRM"}),
    );
    let secret = h["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    // 32 bytes, base64 (Standard Webhooks: 24 to 64 bytes).
    assert_eq!(base64_decode(&secret[6..]).len(), 32);
    assert_eq!(h["types"], json!(["*"]));
    assert_eq!(h["enabled"], true);
    let id = h["id"].as_str().unwrap();
    let admin = app.admin_token(Some("acme"));
    let got = app.admin(&admin, "GET", &format!("/tenants/acme/webhooks/{id}"), None);
    assert_eq!(got.status, 200);
    assert!(got.body.get("secret").is_none(), "{}", got.body);
    let listed = app.admin(&admin, "GET", "/tenants/acme/webhooks", None);
    assert!(!listed.body.to_string().contains(secret));
    // Nothing in the database holds the secret.
    let rows = app.rows("SELECT * FROM webhooks", vec![]);
    assert!(
        !Value::from(rows.clone()).to_string().contains(&secret[6..]),
        "{rows:?}"
    );
    for bad in [
        json!({"url": "http://hooks.example.com/x"}),
        json!({"url": "https://10.0.0.5/x"}),
        json!({"url": "https://169.254.169.254/latest"}),
        json!({"url": "not a url"}),
        json!({"url": "https://hooks.example.com/x", "types": ["user.renamed"]}),
        json!({"url": "https://hooks.example.com/x", "extra": 1}),
    ] {
        let r = app.admin(&admin, "POST", "/tenants/acme/webhooks", Some(bad.clone()));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let other = app.admin(
        &app.admin_token(Some("globex")),
        "GET",
        "/tenants/acme/webhooks",
        None,
    );
    assert_eq!(other.status, 403);
}

#[test]
fn a_write_is_delivered_signed_after_its_commit() {
    let app = App::new();
    let c = app.provision("acme");
    let h = hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim"}),
    );
    let secret = h["secret"].as_str().unwrap();
    let id = user(&app, &c, "bob@example.com");
    // The write queued a dispatch, nothing was POSTed during the request.
    assert!(app.out.posts().is_empty());
    assert_eq!(app.out.queued().len(), 1);
    app.pump(10);
    let posts = app.out.posts();
    assert_eq!(posts.len(), 1);
    let p = &posts[0];
    assert_eq!(p.url, "https://hooks.example.com/scim");
    assert_eq!(header(p, "content-type"), "application/json");
    assert!(verifies(p, secret), "{p:?}");
    assert!(!verifies(p, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    let body: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["resource"]["id"], id);
    assert_eq!(header(p, "webhook-id"), body["id"].as_str().unwrap());
    let ts: i64 = header(p, "webhook-timestamp").parse().unwrap();
    assert!((ts - app.now.timestamp()).abs() <= 1);
    // The same event as the feed shows.
    let feed = app.admin(&app.admin_token(None), "GET", "/tenants/acme/events", None);
    assert_eq!(feed.body["events"][0], body);
    let d = deliveries(&app, "acme", h["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "delivered");
    assert_eq!(d[0]["attempts"], 1);
    assert_eq!(d[0]["lastStatus"], 200);
    assert_eq!(d[0]["event"]["type"], "user.created");
}

#[test]
fn a_failure_is_retried_after_the_schedule_and_then_succeeds() {
    let app = App::new();
    let c = app.provision("acme");
    let h = hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim"}),
    );
    app.out.answer(500);
    user(&app, &c, "bob@example.com");
    // dispatch, then the first attempt (500): the retry is queued 5 s later.
    app.pump(2);
    let queued = app.out.queued();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].1, 5);
    let d = deliveries(&app, "acme", h["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "pending");
    assert_eq!(d[0]["lastStatus"], 500);
    assert_eq!(d[0]["lastError"], "HTTP 500");
    assert!(d[0]["nextAttempt"].as_str().is_some());
    app.pump(10);
    let d = deliveries(&app, "acme", h["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "delivered");
    assert_eq!(d[0]["attempts"], 2);
    let posts = app.out.posts();
    assert_eq!(posts.len(), 2);
    // Retries carry the same webhook-id: the receiver's dedup key.
    assert_eq!(
        header(&posts[0], "webhook-id"),
        header(&posts[1], "webhook-id")
    );
}

#[test]
fn gone_disables_the_endpoint_and_the_last_attempt_fails_the_delivery() {
    let app = App::new();
    let c = app.provision("acme");
    let gone = hook(&app, "acme", json!({"url": "https://gone.example.com/x"}));
    app.out.answer(410);
    user(&app, &c, "a@example.com");
    app.pump(10);
    let admin = app.admin_token(Some("acme"));
    let w = app.admin(
        &admin,
        "GET",
        &format!("/tenants/acme/webhooks/{}", gone["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(w.body["enabled"], false);
    assert_eq!(w.body["disabledReason"], "the receiver answered 410 Gone");
    let d = deliveries(&app, "acme", gone["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "failed");
    // A disabled endpoint gets nothing more.
    user(&app, &c, "b@example.com");
    app.pump(10);
    assert_eq!(app.out.posts().len(), 1);

    let down = hook(&app, "acme", json!({"url": "https://down.example.com/x"}));
    for _ in 0..8 {
        app.out
            .fail("TimeoutError: The operation was aborted due to timeout");
    }
    user(&app, &c, "c@example.com");
    app.pump(100);
    let d = deliveries(&app, "acme", down["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "failed", "{d:?}");
    assert_eq!(d[0]["attempts"], 8);
    assert!(d[0]["lastError"]
        .as_str()
        .unwrap()
        .contains("gave up after 8 attempts"));
    // An operator's retry starts over and delivers.
    let dlv = d[0]["id"].as_str().unwrap();
    let r = app.admin(
        &admin,
        "POST",
        &format!(
            "/tenants/acme/webhooks/{}/deliveries/{dlv}/retry",
            down["id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    app.pump(10);
    let d = deliveries(&app, "acme", down["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "delivered");
}

#[test]
fn a_rotated_secret_signs_alongside_the_old_one_and_test_events_go_now() {
    let app = App::new();
    let c = app.provision("acme");
    let h = hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim"}),
    );
    let old = h["secret"].as_str().unwrap().to_owned();
    let id = h["id"].as_str().unwrap();
    let admin = app.admin_token(Some("acme"));
    let r = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/webhooks/{id}/rotate-secret"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    assert!(r.body["previousSecretExpires"].as_str().is_some());
    user(&app, &c, "bob@example.com");
    app.pump(10);
    let p = &app.out.posts()[0];
    assert_eq!(header(p, "webhook-signature").split(' ').count(), 2);
    assert!(verifies(p, &old) && verifies(p, &new));
    let t = app.admin(
        &admin,
        "POST",
        &format!("/tenants/acme/webhooks/{id}/test"),
        None,
    );
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["delivered"], true);
    let p = app.out.posts().last().cloned().unwrap();
    let body: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert!(verifies(&p, &new));
}

#[test]
fn endpoints_get_only_the_types_they_ask_for() {
    let app = App::new();
    let c = app.provision("acme");
    let groups = hook(
        &app,
        "acme",
        json!({"url": "https://g.example.com/", "types": ["group.*"]}),
    );
    let deact = hook(
        &app,
        "acme",
        json!({"url": "https://d.example.com/", "types": ["user.deactivated"]}),
    );
    let id = user(&app, &c, "bob@example.com");
    app.call(
        &c,
        "PATCH",
        &format!("/Users/{id}"),
        Some(scim_worker::testing::patch_ops(
            json!([{"op": "replace", "path": "active", "value": false}]),
        )),
    );
    app.pump(20);
    let posts = app.out.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].url, "https://d.example.com/");
    assert!(deliveries(&app, "acme", groups["id"].as_str().unwrap()).is_empty());
    assert_eq!(
        deliveries(&app, "acme", deact["id"].as_str().unwrap()).len(),
        1
    );
}

#[test]
fn a_lost_queue_send_is_recovered_by_the_cron_once() {
    let mut app = App::new();
    let c = app.provision("acme");
    hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim"}),
    );
    *app.out.queue_down.lock().unwrap() = true;
    user(&app, &c, "bob@example.com");
    *app.out.queue_down.lock().unwrap() = false;
    app.pump(10);
    assert!(app.out.posts().is_empty());
    // Too early: the dispatch may still be on its way.
    app.cron("* * * * *");
    assert!(app.out.queued().is_empty());
    app.now += chrono::Duration::minutes(2);
    app.cron("* * * * *");
    app.pump(10);
    assert_eq!(app.out.posts().len(), 1);
    // Nothing is left to recover: no duplicate.
    app.now += chrono::Duration::minutes(10);
    app.cron("* * * * *");
    app.pump(10);
    assert_eq!(app.out.posts().len(), 1);
}

#[test]
fn retention_drops_events_older_than_the_tenant_setting() {
    let mut app = App::new();
    let c = app.provision("acme");
    let r = app.admin(
        &app.admin_token(None),
        "PATCH",
        "/tenants/acme",
        Some(json!({"settings": {"eventRetentionDays": 0}})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    app.settings("acme", json!({"eventRetentionDays": 7}));
    user(&app, &c, "old@example.com");
    app.now += chrono::Duration::days(8);
    user(&app, &c, "new@example.com");
    app.cron("17 3 * * *");
    // (Admin tokens are signed with the real clock: read the table.)
    let rows = app.rows(
        "SELECT sequence, body FROM events WHERE tenant_id = 'acme' ORDER BY sequence",
        vec![],
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    // Sequences go on after a purge.
    assert_eq!(rows[0]["sequence"], 2);
    assert!(rows[0]["body"]
        .as_str()
        .unwrap()
        .contains("new@example.com"));
    // Even once every event is gone, no number is given twice.
    app.now += chrono::Duration::days(8);
    app.cron("17 3 * * *");
    let count = "SELECT sequence FROM events WHERE tenant_id = 'acme' ORDER BY sequence";
    assert_eq!(app.rows(count, vec![]).len(), 0);
    user(&app, &c, "newer@example.com");
    let rows = app.rows(count, vec![]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["sequence"], 3);
}

#[test]
fn a_dead_lettered_delivery_is_recorded_as_failed() {
    let app = App::new();
    let c = app.provision("acme");
    let h = hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim"}),
    );
    user(&app, &c, "bob@example.com");
    // Dispatch only: the delivery message stays queued.
    app.pump(1);
    let queued = app.out.take_queued();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].0["kind"], "deliver");
    app.dead_letter(&queued[0].0);
    let d = deliveries(&app, "acme", h["id"].as_str().unwrap());
    assert_eq!(d[0]["state"], "failed");
    assert!(d[0]["lastError"]
        .as_str()
        .unwrap()
        .contains("dead-lettered"));
}

#[test]
fn another_tenants_admin_token_gets_403_on_every_events_and_webhooks_endpoint() {
    let app = App::new();
    let c = app.provision("acme");
    app.provision("globex");
    let h = hook(
        &app,
        "acme",
        json!({"url": "https://hooks.example.com/scim"}),
    );
    let id = h["id"].as_str().unwrap();
    user(&app, &c, "bob@example.com");
    app.pump(10);
    let dlv = deliveries(&app, "acme", id)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let globex = app.admin_token(Some("globex"));
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/tenants/acme/events".into(), None),
        ("GET", "/tenants/acme/requests".into(), None),
        ("GET", "/tenants/acme/webhooks".into(), None),
        (
            "POST",
            "/tenants/acme/webhooks".into(),
            Some(json!({"url": "https://evil.example.com/"})),
        ),
        ("GET", format!("/tenants/acme/webhooks/{id}"), None),
        (
            "PATCH",
            format!("/tenants/acme/webhooks/{id}"),
            Some(json!({"enabled": false})),
        ),
        ("DELETE", format!("/tenants/acme/webhooks/{id}"), None),
        (
            "POST",
            format!("/tenants/acme/webhooks/{id}/rotate-secret"),
            None,
        ),
        ("POST", format!("/tenants/acme/webhooks/{id}/test"), None),
        (
            "GET",
            format!("/tenants/acme/webhooks/{id}/deliveries"),
            None,
        ),
        (
            "POST",
            format!("/tenants/acme/webhooks/{id}/deliveries/{dlv}/retry"),
            None,
        ),
    ];
    let posts = app.out.posts().len();
    for (method, path, body) in calls {
        let r = app.admin(&globex, method, &path, body);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    // Nothing changed: the endpoint is still there and enabled, nothing sent.
    let w = app.admin(
        &app.admin_token(Some("acme")),
        "GET",
        &format!("/tenants/acme/webhooks/{id}"),
        None,
    );
    assert_eq!(w.body["enabled"], true);
    assert_eq!(app.out.posts().len(), posts);
}
