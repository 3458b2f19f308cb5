//! The one read-check-write loop of PUT and PATCH: read the resource,
//! check `If-Match`, compute the new state, write it guarded by the version
//! read, and when another request's write landed in between, start again
//! on the new state (or answer 412: see [`Precondition::retry`]).

use serde_json::Value;

use crate::proto::normalize::normalize_with;
use crate::proto::patch::{self, PatchOp};
use crate::server::ctx::Ctx;
use crate::server::error::Result;

use crate::server::op::Precondition;
use crate::server::resources::kind::{change_event, Kind, PatchMode};
use crate::server::resources::{leniency, recent};
use crate::server::schema::TenantSchema;
use crate::store::attributes;
use crate::store::resources::{self, Applied, Stored, Update};
use crate::store::{next_rows, read_all, SqlExecutor};

/// What a write does to the current resource.
pub(crate) enum Change<'a> {
    /// PUT: this body replaces it (RFC 7644 §3.5.1).
    Replace(&'a Value),
    /// PATCH: these operations apply to it, all or none (§3.5.2).
    Patch(&'a [PatchOp]),
}

/// The resource a write starts from: as read, or (`recent`) this isolate's
/// copy of it (see [`recent`]), which the write does not trust.
pub(crate) struct First<C> {
    pub current: Option<Stored<C>>,
    pub recent: bool,
}

impl<C> First<C> {
    fn read(current: Option<Stored<C>>) -> First<C> {
        First {
            current,
            recent: false,
        }
    }
}

/// The tenant's schema of kind `R` and its resource `id` as stored (live;
/// with its computed attribute when `computed`), in one round trip: what a
/// PUT or PATCH without a projection reads before it writes. `probe` (see
/// [`Kind::probe`]; a group's) is read in the same round trip. In steady
/// state a resource this isolate saw recently is not read at all (its copy,
/// unless the request has `If-Match`: see [`recent`]).
pub(crate) async fn schema_and_current<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    id: &str,
    computed: bool,
    probe: Option<(Vec<String>, Vec<crate::store::Stmt>)>,
    precondition: &Precondition,
) -> Result<(TenantSchema, First<R::Computed>)> {
    let get = resources::get_stmt(R::RESOURCE, &ctx.tenant, id, computed);
    let schema = if R::EXTENSIBLE {
        crate::server::schema::cached(ctx).map(|p| TenantSchema::with_profile::<R, D>(ctx, p))
    } else {
        Some(TenantSchema::load::<R, D>(ctx).await?)
    };
    if let Some(schema) = schema {
        if precondition.if_match.is_none() {
            if let Some(copy) = recent::recall::<R, D>(ctx, &schema, id) {
                let first = First {
                    current: Some(copy),
                    recent: true,
                };
                return Ok((schema, first));
            }
        }
        let (ids, mut stmts) = probe.unwrap_or_default();
        stmts.insert(0, get);
        // A kind whose copies are keyed by the cached profile's version (a
        // group's) reads the profile along, so its next write has a copy.
        let with_profile = R::KEEPS_RECENT && recent::version_of(ctx, &schema).is_none();
        if with_profile {
            stmts.push(attributes::load_stmt(&ctx.tenant));
        }
        let mut rows: Vec<_> = read_all(ctx.db, stmts).await?;
        if with_profile {
            if let Some(profile_rows) = rows.pop() {
                TenantSchema::read_profile(ctx, &profile_rows);
            }
        }
        let mut rows = rows.into_iter();
        let current = resources::decode_one(R::RESOURCE, &next_rows(&mut rows)?)?;
        if !ids.is_empty() {
            let rest: Vec<_> = rows.collect();
            crate::server::resources::groups::probed(ctx, ids, &rest);
        }
        return Ok((schema, First::read(current)));
    }
    let rows = read_all(ctx.db, vec![attributes::load_stmt(&ctx.tenant), get]).await?;
    let mut rows = rows.into_iter();
    let profile = TenantSchema::read_profile(ctx, &next_rows(&mut rows)?);
    let current = resources::decode_one(R::RESOURCE, &next_rows(&mut rows)?)?;
    Ok((
        TenantSchema::with_profile::<R, D>(ctx, profile),
        First::read(current),
    ))
}

