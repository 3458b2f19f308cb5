//! Tenants: one row per customer account, with its settings as JSON and
//! the URN of its custom extension when it set one.

use serde::{Deserialize, Serialize};

use super::{
    col_str, col_text, guard_previous_changed, guarded_batch, users, write_one, Row, SqlExecutor,
    Stmt, StoreError,
};

/// What `DELETE /Users/{id}` does in a tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum DeletePolicy {
    /// Keep the user as a deactivated tombstone: SCIM answers 404 for it, the
    /// host application can still read and restore it.
    #[default]
    Retain,
    /// Remove the row.
    Remove,
}

/// What a write does with an attribute the tenant's schema does not define
/// (a misspelling, a field of another product).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum UnknownAttributes {
    /// Ignored, not stored, logged; the request succeeds.
    #[default]
    Ignore,
    /// 400 `invalidValue`, nothing stored.
    Reject,
}

/// What a group write does with members to add that are no users or groups
/// of the tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum UnknownMembers {
    /// The members that exist are added; the others are skipped and logged.
    #[default]
    Skip,
    /// 400 `invalidValue` naming them, nothing stored.
    Reject,
}

/// Which SCIM requests of a tenant the request log keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RequestLog {
    /// Every request but a GET, and every request answered 400 or more.
    #[default]
    #[serde(rename = "writes-and-errors")]
    WritesAndErrors,
    /// Every request.
    #[serde(rename = "all")]
    All,
}

/// How many days something is kept: 1 to 365. Events are kept 30 days
/// and request log entries 7 unless a tenant says otherwise. The retention
/// statements read the same fields from the stored JSON (see
/// [`super::events::purge`] and [`super::requests::purge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub(crate) struct RetentionDays(u16);

impl RetentionDays {
    pub(crate) const EVENTS: u16 = 30;
    pub(crate) const REQUEST_LOG: u16 = 7;
    pub(crate) const MAX: u16 = 365;
}

impl TryFrom<i64> for RetentionDays {
    type Error = String;

    fn try_from(days: i64) -> Result<Self, Self::Error> {
        match u16::try_from(days) {
            Ok(d) if (1..=Self::MAX).contains(&d) => Ok(RetentionDays(d)),
            _ => Err(format!(
                "a retention is 1 to {} days, not {days}",
                Self::MAX
            )),
        }
    }
}

impl From<RetentionDays> for i64 {
    fn from(d: RetentionDays) -> i64 {
        i64::from(d.0)
    }
}

/// A way a tenant's identity provider may authenticate its SCIM requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AuthMode {
    /// A SCIM token: `Authorization: Bearer <token>`, or the token alone.
    Token,
    /// A Basic username and password.
    Basic,
    /// OAuth 2.0 access tokens from the client credentials grant.
    #[serde(rename = "oauth")]
    OAuth,
}

/// The modes a tenant allows: at least one, each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<AuthMode>", into = "Vec<AuthMode>")]
pub(crate) struct AuthModes(Vec<AuthMode>);

impl AuthModes {
    pub(crate) fn allows(&self, mode: AuthMode) -> bool {
        self.0.contains(&mode)
    }

    pub(crate) fn modes(&self) -> &[AuthMode] {
        &self.0
    }
}

impl Default for AuthModes {
    fn default() -> Self {
        AuthModes(vec![AuthMode::Token])
    }
}

impl TryFrom<Vec<AuthMode>> for AuthModes {
    type Error = String;

    fn try_from(mut modes: Vec<AuthMode>) -> Result<Self, Self::Error> {
        if modes.is_empty() {
            return Err("authentication needs at least one mode (token, basic, oauth)".into());
        }
        let mut seen = Vec::new();
        modes.retain(|m| {
            let first = !seen.contains(m);
            seen.push(*m);
            first
        });
        Ok(AuthModes(modes))
    }
}

impl From<AuthModes> for Vec<AuthMode> {
    fn from(m: AuthModes) -> Self {
        m.0
    }
}

/// A tenant's settings. Stored as JSON and read leniently: a field this
/// version does not know is ignored, a missing one takes its default (so
/// that an older or newer version reads the same row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Settings {
    pub delete_policy: DeletePolicy,
    pub unknown_attributes: UnknownAttributes,
    pub unknown_members: UnknownMembers,
    /// How many days events are kept (the feed, webhook redelivery).
    pub event_retention_days: RetentionDays,
    pub request_log: RequestLog,
    pub request_log_retention_days: RetentionDays,
    /// How the tenant's IdP may authenticate (default: SCIM tokens only).
    pub authentication: AuthModes,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            delete_policy: DeletePolicy::default(),
            unknown_attributes: UnknownAttributes::default(),
            unknown_members: UnknownMembers::default(),
            event_retention_days: RetentionDays(RetentionDays::EVENTS),
            request_log: RequestLog::default(),
            request_log_retention_days: RetentionDays(RetentionDays::REQUEST_LOG),
            authentication: AuthModes::default(),
        }
    }
}

