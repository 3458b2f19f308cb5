//! The /Users endpoints (RFC 7644 §3.3, §3.4.1, §3.4.2, §3.5.1, §3.6).

use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::proto::error::{ScimError, ScimResult};
use crate::proto::normalize::normalize;
use crate::proto::patch;
use crate::proto::project::resource_head;
use crate::proto::schema::{user_resource_type, ResourceType, ENTERPRISE_USER_SCHEMA};
use crate::server::endpoint::{
    check_if_match, delete_answer, etag, filter_condition, not_modified, retry_or_conflict,
    sort_by, Projection,
};
use crate::server::extension::{self, AttributeDef};
use crate::server::http::{Request, Response};
use crate::server::limits;
use crate::server::list::{list_body, Found, ListQuery};
use crate::server::service::Ctx;
use crate::store::query::{Resource, SqlCondition};
use crate::store::tenants::{self, DeletePolicy};
use crate::store::users::{self as store, StoredUser};
use crate::store::{
    next_rows, read_all, DbError, KeyValue, Keyset, Listed, PageSpec, SqlExecutor, Stmt,
};

fn db_error(e: DbError) -> ScimError {
    match e {
        DbError::Unique(_) => {
            ScimError::uniqueness("A user with this userName already exists in this tenant.")
        }
        DbError::Constraint(m) if m.contains("unique_guard") => {
            ScimError::uniqueness("Another user of this tenant already holds this unique number.")
        }
        other => ScimError::internal(format!("Storage error: {other}")),
    }
}

/// The read form of a stored user: `schemas`, `id`, the document, the
/// computed `groups`, and `meta`. Takes the user by value: its document's
/// values move into the read form.
pub fn read_form<D, K>(ctx: &Ctx<'_, D, K>, u: StoredUser) -> Value {
    let mut out = resource_head(u.doc, &u.id);
    // manager.$ref is the URI of the manager's resource (RFC 7643 §4.3),
    // derived from its id rather than stored.
    if let Some(manager) = out
        .get_mut(ENTERPRISE_USER_SCHEMA)
        .and_then(|e| e.get_mut("manager"))
        .and_then(Value::as_object_mut)
    {
        if let Some(id) = manager.get("value").and_then(Value::as_str) {
            let uri = format!("{}/Users/{id}", ctx.base_url);
            manager.insert("$ref".into(), Value::String(uri));
        }
    }
    if let Some(groups) = u.groups.filter(|g| !g.is_empty()) {
        let list = groups
            .iter()
            .map(|(id, display)| {
                json!({
                    "value": id,
                    "$ref": format!("{}/Groups/{id}", ctx.base_url),
                    "display": display,
                    "type": "direct",
                })
            })
            .collect();
        out.insert("groups".into(), Value::Array(list));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": u.created,
            "lastModified": u.last_modified,
            "location": format!("{}/Users/{}", ctx.base_url, u.id),
            "version": etag(u.version),
        }),
    );
    Value::Object(out)
}

/// A tenant's User schema: core, Enterprise and its custom extension.
pub struct TenantUsers {
    pub rt: ResourceType,
    pub defs: Vec<AttributeDef>,
    pub urn: String,
}

/// The User type of core and Enterprise alone. Every tenant's User type
/// extends it, and a request that names nothing beyond it reads the same
/// rows with it: such a request needs the tenant's definitions only to
/// decode and project, so they are read in the same round trip as the
/// rows rather than before them.
fn core_type() -> &'static ResourceType {
    static CORE: OnceLock<ResourceType> = OnceLock::new();
    CORE.get_or_init(|| user_resource_type(Vec::new()))
}

impl TenantUsers {
    pub async fn load<D: SqlExecutor, K: KeyValue>(ctx: &Ctx<'_, D, K>) -> ScimResult<Self> {
        let defs = extension::load(ctx.db, &ctx.tenant).await?;
        Ok(Self::with_defs(ctx, defs))
    }

    /// The schema of a tenant whose definitions are `defs`.
    fn with_defs<D, K>(ctx: &Ctx<'_, D, K>, defs: Vec<AttributeDef>) -> Self {
        let ext = extension::schema(&ctx.vendor, &ctx.tenant, &defs);
        TenantUsers {
            rt: user_resource_type(ext.into_iter().collect()),
            urn: extension::urn(&ctx.vendor, &ctx.tenant),
            defs,
        }
    }

