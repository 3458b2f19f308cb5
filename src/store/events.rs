//! Provisioning events: the outbox rows a write adds to its own batch, and
//! the reads of the change feed.
//!
//! A tenant's events are numbered inside the batch that records them (D1
//! runs a batch as one transaction): each insert numbers its rows after the
//! highest sequence the tenant has, among its events and `tenants.event_seq`
//! (which the retention purge raises to the highest it deletes), so
//! committed events have strictly increasing sequences without gaps, and no
//! number is given twice even after old events are purged. An event's id is
//! the request's id prefix (time and randomness) and its sequence.
//!
//! Membership events are computed by the database, inside the batch, from
//! the membership as it is when the batch runs: one event per member that
//! really joins or leaves, even when parallel requests change one group.

use serde_json::Value;

use super::tenants::{retention_cutoff, RetentionDays};
use super::{col_i64, col_str, col_text, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// The `dispatched` value of a new event: already done when the tenant has
/// no enabled webhook (nothing to deliver), else left for the dispatcher.
pub(super) const DISPATCHED: &str =
    "NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = ?1 AND w.enabled = 1)";

/// An event's id from the request's prefix and its sequence (SQL).
pub(super) const EVENT_ID: &str = "?2 || printf('%010x', {seq})";

/// What every event of a request shares.
#[derive(Debug, Clone)]
pub(crate) struct Stamp<'a> {
    pub tenant: &'a str,
    /// `evt_` + the request's time-ordered random prefix.
    pub id_prefix: &'a str,
    pub at: &'a str,
}

/// The highest sequence tenant `?1` has given (SQL over `tenants t`): its
/// newest event's, or what the purge kept in `event_seq` when that is
/// higher. An `INSERT INTO events ... SELECT` reads it before it inserts.
pub(super) const LAST_SEQ: &str =
    "max(t.event_seq, coalesce((SELECT max(e.sequence) FROM events e WHERE e.tenant_id = ?1), 0))";

/// The statements that record one event of type `kind` about resource
/// `resource_id`, whose body (actor, request id, resource, data, ...) is
/// `body`.
pub(crate) fn record(s: &Stamp<'_>, kind: &str, resource_id: &str, body: &Value) -> Vec<Stmt> {
    let seq = format!("{LAST_SEQ} + 1");
    let id = EVENT_ID.replace("{seq}", &seq);
    vec![
        Stmt::new(
            format!(
                "INSERT INTO events (tenant_id, sequence, id, type, occurred_at, resource_id, body, dispatched) \
                 SELECT ?1, {seq}, {id}, ?3, ?4, ?5, ?6, {DISPATCHED} FROM tenants t WHERE t.id = ?1"
            ),
            vec![
                s.tenant.into(),
                s.id_prefix.into(),
                kind.into(),
                s.at.into(),
                resource_id.into(),
                body.to_string().into(),
            ],
        ),
    ]
}

/// A member's summary as the database knows it (SQL, over `{id}` and the
/// tenant `?1`): a user's id, userName and externalId, or a group's id,
/// displayName and externalId, with its `type`.
/// `live`: only a user that is not a retained tombstone. Returns the
/// user's and the group's subquery; `?5` is the group the event is about.
fn summary_sql(id: &str, live: bool) -> (String, String) {
    let user = format!(
        "(SELECT json_object('type', 'User', 'id', u.id, 'userName', u.user_name, 'externalId', u.external_id) \
         FROM users u WHERE u.tenant_id = ?1 AND u.id = {id}{live})",
        live = if live { " AND u.deleted_at IS NULL" } else { "" },
    );
    let group = format!(
        "(SELECT json_object('type', 'Group', 'id', g.id, 'displayName', g.display_name, 'externalId', g.external_id) \
         FROM groups g WHERE g.tenant_id = ?1 AND g.id = {id} AND g.id <> ?5)"
    );
    (user, group)
}

/// A member to add, as membership statements add it: its id and, when the
/// request named one, its type (`User` or `Group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Joining<'a> {
    pub id: &'a str,
    pub kind: Option<&'static str>,
}

