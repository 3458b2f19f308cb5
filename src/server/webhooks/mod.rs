//! Webhooks: the push side of the event log, delivered through a queue.
//!
//! After a write commits, the request leaves a `dispatch` message for its
//! tenant on the events queue (off the response path; see `Service::serve`).
//! The consumer turns the tenant's undispatched events into one delivery
//! row per matching endpoint, marks the events dispatched in the same batch,
//! and queues one `deliver` message per delivery. A `deliver` message POSTs
//! the event, signed per Standard Webhooks; a failure is recorded and
//! queued again after the next delay of the retry schedule (with jitter, and
//! no sooner than a `Retry-After` asks); `410 Gone` turns the endpoint off;
//! after the last attempt the delivery is failed. A message whose handling
//! itself keeps failing lands in the dead-letter queue, whose consumer marks
//! its delivery failed. A cron re-sends what a lost message left behind
//! (see `cron`): deliveries are at least once, and the event id
//! (`webhook-id`) is the receiver's deduplication key.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::server::config::Config;
use crate::server::log::Log;
use crate::store::events;
use crate::store::shards::Shards;
use crate::store::webhooks::{self, Delivery, State, Webhook};
use crate::store::{timestamp, SqlExecutor, Stmt, StoreError};

pub(crate) mod sign;
pub(crate) mod url;

/// An HTTP POST to a webhook receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub timeout_ms: u32,
}

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub status: u16,
    /// Its `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

/// An HTTP request to another service's API (the Okta connector's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout_ms: u32,
}

/// What another service's API answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Fetched {
    /// A header's value, by its lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the service sends out: messages to the events queue, POSTs to
/// receivers, and calls to other APIs (no redirects followed; `Err` for a
/// timeout or a network failure, with its description); and a pause.
#[allow(async_fn_in_trait)]
pub trait Outbound {
    async fn enqueue(&self, messages: Vec<Value>, delay_seconds: u32) -> Result<(), String>;
    async fn post(&self, post: Post) -> Result<Posted, String>;
    async fn fetch(&self, fetch: Fetch) -> Result<Fetched, String>;
    /// Waits `ms` milliseconds (a rate limit's reset).
    async fn sleep(&self, ms: u64);
}

/// What the consumer does with a message once handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done with it (delivered, recorded, or nothing to do).
    Ack,
    /// Could not be handled now (storage unavailable): the queue should
    /// offer it again after this many seconds.
    Retry(u32),
}

/// The message that makes the consumer dispatch `tenant`'s events.
pub(crate) fn dispatch_message(tenant: &str) -> Value {
    json!({"kind": "dispatch", "tenant": tenant})
}

/// The message that makes the consumer attempt delivery `delivery`.
pub(crate) fn deliver_message(tenant: &str, delivery: &str) -> Value {
    json!({"kind": "deliver", "tenant": tenant, "delivery": delivery})
}

/// Events dispatched per round of a dispatch message.
const DISPATCH_ROUND: u32 = 100;

