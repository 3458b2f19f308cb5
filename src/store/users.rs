//! Users in D1/SQLite. The `users` row carries the indexed attributes as
//! columns and the whole stored resource as JSON; `user_emails` indexes email
//! values. Every statement is scoped by tenant.

use serde_json::Value;

use super::{
    col_i64, col_str, guard_previous_changed, guarded_batch, DbError, Row, SqlExecutor, Stmt,
};

/// A user as stored: the indexed columns plus the document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    /// The insertion position: the default order and the cursor keyset.
    pub seq: i64,
    pub id: String,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    pub doc: Value,
    /// `[{value, display}]` of the groups the user is a direct member of,
    /// present when it was asked for.
    pub groups: Option<Vec<(String, String)>>,
    /// When the user was deleted, for a retained tombstone.
    pub deleted: Option<String>,
}

/// The columns derived from a user document.
struct UserColumns {
    user_name: String,
    user_name_key: String,
    external_id: Option<String>,
    display_name: Option<String>,
    active: bool,
    emails: Vec<(String, Option<String>, bool)>,
}

/// Unicode-aware case folding used for every case-insensitive key column.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn columns(doc: &Value) -> UserColumns {
    let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let user_name = s("userName").unwrap_or_default();
    let emails = doc
        .get("emails")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    let value = e.get("value")?.as_str()?;
                    let ty = e.get("type").and_then(Value::as_str).map(fold);
                    let primary = e.get("primary").and_then(Value::as_bool).unwrap_or(false);
                    Some((fold(value), ty, primary))
                })
                .collect()
        })
        .unwrap_or_default();
    UserColumns {
        user_name_key: fold(&user_name),
        user_name,
        external_id: s("externalId"),
        display_name: s("displayName"),
        // RFC 7643 §4.1.1: a user without `active` is treated as active.
        active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
        emails,
    }
}

fn email_inserts(tenant: &str, id: &str, cols: &UserColumns) -> Vec<Stmt> {
    cols.emails
        .iter()
        .map(|(value, ty, primary)| {
            Stmt::new(
                "INSERT INTO user_emails (tenant_id, user_id, value_key, type, is_primary) \
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    tenant.into(),
                    id.into(),
                    value.clone().into(),
                    ty.clone().into(),
                    (*primary).into(),
                ],
            )
        })
        .collect()
}

/// Inserts a new user with its email index rows, atomically.
/// `guards` are statements run last in the same batch, which abort it when a
/// constraint the schema cannot express is broken.
pub async fn insert<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    now: &str,
    doc: &Value,
    guards: Vec<Stmt>,
) -> Result<(), DbError> {
    let cols = columns(doc);
    let mut stmts = vec![Stmt::new(
        "INSERT INTO users (tenant_id, id, user_name, user_name_key, external_id, display_name, \
         active, created_at, last_modified, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        vec![
            tenant.into(),
            id.into(),
            cols.user_name.clone().into(),
            cols.user_name_key.clone().into(),
            cols.external_id.clone().into(),
            cols.display_name.clone().into(),
            cols.active.into(),
            now.into(),
            now.into(),
            doc.to_string().into(),
        ],
    )];
    stmts.extend(email_inserts(tenant, id, &cols));
    stmts.extend(guards);
    db.batch(stmts).await.map(|_| ())
}

