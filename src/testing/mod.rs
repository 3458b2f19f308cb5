//! What tests, fuzzers and benchmarks share (cargo feature `test-utils`;
//! never built into the worker): the one app harness (the whole service
//! over real SQLite with the same migrations as D1, an in-memory KV, a
//! rate-limit budget and a log that keeps its lines), the fixtures, and the
//! internals that property tests and fuzzers drive directly.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::server::config::Config;
use crate::server::http::{Method, Request, Response};
use crate::server::limits::RateLimit;
use crate::server::log::Log;
use crate::server::webhooks::Outbound as _;
use crate::server::Service;
use crate::store::shards::{Shard, Shards};
use crate::store::{KeyValue, Row, SqlExecutor, SqlValue, Stmt};

mod memory_kv;
mod outbound;

pub use crate::server::webhooks::{Post, Posted, Verdict};
pub use memory_kv::MemoryKv;
pub use outbound::MemoryOutbound;

pub use crate::server::admin::jwt::AdminClaims;
pub use crate::server::auth::token_hash;
pub use crate::server::extension::AttributeDef;
pub use crate::store::sqlite::SqliteExecutor;
pub use crate::store::tokens::{token_key, TokenRecord};

/// The protocol core, for property tests, fuzzers and benchmarks.
pub mod proto {
    pub use crate::proto::attr::AttrPath;
    pub use crate::proto::error::{ScimError, ScimType};
    pub use crate::proto::filter::{
        parse_filter, CompValue, CompareOp, Filter, FilterError, MAX_FILTER_DEPTH, MAX_FILTER_LEN,
    };
    pub use crate::proto::normalize::normalize;
    pub use crate::proto::patch;
    pub use crate::proto::patch::path::{parse_patch_path, PatchPath};
    pub use crate::proto::patch::request::PATCH_OP_SCHEMA;
    pub use crate::proto::project::project;
    pub use crate::proto::schema::{
        group_resource_type, parse_attr_list, user_resource_type, ResourceType,
    };
}

/// The SQL the store builds, for tests that check it against SQLite.
pub mod sql {
    pub use crate::store::filter::{condition, sort_expression, SqlCondition};
    pub use crate::store::resources::Resource;

    use crate::store::page::PageSpec;
    use crate::store::resources::list_rows;
    use crate::store::{SqlExecutor, StoreError};

    /// Runs the first page (two rows, with the computed attribute) of
    /// `resource`'s live rows of `tenant` that meet `condition`, in the
    /// order of `sort` (an expression and whether descending), as a list
    /// request would; returns the total.
    pub fn run_page<D: SqlExecutor>(
        db: &D,
        resource: Resource,
        tenant: &str,
        condition: Option<&SqlCondition>,
        sort: Option<(&str, bool)>,
    ) -> Result<u64, StoreError> {
        let spec = PageSpec {
            clause: condition.map(|c| (c.sql.as_str(), c.params.as_slice())),
            sort,
            offset: 0,
            limit: 2,
            keyset: None,
        };
        pollster::block_on(list_rows(db, resource, Vec::new(), tenant, &spec, true))
            .map(|(_, listed)| listed.total)
    }
}

/// URNs tests write requests with (RFC 7643 §3, §8.7; RFC 7644 §3).
pub mod urn {
    pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
    pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
}

/// Forgets the tenants' profiles and the recent users this thread (an
/// isolate) keeps, so that the next request reads them as a cold isolate
/// does.
pub fn forget_cached_profiles() {
    crate::server::schema::forget_all();
    crate::server::resources::recent::forget_all();
}

/// A fixed budget of requests per key.
pub struct Budget {
    limit: u64,
    used: Mutex<HashMap<String, u64>>,
}