/// The statements that record `group.member_added` for each of `joining`
/// that is a live user or another group of the tenant (of the type named,
/// when one is) and not yet a member of group `group_id`: run them before
/// the membership statements of the same batch. `body` is the events'
/// shared body; each gets `data.member`, the member's summary.
pub(crate) fn members_added(
    s: &Stamp<'_>,
    group_id: &str,
    joining: &[Joining<'_>],
    body: &Value,
) -> Vec<Stmt> {
    if joining.is_empty() {
        return Vec::new();
    }
    let list: Vec<Value> = joining
        .iter()
        .map(|j| serde_json::json!({"id": j.id, "kind": j.kind}))
        .collect();
    let (user, group) = summary_sql("x.mid", true);
    let seq = format!("{LAST_SEQ} + row_number() OVER (ORDER BY a.pos)");
    let id = EVENT_ID.replace("{seq}", &seq);
    let sql = format!(
        "INSERT INTO events (tenant_id, sequence, id, type, occurred_at, resource_id, member_id, body, dispatched) \
         SELECT ?1, {seq}, {id}, 'group.member_added', ?4, ?5, a.mid, \
                json_set(?6, '$.data.member', json(a.summary)), {DISPATCHED} \
         FROM tenants t, ( \
           SELECT min(y.pos) AS pos, y.mid, y.summary FROM ( \
             SELECT x.pos, x.mid, coalesce( \
               CASE WHEN x.kind IS NULL OR x.kind = 'User' THEN {user} END, \
               CASE WHEN x.kind IS NULL OR x.kind = 'Group' THEN {group} END) AS summary \
             FROM (SELECT j.key AS pos, json_extract(j.value, '$.id') AS mid, \
                          json_extract(j.value, '$.kind') AS kind FROM json_each(?3) j) x \
           ) y \
           WHERE y.summary IS NOT NULL AND NOT EXISTS ( \
             SELECT 1 FROM group_members m WHERE m.tenant_id = ?1 AND m.group_id = ?5 AND m.member_id = y.mid) \
           GROUP BY y.mid \
         ) a WHERE t.id = ?1"
    );
    vec![Stmt::new(
        sql,
        vec![
            s.tenant.into(),
            s.id_prefix.into(),
            Value::Array(list).to_string().into(),
            s.at.into(),
            group_id.into(),
            body.to_string().into(),
        ],
    )]
}

/// Which current members of a group are leaving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leaving<'a> {
    /// These ids.
    These(&'a [String]),
    /// Every member but these ids (a replacement of the member list).
    AllBut(Vec<&'a str>),
}

/// The statements that record `group.member_removed` for each current
/// member of group `group_id` that `leaving` names: run them before the
/// membership statements of the same batch (see [`members_added`]).
pub(crate) fn members_removed(
    s: &Stamp<'_>,
    group_id: &str,
    leaving: &Leaving<'_>,
    body: &Value,
) -> Vec<Stmt> {
    let (selector, ids): (&str, Vec<&str>) = match leaving {
        Leaving::These([]) => return Vec::new(),
        Leaving::These(ids) => (
            "r.member_id IN (SELECT value FROM json_each(?3))",
            ids.iter().map(String::as_str).collect(),
        ),
        Leaving::AllBut(keep) => (
            "r.member_id NOT IN (SELECT value FROM json_each(?3))",
            keep.clone(),
        ),
    };
    let (user, group) = summary_sql("r.member_id", false);
    let seq = format!("{LAST_SEQ} + row_number() OVER (ORDER BY r.member_id)");
    let id = EVENT_ID.replace("{seq}", &seq);
    let sql = format!(
        "INSERT INTO events (tenant_id, sequence, id, type, occurred_at, resource_id, member_id, body, dispatched) \
         SELECT ?1, {seq}, {id}, 'group.member_removed', ?4, ?5, r.member_id, \
                json_set(?6, '$.data.member', json(coalesce({user}, {group}, \
                  json_object('type', r.member_type, 'id', r.member_id)))), {DISPATCHED} \
         FROM tenants t, group_members r \
         WHERE t.id = ?1 AND r.tenant_id = ?1 AND r.group_id = ?5 AND {selector}"
    );
    let ids = Value::Array(ids.into_iter().map(Value::from).collect());
    vec![Stmt::new(
        sql,
        vec![
            s.tenant.into(),
            s.id_prefix.into(),
            ids.to_string().into(),
            s.at.into(),
            group_id.into(),
            body.to_string().into(),
        ],
    )]
}

/// The statements that record `group.member_removed` for every group that
/// member `member_id` (of `member_type`, `User` or `Group`; its summary is
/// `member`) is in: run them before its memberships are deleted (a delete
/// of the member). `body` is the events' shared body; each gets its
/// group as `resource` and `data.group`, and `data.member`.
pub(crate) fn member_leaves_all(
    s: &Stamp<'_>,
    member_id: &str,
    member_type: &str,
    member: &Value,
    body: &Value,
) -> Vec<Stmt> {
    let seq = format!("{LAST_SEQ} + row_number() OVER (ORDER BY g.id)");
    let id = EVENT_ID.replace("{seq}", &seq);
    // json_patch drops the members a summary does not have (null).
    let group = "json_patch('{}', json_object('type', 'Group', 'id', g.id,                  'displayName', g.display_name, 'externalId', g.external_id))";
    let sql = format!(
        "INSERT INTO events (tenant_id, sequence, id, type, occurred_at, resource_id, member_id, body, dispatched) \
         SELECT ?1, {seq}, {id}, 'group.member_removed', ?4, g.id, ?3, \
                json_set(?5, '$.resource', json({group}), \
                  '$.data', json_object('group', json({group}), 'member', json(?6))), {DISPATCHED} \
         FROM tenants t, group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
         WHERE t.id = ?1 AND m.tenant_id = ?1 AND m.member_id = ?3 AND m.member_type = ?7"
    );
    vec![Stmt::new(
        sql,
        vec![
            s.tenant.into(),
            s.id_prefix.into(),
            member_id.into(),
            s.at.into(),
            body.to_string().into(),
            member.to_string().into(),
            member_type.into(),
        ],
    )]
}

/// A stored event as the feed and webhooks show it: `id`, `type`,
/// `tenant`, `sequence`, `occurredAt`, then its body's members.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub sequence: i64,
    pub json: Value,
}

fn from_row(row: &Row) -> Result<Event, StoreError> {
    let sequence = col_i64(row, "sequence")
        .ok_or_else(|| StoreError::Other("events.sequence missing".into()))?;
    let body: Value = serde_json::from_str(&col_text(row, "events", "body")?)
        .map_err(|e| StoreError::Other(format!("events.body is not JSON: {e}")))?;
    let mut json = serde_json::Map::new();
    json.insert("id".into(), col_text(row, "events", "id")?.into());
    json.insert("type".into(), col_text(row, "events", "type")?.into());
    json.insert(
        "tenant".into(),
        col_text(row, "events", "tenant_id")?.into(),
    );
    json.insert("sequence".into(), sequence.into());
    json.insert(
        "occurredAt".into(),
        col_text(row, "events", "occurred_at")?.into(),
    );
    if let Value::Object(b) = body {
        json.extend(b);
    }
    Ok(Event {
        sequence,
        json: Value::Object(json),
    })
}

const COLUMNS: &str = "tenant_id, sequence, id, type, occurred_at, body";

/// What the feed asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeedQuery {
    /// Events after this sequence.
    pub after: i64,
    /// Types, exact or prefix patterns (`user.*`); empty: every type.
    pub types: Vec<String>,
    /// Events about this resource (or with it as the member).
    pub resource: Option<String>,
    pub limit: u32,
}

