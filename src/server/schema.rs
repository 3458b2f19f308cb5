//! The schema a request is served with, and the one-round-trip read.
//!
//! A tenant's User type is core User, Enterprise User and the tenant's own
//! extension, whose definitions live in D1 and whose URN is the tenant's
//! (read with them, by one statement: `attributes::load_stmt`, which also
//! reads the tenant's settings, kept for `Ctx::settings`). Reading them before every read
//! would double the round trips of the lookups identity providers make
//! before every write; so a read that names nothing beyond the core schemas
//! sends the definitions' statement in the same round trip as its own, and
//! only when the tenant's full schema turns out to read other statements
//! (a projection or a sort that names a custom attribute) are they sent
//! again. Group types have no tenant extension: nothing is read for them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use crate::proto::error::ScimResult;
use crate::proto::schema::ResourceType;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::extension::{self, AttributeDef};
use crate::store::attributes::{self, TenantProfile};
use crate::store::tenants::Settings;
use crate::store::{next_rows, Row, SqlExecutor, Stmt};

/// What the loader needs to know of a kind of resource: its type without
/// any tenant's extension, and whether tenants extend it.
pub(crate) trait Typed {
    /// Whether tenants extend its schema with their own attributes.
    const EXTENSIBLE: bool = false;
    /// Its resource type without any tenant's extension.
    fn core_type() -> &'static ResourceType;
}

/// How long an isolate serves a tenant's profile it read (ms). A change
/// reaches the reads of other isolates within this; writes never use a
/// stale one (see `tenants::profile_guard`).
pub(crate) const PROFILE_CACHE_MS: i64 = 30_000;
/// The most profiles an isolate keeps.
const PROFILE_CACHE_SIZE: usize = 1024;

type Profile = TenantProfile<AttributeDef>;

thread_local! {
    /// Tenants' profiles by (database, tenant), with when they were read.
    static PROFILES: RefCell<HashMap<(u64, String), (Profile, i64)>> = RefCell::new(HashMap::new());
}

/// The tenant's profile as this isolate read it less than
/// [`PROFILE_CACHE_MS`] ago.
pub(crate) fn cached<D: SqlExecutor>(ctx: &Ctx<'_, D>) -> Option<Profile> {
    with_cached(ctx, |p| Some(p.clone()))
}

/// `f` of the tenant's profile as [`cached`] has it.
fn with_cached<D: SqlExecutor, T>(
    ctx: &Ctx<'_, D>,
    f: impl FnOnce(&Profile) -> Option<T>,
) -> Option<T> {
    let key = (ctx.db.identity(), ctx.tenant.clone());
    PROFILES.with(|c| {
        c.borrow()
            .get(&key)
            .filter(|(_, at)| (0..PROFILE_CACHE_MS).contains(&(ctx.now_ms - at)))
            .and_then(|(p, _)| f(p))
    })
}

/// The version of the tenant's profile as [`cached`] has it, without
/// copying the profile.
pub(crate) fn cached_version<D: SqlExecutor>(ctx: &Ctx<'_, D>) -> Option<i64> {
    with_cached(ctx, |p| p.version)
}

/// Keeps a profile read from the database (of a tenant that exists).
fn remember<D: SqlExecutor>(ctx: &Ctx<'_, D>, profile: &Profile) {
    if profile.version.is_none() {
        return;
    }
    let key = (ctx.db.identity(), ctx.tenant.clone());
    let now = ctx.now_ms;
    PROFILES.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= PROFILE_CACHE_SIZE && !c.contains_key(&key) {
            c.retain(|_, (_, at)| now - *at < PROFILE_CACHE_MS);
            if c.len() >= PROFILE_CACHE_SIZE {
                c.clear();
            }
        }
        c.insert(key, (profile.clone(), now));
    });
}

/// Forgets every profile this isolate keeps (tests measure a cold isolate).
#[cfg(any(test, feature = "test-utils"))]
pub(crate) fn forget_all() {
    PROFILES.with(|c| c.borrow_mut().clear());
}

/// Forgets the request's tenant's profile in this isolate.
pub(crate) fn forget<D: SqlExecutor>(ctx: &Ctx<'_, D>) {
    forget_tenant(ctx.db, &ctx.tenant);
}

/// Forgets `tenant`'s profile in this isolate (its settings, URN or
/// attributes just changed here).
pub(crate) fn forget_tenant<D: SqlExecutor>(db: &D, tenant: &str) {
    let key = (db.identity(), tenant.to_owned());
    PROFILES.with(|c| c.borrow_mut().remove(&key));
}

/// A resource type as the request's tenant has it.
pub(crate) struct TenantSchema {
    pub rt: Cow<'static, ResourceType>,
    /// The tenant's custom attribute definitions (Users only).
    pub defs: Vec<AttributeDef>,
    /// The URN of the tenant's extension in force, as the tenant set it or
    /// the default (Users only; empty for Groups).
    pub urn: String,
    /// The profile version it was made from (what a write guards on).
    pub version: Option<i64>,
    /// Whether the tenant maps roles (see `TenantProfile::roles_configured`).
    pub roles_configured: bool,
}

