//! A tenant's directory as NDJSON lines, and back (see the admin API's
//! export and import).
//!
//! One JSON object per line, in this order: a `header` line, the `tenant`
//! line (its settings, extension URN, default role), then each `attribute`
//! definition, `role`, `role_mapping`, `user` (tombstones included, with its
//! indexed `emails`), `group` and `member`ship, and an `end` line that
//! counts them. A line's `row` is the stored row as it is (column names,
//! the stored JSON document as text), without the tenant id and internal
//! sequence numbers, so that an import stores every resource byte for byte
//! as it was. Never in it: credentials, webhooks and their secrets,
//! connectors, events, the request log.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{col_str, Row, SqlExecutor, Stmt, StoreError};

/// The `format` of the header line.
pub(crate) const FORMAT: &str = "scim-worker-export";
/// The version of the line format.
pub(crate) const VERSION: u64 = 1;
/// Rows read per query of an export.
pub(crate) const CHUNK_ROWS: u32 = 500;
/// Rows loaded per statement of an import (one JSON parameter each).
pub(crate) const ROWS_PER_STATEMENT: usize = 200;

/// The kinds of line, in the order an export has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    Header,
    Tenant,
    Attribute,
    Role,
    RoleMapping,
    User,
    Group,
    Member,
    End,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Header => "header",
            Kind::Tenant => "tenant",
            Kind::Attribute => "attribute",
            Kind::Role => "role",
            Kind::RoleMapping => "role_mapping",
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Member => "member",
            Kind::End => "end",
        }
    }

    /// The table of a kind of row line, its columns (as exported), and the
    /// order (keyset) an export reads it in.
    fn table(self) -> Option<Table> {
        let t = |table, columns, order| {
            Some(Table {
                table,
                columns,
                order,
            })
        };
        match self {
            Kind::Attribute => t(
                "tenant_attributes",
                &["name", "definition", "created_at"][..],
                Order::Text("name"),
            ),
            Kind::Role => t(
                "roles",
                &["name", "description", "created_at", "updated_at"][..],
                Order::Text("name"),
            ),
            Kind::RoleMapping => t(
                "role_mappings",
                &[
                    "position",
                    "group_id",
                    "external_id",
                    "display_name",
                    "display_name_key",
                    "role",
                ][..],
                Order::Int("position"),
            ),
            Kind::User => t(
                "users",
                &[
                    "id",
                    "user_name",
                    "user_name_key",
                    "external_id",
                    "display_name",
                    "active",
                    "deleted_at",
                    "created_at",
                    "last_modified",
                    "version",
                    "doc",
                    "roles",
                ][..],
                Order::Int("seq"),
            ),
            Kind::Group => t(
                "groups",
                &[
                    "id",
                    "display_name",
                    "display_name_key",
                    "external_id",
                    "created_at",
                    "last_modified",
                    "version",
                    "doc",
                ][..],
                Order::Int("seq"),
            ),
            Kind::Member => t(
                "group_members",
                &["group_id", "member_id", "member_type"][..],
                Order::Pair("group_id", "member_id"),
            ),
            Kind::Header | Kind::Tenant | Kind::End => None,
        }
    }

    /// The kinds of row line, in order.
    const ROWS: [Kind; 6] = [
        Kind::Attribute,
        Kind::Role,
        Kind::RoleMapping,
        Kind::User,
        Kind::Group,
        Kind::Member,
    ];
}

/// The columns of a user's indexed email rows, as its line lists them.
const EMAIL_COLUMNS: [&str; 3] = ["value_key", "type", "is_primary"];

struct Table {
    table: &'static str,
    columns: &'static [&'static str],
    order: Order,
}

