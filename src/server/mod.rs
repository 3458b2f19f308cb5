//! The service, generic over storage: [`Service::handle`] takes a plain
//! [`Request`] and gives a plain [`Response`]. It routes SCIM requests
//! (`router`) into typed operations (`op`) carried out by the resource
//! pipeline (`resources`), serves the admin API (`admin`), and renders
//! every error in one place ([`Service::render_error`]): a fault is logged
//! once and answered without its detail.

use chrono::{DateTime, Utc};

use crate::proto::error::ScimError;
use crate::store::shards::Shards;
use crate::store::{KeyValue, SqlExecutor};

pub(crate) mod admin;
pub(crate) mod auth;
pub(crate) mod authorize;
pub(crate) mod bulk;
pub(crate) mod config;
pub(crate) mod connectors;
pub(crate) mod cron;
pub(crate) mod ctx;
pub(crate) mod discovery;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod extension;
pub(crate) mod http;
pub(crate) mod limits;
pub(crate) mod list;
pub(crate) mod log;
pub(crate) mod oauth;
pub(crate) mod op;
pub(crate) mod openapi;
pub(crate) mod request_log;
pub(crate) mod resources;
pub(crate) mod router;
pub(crate) mod schema;
pub(crate) mod tokens;
pub(crate) mod webhooks;

pub use admin::export_api::stream_next;
use config::Config;
use error::Error;
use http::{Request, Response, SCIM_CONTENT_TYPE};
use limits::{RateLimit, RETRY_AFTER_SECONDS};
use log::{Exchange, Log};
pub use webhooks::Outbound;

/// The header every response carries the request id in.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One deployment of the service: its configuration and what the platform
/// gives it (storage, the rate limiter, the events queue and outbound
/// HTTP, the log).
pub struct Service<'a, D, K, L, O> {
    pub config: &'a Config,
    /// The D1 databases tenants are on, `DB` (the registry) first.
    pub shards: Shards<'a, D>,
    pub kv: &'a K,
    pub limiter: &'a L,
    pub out: &'a O,
    pub log: &'a dyn Log,
}

/// What a request leaves for after its response, so that it never delays
/// or fails the identity provider's request: its request log entry, and the
/// dispatch of the events its writes committed. The worker runs it with
/// `ctx.wait_until`; should it never run, the minute cron dispatches the
/// events instead (the log entry is then lost).
#[derive(Debug, Default)]
#[must_use]
pub struct After {
    /// The tenant whose events to dispatch.
    dispatch: Option<String>,
    /// The request log's entry of the request.
    request_log: Option<LogEntry>,
}

/// A request log entry to write, with what its failure line names.
#[derive(Debug)]
struct LogEntry {
    pending: crate::store::requests::Pending,
    request_id: String,
    tenant: Option<String>,
    method: String,
    path: String,
    status: u16,
    duration_ms: f64,
}

impl After {
    /// Whether there is anything to do.
    pub fn is_empty(&self) -> bool {
        self.dispatch.is_none() && self.request_log.is_none()
    }

    /// Runs it: the request log entry, then a dispatch message for the
    /// tenant if it has undispatched events (a tenant without webhooks has
    /// none). Failures are logged, never answered.
    pub async fn run<D: SqlExecutor, O: Outbound>(
        self,
        shards: &Shards<'_, D>,
        out: &O,
        log: &dyn Log,
        now: DateTime<Utc>,
    ) {
        After::run_all(vec![self], shards, out, log, now).await;
    }

