//! GET of one resource (RFC 7644 §3.4.1), with `If-None-Match` (§3.14).

use crate::proto::error::ScimResult;
use crate::proto::schema::ResourceType;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::{Outcome, Precondition};
use crate::server::resources::kind::{answer, Kind};
use crate::server::resources::projection::{Projection, ProjectionParams};
use crate::server::resources::recent;
use crate::server::schema::{Plan, TenantSchema};
use crate::store::resources::{decode_one, get_stmt, Resource, Stored};
use crate::store::{next_rows, read_all, Row, SqlExecutor, Stmt};

/// Reading one resource: its projection decides whether the computed
/// attribute is read.
struct GetPlan<'a> {
    resource: Resource,
    id: &'a str,
    projection: Projection,
    computed: &'static str,
}

impl Plan for GetPlan<'_> {
    type Output = Vec<Row>;

    async fn run<D: SqlExecutor>(
        &self,
        ctx: &Ctx<'_, D>,
        mut leading: Vec<Stmt>,
    ) -> Result<(Vec<Vec<Row>>, Vec<Row>)> {
        let lead = leading.len();
        leading.push(get_stmt(
            self.resource,
            &ctx.tenant,
            self.id,
            self.projection.wants(self.computed),
        ));
        let mut results = read_all(ctx.db, leading).await?.into_iter();
        let mut leading_rows = Vec::with_capacity(lead);
        for _ in 0..lead {
            leading_rows.push(next_rows(&mut results)?);
        }
        Ok((leading_rows, next_rows(&mut results)?))
    }

    fn same_statements(&self, other: &Self) -> bool {
        self.projection.wants(self.computed) == other.projection.wants(other.computed)
    }
}

/// The resource `id` as the tenant's schema projects it; 304 when
/// `If-None-Match` names its version.
pub(crate) async fn get<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    (attributes, excluded): ProjectionParams<'_>,
    id: &str,
    precondition: &Precondition,
) -> Result<Outcome> {
    let plan_for = |rt: &ResourceType| -> ScimResult<GetPlan<'_>> {
        Ok(GetPlan {
            resource: R::RESOURCE,
            id,
            projection: Projection::of(attributes, excluded, rt)?,
            computed: R::COMPUTED,
        })
    };
    let (schema, plan, rows) = TenantSchema::read::<R, _, D>(ctx, plan_for).await?;
    let stored: Stored<R::Computed> =
        decode_one(R::RESOURCE, &rows)?.ok_or_else(|| R::not_found(id))?;
    recent::remember::<R, D>(ctx, &schema, &stored);
    if precondition.not_modified(stored.version) {
        return Ok(Outcome::NotModified {
            version: stored.version,
        });
    }
    Ok(answer::<R, D>(
        ctx,
        &schema.rt,
        &plan.projection,
        200,
        stored,
    ))
}
