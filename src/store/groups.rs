//! Groups in D1/SQLite. The `groups` row holds the document without members;
//! membership is one `group_members` row per member, so adding or removing a
//! member is one row and never rewrites the group or its other members.

use serde_json::Value;

use super::users::fold;
use super::{
    col_i64, col_str, guard_previous_changed, guarded_batch, DbError, Row, SqlExecutor, SqlValue,
    Stmt,
};

/// D1 binds at most 100 parameters per statement.
const IN_CHUNK: usize = 90;

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: String,
    /// `User` or `Group`.
    pub kind: String,
    pub display: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    /// The insertion position: the default order and the cursor keyset.
    pub seq: i64,
    pub id: String,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    pub doc: Value,
    /// Present when members were read.
    pub members: Option<Vec<Member>>,
}

/// A member to add: its id and, when the client named it, its type.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMember {
    pub id: String,
    pub kind: Option<String>,
}

/// Changes to a group's membership, applied in this order: remove all,
/// remove these, add these.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Membership {
    pub remove_all: bool,
    pub remove: Vec<String>,
    pub add: Vec<NewMember>,
}

impl Membership {
    pub fn is_empty(&self) -> bool {
        !self.remove_all && self.remove.is_empty() && self.add.is_empty()
    }
}

fn text(doc: &Value, k: &str) -> Option<String> {
    doc.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The ids among `ids` that are not live users or groups of the tenant (the
/// group itself excluded: a group cannot contain itself).
pub async fn missing_members<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    group_id: &str,
    ids: &[&str],
) -> Result<Vec<String>, DbError> {
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(IN_CHUNK / 2) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut params: Vec<SqlValue> = vec![tenant.into()];
        params.extend(chunk.iter().map(|id| SqlValue::from(*id)));
        params.push(tenant.into());
        params.extend(chunk.iter().map(|id| SqlValue::from(*id)));
        let rows = db
            .query(Stmt::new(
                format!(
                    "SELECT id FROM users WHERE tenant_id = ? AND id IN ({marks}) AND deleted_at IS NULL \
                     UNION SELECT id FROM groups WHERE tenant_id = ? AND id IN ({marks})"
                ),
                params,
            ))
            .await?;
        found.extend(
            rows.iter()
                .filter_map(|r| col_str(r, "id").map(str::to_owned)),
        );
    }
    Ok(ids
        .iter()
        .filter(|id| **id == group_id || !found.contains(**id))
        .map(|id| (*id).to_owned())
        .collect())
}

/// Statements that apply `m` to group `id`. Each added member's type is read
/// from the database inside the statement: a member that does not exist (or
/// vanished since it was checked) makes the type NULL, which fails the NOT
/// NULL constraint and so aborts the whole batch. Re-adding is a no-op.
fn membership_stmts(tenant: &str, id: &str, m: &Membership) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    if m.remove_all {
        stmts.push(Stmt::new(
            "DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?",
            vec![tenant.into(), id.into()],
        ));
    }
    for chunk in m.remove.chunks(IN_CHUNK) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut params: Vec<SqlValue> = vec![tenant.into(), id.into()];
        params.extend(chunk.iter().map(|s| SqlValue::from(s.as_str())));
        stmts.push(Stmt::new(
            format!(
                "DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id IN ({marks})"
            ),
            params,
        ));
    }
    for member in &m.add {
        let kind = member.kind.as_deref().map(|k| {
            if k.eq_ignore_ascii_case("group") {
                "Group"
            } else {
                "User"
            }
        });
        let user =
            "(SELECT 'User' FROM users WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL)";
        let group = "(SELECT 'Group' FROM groups WHERE tenant_id = ? AND id = ? AND id <> ?)";
        let (type_sql, type_params): (String, Vec<SqlValue>) = match kind {
            Some("User") => (user.into(), vec![tenant.into(), member.id.clone().into()]),
            Some(_) => (
                group.into(),
                vec![tenant.into(), member.id.clone().into(), id.into()],
            ),
            None => (
                format!("coalesce({user}, {group})"),
                vec![
                    tenant.into(),
                    member.id.clone().into(),
                    tenant.into(),
                    member.id.clone().into(),
                    id.into(),
                ],
            ),
        };
        let mut params: Vec<SqlValue> = vec![tenant.into(), id.into(), member.id.clone().into()];
        params.extend(type_params);
        stmts.push(Stmt::new(
            format!(
                "INSERT INTO group_members (tenant_id, group_id, member_id, member_type) \
                 VALUES (?, ?, ?, {type_sql}) \
                 ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING"
            ),
            params,
        ));
    }
    stmts
}

/// Inserts a group and its members atomically.
pub async fn insert<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    now: &str,
    doc: &Value,
    members: &Membership,
) -> Result<(), DbError> {
    let display = text(doc, "displayName").unwrap_or_default();
    let mut stmts = vec![Stmt::new(
        "INSERT INTO groups (tenant_id, id, display_name, display_name_key, external_id, \
         created_at, last_modified, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
        vec![
            tenant.into(),
            id.into(),
            display.clone().into(),
            fold(&display).into(),
            text(doc, "externalId").into(),
            now.into(),
            now.into(),
            doc.to_string().into(),
        ],
    )];
    stmts.extend(membership_stmts(tenant, id, members));
    db.batch(stmts).await.map(|_| ())
}