    /// Validates a normalized document beyond its SCIM types, puts back the
    /// hidden values of removed attributes, and returns the guard statements
    /// of the write.
    async fn prepare<D: SqlExecutor, K: KeyValue>(
        &self,
        ctx: &Ctx<'_, D, K>,
        id: &str,
        doc: &mut Value,
        hidden: serde_json::Map<String, Value>,
    ) -> ScimResult<Vec<Stmt>> {
        limits::check_document(doc, &ctx.limits)?;
        let guards =
            extension::check(ctx.db, &ctx.vendor, &ctx.tenant, id, &self.defs, doc).await?;
        extension::restore_hidden(&self.urn, doc, hidden);
        Ok(guards)
    }

    /// Writes a user's new document over `current` (guarded by its version),
    /// keeping the hidden values; `None` when it changed meanwhile.
    async fn write<D: SqlExecutor, K: KeyValue>(
        &self,
        ctx: &Ctx<'_, D, K>,
        current: StoredUser,
        mut doc: Value,
        hidden: serde_json::Map<String, Value>,
    ) -> ScimResult<Option<StoredUser>> {
        let guards = self.prepare(ctx, &current.id, &mut doc, hidden).await?;
        let written = store::replace(
            ctx.db,
            &ctx.tenant,
            &current.id,
            current.version,
            &ctx.now,
            &doc,
            guards,
        )
        .await
        .map_err(db_error)?;
        Ok(written.then(|| StoredUser {
            last_modified: ctx.now.clone(),
            version: current.version + 1,
            doc,
            ..current
        }))
    }

    /// The current document without hidden values, and those values.
    fn visible(&self, doc: &Value) -> (Value, serde_json::Map<String, Value>) {
        let mut d = doc.clone();
        let hidden = extension::take_hidden(&self.urn, &self.defs, &mut d);
        (d, hidden)
    }
}

/// The User resource type of the request's tenant.
pub async fn resource_type<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
) -> ScimResult<ResourceType> {
    Ok(TenantUsers::load(ctx).await?.rt)
}

pub async fn create<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> ScimResult<Response> {
    let tu = TenantUsers::load(ctx).await?;
    let rt = &tu.rt;
    let input = req.json()?;
    let mut doc = normalize(rt, &input, None)?;
    let id = uuid::Uuid::new_v4().to_string();
    let guards = tu.prepare(ctx, &id, &mut doc, Default::default()).await?;
    store::insert(ctx.db, &ctx.tenant, &id, &ctx.now, &doc, guards)
        .await
        .map_err(db_error)?;
    let stored = StoredUser {
        // The position is not read back: single-resource responses never
        // show it, and lists read it from the table.
        seq: 0,
        id,
        created: ctx.now.clone(),
        last_modified: ctx.now.clone(),
        version: 1,
        doc,
        groups: Some(Vec::new()),
        deleted: None,
    };
    let location = format!("{}/Users/{}", ctx.base_url, stored.id);
    Ok(Projection::of(req, rt)?
        .respond(rt, 201, stored.version, read_form(ctx, stored))
        .with_header("location", location))
}

pub async fn get<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let Ok(core) = Projection::of(req, core_type()) else {
        // The projection names something beyond core and Enterprise (or is
        // invalid): the tenant's schema decides, so it is read first.
        let rt = resource_type(ctx).await?;
        let projection = Projection::of(req, &rt)?;
        let user = store::get(ctx.db, &ctx.tenant, id, projection.wants("groups"))
            .await
            .map_err(db_error)?;
        return answer_get(ctx, req, id, &rt, &projection, user);
    };
    // The definitions and the user in one round trip.
    let with_groups = core.wants("groups");
    let mut results = read_all(
        ctx.db,
        vec![
            extension::load_stmt(&ctx.tenant),
            store::get_stmt(&ctx.tenant, id, with_groups),
        ],
    )
    .await
    .map_err(db_error)?
    .into_iter();
    let defs = extension::from_rows(&next_rows(&mut results).map_err(db_error)?);
    let rows = next_rows(&mut results).map_err(db_error)?;
    if defs.is_empty() {
        let user = store::get_from_rows(&rows).map_err(db_error)?;
        return answer_get(ctx, req, id, core_type(), &core, user);
    }
    let rt = TenantUsers::with_defs(ctx, defs).rt;
    let projection = Projection::of(req, &rt)?;
    let user = if projection.wants("groups") == with_groups {
        store::get_from_rows(&rows)
    } else {
        // The tenant's schema reads the user otherwise: read it again so.
        store::get(ctx.db, &ctx.tenant, id, projection.wants("groups")).await
    }
    .map_err(db_error)?;
    answer_get(ctx, req, id, &rt, &projection, user)
}

