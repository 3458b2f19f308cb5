//! scim-worker: a SCIM 2.0 server (RFC 7643, RFC 7644) for Cloudflare Workers.
//!
//! Everything but `edge` is pure Rust, built and tested natively; `edge` is the
//! wasm32-only glue between workerd and the service.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod proto;
pub mod server;
pub mod store;

#[cfg(target_arch = "wasm32")]
mod edge;
