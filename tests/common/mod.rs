//! A harness for native integration tests: the whole service over real
//! SQLite (same migrations as D1) and an in-memory KV.
#![allow(dead_code)]

use std::path::Path;

use chrono::{DateTime, Utc};
use scim_worker::server::admin::{self, AdminClaims};
use scim_worker::server::auth::{token_hash, token_key, TokenRecord};
use scim_worker::server::config::Config;
use scim_worker::server::http::{Method, Request, Response};
use scim_worker::server::limits::Budget;
use scim_worker::server::service;
use scim_worker::store::memory_kv::MemoryKv;
use scim_worker::store::sqlite::SqliteExecutor;
use scim_worker::store::{KeyValue, Row, Stmt};
use serde_json::Value;

pub struct App {
    pub db: SqliteExecutor,
    pub kv: MemoryKv,
    pub now: DateTime<Utc>,
    pub config: Config,
    pub limiter: Budget,
}

/// The admin secret of test apps (HS256 needs at least 32 bytes).
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789abcdef";

/// A tenant's credentials, as an IdP holds them.
#[derive(Clone)]
pub struct Creds {
    pub tenant: String,
    pub token: String,
}

pub struct Reply {
    pub status: u16,
    pub response: Response,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.header(name)
    }
}

impl App {
    pub fn new() -> App {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        App {
            db: SqliteExecutor::open_in_memory(&dir).expect("migrations apply"),
            kv: MemoryKv::default(),
            now: Utc::now(),
            config: Config {
                admin_jwt_secret: Some(ADMIN_SECRET.into()),
                vendor: "acme-vendor".into(),
                ..Config::default()
            },
            limiter: Budget::new(u64::MAX),
        }
    }

    /// Creates a tenant with one SCIM token.
    pub fn tenant(&self, id: &str) -> Creds {
        let now = "2026-01-01T00:00:00.000Z";
        self.db
            .query_sync(Stmt::new(
                "INSERT OR IGNORE INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                vec![id.into(), id.into(), now.into(), now.into()],
            ))
            .expect("tenant insert");
        let token = format!("token-of-{id}-{}", uuid::Uuid::new_v4());
        let record = TokenRecord {
            tenant: id.into(),
            id: uuid::Uuid::new_v4().to_string(),
            label: "test".into(),
            hash: token_hash(&token),
            created: now.into(),
            expires: None,
            last_used: None,
        };
        pollster::block_on(self.kv.put(
            &token_key(&record.hash),
            &serde_json::to_string(&record).expect("record json"),
            None,
        ))
        .expect("kv put");
        Creds {
            tenant: id.into(),
            token,
        }
    }

    pub fn request(&self, req: Request) -> Reply {
        let response = pollster::block_on(service::handle_with(
            &self.config,
            &self.db,
            &self.kv,
            &self.limiter,
            &req,
            self.now,
        ));
        let body = response.json_body().unwrap_or(Value::Null);
        Reply {
            status: response.status,
            body,
            response,
        }
    }

    /// A SCIM call relative to the tenant's base URL, e.g. `("GET", "/Users")`.
    pub fn call(&self, creds: &Creds, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut req = Request::new(
            Method::parse(method),
            &format!("/scim/v2/{}{path}", creds.tenant),
        )
        .with_header("Authorization", &format!("Bearer {}", creds.token));
        if let Some(b) = body {
            req = req
                .with_header("Content-Type", "application/scim+json")
                .with_body(b.to_string());
        }
        self.request(req)
    }

    /// Creates a user with only a userName; returns its id.
    pub fn named_user(&self, creds: &Creds, user_name: &str) -> String {
        let r = self.call(
            creds,
            "POST",
            "/Users",
            Some(serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
            })),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("created id").to_owned()
    }

    /// Creates a tenant and a SCIM token through the admin API, as an
    /// operator does.
    pub fn provision(&self, id: &str) -> Creds {
        let admin = self.admin_token(None);
        let r = self.admin(
            &admin,
            "POST",
            "/tenants",
            Some(serde_json::json!({"id": id, "name": id})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let t = self.admin(
            &admin,
            "POST",
            &format!("/tenants/{id}/tokens"),
            Some(serde_json::json!({"label": "idp"})),
        );
        assert_eq!(t.status, 201, "{}", t.body);
        Creds {
            tenant: id.into(),
            token: t.body["token"].as_str().expect("issued token").to_owned(),
        }
    }

    /// An admin JWT: `None` for platform scope, `Some(t)` for tenant `t`.
    pub fn admin_token(&self, tenant: Option<&str>) -> String {
        let claims = AdminClaims {
            scope: if tenant.is_some() {
                "tenant"
            } else {
                "platform"
            }
            .into(),
            tenant: tenant.map(Into::into),
        };
        admin::sign(
            claims,
            ADMIN_SECRET,
            jwt_simple::prelude::Duration::from_hours(1),
        )
        .expect("sign")
    }

    /// An admin API call, e.g. `("POST", "/tenants", Some(json))`.
    pub fn admin(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut req = Request::new(Method::parse(method), &format!("/admin/v1{path}"))
            .with_header("Authorization", &format!("Bearer {token}"));
        if let Some(b) = body {
            req = req
                .with_header("Content-Type", "application/json")
                .with_body(b.to_string());
        }
        self.request(req)
    }

    pub fn rows(&self, sql: &str, params: Vec<scim_worker::store::SqlValue>) -> Vec<Row> {
        self.db.query_sync(Stmt::new(sql, params)).expect("query")
    }
}
