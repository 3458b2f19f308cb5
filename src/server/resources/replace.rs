//! PUT: replace a resource (RFC 7644 §3.5.1), honouring mutability.

use serde_json::Value;

use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::{Outcome, Precondition};
use crate::server::resources::kind::{answer, Kind};
use crate::server::resources::projection::{Projection, ProjectionParams};
use crate::server::resources::write::{write, Change};
use crate::server::schema::TenantSchema;
use crate::store::SqlExecutor;

pub(crate) async fn replace<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    (attributes, excluded): ProjectionParams<'_>,
    id: &str,
    body: &Value,
    precondition: &Precondition,
) -> Result<Outcome> {
    let schema = TenantSchema::load::<R, D>(ctx).await?;
    let projection = Projection::of(attributes, excluded, &schema.rt)?;
    let computed = projection.wants(R::COMPUTED);
    let stored = write::<R, D>(
        ctx,
        &schema,
        id,
        Change::Replace(body),
        precondition,
        computed,
    )
    .await?;
    Ok(answer::<R, D>(ctx, &schema.rt, &projection, 200, stored))
}