/// Writes a new document (when `doc` is given) and membership changes as one
/// atomic batch, bumping the version, if the group is still at
/// `expected_version`. Returns false (nothing written) otherwise.
pub async fn update<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    expected_version: i64,
    now: &str,
    doc: &Value,
    members: &Membership,
) -> Result<bool, DbError> {
    let display = text(doc, "displayName").unwrap_or_default();
    let mut stmts = vec![Stmt::new(
        "UPDATE groups SET display_name = ?, display_name_key = ?, external_id = ?, \
         last_modified = ?, version = version + 1, doc = ? \
         WHERE tenant_id = ? AND id = ? AND version = ?",
        vec![
            display.clone().into(),
            fold(&display).into(),
            text(doc, "externalId").into(),
            now.into(),
            doc.to_string().into(),
            tenant.into(),
            id.into(),
            expected_version.into(),
        ],
    )];
    // The membership statements must not run if the guarded UPDATE did not
    // match: the guard aborts the batch in that case.
    stmts.push(guard_previous_changed());
    stmts.extend(membership_stmts(tenant, id, members));
    guarded_batch(db, stmts).await
}

/// Applies membership changes only, bumping the version whatever it is now:
/// the document is not rewritten, so a concurrent change to it is not lost,
/// and concurrent membership changes of one group all apply (each statement
/// touches only its own member's row). Returns false (nothing written) when
/// the group is gone.
pub async fn update_members<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    now: &str,
    members: &Membership,
) -> Result<bool, DbError> {
    let mut stmts = vec![Stmt::new(
        "UPDATE groups SET last_modified = ?, version = version + 1 WHERE tenant_id = ? AND id = ?",
        vec![now.into(), tenant.into(), id.into()],
    )];
    stmts.push(guard_previous_changed());
    stmts.extend(membership_stmts(tenant, id, members));
    guarded_batch(db, stmts).await
}

const GROUP_COLUMNS: &str = "r.seq, r.id, r.created_at, r.last_modified, r.version, r.doc";
const MEMBERS_COLUMN: &str = ", (SELECT json_group_array(json_array(gm.member_id, gm.member_type, \
     coalesce(mu.display_name, mu.user_name, mg.display_name))) FROM group_members gm \
     LEFT JOIN users mu ON gm.member_type = 'User' AND mu.tenant_id = gm.tenant_id AND mu.id = gm.member_id \
     LEFT JOIN groups mg ON gm.member_type = 'Group' AND mg.tenant_id = gm.tenant_id AND mg.id = gm.member_id \
     WHERE gm.tenant_id = r.tenant_id AND gm.group_id = r.id) AS members";

fn select_columns(with_members: bool) -> String {
    if with_members {
        format!("{GROUP_COLUMNS}{MEMBERS_COLUMN}")
    } else {
        GROUP_COLUMNS.to_owned()
    }
}

fn from_row(row: &Row) -> Result<StoredGroup, DbError> {
    let text = |k: &str| {
        col_str(row, k)
            .map(str::to_owned)
            .ok_or_else(|| DbError::Other(format!("groups.{k} missing")))
    };
    let doc: Value = serde_json::from_str(&text("doc")?)
        .map_err(|e| DbError::Other(format!("groups.doc is not JSON: {e}")))?;
    let members = match col_str(row, "members") {
        None => None,
        Some(m) => {
            let triples: Vec<(String, String, Option<String>)> = serde_json::from_str(m)
                .map_err(|e| DbError::Other(format!("members column: {e}")))?;
            Some(
                triples
                    .into_iter()
                    .map(|(id, kind, display)| Member { id, kind, display })
                    .collect(),
            )
        }
    };
    Ok(StoredGroup {
        seq: col_i64(row, "seq").unwrap_or(0),
        id: text("id")?,
        created: text("created_at")?,
        last_modified: text("last_modified")?,
        version: col_i64(row, "version").unwrap_or(1),
        doc,
        members,
    })
}

pub async fn get<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    with_members: bool,
) -> Result<Option<StoredGroup>, DbError> {
    let sql = format!(
        "SELECT {} FROM groups r WHERE r.tenant_id = ? AND r.id = ?",
        select_columns(with_members)
    );
    let rows = db
        .query(Stmt::new(sql, vec![tenant.into(), id.into()]))
        .await?;
    rows.first().map(from_row).transpose()
}

/// A page of groups matching `clause` (over alias `r`), and the total.
pub async fn list<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    spec: &super::PageSpec<'_>,
    with_members: bool,
) -> Result<super::Listed<StoredGroup>, DbError> {
    super::page(
        db,
        &super::Source {
            table: "groups",
            base: "r.tenant_id = ?",
            counted: Some("group_count"),
        },
        tenant,
        spec,
        &select_columns(with_members),
    )
    .await?
    .decode(from_row)
}

/// Deletes a group (its membership rows go with it) and its own membership
/// in other groups, only if it is at `version` when one is given. Returns
/// false when nothing was deleted.
pub async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    id: &str,
    version: Option<i64>,
) -> Result<bool, DbError> {
    let group = Stmt::new(
        "DELETE FROM groups WHERE tenant_id = ? AND id = ?",
        vec![tenant.into(), id.into()],
    )
    .at_version(version);
    // D1 counts the cascaded membership rows in a statement's changes, so
    // "was the group there" is asked of SQLite's own changes() instead.
    guarded_batch(
        db,
        vec![
        group,
        guard_previous_changed(),
        Stmt::new(
            "DELETE FROM group_members WHERE tenant_id = ? AND member_id = ? AND member_type = 'Group'",
            vec![tenant.into(), id.into()],
        ),
    ],
    )
    .await
}
