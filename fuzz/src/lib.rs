//! Shared harness of the fuzz targets: the whole service over in-memory
//! SQLite (the same migrations as D1) and an in-memory KV, with one tenant
//! holding a realistic set of users and groups, a snapshot of the stored
//! state, and the checks every target makes.
//!
//! The state is built once per process (`App::get`). Each input must leave
//! it as it found it: a request the service rejects must not change a single
//! byte of any table (checked), and after one it accepts the harness puts
//! the snapshot back (`App::after`).

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use scim_worker::server::auth::{token_hash, token_key, TokenRecord};
use scim_worker::server::config::Config;
use scim_worker::server::extension::{self, AttributeDef};
use scim_worker::server::http::{Method, Request, Response};
use scim_worker::server::limits::Budget;
use scim_worker::proto::normalize::normalize;
use scim_worker::proto::schema::{group_resource_type, user_resource_type, ResourceType};
use scim_worker::server::service;
use scim_worker::store::groups::{self as group_store, Membership, NewMember};
use scim_worker::store::memory_kv::MemoryKv;
use scim_worker::store::sqlite::SqliteExecutor;
use scim_worker::store::users as user_store;
use scim_worker::store::{KeyValue, Row, SqlValue, Stmt};
use serde_json::{json, Value};

pub const TENANT: &str = "acme";
/// A second tenant whose rows reuse the first tenant's ids: a request to
/// `acme` must never touch them.
pub const OTHER_TENANT: &str = "other";
pub const VENDOR: &str = "acme-vendor";
pub const TOKEN: &str = "fuzz-token-of-acme";
pub const OTHER_TOKEN: &str = "fuzz-token-of-other";

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The custom extension of tenant `acme`.
pub const CUSTOM: &str = "urn:acme-vendor:scim:schemas:extension:acme:2:User";

/// The user PATCH and PUT work on (the RFC 7644 example id).
pub const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";
/// Its manager, also a member of the groups.
pub const MANAGER_ID: &str = "902c246b-6245-4190-8e05-00816be7344a";
/// A retained tombstone (deleted, still in the table).
pub const DELETED_ID: &str = "6c5bb468-14b2-4183-baf2-06d523e03bd3";
/// The group PATCH and PUT work on.
pub const GROUP_ID: &str = "e9e30dba-f08f-4109-8486-d5c6a331660a";
/// A group nested in `GROUP_ID`.
pub const SUBGROUP_ID: &str = "fc348aa8-3835-40eb-a20b-c726e15c55b5";
/// An id nothing has.
pub const MISSING_ID: &str = "00000000-0000-4000-8000-000000000000";

/// The tables whose rows make up the stored state, each with an order that
/// does not depend on rowids (which a restore may renumber).
const TABLES: &[(&str, &str)] = &[
    ("tenants", "id"),
    ("tenant_attributes", "tenant_id, name"),
    ("users", "seq"),
    (
        "user_emails",
        "tenant_id, user_id, value_key, type, is_primary",
    ),
    ("groups", "seq"),
    ("group_members", "tenant_id, group_id, member_id"),
    ("write_guard", "stale"),
    ("unique_guard", "duplicate"),
];

/// The tables a SCIM request may write, children after parents.
const RESTORED: &[&str] = &["users", "user_emails", "groups", "group_members"];

pub struct App {
    pub db: SqliteExecutor,
    pub kv: MemoryKv,
    pub config: Config,
    pub limiter: Budget,
    pub now: DateTime<Utc>,
    /// Every row of every table, as it must be before each input.
    pub baseline: String,
    pub user_rt: ResourceType,
    pub group_rt: ResourceType,
}

static APP: OnceLock<App> = OnceLock::new();

/// The reply to one request.
pub struct Reply {
    pub status: u16,
    pub response: Response,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.response.body).into_owned()
    }
}

