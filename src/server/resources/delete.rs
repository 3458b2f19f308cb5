//! DELETE: remove a resource (RFC 7644 §3.6), conditional on `If-Match`
//! (§3.14) in the delete statement itself.

use serde_json::{Map, Value};

use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::{Outcome, Precondition};
use crate::server::resources::kind::{event_data, Kind};
use crate::server::resources::recent;
use crate::server::schema::TenantSchema;
use crate::store::resources::{self, DeleteEvents, Removal, Resource, Stored};
use crate::store::roles::{self, Candidates};
use crate::store::SqlExecutor;

/// 204 when it deleted; 404 when there is no such resource; 412 when it
/// was conditional and the resource is at another version (or changed
/// meanwhile). The delete is guarded by the version read, so its event
/// (`<kind>.deleted`, with the last state as `data`; for users,
/// `retained` says whether a tombstone stays) describes exactly what went.
pub(crate) async fn delete<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    id: &str,
    precondition: &Precondition,
) -> Result<Outcome> {
    let schema = TenantSchema::load::<R, D>(ctx).await?;
    let removal = R::removal(ctx).await?;
    recent::forget::<R, D>(ctx, id);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current: Stored<R::Computed> =
            resources::get(ctx.db, R::RESOURCE, &ctx.tenant, id, false)
                .await?
                .ok_or_else(|| R::not_found(id))?;
        precondition.check(current.version)?;
        let summary = R::summary(id, &current.doc);
        let version = current.version;
        let data = event_data::<R, D>(ctx, &schema.rt, current);
        // A kind that may leave a tombstone says whether this one did.
        let extra = R::RETAINS.then(|| {
            let retained = matches!(removal, Removal::Tombstone(_));
            let mut m = Map::new();
            m.insert("retained".into(), Value::Bool(retained));
            m
        });
        // It leaves every group it was in: one event per group, first.
        let leaving = ctx
            .events
            .member_leaves_all(&summary, R::RESOURCE.member_type());
        let mut event = ctx
            .events
            .record(&format!("{}.deleted", R::EVENT), &summary, data, extra);
        // A group's members may lose the roles it gave them.
        let before = if R::RESOURCE == Resource::Group {
            event.extend(ctx.events.roles(&Candidates::Group {
                id,
                also: Vec::new(),
                current: false,
                marked: true,
            }));
            vec![roles::mark_members(&ctx.tenant, id)]
        } else {
            Vec::new()
        };
        let deleted = resources::delete(
            ctx.db,
            R::RESOURCE,
            &ctx.tenant,
            id,
            removal,
            Some(version),
            DeleteEvents {
                before,
                leaving,
                deleted: event,
            },
        )
        .await?;
        if deleted {
            return Ok(Outcome::NoContent { version: None });
        }
        // Changed or deleted meanwhile: read again (404 if it is gone).
        precondition.retry(attempt)?;
    }
}
