//! DELETE: remove a resource (RFC 7644 §3.6), conditional on `If-Match`
//! (§3.14) in the delete statement itself.

use crate::server::ctx::Ctx;
use crate::server::error::{changed_meanwhile, Result};
use crate::server::op::{Outcome, Precondition};
use crate::server::resources::kind::Kind;
use crate::store::resources::{self, Stored};
use crate::store::SqlExecutor;

/// 204 when it deleted; when it did not, 412 if it was conditional (the
/// resource changed meanwhile), else 404.
pub(crate) async fn delete<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    id: &str,
    precondition: &Precondition,
) -> Result<Outcome> {
    let mut version = None;
    if precondition.if_match.is_some() {
        let current: Stored<R::Computed> =
            resources::get(ctx.db, R::RESOURCE, &ctx.tenant, id, false)
                .await?
                .ok_or_else(|| R::not_found(id))?;
        precondition.check(current.version)?;
        version = Some(current.version);
    }
    let removal = R::removal(ctx).await?;
    let deleted = resources::delete(ctx.db, R::RESOURCE, &ctx.tenant, id, removal, version).await?;
    match (deleted, version) {
        (true, _) => Ok(Outcome::NoContent { version: None }),
        (false, Some(_)) => Err(changed_meanwhile().into()),
        (false, None) => Err(R::not_found(id).into()),
    }
}