/// The answer to a GET of user `id`, read as `user`.
fn answer_get<D, K>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
    rt: &ResourceType,
    projection: &Projection,
    user: Option<StoredUser>,
) -> ScimResult<Response> {
    let user = user.ok_or_else(|| not_found(id))?;
    if let Some(r) = not_modified(req, user.version) {
        return Ok(r);
    }
    Ok(projection.respond(rt, 200, user.version, read_form(ctx, user)))
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("User {id} not found."))
}

pub async fn replace<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let tu = TenantUsers::load(ctx).await?;
    let rt = &tu.rt;
    let input = req.json()?;
    let projection = Projection::of(req, rt)?;
    let mut attempt = 0;
    let stored = loop {
        attempt += 1;
        let current = store::get(ctx.db, &ctx.tenant, id, true)
            .await
            .map_err(db_error)?
            .ok_or_else(|| not_found(id))?;
        check_if_match(req, current.version)?;
        let (visible, hidden) = tu.visible(&current.doc);
        let doc = normalize(rt, &input, Some(&visible))?;
        if let Some(stored) = tu.write(ctx, current, doc, hidden).await? {
            break stored;
        }
        retry_or_conflict(req, attempt)?;
    };
    Ok(projection.respond(rt, 200, stored.version, read_form(ctx, stored)))
}

/// `PATCH /Users/{id}` (RFC 7644 §3.5.2): every operation applies, or none.
pub async fn patch<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let tu = TenantUsers::load(ctx).await?;
    let rt = &tu.rt;
    let projection = Projection::of(req, rt)?;
    let ops = patch::parse_request(&req.json()?, rt, ctx.limits.max_patch_operations)?;
    let mut attempt = 0;
    let stored = loop {
        attempt += 1;
        let current = store::get(ctx.db, &ctx.tenant, id, true)
            .await
            .map_err(db_error)?
            .ok_or_else(|| not_found(id))?;
        check_if_match(req, current.version)?;
        let (visible, hidden) = tu.visible(&current.doc);
        let outcome = patch::apply(rt, id, &visible, &ops)?;
        if !outcome.changed {
            break current;
        }
        if let Some(stored) = tu.write(ctx, current, outcome.doc, hidden).await? {
            break stored;
        }
        retry_or_conflict(req, attempt)?;
    };
    Ok(projection.respond(rt, 200, stored.version, read_form(ctx, stored)))
}

pub async fn delete<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    // With If-Match the delete is conditional on the version it names,
    // in the same statement (RFC 7644 §3.14).
    let mut version = None;
    if req.header("if-match").is_some() {
        let current = store::get(ctx.db, &ctx.tenant, id, false)
            .await
            .map_err(db_error)?
            .ok_or_else(|| not_found(id))?;
        check_if_match(req, current.version)?;
        version = Some(current.version);
    }
    let retain = tenants::settings(ctx.db, &ctx.tenant)
        .await
        .map_err(db_error)?
        .delete_policy
        == DeletePolicy::Retain;
    let deleted = store::delete(ctx.db, &ctx.tenant, id, retain, &ctx.now, version)
        .await
        .map_err(db_error)?;
    delete_answer(deleted, version, not_found(id))
}

pub async fn list<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    query: &ListQuery,
) -> ScimResult<Response> {
    let keyset = query.keyset("Users")?;
    let found = search(
        ctx,
        query,
        query.paging.offset(),
        query.paging.count,
        keyset,
    )
    .await?;
    let body = list_body(query, "Users", keyset, found);
    Ok(Response::scim(200, &body))
}