impl TenantSchema {
    /// The type of kind `K` with the tenant's `profile`.
    pub(crate) fn with_profile<K: Typed, D>(
        ctx: &Ctx<'_, D>,
        profile: TenantProfile<AttributeDef>,
    ) -> Self {
        let TenantProfile {
            urn,
            settings,
            defs,
            version,
            roles_configured,
        } = profile;
        if !K::EXTENSIBLE {
            return TenantSchema {
                rt: Cow::Borrowed(K::core_type()),
                defs,
                urn: String::new(),
                version,
                roles_configured,
            };
        }
        // Read with the definitions: the request need not read them again.
        ctx.read_settings(settings);
        let urn = extension::urn_in_force(ctx.vendor, &ctx.tenant, urn.as_deref());
        let rt = match extension::schema(&urn, &ctx.tenant, &defs) {
            None => Cow::Borrowed(K::core_type()),
            Some(ext) => {
                let mut rt = K::core_type().clone();
                rt.extensions.push(ext);
                Cow::Owned(rt)
            }
        };
        TenantSchema {
            rt,
            defs,
            urn,
            version,
            roles_configured,
        }
    }

    /// The tenant's profile, from this isolate's cache or read (and kept).
    pub(crate) async fn profile<D: SqlExecutor>(ctx: &Ctx<'_, D>) -> Result<Profile> {
        if let Some(p) = cached(ctx) {
            return Ok(p);
        }
        let p: Profile = attributes::load(ctx.db, &ctx.tenant).await?;
        remember(ctx, &p);
        Ok(p)
    }

    /// Keeps a profile read along with something else.
    pub(crate) fn read_profile<D: SqlExecutor>(ctx: &Ctx<'_, D>, rows: &[Row]) -> Profile {
        let p = TenantProfile::from_rows(rows);
        remember(ctx, &p);
        p
    }

    /// Loads the tenant's schema of kind `K` (one round trip for Users).
    pub(crate) async fn load<K: Typed, D: SqlExecutor>(ctx: &Ctx<'_, D>) -> Result<Self> {
        let profile = if K::EXTENSIBLE {
            Self::profile(ctx).await?
        } else {
            TenantProfile {
                urn: None,
                settings: Settings::default(),
                defs: Vec::new(),
                version: None,
                roles_configured: true,
            }
        };
        Ok(Self::with_profile::<K, D>(ctx, profile))
    }

    /// Reads what `plan_for` plans under the tenant's schema of kind `K`,
    /// in one round trip whenever the plan made with the core schema reads
    /// the same statements as the one made with the tenant's. `plan_for`
    /// reports the errors of the request (an unknown attribute, a bad
    /// filter) in the order the request would meet them.
    ///
    /// When the plan cannot even be made with the core schema (it names a
    /// custom attribute, or is invalid), the definitions are read first, so
    /// every answer and error is the same as with a full schema.
    pub(crate) async fn read<K: Typed, P: Plan, D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        plan_for: impl Fn(&ResourceType) -> ScimResult<P>,
    ) -> Result<(Self, P, P::Output)> {
        // The profile this isolate has: the plan's own statements only.
        if let Some(profile) = cached(ctx) {
            // `with_profile` keeps the settings only for an extensible kind.
            ctx.read_settings(profile.settings.clone());
            let schema = Self::with_profile::<K, D>(ctx, profile);
            let plan = plan_for(&schema.rt)?;
            let (_, out) = plan.run(ctx, Vec::new()).await?;
            return Ok((schema, plan, out));
        }
        let core = match plan_for(K::core_type()) {
            Ok(core) if K::EXTENSIBLE && !core.needs_full_schema() => core,
            // No extension: the settings come along (the request log's
            // setting), in the same round trip.
            Ok(core) if !K::EXTENSIBLE => {
                let (leading, out) = core
                    .run(ctx, vec![attributes::load_stmt(&ctx.tenant)])
                    .await?;
                let profile = Self::read_profile(ctx, &next_rows(&mut leading.into_iter())?);
                ctx.read_settings(profile.settings);
                let schema = Self::load::<K, D>(ctx).await?;
                return Ok((schema, core, out));
            }
            _ => {
                let schema = Self::load::<K, D>(ctx).await?;
                let plan = plan_for(&schema.rt)?;
                let (_, out) = plan.run(ctx, Vec::new()).await?;
                return Ok((schema, plan, out));
            }
        };
        let (leading, out) = core
            .run(ctx, vec![attributes::load_stmt(&ctx.tenant)])
            .await?;
        let profile = Self::read_profile(ctx, &next_rows(&mut leading.into_iter())?);
        if profile.defs.is_empty() {
            return Ok((Self::with_profile::<K, D>(ctx, profile), core, out));
        }
        let schema = Self::with_profile::<K, D>(ctx, profile);
        let plan = plan_for(&schema.rt)?;
        if plan.same_statements(&core) {
            return Ok((schema, plan, out));
        }
        // The tenant's schema reads otherwise: read again so.
        let (_, out) = plan.run(ctx, Vec::new()).await?;
        Ok((schema, plan, out))
    }
}

/// A read planned under one schema: its statements, run after `leading`
/// ones in the same round trip.
#[allow(async_fn_in_trait)]
pub(crate) trait Plan {
    type Output;
    /// Runs `leading` and the plan's own statements in one round trip
    /// where it can; returns the rows of `leading` and the plan's result.
    async fn run<D: SqlExecutor>(
        &self,
        ctx: &Ctx<'_, D>,
        leading: Vec<Stmt>,
    ) -> Result<(Vec<Vec<Row>>, Self::Output)>;
    /// Whether `other` would read exactly the same statements.
    fn same_statements(&self, other: &Self) -> bool;
    /// Whether this plan, made with the core schema, may have missed
    /// something only the tenant's schema knows (a `sortBy` it could not
    /// resolve may name a custom attribute).
    fn needs_full_schema(&self) -> bool {
        false
    }
}