/// What `change` makes of `current` (`from_copy`: a recent copy of it): the
/// write to make, or `None` when nothing changes.
async fn prepare<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    schema: &TenantSchema,
    (id, change): (&str, &Change<'_>),
    precondition: &Precondition,
    current: &Stored<R::Computed>,
    from_copy: bool,
) -> Result<Option<Update>> {
    let rt = &schema.rt;
    let (visible, hidden) = R::split_hidden(schema, &current.doc);
    match change {
        Change::Replace(body) => {
            let read = |opts| normalize_with(rt, body, Some(&visible), opts);
            let doc = leniency::read(ctx, read).await?;
            Ok(Some(
                R::prepare_replace(ctx, schema, current, doc, hidden).await?,
            ))
        }
        Change::Patch(ops) => {
            let read = |opts| {
                let mut patched = patch::apply_with(rt, id, &visible, ops, opts)?;
                let notes = std::mem::take(&mut patched.notes);
                Ok((patched, notes))
            };
            let patched = leniency::read(ctx, read).await?;
            if !patched.changed {
                return Ok(None);
            }
            let how = PatchMode {
                conditional: precondition.if_match.is_some(),
                from_copy,
            };
            R::prepare_patch(ctx, schema, current, patched, hidden, how).await
        }
    }
}

/// Applies `change` to resource `id`; returns the resource as stored after
/// it (the current one when the change changes nothing). `computed`: read
/// the computed attribute with it. `first`: the resource as read with the
/// schema, or its recent copy (see [`schema_and_current`]), for the first
/// attempt; `None` reads it.
///
/// A recent copy is used only as far as the write it leads to proves it
/// current: that write is guarded by the copy's version and reads the
/// answer back in its batch. A stale copy (the guard aborts the batch), a
/// change that leaves the copy unchanged, or one the copy makes fail, is
/// made again on the stored resource, as if there had been no copy.
pub(crate) async fn write<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    schema: &TenantSchema,
    id: &str,
    change: Change<'_>,
    precondition: &Precondition,
    computed: bool,
    mut first: Option<First<R::Computed>>,
) -> Result<Stored<R::Computed>> {
    let mut attempt = 0;
    let notes = ctx.notes.mark();
    loop {
        // What an attempt made again notes (leniencies, skipped members),
        // it notes once.
        ctx.notes.rewind(notes);
        let (read, recent) = match first.take() {
            Some(f) => (f.current, f.recent),
            None => (
                resources::get(ctx.db, R::RESOURCE, &ctx.tenant, id, computed).await?,
                false,
            ),
        };
        if !recent {
            attempt += 1;
        }
        let current: Stored<R::Computed> = read.ok_or_else(|| R::not_found(id))?;
        if !recent {
            // What is stored now: the copy for the next write, whether
            // this one is made or refused.
            recent::remember::<R, D>(ctx, schema, &current);
        }
        precondition.check(current.version)?;
        let update =
            match prepare::<R, D>(ctx, schema, (id, &change), precondition, &current, recent).await
            {
                Ok(update) => update,
                Err(_) if recent => continue,
                Err(e) => return Err(e),
            };
        let Some(mut update) = update else {
            if recent {
                continue;
            }
            return Ok(current);
        };
        // A rewrite of the document from a copy must be guarded by the
        // copy's version (a change of members alone does not depend on it).
        if recent && update.doc.is_some() && update.at_version != Some(current.version) {
            continue;
        }
        record_update::<R, D>(ctx, schema, &current, &mut update);
        // A write that rewrites the document at the version read answers
        // with what it wrote, unless the kind's writes change what only the
        // database can tell (see `Kind::WRITES_CHANGE_COMPUTED`) or it
        // started from a copy (whose computed attribute is not kept).
        let known =
            !recent && !R::WRITES_CHANGE_COMPUTED && update.at_version == Some(current.version);
        let read_back = (!known).then_some(computed);
        let applied = resources::update(
            ctx.db,
            R::RESOURCE,
            &ctx.tenant,
            id,
            &ctx.now,
            &update,
            read_back,
        )
        .await?;
        let stored = match applied {
            Applied::Done(Some(stored)) => stored,
            Applied::Done(None) => Stored {
                last_modified: ctx.now.clone(),
                version: current.version + 1,
                doc: update.doc.unwrap_or(current.doc),
                ..current
            },
            Applied::Stale if recent => {
                recent::forget::<R, D>(ctx, id);
                continue;
            }
            Applied::Stale => {
                precondition.retry(attempt)?;
                continue;
            }
        };
        recent::remember::<R, D>(ctx, schema, &stored);
        return Ok(stored);
    }
}

/// Puts the event of a document change first in its batch (before those of
/// a group's members): `changed` and `previous` from the stored document to
/// the new one. A rewrite that changes nothing records nothing.
fn record_update<R: Kind, D>(
    ctx: &Ctx<'_, D>,
    schema: &TenantSchema,
    current: &Stored<R::Computed>,
    update: &mut Update,
) {
    let Some(doc) = &update.doc else {
        return;
    };
    let kind = R::update_type(&current.doc, doc);
    let mut extra = change_event::<R, D>(ctx, &schema.rt, current, doc, &kind);
    extra.append(&mut update.extra);
    update.extra = extra;
}