/// Settings as the admin API takes them: only the fields given change,
/// and a field it does not know is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SettingsChange {
    pub delete_policy: Option<DeletePolicy>,
    pub unknown_attributes: Option<UnknownAttributes>,
    pub unknown_members: Option<UnknownMembers>,
    pub event_retention_days: Option<RetentionDays>,
    pub request_log: Option<RequestLog>,
    pub request_log_retention_days: Option<RetentionDays>,
    pub authentication: Option<AuthModes>,
}

impl Settings {
    /// These settings with `change` applied.
    pub(crate) fn with(self, change: SettingsChange) -> Settings {
        Settings {
            delete_policy: change.delete_policy.unwrap_or(self.delete_policy),
            unknown_attributes: change.unknown_attributes.unwrap_or(self.unknown_attributes),
            unknown_members: change.unknown_members.unwrap_or(self.unknown_members),
            event_retention_days: change
                .event_retention_days
                .unwrap_or(self.event_retention_days),
            request_log: change.request_log.unwrap_or(self.request_log),
            request_log_retention_days: change
                .request_log_retention_days
                .unwrap_or(self.request_log_retention_days),
            authentication: change.authentication.unwrap_or(self.authentication),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tenant {
    pub id: String,
    pub name: String,
    pub settings: Settings,
    pub created: String,
    pub updated: String,
    /// The URN of its custom extension as set; `None`: the default.
    #[serde(skip)]
    pub extension_urn: Option<String>,
    /// The shard (D1 binding) its data is on.
    pub shard: String,
    /// The region it was placed for (`None`: any).
    pub region: Option<String>,
}

/// The settings stored as `text`. Unknown or malformed settings fall back
/// to the defaults field by field.
pub(crate) fn settings_of(text: Option<&str>) -> Settings {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

fn from_row(row: &Row) -> Result<Tenant, StoreError> {
    let text = |k: &str| col_text(row, "tenants", k);
    Ok(Tenant {
        id: text("id")?,
        name: text("name")?,
        settings: settings_of(col_str(row, "settings")),
        created: text("created_at")?,
        updated: text("updated_at")?,
        extension_urn: col_str(row, "extension_urn").map(str::to_owned),
        shard: col_str(row, "shard")
            .unwrap_or(super::shards::REGISTRY)
            .to_owned(),
        region: col_str(row, "region").map(str::to_owned),
    })
}

const COLUMNS: &str = "id, name, settings, created_at, updated_at, extension_urn, shard, region";

pub(crate) async fn get<D: SqlExecutor>(db: &D, id: &str) -> Result<Option<Tenant>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {COLUMNS} FROM tenants WHERE id = ?"),
            vec![id.into()],
        ))
        .await?;
    rows.first().map(from_row).transpose()
}

/// The tenants whose data is on `db`, the shard named `shard`.
pub(crate) async fn list_on<D: SqlExecutor>(
    db: &D,
    shard: &str,
) -> Result<Vec<Tenant>, StoreError> {
    let rows = db
        .query(Stmt::new(
            format!("SELECT {COLUMNS} FROM tenants WHERE shard = ? ORDER BY id"),
            vec![shard.into()],
        ))
        .await?;
    rows.iter().map(from_row).collect()
}

/// Where a new tenant goes: its shard and the region it was placed for.
pub(crate) struct Place<'a> {
    pub shard: &'a str,
    pub region: Option<&'a str>,
}

/// The statement adding a tenant's row (a taken id is
/// `StoreError::Unique`).
fn insert_stmt(
    id: &str,
    name: &str,
    settings: &Settings,
    now: &str,
    place: &Place<'_>,
) -> Result<Stmt, StoreError> {
    let settings = serde_json::to_string(settings).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(Stmt::new(
        // profile_version starts at the creation time in ms: a tenant made
        // again under the same id never matches a profile cached of the
        // one before it (see the eleventh migration).
        "INSERT INTO tenants (id, name, settings, created_at, updated_at, shard, region, profile_version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
        vec![
            id.into(),
            name.into(),
            settings.into(),
            now.into(),
            now.into(),
            place.shard.into(),
            place.region.map(str::to_owned).into(),
        ],
    ))
}

/// Creates a tenant's row; a taken id is `StoreError::Unique`. On `DB` for
/// a tenant of another shard, this is its registry row (its settings there
/// are never read).
pub(crate) async fn insert<D: SqlExecutor>(
    db: &D,
    id: &str,
    name: &str,
    settings: &Settings,
    now: &str,
    place: &Place<'_>,
) -> Result<(), StoreError> {
    db.batch(vec![insert_stmt(id, name, settings, now, place)?])
        .await
        .map(|_| ())
}

/// Creates a tenant's full row on a shard other than `DB`, after its
/// registry row, in one batch with the removal of anything a failed
/// deletion left there under the same id (the registry row says the id is
/// this tenant's now).
pub(crate) async fn insert_on_shard<D: SqlExecutor>(
    db: &D,
    id: &str,
    name: &str,
    settings: &Settings,
    now: &str,
    place: &Place<'_>,
) -> Result<(), StoreError> {
    let mut stmts = delete_stmts(id);
    stmts.push(insert_stmt(id, name, settings, now, place)?);
    db.batch(stmts).await.map(|_| ())
}

