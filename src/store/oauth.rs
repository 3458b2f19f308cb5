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

/// The statements that read the hashes of the access tokens of `owner` (a
/// client or a grant) and forget them; the first one's rows are the hashes.
fn take_tokens(tenant: &str, owner: &str) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "SELECT hash FROM oauth_tokens WHERE tenant_id = ? AND client_id = ?",
            vec![tenant.into(), owner.into()],
        ),
        Stmt::new(
            "DELETE FROM oauth_tokens WHERE tenant_id = ? AND client_id = ?",
            vec![tenant.into(), owner.into()],
        ),
    ]
}

/// Deletes the tenant's client; answers the hashes of its access tokens
/// (to revoke them), or `None` when there was no such client.
pub(crate) async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    client_id: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let mut stmts = take_tokens(tenant, client_id);
    stmts.push(Stmt::new(
        "DELETE FROM oauth_clients WHERE tenant_id = ? AND client_id = ?",
        vec![tenant.into(), client_id.into()],
    ));
    let written = db.batch(stmts).await?;
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

// ---------------------------------------------------------------------------
// The authorization code grant (seventh migration)

/// Stores a connect code (its hash) of a tenant, valid until `expires`.
pub(crate) async fn add_connect_code<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    hash: &str,
    now: &str,
    expires: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "INSERT INTO oauth_connect_codes (hash, tenant_id, created_at, expires_at) \
             SELECT ?, id, ?, ? FROM tenants WHERE id = ?",
            vec![hash.into(), now.into(), expires.into(), tenant.into()],
        ),
    )
    .await
}

/// Uses up a connect code: answers its tenant, or `None` when it is
/// unknown, expired or used (single use: the UPDATE decides).
pub(crate) async fn use_connect_code<D: SqlExecutor>(
    db: &D,
    hash: &str,
    now: &str,
) -> Result<Option<String>, StoreError> {
    let written = db
        .batch(vec![Stmt::new(
            "UPDATE oauth_connect_codes SET used_at = ?1 \
             WHERE hash = ?2 AND used_at IS NULL AND expires_at > ?1 RETURNING tenant_id",
            vec![now.into(), hash.into()],
        )])
        .await?;
    Ok(written
        .first()
        .and_then(|w| w.rows.first())
        .and_then(|r| col_str(r, "tenant_id"))
        .map(str::to_owned))
}

/// A new grant of `tenant` to `client`, with its first authorization code.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_grant_with_code<D: SqlExecutor>(
    db: &D,
    grant: &str,
    tenant: &str,
    client: &str,
    how: &str,
    code_hash: &str,
    redirect_uri: &str,
    now: &str,
    code_expires: &str,
) -> Result<(), StoreError> {
    db.batch(vec![
        Stmt::new(
            "INSERT INTO oauth_grants (id, tenant_id, client_id, how, created_at) VALUES (?, ?, ?, ?, ?)",
            vec![grant.into(), tenant.into(), client.into(), how.into(), now.into()],
        ),
        Stmt::new(
            "INSERT INTO oauth_codes (hash, grant_id, tenant_id, client_id, redirect_uri, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                code_hash.into(),
                grant.into(),
                tenant.into(),
                client.into(),
                redirect_uri.into(),
                code_expires.into(),
            ],
        ),
    ])
    .await
    .map(|_| ())
}

/// What a code or refresh token was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Granted {
    pub grant: String,
    pub tenant: String,
    /// For a code: the client and redirect URI it is bound to.
    pub client: String,
    pub redirect_uri: String,
    /// Whether it had been used already (then nothing was issued).
    pub reused: bool,
    /// Whether it is past its expiry.
    pub expired: bool,
    /// Whether its grant is revoked.
    pub revoked: bool,
}

/// Uses up an authorization code (one round trip): marks it used if it was
/// not, and answers what it was for, or `None` for an unknown code.
pub(crate) async fn use_code<D: SqlExecutor>(
    db: &D,
    hash: &str,
    now: &str,
) -> Result<Option<Granted>, StoreError> {
    use_once(db, "oauth_codes", "c.client_id, c.redirect_uri", hash, now).await
}

/// Uses up a refresh token, like [`use_code`] (its `client_id` is the
/// grant's client, `redirect_uri` empty).
pub(crate) async fn use_refresh<D: SqlExecutor>(
    db: &D,
    hash: &str,
    now: &str,
) -> Result<Option<Granted>, StoreError> {
    use_once(
        db,
        "oauth_refresh_tokens",
        "g.client_id, '' AS redirect_uri",
        hash,
        now,
    )
    .await
}