/// How an export walks a table: after the last key it gave.
#[derive(Clone, Copy)]
enum Order {
    Text(&'static str),
    Int(&'static str),
    Pair(&'static str, &'static str),
}

/// How many lines of each kind of row: what the `end` line says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Counts {
    pub attribute: u64,
    pub role: u64,
    pub role_mapping: u64,
    pub user: u64,
    pub group: u64,
    pub member: u64,
}

impl Counts {
    fn add(&mut self, kind: Kind, n: u64) {
        match kind {
            Kind::Attribute => self.attribute += n,
            Kind::Role => self.role += n,
            Kind::RoleMapping => self.role_mapping += n,
            Kind::User => self.user += n,
            Kind::Group => self.group += n,
            Kind::Member => self.member += n,
            Kind::Header | Kind::Tenant | Kind::End => {}
        }
    }
}

/// Where an export is: the kind of line it gives next, after which key.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    kind: Kind,
    after: Option<Value>,
    counts: Counts,
}

impl Cursor {
    /// The start of an export.
    pub(crate) fn start() -> Cursor {
        Cursor {
            kind: Kind::Header,
            after: None,
            counts: Counts::default(),
        }
    }
}

fn line(value: &Value) -> String {
    let mut s = value.to_string();
    s.push('\n');
    s
}

/// The next lines of `tenant`'s export from `cursor` (at most
/// [`CHUNK_ROWS`] rows, read in one query), and where it goes on (`None`:
/// done). The header and tenant lines come first, in one piece; `now` is
/// the header's `exportedAt`.
pub(crate) async fn chunk<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    cursor: Cursor,
    now: &str,
) -> Result<(String, Option<Cursor>), StoreError> {
    let mut out = String::new();
    let mut cursor = cursor;
    if cursor.kind == Kind::Header {
        let rows = db
            .query(Stmt::new(
                "SELECT settings, extension_urn, default_role FROM tenants WHERE id = ?",
                vec![tenant.into()],
            ))
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Err(StoreError::Other(format!("tenant {tenant} is gone")));
        };
        out.push_str(&line(
            &json!({"type": "header", "format": FORMAT, "version": VERSION,
            "tenant": tenant, "exportedAt": now}),
        ));
        out.push_str(&line(&json!({"type": "tenant", "row": row})));
        cursor.kind = Kind::Attribute;
        return Ok((out, Some(cursor)));
    }
    let Some(table) = cursor.kind.table() else {
        out.push_str(&line(&json!({"type": "end", "counts": cursor.counts})));
        return Ok((out, None));
    };
    let mut params = vec![tenant.into()];
    let (after, order_by, key_cols) = match (table.order, &cursor.after) {
        (Order::Text(k) | Order::Int(k), None) => (String::new(), k.to_owned(), vec![k]),
        (Order::Text(k), Some(v)) => {
            params.push(v.as_str().unwrap_or("").into());
            (format!(" AND {k} > ?2"), k.to_owned(), vec![k])
        }
        (Order::Int(k), Some(v)) => {
            params.push(v.as_i64().unwrap_or(0).into());
            (format!(" AND {k} > ?2"), k.to_owned(), vec![k])
        }
        (Order::Pair(a, b), None) => (String::new(), format!("{a}, {b}"), vec![a, b]),
        (Order::Pair(a, b), Some(v)) => {
            let part = |i: usize| v.get(i).and_then(Value::as_str).unwrap_or("").to_owned();
            params.push(part(0).into());
            params.push(part(1).into());
            (
                format!(" AND ({a} > ?2 OR ({a} = ?2 AND {b} > ?3))"),
                format!("{a}, {b}"),
                vec![a, b],
            )
        }
    };
    let mut select: Vec<String> = table.columns.iter().map(|c| (*c).to_owned()).collect();
    for k in &key_cols {
        if !table.columns.contains(k) {
            select.push(format!("{k} AS \"_{k}\""));
        }
    }
    if cursor.kind == Kind::User {
        select.push(
            "(SELECT json_group_array(json_array(e.value_key, e.type, e.is_primary)) \
             FROM user_emails e WHERE e.tenant_id = users.tenant_id AND e.user_id = users.id) AS \"_emails\""
                .to_owned(),
        );
    }
    let rows = db
        .query(Stmt::new(
            format!(
                "SELECT {} FROM {} WHERE tenant_id = ?1{after} ORDER BY {order_by} LIMIT {CHUNK_ROWS}",
                select.join(", "),
                table.table
            ),
            params,
        ))
        .await?;
    let key_of = |row: &Row, k: &str| {
        row.get(k)
            .or_else(|| row.get(&format!("_{k}")))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut last = None;
    for row in &rows {
        let mut clean = Map::new();
        for c in table.columns {
            clean.insert((*c).to_owned(), row.get(*c).cloned().unwrap_or(Value::Null));
        }
        let mut l = json!({"type": cursor.kind.name(), "row": clean});
        if cursor.kind == Kind::User {
            let emails = col_str(row, "_emails")
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .unwrap_or_else(|| json!([]));
            l["emails"] = emails;
        }
        out.push_str(&line(&l));
        last = Some(match table.order {
            Order::Pair(a, b) => json!([key_of(row, a), key_of(row, b)]),
            Order::Text(k) | Order::Int(k) => key_of(row, k),
        });
    }
    cursor.counts.add(cursor.kind, rows.len() as u64);
    if rows.len() < CHUNK_ROWS as usize {
        // This table is done: the next one from its start.
        let next = Kind::ROWS
            .iter()
            .copied()
            .find(|k| *k > cursor.kind)
            .unwrap_or(Kind::End);
        cursor.kind = next;
        cursor.after = None;
    } else {
        cursor.after = last;
    }
    Ok((out, Some(cursor)))
}

