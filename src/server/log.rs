//! The server's log: one structured JSON line per event worth an
//! operator's attention (today: every 5xx). A line never holds a token, a
//! secret, a password or a request body: it names the request (id, tenant,
//! method, path without its query), its status, the kind of failure and
//! its cause as the server knows it, and how long the request took.

use serde_json::{json, Value};

/// Where the service writes log lines, and the clock it times requests by.
/// The edge writes to the Workers console (Workers Logs); tests collect.
pub trait Log {
    /// Writes one line (a JSON object).
    fn line(&self, line: &str);
    /// Milliseconds since a fixed point, to time a request.
    fn millis(&self) -> f64;
}

/// A log that drops every line (for callers that do not care).
pub struct Discard;

impl Log for Discard {
    fn line(&self, _line: &str) {}
    fn millis(&self) -> f64 {
        0.0
    }
}

/// What a log line says of the request it is about.
#[derive(Debug, Clone)]
pub(crate) struct Exchange<'a> {
    pub request_id: &'a str,
    pub tenant: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
}

/// The line of a request that failed with `status`.
pub(crate) fn failure(
    x: &Exchange<'_>,
    status: u16,
    kind: &str,
    cause: &str,
    duration_ms: f64,
) -> String {
    let mut line = json!({
        "level": "error",
        "message": "request failed",
        "requestId": x.request_id,
        "method": x.method,
        "path": x.path,
        "status": status,
        "kind": kind,
        "error": cause,
        "durationMs": (duration_ms * 1000.0).round() / 1000.0,
    });
    if let (Some(t), Some(o)) = (x.tenant, line.as_object_mut()) {
        o.insert("tenant".into(), Value::String(t.to_owned()));
    }
    line.to_string()
}
