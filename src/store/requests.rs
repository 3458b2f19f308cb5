//! The SCIM request log (see the fifth migration): the statement that
//! records one served request, the newest-first listing of a tenant's
//! entries, and the retention statement. Whether a request is kept is the
//! tenant's `requestLog` setting, read by the INSERT itself from
//! `tenants.settings` when the request did not read it already, so the
//! request path reads nothing to decide.

use super::tenants::{retention_cutoff, tenant_setting, RetentionDays};
use super::{col_i64, col_str, col_text, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// One entry of the request log, as recorded and as listed. The server
/// fills it (`server::request_log`): the body comes here redacted and
/// capped already.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The request time, a stored timestamp (see [`super::timestamp`]).
    pub at: String,
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub scim_type: Option<String>,
    pub detail: Option<String>,
    pub duration_ms: i64,
    pub token_id: Option<String>,
    pub token_label: Option<String>,
    pub user_agent: Option<String>,
    /// A JSON array.
    pub leniencies: String,
    pub body: Option<String>,
}

const COLUMNS: &str = "at, request_id, method, path, query, status, scim_type, detail, \
     duration_ms, token_id, token_label, user_agent, leniencies, body";

/// An entry to record for `tenant`; `always`: a write or an error, which
/// every setting keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    pub tenant: String,
    pub entry: Entry,
    pub always: bool,
}

/// The statement that records `e` for `tenant` (see [`record_all`]).
#[cfg(test)]
pub(crate) fn record(tenant: &str, e: &Entry, always: bool) -> Stmt {
    record_all(
        &[Pending {
            tenant: tenant.to_owned(),
            entry: e.clone(),
            always,
        }][..],
    )
}

/// The one statement that records every entry of `rows`, in order (the
/// entries of many requests cost one statement). Each is inserted only
/// when its tenant exists, and, unless `always`, when the tenant's
/// settings say `requestLog: "all"`.
pub(crate) fn record_all<'a>(rows: impl IntoIterator<Item = &'a Pending>) -> Stmt {
    let list: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|p| {
            let e = &p.entry;
            serde_json::json!([
                p.tenant,
                e.at,
                e.request_id,
                e.method,
                e.path,
                e.query,
                e.status,
                e.scim_type,
                e.detail,
                e.duration_ms,
                e.token_id,
                e.token_label,
                e.user_agent,
                e.leniencies,
                e.body,
                p.always
            ])
        })
        .collect();
    let values: Vec<String> = (1..=14)
        .map(|i| format!("json_extract(j.value, '$[{i}]')"))
        .collect();
    Stmt::new(
        format!(
            "INSERT INTO request_log (tenant_id, {COLUMNS}) \
             SELECT t.id, {} FROM json_each(?) j JOIN tenants t ON t.id = json_extract(j.value, '$[0]') \
             WHERE json_extract(j.value, '$[15]') OR {} = 'all' ORDER BY j.key",
            values.join(", "),
            tenant_setting("requestLog")
        ),
        vec![serde_json::Value::Array(list).to_string().into()],
    )
}

/// Which entries a listing asks for: older than the cursor `before` (an
/// entry's `seq`), with a status in `status` (inclusive), with `method`;
/// at most `limit` of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Listing {
    pub before: Option<i64>,
    pub status: Option<(u16, u16)>,
    pub method: Option<String>,
    pub limit: u32,
}

/// A page of the log, newest first: each entry with its `seq` (its
/// cursor), and the cursor of the next page when there are older entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Logged {
    pub entries: Vec<(i64, Entry)>,
    pub next: Option<i64>,
}

fn from_row(row: &Row) -> Result<(i64, Entry), StoreError> {
    let text = |k: &str| col_text(row, "request_log", k);
    let opt = |k: &str| col_str(row, k).map(str::to_owned);
    let int = |k: &str| {
        col_i64(row, k).ok_or_else(|| StoreError::Other(format!("request_log.{k} missing")))
    };
    let entry = Entry {
        at: text("at")?,
        request_id: text("request_id")?,
        method: text("method")?,
        path: text("path")?,
        query: opt("query"),
        status: u16::try_from(int("status")?).unwrap_or_default(),
        scim_type: opt("scim_type"),
        detail: opt("detail"),
        duration_ms: int("duration_ms")?,
        token_id: opt("token_id"),
        token_label: opt("token_label"),
        user_agent: opt("user_agent"),
        leniencies: text("leniencies")?,
        body: opt("body"),
    };
    Ok((int("seq")?, entry))
}

/// The newest entry of each credential of `tenant` the log holds (its
/// retention), newest first.
pub(crate) async fn latest_per_credential<D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<Vec<Entry>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT seq, {COLUMNS} FROM request_log WHERE seq IN ( \
                   SELECT max(seq) FROM request_log WHERE tenant_id = ?1 AND token_id IS NOT NULL \
                   GROUP BY token_id) ORDER BY seq DESC"
            ),
            vec![tenant.into()],
        ))
        .await?;
    rows.iter().map(|r| from_row(r).map(|(_, e)| e)).collect()
}

/// The entries of `tenant` that `l` asks for, newest first.
pub(crate) async fn list<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    l: &Listing,
) -> Result<Logged, StoreError> {
    let mut sql = format!("SELECT seq, {COLUMNS} FROM request_log WHERE tenant_id = ?");
    let mut params: Vec<SqlValue> = vec![tenant.into()];
    if let Some(before) = l.before {
        sql.push_str(" AND seq < ?");
        params.push(before.into());
    }
    if let Some((low, high)) = l.status {
        sql.push_str(" AND status BETWEEN ? AND ?");
        params.extend([i64::from(low).into(), i64::from(high).into()]);
    }
    if let Some(method) = &l.method {
        sql.push_str(" AND method = ?");
        params.push(method.as_str().into());
    }
    // One more than the page: whether older entries remain.
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    params.push((i64::from(l.limit) + 1).into());
    let rows = db.query(Stmt::new(sql, params)).await?;
    let mut entries = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let more = entries.len() > l.limit as usize;
    entries.truncate(l.limit as usize);
    let next = if more {
        entries.last().map(|(seq, _)| *seq)
    } else {
        None
    };
    Ok(Logged { entries, next })
}

