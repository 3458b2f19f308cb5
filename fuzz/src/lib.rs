//! Shared harness of the fuzz targets: the whole service over in-memory
//! SQLite (the same migrations as D1) and an in-memory KV, with one tenant
//! holding a realistic set of users and groups, a snapshot of the stored
//! state, and the checks every target makes.
//!
//! The state is built once per process (`App::get`). Each input must leave
//! it as it found it: a request the service rejects must not change a single
//! byte of any table (checked), and after one it accepts the harness puts
//! the snapshot back (`App::after`).

use std::ops::Deref;
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use scim_worker::testing::proto::{group_resource_type, ResourceType};
use scim_worker::testing::{self, AttributeDef};
use scim_worker::{Method, Request, Response};
use serde_json::{json, Value};

pub const TENANT: &str = "acme";
/// A second tenant whose rows reuse the first tenant's ids: a request to
/// `acme` must never touch them.
pub const OTHER_TENANT: &str = "other";
pub const VENDOR: &str = testing::VENDOR;
pub const TOKEN: &str = "fuzz-token-of-acme";
pub const OTHER_TOKEN: &str = "fuzz-token-of-other";

pub use scim_worker::testing::urn::{
    ENTERPRISE, GROUP as GROUP_SCHEMA, PATCH_OP, USER as USER_SCHEMA,
};
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
    ("events", "tenant_id, sequence"),
    ("webhooks", "tenant_id, id"),
    ("deliveries", "tenant_id, id"),
    ("write_guard", "stale"),
    ("unique_guard", "duplicate"),
];

/// The tables a SCIM request may write, children after parents (and the
/// tenants' event counter, restored on its own).
const RESTORED: &[&str] = &["users", "user_emails", "groups", "group_members", "events"];

pub struct App {
    /// The service over SQLite, shared with the native tests.
    pub app: testing::App,
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

impl Deref for App {
    type Target = testing::App;

    fn deref(&self) -> &testing::App {
        &self.app
    }
}

impl App {
    /// The process-wide app, built on first use.
    pub fn get() -> &'static App {
        APP.get_or_init(App::build)
    }

    fn build() -> App {
        let mut app = testing::App::new();
        app.now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        app.config.admin_jwt_secret = Some("fuzz-admin-secret-0123456789abcdef".into());
        app.tenant_with_token(TENANT, TOKEN);
        app.tenant_with_token(OTHER_TENANT, OTHER_TOKEN);
        // Tenant `acme` retains deleted users as tombstones.
        app.rows(
            "UPDATE tenants SET settings = ? WHERE id = ?",
            vec![r#"{"deletePolicy":"retain"}"#.into(), TENANT.into()],
        );
        for d in &custom_defs() {
            app.define(TENANT, d);
        }
        for tenant in [TENANT, OTHER_TENANT] {
            for (id, input) in seed_users() {
                let input = if tenant == TENANT {
                    input
                } else {
                    json!({"schemas": [USER_SCHEMA], "userName": input["userName"]})
                };
                app.seed_user(tenant, id, &input);
            }
            app.tombstone_user(tenant, DELETED_ID);
        }
        // `legacy` now has a value but no definition: a hidden value that
        // every write must keep.
        app.undefine(TENANT, "legacy");
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
                app.seed_group(tenant, id, input, members);
            }
        }
        // The snapshot a successful request is rolled back to.
        for t in RESTORED {
            app.rows(
                &format!("CREATE TEMP TABLE snap_{t} AS SELECT * FROM main.{t}"),
                Vec::new(),
            );
        }
        app.rows(
            "CREATE TEMP TABLE snap_event_seq AS SELECT id, event_seq FROM main.tenants",
            Vec::new(),
        );
        let user_rt = app.user_type(TENANT);
        let mut app = App {
            app,
            baseline: String::new(),
            user_rt,
            group_rt: group_resource_type(),
        };
        app.baseline = app.dump();
        // The seeded resources must read back.
        for path in [format!("/Users/{USER_ID}"), format!("/Groups/{GROUP_ID}")] {
            let r = app.call(Method::Get, &path, None, &[]);
            assert_eq!(r.status, 200, "GET {path}: {}", r.body_text());
        }
        app
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
        self.rows(
            "UPDATE main.tenants SET event_seq = \
             (SELECT s.event_seq FROM temp.snap_event_seq s WHERE s.id = tenants.id)",
            Vec::new(),
        );
    }

    /// Serves one request.
    pub fn request(&self, req: Request) -> Reply {
        let response = self.app.request(req).response;
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
        self.request(req)
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
