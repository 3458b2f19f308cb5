//! The RFC 7643/7644 core: pure, synchronous, no I/O and no SQL.

pub mod attr;
pub(crate) mod dialect;
pub mod error;
pub mod filter;
#[cfg(test)]
mod fixtures;
pub(crate) mod json;
pub(crate) mod messages;
pub mod normalize;
pub mod patch;
pub mod project;
pub mod schema;