/// Replaces a user's document, bumping its version, when its version is still
/// `expected_version`. Returns false when the user is gone or was changed
/// meanwhile (nothing is written then).
pub async fn replace<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    expected_version: i64,
    now: &str,
    doc: &Value,
    guards: Vec<Stmt>,
) -> Result<bool, DbError> {
    let cols = columns(doc);
    let mut stmts = vec![Stmt::new(
        "UPDATE users SET user_name = ?, user_name_key = ?, external_id = ?, display_name = ?, \
         active = ?, last_modified = ?, version = version + 1, doc = ? \
         WHERE tenant_id = ? AND id = ? AND version = ? AND deleted_at IS NULL",
        vec![
            cols.user_name.clone().into(),
            cols.user_name_key.clone().into(),
            cols.external_id.clone().into(),
            cols.display_name.clone().into(),
            cols.active.into(),
            now.into(),
            doc.to_string().into(),
            tenant.into(),
            id.into(),
            expected_version.into(),
        ],
    )];
    // The email rows are rewritten only if the guarded UPDATE matched.
    stmts.push(guard_previous_changed());
    stmts.push(Stmt::new(
        "DELETE FROM user_emails WHERE tenant_id = ? AND user_id = ?",
        vec![tenant.into(), id.into()],
    ));
    stmts.extend(email_inserts(tenant, id, &cols));
    stmts.extend(guards);
    guarded_batch(db, stmts).await
}

const USER_COLUMNS: &str =
    "r.seq, r.id, r.deleted_at, r.created_at, r.last_modified, r.version, r.doc";
const GROUPS_COLUMN: &str = ", (SELECT json_group_array(json_array(g.id, g.display_name)) \
     FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
     WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id) AS groups";

fn select_columns(with_groups: bool) -> String {
    if with_groups {
        format!("{USER_COLUMNS}{GROUPS_COLUMN}")
    } else {
        USER_COLUMNS.to_owned()
    }
}

fn from_row(row: &Row) -> Result<StoredUser, DbError> {
    let text = |k: &str| {
        col_str(row, k)
            .map(str::to_owned)
            .ok_or_else(|| DbError::Other(format!("users.{k} missing")))
    };
    let doc: Value = serde_json::from_str(&text("doc")?)
        .map_err(|e| DbError::Other(format!("users.doc is not JSON: {e}")))?;
    let groups = match col_str(row, "groups") {
        None => None,
        Some(g) => {
            let pairs: Vec<(String, String)> = serde_json::from_str(g)
                .map_err(|e| DbError::Other(format!("groups column: {e}")))?;
            Some(pairs)
        }
    };
    Ok(StoredUser {
        seq: col_i64(row, "seq").unwrap_or(0),
        id: text("id")?,
        created: text("created_at")?,
        last_modified: text("last_modified")?,
        version: col_i64(row, "version").unwrap_or(1),
        doc,
        groups,
        deleted: col_str(row, "deleted_at").map(str::to_owned),
    })
}

/// A live (not deleted) user by id.
pub async fn get<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    with_groups: bool,
) -> Result<Option<StoredUser>, DbError> {
    let rows = db.query(get_stmt(tenant, id, with_groups)).await?;
    get_from_rows(&rows)
}

/// The statement [`get`] runs, to send along with others in one round trip.
pub fn get_stmt(tenant: &str, id: &str, with_groups: bool) -> Stmt {
    let sql = format!(
        "SELECT {} FROM users r WHERE r.tenant_id = ? AND r.id = ? AND r.deleted_at IS NULL",
        select_columns(with_groups)
    );
    Stmt::new(sql, vec![tenant.into(), id.into()])
}

/// The user in the rows of a [`get_stmt`].
pub fn get_from_rows(rows: &[Row]) -> Result<Option<StoredUser>, DbError> {
    rows.first().map(from_row).transpose()
}

/// A user by id, live or a retained tombstone (for the host application).
pub async fn get_any<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
) -> Result<Option<StoredUser>, DbError> {
    let sql = format!(
        "SELECT {} FROM users r WHERE r.tenant_id = ? AND r.id = ?",
        select_columns(true)
    );
    let rows = db
        .query(Stmt::new(sql, vec![tenant.into(), id.into()]))
        .await?;
    rows.first().map(from_row).transpose()
}