/// A page of the tenant's events in sequence order, and whether more
/// follow.
pub(crate) async fn feed<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    q: &FeedQuery,
) -> Result<(Vec<Event>, bool), StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM events WHERE tenant_id = ? AND sequence > ?");
    let mut params: Vec<SqlValue> = vec![tenant.into(), q.after.into()];
    if let Some(r) = &q.resource {
        sql.push_str(" AND (resource_id = ? OR member_id = ?)");
        params.extend([r.as_str().into(), r.as_str().into()]);
    }
    if !q.types.is_empty() {
        let mut alternatives = Vec::new();
        for t in &q.types {
            match t.strip_suffix('*') {
                Some(prefix) => {
                    alternatives.push("substr(type, 1, ?) = ?");
                    params.push(i64::try_from(prefix.len()).unwrap_or(0).into());
                    params.push(prefix.into());
                }
                None => {
                    alternatives.push("type = ?");
                    params.push(t.as_str().into());
                }
            }
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    sql.push_str(" ORDER BY sequence LIMIT ?");
    params.push(i64::from(q.limit + 1).into());
    let rows = db.query(Stmt::new(sql, params)).await?;
    let more = rows.len() > q.limit as usize;
    let events = rows
        .iter()
        .take(q.limit as usize)
        .map(from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((events, more))
}

/// The tenant's events not yet dispatched to its webhooks, oldest first.
pub(crate) async fn undispatched<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    limit: u32,
) -> Result<Vec<(Event, String)>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT {COLUMNS} FROM events WHERE tenant_id = ? AND dispatched = 0 \
                 ORDER BY sequence LIMIT ?"
            ),
            vec![tenant.into(), i64::from(limit).into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((from_row(r)?, col_text(r, "events", "type")?)))
        .collect()
}

