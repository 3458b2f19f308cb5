//! Filters (RFC 7644 §3.4.2.2): any UTF-8 text through `parse_filter` must
//! not panic; a filter that parses prints (`Display`) to text that parses
//! back to an equal filter and prints the same; its SQL translation runs on
//! SQLite without a storage error, and in-memory evaluation does not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_fuzz::{seed_users, App, TENANT};
use scim_worker::testing::proto::{parse_filter, MAX_FILTER_LEN};
use scim_worker::testing::sql::{condition, run_page, Resource};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let app = App::get();
    let user_doc = seed_users()[1].1.clone();
    let group_doc = json!({"displayName": "Tour Guides", "members": [
        {"value": scim_fuzz::USER_ID, "type": "User"},
        {"value": scim_fuzz::SUBGROUP_ID, "type": "Group"}]});
    for (rt, kind) in [
        (&app.user_rt, Resource::User),
        (&app.group_rt, Resource::Group),
    ] {
        let urns = rt.all_schema_urns();
        let Ok(filter) = parse_filter(text, &urns) else {
            continue;
        };
        let printed = filter.to_string();
        if printed.len() > MAX_FILTER_LEN {
            // The canonical form spells out whitespace and parentheses, so
            // it can outgrow the length limit that the input was under.
            assert!(text.len() <= MAX_FILTER_LEN);
            continue;
        }
        let again = parse_filter(&printed, &urns).unwrap_or_else(|e| {
            panic!("{text:?} parsed, but its printed form {printed:?} does not: {e}")
        });
        assert_eq!(
            again, filter,
            "{text:?} printed as {printed:?}, which parses differently"
        );
        assert_eq!(again.to_string(), printed, "printing is not stable");
        let doc = if kind == Resource::User {
            &user_doc
        } else {
            &group_doc
        };
        let _ = filter.matches(doc, &|_| false);
        let _ = filter.matches(doc, &|_| true);
        match condition(rt, kind, TENANT, &filter) {
            Ok(c) => {
                let run = run_page(&app.db, kind, TENANT, Some(&c), None);
                if let Err(e) = run {
                    panic!(
                        "filter {text:?} became SQL that fails ({e}):\n{}\n{:?}",
                        c.sql, c.params
                    );
                }
            }
            Err(e) => assert!(
                e.status < 500,
                "filter {text:?}: translation answered {}: {}",
                e.status,
                e.detail
            ),
        }
    }
});
