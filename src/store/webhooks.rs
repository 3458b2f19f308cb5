//! Webhook endpoints and their deliveries (see migration 0004).
//!
//! An endpoint row holds no secret: its signing secret is derived from a
//! Worker secret and the row's random salt (see `server::webhooks::sign`).
//! A delivery row is one event for one endpoint: created when the event is
//! dispatched, then attempted until it is delivered or failed.

use serde_json::Value;

use super::{col_i64, col_str, col_text, write_one, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Webhook {
    pub id: String,
    pub url: String,
    pub types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub salt: String,
    pub previous_salt: Option<String>,
    pub previous_until: Option<String>,
    pub created: String,
    pub updated: String,
}

impl Webhook {
    /// Whether it takes events of type `kind`: a listed type, a prefix
    /// pattern (`user.*`) or `*`.
    pub(crate) fn wants(&self, kind: &str) -> bool {
        self.types.iter().any(|t| match t.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => t == kind,
        })
    }
}

const COLUMNS: &str = "id, url, types, description, enabled, disabled_reason, salt, \
                       previous_salt, previous_until, created_at, updated_at";

fn from_row(row: &Row) -> Result<Webhook, StoreError> {
    let types: Vec<String> = serde_json::from_str(&col_text(row, "webhooks", "types")?)
        .map_err(|e| StoreError::Other(format!("webhooks.types is not a JSON list: {e}")))?;
    Ok(Webhook {
        id: col_text(row, "webhooks", "id")?,
        url: col_text(row, "webhooks", "url")?,
        types,
        description: col_str(row, "description").map(str::to_owned),
        enabled: col_i64(row, "enabled") == Some(1),
        disabled_reason: col_str(row, "disabled_reason").map(str::to_owned),
        salt: col_text(row, "webhooks", "salt")?,
        previous_salt: col_str(row, "previous_salt").map(str::to_owned),
        previous_until: col_str(row, "previous_until").map(str::to_owned),
        created: col_text(row, "webhooks", "created_at")?,
        updated: col_text(row, "webhooks", "updated_at")?,
    })
}

fn types_json(types: &[String]) -> String {
    Value::Array(types.iter().map(|t| Value::from(t.as_str())).collect()).to_string()
}

pub(crate) async fn insert<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    w: &Webhook,
) -> Result<(), StoreError> {
    db.batch(vec![Stmt::new(
        format!(
            "INSERT INTO webhooks (tenant_id, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        vec![
            tenant.into(),
            w.id.as_str().into(),
            w.url.as_str().into(),
            types_json(&w.types).into(),
            w.description.clone().into(),
            w.enabled.into(),
            w.disabled_reason.clone().into(),
            w.salt.as_str().into(),
            w.previous_salt.clone().into(),
            w.previous_until.clone().into(),
            w.created.as_str().into(),
            w.updated.as_str().into(),
        ],
    )])
    .await
    .map(|_| ())
}

/// Writes every field of an endpoint back. Returns false when it is gone.
pub(crate) async fn update<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    w: &Webhook,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "UPDATE webhooks SET url = ?, types = ?, description = ?, enabled = ?, disabled_reason = ?, \
             salt = ?, previous_salt = ?, previous_until = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
            vec![
                w.url.as_str().into(),
                types_json(&w.types).into(),
                w.description.clone().into(),
                w.enabled.into(),
                w.disabled_reason.clone().into(),
                w.salt.as_str().into(),
                w.previous_salt.clone().into(),
                w.previous_until.clone().into(),
                w.updated.as_str().into(),
                tenant.into(),
                w.id.as_str().into(),
            ],
        ),
    )
    .await
}

pub(crate) async fn get<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
) -> Result<Option<Webhook>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = ? AND id = ?"),
            vec![tenant.into(), id.into()],
        ))
        .await?;
    rows.first().map(from_row).transpose()
}

