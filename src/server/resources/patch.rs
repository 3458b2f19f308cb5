//! PATCH: modify a resource (RFC 7644 §3.5.2): every operation applies, or
//! none.

use serde_json::Value;

use crate::proto::patch::parse_request;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::{Outcome, Precondition};
use crate::server::resources::kind::{answer, Kind};
use crate::server::resources::projection::{Projection, ProjectionParams};
use crate::server::resources::write::{schema_and_current, write, Change};
use crate::server::schema::TenantSchema;
use crate::store::SqlExecutor;

/// Answers 200 with the resource, or, for a kind that prefers it
/// ([`Kind::PATCH_NO_CONTENT`]: Groups, as Microsoft Entra expects), 204
/// with its ETag unless `attributes`/`excludedAttributes` ask for it.
pub(crate) async fn patch<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    (attributes, excluded): ProjectionParams<'_>,
    id: &str,
    body: &Value,
    precondition: &Precondition,
) -> Result<Outcome> {
    // Without a projection (what IdPs send), the schema and the resource
    // are read in one round trip.
    let plain = attributes.is_none() && excluded.is_none();
    let (schema, first) = if plain {
        let probe = R::probe(&ctx.tenant, body);
        let (schema, current) =
            schema_and_current::<R, D>(ctx, id, !R::PATCH_NO_CONTENT, probe, precondition).await?;
        (schema, Some(current))
    } else {
        (TenantSchema::load::<R, D>(ctx).await?, None)
    };
    let projection = Projection::of(attributes, excluded, &schema.rt)?;
    let ops = parse_request(body, &schema.rt, ctx.limits.max_patch_operations)?;
    let no_content = R::PATCH_NO_CONTENT && projection.is_empty();
    let computed = !no_content && projection.wants(R::COMPUTED);
    let stored = write::<R, D>(
        ctx,
        &schema,
        id,
        Change::Patch(&ops),
        precondition,
        computed,
        first,
    )
    .await?;
    if no_content {
        return Ok(Outcome::NoContent {
            version: Some(stored.version),
        });
    }
    Ok(answer::<R, D>(ctx, &schema.rt, &projection, 200, stored))
}