/// The retention statement: deletes, for every tenant, the entries recorded
/// before `now` (a stored timestamp, see [`super::timestamp`]) less the
/// tenant's `requestLogRetentionDays` (default 7, see
/// [`super::tenants::retention_cutoff`]). The daily Cron Trigger runs it;
/// running it twice deletes nothing more.
pub(crate) fn purge(now: &str) -> Stmt {
    let cutoff = retention_cutoff("requestLogRetentionDays", RetentionDays::REQUEST_LOG);
    Stmt::new(
        format!(
            "DELETE FROM request_log WHERE seq IN (SELECT r.seq FROM tenants t \
             JOIN request_log r ON r.tenant_id = t.id AND r.at < {cutoff})"
        ),
        vec![now.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::App;

    fn entry(at: &str, method: &str, status: u16) -> Entry {
        Entry {
            at: at.into(),
            request_id: format!("rid-{at}"),
            method: method.into(),
            path: "/scim/v2/acme/Users".into(),
            status,
            leniencies: "[]".into(),
            ..Entry::default()
        }
    }

    fn run(app: &App, stmt: Stmt) -> u64 {
        let written = pollster::block_on(app.db.batch(vec![stmt])).unwrap();
        written[0].changes
    }

    fn settings(app: &App, tenant: &str, json: &str) {
        app.rows(
            "UPDATE tenants SET settings = ? WHERE id = ?",
            vec![json.into(), tenant.into()],
        );
    }

    #[test]
    fn an_entry_is_recorded_for_an_existing_tenant_as_its_setting_says() {
        let app = App::new();
        app.tenant("acme");
        let read = entry("2026-01-01T00:00:00.000Z", "GET", 200);
        assert_eq!(run(&app, record("acme", &read, true)), 1);
        assert_eq!(run(&app, record("acme", &read, false)), 0);
        assert_eq!(run(&app, record("nobody", &read, true)), 0);
        settings(&app, "acme", r#"{"requestLog": "all"}"#);
        assert_eq!(run(&app, record("acme", &read, false)), 1);
        // Settings that are not JSON keep the default, and fail nothing.
        settings(&app, "acme", "not json");
        assert_eq!(run(&app, record("acme", &read, false)), 0);
        assert_eq!(run(&app, record("acme", &read, true)), 1);
    }

    #[test]
    fn purge_keeps_each_tenant_its_own_days_and_uses_the_index() {
        let app = App::new();
        app.tenant("acme");
        app.tenant("beta");
        settings(&app, "beta", r#"{"requestLogRetentionDays": 30}"#);
        for tenant in ["acme", "beta"] {
            for at in [
                "2026-01-01T00:00:00.000Z",
                "2026-01-20T11:59:59.999Z",
                "2026-01-25T00:00:00.000Z",
            ] {
                run(&app, record(tenant, &entry(at, "POST", 201), true));
            }
        }
        // Seven days before 2026-01-27T12:00 is 2026-01-20T12:00.
        let now = "2026-01-27T12:00:00.000Z";
        assert_eq!(run(&app, purge(now)), 2);
        assert_eq!(run(&app, purge(now)), 0);
        let left = |t: &str| {
            let l = Listing {
                limit: 10,
                ..Listing::default()
            };
            let logged = pollster::block_on(list(&app.db, t, &l)).unwrap();
            logged.entries.len()
        };
        assert_eq!((left("acme"), left("beta")), (1, 3));
        let plan = app.rows(
            &format!("EXPLAIN QUERY PLAN {}", purge(now).sql),
            vec![now.into()],
        );
        let plan = serde_json::to_string(&plan).unwrap();
        assert!(plan.contains("request_log_by_time"), "{plan}");
    }

    #[test]
    fn listing_is_newest_first_filtered_and_paged() {
        let app = App::new();
        app.tenant("acme");
        app.tenant("beta");
        let statuses = [201, 400, 200, 404, 409];
        for (i, status) in statuses.iter().enumerate() {
            let method = if *status == 200 { "GET" } else { "POST" };
            let at = format!("2026-01-01T00:00:0{i}.000Z");
            run(&app, record("acme", &entry(&at, method, *status), true));
        }
        run(
            &app,
            record(
                "beta",
                &entry("2026-01-02T00:00:00.000Z", "POST", 400),
                true,
            ),
        );
        let page = |l: Listing| pollster::block_on(list(&app.db, "acme", &l)).unwrap();
        let status_of = |p: &Logged| p.entries.iter().map(|(_, e)| e.status).collect::<Vec<_>>();
        let first = page(Listing {
            limit: 2,
            ..Listing::default()
        });
        assert_eq!(status_of(&first), [409, 404]);
        let second = page(Listing {
            limit: 2,
            before: first.next,
            ..Listing::default()
        });
        assert_eq!(status_of(&second), [200, 400]);
        let last = page(Listing {
            limit: 2,
            before: second.next,
            ..Listing::default()
        });
        assert_eq!((status_of(&last), last.next), (vec![201], None));
        let errors = page(Listing {
            limit: 10,
            status: Some((400, 499)),
            method: Some("POST".into()),
            ..Listing::default()
        });
        assert_eq!(status_of(&errors), [409, 404, 400]);
    }
}
