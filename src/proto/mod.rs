//! The RFC 7643/7644 core: pure, synchronous, no I/O and no SQL. It imports
//! nothing of this crate outside `crate::proto`.
//!
//! From the bottom up:
//! - `error`: the one protocol error, `ScimError` (RFC 7644 §3.12).
//! - `json`: the one case-insensitive JSON member lookup (RFC 7643 §2.1).
//! - `attr`: attribute paths and names, the URN-prefix split and the
//!   `attributes`/`excludedAttributes` lists (RFC 7643 §2.1, RFC 7644 §3.10,
//!   §3.4.2.5).
//! - `schema`: schemas and resource types as data, and a resource's layout
//!   by schema (RFC 7643 §2, §3, §6, §7).
//! - `dialect`: every way Okta and Microsoft Entra ID write a value otherwise
//!   than RFC 7643, used by both `normalize` and `patch`.
//! - `filter`: the filter grammar, its canonical printer and in-memory
//!   evaluation (RFC 7644 §3.4.2.2).
//! - `normalize`: the write path, a POST/PUT body to the stored form.
//! - `project`: the read path, `attributes`, `excludedAttributes` and
//!   `returned` (RFC 7644 §3.4.2.5, RFC 7643 §2.2).
//! - `patch`: PatchOp parsing and application (RFC 7644 §3.5.2).
//! - `messages`: the SearchRequest, BulkRequest, ListResponse and
//!   BulkResponse envelopes (RFC 7644 §3.4.2, §3.4.3, §3.7).
//! - `urn`: URN syntax (RFC 8141) and the protocol's own schema URNs, which
//!   a tenant's extension URN may neither take nor overlap.

pub(crate) mod attr;
pub(crate) mod dialect;
pub(crate) mod error;
pub(crate) mod filter;
#[cfg(test)]
mod fixtures;
pub(crate) mod json;
pub mod lenience;
pub(crate) mod messages;
pub(crate) mod normalize;
pub mod patch;
pub(crate) mod project;
pub(crate) mod schema;
pub(crate) mod urn;
