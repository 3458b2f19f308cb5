//! The host application's roles, the rules that map IdP groups to them,
//! and the users' computed roles.
//!
//! A user's roles are the roles of the rules (in rule order, each once)
//! whose group the user is a direct member of; a user whom no rule
//! matches has the tenant's default role, when it has one. They are
//! computed by the database inside the batch of every write that can
//! change them, from the state that batch leaves, so parallel writes to
//! different groups of one user cannot lose each other's effect; and
//! every user whose roles change gets a `user.roles_changed` event in the
//! same batch (see `store::events` for the outbox).

use serde_json::Value;

use super::events::{Stamp, DISPATCHED, EVENT_ID, LAST_SEQ};
use super::users::fold;
use super::{col_i64, col_str, col_text, guarded_batch, read_all, SqlExecutor, Stmt, StoreError};

/// A role of the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Role {
    pub name: String,
    pub description: Option<String>,
    pub created: String,
    pub updated: String,
    /// How many live users have it.
    pub users: i64,
}

/// How a rule names its group: exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupRef {
    Id(String),
    ExternalId(String),
    /// Matched case-insensitively.
    DisplayName(String),
}

/// One rule: members of `group` have `role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub group: GroupRef,
    pub role: String,
}

/// A rule as stored, with the groups it matches now (id, displayName).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredMapping {
    pub mapping: Mapping,
    pub groups: Vec<(String, String)>,
}

/// Whether tenant `?1` maps any group or has a default role (SQL): when
/// it does not, every user's roles are `[]` already, and the per-write
/// recomputation does nothing.
const CONFIGURED: &str = "(EXISTS (SELECT 1 FROM role_mappings c WHERE c.tenant_id = ?1) \
     OR (SELECT c.default_role FROM tenants c WHERE c.id = ?1) IS NOT NULL)";

/// The roles of user `{uid}` of tenant `?1` as the rules give them now
/// (SQL, a JSON array as text).
fn roles_of(uid: &str) -> String {
    format!(
        "(SELECT CASE WHEN count(*) > 0 THEN json_group_array(x.role) \
           ELSE coalesce((SELECT json_array(d.default_role) FROM tenants d \
                          WHERE d.id = ?1 AND d.default_role IS NOT NULL), '[]') END \
         FROM (SELECT rm.role AS role, min(rm.position) AS p FROM group_members gm \
               JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
               JOIN role_mappings rm ON rm.tenant_id = gm.tenant_id AND (rm.group_id = g.id \
                 OR rm.external_id = g.external_id OR rm.display_name_key = g.display_name_key) \
               WHERE gm.tenant_id = ?1 AND gm.member_id = {uid} AND gm.member_type = 'User' \
               GROUP BY rm.role ORDER BY p) x)"
    )
}

/// Which users a write recomputes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Candidates<'a> {
    /// These user ids.
    These(Vec<&'a str>),
    /// These, the current members of a group (after the write: a new
    /// group, a rename or a new externalId changes what the rules match)
    /// and, with `marked`, the members [`mark_members`] kept before the
    /// write removed them.
    Group {
        id: &'a str,
        also: Vec<&'a str>,
        current: bool,
        marked: bool,
    },
    /// Every live user of the tenant (the rules changed).
    All,
}

impl Candidates<'_> {
    /// The candidates' ids (SQL over `?3`, a JSON array, and `?5`, the
    /// group) and the two parameters.
    fn sql(&self) -> (String, Value, &str) {
        let list = |ids: &[&str]| Value::Array(ids.iter().map(|&i| Value::from(i)).collect());
        match self {
            Candidates::These(ids) => ("SELECT value FROM json_each(?3)".into(), list(ids), ""),
            Candidates::Group {
                id,
                also,
                current,
                marked,
            } => {
                let mut sql = "SELECT value FROM json_each(?3)".to_owned();
                if *current {
                    sql.push_str(
                        " UNION SELECT cm.member_id FROM group_members cm \
                         WHERE cm.tenant_id = ?1 AND cm.group_id = ?5 AND cm.member_type = 'User'",
                    );
                }
                if *marked {
                    sql.push_str(
                        " UNION SELECT rc.user_id FROM role_candidates rc WHERE rc.tenant_id = ?1",
                    );
                }
                (sql, list(also), id)
            }
            Candidates::All => (
                "SELECT a.id FROM users a WHERE a.tenant_id = ?1 AND a.deleted_at IS NULL".into(),
                Value::Array(Vec::new()),
                "",
            ),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Candidates::These(ids) => ids.is_empty(),
            Candidates::Group {
                also,
                current,
                marked,
                ..
            } => also.is_empty() && !current && !marked,
            Candidates::All => false,
        }
    }
}

