//! Resource bodies through the whole service (RFC 7643, RFC 7644 §3.3,
//! §3.5.1), raw bytes as the body. The first byte picks the request, modulo
//! 4: 0 POST /Users, 1 PUT /Users/{id}, 2 POST /Groups, 3 PUT /Groups/{id}.
//!
//! Checks: no panic, no 5xx; a rejected write leaves every table byte for
//! byte as it was; an accepted one leaves a resource that reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_fuzz::{location_path, App, GROUP_ID, USER_ID};
use scim_worker::Method;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let app = App::get();
    let (method, path) = match sel % 4 {
        0 => (Method::Post, "/Users".to_owned()),
        1 => (Method::Put, format!("/Users/{USER_ID}")),
        2 => (Method::Post, "/Groups".to_owned()),
        _ => (Method::Put, format!("/Groups/{GROUP_ID}")),
    };
    let reply = app.call(method, &path, Some(body), &[]);
    let readable = match method {
        Method::Post if reply.ok() => {
            Some(location_path(&reply).expect("a 201 without a Location of this tenant"))
        }
        _ => Some(path.clone()),
    };
    app.after(
        if method == Method::Post {
            "POST"
        } else {
            "PUT"
        },
        data,
        &reply,
        readable.as_deref(),
    );
});