/// Renames a tenant's registry row (on `DB`, for a tenant of another shard).
pub(crate) async fn rename<D: SqlExecutor>(
    db: &D,
    id: &str,
    name: &str,
    now: &str,
) -> Result<bool, StoreError> {
    write_one(
        db,
        Stmt::new(
            "UPDATE tenants SET name = ?, updated_at = ? WHERE id = ?",
            vec![name.into(), now.into(), id.into()],
        ),
    )
    .await
}

/// Updates name and settings. Returns false when there is no such tenant.
pub(crate) async fn update<D: SqlExecutor>(
    db: &D,
    id: &str,
    name: &str,
    settings: &Settings,
    now: &str,
) -> Result<bool, StoreError> {
    let settings = serde_json::to_string(settings).map_err(|e| StoreError::Other(e.to_string()))?;
    write_one(
        db,
        Stmt::new(
            "UPDATE tenants SET name = ?, settings = ?, updated_at = ? WHERE id = ?",
            vec![name.into(), settings.into(), now.into(), id.into()],
        ),
    )
    .await
}

/// Sets the URN of the tenant's extension from `expected` (as stored now;
/// `None`: the default) to `wanted`, and in the same batch moves every
/// user's values (tombstones and hidden values included) from `old_urn`,
/// the URN in force, to `new_urn` (see [`users::rename_schema`]). Returns
/// false, with nothing written, when the stored URN was no longer
/// `expected` (another change landed first) or there is no such tenant.
pub(crate) async fn set_extension_urn<D: SqlExecutor>(
    db: &D,
    id: &str,
    expected: Option<&str>,
    wanted: Option<&str>,
    (old_urn, new_urn): (&str, &str),
    now: &str,
) -> Result<bool, StoreError> {
    let tenant = Stmt::new(
        "UPDATE tenants SET extension_urn = ?, updated_at = ? WHERE id = ? AND extension_urn IS ?",
        vec![wanted.into(), now.into(), id.into(), expected.into()],
    );
    let mut stmts = vec![tenant, guard_previous_changed()];
    // The default set explicitly, say: the users stay as they are.
    if old_urn != new_urn {
        stmts.push(users::rename_schema(id, old_urn, new_urn, now));
    }
    Ok(guarded_batch(db, stmts).await?.is_some())
}

/// A statement for a user's write batch that aborts it
/// (`StoreError::ProfileChanged`) unless the tenant's profile (settings,
/// extension URN, attribute definitions) is still at `version`, the one the
/// write's schema was read at: a write made with a cached or overtaken
/// schema would otherwise check and store values against definitions, or
/// under a URN, no longer in force.
pub(crate) fn profile_guard(id: &str, version: Option<i64>) -> Stmt {
    Stmt::new(
        "INSERT INTO profile_guard (changed) SELECT 1 WHERE NOT EXISTS (\
         SELECT 1 FROM tenants WHERE id = ? AND profile_version = ?)",
        vec![id.into(), version.into()],
    )
}

/// Deletes a tenant and everything it owns. Returns false when there is no
/// such tenant.
pub(crate) async fn delete<D: SqlExecutor>(db: &D, id: &str) -> Result<bool, StoreError> {
    let changes = db.batch(delete_stmts(id)).await?;
    Ok(changes.last().is_some_and(|w| w.changes >= 1))
}

/// The statements deleting a tenant and everything it owns on one database.
fn delete_stmts(id: &str) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "DELETE FROM group_members WHERE tenant_id = ?",
            vec![id.into()],
        ),
        Stmt::new(
            "DELETE FROM user_emails WHERE tenant_id = ?",
            vec![id.into()],
        ),
        Stmt::new("DELETE FROM groups WHERE tenant_id = ?", vec![id.into()]),
        Stmt::new(
            "DELETE FROM request_log WHERE tenant_id = ?",
            vec![id.into()],
        ),
        Stmt::new("DELETE FROM users WHERE tenant_id = ?", vec![id.into()]),
        Stmt::new(
            "DELETE FROM tenant_attributes WHERE tenant_id = ?",
            vec![id.into()],
        ),
        Stmt::new("DELETE FROM tenants WHERE id = ?", vec![id.into()]),
    ]
}

/// A value of the tenant's settings JSON (alias `t`), NULL when the stored
/// settings are not JSON at all (they are read leniently everywhere).
pub(crate) fn tenant_setting(name: &str) -> String {
    format!("(CASE WHEN json_valid(t.settings) THEN json_extract(t.settings, '$.{name}') END)")
}

/// The SQL of a tenant's (alias `t`) retention cut-off for setting
/// `field` (a number of days, `default` when it is not an integer from 1
/// to 365), before the time bound as `?` (a stored timestamp), in the
/// stored timestamp form so that text order is time order.
pub(crate) fn retention_cutoff(field: &str, default: u16) -> String {
    let days = tenant_setting(field);
    let max = RetentionDays::MAX;
    format!(
        "strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-' || (CASE WHEN typeof({days}) = 'integer' \
         AND {days} BETWEEN 1 AND {max} THEN {days} ELSE {default} END) || ' days')"
    )
}