/// What a list query reads, as one User type understands it: its
/// projection, filter condition and sort expression.
struct Reads {
    projection: Projection,
    condition: Option<SqlCondition>,
    sort: Option<String>,
}

impl Reads {
    /// In the order errors are reported: projection, filter, sort.
    fn of<D, K>(ctx: &Ctx<'_, D, K>, rt: &ResourceType, query: &ListQuery) -> ScimResult<Reads> {
        let projection = Projection::from_params(
            query.attributes.as_deref(),
            query.excluded_attributes.as_deref(),
            rt,
        )?;
        let condition = filter_condition(rt, Resource::User, &ctx.tenant, query.filter.as_deref())?;
        let sort = sort_by(rt, Resource::User, query)?;
        Ok(Reads {
            projection,
            condition,
            sort,
        })
    }

    fn spec(
        &self,
        query: &ListQuery,
        offset: u64,
        limit: u64,
        keyset: Option<Keyset>,
    ) -> PageSpec<'_> {
        PageSpec {
            clause: self
                .condition
                .as_ref()
                .map(|c| (c.sql.as_str(), c.params.as_slice())),
            sort: self.sort.as_deref().map(|s| (s, query.descending)),
            offset,
            limit,
            keyset,
        }
    }

    /// Whether the store runs the same statements for `other`.
    fn same_statements(&self, other: &Reads) -> bool {
        self.condition == other.condition
            && self.sort == other.sort
            && self.projection.wants("groups") == other.projection.wants("groups")
    }
}

/// The users matching a list query, in order, projected: from `offset`
/// (0-based) or after/before a keyset position, at most `limit` of them.
///
/// When the filter and the sort name nothing beyond core and Enterprise,
/// the tenant's definitions are read in the same round trip as the page,
/// and its full schema then checks that it reads the same statements (else
/// the page is read again with them). Otherwise, or when the filter does
/// not parse, the definitions are read first, so every answer and error is
/// the full schema's.
pub async fn search<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    query: &ListQuery,
    offset: u64,
    limit: u64,
    keyset: Option<Keyset>,
) -> ScimResult<Found> {
    let sort_named = query
        .sort_by
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    let core = Reads::of(ctx, core_type(), query)
        .ok()
        // A sortBy core does not know may name a custom attribute.
        .filter(|r| r.sort.is_some() || !sort_named);
    let Some(core) = core else {
        let rt = resource_type(ctx).await?;
        let reads = Reads::of(ctx, &rt, query)?;
        let spec = reads.spec(query, offset, limit, keyset);
        let listed = store::list(ctx.db, &ctx.tenant, &spec, reads.projection.wants("groups"))
            .await
            .map_err(db_error)?;
        return Ok(found(ctx, &rt, &reads.projection, listed));
    };
    let spec = core.spec(query, offset, limit, keyset);
    let (leading, listed) = store::list_after(
        ctx.db,
        vec![extension::load_stmt(&ctx.tenant)],
        &ctx.tenant,
        &spec,
        core.projection.wants("groups"),
    )
    .await
    .map_err(db_error)?;
    let defs = extension::from_rows(&next_rows(&mut leading.into_iter()).map_err(db_error)?);
    if defs.is_empty() {
        return Ok(found(ctx, core_type(), &core.projection, listed));
    }
    let rt = TenantUsers::with_defs(ctx, defs).rt;
    let reads = Reads::of(ctx, &rt, query)?;
    let listed = if reads.same_statements(&core) {
        listed
    } else {
        let spec = reads.spec(query, offset, limit, keyset);
        store::list(ctx.db, &ctx.tenant, &spec, reads.projection.wants("groups"))
            .await
            .map_err(db_error)?
    };
    Ok(found(ctx, &rt, &reads.projection, listed))
}

fn found<D, K>(
    ctx: &Ctx<'_, D, K>,
    rt: &ResourceType,
    projection: &Projection,
    listed: Listed<StoredUser>,
) -> Found {
    Found::of(
        listed,
        |u| u.seq,
        |u| projection.apply(rt, read_form(ctx, u)),
    )
}