impl Budget {
    pub fn new(limit: u64) -> Self {
        Budget {
            limit,
            used: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimit for Budget {
    async fn allow(&self, key: &str) -> bool {
        let Ok(mut used) = self.used.lock() else {
            return true;
        };
        let n = used.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n <= self.limit
    }
}

/// A log that keeps its lines, each parsed as JSON.
#[derive(Default)]
pub struct MemoryLog {
    lines: Mutex<Vec<String>>,
}

impl MemoryLog {
    /// The lines written so far, as JSON.
    pub fn lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .map(|l| {
                l.iter()
                    .map(|s| serde_json::from_str(s).unwrap_or(Value::String(s.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The lines as written.
    pub fn text(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Log for MemoryLog {
    fn line(&self, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line.to_owned());
        }
    }

    fn millis(&self) -> f64 {
        0.0
    }
}

/// Signs an admin JWT valid for `valid_for` from now, as the host
/// application does (the worker itself only verifies).
pub fn sign(
    claims: AdminClaims,
    secret: &str,
    valid_for: jwt_simple::prelude::Duration,
) -> Result<String, jwt_simple::Error> {
    use jwt_simple::prelude::{HS256Key, MACLike};
    HS256Key::from_bytes(secret.as_bytes()).authenticate(
        jwt_simple::claims::Claims::with_custom_claims(claims, valid_for),
    )
}

/// The admin secret of test apps (HS256 needs at least 32 bytes).
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789abcdef";
/// The `SECRETS_KEY` of the test app: webhook secrets derive from it.
pub const SECRETS_KEY: &str = "test-secrets-key-0123456789abcdef";

/// The vendor of test apps' extension URNs.
pub const VENDOR: &str = "acme-vendor";

/// A tenant's credentials, as an IdP holds them.
#[derive(Clone, Debug)]
pub struct Creds {
    pub tenant: String,
    pub token: String,
}

/// A PatchOp request body with these operations (RFC 7644 §3.5.2).
pub fn patch_ops(operations: Value) -> Value {
    serde_json::json!({"schemas": [urn::PATCH_OP], "Operations": operations})
}

/// An answer, with its body parsed (`Null` when it is not JSON).
pub struct Reply {
    pub status: u16,
    pub response: Response,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.header(name)
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.response.body).into_owned()
    }
}

/// A shard of a test app besides `DB` (see [`App::with_shards`]).
pub struct MoreShard {
    pub name: String,
    pub region: Option<String>,
    pub db: SqliteExecutor,
}

/// The whole service over SQLite, as the worker runs it over D1.
pub struct App {
    /// `DB`: the registry and the first shard.
    pub db: SqliteExecutor,
    /// `DB_2`, ...: more shards, each its own database.
    pub more_shards: Vec<MoreShard>,
    pub kv: MemoryKv,
    pub now: DateTime<Utc>,
    pub config: Config,
    pub limiter: Budget,
    pub out: MemoryOutbound,
    pub log: MemoryLog,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// A fresh database with every migration applied.
    ///
    /// # Panics
    /// When the migrations do not apply (a test failure).
    #[allow(clippy::expect_used)]
    pub fn new() -> App {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        App {
            db: SqliteExecutor::open_in_memory(&dir).expect("migrations apply"),
            more_shards: Vec::new(),
            kv: MemoryKv::default(),
            now: Utc::now(),
            config: Config {
                admin_jwt_secret: Some(ADMIN_SECRET.into()),
                vendor: VENDOR.into(),
                secrets_key: Some(SECRETS_KEY.into()),
                webhooks: crate::server::config::WebhookConfig {
                    allow_local: true,
                    ..Default::default()
                },
                ..Config::default()
            },
            limiter: Budget::new(u64::MAX),
            out: MemoryOutbound::default(),
            log: MemoryLog::default(),
        }
    }

    /// An app with more shards besides `DB`: `(binding, region label)`,
    /// each a fresh database with every migration applied.
    ///
    /// # Panics
    /// When the migrations do not apply (a test failure).
    #[allow(clippy::expect_used)]
    pub fn with_shards(more: &[(&str, Option<&str>)]) -> App {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut app = App::new();
        app.more_shards = more
            .iter()
            .map(|(name, region)| MoreShard {
                name: (*name).to_owned(),
                region: region.map(str::to_owned),
                db: SqliteExecutor::open_in_memory(&dir).expect("migrations apply"),
            })
            .collect();
        app
    }

    /// The shard named `name` (`DB` is [`App::db`]).
    ///
    /// # Panics
    /// When there is none (a test failure).
    #[allow(clippy::panic)]
    pub fn shard(&self, name: &str) -> &SqliteExecutor {
        if name == crate::store::shards::REGISTRY {
            return &self.db;
        }
        match self.more_shards.iter().find(|s| s.name == name) {
            Some(s) => &s.db,
            None => panic!("no shard {name}"),
        }
    }

    fn shards(&self) -> Shards<'_, SqliteExecutor> {
        Shards::new(
            Shard {
                name: crate::store::shards::REGISTRY.to_owned(),
                region: None,
                db: &self.db,
            },
            self.more_shards
                .iter()
                .map(|s| Shard {
                    name: s.name.clone(),
                    region: s.region.clone(),
                    db: &s.db,
                })
                .collect(),
        )
    }

    /// Creates a tenant with one SCIM token whose text is `token`, directly
    /// in storage.
    #[allow(clippy::expect_used)]
    pub fn tenant_with_token(&self, id: &str, token: &str) -> Creds {
        let stamp = "2026-01-01T00:00:00.000Z";
        self.db
            .query_sync(Stmt::new(
                "INSERT OR IGNORE INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                vec![id.into(), id.into(), stamp.into(), stamp.into()],
            ))
            .expect("tenant insert");
        let record = TokenRecord {
            last_user_agent: None,
            tenant: id.into(),
            id: uuid::Uuid::new_v4().to_string(),
            label: "test".into(),
            hash: token_hash(token),
            created: stamp.into(),
            expires: None,
            last_used: None,
            kind: None,
            username: None,
        };
        pollster::block_on(self.kv.put(
            &token_key(&record.hash),
            &serde_json::to_string(&record).expect("record json"),
            None,
        ))
        .expect("kv put");
        Creds {
            tenant: id.into(),
            token: token.into(),
        }
    }

    /// Creates a tenant with one random SCIM token.
    pub fn tenant(&self, id: &str) -> Creds {
        self.tenant_with_token(id, &format!("token-of-{id}-{}", uuid::Uuid::new_v4()))
    }

    /// Serves one request with this app's storage.
    pub fn request(&self, req: Request) -> Reply {
        self.serve_with(self.shards(), req)
    }

    /// Serves one request with another SQL executor (one that counts or
    /// interleaves statements, say) over this app's KV, limiter and log.
    pub fn request_with<D: SqlExecutor>(&self, db: &D, req: Request) -> Reply {
        self.serve_with(Shards::one(db), req)
    }

    fn serve_with<D: SqlExecutor>(&self, shards: Shards<'_, D>, req: Request) -> Reply {
        let service = Service {
            config: &self.config,
            shards,
            kv: &self.kv,
            limiter: &self.limiter,
            out: &self.out,
            log: &self.log,
        };
        let response = pollster::block_on(service.handle(&req, self.now));
        let body = response.json_body().unwrap_or(Value::Null);
        Reply {
            status: response.status,
            body,
            response,
        }
    }

    /// Serves SCIM calls `(creds, method, path, body)` one after another and
    /// only then runs what they left for after their responses, all in one
    /// round trip, as the worker does for the requests one isolate serves
    /// within a few milliseconds (see `After::run_all`).
    pub fn calls_then_after(&self, calls: Vec<(&Creds, &str, &str, Option<Value>)>) -> Vec<Reply> {
        let service = Service {
            config: &self.config,
            shards: self.shards(),
            kv: &self.kv,
            limiter: &self.limiter,
            out: &self.out,
            log: &self.log,
        };
        let mut replies = Vec::new();
        let mut afters = Vec::new();
        for (creds, method, path, body) in calls {
            let req = Self::scim_request(creds, Method::parse(method), path, body);
            let (response, after) = pollster::block_on(service.serve(&req, self.now));
            afters.push(after);
            replies.push(Reply {
                status: response.status,
                body: response.json_body().unwrap_or(Value::Null),
                response,
            });
        }
        pollster::block_on(crate::server::After::run_all(
            afters,
            &service.shards,
            &self.out,
            &self.log,
            self.now,
        ));
        replies
    }

    /// Hands every queued message to the events queue's consumer, as the
    /// queue would (delays are not waited for), until the queue is empty or
    /// `max` messages were handled; returns how many were. A message the
    /// consumer asks to be retried is queued again.
    pub fn pump(&self, max: usize) -> usize {
        let mut handled = 0;
        while handled < max {
            let batch = self.out.take_queued();
            if batch.is_empty() {
                break;
            }
            for (message, _) in batch {
                handled += 1;
                let verdict = pollster::block_on(crate::server::webhooks::consume(
                    &self.config,
                    &self.shards(),
                    &self.out,
                    &self.log,
                    &message,
                    self.now,
                ));
                if let Verdict::Retry(delay) = verdict {
                    let _ = pollster::block_on(self.out.enqueue(vec![message], delay));
                }
            }
        }
        handled
    }

    /// Hands a message to the dead-letter queue's consumer.
    pub fn dead_letter(&self, message: &Value) {
        pollster::block_on(crate::server::webhooks::dead_letter(
            &self.shards(),
            &self.log,
            message,
            self.now,
        ));
    }

    /// Runs cron `cron` (`* * * * *` or `17 3 * * *`) at this app's time.
    pub fn cron(&self, cron: &str) {
        pollster::block_on(crate::server::cron::tick(
            &self.config,
            &self.shards(),
            &self.out,
            &self.log,
            cron,
            self.now,
        ));
    }

    /// A SCIM request relative to the tenant's base URL, e.g.
    /// `(Method::Get, "/Users")`, with the tenant's token.
    pub fn scim_request(creds: &Creds, method: Method, path: &str, body: Option<Value>) -> Request {
        let mut req = Request::new(method, &format!("/scim/v2/{}{path}", creds.tenant))
            .with_header("Authorization", &format!("Bearer {}", creds.token));
        if let Some(b) = body {
            req = req
                .with_header("Content-Type", "application/scim+json")
                .with_body(b.to_string());
        }
        req
    }

    /// A SCIM call relative to the tenant's base URL, e.g. `("GET", "/Users")`.
    pub fn call(&self, creds: &Creds, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.request(Self::scim_request(creds, Method::parse(method), path, body))
    }

    /// Creates a user with only a userName; returns its id.
    ///
    /// # Panics
    /// When the service refuses it (a test failure).
    pub fn named_user(&self, creds: &Creds, user_name: &str) -> String {
        let body = serde_json::json!({"schemas": [urn::USER], "userName": user_name});
        self.created(creds, "/Users", body, user_name)
    }

    /// Creates a group `display_name` with no members through SCIM; its id.
    ///
    /// # Panics
    /// When the service refuses it (a test failure).
    pub fn named_group(&self, creds: &Creds, display_name: &str) -> String {
        let body = serde_json::json!({"schemas": [urn::GROUP], "displayName": display_name});
        self.created(creds, "/Groups", body, display_name)
    }

    /// The id of the resource a POST of `body` to `path` creates (`name` for
    /// the failure's message).
    #[allow(clippy::panic)]
    fn created(&self, creds: &Creds, path: &str, body: Value, name: &str) -> String {
        let r = self.call(creds, "POST", path, Some(body));
        match (r.status, r.body["id"].as_str()) {
            (201, Some(id)) => id.to_owned(),
            _ => panic!("creating {name}: {} {}", r.status, r.body),
        }
    }

    /// Creates a tenant and a SCIM token through the admin API, as an
    /// operator does.
    ///
    /// # Panics
    /// When the admin API refuses it (a test failure).
    #[allow(clippy::panic)]
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
        let Some(token) = t.body["token"].as_str() else {
            panic!("no token issued: {}", t.body);
        };
        Creds {
            tenant: id.into(),
            token: token.to_owned(),
        }
    }

    /// An admin JWT: `None` for platform scope, `Some(t)` for tenant `t`.
    ///
    /// # Panics
    /// When signing fails (a test failure).
    #[allow(clippy::expect_used)]
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
        sign(
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

    /// The ids of the stored members of group `group_id`, sorted.
    pub fn member_ids(&self, group_id: &str) -> Vec<String> {
        let rows = self.rows(
            "SELECT member_id FROM group_members WHERE group_id = ? ORDER BY member_id",
            vec![group_id.into()],
        );
        rows.iter()
            .filter_map(|r| r.get("member_id")?.as_str().map(str::to_owned))
            .collect()
    }

    /// Changes settings of `tenant` through the admin API (`PATCH
    /// /admin/v1/tenants/{tenant}` with `{"settings": settings}`).
    ///
    /// # Panics
    /// When the admin API refuses them (a test failure).
    pub fn settings(&self, tenant: &str, settings: Value) {
        let r = self.admin(
            &self.admin_token(None),
            "PATCH",
            &format!("/tenants/{tenant}"),
            Some(serde_json::json!({ "settings": settings })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Defines a custom attribute of `tenant`, as the admin API would.
    ///
    /// # Panics
    /// When the definition is refused (a test failure).
    #[allow(clippy::panic)]
    pub fn define(&self, tenant: &str, def: &AttributeDef) {
        let stamp = crate::store::timestamp(self.now);
        let put = crate::server::extension::put(&self.db, &self.config.vendor, tenant, def, &stamp);
        if let Err(e) = pollster::block_on(put) {
            panic!("defining {}: {e:?}", def.name);
        }
    }

    /// Removes a custom attribute of `tenant`: its stored values become
    /// hidden.
    ///
    /// # Panics
    /// When there is no such attribute (a test failure).
    pub fn undefine(&self, tenant: &str, name: &str) {
        let removed = pollster::block_on(crate::server::extension::remove(&self.db, tenant, name));
        assert!(matches!(removed, Ok(true)), "removing {name}");
    }

    /// The resource type of `tenant`'s users (core, Enterprise and the
    /// tenant's custom extension), as requests see it now.
    #[allow(clippy::expect_used)]
    pub fn user_type(&self, tenant: &str) -> proto::ResourceType {
        use crate::server::resources::Users;
        use crate::server::schema::TenantSchema;
        let notes = crate::server::log::Notes::default();
        let ctx = crate::server::ctx::Ctx::new(
            &self.config,
            &self.db,
            &notes,
            "http://localhost",
            tenant,
            self.now,
            "harness",
        );
        pollster::block_on(TenantSchema::load::<Users, _>(&ctx))
            .expect("schema loads")
            .rt
            .into_owned()
    }

    /// Stores user `id` of `tenant` as a POST of `input` would, but under
    /// a fixed id, for fixtures that name their resources.
    ///
    /// # Panics
    /// When `input` is not a valid user (a test failure).
    #[allow(clippy::panic)]
    pub fn seed_user(&self, tenant: &str, id: &str, input: &Value) {
        let rt = self.user_type(tenant);
        let doc = crate::proto::normalize::normalize(&rt, input, None)
            .unwrap_or_else(|e| panic!("seed user {id}: {}", e.detail));
        self.seed(
            crate::store::resources::Resource::User,
            tenant,
            id,
            doc,
            Vec::new(),
        );
    }

    /// Stores group `id` of `tenant` with `members` (`(id, "User" or
    /// "Group")`) under a fixed id.
    ///
    /// # Panics
    /// When `input` is not a valid group (a test failure).
    #[allow(clippy::panic)]
    pub fn seed_group(&self, tenant: &str, id: &str, input: &Value, members: &[(&str, &str)]) {
        use crate::store::groups::{membership_stmts, Membership, NewMember};
        let doc = crate::proto::normalize::normalize(&proto::group_resource_type(), input, None)
            .unwrap_or_else(|e| panic!("seed group {id}: {}", e.detail));
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
        let extra = membership_stmts(tenant, id, &membership);
        self.seed(
            crate::store::resources::Resource::Group,
            tenant,
            id,
            doc,
            extra,
        );
    }

    #[allow(clippy::panic)]
    fn seed(
        &self,
        r: crate::store::resources::Resource,
        tenant: &str,
        id: &str,
        doc: Value,
        extra: Vec<Stmt>,
    ) {
        use crate::store::resources::{insert, Doc};
        let stamp = crate::store::timestamp(self.now);
        let new = Doc { doc, extra };
        let inserted = insert::<Value, _>(&self.db, r, tenant, id, &stamp, &new, None);
        if let Err(e) = pollster::block_on(inserted) {
            panic!("seeding {id}: {e}");
        }
    }

    /// Deletes user `id` of `tenant`, keeping a retained tombstone.
    pub fn tombstone_user(&self, tenant: &str, id: &str) {
        use crate::store::resources::{delete, Removal, Resource};
        let stamp = crate::store::timestamp(self.now);
        let deleted = delete(
            &self.db,
            Resource::User,
            tenant,
            id,
            Removal::Tombstone(&stamp),
            None,
            crate::store::resources::DeleteEvents::default(),
        );
        assert!(
            matches!(pollster::block_on(deleted), Ok(true)),
            "tombstoning {id}"
        );
    }

    /// Runs the request log's retention statement at `self.now`, as the
    /// scheduled job does; returns how many entries it deleted.
    ///
    /// # Panics
    /// When the statement fails (a test failure).
    #[allow(clippy::expect_used)]
    pub fn purge_request_log(&self) -> u64 {
        let now = crate::store::timestamp(self.now);
        let stmt = crate::store::requests::purge(&now);
        let written = pollster::block_on(self.db.batch(vec![stmt])).expect("purge");
        written.first().map_or(0, |w| w.changes)
    }

    /// Runs a statement against the database directly.
    ///
    /// # Panics
    /// When the statement fails (a test failure).
    #[allow(clippy::expect_used)]
    pub fn rows(&self, sql: &str, params: Vec<SqlValue>) -> Vec<Row> {
        self.db.query_sync(Stmt::new(sql, params)).expect("query")
    }
}
