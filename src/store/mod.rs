//! Persistence over an SQL executor.
//!
//! The service talks to storage through two small traits: [`SqlExecutor`]
//! (D1 in the worker, SQLite through rusqlite natively, same migrations) and
//! [`KeyValue`] (Workers KV in the worker, a map natively). Every statement the
//! service runs names the tenant.

use serde_json::{Map, Value};

pub mod groups;
pub mod memory_kv;
pub mod query;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;
pub mod tenants;
pub mod users;

/// A bound statement parameter. D1 binds `?1..?N` positionally.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        SqlValue::Text(s.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(s: String) -> Self {
        SqlValue::Text(s)
    }
}
impl From<i64> for SqlValue {
    fn from(i: i64) -> Self {
        SqlValue::Int(i)
    }
}
impl From<bool> for SqlValue {
    fn from(b: bool) -> Self {
        SqlValue::Int(i64::from(b))
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(o: Option<T>) -> Self {
        o.map_or(SqlValue::Null, Into::into)
    }
}

/// One SQL statement with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Stmt {
    /// Narrows an UPDATE or DELETE to the row at `version`, when one is given.
    pub fn at_version(mut self, version: Option<i64>) -> Stmt {
        if let Some(v) = version {
            self.sql.push_str(" AND version = ?");
            self.params.push(v.into());
        }
        self
    }

    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Stmt {
            sql: sql.into(),
            params,
        }
    }
}

/// A result row: column name to JSON value (integers and reals as numbers,
/// text as strings, NULL as null).
pub type Row = Map<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// A UNIQUE (or PRIMARY KEY) constraint failed; the message names it.
    Unique(String),
    /// A FOREIGN KEY or CHECK constraint failed.
    Constraint(String),
    Other(String),
}

impl DbError {
    /// Classifies a driver message; D1 and SQLite word constraint errors alike.
    pub fn from_message(msg: impl Into<String>) -> Self {
        let msg = msg.into();
        if msg.contains("UNIQUE constraint failed") || msg.contains("PRIMARY KEY") {
            DbError::Unique(msg)
        } else if msg.contains("constraint failed") {
            DbError::Constraint(msg)
        } else {
            DbError::Other(msg)
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unique(m) | DbError::Constraint(m) | DbError::Other(m) => f.write_str(m),
        }
    }
}

/// Runs SQL. Implementations: D1 (wasm32) and rusqlite (native).
#[allow(async_fn_in_trait)]
pub trait SqlExecutor {
    /// Runs one statement and returns its rows.
    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, DbError>;
    /// Runs the statements in order, atomically: all of them or none.
    /// Returns the number of rows each statement changed. D1 counts the
    /// rows its triggers and cascades changed as well, SQLite does not: so
    /// callers ask only whether a statement changed something
    /// ([`write_one`]).
    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, DbError>;
    /// Runs read statements in order, in one round trip where the database
    /// allows it (a D1 batch), and returns each one's rows. This default
    /// runs them one by one.
    async fn query_all(&self, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, DbError> {
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            out.push(self.query(stmt).await?);
        }
        Ok(out)
    }
}

/// Runs read statements in one round trip: one statement alone as a plain
/// query, several with [`SqlExecutor::query_all`]. Returns each one's rows.
pub async fn read_all<D: SqlExecutor>(
    db: &D,
    mut stmts: Vec<Stmt>,
) -> Result<Vec<Vec<Row>>, DbError> {
    match stmts.len() {
        0 => Ok(Vec::new()),
        1 => match stmts.pop() {
            Some(stmt) => Ok(vec![db.query(stmt).await?]),
            None => Ok(Vec::new()),
        },
        _ => db.query_all(stmts).await,
    }
}

/// The next statement's rows from a [`read_all`] answer.
pub fn next_rows(results: &mut impl Iterator<Item = Vec<Row>>) -> Result<Vec<Row>, DbError> {
    results
        .next()
        .ok_or_else(|| DbError::Other("a statement of the batch returned no result".into()))
}

/// A string key-value store (Workers KV in the worker).
#[allow(async_fn_in_trait)]
pub trait KeyValue {
    async fn get(&self, key: &str) -> Result<Option<String>, DbError>;
    /// `ttl_seconds`, when given, is at least 60 (a Workers KV rule).
    async fn put(&self, key: &str, value: &str, ttl_seconds: Option<u64>) -> Result<(), DbError>;
    async fn delete(&self, key: &str) -> Result<(), DbError>;
    /// Every key starting with `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, DbError>;
}

/// Runs one write statement; whether it changed any row. D1 counts the rows
/// its triggers changed too (see [`SqlExecutor::batch`]), so "any", not
/// "one".
pub async fn write_one<D: SqlExecutor>(db: &D, stmt: Stmt) -> Result<bool, DbError> {
    let changes = db.batch(vec![stmt]).await?;
    Ok(changes.first().copied().unwrap_or(0) >= 1)
}

/// A statement that aborts its batch when the statement before it changed
/// no row (see the `write_guard` table in the first migration).
pub fn guard_previous_changed() -> Stmt {
    Stmt::new(
        "INSERT INTO write_guard (stale) SELECT 1 WHERE changes() = 0",
        Vec::new(),
    )
}