/// One line of an import, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Line {
    Header { source: String },
    Tenant(Map<String, Value>),
    Row { kind: Kind, row: Map<String, Value> },
    End(Counts),
}

impl Line {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Line::Header { .. } => Kind::Header,
            Line::Tenant(_) => Kind::Tenant,
            Line::Row { kind, .. } => *kind,
            Line::End(_) => Kind::End,
        }
    }
}

/// A stored value: text, an integer or null.
fn scalar(v: &Value) -> bool {
    v.is_null() || v.is_string() || v.is_i64()
}

fn exact_row(v: Option<&Value>, columns: &[&str]) -> Result<Map<String, Value>, String> {
    let Some(Value::Object(row)) = v else {
        return Err("it has no \"row\" object".into());
    };
    if row.len() != columns.len() || columns.iter().any(|c| !row.contains_key(*c)) {
        return Err(format!(
            "its row must have exactly the columns {}",
            columns.join(", ")
        ));
    }
    if let Some((k, _)) = row.iter().find(|(_, v)| !scalar(v)) {
        return Err(format!("its {k} is not text, an integer or null"));
    }
    Ok(row.clone())
}

/// Reads one line of an export; `Err` says what is wrong with it.
pub(crate) fn parse_line(text: &str) -> Result<Line, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
    let kind: Kind = v
        .get("type")
        .cloned()
        .and_then(|t| serde_json::from_value(t).ok())
        .ok_or("its \"type\" is not one of header, tenant, attribute, role, role_mapping, user, group, member, end")?;
    match kind {
        Kind::Header => {
            if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
                return Err(format!("a header's format is {FORMAT:?}"));
            }
            if v.get("version").and_then(Value::as_u64) != Some(VERSION) {
                return Err(format!("this server reads version {VERSION} exports"));
            }
            let source = v
                .get("tenant")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Ok(Line::Header { source })
        }
        Kind::Tenant => Ok(Line::Tenant(exact_row(
            v.get("row"),
            &["settings", "extension_urn", "default_role"],
        )?)),
        Kind::End => {
            let counts = v
                .get("counts")
                .cloned()
                .and_then(|c| serde_json::from_value(c).ok())
                .ok_or("an end line has \"counts\"")?;
            Ok(Line::End(counts))
        }
        _ => {
            let Some(table) = kind.table() else {
                return Err("unknown line".into());
            };
            let mut row = exact_row(v.get("row"), table.columns)?;
            if kind == Kind::User {
                let emails = match v.get("emails") {
                    Some(Value::Array(e)) => e.clone(),
                    None => Vec::new(),
                    Some(_) => return Err("its emails are not a list".into()),
                };
                let ok = emails.iter().all(|e| {
                    e.as_array()
                        .is_some_and(|a| a.len() == EMAIL_COLUMNS.len() && a.iter().all(scalar))
                });
                if !ok {
                    return Err(format!(
                        "each of its emails is [{}]",
                        EMAIL_COLUMNS.join(", ")
                    ));
                }
                row.insert("emails".into(), Value::Array(emails));
            }
            Ok(Line::Row { kind, row })
        }
    }
}

