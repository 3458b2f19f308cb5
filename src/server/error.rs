//! The service's error: a protocol answer (a [`ScimError`], shown to the
//! client as it is), or a fault of the server itself, which the client
//! never sees the detail of: it is logged once, with the request id, and
//! answered with a generic message that carries that id.

use crate::proto::error::ScimError;
use crate::store::{KvError, StoreError, UniqueKey};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Error {
    /// An answer the protocol defines: status, scimType, detail.
    Scim(ScimError),
    /// 405: the endpoint exists but not for this method; `allow` lists
    /// the methods it has (the `Allow` header).
    MethodNotAllowed { allow: &'static str },
    /// 429: the token is over its rate limit.
    TooManyRequests,
    /// The tenant's schema changed between its read and a write made with
    /// it (nothing was written): the operation is made again with the
    /// current schema (see `resources::run`); should that happen twice, the
    /// answer is the 409 of a change made meanwhile.
    SchemaChanged,
    /// A fault: `kind` names where it happened (`storage`, `kv`,
    /// `internal`), `cause` is for the log only.
    Fault { kind: &'static str, cause: String },
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn internal(cause: impl Into<String>) -> Error {
        Error::Fault {
            kind: "internal",
            cause: cause.into(),
        }
    }
}

impl From<ScimError> for Error {
    fn from(e: ScimError) -> Self {
        Error::Scim(e)
    }
}

/// What a broken uniqueness rule means to a client.
pub(crate) fn unique_error(key: UniqueKey) -> ScimError {
    ScimError::uniqueness(match key {
        UniqueKey::UserName => "A user with this userName already exists in this tenant.",
        UniqueKey::GroupDisplayName => {
            "A group with this displayName already exists in this tenant."
        }
        UniqueKey::UniqueValue => {
            "Another user of this tenant already holds this value of a unique custom attribute."
        }
        UniqueKey::TenantId | UniqueKey::Other => "That already exists.",
    })
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique(key) => Error::Scim(unique_error(key)),
            StoreError::MissingMember => Error::Scim(ScimError::invalid_value(
                "A member does not exist in this tenant (members must be existing users or groups).",
            )),
            // A guard that escaped its write: the resource changed meanwhile.
            StoreError::Stale => Error::Scim(changed_meanwhile()),
            StoreError::ProfileChanged => Error::SchemaChanged,
            StoreError::Unavailable(cause) | StoreError::Other(cause) => Error::Fault {
                kind: "storage",
                cause,
            },
        }
    }
}

impl From<KvError> for Error {
    fn from(e: KvError) -> Self {
        Error::Fault {
            kind: "kv",
            cause: e.0,
        }
    }
}

/// 412: the resource changed between a request's read and its write.
pub(crate) fn changed_meanwhile() -> ScimError {
    ScimError::precondition_failed("The resource was changed by another request meanwhile; retry.")
}

#[cfg(test)]
impl Error {
    /// The protocol answer, in tests that expect one.
    pub(crate) fn scim(self) -> ScimError {
        match self {
            Error::Scim(e) => e,
            other => panic!("expected a SCIM error, got {other:?}"),
        }
    }
}
