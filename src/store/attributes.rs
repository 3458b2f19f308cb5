//! `tenant_attributes`: each tenant's custom attribute definitions, one row
//! per attribute holding its JSON definition, read with what else a request
//! needs of its tenant (the [`TenantProfile`]); and the statements that
//! check custom attribute values against the stored users.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::tenants::{settings_of, Settings};
use super::{col_str, write_one, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// What a request needs of its tenant's row along with its definitions:
/// the URN of its extension as set (`None`: the default) and its settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TenantProfile<T> {
    pub urn: Option<String>,
    pub settings: Settings,
    pub defs: Vec<T>,
}

/// The statement that reads a tenant's profile: one row per definition, in
/// the order they were created, each with the tenant row's extension URN
/// and settings (one row with a NULL definition when there are none, no
/// row when there is no such tenant); to send along with others in one
/// round trip.
pub(crate) fn load_stmt(tenant: &str) -> Stmt {
    Stmt::new(
        "SELECT t.extension_urn AS urn, t.settings AS settings, a.definition AS definition \
         FROM tenants t LEFT JOIN tenant_attributes a ON a.tenant_id = t.id \
         WHERE t.id = ? ORDER BY a.created_at, a.name",
        vec![tenant.into()],
    )
}

impl<T: DeserializeOwned> TenantProfile<T> {
    /// The profile in the rows of a [`load_stmt`]; a row that holds no
    /// definition of this shape adds none. No rows: the defaults.
    pub(crate) fn from_rows(rows: &[Row]) -> Self {
        let first = rows.first();
        TenantProfile {
            urn: first.and_then(|r| col_str(r, "urn")).map(str::to_owned),
            settings: settings_of(first.and_then(|r| col_str(r, "settings"))),
            defs: rows
                .iter()
                .filter_map(|r| serde_json::from_str(col_str(r, "definition")?).ok())
                .collect(),
        }
    }
}

/// A tenant's profile (see [`load_stmt`]).
pub(crate) async fn load<T: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<TenantProfile<T>, StoreError> {
    Ok(TenantProfile::from_rows(
        &db.query(load_stmt(tenant)).await?,
    ))
}

/// Creates or replaces the definition `name`.
pub(crate) async fn put<T: Serialize, D: SqlExecutor>(
    db: &D,
    tenant: &str,
    name: &str,
    definition: &T,
    now: &str,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(definition).map_err(|e| StoreError::Other(e.to_string()))?;
    db.batch(vec![Stmt::new(
        "INSERT INTO tenant_attributes (tenant_id, name, definition, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition",
        vec![tenant.into(), name.into(), json.into(), now.into()],
    )])
    .await
    .map(|_| ())
}

/// Removes the definition `name`; false when there was none.
pub(crate) async fn remove<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    name: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "DELETE FROM tenant_attributes WHERE tenant_id = ? AND name = ?",
            vec![tenant.into(), name.into()],
        ),
    )
    .await
}

/// Whether any user of the tenant (tombstones included) holds a value at
/// `json_path` of its document.
pub(crate) async fn has_values<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    json_path: &str,
) -> Result<bool, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT 1 AS x FROM users WHERE tenant_id = ? AND json_type(doc, ?) IS NOT NULL LIMIT 1",
            vec![tenant.into(), json_path.into()],
        ))
        .await?;
    Ok(!rows.is_empty())
}

/// A statement for a user's write batch that fails it (and so rolls the
/// write back: `StoreError::Unique(UniqueNumber)`) when another live user of
/// the tenant holds `number` at `json_path`.
pub(crate) fn unique_number_guard(
    tenant: &str,
    own_id: &str,
    json_path: &str,
    number: Option<i64>,
) -> Stmt {
    Stmt::new(
        "INSERT INTO unique_guard (duplicate) SELECT 1 WHERE EXISTS (\
         SELECT 1 FROM users WHERE tenant_id = ? AND id <> ? AND deleted_at IS NULL \
         AND json_extract(doc, ?) = ?)",
        vec![
            tenant.into(),
            own_id.into(),
            json_path.into(),
            number.map_or(SqlValue::Null, SqlValue::Int),
        ],
    )
}
