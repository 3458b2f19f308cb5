//! Outbound connectors of a tenant (see the tenth migration): one row per
//! tenant and kind, the API token only sealed (see `server::connectors`).

use serde_json::Value;

use super::{col_str, col_text, write_one, Row, SqlExecutor, Stmt, StoreError};

/// A connector as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Connector {
    pub org_url: String,
    pub token_sealed: String,
    pub token_last4: String,
    pub rules: Value,
    pub last_test: Option<Value>,
    pub created: String,
    pub updated: String,
}

fn json_col(row: &Row, name: &str) -> Result<Option<Value>, StoreError> {
    col_str(row, name)
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| StoreError::Other(format!("connectors.{name}: {e}")))
}

fn from_row(row: &Row) -> Result<Connector, StoreError> {
    let text = |k: &str| col_text(row, "connectors", k);
    Ok(Connector {
        org_url: text("org_url")?,
        token_sealed: text("token_sealed")?,
        token_last4: text("token_last4")?,
        rules: json_col(row, "rules")?.unwrap_or_else(|| Value::Object(Default::default())),
        last_test: json_col(row, "last_test")?,
        created: text("created_at")?,
        updated: text("updated_at")?,
    })
}

/// Tenant `tenant`'s connector of `kind`.
pub(crate) async fn get<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    kind: &str,
) -> Result<Option<Connector>, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT org_url, token_sealed, token_last4, rules, last_test, created_at, updated_at \
             FROM connectors WHERE tenant_id = ? AND kind = ?",
            vec![tenant.into(), kind.into()],
        ))
        .await?;
    rows.first().map(from_row).transpose()
}

/// Sets the connection (a new token forgets the last test); keeps the
/// rules of a connector that was there. False when there is no such tenant.
pub(crate) async fn put<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    kind: &str,
    org_url: &str,
    sealed: &str,
    last4: &str,
    now: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "INSERT INTO connectors (tenant_id, kind, org_url, token_sealed, token_last4, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6 FROM tenants WHERE id = ?1 \
             ON CONFLICT (tenant_id, kind) DO UPDATE SET org_url = ?3, token_sealed = ?4, \
             token_last4 = ?5, last_test = NULL, updated_at = ?6",
            vec![
                tenant.into(),
                kind.into(),
                org_url.into(),
                sealed.into(),
                last4.into(),
                now.into(),
            ],
        ),
    )
    .await
}

/// Sets one JSON column (`rules` or `last_test`); false when there is no
/// such connector.
pub(crate) async fn set<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    kind: &str,
    column: Column,
    value: &Value,
    now: &str,
) -> Result<bool, StoreError> {
    let name = match column {
        Column::Rules => "rules",
        Column::LastTest => "last_test",
    };
    write_one(
        db,
        Stmt::new(
            format!(
                "UPDATE connectors SET {name} = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND kind = ?2"
            ),
            vec![
                tenant.into(),
                kind.into(),
                value.to_string().into(),
                now.into(),
            ],
        ),
    )
    .await
}

/// The JSON columns [`set`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Rules,
    LastTest,
}

/// Removes the connector; false when there was none.
pub(crate) async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    kind: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "DELETE FROM connectors WHERE tenant_id = ? AND kind = ?",
            vec![tenant.into(), kind.into()],
        ),
    )
    .await
}
