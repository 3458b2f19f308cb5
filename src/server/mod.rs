//! The service: routing, authentication and the resource endpoints, generic
//! over storage.

pub mod admin;
pub mod auth;
pub mod bulk;
pub mod config;
pub mod discovery;
pub mod endpoint;
pub mod extension;
pub mod groups;
pub mod http;
pub mod limits;
pub mod list;
pub mod openapi;
pub mod service;
pub mod tokens;
pub mod users;