/// Handles one message of the events queue at time `now`.
pub async fn consume<D: SqlExecutor, O: Outbound>(
    config: &Config,
    shards: &Shards<'_, D>,
    out: &O,
    log: &dyn Log,
    message: &Value,
    now: DateTime<Utc>,
) -> Verdict {
    let tenant = message.get("tenant").and_then(Value::as_str).unwrap_or("");
    let result = async {
        // The tenant's shard: a failure to find it is retried like any other.
        let db = shards.of(tenant, now.timestamp_millis()).await?;
        match message.get("kind").and_then(Value::as_str) {
            Some("dispatch") => dispatch(db, out, tenant, now).await,
            Some("deliver") => {
                let id = message
                    .get("delivery")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                deliver(config, db, out, tenant, id, now).await
            }
            _ => {
                log.line(
                    &json!({"level": "warn", "message": "unknown queue message", "body": message})
                        .to_string(),
                );
                Ok(Verdict::Ack)
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| {
        log.line(
            &json!({"level": "error", "message": "queue message failed", "kind": "storage",
                    "error": e.to_string(), "tenant": tenant})
            .to_string(),
        );
        Verdict::Retry(30)
    })
}

/// Handles a message of the dead-letter queue: its handling failed every
/// time the queue offered it, so its delivery is marked failed.
pub async fn dead_letter<D: SqlExecutor>(
    shards: &Shards<'_, D>,
    log: &dyn Log,
    message: &Value,
    now: DateTime<Utc>,
) {
    let tenant = message.get("tenant").and_then(Value::as_str).unwrap_or("");
    if let Some(id) = message.get("delivery").and_then(Value::as_str) {
        let stmt = webhooks::give_up(
            tenant,
            id,
            "dead-lettered: the queue consumer failed on every attempt",
            &timestamp(now),
        );
        let recorded = match shards.of(tenant, now.timestamp_millis()).await {
            Ok(db) => db.batch(vec![stmt]).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            log.line(
                &json!({"level": "error", "message": "dead letter not recorded", "kind": "storage",
                              "error": e.to_string(), "tenant": tenant})
                .to_string(),
            );
        }
    }
}

/// Turns the tenant's undispatched events into deliveries and queues them.
async fn dispatch<D: SqlExecutor, O: Outbound>(
    db: &D,
    out: &O,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let stamp = timestamp(now);
    for _ in 0..10 {
        let pending = events::undispatched(db, tenant, DISPATCH_ROUND).await?;
        if pending.is_empty() {
            break;
        }
        let hooks = webhooks::list(db, tenant, true).await?;
        let sequences: Vec<i64> = pending.iter().map(|(e, _)| e.sequence).collect();
        let mut stmts: Vec<Stmt> = Vec::new();
        let mut made = Vec::new();
        for (event, kind) in &pending {
            for hook in hooks.iter().filter(|h| h.wants(kind)) {
                let id = format!("dlv_{}", uuid::Uuid::new_v4().simple());
                stmts.push(webhooks::new_delivery(
                    tenant,
                    &id,
                    &hook.id,
                    event.sequence,
                    &stamp,
                ));
                made.push(id);
            }
        }
        stmts.push(events::mark_dispatched(tenant, &sequences));
        db.batch(stmts).await?;
        // A delivery another dispatch made first keeps its own id (ON
        // CONFLICT DO NOTHING): this one's message then finds nothing.
        for chunk in made.chunks(100) {
            let messages = chunk.iter().map(|d| deliver_message(tenant, d)).collect();
            // A lost send leaves the delivery pending: the cron re-sends it.
            let _ = out.enqueue(messages, 0).await;
        }
        if pending.len() < DISPATCH_ROUND as usize {
            break;
        }
    }
    Ok(Verdict::Ack)
}

/// The `webhook-signature` header for `hook` at `now`: the current
/// secret's signature, and during a rotation the previous one's too.
fn signatures(
    key: &str,
    tenant: &str,
    hook: &Webhook,
    id: &str,
    ts: i64,
    body: &str,
    now: &str,
) -> String {
    let mut sigs = vec![sign::signature(
        &sign::secret_bytes(key, tenant, &hook.id, &hook.salt),
        id,
        ts,
        body,
    )];
    if let (Some(salt), Some(until)) = (&hook.previous_salt, &hook.previous_until) {
        if until.as_str() > now {
            sigs.push(sign::signature(
                &sign::secret_bytes(key, tenant, &hook.id, salt),
                id,
                ts,
                body,
            ));
        }
    }
    sigs.join(" ")
}

/// The signed POST of `event` (its JSON) to `hook`.
pub(crate) fn signed_post(
    config: &Config,
    key: &str,
    tenant: &str,
    hook: &Webhook,
    event: &Value,
    now: DateTime<Utc>,
) -> Post {
    let id = event
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let body = event.to_string();
    let ts = now.timestamp();
    let signature = signatures(key, tenant, hook, &id, ts, &body, &timestamp(now));
    Post {
        url: hook.url.clone(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "scim-worker-webhooks/1".into()),
            ("webhook-id".into(), id),
            ("webhook-timestamp".into(), ts.to_string()),
            ("webhook-signature".into(), signature),
        ],
        body,
        timeout_ms: config.webhooks.timeout_ms,
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    Delivered(u16),
    /// 410 Gone: the receiver asks for no more.
    Gone,
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<u32>,
    },
}

pub(crate) fn classify(result: Result<Posted, String>) -> Attempt {
    match result {
        Ok(p) if (200..300).contains(&p.status) => Attempt::Delivered(p.status),
        Ok(p) if p.status == 410 => Attempt::Gone,
        Ok(p) => Attempt::Failed {
            status: Some(p.status),
            error: if (300..400).contains(&p.status) {
                format!("HTTP {} (redirects are not followed)", p.status)
            } else {
                format!("HTTP {}", p.status)
            },
            retry_after: matches!(p.status, 429 | 502 | 503 | 504)
                .then(|| {
                    p.retry_after
                        .as_deref()
                        .and_then(|r| r.trim().parse::<u32>().ok())
                })
                .flatten(),
        },
        Err(e) => Attempt::Failed {
            status: None,
            error: e,
            retry_after: None,
        },
    }
}

/// The delay before retry number `n` (0-based) with ±10 % jitter, and no
/// sooner than the receiver's `Retry-After` (at most a day).
pub(crate) fn retry_delay(config: &Config, n: usize, retry_after: Option<u32>) -> u32 {
    let base = config
        .webhooks
        .retry_delays
        .get(n)
        .copied()
        .unwrap_or(36_000);
    let jitter_range = base / 10;
    let jitter = if jitter_range == 0 {
        0
    } else {
        let r = uuid::Uuid::new_v4().as_u128() as u32;
        r % (2 * jitter_range + 1)
    };
    let delay = base - jitter_range + jitter;
    delay.max(retry_after.unwrap_or(0).min(86_400))
}

/// One attempt of delivery `id`.
async fn deliver<D: SqlExecutor, O: Outbound>(
    config: &Config,
    db: &D,
    out: &O,
    tenant: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let stamp = timestamp(now);
    let Some((d, hook, event)) = webhooks::delivery_with(db, tenant, id).await? else {
        return Ok(Verdict::Ack);
    };
    if d.state != State::Pending {
        return Ok(Verdict::Ack);
    }
    let Some(hook) = hook.filter(|h| h.enabled) else {
        db.batch(vec![webhooks::give_up(
            tenant,
            id,
            "the endpoint is disabled",
            &stamp,
        )])
        .await?;
        return Ok(Verdict::Ack);
    };
    let Some(event) = event else {
        db.batch(vec![webhooks::give_up(
            tenant,
            id,
            "the event is no longer retained",
            &stamp,
        )])
        .await?;
        return Ok(Verdict::Ack);
    };
    let Some(key) = config.secrets() else {
        // Nothing can be signed: try again later, once the secret is set.
        return Ok(Verdict::Retry(300));
    };
    let post = signed_post(config, key, tenant, &hook, &event.json, now);
    let attempt = classify(out.post(post).await);
    record(config, db, out, tenant, &d, attempt, now).await
}

/// Records an attempt's outcome and queues the next one if there is one.
async fn record<D: SqlExecutor, O: Outbound>(
    config: &Config,
    db: &D,
    out: &O,
    tenant: &str,
    d: &Delivery,
    attempt: Attempt,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let stamp = timestamp(now);
    let (stmts, retry) = match attempt {
        Attempt::Delivered(status) => (
            vec![webhooks::attempted(
                tenant,
                &d.id,
                d.attempts,
                State::Delivered,
                Some(status),
                None,
                None,
                &stamp,
            )],
            None,
        ),
        Attempt::Gone => (
            vec![
                webhooks::attempted(
                    tenant,
                    &d.id,
                    d.attempts,
                    State::Failed,
                    Some(410),
                    Some("HTTP 410 Gone: the endpoint was disabled"),
                    None,
                    &stamp,
                ),
                webhooks::disable(
                    tenant,
                    &d.webhook_id,
                    "the receiver answered 410 Gone",
                    &stamp,
                ),
            ],
            None,
        ),
        Attempt::Failed {
            status,
            error,
            retry_after,
        } => {
            let done = d.attempts + 1;
            if done >= config.webhooks.max_attempts() {
                let why = format!("{error}; gave up after {done} attempts");
                (
                    vec![webhooks::attempted(
                        tenant,
                        &d.id,
                        d.attempts,
                        State::Failed,
                        status,
                        Some(&why),
                        None,
                        &stamp,
                    )],
                    None,
                )
            } else {
                let n = usize::try_from(d.attempts).unwrap_or(0);
                let delay = retry_delay(config, n, retry_after);
                let next = timestamp(now + Duration::seconds(i64::from(delay)));
                (
                    vec![webhooks::attempted(
                        tenant,
                        &d.id,
                        d.attempts,
                        State::Pending,
                        status,
                        Some(&error),
                        Some(&next),
                        &stamp,
                    )],
                    Some(delay),
                )
            }
        }
    };
    db.batch(stmts).await?;
    if let Some(delay) = retry {
        let message = deliver_message(tenant, &d.id);
        if out.enqueue(vec![message], delay).await.is_err() {
            // The queue itself offers it again; the cron is the last resort.
            return Ok(Verdict::Retry(delay));
        }
    }
    Ok(Verdict::Ack)
}

/// Sends `webhook.test` to an endpoint now and says how it went.
pub(crate) async fn test<O: Outbound>(
    config: &Config,
    key: &str,
    out: &O,
    tenant: &str,
    hook: &Webhook,
    request_id: &str,
    now: DateTime<Utc>,
) -> Value {
    let event = json!({
        "id": format!("evt_test_{}", uuid::Uuid::new_v4().simple()),
        "type": "webhook.test",
        "tenant": tenant,
        "occurredAt": timestamp(now),
        "requestId": request_id,
        "data": {"webhook": hook.id},
    });
    let post = signed_post(config, key, tenant, hook, &event, now);
    match classify(out.post(post).await) {
        Attempt::Delivered(status) => json!({"delivered": true, "status": status, "event": event}),
        Attempt::Gone => {
            json!({"delivered": false, "status": 410, "error": "HTTP 410 Gone", "event": event})
        }
        Attempt::Failed { status, error, .. } => {
            json!({"delivered": false, "status": status, "error": error, "event": event})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_classified_as_standard_webhooks_says() {
        let posted = |status, retry_after: Option<&str>| {
            Ok(Posted {
                status,
                retry_after: retry_after.map(Into::into),
            })
        };
        assert_eq!(classify(posted(200, None)), Attempt::Delivered(200));
        assert_eq!(classify(posted(204, None)), Attempt::Delivered(204));
        assert_eq!(classify(posted(410, None)), Attempt::Gone);
        assert!(matches!(
            classify(posted(301, None)),
            Attempt::Failed {
                status: Some(301),
                ..
            }
        ));
        assert!(matches!(
            classify(posted(429, Some("120"))),
            Attempt::Failed {
                retry_after: Some(120),
                ..
            }
        ));
        assert!(matches!(
            classify(posted(500, Some("120"))),
            Attempt::Failed {
                retry_after: None,
                ..
            }
        ));
        assert!(matches!(
            classify(Err("timeout".into())),
            Attempt::Failed { status: None, .. }
        ));
    }

    #[test]
    fn retry_delays_follow_the_schedule_with_jitter_and_retry_after() {
        let config = Config::default();
        for _ in 0..50 {
            let d = retry_delay(&config, 1, None);
            assert!((270..=330).contains(&d), "{d}");
        }
        assert_eq!(retry_delay(&config, 0, Some(60)), 60);
        assert!(retry_delay(&config, 0, Some(1_000_000)) <= 86_400);
    }
}
