//! PUT: replace a resource (RFC 7644 §3.5.1), honouring mutability.

use serde_json::Value;

use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::{Outcome, Precondition};
use crate::server::resources::kind::{answer, Kind};
use crate::server::resources::projection::{Projection, ProjectionParams};
use crate::server::resources::write::{schema_and_current, write, Change};
use crate::server::schema::TenantSchema;
use crate::store::SqlExecutor;

pub(crate) async fn replace<R: Kind, D: SqlExecutor>(
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
        let (schema, current) =
            schema_and_current::<R, D>(ctx, id, true, None, precondition).await?;
        (schema, Some(current))
    } else {
        (TenantSchema::load::<R, D>(ctx).await?, None)
    };
    let projection = Projection::of(attributes, excluded, &schema.rt)?;
    let computed = projection.wants(R::COMPUTED);
    let stored = write::<R, D>(
        ctx,
        &schema,
        id,
        Change::Replace(body),
        precondition,
        computed,
        first,
    )
    .await?;
    Ok(answer::<R, D>(ctx, &schema.rt, &projection, 200, stored))
}
