//! OAuth 2.0 clients of tenants and the access tokens issued to them (see
//! the sixth migration). No secret is stored: a client row keeps the
//! SHA-256 of its secret (and of the previous one during a rotation), an
//! access token row the SHA-256 of the token.

use super::{col_str, col_text, write_one, Row, SqlExecutor, Stmt, StoreError};

/// An OAuth client of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    pub client_id: String,
    pub tenant: String,
    pub label: String,
    pub secret_hash: String,
    pub secret_expires: Option<String>,
    pub previous_hash: Option<String>,
    pub previous_until: Option<String>,
    pub created: String,
    pub rotated: Option<String>,
    pub last_used: Option<String>,
}

const COLUMNS: &str = "client_id, tenant_id, label, secret_hash, secret_expires, previous_hash, \
                       previous_until, created_at, rotated_at, last_used";

fn from_row(row: &Row) -> Result<Client, StoreError> {
    let text = |k: &str| col_text(row, "oauth_clients", k);
    let opt = |k: &str| col_str(row, k).map(str::to_owned);
    Ok(Client {
        client_id: text("client_id")?,
        tenant: text("tenant_id")?,
        label: text("label")?,
        secret_hash: text("secret_hash")?,
        secret_expires: opt("secret_expires"),
        previous_hash: opt("previous_hash"),
        previous_until: opt("previous_until"),
        created: text("created_at")?,
        rotated: opt("rotated_at"),
        last_used: opt("last_used"),
    })
}

/// Adds a client (its tenant must exist: else `false`).
pub(crate) async fn insert<D: SqlExecutor>(db: &D, c: &Client) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            format!(
                "INSERT INTO oauth_clients ({COLUMNS}) \
                 SELECT ?, id, ?, ?, ?, NULL, NULL, ?, NULL, NULL FROM tenants WHERE id = ?"
            ),
            vec![
                c.client_id.as_str().into(),
                c.label.as_str().into(),
                c.secret_hash.as_str().into(),
                c.secret_expires.clone().into(),
                c.created.as_str().into(),
                c.tenant.as_str().into(),
            ],
        ),
    )
    .await
}

/// The client `client_id`, whichever tenant it belongs to.
pub(crate) async fn get<D: SqlExecutor>(
    db: &D,
    client_id: &str,
) -> Result<Option<Client>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {COLUMNS} FROM oauth_clients WHERE client_id = ?"),
            vec![client_id.into()],
        ))
        .await?;
    rows.first().map(from_row).transpose()
}

/// The tenant's clients, oldest first.
pub(crate) async fn list<D: SqlExecutor>(db: &D, tenant: &str) -> Result<Vec<Client>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT {COLUMNS} FROM oauth_clients WHERE tenant_id = ? ORDER BY created_at, client_id"
            ),
            vec![tenant.into()],
        ))
        .await?;
    rows.iter().map(from_row).collect()
}

/// Gives the tenant's client a new secret hash; the current one stays
/// valid until `previous_until` (`None`: not at all). `false`: no such
/// client of the tenant.
pub(crate) async fn rotate<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    client_id: &str,
    secret_hash: &str,
    secret_expires: Option<&str>,
    previous_until: Option<&str>,
    now: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "UPDATE oauth_clients SET \
               previous_hash = CASE WHEN ?1 IS NULL THEN NULL ELSE secret_hash END, previous_until = ?1, \
               secret_hash = ?2, secret_expires = ?3, rotated_at = ?4 \
             WHERE tenant_id = ?5 AND client_id = ?6",
            vec![
                previous_until.map(str::to_owned).into(),
                secret_hash.into(),
                secret_expires.map(str::to_owned).into(),
                now.into(),
                tenant.into(),
                client_id.into(),
            ],
        ),
    )
    .await
}

/// Records a use of the client, at most once an hour.
pub(crate) fn touch(client_id: &str, now: &str) -> Stmt {
    Stmt::new(
        "UPDATE oauth_clients SET last_used = ?1 WHERE client_id = ?2 \
         AND (last_used IS NULL OR substr(last_used, 1, 13) <> substr(?1, 1, 13))",
        vec![now.into(), client_id.into()],
    )
}

/// Deletes the tenant's client; answers the hashes of its access tokens
/// (to revoke them), or `None` when there was no such client.
pub(crate) async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    client_id: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let written = db
        .batch(vec![
            Stmt::new(
                "SELECT hash FROM oauth_tokens WHERE tenant_id = ? AND client_id = ?",
                vec![tenant.into(), client_id.into()],
            ),
            Stmt::new(
                "DELETE FROM oauth_tokens WHERE tenant_id = ? AND client_id = ?",
                vec![tenant.into(), client_id.into()],
            ),
            Stmt::new(
                "DELETE FROM oauth_clients WHERE tenant_id = ? AND client_id = ?",
                vec![tenant.into(), client_id.into()],
            ),
        ])
        .await?;
    let Some(deleted) = written.get(2) else {
        return Err(StoreError::Other(
            "a client delete answered too few results".into(),
        ));
    };
    if deleted.changes == 0 {
        return Ok(None);
    }
    Ok(Some(hashes(&written[0].rows)))
}

fn hashes(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| col_str(r, "hash").map(str::to_owned))
        .collect()
}

/// The hashes of every live access token of the tenant (to revoke them
/// when the tenant or its OAuth mode goes).
pub(crate) async fn tenant_tokens<D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(hashes(
        &db.query(Stmt::new(
            "SELECT hash FROM oauth_tokens WHERE tenant_id = ?",
            vec![tenant.into()],
        ))
        .await?,
    ))
}

/// Deletes every client of the tenant and their token rows.
pub(crate) fn delete_all(tenant: &str) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "DELETE FROM oauth_tokens WHERE tenant_id = ?",
            vec![tenant.into()],
        ),
        Stmt::new(
            "DELETE FROM oauth_clients WHERE tenant_id = ?",
            vec![tenant.into()],
        ),
    ]
}

/// Records an access token issued to a client (with its use), in one batch.
pub(crate) async fn issued<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    client_id: &str,
    hash: &str,
    expires: &str,
    now: &str,
) -> Result<(), StoreError> {
    db.batch(vec![
        Stmt::new(
            "INSERT INTO oauth_tokens (hash, tenant_id, client_id, expires_at) VALUES (?, ?, ?, ?)",
            vec![hash.into(), tenant.into(), client_id.into(), expires.into()],
        ),
        touch(client_id, now),
    ])
    .await
    .map(|_| ())
}

/// Deletes the rows of access tokens expired at `now` (the daily cron).
pub(crate) fn purge(now: &str) -> Stmt {
    Stmt::new(
        "DELETE FROM oauth_tokens WHERE expires_at <= ?",
        vec![now.into()],
    )
}
