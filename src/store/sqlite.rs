//! The native SQL executor: SQLite through rusqlite, with the same migrations
//! as D1 and D1's connection settings (foreign keys on). Used by native tests
//! and benchmarks.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection};
use serde_json::{Number, Value};

use super::{Row, SqlExecutor, SqlValue, Stmt, StoreError, Written};

pub struct SqliteExecutor {
    conn: Mutex<Connection>,
    /// Told apart from the other databases of the process (see
    /// [`SqlExecutor::identity`]).
    id: u64,
}

static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::from_driver(e.to_string())
}

impl SqliteExecutor {
    /// An in-memory database with every migration in `migrations_dir` applied
    /// in file-name order, as `wrangler d1 migrations apply` does.
    pub fn open_in_memory(migrations_dir: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(err)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(err)?;
        let mut files: Vec<_> = std::fs::read_dir(migrations_dir)
            .map_err(|e| StoreError::Other(e.to_string()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for file in files {
            let sql =
                std::fs::read_to_string(&file).map_err(|e| StoreError::Other(e.to_string()))?;
            conn.execute_batch(&sql).map_err(err)?;
        }
        Ok(SqliteExecutor {
            conn: Mutex::new(conn),
            id: OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Runs a statement outside the service, for test setup and inspection.
    pub fn query_sync(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError> {
        let conn = self.lock()?;
        run_query(&conn, &stmt)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Other("sqlite connection poisoned".into()))
    }
}

fn to_sql(v: &SqlValue) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        SqlValue::Null => V::Null,
        SqlValue::Int(i) => V::Integer(*i),
        SqlValue::Real(f) => V::Real(*f),
        SqlValue::Text(s) => V::Text(s.clone()),
    }
}

fn run_query(conn: &Connection, stmt: &Stmt) -> Result<Vec<Row>, StoreError> {
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(err)?;
    let names: Vec<String> = prepared.column_names().map(str::to_owned).collect();
    let mut rows = prepared
        .query(params_from_iter(stmt.params.iter().map(to_sql)))
        .map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let mut map = Row::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i).map_err(err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Number(n.into()),
                ValueRef::Real(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
            };
            map.insert(name.clone(), value);
        }
        out.push(map);
    }
    Ok(out)
}

impl SqlExecutor for SqliteExecutor {
    fn identity(&self) -> u64 {
        self.id
    }

    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError> {
        let conn = self.lock()?;
        run_query(&conn, &stmt)
    }

    /// Runs the statements in order under one hold of the connection, so no
    /// write lands between them.
    async fn query_all(&self, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, StoreError> {
        let conn = self.lock()?;
        stmts.iter().map(|s| run_query(&conn, s)).collect()
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Written>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(err)?;
        let mut written = Vec::with_capacity(stmts.len());
        for stmt in &stmts {
            let returns_rows = tx.prepare_cached(&stmt.sql).map_err(err)?.column_count() > 0;
            if returns_rows {
                // A SELECT (or RETURNING): its rows, and the changes of the
                // statement before it, as D1 reports them.
                let rows = run_query(&tx, stmt)?;
                written.push(Written {
                    changes: tx.changes(),
                    rows,
                });
            } else {
                let mut prepared = tx.prepare_cached(&stmt.sql).map_err(err)?;
                let n = prepared
                    .execute(params_from_iter(stmt.params.iter().map(to_sql)))
                    .map_err(err)?;
                written.push(Written {
                    changes: n as u64,
                    rows: Vec::new(),
                });
            }
        }
        tx.commit().map_err(err)?;
        Ok(written)
    }
}