/// Reads a single-use row of `table` (alias `c`, its grant `g`) with the
/// `bound` columns, and marks it used in the same batch.
async fn use_once<D: SqlExecutor>(
    db: &D,
    table: &str,
    bound: &str,
    hash: &str,
    now: &str,
) -> Result<Option<Granted>, StoreError> {
    let written = db
        .batch(vec![
            Stmt::new(
                format!(
                    "SELECT c.grant_id, c.tenant_id, {bound}, \
                            c.used_at IS NOT NULL AS reused, c.expires_at <= ?1 AS expired, \
                            g.revoked_at IS NOT NULL AS revoked \
                     FROM {table} c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.hash = ?2"
                ),
                vec![now.into(), hash.into()],
            ),
            Stmt::new(
                format!("UPDATE {table} SET used_at = ?1 WHERE hash = ?2 AND used_at IS NULL"),
                vec![now.into(), hash.into()],
            ),
        ])
        .await?;
    Ok(written.first().and_then(|w| w.rows.first()).map(granted))
}

fn granted(r: &Row) -> Granted {
    let text = |k: &str| col_str(r, k).unwrap_or("").to_owned();
    let flag = |k: &str| super::col_i64(r, k).is_some_and(|v| v != 0);
    Granted {
        grant: text("grant_id"),
        tenant: text("tenant_id"),
        client: text("client_id"),
        redirect_uri: text("redirect_uri"),
        reused: flag("reused"),
        expired: flag("expired"),
        revoked: flag("revoked"),
    }
}

/// Records a refresh token of a grant, and the grant's use.
pub(crate) fn add_refresh(
    grant: &str,
    tenant: &str,
    hash: &str,
    expires: &str,
    now: &str,
) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "INSERT INTO oauth_refresh_tokens (hash, grant_id, tenant_id, expires_at) VALUES (?, ?, ?, ?)",
            vec![hash.into(), grant.into(), tenant.into(), expires.into()],
        ),
        Stmt::new(
            "UPDATE oauth_grants SET last_used = ?1 WHERE id = ?2",
            vec![now.into(), grant.into()],
        ),
    ]
}

/// Revokes a grant (the family): answers the hashes of its live access
/// tokens, to delete from KV.
pub(crate) async fn revoke_grant<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    grant: &str,
    reason: &str,
    now: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let mut stmts = take_tokens(tenant, grant);
    stmts.extend([
        Stmt::new(
            "DELETE FROM oauth_refresh_tokens WHERE tenant_id = ? AND grant_id = ?",
            vec![tenant.into(), grant.into()],
        ),
        Stmt::new(
            "UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, ?), \
             revoked_reason = coalesce(revoked_reason, ?) WHERE tenant_id = ? AND id = ?",
            vec![now.into(), reason.into(), tenant.into(), grant.into()],
        ),
    ]);
    let written = db.batch(stmts).await?;
    match written.get(3) {
        Some(w) if w.changes > 0 => Ok(Some(hashes(&written[0].rows))),
        Some(_) => Ok(None),
        None => Err(StoreError::Other(
            "a grant revoke answered too few results".into(),
        )),
    }
}

/// A grant as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub id: String,
    pub client: String,
    pub how: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
    pub revoked_reason: Option<String>,
}

/// The tenant's grants, newest first.
pub(crate) async fn grants<D: SqlExecutor>(db: &D, tenant: &str) -> Result<Vec<Grant>, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT id, client_id, how, created_at, last_used, revoked_at, revoked_reason \
             FROM oauth_grants WHERE tenant_id = ? ORDER BY created_at DESC, id",
            vec![tenant.into()],
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let opt = |k: &str| col_str(r, k).map(str::to_owned);
            Grant {
                id: opt("id").unwrap_or_default(),
                client: opt("client_id").unwrap_or_default(),
                how: opt("how").unwrap_or_default(),
                created: opt("created_at").unwrap_or_default(),
                last_used: opt("last_used"),
                revoked: opt("revoked_at"),
                revoked_reason: opt("revoked_reason"),
            }
        })
        .collect())
}

/// Deletes every grant row of the tenant (with [`delete_all`]).
pub(crate) fn delete_all_grants(tenant: &str) -> Vec<Stmt> {
    [
        "oauth_refresh_tokens",
        "oauth_codes",
        "oauth_grants",
        "oauth_connect_codes",
    ]
    .iter()
    .map(|t| {
        Stmt::new(
            format!("DELETE FROM {t} WHERE tenant_id = ?"),
            vec![tenant.into()],
        )
    })
    .collect()
}

/// Deletes expired codes, connect codes and refresh tokens (the daily cron).
pub(crate) fn purge_grants(now: &str) -> Vec<Stmt> {
    ["oauth_codes", "oauth_connect_codes", "oauth_refresh_tokens"]
        .iter()
        .map(|t| {
            Stmt::new(
                format!("DELETE FROM {t} WHERE expires_at <= ?"),
                vec![now.into()],
            )
        })
        .collect()
}