/// Whether an error is the abort raised by [`guard_previous_changed`].
pub fn is_guard_abort(e: &DbError) -> bool {
    matches!(e, DbError::Constraint(m) if m.contains("write_guard"))
}

/// Runs a batch that holds `guard_previous_changed` guards: false, with
/// nothing written, when a guard aborted it.
pub async fn guarded_batch<D: SqlExecutor>(db: &D, stmts: Vec<Stmt>) -> Result<bool, DbError> {
    match db.batch(stmts).await {
        Ok(_) => Ok(true),
        Err(e) if is_guard_abort(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Resources of one list page, typed.
#[derive(Debug, Clone, Default)]
pub struct Listed<T> {
    pub total: u64,
    pub items: Vec<T>,
    pub more: bool,
}

impl Page {
    /// Decodes every row.
    pub fn decode<T>(self, f: impl Fn(&Row) -> Result<T, DbError>) -> Result<Listed<T>, DbError> {
        Ok(Listed {
            total: self.total,
            items: self.rows.iter().map(f).collect::<Result<_, _>>()?,
            more: self.more,
        })
    }
}

/// A keyset position for cursor pagination (RFC 9865): rows strictly after
/// or before a `seq`, in insertion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyset {
    After(i64),
    Before(i64),
}

/// How to select a page: an optional filter condition (over alias `r`) with
/// its parameters, an optional sort expression, and the window: `offset`
/// and `limit`, or a keyset position and `limit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageSpec<'a> {
    pub clause: Option<(&'a str, &'a [SqlValue])>,
    pub sort: Option<(&'a str, bool)>,
    pub offset: u64,
    pub limit: u64,
    pub keyset: Option<Keyset>,
}

/// A page of rows, the number of rows matching in all, and, for keyset
/// pages, whether more rows lie beyond the page in its direction.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub total: u64,
    pub rows: Vec<Row>,
    pub more: bool,
}

/// A resource table as pages read it: its name, the condition (over alias
/// `r`, one parameter: the tenant) of the rows a page may hold, and the
/// column of `tenants` that keeps the number of those rows, where one does
/// (see the second migration).
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub table: &'static str,
    pub base: &'static str,
    pub counted: Option<&'static str>,
}

/// One page of a resource table, and the number of rows matching. Rows
/// come in the sort order, then insertion order, which keeps pages stable.
pub async fn page<D: SqlExecutor>(
    db: &D,
    source: &Source,
    tenant: &str,
    spec: &PageSpec<'_>,
    columns: &str,
) -> Result<Page, DbError> {
    let (_, page) = page_after(db, Vec::new(), source, tenant, spec, columns).await?;
    Ok(page)
}

/// [`page`], with the read statements `leading` sent in the same round
/// trip, before the page's own; returns their rows as well. The page's
/// statements in that round trip are its rows and, when the rows cannot
/// tell the total or the tenant row keeps it, its count; a count that the
/// rows turn out not to tell (a full, filtered page) follows in a second
/// round trip.
pub async fn page_after<D: SqlExecutor>(
    db: &D,
    leading: Vec<Stmt>,
    source: &Source,
    tenant: &str,
    spec: &PageSpec<'_>,
    columns: &str,
) -> Result<(Vec<Vec<Row>>, Page), DbError> {
    let mut plan = PagePlan::new(source, tenant, spec, columns);
    let lead = leading.len();
    let mut stmts = leading;
    stmts.extend(plan.rows.take());
    if plan.count_needed() {
        stmts.push(plan.count_stmt());
    }
    let mut results = read_all(db, stmts).await?.into_iter();
    let mut leading_rows = Vec::with_capacity(lead);
    for _ in 0..lead {
        leading_rows.push(next_rows(&mut results)?);
    }
    let page = plan.finish(db, results).await?;
    Ok((leading_rows, page))
}

/// The statements of one page and how its answer is read.
struct PagePlan {
    /// The page's rows; none when the page is empty by its limit. Taken
    /// when sent.
    rows: Option<Stmt>,
    /// The count's statement, built on demand, and whether it reads the
    /// tenant's kept count (one row) rather than counting the matches.
    count_sql: String,
    count_params: Vec<SqlValue>,
    kept_count: bool,
    offset: u64,
    limit: u64,
    keyset: Option<Keyset>,
}

fn count_of(rows: &[Row]) -> u64 {
    rows.first()
        .and_then(|r| col_i64(r, "n"))
        .map_or(0, |n| u64::try_from(n).unwrap_or(0))
}