/// The tenant's endpoints, oldest first; only enabled ones with `enabled`.
pub(crate) async fn list<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    enabled: bool,
) -> Result<Vec<Webhook>, StoreError> {
    let only = if enabled { " AND enabled = 1" } else { "" };
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = ?{only} ORDER BY created_at, id"
            ),
            vec![tenant.into()],
        ))
        .await?;
    rows.iter().map(from_row).collect()
}

/// Deletes an endpoint and its deliveries. Returns false when it is gone.
pub(crate) async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let written = db
        .batch(vec![
            Stmt::new(
                "DELETE FROM deliveries WHERE tenant_id = ? AND webhook_id = ?",
                vec![tenant.into(), id.into()],
            ),
            Stmt::new(
                "DELETE FROM webhooks WHERE tenant_id = ? AND id = ?",
                vec![tenant.into(), id.into()],
            ),
        ])
        .await?;
    Ok(written.get(1).is_some_and(|w| w.changes >= 1))
}

/// Turns an endpoint off, saying why (its receiver answered 410 Gone).
pub(crate) fn disable(tenant: &str, id: &str, reason: &str, now: &str) -> Stmt {
    Stmt::new(
        "UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
        vec![reason.into(), now.into(), tenant.into(), id.into()],
    )
}

/// The state of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Pending,
    Delivered,
    Failed,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Failed => "failed",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "delivered" => State::Delivered,
            "failed" => State::Failed,
            _ => State::Pending,
        }
    }
}

/// One event for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event_sequence: i64,
    pub state: State,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt: Option<String>,
    pub created: String,
    pub updated: String,
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_sequence, state, attempts, last_status, \
                                last_error, next_attempt, created_at, updated_at";

fn delivery_from_row(row: &Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: col_text(row, "deliveries", "id")?,
        webhook_id: col_text(row, "deliveries", "webhook_id")?,
        event_sequence: col_i64(row, "event_sequence").unwrap_or(0),
        state: State::parse(col_str(row, "state").unwrap_or("pending")),
        attempts: col_i64(row, "attempts").unwrap_or(0),
        last_status: col_i64(row, "last_status"),
        last_error: col_str(row, "last_error").map(str::to_owned),
        next_attempt: col_str(row, "next_attempt").map(str::to_owned),
        created: col_text(row, "deliveries", "created_at")?,
        updated: col_text(row, "deliveries", "updated_at")?,
    })
}

/// A new pending delivery, due now; a second one of the same event for the
/// same endpoint is ignored (a dispatch done twice).
pub(crate) fn new_delivery(
    tenant: &str,
    id: &str,
    webhook: &str,
    sequence: i64,
    now: &str,
) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO deliveries (tenant_id, {DELIVERY_COLUMNS}) \
             VALUES (?, ?, ?, ?, 'pending', 0, NULL, NULL, ?, ?, ?) \
             ON CONFLICT (tenant_id, webhook_id, event_sequence) DO NOTHING"
        ),
        vec![
            tenant.into(),
            id.into(),
            webhook.into(),
            sequence.into(),
            now.into(),
            now.into(),
            now.into(),
        ],
    )
}

pub(crate) async fn get_delivery<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
) -> Result<Option<Delivery>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE tenant_id = ? AND id = ?"),
            vec![tenant.into(), id.into()],
        ))
        .await?;
    rows.first().map(delivery_from_row).transpose()
}

