//! scim-worker: a SCIM 2.0 server (RFC 7643, RFC 7644) for Cloudflare Workers.
//!
//! The crate is layered; dependencies point one way only (`scripts/test`
//! checks it):
//!
//! - [`proto`]: the RFC 7643/7644 core, pure and synchronous;
//! - `store`: all SQL and all key-value access, behind [`SqlExecutor`] and
//!   [`KeyValue`];
//! - `server`: the service ([`Service`]), generic over storage;
//! - `edge` (wasm32 only): workerd's events, D1, KV and the rate limiter
//!   behind the service's traits;
//! - `testing` (cargo feature `test-utils`): the harness tests, fuzzers and
//!   benchmarks share.
//!
//! Everything but `edge` is built and tested natively.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod proto;
pub(crate) mod server;
pub(crate) mod store;

#[cfg(target_arch = "wasm32")]
mod edge;

#[cfg(all(any(test, feature = "test-utils"), not(target_arch = "wasm32")))]
pub mod testing;

pub use server::config::{Config, Limits, OktaClient};
pub use server::http::{Method, Query, Request, Response};
pub use server::limits::{RateLimit, Unlimited};
pub use server::log::{Discard, Log};
pub use server::webhooks::{Fetch, Fetched};
pub use server::{Service, REQUEST_ID_HEADER};
pub use store::shards::{Shard, Shards};
pub use store::{
    KeyValue, KvError, Row, SqlExecutor, SqlValue, Stmt, StoreError, UniqueKey, Written,
};
