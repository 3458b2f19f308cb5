//! `tenant_attributes`: each tenant's custom attribute definitions, one row
//! per attribute holding its JSON definition, read with what else a request
//! needs of its tenant (the [`TenantProfile`]); and the statements that
//! check custom attribute values against the stored users.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::tenants::{settings_of, Settings};
use super::{col_str, write_one, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// What a request needs of its tenant's row along with its definitions:
/// the URN of its extension as set (`None`: the default) and its settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TenantProfile<T> {
    pub urn: Option<String>,
    pub settings: Settings,
    pub defs: Vec<T>,
    /// The tenant's `profile_version` (see the eleventh migration); `None`
    /// when there is no such tenant.
    pub version: Option<i64>,
    /// Whether it has role rules or a default role (else a new user's
    /// roles need no computing).
    pub roles_configured: bool,
}

/// The statement that reads a tenant's profile: one row per definition, in
/// the order they were created, each with the tenant row's extension URN
/// and settings (one row with a NULL definition when there are none, no
/// row when there is no such tenant); to send along with others in one
/// round trip.
pub(crate) fn load_stmt(tenant: &str) -> Stmt {
    Stmt::new(
        "SELECT t.extension_urn AS urn, t.settings AS settings, t.profile_version AS pv, \
         (t.default_role IS NOT NULL OR EXISTS (SELECT 1 FROM role_mappings m WHERE m.tenant_id = t.id)) AS rc, \
         a.definition AS definition \
         FROM tenants t LEFT JOIN tenant_attributes a ON a.tenant_id = t.id \
         WHERE t.id = ? ORDER BY a.created_at, a.name",
        vec![tenant.into()],
    )
}

impl<T: DeserializeOwned> TenantProfile<T> {
    /// The profile in the rows of a [`load_stmt`]; a row that holds no
    /// definition of this shape adds none. No rows: the defaults.
    pub(crate) fn from_rows(rows: &[Row]) -> Self {
        let first = rows.first();
        TenantProfile {
            urn: first.and_then(|r| col_str(r, "urn")).map(str::to_owned),
            settings: settings_of(first.and_then(|r| col_str(r, "settings"))),
            defs: rows
                .iter()
                .filter_map(|r| serde_json::from_str(col_str(r, "definition")?).ok())
                .collect(),
            version: first.and_then(|r| r.get("pv")).and_then(Value::as_i64),
            // Unknown (no row): as if configured, which is always correct.
            roles_configured: first
                .and_then(|r| r.get("rc"))
                .and_then(Value::as_i64)
                .is_none_or(|n| n != 0),
        }
    }
}

/// A tenant's profile (see [`load_stmt`]).
pub(crate) async fn load<T: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    tenant: &str,
) -> Result<TenantProfile<T>, StoreError> {
    Ok(TenantProfile::from_rows(
        &db.query(load_stmt(tenant)).await?,
    ))
}

/// Creates or replaces the definition `name`. With `unique`, the same
/// batch fails (`StoreError::Unique(UniqueValue)`, nothing written) when
/// two live users already share a value of it.
pub(crate) async fn put<T: Serialize, D: SqlExecutor>(
    db: &D,
    tenant: &str,
    name: &str,
    definition: &T,
    unique: Option<&UniqueAttr<'_>>,
    now: &str,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(definition).map_err(|e| StoreError::Other(e.to_string()))?;
    let mut stmts = vec![Stmt::new(
        "INSERT INTO tenant_attributes (tenant_id, name, definition, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition",
        vec![tenant.into(), name.into(), json.into(), now.into()],
    )];
    stmts.extend(unique.map(|u| duplicates_guard(tenant, u)));
    db.batch(stmts).await.map(|_| ())
}

/// Removes the definition `name`; false when there was none.
pub(crate) async fn remove<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    name: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "DELETE FROM tenant_attributes WHERE tenant_id = ? AND name = ?",
            vec![tenant.into(), name.into()],
        ),
    )
    .await
}

/// Whether any user of the tenant (tombstones included) holds a value at
/// `json_path` of its document.
pub(crate) async fn has_values<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    json_path: &str,
) -> Result<bool, StoreError> {
    let rows = db
        .query(Stmt::new(
            "SELECT 1 AS x FROM users WHERE tenant_id = ? AND json_type(doc, ?) IS NOT NULL LIMIT 1",
            vec![tenant.into(), json_path.into()],
        ))
        .await?;
    Ok(!rows.is_empty())
}

/// How the values of a unique custom attribute are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    /// As stored: numbers numerically, caseExact strings, dates.
    Exact,
    /// Strings in any letter case.
    CaseInsensitive,
    /// RFC 3339 dateTimes by the instant they name (`…Z` and `…+01:00`
    /// alike).
    Instant,
    /// `{"amount", "currency"}`: the same amount in the same currency.
    Currency,
}