fn custom_defs() -> Vec<AttributeDef> {
    let defs = json!([
        {"name": "tier", "type": "dropdown", "values": ["Gold", "Silver"]},
        {"name": "badge", "type": "uniqueNumber"},
        {"name": "hired", "type": "date"},
        {"name": "salary", "type": "currency"},
        {"name": "buddy", "type": "userReference"},
        {"name": "langs", "type": "string", "multiValued": true},
        {"name": "score", "type": "number"},
        {"name": "seniority", "type": "integer", "required": false},
        {"name": "remote", "type": "boolean"},
        {"name": "badgeCode", "type": "string", "caseExact": true},
        // Removed again below: its values become hidden.
        {"name": "legacy", "type": "string"},
    ]);
    serde_json::from_value(defs).unwrap()
}

/// The seeded users of `acme`: (id, resource as a client would POST it).
pub fn seed_users() -> Vec<(&'static str, Value)> {
    vec![
        (
            MANAGER_ID,
            json!({
                "schemas": [USER_SCHEMA, CUSTOM],
                "userName": "jsmith@example.com",
                "displayName": "John Smith",
                "emails": [{"value": "jsmith@example.com", "type": "work", "primary": true}],
                CUSTOM: {"badge": 8, "tier": "Silver"},
            }),
        ),
        (
            USER_ID,
            json!({
                "schemas": [USER_SCHEMA, ENTERPRISE, CUSTOM],
                "externalId": "bjensen-ext",
                "userName": "bjensen@example.com",
                "name": {
                    "formatted": "Ms. Barbara J Jensen, III",
                    "familyName": "Jensen",
                    "givenName": "Barbara",
                    "middleName": "Jane",
                    "honorificPrefix": "Ms.",
                    "honorificSuffix": "III"
                },
                "displayName": "Babs Jensen",
                "nickName": "Babs",
                "profileUrl": "https://login.example.com/bjensen",
                "title": "Tour Guide",
                "userType": "Employee",
                "preferredLanguage": "en-US",
                "locale": "en-US",
                "timezone": "America/Los_Angeles",
                "active": true,
                "emails": [
                    {"value": "bjensen@example.com", "type": "work", "primary": true},
                    {"value": "babs@jensen.org", "type": "home"}
                ],
                "phoneNumbers": [
                    {"value": "555-555-5555", "type": "work"},
                    {"value": "555-555-4444", "type": "mobile"}
                ],
                "ims": [{"value": "someaimhandle", "type": "aim"}],
                "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
                "addresses": [
                    {
                        "type": "work",
                        "streetAddress": "100 Universal City Plaza",
                        "locality": "Hollywood",
                        "region": "CA",
                        "postalCode": "91608",
                        "country": "USA",
                        "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                        "primary": true
                    },
                    {
                        "type": "home",
                        "streetAddress": "456 Hollywood Blvd",
                        "locality": "Hollywood",
                        "region": "CA",
                        "postalCode": "91608",
                        "country": "USA"
                    }
                ],
                "entitlements": [{"value": "Employee"}],
                "roles": [{"value": "admin", "primary": true}, {"value": "dev"}],
                "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
                ENTERPRISE: {
                    "employeeNumber": "701984",
                    "costCenter": "4130",
                    "organization": "Universal Studios",
                    "division": "Theme Park",
                    "department": "Tour Operations",
                    "manager": {"value": MANAGER_ID}
                },
                CUSTOM: {
                    "tier": "Gold",
                    "badge": 7,
                    "hired": "2020-01-31",
                    "salary": {"amount": 1234.5, "currency": "EUR"},
                    "buddy": {"value": MANAGER_ID},
                    "langs": ["en", "fr"],
                    "score": 4.5,
                    "seniority": 3,
                    "remote": false,
                    "badgeCode": "AbC",
                    "legacy": "kept-hidden"
                }
            }),
        ),
        (
            DELETED_ID,
            json!({"schemas": [USER_SCHEMA], "userName": "gone@example.com"}),
        ),
    ]
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

impl App {
    /// The process-wide app, built on first use.
    pub fn get() -> &'static App {
        APP.get_or_init(App::build)
    }

    fn build() -> App {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let db = SqliteExecutor::open_in_memory(&dir).expect("migrations apply");
        let kv = MemoryKv::default();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let stamp = "2026-01-01T00:00:00.000Z";
        for (tenant, token) in [(TENANT, TOKEN), (OTHER_TENANT, OTHER_TOKEN)] {
            db.query_sync(Stmt::new(
                "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                vec![tenant.into(), tenant.into(), stamp.into(), stamp.into()],
            ))
            .unwrap();
            let record = TokenRecord {
                tenant: tenant.into(),
                id: format!("token-id-{tenant}"),
                label: "fuzz".into(),
                hash: token_hash(token),
                created: stamp.into(),
                expires: None,
                last_used: None,
            };
            block(kv.put(
                &token_key(&record.hash),
                &serde_json::to_string(&record).unwrap(),
                None,
            ))
            .unwrap();
        }
        // Tenant `acme` retains deleted users as tombstones.
        db.query_sync(Stmt::new(
            "UPDATE tenants SET settings = ? WHERE id = ?",
            vec![r#"{"deletePolicy":"retain"}"#.into(), TENANT.into()],
        ))
        .unwrap();
        let defs = custom_defs();
        for d in &defs {
            block(extension::put(&db, VENDOR, TENANT, d, stamp)).unwrap();
        }
        let ext = extension::schema(VENDOR, TENANT, &defs);
        let full_rt = user_resource_type(ext.into_iter().collect());
        for tenant in [TENANT, OTHER_TENANT] {
            for (id, input) in seed_users() {
                let rt = if tenant == TENANT {
                    full_rt.clone()
                } else {
                    user_resource_type(Vec::new())
                };
                let input = if tenant == TENANT {
                    input
                } else {
                    json!({"schemas": [USER_SCHEMA], "userName": input["userName"]})
                };
                let doc = normalize(&rt, &input, None)
                    .unwrap_or_else(|e| panic!("seed user {id}: {}", e.detail));
                block(user_store::insert(&db, tenant, id, stamp, &doc, Vec::new())).unwrap();
            }
            assert!(block(user_store::delete(
                &db, tenant, DELETED_ID, true, stamp, None
            ))
            .unwrap());
        }
        // `legacy` now has a value but no definition: a hidden value that
        // every write must keep.
        assert!(block(extension::remove(&db, TENANT, "legacy")).unwrap());
        let group_rt = group_resource_type();
        let groups = [
            (
                SUBGROUP_ID,
                json!({"schemas": [GROUP_SCHEMA], "displayName": "Employees"}),
                vec![(USER_ID, "User")],
            ),
            (
                GROUP_ID,
                json!({"schemas": [GROUP_SCHEMA], "displayName": "Tour Guides", "externalId": "tg-ext"}),
                vec![
                    (USER_ID, "User"),
                    (MANAGER_ID, "User"),
                    (SUBGROUP_ID, "Group"),
                ],
            ),
        ];
        for tenant in [TENANT, OTHER_TENANT] {
            for (id, input, members) in &groups {
                let doc = normalize(&group_rt, input, None).unwrap();
                let membership = Membership {
                    add: members
                        .iter()
                        .map(|(m, k)| NewMember {
                            id: (*m).into(),
                            kind: Some((*k).into()),
                        })
                        .collect(),
                    ..Membership::default()
                };
                block(group_store::insert(
                    &db,
                    tenant,
                    id,
                    stamp,
                    &doc,
                    &membership,
                ))
                .unwrap();
            }
        }
        // The snapshot a successful request is rolled back to.
        for t in RESTORED {
            db.query_sync(Stmt::new(
                format!("CREATE TEMP TABLE snap_{t} AS SELECT * FROM main.{t}"),
                Vec::new(),
            ))
            .unwrap();
        }
        let user_rt = user_resource_type(
            extension::schema(VENDOR, TENANT, &custom_defs()[..10])
                .into_iter()
                .collect(),
        );
        let mut app = App {
            db,
            kv,
            config: Config {
                admin_jwt_secret: Some("fuzz-admin-secret-0123456789abcdef".into()),
                vendor: VENDOR.into(),
                ..Config::default()
            },
            limiter: Budget::new(u64::MAX),
            now,
            baseline: String::new(),
            user_rt,
            group_rt,
        };
        app.baseline = app.dump();
        // The seeded resources must read back.
        for path in [format!("/Users/{USER_ID}"), format!("/Groups/{GROUP_ID}")] {
            let r = app.call(Method::Get, &path, None, &[]);
            assert_eq!(r.status, 200, "GET {path}: {}", r.body_text());
        }
        app
    }

    pub fn rows(&self, sql: &str, params: Vec<SqlValue>) -> Vec<Row> {
        self.db.query_sync(Stmt::new(sql, params)).unwrap()
    }

    /// Every row of every table, in a fixed order, as text.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for (table, order) in TABLES {
            out.push_str(table);
            out.push('\n');
            for row in self.rows(
                &format!("SELECT * FROM main.{table} ORDER BY {order}"),
                Vec::new(),
            ) {
                out.push_str(&Value::Object(row).to_string());
                out.push('\n');
            }
        }
        out
    }

    /// Puts the snapshot back.
    pub fn restore(&self) {
        for t in RESTORED.iter().rev() {
            self.rows(&format!("DELETE FROM main.{t}"), Vec::new());
        }
        for t in RESTORED {
            self.rows(
                &format!("INSERT INTO main.{t} SELECT * FROM temp.snap_{t}"),
                Vec::new(),
            );
        }
    }

    /// Serves one request.
    pub fn request(&self, req: &Request) -> Reply {
        let response = block(service::handle_with(
            &self.config,
            &self.db,
            &self.kv,
            &self.limiter,
            req,
            self.now,
        ));
        Reply {
            status: response.status,
            response,
        }
    }

    /// A SCIM request of tenant `acme`, `path` relative to its base URL.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::new(method, &format!("/scim/v2/{TENANT}{path}"))
            .with_header("Authorization", &format!("Bearer {TOKEN}"));
        if let Some(b) = body {
            req = req
                .with_header("Content-Type", "application/scim+json")
                .with_body(b.to_vec());
        }
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        self.request(&req)
    }

    /// The checks after a write: no 5xx; a rejected write changed nothing;
    /// an accepted one left a readable resource (at `readable`, if given),
    /// and is then undone.
    pub fn after(&self, what: &str, input: &[u8], reply: &Reply, readable: Option<&str>) {
        let show = || String::from_utf8_lossy(input).into_owned();
        if std::env::var_os("SCIM_FUZZ_VERBOSE").is_some() {
            eprintln!("{what} -> {}: {}", reply.status, reply.body_text());
        }
        assert!(
            reply.status < 500,
            "{what} answered {}: {}\ninput: {}",
            reply.status,
            reply.body_text(),
            show()
        );
        if reply.ok() {
            if let Some(path) = readable {
                let r = self.call(Method::Get, path, None, &[]);
                assert_eq!(
                    r.status,
                    200,
                    "after {what} answered {}, GET {path} answered {}: {}\ninput: {}",
                    reply.status,
                    r.status,
                    r.body_text(),
                    show()
                );
            }
            self.restore();
            let now = self.dump();
            if now != self.baseline {
                panic!(
                    "restoring the snapshot failed:\n{}",
                    diff(&self.baseline, &now)
                );
            }
        } else {
            let now = self.dump();
            if now != self.baseline {
                panic!(
                    "{what} was rejected ({}: {}) but changed the stored state:\n{}\ninput: {}",
                    reply.status,
                    reply.body_text(),
                    diff(&self.baseline, &now),
                    show()
                );
            }
        }
    }
}

/// The lines of `a` and `b` that differ.
fn diff(a: &str, b: &str) -> String {
    let mut out = String::new();
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    for l in &la {
        if !lb.contains(l) {
            out.push_str(&format!("- {l}\n"));
        }
    }
    for l in &lb {
        if !la.contains(l) {
            out.push_str(&format!("+ {l}\n"));
        }
    }
    out
}

/// The user resource type of tenant `acme` (core, Enterprise, custom).
pub fn user_rt() -> &'static ResourceType {
    &App::get().user_rt
}

/// The path (relative to the tenant's base URL) of a 201's `Location`.
pub fn location_path(reply: &Reply) -> Option<String> {
    let loc = reply.response.header("location")?;
    let marker = format!("/scim/v2/{TENANT}");
    loc.find(&marker)
        .map(|i| loc[i + marker.len()..].to_owned())
}