impl PagePlan {
    fn new(source: &Source, tenant: &str, spec: &PageSpec<'_>, columns: &str) -> Self {
        let Source {
            table,
            base,
            counted,
        } = *source;
        let PageSpec {
            clause,
            sort,
            offset,
            limit,
            keyset,
        } = *spec;
        let mut where_sql = base.to_owned();
        let mut params: Vec<SqlValue> = vec![tenant.into()];
        if let Some((c, p)) = clause {
            where_sql.push_str(" AND (");
            where_sql.push_str(c);
            where_sql.push(')');
            params.extend_from_slice(p);
        }
        let limit_param = |n: u64| SqlValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let rows = if limit == 0 {
            None
        } else if let Some(k) = keyset {
            // Keyset pages read one row more than asked, to know whether the
            // page has a successor; the cost is independent of the position.
            let (cmp, dir, seq) = match k {
                Keyset::After(s) => (">", "ASC", s),
                Keyset::Before(s) => ("<", "DESC", s),
            };
            let mut page_params = params.clone();
            page_params.push(SqlValue::Int(seq));
            page_params.push(limit_param(limit.saturating_add(1)));
            Some(Stmt::new(
                format!(
                    "SELECT {columns} FROM {table} r WHERE {where_sql} AND r.seq {cmp} ? \
                     ORDER BY r.seq {dir} LIMIT ?"
                ),
                page_params,
            ))
        } else {
            // RFC 7644 §3.4.2.3: unassigned values sort last.
            let order = match sort {
                Some((expr, false)) => format!("{expr} IS NULL, {expr} ASC, "),
                Some((expr, true)) => format!("{expr} IS NULL, {expr} DESC, "),
                None => String::new(),
            };
            // A filter answered through an index table (`r.id IN (SELECT ...)`)
            // selects few rows; left alone, SQLite would walk the tenant in `seq`
            // order and probe each row. `+r.seq` stops the ORDER BY from choosing
            // that index, so the lookup drives the query and the few matches sort.
            let seq = if clause.is_some_and(|(c, _)| c.contains("r.id IN (")) {
                "+r.seq"
            } else {
                "r.seq"
            };
            let mut page_params = params.clone();
            page_params.push(limit_param(limit));
            page_params.push(limit_param(offset));
            Some(Stmt::new(
                format!(
                    "SELECT {columns} FROM {table} r WHERE {where_sql} ORDER BY {order}{seq} LIMIT ? OFFSET ?"
                ),
                page_params,
            ))
        };
        // Without a filter the tenant row tells the total: one row read
        // instead of a count over every live resource of the tenant.
        let (count_sql, count_params, kept_count) = match (clause, counted) {
            (None, Some(column)) => (
                format!("SELECT {column} AS n FROM tenants WHERE id = ?"),
                vec![tenant.into()],
                true,
            ),
            _ => (
                format!("SELECT count(*) AS n FROM {table} r WHERE {where_sql}"),
                params,
                false,
            ),
        };
        PagePlan {
            rows,
            count_sql,
            count_params,
            kept_count,
            offset,
            limit,
            keyset,
        }
    }

    /// Whether the count goes along with the rows: when the total needs it
    /// whatever rows come back (an empty page by its limit, or a keyset page
    /// other than the first), or when it is the tenant's kept count, which
    /// costs one row.
    fn count_needed(&self) -> bool {
        self.kept_count || self.limit == 0 || self.keyset.is_some_and(|k| k != Keyset::After(0))
    }

    fn count_stmt(&self) -> Stmt {
        Stmt::new(self.count_sql.clone(), self.count_params.clone())
    }

    /// The page from the answers to its statements (rows, then the count
    /// when [`Self::count_needed`]). The total costs a count(*) over every
    /// match; a page that comes back short of its limit already tells it,
    /// so otherwise the count runs only when the page cannot (an IdP's
    /// `userName eq` lookup is then one statement).
    async fn finish<D: SqlExecutor>(
        self,
        db: &D,
        mut results: impl Iterator<Item = Vec<Row>>,
    ) -> Result<Page, DbError> {
        // The rows' statement was sent unless the limit is 0.
        let mut rows = if self.limit > 0 {
            next_rows(&mut results)?
        } else {
            Vec::new()
        };
        let known = if self.count_needed() {
            Some(count_of(&next_rows(&mut results)?))
        } else {
            None
        };
        let count = || async {
            match known {
                Some(n) => Ok::<u64, DbError>(n),
                None => Ok(count_of(&db.query(self.count_stmt()).await?)),
            }
        };
        let limit = self.limit;
        if limit == 0 {
            return Ok(Page {
                total: count().await?,
                rows: Vec::new(),
                more: false,
            });
        }
        if let Some(k) = self.keyset {
            let more = rows.len() as u64 > limit;
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            if matches!(k, Keyset::Before(_)) {
                rows.reverse();
            }
            let total = if k == Keyset::After(0) && !more {
                rows.len() as u64
            } else {
                count().await?
            };
            return Ok(Page { total, rows, more });
        }
        let offset = self.offset;
        let short = (rows.len() as u64) < limit && (offset == 0 || !rows.is_empty());
        let total = if short {
            offset + rows.len() as u64
        } else {
            count().await?
        };
        let more = offset.saturating_add(rows.len() as u64) < total;
        Ok(Page { total, rows, more })
    }
}

/// Reads a text column.
pub fn col_str<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.get(name).and_then(Value::as_str)
}

/// Reads an integer column.
pub fn col_i64(row: &Row, name: &str) -> Option<i64> {
    row.get(name).and_then(Value::as_i64)
}
