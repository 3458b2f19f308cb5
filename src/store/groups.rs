//! The `groups` table: displayName and externalId as indexed columns, the
//! document without members, and membership as one `group_members` row per
//! member, so adding or removing a member is one row and never rewrites the
//! group or its other members.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use super::users::fold;
use super::{col_str, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// D1 binds at most 100 parameters per statement.
const IN_CHUNK: usize = 90;

/// A member of a group, from the computed column.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Member {
    pub id: String,
    /// `User` or `Group`.
    pub kind: String,
    pub display: Option<String>,
}

/// The members of group `r`, as `[[id, type, display], ...]`.
pub(crate) const MEMBERS_COLUMN: &str =
    "(SELECT json_group_array(json_array(gm.member_id, gm.member_type, \
     coalesce(mu.display_name, mu.user_name, mg.display_name))) FROM group_members gm \
     LEFT JOIN users mu ON gm.member_type = 'User' AND mu.tenant_id = gm.tenant_id AND mu.id = gm.member_id \
     LEFT JOIN groups mg ON gm.member_type = 'Group' AND mg.tenant_id = gm.tenant_id AND mg.id = gm.member_id \
     WHERE gm.tenant_id = r.tenant_id AND gm.group_id = r.id)";

/// A member to add: its id and, when the client named it, its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewMember {
    pub id: String,
    pub kind: Option<String>,
}

/// Changes to a group's membership, applied in this order: remove all,
/// remove these, add these.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Membership {
    pub remove_all: bool,
    pub remove: Vec<String>,
    pub add: Vec<NewMember>,
}

impl Membership {
    pub(crate) fn is_empty(&self) -> bool {
        !self.remove_all && self.remove.is_empty() && self.add.is_empty()
    }
}

/// The indexed columns of a group document.
pub(crate) fn indexed(doc: &Value) -> Vec<(&'static str, SqlValue)> {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let display = text("displayName").unwrap_or_default();
    vec![
        ("display_name_key", fold(&display).into()),
        ("display_name", display.into()),
        ("external_id", text("externalId").into()),
    ]
}

/// The statements that find which of `ids` are live users or groups of
/// the tenant (with their kind), to send in one round trip; [`found_in`]
/// reads their rows.
pub(crate) fn existence_stmts(tenant: &str, ids: &[&str]) -> Vec<Stmt> {
    ids.chunks(IN_CHUNK / 2)
        .map(|chunk| {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut params: Vec<SqlValue> = vec![tenant.into()];
            params.extend(chunk.iter().map(|id| SqlValue::from(*id)));
            params.push(tenant.into());
            params.extend(chunk.iter().map(|id| SqlValue::from(*id)));
            Stmt::new(
                format!(
                    "SELECT id, 'User' AS kind FROM users WHERE tenant_id = ? AND id IN ({marks}) AND deleted_at IS NULL \
                     UNION ALL SELECT id, 'Group' AS kind FROM groups WHERE tenant_id = ? AND id IN ({marks})"
                ),
                params,
            )
        })
        .collect()
}

/// The (id, kind) pairs in the rows of [`existence_stmts`].
pub(crate) fn found_in(rows: &[Row]) -> HashSet<(String, String)> {
    rows.iter()
        .filter_map(|r| Some((col_str(r, "id")?.to_owned(), col_str(r, "kind")?.to_owned())))
        .collect()
}

/// The ids of the members among `members` that are not in `found` (no live
/// user or group of the tenant), or not of the type named with them (a
/// group cannot contain itself either).
pub(crate) fn missing_among(
    found: &HashSet<(String, String)>,
    group_id: &str,
    members: &[NewMember],
) -> Vec<String> {
    let exists = |m: &NewMember| match m.kind.as_deref() {
        Some(k) => found.contains(&(m.id.clone(), member_kind(k).to_owned())),
        None => found.iter().any(|(id, _)| *id == m.id),
    };
    members
        .iter()
        .filter(|m| m.id == group_id || !exists(m))
        .map(|m| m.id.clone())
        .collect()
}

