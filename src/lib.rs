//! scim-worker: a SCIM 2.0 server (RFC 7643, RFC 7644) for Cloudflare Workers.
//!
//! Everything but `edge` is pure Rust, built and tested natively; `edge` is the
//! wasm32-only glue between workerd and the service.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod admin;
pub mod auth;
pub mod bulk;
pub mod config;
pub mod discovery;
pub mod endpoint;
pub mod error;
pub mod extension;
pub mod filter;
pub mod groups;
pub mod http;
pub mod limits;
pub mod list;
pub mod openapi;
pub mod patch;
pub mod path;
pub mod query;
pub mod resource;
pub mod schema;
pub mod service;
pub mod store;
pub mod tokens;
pub mod users;

#[cfg(target_arch = "wasm32")]
mod edge;
