//! The Cron Triggers (`[triggers] crons` in wrangler.toml).
//!
//! Every minute (`* * * * *`, or any cron but the daily one): a tenant whose events are still
//! undispatched a minute after they were recorded (the worker stopped
//! between the commit and the queue send) gets a new dispatch message, and
//! a delivery still pending five minutes after it was due (its queue
//! message was lost) is queued again. Both are at-least-once: a duplicate
//! finds the work done. Daily ([`RETENTION_CRON`]): events older than each
//! tenant's `eventRetentionDays` go, except those a pending delivery still
//! needs, with the finished deliveries of events gone, and request log
//! entries older than each tenant's `requestLogRetentionDays`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::server::config::Config;
use crate::server::log::Log;
use crate::server::webhooks::{deliver_message, dispatch_message, Outbound};
use crate::store::shards::Shards;
use crate::store::{events, requests, timestamp, webhooks, SqlExecutor, Stmt, StoreError};

/// The daily cron: retention.
pub const RETENTION_CRON: &str = "17 3 * * *";

/// Runs the work of cron `cron` at `now`; failures are logged.
/// Each shard is done on its own: one that fails does not stop the others.
pub async fn tick<D: SqlExecutor, O: Outbound>(
    _config: &Config,
    shards: &Shards<'_, D>,
    out: &O,
    log: &dyn Log,
    cron: &str,
    now: DateTime<Utc>,
) {
    for shard in shards.all() {
        let result = if cron == RETENTION_CRON {
            retention(shard.db, now).await
        } else {
            recover(shard.db, out, now).await
        };
        if let Err(e) = result {
            log.line(
                &json!({"level": "error", "message": "cron failed", "cron": cron, "kind": "storage",
                        "shard": shard.name, "error": e.to_string()})
                .to_string(),
            );
        }
    }
}

async fn recover<D: SqlExecutor, O: Outbound>(
    db: &D,
    out: &O,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stalled = events::stalled_tenants(db, &timestamp(now - Duration::seconds(60))).await?;
    if !stalled.is_empty() {
        let messages = stalled.iter().map(|t| dispatch_message(t)).collect();
        let _ = out.enqueue(messages, 0).await;
    }
    let overdue = webhooks::overdue(db, &timestamp(now - Duration::minutes(5))).await?;
    if !overdue.is_empty() {
        let messages = overdue.iter().map(|(t, d)| deliver_message(t, d)).collect();
        let _ = out.enqueue(messages, 0).await;
    }
    Ok(())
}

/// The statements of the daily retention at `now`: events, then the
/// request log.
pub(crate) fn retention_stmts(now: &str) -> Vec<Stmt> {
    let mut stmts = events::purge(now);
    stmts.push(requests::purge(now));
    stmts.push(crate::store::oauth::purge(now));
    stmts.extend(crate::store::oauth::purge_grants(now));
    stmts
}

async fn retention<D: SqlExecutor>(db: &D, now: DateTime<Utc>) -> Result<(), StoreError> {
    db.batch(retention_stmts(&timestamp(now))).await.map(|_| ())
}
