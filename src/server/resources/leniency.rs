//! Leniency as the tenant sets it. A write is read leniently
//! (`proto::lenience`); only when that let through a name the schema does
//! not define are the tenant's settings read, and under
//! `unknownAttributes: reject` the write is read again strictly, for the
//! 400 that names what is refused. Writes with nothing unknown (nearly all)
//! cost no extra read.

use crate::proto::error::ScimResult;
use crate::proto::lenience::{Leniency, Options, Unknown};
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::store::tenants::UnknownAttributes;
use crate::store::SqlExecutor;

/// What `read` makes of a write, read as the tenant's settings say; the
/// leniencies applied go into the request's log line.
pub(crate) async fn read<T, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    read: impl Fn(Options) -> ScimResult<(T, Vec<Leniency>)>,
) -> Result<T> {
    let (out, notes) = read(Options::LENIENT)?;
    if notes.iter().any(Leniency::is_unknown)
        && ctx.settings().await?.unknown_attributes == UnknownAttributes::Reject
    {
        read(Options {
            unknown: Unknown::Reject,
            ..Options::LENIENT
        })?;
    }
    ctx.notes.lenient(notes);
    Ok(out)
}
