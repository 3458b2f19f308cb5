//! Persistence over an SQL executor.
//!
//! The service talks to storage through two small traits: [`SqlExecutor`]
//! (D1 in the worker, SQLite through rusqlite natively, same migrations) and
//! [`KeyValue`] (Workers KV in the worker, a map natively). Every statement the
//! service runs names the tenant.

use serde_json::{Map, Value};

pub mod memory_kv;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;
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
}

/// Reads a text column.
pub fn col_str<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.get(name).and_then(Value::as_str)
}

/// Reads an integer column.
pub fn col_i64(row: &Row, name: &str) -> Option<i64> {
    row.get(name).and_then(Value::as_i64)
}
