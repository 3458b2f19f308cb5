//! What the generic verbs know of a kind of resource ([`Kind`]), and the
//! read form and answer every verb builds from a stored resource.

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::proto::error::ScimError;
use crate::proto::patch::Outcome as Patched;
use crate::proto::project::resource_head;
use crate::proto::schema::ResourceType;
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::events;
use crate::server::op::{etag, Outcome};
use crate::server::resources::projection::Projection;
use crate::server::schema::{TenantSchema, Typed};
use crate::store::resources::{Doc, Removal, Resource, Stored, Update};
use crate::store::{SqlExecutor, Stmt};

/// The values of a tenant's removed custom attributes, split out of a
/// stored document so that a write neither rejects nor loses them.
pub(crate) type Hidden = Map<String, Value>;

/// How a PATCH is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatchMode {
    /// The request has `If-Match`.
    pub conditional: bool,
    /// It applies to this isolate's recent copy of the resource (see
    /// [`super::recent`]), which its batch must prove current.
    pub from_copy: bool,
}

/// A kind of resource: what the generic verbs need to know of it.
#[allow(async_fn_in_trait)]
pub(crate) trait Kind: Typed {
    /// Its table in the store.
    const RESOURCE: Resource;
    /// The attribute the store computes from the membership table when
    /// asked (`groups` of a user, `members` of a group).
    const COMPUTED: &'static str;
    /// Whether a PATCH answers 204 unless `attributes`/`excludedAttributes`
    /// ask for the resource (else 200 with it).
    const PATCH_NO_CONTENT: bool = false;
    /// Whether its writes change its computed attribute (a group's writes
    /// change its members; a user's never change its groups). Only then is
    /// the answer to a write read back from the database; otherwise it is
    /// what was written.
    const WRITES_CHANGE_COMPUTED: bool = false;
    /// Whether this isolate keeps copies of the ones it read or wrote
    /// recently, for the next write to start from (see [`super::recent`]:
    /// users, whose every document rewrite is guarded by their version).
    const KEEPS_RECENT: bool = false;
    /// The computed attribute as the store reads it.
    type Computed: DeserializeOwned + Default;
    /// The first part of its event types (`user` in `user.created`).
    const EVENT: &'static str;
    /// Whether a DELETE may keep it as a retained tombstone (its
    /// `<kind>.deleted` events then say `retained`).
    const RETAINS: bool = false;

    /// The `resource` of its events: type, id, externalId and its name.
    fn summary(id: &str, doc: &Value) -> Value;

    /// What a PatchOp `body` lets be read along with the resource before
    /// the write (a group: whether the members it adds exist): the ids and
    /// the statements. `None`: nothing.
    fn probe(_tenant: &str, _body: &Value) -> Option<(Vec<String>, Vec<crate::store::Stmt>)> {
        None
    }

    /// The event type of a change of its document from `old` to `new`.
    fn update_type(_old: &Value, _new: &Value) -> String {
        format!("{}.updated", Self::EVENT)
    }

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
    ) -> Result<Doc>;

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
    /// nothing is left to write.
    async fn prepare_patch<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        schema: &TenantSchema,
        current: &Stored<Self::Computed>,
        patched: Patched,
        hidden: Hidden,
        how: PatchMode,
    ) -> Result<Option<Update>>;

    /// How a DELETE removes a resource of this tenant.
    async fn removal<'c, D: SqlExecutor>(ctx: &'c Ctx<'_, D>) -> Result<Removal<'c>>;

    fn not_found(id: &str) -> ScimError {
        ScimError::not_found(format!("{} {id} not found.", Self::name()))
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

/// A resource as a write at the request's time leaves it, without its
/// computed attribute: `id` at `version` with `doc` (`created` now when it
/// is new).
pub(crate) fn written<C, D>(id: &str, ctx: &Ctx<'_, D>, version: i64, doc: Value) -> Stored<C> {
    Stored {
        seq: 0,
        id: id.to_owned(),
        created: ctx.now.clone(),
        last_modified: ctx.now.clone(),
        version,
        doc,
        deleted: None,
        computed: None,
        roles: None,
    }
}

/// The `data` of an event about a resource of kind `K` stored as `doc`:
/// as the admin API shows it (the schema's `returned` rules applied, so
/// never a password), without its computed attribute.
pub(crate) fn event_data<K: Kind, D>(
    ctx: &Ctx<'_, D>,
    rt: &ResourceType,
    stored: Stored<K::Computed>,
) -> Value {
    let stored = Stored {
        computed: None,
        ..stored
    };
    crate::proto::project::project(rt, read_form::<K, D>(ctx, stored), &[], &[])
}

/// The statements recording event `kind` for the change of `current`'s
/// document to `doc` (the resource at the next version): `changed` and
/// `previous` from one to the other. None when nothing changed.
pub(crate) fn change_event<K: Kind, D>(
    ctx: &Ctx<'_, D>,
    rt: &ResourceType,
    current: &Stored<K::Computed>,
    doc: &Value,
    kind: &str,
) -> Vec<Stmt> {
    let (changed, previous) = events::diff(&current.doc, doc);
    if changed.is_empty() {
        return Vec::new();
    }
    let after = Stored {
        created: current.created.clone(),
        ..written(&current.id, ctx, current.version + 1, doc.clone())
    };
    ctx.events.record(
        kind,
        &K::summary(&current.id, doc),
        event_data::<K, D>(ctx, rt, after),
        Some(events::changes(changed, previous)),
    )
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