/// A unique custom attribute: where its value is in a stored document, and
/// how values compare.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UniqueAttr<'a> {
    /// The JSON path of its value, e.g. `$."urn:…:User"."badge"`.
    pub path: &'a str,
    pub compare: Compare,
}

/// The dateTime form SQLite's `strftime` gives, UTC with milliseconds: the
/// same text `store::timestamp` writes for the same instant.
const INSTANT: &str = "'%Y-%m-%dT%H:%M:%fZ'";

impl UniqueAttr<'_> {
    /// The SQL expressions (over column `doc`) that two users' values must
    /// all be equal in to clash, with their parameters. For
    /// `CaseInsensitive`, SQLite's `lower` folds ASCII letters only, so a
    /// value is lowercased with ASCII rules on the other side too (see
    /// [`Self::operands`]), as the filter code does for columns without a
    /// folded copy.
    fn keys(&self) -> Vec<(String, Vec<SqlValue>)> {
        let at = |p: String| vec![SqlValue::Text(p)];
        match self.compare {
            Compare::Exact => vec![("json_extract(doc, ?)".into(), at(self.path.into()))],
            Compare::CaseInsensitive => {
                vec![("lower(json_extract(doc, ?))".into(), at(self.path.into()))]
            }
            Compare::Instant => vec![(
                format!("strftime({INSTANT}, json_extract(doc, ?))"),
                at(self.path.into()),
            )],
            Compare::Currency => ["amount", "currency"]
                .iter()
                .map(|sub| {
                    let p = format!("{}.\"{sub}\"", self.path);
                    ("json_extract(doc, ?)".to_owned(), at(p))
                })
                .collect(),
        }
    }

    /// The SQL operands a value compares as, one per key (see
    /// [`Self::keys`]); `None` when the value cannot clash (absent, null,
    /// or not of the attribute's type, which validation refuses anyway).
    fn operands(&self, value: &Value) -> Option<Vec<(String, SqlValue)>> {
        let scalar = |v: &Value| match v {
            Value::String(s) => Some(SqlValue::Text(s.clone())),
            Value::Number(n) => n
                .as_i64()
                .map(SqlValue::Int)
                .or_else(|| n.as_f64().map(SqlValue::Real)),
            _ => None,
        };
        let plain = |v| ("?".to_owned(), v);
        Some(match self.compare {
            Compare::Exact => vec![plain(scalar(value)?)],
            Compare::CaseInsensitive => {
                let s = value.as_str()?.to_ascii_lowercase();
                vec![plain(SqlValue::Text(s))]
            }
            Compare::Instant => {
                let s = value.as_str()?.to_owned();
                vec![(format!("strftime({INSTANT}, ?)"), SqlValue::Text(s))]
            }
            Compare::Currency => {
                let amount = scalar(value.get("amount")?)?;
                let code = scalar(value.get("currency")?)?;
                vec![plain(amount), plain(code)]
            }
        })
    }
}

/// A statement for a user's write batch that fails it (and so rolls the
/// write back: `StoreError::Unique(UniqueValue)`) when another live user of
/// the tenant holds `value` of `attr`. `None` when `value` cannot clash.
pub(crate) fn unique_guard(
    tenant: &str,
    own_id: &str,
    attr: &UniqueAttr<'_>,
    value: &Value,
) -> Option<Stmt> {
    let operands = attr.operands(value)?;
    let mut sql = String::from(
        "INSERT INTO unique_guard (duplicate) SELECT 1 WHERE EXISTS (\
         SELECT 1 FROM users WHERE tenant_id = ? AND id <> ? AND deleted_at IS NULL",
    );
    let mut params: Vec<SqlValue> = vec![tenant.into(), own_id.into()];
    for ((key, key_params), (operand, value)) in attr.keys().into_iter().zip(operands) {
        sql.push_str(&format!(" AND {key} = {operand}"));
        params.extend(key_params);
        params.push(value);
    }
    sql.push(')');
    Some(Stmt::new(sql, params))
}

/// A statement that fails its batch (`StoreError::Unique(UniqueValue)`)
/// when two live users of the tenant share a value of `attr`.
fn duplicates_guard(tenant: &str, attr: &UniqueAttr<'_>) -> Stmt {
    let keys = attr.keys();
    let present: Vec<String> = keys
        .iter()
        .map(|(e, _)| format!("{e} IS NOT NULL"))
        .collect();
    let group: Vec<&str> = keys.iter().map(|(e, _)| e.as_str()).collect();
    // The keys are named twice (WHERE, GROUP BY): their parameters too.
    let mut params = vec![SqlValue::from(tenant)];
    for (_, p) in keys.iter().chain(keys.iter()) {
        params.extend(p.iter().cloned());
    }
    Stmt::new(
        format!(
            "INSERT INTO unique_guard (duplicate) SELECT 1 WHERE EXISTS (\
             SELECT 1 FROM users WHERE tenant_id = ? AND deleted_at IS NULL AND {} \
             GROUP BY {} HAVING count(*) > 1)",
            present.join(" AND "),
            group.join(", ")
        ),
        params,
    )
}
