//! The `users` table: userName, externalId, displayName and active as
//! indexed columns, email values in `user_emails`, retained tombstones
//! (`deleted_at`), and what the host application does to users directly.

use serde::Deserialize;
use serde_json::Value;

use super::{guard_previous_changed, guarded_batch, SqlExecutor, SqlValue, Stmt, StoreError};

/// A group a user is a direct member of, from the computed column.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct GroupRef {
    pub id: String,
    pub display: String,
}

/// The groups of user `r`, as `[[id, displayName], ...]`.
pub(crate) const GROUPS_COLUMN: &str =
    "(SELECT json_group_array(json_array(g.id, g.display_name)) \
     FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
     WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id)";

/// Unicode-aware case folding used for every case-insensitive key column.
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn text(doc: &Value, k: &str) -> Option<String> {
    doc.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The indexed columns of a user document.
pub(crate) fn indexed(doc: &Value) -> Vec<(&'static str, SqlValue)> {
    let user_name = text(doc, "userName").unwrap_or_default();
    vec![
        ("user_name_key", fold(&user_name).into()),
        ("user_name", user_name.into()),
        ("external_id", text(doc, "externalId").into()),
        ("display_name", text(doc, "displayName").into()),
        // RFC 7643 §4.1.1: a user without `active` is treated as active.
        (
            "active",
            doc.get("active")
                .and_then(Value::as_bool)
                .unwrap_or(true)
                .into(),
        ),
    ]
}

/// The `user_emails` rows of a user document: each value folded, with its
/// folded type and primary flag. A rewrite deletes the old rows first.
pub(crate) fn email_rows(tenant: &str, id: &str, doc: &Value, rewrite: bool) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    if rewrite {
        stmts.push(Stmt::new(
            "DELETE FROM user_emails WHERE tenant_id = ? AND user_id = ?",
            vec![tenant.into(), id.into()],
        ));
    }
    let emails = doc.get("emails").and_then(Value::as_array);
    for e in emails.into_iter().flatten() {
        let Some(value) = e.get("value").and_then(Value::as_str) else {
            continue;
        };
        let ty = e.get("type").and_then(Value::as_str).map(fold);
        let primary = e.get("primary").and_then(Value::as_bool).unwrap_or(false);
        stmts.push(Stmt::new(
            "INSERT INTO user_emails (tenant_id, user_id, value_key, type, is_primary) \
             VALUES (?, ?, ?, ?, ?)",
            vec![
                tenant.into(),
                id.into(),
                fold(value).into(),
                ty.into(),
                primary.into(),
            ],
        ));
    }
    stmts
}

/// Turns live user `id` into a deactivated tombstone deleted at `now`,
/// with no roles (it leaves its groups; a restore computes them again).
pub(crate) fn tombstone(tenant: &str, id: &str, now: &str) -> Stmt {
    Stmt::new(
        "UPDATE users SET deleted_at = ?, active = 0, doc = json_set(doc, '$.active', json('false')), roles = '[]', \
         last_modified = ?, version = version + 1 \
         WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
        vec![now.into(), now.into(), tenant.into(), id.into()],
    )
}

/// Moves every user's (tombstones included) extension object from member
/// `old_urn` to member `new_urn` of its document, values of removed
/// definitions with it, and names `new_urn` instead of `old_urn` (in any
/// case) in its `schemas`, bumping the version of each user it changes so
/// that a write made on the old form is stale. Extension URNs are ASCII
/// (RFC 8141), so SQLite's ASCII `lower` compares them case-insensitively.
pub(crate) fn rename_schema(tenant: &str, old_urn: &str, new_urn: &str, now: &str) -> Stmt {
    let path = |urn: &str| format!("$.\"{urn}\"");
    // ?1 old member path, ?2 new member path, ?3 old URN, ?4 new URN.
    let moved = "CASE WHEN json_type(doc, ?1) IS NULL THEN doc \
                 ELSE json_set(json_remove(doc, ?1), ?2, json_extract(doc, ?1)) END";
    let listed = "EXISTS (SELECT 1 FROM json_each(users.doc, '$.schemas') s \
                  WHERE lower(s.value) = lower(?3))";
    let renamed = "(SELECT json_group_array(v) FROM (\
                   SELECT CASE WHEN lower(s.value) = lower(?3) THEN ?4 ELSE s.value END AS v \
                   FROM json_each(users.doc, '$.schemas') s ORDER BY s.key))";
    Stmt::new(
        format!(
            "UPDATE users SET \
             doc = CASE WHEN {listed} THEN json_set({moved}, '$.schemas', json({renamed})) \
                   ELSE {moved} END, \
             last_modified = ?5, version = version + 1 \
             WHERE tenant_id = ?6 AND (json_type(doc, ?1) IS NOT NULL OR {listed})"
        ),
        vec![
            path(old_urn).into(),
            path(new_urn).into(),
            old_urn.into(),
            new_urn.into(),
            now.into(),
            tenant.into(),
        ],
    )
}

/// Whether `id` is a live user of the tenant.
pub(crate) async fn exists<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT 1 AS x FROM users WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            vec![tenant.into(), id.into()],
        ))
        .await?;
    Ok(!rows.is_empty())
}

/// Sets a live user's `active` (column and document) from the application
/// side, if it is still at `version`, with the statements `extra` (its
/// event). Returns false when there is no such live user at that version.
pub(crate) async fn set_active<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    active: bool,
    now: &str,
    version: i64,
    extra: Vec<Stmt>,
) -> Result<bool, StoreError> {
    let row = Stmt::new(
        "UPDATE users SET active = ?, doc = json_set(doc, '$.active', json(?)), \
         last_modified = ?, version = version + 1 \
         WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL AND version = ?",
        vec![
            active.into(),
            if active { "true" } else { "false" }.into(),
            now.into(),
            tenant.into(),
            id.into(),
            version.into(),
        ],
    );
    let mut stmts = vec![row, guard_previous_changed()];
    stmts.extend(extra);
    Ok(guarded_batch(db, stmts).await?.is_some())
}

/// Brings a retained tombstone at `version` back as a live, active user.
/// Its userName must be free again (else `StoreError::Unique(UserName)`),
/// and so must its unique custom values: `extra` (those guards, see
/// `attributes::unique_guard`, and its event) run after it in the same
/// batch. Returns false when there is no such tombstone at that version.
pub(crate) async fn restore<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    now: &str,
    version: i64,
    extra: Vec<Stmt>,
) -> Result<bool, StoreError> {
    let row = Stmt::new(
        "UPDATE users SET deleted_at = NULL, active = 1, doc = json_set(doc, '$.active', json('true')), \
         last_modified = ?, version = version + 1 \
         WHERE tenant_id = ? AND id = ? AND deleted_at IS NOT NULL AND version = ?",
        vec![now.into(), tenant.into(), id.into(), version.into()],
    );
    // The guards run only when the tombstone was there.
    let mut stmts = vec![row, guard_previous_changed()];
    stmts.extend(extra);
    Ok(guarded_batch(db, stmts).await?.is_some())
}
