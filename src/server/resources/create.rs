//! POST: create a resource (RFC 7644 §3.3).

use serde_json::Value;

use crate::proto::normalize::normalize_with;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::Outcome;
use crate::server::resources::kind::{answer, event_data, written, Kind};
use crate::server::resources::projection::{Projection, ProjectionParams};
use crate::server::resources::{leniency, recent};
use crate::server::schema::TenantSchema;
use crate::store::resources::{self, Stored};
use crate::store::SqlExecutor;

/// Validates `body` against the tenant's schema, checks what the schema
/// cannot say, and stores the new resource with everything that goes with
/// it in one batch; answers 201 with the resource as stored.
pub(crate) async fn create<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    (attributes, excluded): ProjectionParams<'_>,
    body: &Value,
) -> Result<Outcome> {
    let schema = TenantSchema::load::<R, D>(ctx).await?;
    let rt = &schema.rt;
    // Bad input is refused before anything is written, the projection too.
    let projection = Projection::of(attributes, excluded, rt)?;
    let doc = leniency::read(ctx, |opts| normalize_with(rt, body, None, opts)).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let mut new = R::prepare_create(ctx, &schema, &id, doc).await?;
    // Its event comes first, before those of its members (a group's).
    let data = event_data::<R, D>(ctx, rt, written(&id, ctx, 1, new.doc.clone()));
    let mut extra = ctx.events.record(
        &format!("{}.created", R::EVENT),
        &R::summary(&id, &new.doc),
        data,
        None,
    );
    extra.append(&mut new.extra);
    new.extra = extra;
    let computed = projection.wants(R::COMPUTED);
    let read_back = R::WRITES_CHANGE_COMPUTED.then_some(computed);
    let stored = resources::insert(
        ctx.db,
        R::RESOURCE,
        &ctx.tenant,
        &id,
        &ctx.now,
        &new,
        read_back,
    )
    .await?;
    // What was written, when the database knows nothing more of it.
    let stored = stored.unwrap_or_else(|| Stored {
        computed: computed.then(R::Computed::default),
        ..written(&id, ctx, 1, new.doc)
    });
    recent::remember::<R, D>(ctx, &schema, &stored);
    Ok(answer::<R, D>(ctx, rt, &projection, 201, stored))
}