/// The statement that keeps the user members of group `group_id` as
/// candidates before a write removes them (an emptied or deleted group):
/// run it before that write, and [`recompute`] with `marked` after.
pub(crate) fn mark_members(tenant: &str, group_id: &str) -> Stmt {
    Stmt::new(
        format!(
            "INSERT OR IGNORE INTO role_candidates (tenant_id, user_id) \
             SELECT ?1, m.member_id FROM group_members m \
             WHERE m.tenant_id = ?1 AND m.group_id = ?2 AND m.member_type = 'User' AND {CONFIGURED}"
        ),
        vec![tenant.into(), group_id.into()],
    )
}

/// The statements that recompute the roles of `candidates` (live users
/// only) and record `user.roles_changed` for each whose roles change, with
/// `changed: ["roles"]`, `previous.roles`, and `data` the user's id,
/// userName, externalId and roles. `body` is the events' shared body
/// (actor, request id). Run them after the write's own statements.
pub(crate) fn recompute(s: &Stamp<'_>, candidates: &Candidates<'_>, body: &Value) -> Vec<Stmt> {
    if candidates.is_empty() {
        return Vec::new();
    }
    // The rules' own change recomputes every user, configured or not (it
    // may just have removed the last rule).
    let guard = if *candidates == Candidates::All {
        "1"
    } else {
        CONFIGURED
    };
    let (ids, list, group) = candidates.sql();
    let new = roles_of("u.id");
    let seq = format!("{LAST_SEQ} + row_number() OVER (ORDER BY x.seq)");
    let id = EVENT_ID.replace("{seq}", &seq);
    let summary = "json_patch('{}', json_object('type', 'User', 'id', x.id, \
                   'userName', x.user_name, 'externalId', x.external_id))";
    let data = "json_patch('{}', json_object('id', x.id, 'userName', x.user_name, \
                'externalId', x.external_id, 'roles', json(x.new)))";
    let events = format!(
        "INSERT INTO events (tenant_id, sequence, id, type, occurred_at, resource_id, body, dispatched) \
         SELECT ?1, {seq}, {id}, 'user.roles_changed', ?4, x.id, \
                json_set(?6, '$.resource', json({summary}), '$.data', json({data}), \
                  '$.changed', json_array('roles'), '$.previous', json_object('roles', json(x.roles))), \
                {DISPATCHED} \
         FROM tenants t, (SELECT u.seq, u.id, u.user_name, u.external_id, u.roles, {new} AS new \
                          FROM users u WHERE u.tenant_id = ?1 AND u.deleted_at IS NULL \
                          AND u.id IN ({ids})) x \
         WHERE t.id = ?1 AND x.roles <> x.new AND {guard}"
    );
    let update = format!(
        "UPDATE users AS u SET roles = {new} \
         WHERE u.tenant_id = ?1 AND u.deleted_at IS NULL AND u.id IN ({ids}) \
         AND u.roles <> {new} AND {guard}"
    );
    let params = || {
        vec![
            s.tenant.into(),
            s.id_prefix.into(),
            list.to_string().into(),
            s.at.into(),
            group.into(),
            body.to_string().into(),
        ]
    };
    let mut stmts = vec![bound(events, params()), bound(update, params())];
    if let Candidates::Group { marked: true, .. } = candidates {
        stmts.push(Stmt::new(
            "DELETE FROM role_candidates WHERE tenant_id = ?",
            vec![s.tenant.into()],
        ));
    }
    stmts
}

/// `sql` with as many of `params` as its highest `?N` takes (SQLite and D1
/// want exactly that many).
fn bound(sql: String, mut params: Vec<super::SqlValue>) -> Stmt {
    let highest = sql
        .split('?')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0);
    params.truncate(highest);
    Stmt::new(sql, params)
}

