//! Storage: all SQL and all key-value access.
//!
//! The service talks to storage through two small traits: [`SqlExecutor`]
//! (D1 in the worker, SQLite through rusqlite natively, same migrations) and
//! [`KeyValue`] (Workers KV in the worker, a map in tests). Every statement
//! names the tenant. Failures are typed ([`StoreError`], [`KvError`]): no
//! code outside this module reads a driver's message.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

pub(crate) mod attributes;
pub(crate) mod connectors;
mod error;
pub(crate) mod events;
pub(crate) mod export;
pub(crate) mod filter;
pub(crate) mod groups;
pub(crate) mod oauth;
pub(crate) mod page;
pub(crate) mod requests;
pub(crate) mod resources;
pub(crate) mod roles;
pub(crate) mod setup_links;
pub mod shards;
#[cfg(all(any(test, feature = "test-utils"), not(target_arch = "wasm32")))]
pub(crate) mod sqlite;
pub(crate) mod tenants;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod webhooks;

pub use error::{KvError, StoreError, UniqueKey};

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

    /// Narrows an UPDATE or DELETE to the row at `version`, when one is given.
    pub(crate) fn at_version(mut self, version: Option<i64>) -> Stmt {
        if let Some(v) = version {
            self.sql.push_str(" AND version = ?");
            self.params.push(v.into());
        }
        self
    }
}

/// A result row: column name to JSON value (integers and reals as numbers,
/// text as strings, NULL as null).
pub type Row = Map<String, Value>;

/// What one statement of a batch did: the rows it changed and the rows it
/// returned (a SELECT in a batch reads the state the batch left).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    /// D1 counts the rows its triggers and cascades changed as well, SQLite
    /// does not: ask only whether a statement changed something.
    pub changes: u64,
    pub rows: Vec<Row>,
}

/// Runs SQL. Implementations: D1 (wasm32) and rusqlite (native).
#[allow(async_fn_in_trait)]
pub trait SqlExecutor {
    /// Runs one statement and returns its rows.
    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError>;
    /// Runs the statements in order, atomically: all of them or none.
    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Written>, StoreError>;
    /// Runs read statements in order, in one round trip where the database
    /// allows it (a D1 batch), and returns each one's rows. This default
    /// runs them one by one.
    async fn query_all(&self, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, StoreError> {
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            out.push(self.query(stmt).await?);
        }
        Ok(out)
    }
    /// Which database this is, for what an isolate caches of its rows: the
    /// worker binds each database once per isolate (0 will do), tests open
    /// many in one thread.
    fn identity(&self) -> u64 {
        0
    }
}

/// A string key-value store (Workers KV in the worker).
#[allow(async_fn_in_trait)]
pub trait KeyValue {
    async fn get(&self, key: &str) -> Result<Option<String>, KvError>;
    /// `ttl_seconds`, when given, is at least 60 (a Workers KV rule).
    async fn put(&self, key: &str, value: &str, ttl_seconds: Option<u64>) -> Result<(), KvError>;
    async fn delete(&self, key: &str) -> Result<(), KvError>;
    /// Every key starting with `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError>;
}

/// Timestamps are stored in one fixed RFC 3339 form (UTC, milliseconds), so
/// that text order is time order.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Runs read statements in one round trip: one statement alone as a plain
/// query, several with [`SqlExecutor::query_all`]. Returns each one's rows.
pub(crate) async fn read_all<D: SqlExecutor>(
    db: &D,
    mut stmts: Vec<Stmt>,
) -> Result<Vec<Vec<Row>>, StoreError> {
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
pub(crate) fn next_rows(
    results: &mut impl Iterator<Item = Vec<Row>>,
) -> Result<Vec<Row>, StoreError> {
    results
        .next()
        .ok_or_else(|| StoreError::Other("a statement of the batch returned no result".into()))
}

/// Runs one write statement; whether it changed any row. D1 counts the rows
/// its triggers changed too (see [`Written::changes`]), so "any", not "one".
pub(crate) async fn write_one<D: SqlExecutor>(db: &D, stmt: Stmt) -> Result<bool, StoreError> {
    let written = db.batch(vec![stmt]).await?;
    Ok(written.first().is_some_and(|w| w.changes >= 1))
}

/// A statement that aborts its batch when the statement before it changed
/// no row (see the `write_guard` table in the first migration).
pub(crate) fn guard_previous_changed() -> Stmt {
    Stmt::new(
        "INSERT INTO write_guard (stale) SELECT 1 WHERE changes() = 0",
        Vec::new(),
    )
}

/// Runs a batch that holds [`guard_previous_changed`] guards: `None`, with
/// nothing written, when a guard aborted it.
pub(crate) async fn guarded_batch<D: SqlExecutor>(
    db: &D,
    stmts: Vec<Stmt>,
) -> Result<Option<Vec<Written>>, StoreError> {
    match db.batch(stmts).await {
        Ok(w) => Ok(Some(w)),
        Err(StoreError::Stale) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads a text column.
pub(crate) fn col_str<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.get(name).and_then(Value::as_str)
}

/// Reads an integer column.
pub(crate) fn col_i64(row: &Row, name: &str) -> Option<i64> {
    row.get(name).and_then(Value::as_i64)
}

/// A text column that must be there.
pub(crate) fn col_text(row: &Row, table: &str, name: &str) -> Result<String, StoreError> {
    col_str(row, name)
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Other(format!("{table}.{name} missing")))
}
