//! Users and groups this isolate read or wrote in the last [`RECENT_MS`]: a
//! PUT or PATCH of one of them starts from this copy instead of reading it,
//! so the write an identity provider makes after its lookup (Okta, Entra:
//! `GET ?filter=...` then PATCH; a group's member PATCHes after its POST) is
//! one batch.
//!
//! A copy is never trusted on its own. A write that rewrites the document is
//! guarded by the copy's version, as every such write is: when another
//! request (here or in another isolate) changed the resource meanwhile, the
//! batch aborts whole, and the change is made again on what is stored (one
//! read more, what a write without the copy costs anyway). A document
//! changes only with its version (every statement that rewrites `users.doc`
//! or `groups.doc` bumps `version`), so a copy at the stored version is the
//! stored document. What a copy cannot tell is not taken from it either:
//! - a change that leaves the copy as it is, or that the copy makes fail,
//!   is tried again on the stored resource (the stored one may differ);
//! - the answer's computed attribute (a user's `groups`) is read back in the
//!   write's batch;
//! - a group's member change (which applies to whatever version is stored)
//!   is made without reading whether the members it adds exist: a guard in
//!   its batch aborts it unless all of them became members, and it is then
//!   made again the checked way (see `Groups::prepare_patch`);
//! - a request with `If-Match` reads the resource (its 412 must be the
//!   truth).
//!
//! Copies are keyed by the tenant's profile version too (a new tenant
//! under an old id, an extension URN renamed: see `tenants.profile_version`;
//! no copy is used while the isolate does not know it), and bounded in
//! number; a DELETE here forgets its resource.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

use crate::server::ctx::Ctx;
use crate::server::resources::kind::Kind;
use crate::server::schema::TenantSchema;
use crate::store::resources::Stored;
use crate::store::SqlExecutor;

/// How long a copy is used. Its age bounds nothing that matters for
/// correctness (see the module's text), only how often it is stale.
pub(crate) const RECENT_MS: i64 = 30_000;
/// The most copies an isolate keeps (a user's document is about 1 KB; a
/// group's holds no members).
const RECENT_SIZE: usize = 2048;

/// The profile version copies of a resource of `schema` are keyed by: the
/// schema's (a user's), else the isolate's cached one (a group's schema has
/// none of its own).
pub(crate) fn version_of<D: SqlExecutor>(ctx: &Ctx<'_, D>, schema: &TenantSchema) -> Option<i64> {
    schema
        .version
        .or_else(|| crate::server::schema::cached_version(ctx))
}

struct Copy {
    /// The tenant's profile version it was read or written under.
    profile: i64,
    at: i64,
    seq: i64,
    created: String,
    last_modified: String,
    version: i64,
    doc: Value,
}

/// (database, tenant, resource table, id).
type Key = (u64, String, &'static str, String);

thread_local! {
    static RECENT: RefCell<HashMap<Key, Copy>> = RefCell::new(HashMap::new());
}

fn key<R: Kind, D: SqlExecutor>(ctx: &Ctx<'_, D>, id: &str) -> Key {
    (
        ctx.db.identity(),
        ctx.tenant.clone(),
        R::RESOURCE.table(),
        id.to_owned(),
    )
}

/// Keeps a copy of `stored` (a live resource of kind `R`, read or written
/// just now with `schema`), if `R` keeps copies.
pub(crate) fn remember<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    schema: &TenantSchema,
    stored: &Stored<R::Computed>,
) {
    if !R::KEEPS_RECENT || stored.deleted.is_some() {
        return;
    }
    let Some(profile) = version_of(ctx, schema) else {
        return;
    };
    let now = ctx.now_ms;
    let copy = Copy {
        profile,
        at: now,
        seq: stored.seq,
        created: stored.created.clone(),
        last_modified: stored.last_modified.clone(),
        version: stored.version,
        doc: stored.doc.clone(),
    };
    let key = key::<R, D>(ctx, &stored.id);
    RECENT.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() >= RECENT_SIZE && !r.contains_key(&key) {
            r.retain(|_, c| (0..RECENT_MS).contains(&(now - c.at)));
            if r.len() >= RECENT_SIZE {
                r.clear();
            }
        }
        r.insert(key, copy);
    });
}

/// The copy of resource `id` of kind `R` kept less than [`RECENT_MS`] ago
/// under `schema`'s profile version, without its computed attribute.
pub(crate) fn recall<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    schema: &TenantSchema,
    id: &str,
) -> Option<Stored<R::Computed>> {
    if !R::KEEPS_RECENT {
        return None;
    }
    let profile = version_of(ctx, schema)?;
    let key = key::<R, D>(ctx, id);
    RECENT.with(|r| {
        r.borrow()
            .get(&key)
            .filter(|c| c.profile == profile && (0..RECENT_MS).contains(&(ctx.now_ms - c.at)))
            .map(|c| Stored {
                seq: c.seq,
                id: id.to_owned(),
                created: c.created.clone(),
                last_modified: c.last_modified.clone(),
                version: c.version,
                doc: c.doc.clone(),
                deleted: None,
                computed: None,
                roles: None,
            })
    })
}

/// Forgets the copy of resource `id` of kind `R` (it was deleted, or found
/// stale).
pub(crate) fn forget<R: Kind, D: SqlExecutor>(ctx: &Ctx<'_, D>, id: &str) {
    if !R::KEEPS_RECENT {
        return;
    }
    let key = key::<R, D>(ctx, id);
    RECENT.with(|r| r.borrow_mut().remove(&key));
}

/// Forgets every copy this isolate keeps (a test's cold isolate).
#[cfg(feature = "test-utils")]
pub(crate) fn forget_all() {
    RECENT.with(|r| r.borrow_mut().clear());
}