/// A role name: 1 to 64 characters of letters, digits and `_ - . :`.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

const ROLE_COLUMNS: &str = "r.name, r.description, r.created_at, r.updated_at, \
     (SELECT count(*) FROM users u, json_each(u.roles) j WHERE u.tenant_id = r.tenant_id \
      AND u.deleted_at IS NULL AND j.value = r.name) AS users";

fn role_of(row: &super::Row) -> Result<Role, StoreError> {
    Ok(Role {
        name: col_text(row, "roles", "name")?,
        description: col_str(row, "description").map(str::to_owned),
        created: col_text(row, "roles", "created_at")?,
        updated: col_text(row, "roles", "updated_at")?,
        users: col_i64(row, "users").unwrap_or(0),
    })
}

/// The tenant's roles, by name.
pub(crate) async fn list<D: SqlExecutor>(db: &D, tenant: &str) -> Result<Vec<Role>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.tenant_id = ? ORDER BY r.name"),
            vec![tenant.into()],
        ))
        .await?;
    rows.iter().map(role_of).collect()
}

/// Creates role `name` or sets its description; the role as stored and
/// whether it is new.
pub(crate) async fn put<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    name: &str,
    description: Option<&str>,
    now: &str,
) -> Result<(Role, bool), StoreError> {
    let written = db
        .batch(vec![
            Stmt::new(
                "SELECT 1 AS x FROM roles WHERE tenant_id = ? AND name = ?",
                vec![tenant.into(), name.into()],
            ),
            Stmt::new(
                "INSERT INTO roles (tenant_id, name, description, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4) \
                 ON CONFLICT (tenant_id, name) DO UPDATE SET description = ?3, updated_at = ?4",
                vec![tenant.into(), name.into(), description.into(), now.into()],
            ),
            Stmt::new(
                format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.tenant_id = ? AND r.name = ?"),
                vec![tenant.into(), name.into()],
            ),
        ])
        .await?;
    let existed = written.first().is_some_and(|w| !w.rows.is_empty());
    let row = written
        .last()
        .and_then(|w| w.rows.first())
        .ok_or_else(|| StoreError::Other("roles row not read back".into()))?;
    Ok((role_of(row)?, !existed))
}

/// How a role's deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deleted {
    Done,
    Missing,
    /// A rule or the default role names it.
    InUse,
}

/// Deletes role `name` unless a rule or the default role names it.
pub(crate) async fn delete<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    name: &str,
) -> Result<Deleted, StoreError> {
    let written = db
        .batch(vec![
            Stmt::new(
                "DELETE FROM roles WHERE tenant_id = ?1 AND name = ?2 \
                 AND NOT EXISTS (SELECT 1 FROM role_mappings m WHERE m.tenant_id = ?1 AND m.role = ?2) \
                 AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = ?1 AND t.default_role = ?2)",
                vec![tenant.into(), name.into()],
            ),
            Stmt::new(
                "SELECT 1 AS x FROM roles WHERE tenant_id = ? AND name = ?",
                vec![tenant.into(), name.into()],
            ),
        ])
        .await?;
    let deleted = written.first().is_some_and(|w| w.changes >= 1);
    let still = written.get(1).is_some_and(|w| !w.rows.is_empty());
    Ok(match (deleted, still) {
        (true, _) => Deleted::Done,
        (false, true) => Deleted::InUse,
        (false, false) => Deleted::Missing,
    })
}