/// A delivery with its endpoint and its event, read in one round trip;
/// `None` when there is no such delivery (the endpoint or the event may be
/// gone: deleted, or past retention).
pub(crate) async fn delivery_with<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
) -> Result<Option<(Delivery, Option<Webhook>, Option<super::events::Event>)>, StoreError> {
    let of_delivery = |column: &str| {
        format!("(SELECT {column} FROM deliveries WHERE tenant_id = ?2 AND id = ?1)")
    };
    let stmts = vec![
        Stmt::new(
            format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE tenant_id = ?2 AND id = ?1"),
            vec![id.into(), tenant.into()],
        ),
        Stmt::new(
            format!(
                "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = ?2 AND id = {}",
                of_delivery("webhook_id")
            ),
            vec![id.into(), tenant.into()],
        ),
        super::events::get_stmt_where(tenant, &of_delivery("event_sequence"), id),
    ];
    let mut rows = db.query_all(stmts).await?.into_iter();
    let (Some(d), Some(w), Some(e)) = (rows.next(), rows.next(), rows.next()) else {
        return Err(StoreError::Other(
            "a delivery read answered too few results".into(),
        ));
    };
    let Some(delivery) = d.first().map(delivery_from_row).transpose()? else {
        return Ok(None);
    };
    let hook = w.first().map(from_row).transpose()?;
    let event = super::events::first_event(&e)?;
    Ok(Some((delivery, hook, event)))
}

/// An endpoint's deliveries, newest event first, after cursor `before`
/// (an event sequence).
pub(crate) async fn deliveries<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    webhook: &str,
    before: Option<i64>,
    limit: u32,
) -> Result<(Vec<Delivery>, bool), StoreError> {
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE tenant_id = ? AND webhook_id = ? \
                 AND event_sequence < ? ORDER BY event_sequence DESC LIMIT ?"
            ),
            vec![
                tenant.into(),
                webhook.into(),
                before.unwrap_or(i64::MAX).into(),
                i64::from(limit + 1).into(),
            ],
        ))
        .await?;
    let more = rows.len() > limit as usize;
    let list = rows
        .iter()
        .take(limit as usize)
        .map(delivery_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((list, more))
}

/// What an attempt left: the new state, the attempt count, the
/// receiver's status or the error, and when to try next. Applies only if
/// the delivery is still pending at `attempts_before` (a duplicate queue
/// message for an attempt already recorded changes nothing).
#[allow(clippy::too_many_arguments)]
pub(crate) fn attempted(
    tenant: &str,
    id: &str,
    attempts_before: i64,
    state: State,
    status: Option<u16>,
    error: Option<&str>,
    next: Option<&str>,
    now: &str,
) -> Stmt {
    Stmt::new(
        "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, \
         next_attempt = ?, updated_at = ? \
         WHERE tenant_id = ? AND id = ? AND state = 'pending' AND attempts = ?",
        vec![
            state.as_str().into(),
            status.map(i64::from).into(),
            error.into(),
            next.into(),
            now.into(),
            tenant.into(),
            id.into(),
            attempts_before.into(),
        ],
    )
}

/// Marks a delivery failed without an attempt (its endpoint is gone or
/// off, or the queue dead-lettered it).
pub(crate) fn give_up(tenant: &str, id: &str, why: &str, now: &str) -> Stmt {
    Stmt::new(
        "UPDATE deliveries SET state = 'failed', last_error = coalesce(?, last_error), \
         next_attempt = NULL, updated_at = ? WHERE tenant_id = ? AND id = ? AND state = 'pending'",
        vec![why.into(), now.into(), tenant.into(), id.into()],
    )
}

/// Makes a delivery pending again, due now, with its attempts counted
/// from zero (an operator's retry). Returns false when it is not there.
pub(crate) async fn requeue<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    webhook: &str,
    id: &str,
    now: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt = ?, updated_at = ? \
             WHERE tenant_id = ? AND webhook_id = ? AND id = ?",
            vec![
                now.into(),
                now.into(),
                tenant.into(),
                webhook.into(),
                id.into(),
            ],
        ),
    )
    .await
}

/// Pending deliveries overdue since before `before` (their queue message
/// was lost), as (tenant, id).
pub(crate) async fn overdue<D: SqlExecutor>(
    db: &D,
    before: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT tenant_id, id FROM deliveries WHERE state = 'pending' AND next_attempt < ? \
             ORDER BY next_attempt LIMIT 100",
            vec![SqlValue::from(before)],
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                col_str(r, "tenant_id")?.to_owned(),
                col_str(r, "id")?.to_owned(),
            ))
        })
        .collect())
}
