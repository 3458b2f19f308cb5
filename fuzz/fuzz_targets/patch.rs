//! PATCH through the whole service (RFC 7644 §3.5.2), raw bytes as the body.
//! The first byte picks the request: 0 the user, 1 the group, 2 the user
//! with `If-Match: W/"1"`, 3 the group asking for the resource back
//! (`attributes`, so 200 instead of 204) — modulo 4, so '0'..'3' in seeds.
//!
//! Checks: no panic, no 5xx; a rejected PATCH leaves every table byte for
//! byte as it was; an accepted one leaves a resource that reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_fuzz::{App, GROUP_ID, USER_ID};
use scim_worker::Method;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let app = App::get();
    let user = format!("/Users/{USER_ID}");
    let group = format!("/Groups/{GROUP_ID}");
    let (path, readable, headers): (String, &str, &[(&str, &str)]) = match sel % 4 {
        0 => (user.clone(), &user, &[]),
        1 => (group.clone(), &group, &[]),
        2 => (user.clone(), &user, &[("If-Match", "W/\"1\"")]),
        _ => (
            format!("{group}?attributes=displayName,members"),
            &group,
            &[],
        ),
    };
    let reply = app.call(Method::Patch, &path, Some(body), headers);
    app.after("PATCH", data, &reply, Some(readable));
});