/// The counts of the row lines in `lines`.
pub(crate) fn count(lines: &[Line], counts: &mut Counts) {
    for l in lines {
        if let Line::Row { kind, .. } = l {
            counts.add(*kind, 1);
        }
    }
}

/// The statements storing `lines` (consecutive lines of one import) into
/// `tenant`: each run of rows of one kind in statements of at most
/// [`ROWS_PER_STATEMENT`] rows, each row's values read from one JSON
/// parameter. The tenant line sets the settings, extension URN and
/// default role.
pub(crate) fn load(tenant: &str, lines: &[Line]) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    let mut run: Vec<&Map<String, Value>> = Vec::new();
    let mut run_kind = None;
    let flush = |kind: Option<Kind>, run: &mut Vec<&Map<String, Value>>, stmts: &mut Vec<Stmt>| {
        if let Some(kind) = kind {
            for part in run.chunks(ROWS_PER_STATEMENT) {
                stmts.extend(insert_rows(tenant, kind, part));
            }
        }
        run.clear();
    };
    for l in lines {
        match l {
            Line::Row { kind, row } => {
                if run_kind != Some(*kind) {
                    flush(run_kind, &mut run, &mut stmts);
                    run_kind = Some(*kind);
                }
                run.push(row);
            }
            Line::Tenant(row) => {
                flush(run_kind.take(), &mut run, &mut stmts);
                let get = |k: &str| row.get(k).cloned().unwrap_or(Value::Null);
                let text = |v: Value| match v {
                    Value::String(s) => s.into(),
                    _ => super::SqlValue::Null,
                };
                stmts.push(Stmt::new(
                    "UPDATE tenants SET settings = coalesce(?2, '{}'), extension_urn = ?3, default_role = ?4 WHERE id = ?1",
                    vec![
                        tenant.into(),
                        text(get("settings")),
                        text(get("extension_urn")),
                        text(get("default_role")),
                    ],
                ));
            }
            Line::Header { .. } | Line::End(_) => flush(run_kind.take(), &mut run, &mut stmts),
        }
    }
    flush(run_kind, &mut run, &mut stmts);
    stmts
}

fn insert_rows(tenant: &str, kind: Kind, rows: &[&Map<String, Value>]) -> Vec<Stmt> {
    let Some(table) = kind.table() else {
        return Vec::new();
    };
    let json = Value::Array(rows.iter().map(|r| Value::Object((*r).clone())).collect()).to_string();
    let values: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("json_extract(j.value, '$.{c}')"))
        .collect();
    let mut stmts = vec![Stmt::new(
        format!(
            "INSERT INTO {} (tenant_id, {}) SELECT ?1, {} FROM json_each(?2) j ORDER BY j.key",
            table.table,
            table.columns.join(", "),
            values.join(", ")
        ),
        vec![tenant.into(), json.clone().into()],
    )];
    if kind == Kind::User {
        stmts.push(Stmt::new(
            "INSERT INTO user_emails (tenant_id, user_id, value_key, type, is_primary) \
             SELECT ?1, json_extract(j.value, '$.id'), json_extract(e.value, '$[0]'), \
             json_extract(e.value, '$[1]'), json_extract(e.value, '$[2]') \
             FROM json_each(?2) j, json_each(json_extract(j.value, '$.emails')) e",
            vec![tenant.into(), json.into()],
        ));
    }
    stmts
}

