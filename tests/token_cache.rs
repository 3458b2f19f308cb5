//! One storage call per lookup (issue 18): an isolate keeps the credential
//! records it verified for 30 s (less than the up to 60 s Workers KV takes
//! to carry a change everywhere), so a steady stream of requests from one
//! IdP reads KV once; the isolate that revokes a credential forgets it at
//! once, and any other isolate within 30 s.

use chrono::Duration;
use scim_worker::testing::{token_hash, token_key, App};

#[test]
fn a_stream_of_requests_reads_the_token_once_and_a_revocation_here_is_at_once() {
    let app = App::new();
    let c = app.provision("acme");
    let first = app.call(&c, "GET", "/Users?count=1", None);
    assert_eq!(first.status, 200);
    let reads = app.kv.reads();
    for _ in 0..20 {
        assert_eq!(app.call(&c, "GET", "/Users?count=1", None).status, 200);
    }
    assert_eq!(app.kv.reads(), reads, "no KV read per request");
    // Revoked through the admin API (this isolate): refused at once.
    let admin = app.admin_token(None);
    let tokens = app.admin(&admin, "GET", "/tenants/acme/tokens", None);
    let id = tokens.body["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.admin(
            &admin,
            "DELETE",
            &format!("/tenants/acme/tokens/{id}"),
            None
        )
        .status,
        204
    );
    assert_eq!(app.call(&c, "GET", "/Users?count=1", None).status, 401);
}

#[test]
fn another_isolates_revocation_reaches_this_one_within_30_seconds() {
    let mut app = App::new();
    let c = app.provision("acme");
    assert_eq!(app.call(&c, "GET", "/Users?count=1", None).status, 200);
    // Another isolate deleted the record: this one trusts what it read...
    app.kv.remove_directly(&token_key(&token_hash(&c.token)));
    app.now += Duration::seconds(29);
    assert_eq!(app.call(&c, "GET", "/Users?count=1", None).status, 200);
    // ...for 30 s at most.
    app.now += Duration::seconds(2);
    assert_eq!(app.call(&c, "GET", "/Users?count=1", None).status, 401);
    // A miss is not cached: an unknown token costs a read each time.
    let reads = app.kv.reads();
    app.call(&c, "GET", "/Users?count=1", None);
    assert!(app.kv.reads() > reads);
}
