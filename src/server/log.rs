//! The server's log: one structured JSON line per event worth an
//! operator's attention (today: every 5xx). A line never holds a token, a
//! secret, a password or a request body: it names the request (id, tenant,
//! method, path without its query), its status, the kind of failure and
//! its cause as the server knows it, and how long the request took.

use std::cell::{Cell, RefCell};

use serde_json::{json, Value};

use crate::proto::lenience::Leniency;
use crate::store::tenants::RequestLog;

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
    let what = json!({"level": "error", "message": "request failed", "kind": kind, "error": cause});
    line(x, status, what, duration_ms)
}

/// One JSON log line about exchange `x`: `what` (level, message and what
/// the line is about), then the request's id, method, path, status,
/// duration and tenant.
fn line(x: &Exchange<'_>, status: u16, what: Value, duration_ms: f64) -> String {
    let mut line = match what {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let request = json!({
        "requestId": x.request_id,
        "method": x.method,
        "path": x.path,
        "status": status,
        "durationMs": (duration_ms * 1000.0).round() / 1000.0,
    });
    if let Value::Object(r) = request {
        line.extend(r);
    }
    if let Some(t) = x.tenant {
        line.insert("tenant".into(), Value::String(t.to_owned()));
    }
    Value::Object(line).to_string()
}

/// Something a request was let through, for its log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    /// A leniency of the protocol core (an unknown attribute ignored...).
    Lenient(Leniency),
    /// Group members to add that are no users or groups of the tenant,
    /// skipped (tenant setting `unknownMembers: "skip"`).
    SkippedMembers(Vec<String>),
    /// What failed after the request's change committed (a connector
    /// rule's bookkeeping): the answer is the committed change's.
    Unfinished(String),
}

/// The notes of one request, gathered while it is served and logged once at
/// its end (a request is served on one thread: a `RefCell` will do): what
/// it was let through, the SCIM token that authenticated it, and whether it
/// recorded events (for the dispatch after its response).
#[derive(Debug, Default)]
pub(crate) struct Notes {
    notes: RefCell<Vec<Note>>,
    token: RefCell<Option<Token>>,
    events: Cell<bool>,
    request_log: Cell<Option<RequestLog>>,
}

/// The SCIM token a request was authenticated with, as the request log
/// names it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub id: String,
    pub label: String,
}

impl Notes {
    /// Keeps the tenant's `requestLog` setting, read with something else,
    /// so that the request log need not read it again.
    pub(crate) fn saw_request_log(&self, setting: RequestLog) {
        self.request_log.set(Some(setting));
    }

    /// The tenant's `requestLog` setting, if the request read it.
    pub(crate) fn request_log(&self) -> Option<RequestLog> {
        self.request_log.get()
    }

    /// Says that a write of the request added events to its batch.
    pub(crate) fn events_recorded(&self) {
        self.events.set(true);
    }

    /// Whether a write of the request added events to its batch (which may
    /// have been rolled back since: the dispatcher then finds nothing).
    pub(crate) fn recorded_events(&self) -> bool {
        self.events.get()
    }

    pub(crate) fn lenient(&self, l: impl IntoIterator<Item = Leniency>) {
        self.notes
            .borrow_mut()
            .extend(l.into_iter().map(Note::Lenient));
    }

    pub(crate) fn add(&self, n: Note) {
        self.notes.borrow_mut().push(n);
    }

    /// How many notes there are: a [`Notes::rewind`] mark.
    pub(crate) fn mark(&self) -> usize {
        self.notes.borrow().len()
    }

    /// Drops the notes added since `mark` (an attempt that is made again
    /// notes them again).
    pub(crate) fn rewind(&self, mark: usize) {
        self.notes.borrow_mut().truncate(mark);
    }

    pub(crate) fn take(&self) -> Vec<Note> {
        std::mem::take(&mut *self.notes.borrow_mut())
    }

    /// Notes the SCIM token that authenticated the request.
    pub(crate) fn set_token(&self, id: &str, label: &str) {
        *self.token.borrow_mut() = Some(Token {
            id: id.to_owned(),
            label: label.to_owned(),
        });
    }

    /// The SCIM token that authenticated the request, if one did.
    pub(crate) fn token(&self) -> Option<Token> {
        self.token.borrow().clone()
    }
}

/// Each leniency's kind and what it is about (attribute names, URNs,
/// member ids; never a value), as a JSON array: for the log line and the
/// request log alike.
pub(crate) fn leniencies(notes: &[Note]) -> Value {
    notes
        .iter()
        .map(|n| match n {
            Note::Lenient(l) => json!({"kind": l.kind(), "name": l.subject()}),
            Note::SkippedMembers(ids) => json!({"kind": "unknownMembers", "skipped": ids}),
            Note::Unfinished(what) => json!({"kind": "unfinished", "error": what}),
        })
        .collect()
}

/// The line of a request whose request log entry could not be written
/// (the request itself was answered as if it had been).
pub(crate) fn unrecorded(x: &Exchange<'_>, status: u16, cause: &str, duration_ms: f64) -> String {
    let what = json!({"level": "warn", "message": "request log entry not written", "kind": "storage", "error": cause});
    line(x, status, what, duration_ms)
}

/// The line of a request that was served with leniencies: each one's kind
/// and what it is about (attribute names, URNs, member ids; never a value).
pub(crate) fn lenient(x: &Exchange<'_>, status: u16, notes: &[Note], duration_ms: f64) -> String {
    let what = json!({"level": "info", "message": "accepted with leniency", "leniencies": leniencies(notes)});
    line(x, status, what, duration_ms)
}