/// The statement answering which of `tenants` have events their webhooks
/// have not been given yet ([`tenants_in`] reads its rows).
pub(crate) fn undispatched_of(tenants: &[String]) -> Stmt {
    let list = Value::Array(tenants.iter().map(|t| Value::from(t.as_str())).collect());
    Stmt::new(
        "SELECT DISTINCT tenant_id FROM events WHERE dispatched = 0 \
         AND tenant_id IN (SELECT value FROM json_each(?))",
        vec![list.to_string().into()],
    )
}

/// The tenants in the rows of an [`undispatched_of`].
pub(crate) fn tenants_in(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| col_str(r, "tenant_id").map(str::to_owned))
        .collect()
}

/// Marks events dispatched (their deliveries are written in the same batch).
pub(crate) fn mark_dispatched(tenant: &str, sequences: &[i64]) -> Stmt {
    let list = Value::Array(sequences.iter().map(|s| Value::from(*s)).collect());
    Stmt::new(
        "UPDATE events SET dispatched = 1 WHERE tenant_id = ? \
         AND sequence IN (SELECT value FROM json_each(?))",
        vec![tenant.into(), list.to_string().into()],
    )
}

/// One event by sequence.
/// The statement reading the tenant's event whose sequence is the SQL
/// expression `sequence` (with `?1` bound to `arg`, `?2` to the tenant).
pub(crate) fn get_stmt_where(tenant: &str, sequence: &str, arg: &str) -> Stmt {
    Stmt::new(
        format!("SELECT {COLUMNS} FROM events WHERE tenant_id = ?2 AND sequence = {sequence}"),
        vec![arg.into(), tenant.into()],
    )
}

/// The event in the rows of an event read, if any.
pub(crate) fn first_event(rows: &[Row]) -> Result<Option<Event>, StoreError> {
    rows.first().map(from_row).transpose()
}

pub(crate) async fn get<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    sequence: i64,
) -> Result<Option<Event>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {COLUMNS} FROM events WHERE tenant_id = ? AND sequence = ?"),
            vec![tenant.into(), sequence.into()],
        ))
        .await?;
    rows.first().map(from_row).transpose()
}

/// Tenants with events left undispatched since before `before` (their
/// dispatch message was lost: the worker stopped between commit and send).
pub(crate) async fn stalled_tenants<D: SqlExecutor>(
    db: &D,
    before: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT DISTINCT tenant_id FROM events WHERE dispatched = 0 AND occurred_at < ? LIMIT 100",
            vec![before.into()],
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| col_str(r, "tenant_id").map(str::to_owned))
        .collect())
}

/// Deletes events older than each tenant's `eventRetentionDays` (30 by
/// default, see [`super::tenants::retention_cutoff`]) at time `now` (a
/// stored timestamp), except those a pending delivery still needs; and the
/// finished deliveries of events gone.
pub(crate) fn purge(now: &str) -> Vec<Stmt> {
    let cutoff = retention_cutoff("eventRetentionDays", RetentionDays::EVENTS);
    vec![
        // The numbers of the events about to go are never given again.
        Stmt::new(
            format!(
                "UPDATE tenants AS t SET event_seq = (SELECT max(e.sequence) FROM events e WHERE e.tenant_id = t.id) \
                 WHERE EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = t.id AND e.sequence > t.event_seq \
                 AND e.occurred_at < {cutoff})"
            ),
            vec![now.into()],
        ),
        Stmt::new(
            format!(
                "DELETE FROM events WHERE (tenant_id, sequence) IN (\
                 SELECT e.tenant_id, e.sequence FROM tenants t \
                 JOIN events e ON e.tenant_id = t.id AND e.occurred_at < {cutoff} \
                 WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = e.tenant_id \
                 AND d.event_sequence = e.sequence AND d.state = 'pending'))"
            ),
            vec![now.into()],
        ),
        Stmt::new(
            "DELETE FROM deliveries WHERE state <> 'pending' AND NOT EXISTS (\
             SELECT 1 FROM events e WHERE e.tenant_id = deliveries.tenant_id \
             AND e.sequence = deliveries.event_sequence)",
            Vec::new(),
        ),
    ]
}
