//! The resource pipeline: each verb of RFC 7644 §3 written once, generic
//! over the kind of resource ([`Kind`]: Users, Groups). A verb reads the
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

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::proto::attr::{parse_attr_list, AttrPath};
use crate::proto::error::{ScimError, ScimResult};
use crate::proto::patch::Outcome as Patched;
use crate::proto::project::{project, resource_head};
use crate::proto::schema::ResourceType;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::op::{etag, Action, Endpoint, Op, Outcome};
use crate::server::schema::TenantSchema;
use crate::store::resources::{Insert, Removal, Resource, Stored, Update};
use crate::store::SqlExecutor;

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod get;
pub(crate) mod groups;
pub(crate) mod list;
pub(crate) mod patch;
pub(crate) mod replace;
pub(crate) mod users;
pub(crate) mod write;

pub(crate) use groups::Groups;
pub(crate) use users::Users;

/// The values of a tenant's removed custom attributes, split out of a
/// stored document so that a write neither rejects nor loses them.
pub(crate) type Hidden = Map<String, Value>;

/// A kind of resource: what the generic verbs need to know of it.
#[allow(async_fn_in_trait)]
pub(crate) trait Kind {
    /// Its table in the store.
    const RESOURCE: Resource;
    /// The attribute the store computes from the membership table when
    /// asked (`groups` of a user, `members` of a group).
    const COMPUTED: &'static str;
    /// Whether tenants extend its schema with their own attributes.
    const EXTENSIBLE: bool;
    /// Whether a PATCH answers 204 unless `attributes`/`excludedAttributes`
    /// ask for the resource.
    const PATCH_NO_CONTENT: bool;
    /// The computed attribute as the store reads it.
    type Computed: DeserializeOwned;

    /// Its resource type without any tenant's extension.
    fn core_type() -> &'static ResourceType;

    /// `meta.resourceType`, e.g. `User` (its resource type's name).
    fn name() -> &'static str {
        &Self::core_type().name
    }

    /// Its endpoint under the base URL, e.g. `Users`.
    fn endpoint() -> &'static str {
        Self::core_type().endpoint.trim_start_matches('/')
    }

    /// Adds to a read form what the kind derives rather than stores: its
    /// computed attribute (when read) and references built from ids.
    fn derive<D>(ctx: &Ctx<'_, D>, form: &mut Map<String, Value>, computed: Option<Self::Computed>);

    /// The stored document without the tenant's hidden values, and those.
    fn split_hidden(_schema: &TenantSchema, doc: &Value) -> (Value, Hidden) {
        (doc.clone(), Hidden::new())
    }

    /// Checks a normalized new resource beyond its SCIM types and returns
    /// the document to store with the statements that go with it.
    async fn prepare_create<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        id: &str,
        doc: Value,
    ) -> Result<Insert>;

    /// The write of a PUT: `doc` (normalized against the current visible
    /// document) replaces `current`, keeping `hidden`.
    async fn prepare_replace<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        current: &Stored<Self::Computed>,
        doc: Value,
        hidden: Hidden,
    ) -> Result<Update>;

    /// The write of a PATCH whose result changed something; `None` when
    /// nothing is left to write. `conditional` when the request has
    /// `If-Match`.
    async fn prepare_patch<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        current: &Stored<Self::Computed>,
        patched: Patched,
        hidden: Hidden,
        conditional: bool,
    ) -> Result<Option<Update>>;

    /// How a DELETE removes a resource of this tenant.
    async fn removal<'c, D: SqlExecutor>(ctx: &'c Ctx<'_, D>) -> Result<Removal<'c>>;

    fn not_found(id: &str) -> ScimError {
        ScimError::not_found(format!("{} {id} not found.", Self::name()))
    }
}

/// The `attributes` and `excludedAttributes` of a request.
pub(crate) struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    pub(crate) fn of(
        attributes: Option<&str>,
        excluded: Option<&str>,
        rt: &ResourceType,
    ) -> ScimResult<Projection> {
        let list = |v: Option<&str>| v.map_or(Ok(Vec::new()), |v| parse_attr_list(v, rt));
        Ok(Projection {
            attributes: list(attributes)?,
            excluded: list(excluded)?,
        })
    }

    /// Whether the output can include the core attribute `name`, so that
    /// costly computed attributes (`groups`, `members`) are read only when
    /// they will be returned.
    pub(crate) fn wants(&self, name: &str) -> bool {
        let named = |l: &[AttrPath]| {
            l.iter()
                .any(|p| p.urn.is_none() && p.name.eq_ignore_ascii_case(name))
        };
        if self.attributes.is_empty() {
            !named(&self.excluded)
        } else {
            named(&self.attributes)
        }
    }

    /// Whether the request asked for any projection at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    pub(crate) fn apply(&self, rt: &ResourceType, full: Value) -> Value {
        project(rt, full, &self.attributes, &self.excluded)
    }
}

/// The read form of a stored resource (before projection): `schemas`,
/// `id`, the document, what the kind derives ([`Kind::derive`]) and
/// `meta` (RFC 7643 §3.1). Takes the resource by value: its document's
/// values move into the read form.
pub(crate) fn read_form<K: Kind, D>(ctx: &Ctx<'_, D>, stored: Stored<K::Computed>) -> Value {
    let Stored {
        id,
        created,
        last_modified,
        version,
        doc,
        computed,
        ..
    } = stored;
    let mut form = resource_head(doc, &id);
    K::derive(ctx, &mut form, computed);
    form.insert(
        "meta".into(),
        json!({
            "resourceType": K::name(),
            "created": created,
            "lastModified": last_modified,
            "location": ctx.location(K::endpoint(), &id),
            "version": etag(version),
        }),
    );
    Value::Object(form)
}

/// The outcome carrying one stored resource, projected.
pub(crate) fn answer<K: Kind, D>(
    ctx: &Ctx<'_, D>,
    rt: &ResourceType,
    projection: &Projection,
    status: u16,
    stored: Stored<K::Computed>,
) -> Outcome {
    let id = stored.id.clone();
    let version = stored.version;
    let location = (status == 201).then(|| ctx.location(K::endpoint(), &id));
    Outcome::Resource {
        status,
        id,
        version,
        location,
        body: projection.apply(rt, read_form::<K, D>(ctx, stored)),
    }
}

/// Carries out an operation on a resource endpoint.
pub(crate) async fn run<D: SqlExecutor>(ctx: &Ctx<'_, D>, op: Op) -> Result<Outcome> {
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

/// The `attributes` and `excludedAttributes` parameters of a request.
pub(crate) type ProjectionParams<'a> = (Option<&'a str>, Option<&'a str>);
