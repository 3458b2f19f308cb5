//! The resource pipeline: each verb of RFC 7644 §3 written once, generic
//! over the kind of resource ([`kind::Kind`]: Users, Groups). A verb reads the
//! tenant's schema, runs the protocol core (`proto`: normalisation, PATCH,
//! projection) and writes through the store in one batch per write.
//!
//! - POST (§3.3) in [`create`];
//! - GET of one resource (§3.4.1) in [`get`];
//! - PUT (§3.5.1) in [`replace`] and PATCH (§3.5.2) in [`patch`], both
//!   through [`write`], the one read-check-write-retry loop;
//! - DELETE (§3.6) in [`delete`];
//! - GET of a collection and POST `.search` (§3.4.2, §3.4.3) in [`list`].
//!
//! What differs between Users and Groups is each kind's own: [`users`] (the
//! tenant's extension with hidden values and write checks, the manager's
//! `$ref`, tombstones) and [`groups`] (members in their own table).

use crate::server::ctx::Ctx;
use crate::server::error::{Error, Result};
use crate::server::op::{Action, Endpoint, Op, Outcome};
use crate::store::SqlExecutor;

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod get;
pub(crate) mod groups;
pub(crate) mod kind;
pub(crate) mod leniency;
pub(crate) mod list;
pub(crate) mod patch;
pub(crate) mod projection;
pub(crate) mod recent;
pub(crate) mod replace;
pub(crate) mod users;
pub(crate) mod write;

pub(crate) use groups::Groups;
use kind::Kind;
pub(crate) use users::Users;

/// Carries out an operation on a resource endpoint. A write made with a
/// schema that changed meanwhile (the isolate's cached one, or one another
/// request changed between the read and the write) wrote nothing: it is
/// made again once, with the schema read anew.
pub(crate) async fn run<D: SqlExecutor>(ctx: &Ctx<'_, D>, op: Op) -> Result<Outcome> {
    let again = (op.endpoint == Endpoint::Users && op.action.is_write()).then(|| op.clone());
    match run_once(ctx, op).await {
        Err(Error::SchemaChanged) => {
            crate::server::schema::forget(ctx);
            match again {
                Some(op) => run_once(ctx, op).await,
                None => Err(Error::SchemaChanged),
            }
        }
        other => other,
    }
}

async fn run_once<D: SqlExecutor>(ctx: &Ctx<'_, D>, op: Op) -> Result<Outcome> {
    match op.endpoint {
        Endpoint::Users => run_kind::<Users, D>(ctx, op).await,
        Endpoint::Groups => run_kind::<Groups, D>(ctx, op).await,
    }
}

async fn run_kind<R: Kind, D: SqlExecutor>(ctx: &Ctx<'_, D>, op: Op) -> Result<Outcome> {
    let Op {
        action,
        precondition,
        attributes,
        excluded_attributes,
        ..
    } = op;
    let params = (attributes.as_deref(), excluded_attributes.as_deref());
    match action {
        Action::Create(body) => create::create::<R, D>(ctx, params, &body).await,
        Action::Get(id) => get::get::<R, D>(ctx, params, &id, &precondition).await,
        Action::Replace(id, body) => {
            replace::replace::<R, D>(ctx, params, &id, &body, &precondition).await
        }
        Action::Patch(id, body) => {
            patch::patch::<R, D>(ctx, params, &id, &body, &precondition).await
        }
        Action::Delete(id) => delete::delete::<R, D>(ctx, &id, &precondition).await,
        Action::List(query) => list::list::<R, D>(ctx, &query).await,
    }
}
