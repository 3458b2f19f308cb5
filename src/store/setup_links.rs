//! Setup links (see the eighth migration): a tenant-scoped admin credential
//! for the customer's IT admin, kept as its SHA-256 only.

use super::{col_str, write_one, Row, SqlExecutor, Stmt, StoreError};

/// A setup link as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetupLink {
    pub id: String,
    pub tenant: String,
    pub created: String,
    pub expires: String,
    pub revoked: Option<String>,
    pub last_used: Option<String>,
}

fn from_row(r: &Row) -> SetupLink {
    let text = |k: &str| col_str(r, k).unwrap_or("").to_owned();
    let opt = |k: &str| col_str(r, k).map(str::to_owned);
    SetupLink {
        id: text("id"),
        tenant: text("tenant_id"),
        created: text("created_at"),
        expires: text("expires_at"),
        revoked: opt("revoked_at"),
        last_used: opt("last_used"),
    }
}

const COLUMNS: &str = "id, tenant_id, created_at, expires_at, revoked_at, last_used";

/// Adds a link of an existing tenant; `false` when there is no such tenant.
pub(crate) async fn insert<D: SqlExecutor>(
    db: &D,
    id: &str,
    tenant: &str,
    hash: &str,
    now: &str,
    expires: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "INSERT INTO setup_links (id, tenant_id, hash, created_at, expires_at) \
             SELECT ?, id, ?, ?, ? FROM tenants WHERE id = ?",
            vec![
                id.into(),
                hash.into(),
                now.into(),
                expires.into(),
                tenant.into(),
            ],
        ),
    )
    .await
}

/// The live link whose credential hashes to `hash` at `now` (and records
/// its use, at most hourly), in one round trip.
pub(crate) async fn authenticate<D: SqlExecutor>(
    db: &D,
    hash: &str,
    now: &str,
) -> Result<Option<SetupLink>, StoreError> {
    let written = db
        .batch(vec![
            Stmt::new(
                format!(
                    "SELECT {COLUMNS} FROM setup_links WHERE hash = ?2 AND revoked_at IS NULL AND expires_at > ?1"
                ),
                vec![now.into(), hash.into()],
            ),
            Stmt::new(
                "UPDATE setup_links SET last_used = ?1 WHERE hash = ?2 AND revoked_at IS NULL \
                 AND expires_at > ?1 AND (last_used IS NULL OR substr(last_used, 1, 13) <> substr(?1, 1, 13))",
                vec![now.into(), hash.into()],
            ),
        ])
        .await?;
    Ok(written.first().and_then(|w| w.rows.first()).map(from_row))
}

/// The tenant's links, newest first.
pub(crate) async fn list<D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<Vec<SetupLink>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {COLUMNS} FROM setup_links WHERE tenant_id = ? ORDER BY created_at DESC, id"),
            vec![tenant.into()],
        ))
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Revokes the tenant's link; `false` when there is no such live link.
pub(crate) async fn revoke<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    now: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "UPDATE setup_links SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL",
            vec![now.into(), tenant.into(), id.into()],
        ),
    )
    .await
}