/// What an import in progress has loaded (the tenant's `import_state`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Progress {
    /// Lines loaded: the next part starts at this line.
    pub lines: u64,
    /// The kind of the last line loaded.
    pub phase: Kind,
    pub counts: Counts,
    /// The tenant the export was made of.
    pub source: String,
    pub started: String,
}

/// The tenant's import progress (`None`: no import in progress), and
/// whether it holds anything an import would collide with.
pub(crate) async fn state<D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<Option<(Option<Progress>, bool)>, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT t.import_state, (EXISTS (SELECT 1 FROM users WHERE tenant_id = ?1) \
               OR EXISTS (SELECT 1 FROM groups WHERE tenant_id = ?1) \
               OR EXISTS (SELECT 1 FROM tenant_attributes WHERE tenant_id = ?1) \
               OR EXISTS (SELECT 1 FROM roles WHERE tenant_id = ?1) \
               OR EXISTS (SELECT 1 FROM role_mappings WHERE tenant_id = ?1)) AS filled \
             FROM tenants t WHERE t.id = ?1",
            vec![tenant.into()],
        ))
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let progress = col_str(row, "import_state").and_then(|s| serde_json::from_str(s).ok());
    let filled = row.get("filled").and_then(Value::as_i64).unwrap_or(0) != 0;
    Ok(Some((progress, filled)))
}

/// The statements that move the tenant's import from `from` lines loaded
/// (`None`: no import yet, and the tenant empty) to `to` (`None`: done),
/// each followed by a guard: a batch that finds another state aborts.
pub(crate) fn advance(tenant: &str, from: Option<u64>, to: Option<&Progress>) -> Vec<Stmt> {
    let to = to.and_then(|p| serde_json::to_string(p).ok());
    let stmt = match from {
        None => Stmt::new(
            "UPDATE tenants SET import_state = ?2 WHERE id = ?1 AND import_state IS NULL \
             AND NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM groups WHERE tenant_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM tenant_attributes WHERE tenant_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM roles WHERE tenant_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM role_mappings WHERE tenant_id = ?1)",
            vec![tenant.into(), to.into()],
        ),
        Some(n) => Stmt::new(
            "UPDATE tenants SET import_state = ?2 WHERE id = ?1 \
             AND json_extract(import_state, '$.lines') = ?3",
            vec![
                tenant.into(),
                to.into(),
                i64::try_from(n).unwrap_or(i64::MAX).into(),
            ],
        ),
    };
    vec![stmt, super::guard_previous_changed()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_line_must_have_exactly_its_table_columns() {
        let ok = r#"{"type":"member","row":{"group_id":"g","member_id":"u","member_type":"User"}}"#;
        assert!(matches!(
            parse_line(ok),
            Ok(Line::Row {
                kind: Kind::Member,
                ..
            })
        ));
        let extra = r#"{"type":"member","row":{"group_id":"g","member_id":"u","member_type":"User","x":1}}"#;
        assert!(parse_line(extra)
            .unwrap_err()
            .contains("exactly the columns"));
        let nested =
            r#"{"type":"member","row":{"group_id":{},"member_id":"u","member_type":"User"}}"#;
        assert!(parse_line(nested).unwrap_err().contains("group_id"));
        assert!(parse_line(r#"{"type":"webhook"}"#).is_err());
        assert!(parse_line("not json").unwrap_err().contains("not JSON"));
        let old = r#"{"type":"header","format":"scim-worker-export","version":99}"#;
        assert!(parse_line(old).unwrap_err().contains("version 1"));
    }

    #[test]
    fn rows_load_in_statements_of_at_most_two_hundred() {
        let row = |i: usize| {
            parse_line(&format!(
                r#"{{"type":"member","row":{{"group_id":"g","member_id":"u{i}","member_type":"User"}}}}"#
            ))
            .unwrap()
        };
        let lines: Vec<Line> = (0..450).map(row).collect();
        let stmts = load("acme", &lines);
        assert_eq!(stmts.len(), 3);
        assert!(stmts[0].sql.starts_with("INSERT INTO group_members"));
    }
}