    /// Runs what several requests left, in one round trip: every request
    /// log entry, then one check per tenant with recorded events, and one
    /// dispatch message for each tenant that has undispatched events. If
    /// the round trip fails, the entries are logged as unrecorded and each
    /// tenant is checked on its own. One round trip per shard the requests'
    /// tenants are on.
    pub async fn run_all<D: SqlExecutor, O: Outbound>(
        afters: Vec<After>,
        shards: &Shards<'_, D>,
        out: &O,
        log: &dyn Log,
        now: DateTime<Utc>,
    ) {
        // By shard: (its name, tenants to dispatch, log entries).
        let mut by_shard: Vec<(String, Vec<String>, Vec<LogEntry>)> = Vec::new();
        for a in afters {
            let tenant = a
                .dispatch
                .clone()
                .or_else(|| a.request_log.as_ref().and_then(|e| e.tenant.clone()));
            let shard = match &tenant {
                Some(t) => match shards.shard_of(t, now.timestamp_millis()).await {
                    Ok(s) => s.name.clone(),
                    Err(e) => {
                        log.line(&serde_json::json!({"level": "error", "message": "no shard for what a request left",
                            "kind": "storage", "error": e.to_string(), "tenant": t}).to_string());
                        continue;
                    }
                },
                None => crate::store::shards::REGISTRY.to_owned(),
            };
            let i = match by_shard.iter().position(|(s, _, _)| *s == shard) {
                Some(i) => i,
                None => {
                    by_shard.push((shard, Vec::new(), Vec::new()));
                    by_shard.len() - 1
                }
            };
            let Some((_, tenants, entries)) = by_shard.get_mut(i) else {
                continue;
            };
            if let Some(t) = a.dispatch {
                if !tenants.contains(&t) {
                    tenants.push(t);
                }
            }
            entries.extend(a.request_log);
        }
        for (shard, tenants, entries) in by_shard {
            if let Some(s) = shards.named(&shard) {
                After::run_on(s.db, tenants, entries, out, log).await;
            }
        }
    }

    /// [`After::run_all`] on one shard.
    async fn run_on<D: SqlExecutor, O: Outbound>(
        db: &D,
        tenants: Vec<String>,
        entries: Vec<LogEntry>,
        out: &O,
        log: &dyn Log,
    ) {
        use crate::store::{events, requests};
        let mut stmts = Vec::with_capacity(2);
        if !entries.is_empty() {
            stmts.push(requests::record_all(entries.iter().map(|e| &e.pending)));
        }
        if !tenants.is_empty() {
            stmts.push(events::undispatched_of(&tenants));
        }
        if stmts.is_empty() {
            return;
        }
        let pending: Vec<String> = match db.batch(stmts).await {
            Ok(written) if !tenants.is_empty() => written
                .last()
                .map(|w| events::tenants_in(&w.rows))
                .unwrap_or_default(),
            Ok(_) => Vec::new(),
            Err(err) => {
                for e in &entries {
                    let exchange = Exchange {
                        request_id: &e.request_id,
                        tenant: e.tenant.as_deref(),
                        method: &e.method,
                        path: &e.path,
                    };
                    log.line(&log::unrecorded(
                        &exchange,
                        e.status,
                        &err.to_string(),
                        e.duration_ms,
                    ));
                }
                if tenants.is_empty() {
                    return;
                }
                match db.query(events::undispatched_of(&tenants)).await {
                    Ok(rows) => events::tenants_in(&rows),
                    Err(e) => {
                        log.line(
                            &serde_json::json!({"level": "error", "message": "dispatch check failed",
                            "kind": "storage", "error": e.to_string(), "tenants": tenants})
                            .to_string(),
                        );
                        return;
                    }
                }
            }
        };
        let due: Vec<&String> = tenants.iter().filter(|t| pending.contains(t)).collect();
        if due.is_empty() {
            return;
        }
        let messages = due.iter().map(|t| webhooks::dispatch_message(t)).collect();
        if let Err(e) = out.enqueue(messages, 0).await {
            log.line(&serde_json::json!({"level": "warn", "message": "dispatch not queued; the cron will",
                "kind": "queue", "error": e, "tenants": due}).to_string());
        }
    }
}

/// Which error body a failed request gets: SCIM's, or the admin API's (the
/// same fields as `application/json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Scim,
    Admin,
}

/// The request id: Cloudflare's `cf-ray` when there is one, else a new id.
fn request_id(req: &Request) -> String {
    match req.header("cf-ray") {
        Some(ray) if !ray.trim().is_empty() => ray.trim().to_owned(),
        _ => uuid::Uuid::new_v4().simple().to_string(),
    }
}

