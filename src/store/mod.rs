//! Persistence over an SQL executor.
//!
//! The service talks to storage through two small traits: [`SqlExecutor`]
//! (D1 in the worker, SQLite through rusqlite natively, same migrations) and
//! [`KeyValue`] (Workers KV in the worker, a map natively). Every statement the
//! service runs names the tenant.

use serde_json::{Map, Value};

pub mod groups;
pub mod memory_kv;
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
    /// Returns the number of rows each statement changed.
    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, DbError>;
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

/// One page of a resource table (alias `r`), and the number of rows
/// matching: `base` is the tenant condition. Rows come in the sort order,
/// then insertion order, which keeps pages stable.
pub async fn page<D: SqlExecutor>(
    db: &D,
    table: &str,
    base: &str,
    tenant: &str,
    spec: &PageSpec<'_>,
    columns: &str,
) -> Result<Page, DbError> {
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
    // The total costs a count(*) over every match; a page that comes back
    // short of its limit already tells it, so the count runs only when the
    // page cannot (an IdP's `userName eq` lookup is then one statement).
    let count = |params: Vec<SqlValue>| async {
        let rows = db
            .query(Stmt::new(
                format!("SELECT count(*) AS n FROM {table} r WHERE {where_sql}"),
                params,
            ))
            .await?;
        Ok::<u64, DbError>(
            rows.first()
                .and_then(|r| col_i64(r, "n"))
                .map_or(0, |n| u64::try_from(n).unwrap_or(0)),
        )
    };
    let limit_param = |n: u64| SqlValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
    if limit == 0 {
        return Ok(Page {
            total: count(params).await?,
            rows: Vec::new(),
            more: false,
        });
    }
    if let Some(k) = keyset {
        // Keyset pages read one row more than asked, to know whether the
        // page has a successor; the cost is independent of the position.
        let (cmp, dir, seq) = match k {
            Keyset::After(s) => (">", "ASC", s),
            Keyset::Before(s) => ("<", "DESC", s),
        };
        let mut page_params = params.clone();
        page_params.push(SqlValue::Int(seq));
        page_params.push(limit_param(limit.saturating_add(1)));
        let mut rows = db
            .query(Stmt::new(
                format!(
                    "SELECT {columns} FROM {table} r WHERE {where_sql} AND r.seq {cmp} ? \
                     ORDER BY r.seq {dir} LIMIT ?"
                ),
                page_params,
            ))
            .await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        if matches!(k, Keyset::Before(_)) {
            rows.reverse();
        }
        let total = if k == Keyset::After(0) && !more {
            rows.len() as u64
        } else {
            count(params).await?
        };
        return Ok(Page { total, rows, more });
    }
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
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT {columns} FROM {table} r WHERE {where_sql} ORDER BY {order}{seq} LIMIT ? OFFSET ?"
            ),
            page_params,
        ))
        .await?;
    let short = (rows.len() as u64) < limit && (offset == 0 || !rows.is_empty());
    let total = if short {
        offset + rows.len() as u64
    } else {
        count(params).await?
    };
    let more = offset.saturating_add(rows.len() as u64) < total;
    Ok(Page { total, rows, more })
}

/// Reads a text column.
pub fn col_str<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.get(name).and_then(Value::as_str)
}

/// Reads an integer column.
pub fn col_i64(row: &Row, name: &str) -> Option<i64> {
    row.get(name).and_then(Value::as_i64)
}
