//! Storage errors, typed. The driver's message is read here and nowhere
//! else: D1 and SQLite word constraint failures alike, and each constraint
//! the schema declares (see `migrations/`) has a name the service can act
//! on. Everything else keeps the message only for the server's log.

use std::fmt;

/// A uniqueness rule of the schema, by what it protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// `users_by_user_name`: a live user's userName, per tenant, in any case.
    UserName,
    /// `groups_by_display_name`: a group's displayName, per tenant.
    GroupDisplayName,
    /// `unique_guard`: a value of a unique custom attribute (a unique
    /// number, or a definition with `unique`) among live users.
    UniqueValue,
    /// `tenants.id`.
    TenantId,
    /// Any other key (a resource id, a definition's name...).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness rule was broken; nothing was written.
    Unique(UniqueKey),
    /// A `write_guard` aborted the batch: the row it guards was not in the
    /// state the write expected (changed or deleted meanwhile). Nothing was
    /// written. [`super::guarded_batch`] turns it into `Ok(None)`.
    Stale,
    /// A `profile_guard` aborted the batch: the tenant's settings, extension
    /// URN or attribute definitions changed since the schema the write was
    /// made with was read. Nothing was written.
    ProfileChanged,
    /// A group member to add is no live user or group of the tenant (its
    /// type, read inside the statement, was NULL). Nothing was written.
    MissingMember,
    /// The database binding could not be used at all (the edge decides:
    /// an error that is not one of D1's own answers).
    Unavailable(String),
    /// Any other failure, with the driver's message (for the log only).
    Other(String),
}

impl StoreError {
    /// Classifies a driver message (D1's `cause` or rusqlite's text), for
    /// implementations of [`super::SqlExecutor`].
    pub fn from_driver(msg: impl Into<String>) -> Self {
        let msg = msg.into();
        let has = |s: &str| msg.contains(s);
        if has("UNIQUE constraint failed") || has("PRIMARY KEY") {
            StoreError::Unique(if has("users.user_name_key") {
                UniqueKey::UserName
            } else if has("groups.display_name_key") {
                UniqueKey::GroupDisplayName
            } else if has("tenants.id") {
                UniqueKey::TenantId
            } else {
                UniqueKey::Other
            })
        } else if has("constraint failed") && has("write_guard") {
            StoreError::Stale
        } else if has("constraint failed") && has("profile_guard") {
            StoreError::ProfileChanged
        } else if has("constraint failed") && has("unique_guard") {
            StoreError::Unique(UniqueKey::UniqueValue)
        } else if has("constraint failed") && has("member_type") {
            StoreError::MissingMember
        } else {
            StoreError::Other(msg)
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unique(k) => write!(f, "unique constraint {k:?}"),
            StoreError::Stale => f.write_str("write guard: the row changed meanwhile"),
            StoreError::ProfileChanged => {
                f.write_str("profile guard: the tenant's schema changed meanwhile")
            }
            StoreError::MissingMember => f.write_str("a member to add does not exist"),
            StoreError::Unavailable(m) | StoreError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {}

/// A failure of the key-value store (Workers KV): its own error, so that a
/// token lookup that could not be made is never mistaken for a database
/// fault, nor for a missing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvError(pub String);

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KV: {}", self.0)
    }
}

impl std::error::Error for KvError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_constraint_messages_are_named() {
        // The messages SQLite (and D1, which is SQLite) gives for the
        // constraints of migrations/0001_init.sql.
        let cases = [
            (
                "UNIQUE constraint failed: users.tenant_id, users.user_name_key",
                StoreError::Unique(UniqueKey::UserName),
            ),
            (
                "UNIQUE constraint failed: groups.tenant_id, groups.display_name_key",
                StoreError::Unique(UniqueKey::GroupDisplayName),
            ),
            (
                "UNIQUE constraint failed: tenants.id",
                StoreError::Unique(UniqueKey::TenantId),
            ),
            ("CHECK constraint failed: write_guard", StoreError::Stale),
            (
                "CHECK constraint failed: unique_guard",
                StoreError::Unique(UniqueKey::UniqueValue),
            ),
            (
                "NOT NULL constraint failed: group_members.member_type",
                StoreError::MissingMember,
            ),
        ];
        for (msg, want) in cases {
            assert_eq!(StoreError::from_driver(msg), want, "{msg}");
            // D1 appends its own code to SQLite's message.
            let d1 = format!("{msg}: SQLITE_CONSTRAINT");
            assert_eq!(StoreError::from_driver(d1), want, "{msg} (D1)");
        }
        assert!(matches!(
            StoreError::from_driver("no such table: users"),
            StoreError::Other(_)
        ));
    }
}
