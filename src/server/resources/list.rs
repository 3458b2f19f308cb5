//! Lists: GET of a collection and POST `.search` (RFC 7644 §3.4.2,
//! §3.4.3): a filter translated to SQL, a sort, index or cursor pages
//! (RFC 9865), and the projection of every resource of the page.

use crate::proto::error::{ScimError, ScimResult};
use crate::proto::filter::parse_filter;
use crate::proto::schema::parse_attr_list;
use crate::proto::schema::ResourceType;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::list::{list_body, Found, ListQuery};
use crate::server::op::Outcome;
use crate::server::resources::kind::{read_form, Kind};
use crate::server::resources::projection::Projection;
use crate::server::resources::recent;
use crate::server::schema::{Plan, TenantSchema};
use crate::store::filter::{condition, sort_expression, SqlCondition};
use crate::store::page::{Keyset, Listed, PageSpec};
use crate::store::resources::{self, Resource, Stored};
use crate::store::{Row, SqlExecutor, Stmt};

/// What a list query reads, as one resource type understands it: its
/// projection, filter condition and sort expression, and its window.
struct ListPlan<'q> {
    resource: Resource,
    computed: &'static str,
    query: &'q ListQuery,
    projection: Projection,
    condition: Option<SqlCondition>,
    sort: Option<String>,
    offset: u64,
    limit: u64,
    keyset: Option<Keyset>,
}

impl<'q> ListPlan<'q> {
    /// In the order errors are reported: projection, filter, sort.
    fn new<R: Kind>(
        rt: &ResourceType,
        tenant: &str,
        query: &'q ListQuery,
        (offset, limit, keyset): (u64, u64, Option<Keyset>),
    ) -> ScimResult<Self> {
        let projection = Projection::of(
            query.attributes.as_deref(),
            query.excluded_attributes.as_deref(),
            rt,
        )?;
        let condition = filter_condition(rt, R::RESOURCE, tenant, query.filter.as_deref())?;
        let sort = sort_by(rt, R::RESOURCE, query)?;
        Ok(ListPlan {
            resource: R::RESOURCE,
            computed: R::COMPUTED,
            query,
            projection,
            condition,
            sort,
            offset,
            limit,
            keyset,
        })
    }

    fn spec(&self) -> PageSpec<'_> {
        PageSpec {
            clause: self
                .condition
                .as_ref()
                .map(|c| (c.sql.as_str(), c.params.as_slice())),
            sort: self.sort.as_deref().map(|s| (s, self.query.descending)),
            offset: self.offset,
            limit: self.limit,
            keyset: self.keyset,
        }
    }
}

impl Plan for ListPlan<'_> {
    type Output = Listed<Row>;

    async fn run<D: SqlExecutor>(
        &self,
        ctx: &Ctx<'_, D>,
        leading: Vec<Stmt>,
    ) -> Result<(Vec<Vec<Row>>, Listed<Row>)> {
        Ok(resources::list_rows(
            ctx.db,
            self.resource,
            leading,
            &ctx.tenant,
            &self.spec(),
            self.projection.wants(self.computed),
        )
        .await?)
    }

    fn same_statements(&self, other: &Self) -> bool {
        self.condition == other.condition
            && self.sort == other.sort
            && self.projection.wants(self.computed) == other.projection.wants(other.computed)
    }

    fn needs_full_schema(&self) -> bool {
        // A sortBy the core schema does not know may name a custom
        // attribute.
        self.sort.is_none()
            && self
                .query
                .sort_by
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
    }
}

/// The SQL condition for a filter expression, if one was given.
pub(crate) fn filter_condition(
    rt: &ResourceType,
    resource: Resource,
    tenant: &str,
    filter: Option<&str>,
) -> ScimResult<Option<SqlCondition>> {
    match filter {
        Some(f) if !f.trim().is_empty() => {
            let mut parsed = parse_filter(f, &rt.all_schema_urns())
                .map_err(|e| ScimError::invalid_filter(e.message))?;
            // `employeeNumber eq "7"`: an extension's attribute without its
            // URN is that extension's.
            parsed.try_for_each_path(&mut |p| rt.qualify(p, ScimError::invalid_filter))?;
            condition(rt, resource, tenant, &parsed).map(Some)
        }
        _ => Ok(None),
    }
}

/// The SQL sort expression for a query's `sortBy`, if it names a known
/// attribute (RFC 7644 §3.4.2.3).
fn sort_by(rt: &ResourceType, resource: Resource, q: &ListQuery) -> ScimResult<Option<String>> {
    let Some(s) = q.sort_by.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let paths = parse_attr_list(s, rt)?;
    Ok(paths.first().and_then(|p| sort_expression(rt, resource, p)))
}

/// The resources matching a list query, in order, projected: from `offset`
/// (0-based) or after/before a keyset position, at most `limit` of them.
/// The tenant's definitions are read with the page when the query allows
/// (see [`TenantSchema::read`]).
pub(crate) async fn search<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    query: &ListQuery,
    window: (u64, u64, Option<Keyset>),
) -> Result<Found> {
    let plan_for = |rt: &ResourceType| ListPlan::new::<R>(rt, &ctx.tenant, query, window);
    let (schema, plan, listed) = TenantSchema::read::<R, _, D>(ctx, plan_for).await?;
    let listed = listed.decode(|row| resources::decode_row::<R::Computed>(R::RESOURCE, row))?;
    // An identity provider's lookup finds the one user it writes next.
    if let [one] = listed.items.as_slice() {
        recent::remember::<R, D>(ctx, &schema, one);
    }
    Ok(Found::of(
        listed,
        |r: &Stored<R::Computed>| r.seq,
        |r| plan.projection.apply(&schema.rt, read_form::<R, D>(ctx, r)),
    ))
}

/// `GET /Users`, `POST /Users/.search` and the same for Groups: a
/// ListResponse, index or cursor form.
pub(crate) async fn list<R: Kind, D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    query: &ListQuery,
) -> Result<Outcome> {
    let keyset = query.keyset(R::endpoint())?;
    let window = (query.paging.offset(), query.paging.count, keyset);
    let found = search::<R, D>(ctx, query, window).await?;
    Ok(Outcome::List(list_body(
        query,
        R::endpoint(),
        keyset,
        found,
    )))
}