/// The tenant a request's path names, for the log.
fn tenant_of(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix(ctx::SCIM_PREFIX)
        .or_else(|| path.strip_prefix(admin::TENANTS_PREFIX))?;
    let tenant = rest.split('/').next()?;
    ctx::valid_tenant_id(tenant).then_some(tenant)
}

impl<D: SqlExecutor, K: KeyValue, L: RateLimit, O: Outbound> Service<'_, D, K, L, O> {
    /// Serves one request at time `now`, then does what it leaves for
    /// after (natively, where nothing runs after a response).
    pub async fn handle(&self, req: &Request, now: DateTime<Utc>) -> Response {
        let (mut response, after) = self.serve(req, now).await;
        // A streamed body (an export), whole.
        while let Some(c) = response.more.take() {
            match stream_next(&self.shards, c, now.timestamp_millis()).await {
                Ok((part, next)) => {
                    response.body.extend(part);
                    response.more = next;
                }
                Err(e) => {
                    self.log.line(
                        &serde_json::json!({"level": "error", "message": "stream failed",
                        "kind": "storage", "error": e})
                        .to_string(),
                    );
                }
            }
        }
        after.run(&self.shards, self.out, self.log, now).await;
        response
    }

    /// Serves one request at time `now`: its response, and what it leaves
    /// for after the response ([`After`]).
    pub async fn serve(&self, req: &Request, now: DateTime<Utc>) -> (Response, After) {
        let started = self.log.millis();
        let request_id = request_id(req);
        let path = req.path.trim_end_matches('/');
        let max_bytes = self.config.limits.max_request_bytes;
        let notes = log::Notes::default();
        let platform = ctx::Platform {
            config: self.config,
            shards: &self.shards,
            db: self.shards.registry(),
            kv: self.kv,
            limiter: self.limiter,
            out: self.out,
            notes: &notes,
            request_id: &request_id,
        };
        let (result, flavour) = if req.body.len() > max_bytes {
            let e = ScimError::payload_too_large(format!(
                "The request body is larger than {max_bytes} bytes."
            ));
            (Err(e.into()), Flavour::Scim)
        } else {
            match admin::route_of(path) {
                Some(rest) => (
                    admin::handle(&platform, req, now, rest).await,
                    Flavour::Admin,
                ),
                None if oauth::is_oauth_path(path) => {
                    (oauth::handle(&platform, req, now).await, Flavour::Admin)
                }
                None => (router::route(&platform, req, now).await, Flavour::Scim),
            }
        };
        let exchange = Exchange {
            request_id: &request_id,
            tenant: tenant_of(path),
            method: req.method.as_str(),
            path,
        };
        let mut response = match result {
            Ok(r) => r,
            Err(e) => self.render_error(e, flavour, &exchange, started),
        };
        if req.prefers_plain_json() {
            response = response.in_plain_json();
        }
        let dispatch = notes
            .recorded_events()
            .then(|| tenant_of(path).map(str::to_owned))
            .flatten();
        let noted = notes.take();
        let duration = self.log.millis() - started;
        if !noted.is_empty() {
            self.log
                .line(&log::lenient(&exchange, response.status, &noted, duration));
        }
        let after = After {
            dispatch,
            request_log: request_log::entry(&request_log::Served {
                req,
                response: &response,
                request_id: &request_id,
                notes: &noted,
                token: notes.token().as_ref(),
                setting: notes.request_log(),
                at: now,
                duration_ms: duration,
            })
            .map(|pending| LogEntry {
                pending,
                request_id: request_id.clone(),
                tenant: exchange.tenant.map(str::to_owned),
                method: exchange.method.to_owned(),
                path: path.to_owned(),
                status: response.status,
                duration_ms: duration,
            }),
        };
        (response.with_header(REQUEST_ID_HEADER, request_id), after)
    }

    /// The one place an error becomes a response (RFC 7644 §3.12). A 5xx
    /// is logged once; a fault is answered with a generic detail that
    /// names the request id, never with its cause.
    fn render_error(
        &self,
        e: Error,
        flavour: Flavour,
        exchange: &Exchange<'_>,
        started: f64,
    ) -> Response {
        // A 500 from the protocol core is an invariant broken, not an
        // answer: a fault like any other.
        let e = match e {
            Error::Scim(e) if e.status == 500 => Error::internal(e.detail),
            other => other,
        };
        let (scim, header, logged) = match e {
            Error::Scim(e) => {
                let logged = (e.status >= 500).then(|| ("protocol", e.detail.clone()));
                (e, None, logged)
            }
            Error::MethodNotAllowed { allow } => (
                ScimError::method_not_allowed(format!("This endpoint supports {allow}.")),
                Some(("allow", allow.to_owned())),
                None,
            ),
            Error::TooManyRequests => (
                ScimError::new(
                    429,
                    None,
                    format!(
                        "Too many requests for this token; retry after {RETRY_AFTER_SECONDS} seconds."
                    ),
                ),
                Some(("retry-after", RETRY_AFTER_SECONDS.to_string())),
                None,
            ),
            // Made again once already (`resources::run`): a change meanwhile.
            Error::SchemaChanged => (error::changed_meanwhile(), None, None),
            Error::Fault { kind, cause } => (
                ScimError::new(
                    500,
                    None,
                    format!(
                        "The server could not complete this request; it logged the failure as request {}.",
                        exchange.request_id
                    ),
                ),
                None,
                Some((kind, cause)),
            ),
        };
        if let Some((kind, cause)) = logged {
            let duration = self.log.millis() - started;
            self.log
                .line(&log::failure(exchange, scim.status, kind, &cause, duration));
        }
        let body = scim.to_json();
        let mut r = match flavour {
            Flavour::Scim => Response::json_with_type(scim.status, &body, SCIM_CONTENT_TYPE),
            Flavour::Admin => Response::json(scim.status, &body),
        };
        if scim.status == 401 {
            r = r.with_header("www-authenticate", "Bearer");
        }
        match header {
            Some((name, value)) => r.with_header(name, value),
            None => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_are_read_from_scim_and_admin_paths() {
        assert_eq!(tenant_of("/scim/v2/acme/Users/1"), Some("acme"));
        assert_eq!(tenant_of("/admin/v1/tenants/acme/tokens"), Some("acme"));
        assert_eq!(tenant_of("/admin/v1/tenants"), None);
        assert_eq!(tenant_of("/scim/v2/Bad_Id/Users"), None);
    }

    #[test]
    fn a_500_of_the_core_is_a_fault_and_deliberate_5xx_keep_their_detail() {
        let app = crate::testing::App::new();
        let service = Service {
            config: &app.config,
            shards: Shards::one(&app.db),
            kv: &app.kv,
            limiter: &app.limiter,
            out: &app.out,
            log: &app.log,
        };
        let x = Exchange {
            request_id: "rid-1",
            tenant: Some("acme"),
            method: "PATCH",
            path: "/scim/v2/acme/Users/1",
        };
        let broken = Error::Scim(ScimError::internal("Unknown schema slot."));
        let r = service.render_error(broken, Flavour::Scim, &x, 0.0);
        let body = r.json_body().unwrap();
        assert_eq!(r.status, 500);
        assert!(body["detail"].as_str().unwrap().contains("rid-1"), "{body}");
        assert!(!body.to_string().contains("schema slot"), "{body}");
        let me = Error::Scim(ScimError::new(
            501,
            None,
            "/Me is not supported by this server.",
        ));
        let r = service.render_error(me, Flavour::Scim, &x, 0.0);
        assert_eq!(r.status, 501);
        assert_eq!(
            r.json_body().unwrap()["detail"],
            "/Me is not supported by this server."
        );
        let lines = app.log.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["kind"], "internal");
        assert_eq!(lines[0]["error"], "Unknown schema slot.");
        assert_eq!(lines[1]["kind"], "protocol");
        assert_eq!(lines[1]["status"], 501);
    }

    #[test]
    fn request_ids_come_from_cf_ray_or_are_made() {
        let r = Request::new(http::Method::Get, "/").with_header("CF-Ray", "8f1a2b3c4d5e6f70-AMS");
        assert_eq!(request_id(&r), "8f1a2b3c4d5e6f70-AMS");
        let a = request_id(&Request::new(http::Method::Get, "/"));
        let b = request_id(&Request::new(http::Method::Get, "/"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