/// Users live and retained, newest last, for the host application.
pub async fn list_any<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    spec: &super::PageSpec<'_>,
) -> Result<super::Listed<StoredUser>, DbError> {
    super::page(
        db,
        &super::Source {
            table: "users",
            base: "r.tenant_id = ?",
            counted: None,
        },
        tenant,
        spec,
        &select_columns(false),
    )
    .await?
    .decode(from_row)
}

/// Sets a live user's `active` (column and document) from the application
/// side. Returns false when there is no such live user.
pub async fn set_active<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    active: bool,
    now: &str,
) -> Result<bool, DbError> {
    super::write_one(
        db,
        Stmt::new(
            "UPDATE users SET active = ?, doc = json_set(doc, '$.active', json(?)), \
             last_modified = ?, version = version + 1 \
             WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            vec![
                active.into(),
                if active { "true" } else { "false" }.into(),
                now.into(),
                tenant.into(),
                id.into(),
            ],
        ),
    )
    .await
}

/// Brings a retained tombstone back as a live, active user. Its userName
/// must be free again (else `DbError::Unique`). Returns false when there is
/// no such tombstone.
pub async fn restore<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    now: &str,
) -> Result<bool, DbError> {
    super::write_one(
        db,
        Stmt::new(
            "UPDATE users SET deleted_at = NULL, active = 1, doc = json_set(doc, '$.active', json('true')), \
             last_modified = ?, version = version + 1 \
             WHERE tenant_id = ? AND id = ? AND deleted_at IS NOT NULL",
            vec![now.into(), tenant.into(), id.into()],
        ),
    )
    .await
}

/// A page of live users matching `clause` (an SQL condition over alias `r`
/// with its parameters), in insertion order, and the total count.
pub async fn list<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    spec: &super::PageSpec<'_>,
    with_groups: bool,
) -> Result<super::Listed<StoredUser>, DbError> {
    let (_, listed) = list_after(db, Vec::new(), tenant, spec, with_groups).await?;
    Ok(listed)
}

/// [`list`], with the read statements `leading` sent in the same round trip
/// (see [`super::page_after`]); returns their rows as well.
pub async fn list_after<D: SqlExecutor>(
    db: &D,
    leading: Vec<Stmt>,
    tenant: &str,
    spec: &super::PageSpec<'_>,
    with_groups: bool,
) -> Result<(Vec<Vec<Row>>, super::Listed<StoredUser>), DbError> {
    let (leading_rows, page) = super::page_after(
        db,
        leading,
        &super::Source {
            table: "users",
            base: "r.tenant_id = ? AND r.deleted_at IS NULL",
            counted: Some("user_count"),
        },
        tenant,
        spec,
        &select_columns(with_groups),
    )
    .await?;
    Ok((leading_rows, page.decode(from_row)?))
}

/// Deletes a live user and its memberships atomically: the row goes
/// (`remove`), or stays as a deactivated tombstone that SCIM no longer sees
/// (`retain`; its userName is free for a new user). Returns false when there
/// was no such live user.
/// Deletes (or, with `retain`, tombstones) a live user, only if it is at
/// `version` when one is given; false when nothing was deleted.
pub async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    retain: bool,
    now: &str,
    version: Option<i64>,
) -> Result<bool, DbError> {
    let user = if retain {
        Stmt::new(
            "UPDATE users SET deleted_at = ?, active = 0, doc = json_set(doc, '$.active', json('false')), \
             last_modified = ?, version = version + 1 \
             WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            vec![now.into(), now.into(), tenant.into(), id.into()],
        )
    } else {
        Stmt::new(
            "DELETE FROM users WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            vec![tenant.into(), id.into()],
        )
    }
    .at_version(version);
    // The user statement runs first so that the guard sees its changes.
    guarded_batch(
        db,
        vec![
        user,
        guard_previous_changed(),
        Stmt::new(
            "DELETE FROM group_members WHERE tenant_id = ? AND member_id = ? AND member_type = 'User'",
            vec![tenant.into(), id.into()],
        ),
    ],
    )
    .await
}