/// The tenant's rules in order, each with the groups it matches now, and
/// its default role.
pub(crate) async fn mappings<D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<(Vec<StoredMapping>, Option<String>), StoreError> {
    let rows = read_all(
        db,
        vec![
            Stmt::new(
                "SELECT m.position, m.group_id, m.external_id, m.display_name, m.role, \
                 (SELECT json_group_array(json_array(g.id, g.display_name)) FROM groups g \
                  WHERE g.tenant_id = m.tenant_id AND (g.id = m.group_id OR g.external_id = m.external_id \
                  OR g.display_name_key = m.display_name_key)) AS groups \
                 FROM role_mappings m WHERE m.tenant_id = ? ORDER BY m.position",
                vec![tenant.into()],
            ),
            Stmt::new(
                "SELECT default_role FROM tenants WHERE id = ?",
                vec![tenant.into()],
            ),
        ],
    )
    .await?;
    let mut out = Vec::new();
    for row in rows.first().into_iter().flatten() {
        let text = |k: &str| col_str(row, k).map(str::to_owned);
        let group = match (text("group_id"), text("external_id"), text("display_name")) {
            (Some(id), _, _) => GroupRef::Id(id),
            (_, Some(e), _) => GroupRef::ExternalId(e),
            (_, _, Some(d)) => GroupRef::DisplayName(d),
            _ => return Err(StoreError::Other("role_mappings row names no group".into())),
        };
        let groups: Vec<(String, String)> = col_str(row, "groups")
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Other(format!("role_mappings groups: {e}")))?
            .unwrap_or_default();
        out.push(StoredMapping {
            mapping: Mapping {
                group,
                role: col_text(row, "role_mappings", "role")?,
            },
            groups,
        });
    }
    let default = rows
        .get(1)
        .and_then(|r| r.first())
        .and_then(|r| col_str(r, "default_role"))
        .map(str::to_owned);
    Ok((out, default))
}

/// Replaces the tenant's rules and default role, recomputing every user's
/// roles with their events, in one batch. `None` when a role it names is
/// not (or no longer) defined: nothing is written. Otherwise the number of
/// users whose roles changed.
pub(crate) async fn replace<D: SqlExecutor>(
    db: &D,
    s: &Stamp<'_>,
    mappings: &[Mapping],
    default: Option<&str>,
    body: &Value,
) -> Result<Option<u64>, StoreError> {
    let tenant = s.tenant;
    let rows: Vec<Value> = mappings
        .iter()
        .map(|m| {
            let (id, ext, name) = match &m.group {
                GroupRef::Id(v) => (Some(v.as_str()), None, None),
                GroupRef::ExternalId(v) => (None, Some(v.as_str()), None),
                GroupRef::DisplayName(v) => (None, None, Some(v.as_str())),
            };
            serde_json::json!([id, ext, name, name.map(fold), m.role])
        })
        .collect();
    let mut stmts = vec![
        Stmt::new(
            "DELETE FROM role_mappings WHERE tenant_id = ?",
            vec![tenant.into()],
        ),
        Stmt::new(
            "INSERT INTO role_mappings (tenant_id, position, group_id, external_id, display_name, \
             display_name_key, role) \
             SELECT ?1, j.key, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), \
             json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]') \
             FROM json_each(?2) j",
            vec![tenant.into(), Value::Array(rows).to_string().into()],
        ),
        Stmt::new(
            "UPDATE tenants SET default_role = ?2 WHERE id = ?1",
            vec![tenant.into(), default.into()],
        ),
        // Aborts the batch when a role it names is not defined.
        Stmt::new(
            "INSERT INTO write_guard (stale) SELECT 1 WHERE EXISTS ( \
               SELECT 1 FROM role_mappings m WHERE m.tenant_id = ?1 \
               AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = ?1 AND r.name = m.role)) \
             OR (?2 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = ?1 AND r.name = ?2))",
            vec![tenant.into(), default.into()],
        ),
    ];
    let events_at = stmts.len();
    stmts.extend(recompute(s, &Candidates::All, body));
    Ok(guarded_batch(db, stmts)
        .await?
        .map(|w| w.get(events_at).map_or(0, |w| w.changes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_short_and_plain() {
        assert!(valid_name("admin"));
        assert!(valid_name("org:billing.viewer-2_x"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"r".repeat(65)));
        assert!(!valid_name("ünïcode"));
    }

    #[test]
    fn nothing_to_recompute_is_no_statement() {
        let s = Stamp {
            tenant: "t",
            id_prefix: "evt_x",
            at: "2026-01-01T00:00:00.000Z",
        };
        assert!(recompute(&s, &Candidates::These(Vec::new()), &Value::Null).is_empty());
        // An emptied group clears its scratch rows in the same batch.
        let marked = Candidates::Group {
            id: "g",
            also: Vec::new(),
            current: false,
            marked: true,
        };
        let stmts = recompute(&s, &marked, &Value::Null);
        assert_eq!(stmts.len(), 3);
        assert!(stmts[2].sql.starts_with("DELETE FROM role_candidates"));
    }
}
