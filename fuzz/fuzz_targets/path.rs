//! PATCH paths (RFC 7644 §3.5.2) and attribute lists (§3.4.2.5): any UTF-8
//! text through `parse_patch_path` must not panic; a path that parses prints
//! to text that parses back to an equal path. The attribute path also goes
//! through the `sortBy` translation (run on SQLite) and `attributes`
//! projection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_fuzz::{seed_users, App, TENANT};
use scim_worker::proto::filter::MAX_FILTER_LEN;
use scim_worker::proto::patch::path::parse_patch_path;
use scim_worker::store::query::{sort_expression, Resource};
use scim_worker::proto::attr::parse_attr_list;
use scim_worker::proto::project::project;
use scim_worker::store::{groups, users, PageSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let app = App::get();
    let user_doc = seed_users()[1].1.clone();
    for (rt, kind) in [
        (&app.user_rt, Resource::User),
        (&app.group_rt, Resource::Group),
    ] {
        let urns = rt.all_schema_urns();
        if let Ok(list) = parse_attr_list(text, rt) {
            let _ = project(rt, user_doc.clone(), &list, &[]);
            let _ = project(rt, user_doc.clone(), &[], &list);
        }
        let Ok(path) = parse_patch_path(text, &urns) else {
            continue;
        };
        let printed = path.to_string();
        if printed.len() > MAX_FILTER_LEN {
            // The canonical form spells out whitespace and parentheses, so
            // it can outgrow the length limit that the input was under.
            assert!(text.len() <= MAX_FILTER_LEN);
            continue;
        }
        let again = parse_patch_path(&printed, &urns).unwrap_or_else(|e| {
            panic!("{text:?} parsed, but its printed form {printed:?} does not: {e}")
        });
        assert_eq!(
            again, path,
            "{text:?} printed as {printed:?}, which parses differently"
        );
        assert_eq!(again.to_string(), printed, "printing is not stable");
        if let Some(f) = &path.filter {
            let _ = f.matches(&user_doc, &|_| false);
        }
        if let Some(sort) = sort_expression(rt, kind, &path.attr) {
            for descending in [false, true] {
                let spec = PageSpec {
                    clause: None,
                    sort: Some((sort.as_str(), descending)),
                    offset: 0,
                    limit: 2,
                    keyset: None,
                };
                let run = match kind {
                    Resource::User => {
                        pollster::block_on(users::list(&app.db, TENANT, &spec, false))
                            .map(|l| l.total)
                    }
                    Resource::Group => {
                        pollster::block_on(groups::list(&app.db, TENANT, &spec, false))
                            .map(|l| l.total)
                    }
                };
                if let Err(e) = run {
                    panic!("sortBy {text:?} became SQL that fails ({e}): {sort}");
                }
            }
        }
    }
});