/// The ids of the members among `members` that are no live user or group
/// of the tenant (see [`missing_among`]), read in one round trip.
pub(crate) async fn missing_members<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    group_id: &str,
    members: &[NewMember],
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let mut found = HashSet::new();
    for rows in super::read_all(db, existence_stmts(tenant, &ids)).await? {
        found.extend(found_in(&rows));
    }
    Ok(missing_among(&found, group_id, members))
}

/// The type a member's `type` names: `Group`, else `User` (RFC 7643 §4.2
/// has those two).
pub(crate) fn member_kind(k: &str) -> &'static str {
    if k.eq_ignore_ascii_case("group") {
        "Group"
    } else {
        "User"
    }
}

/// Guards (see [`crate::store::guard_previous_changed`]) that abort the
/// batch unless each of `added` is a member of group `id` once the batch's
/// adds ([`membership_stmts`]) ran, with the type it names: none of them was
/// missing (no live user or group of the tenant, or of another type, or the
/// group itself). A member change made without checking its members first
/// then changes exactly what a checked one would.
pub(crate) fn guard_all_added(tenant: &str, id: &str, added: &[NewMember]) -> Vec<Stmt> {
    let mut wanted: Vec<(&str, Option<&str>)> = added
        .iter()
        .map(|m| (m.id.as_str(), m.kind.as_deref().map(member_kind)))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted
        .chunks(IN_CHUNK / 2)
        .map(|chunk| {
            let mut params: Vec<SqlValue> = vec![tenant.into(), id.into()];
            let each: Vec<&str> = chunk
                .iter()
                .map(|(member, kind)| {
                    params.push((*member).into());
                    match kind {
                        Some(k) => {
                            params.push((*k).into());
                            "(member_id = ? AND member_type = ?)"
                        }
                        None => "member_id = ?",
                    }
                })
                .collect();
            params.push(SqlValue::Int(chunk.len() as i64));
            Stmt::new(
                format!(
                    "INSERT INTO write_guard (stale) SELECT 1 WHERE (SELECT count(*) FROM group_members \
                     WHERE tenant_id = ? AND group_id = ? AND ({})) < ?",
                    each.join(" OR ")
                ),
                params,
            )
        })
        .collect()
}

/// A guard (see [`crate::store::guard_previous_changed`]) that aborts the
/// batch unless group `id` exists with this `displayName` and `externalId`
/// (what its events name it by).
pub(crate) fn guard_named(
    tenant: &str,
    id: &str,
    display_name: Option<&str>,
    external_id: Option<&str>,
) -> Stmt {
    let text = |v: Option<&str>| v.map_or(SqlValue::Null, SqlValue::from);
    Stmt::new(
        "INSERT INTO write_guard (stale) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM groups \
         WHERE tenant_id = ? AND id = ? AND json_extract(doc, '$.displayName') IS ? \
         AND json_extract(doc, '$.externalId') IS ?)",
        vec![
            tenant.into(),
            id.into(),
            text(display_name),
            text(external_id),
        ],
    )
}

/// Statements that apply `m` to group `id`. Each added member's type is read
/// from the database inside the statement, and a member that is not there
/// when the batch runs (deleted since `missing_members` saw it) is not
/// inserted: as if the add had come first and the delete had removed it.
/// Re-adding is a no-op.
pub(crate) fn membership_stmts(tenant: &str, id: &str, m: &Membership) -> Vec<Stmt> {
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
        let kind = member.kind.as_deref().map(member_kind);
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
        let sql = format!(
            "INSERT INTO group_members (tenant_id, group_id, member_id, member_type) \
             SELECT ?, ?, ?, t FROM (SELECT {type_sql} AS t) WHERE t IS NOT NULL \
             ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING"
        );
        stmts.push(Stmt::new(sql, params));
    }
    stmts
}
