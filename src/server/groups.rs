//! The /Groups endpoints (RFC 7644 §3.3–§3.6). Members live in their own
//! table: the document never holds them, and `excludedAttributes=members`
//! never reads them.

use serde_json::{json, Map, Value};

use crate::proto::error::{ScimError, ScimResult};
use crate::proto::normalize::normalize;
use crate::proto::patch;
use crate::proto::project::resource_head;
use crate::proto::schema::{group_resource_type, ResourceType};
use crate::server::endpoint::{
    check_if_match, delete_answer, etag, filter_condition, not_modified, retry_or_conflict,
    sort_by, Projection,
};
use crate::server::http::{Request, Response};
use crate::server::limits;
use crate::server::list::{list_body, Found, ListQuery};
use crate::server::service::Ctx;
use crate::store::groups::{self as store, Member, Membership, NewMember, StoredGroup};
use crate::store::query::Resource;
use crate::store::{DbError, KeyValue, Keyset, PageSpec, SqlExecutor};

fn db_error(e: DbError) -> ScimError {
    match e {
        DbError::Unique(_) => {
            ScimError::uniqueness("A group with this displayName already exists in this tenant.")
        }
        DbError::Constraint(m) if m.contains("member_type") => ScimError::invalid_value(
            "A member does not exist in this tenant (members must be existing users or groups).",
        ),
        other => ScimError::internal(format!("Storage error: {other}")),
    }
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("Group {id} not found."))
}

/// Splits the `members` out of a normalized group document.
pub fn take_members(doc: &mut Value) -> Vec<NewMember> {
    let members = doc
        .as_object_mut()
        .and_then(|o| o.remove("members"))
        .and_then(|m| match m {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .unwrap_or_default();
    members
        .iter()
        .filter_map(|m| {
            Some(NewMember {
                id: m.get("value")?.as_str()?.to_owned(),
                kind: m.get("type").and_then(Value::as_str).map(str::to_owned),
            })
        })
        .collect()
}

/// 400 `invalidValue` naming the members that do not exist: they are never
/// stored (the batch re-checks inside the write, so a race cannot store one).
pub async fn check_members<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    group_id: &str,
    members: &[NewMember],
) -> ScimResult<()> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let missing = store::missing_members(db, tenant, group_id, &ids)
        .await
        .map_err(db_error)?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ScimError::invalid_value(format!(
            "These members do not exist in this tenant: {}.",
            missing.join(", ")
        )))
    }
}

fn member_json<D, K>(ctx: &Ctx<'_, D, K>, m: &Member) -> Value {
    let mut o = Map::new();
    o.insert("value".into(), Value::String(m.id.clone()));
    let endpoint = if m.kind == "Group" { "Groups" } else { "Users" };
    o.insert(
        "$ref".into(),
        Value::String(format!("{}/{endpoint}/{}", ctx.base_url, m.id)),
    );
    if let Some(d) = &m.display {
        o.insert("display".into(), Value::String(d.clone()));
    }
    o.insert("type".into(), Value::String(m.kind.clone()));
    Value::Object(o)
}

/// The read form of a stored group.
pub fn read_form<D, K>(ctx: &Ctx<'_, D, K>, g: StoredGroup) -> Value {
    let mut out = resource_head(g.doc, &g.id);
    if let Some(members) = g.members.as_ref().filter(|m| !m.is_empty()) {
        let list = members.iter().map(|m| member_json(ctx, m)).collect();
        out.insert("members".into(), Value::Array(list));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": g.created,
            "lastModified": g.last_modified,
            "location": format!("{}/Groups/{}", ctx.base_url, g.id),
            "version": etag(g.version),
        }),
    );
    Value::Object(out)
}

async fn reread<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    projection: &Projection,
) -> ScimResult<StoredGroup> {
    store::get(ctx.db, &ctx.tenant, id, projection.wants("members"))
        .await
        .map_err(db_error)?
        .ok_or_else(|| not_found(id))
}

pub async fn create<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> ScimResult<Response> {
    let rt = group_resource_type();
    let projection = Projection::of(req, &rt)?;
    let mut doc = normalize(&rt, &req.json()?, None)?;
    limits::check_document(&doc, &ctx.limits)?;
    let members = take_members(&mut doc);
    let id = uuid::Uuid::new_v4().to_string();
    check_members(ctx.db, &ctx.tenant, &id, &members).await?;
    let membership = Membership {
        add: members,
        ..Membership::default()
    };
    store::insert(ctx.db, &ctx.tenant, &id, &ctx.now, &doc, &membership)
        .await
        .map_err(db_error)?;
    let group = reread(ctx, &id, &projection).await?;
    let location = format!("{}/Groups/{id}", ctx.base_url);
    Ok(projection
        .respond(&rt, 201, group.version, read_form(ctx, group))
        .with_header("location", location))
}

pub async fn get<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let rt = group_resource_type();
    let projection = Projection::of(req, &rt)?;
    let group = reread(ctx, id, &projection).await?;
    if let Some(r) = not_modified(req, group.version) {
        return Ok(r);
    }
    Ok(projection.respond(&rt, 200, group.version, read_form(ctx, group)))
}

pub async fn replace<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let rt = group_resource_type();
    let projection = Projection::of(req, &rt)?;
    let input = req.json()?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = store::get(ctx.db, &ctx.tenant, id, false)
            .await
            .map_err(db_error)?
            .ok_or_else(|| not_found(id))?;
        check_if_match(req, current.version)?;
        let mut doc = normalize(&rt, &input, Some(&current.doc))?;
        limits::check_document(&doc, &ctx.limits)?;
        let members = take_members(&mut doc);
        check_members(ctx.db, &ctx.tenant, id, &members).await?;
        // PUT replaces the member list: all out, the given ones in.
        let membership = Membership {
            remove_all: true,
            remove: Vec::new(),
            add: members,
        };
        if write(ctx, id, current.version, &doc, &membership).await? {
            break;
        }
        retry_or_conflict(req, attempt)?;
    }
    let group = reread(ctx, id, &projection).await?;
    Ok(projection.respond(&rt, 200, group.version, read_form(ctx, group)))
}

/// Writes a group's new document and membership changes atomically if the
/// group is still at `version`; false (nothing written) when it changed
/// meanwhile.
pub async fn write<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    version: i64,
    doc: &Value,
    membership: &Membership,
) -> ScimResult<bool> {
    store::update(ctx.db, &ctx.tenant, id, version, &ctx.now, doc, membership)
        .await
        .map_err(db_error)
}

/// `PATCH /Groups/{id}` (RFC 7644 §3.5.2): the document and the membership
/// change together in one atomic write, or not at all. Membership changes
/// touch only the named members' rows. Answers 204 (what Microsoft Entra
/// prefers) unless `attributes`/`excludedAttributes` ask for the resource.
pub async fn patch<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let rt = group_resource_type();
    let projection = Projection::of(req, &rt)?;
    let ops = patch::parse_request(&req.json()?, &rt, ctx.limits.max_patch_operations)?;
    let mut attempt = 0;
    let version = loop {
        attempt += 1;
        if let Some(version) = patch_once(ctx, req, &rt, id, &ops).await? {
            break version;
        }
        retry_or_conflict(req, attempt)?;
    };
    if projection.attributes.is_empty() && projection.excluded.is_empty() {
        return Ok(Response::empty(204).with_header("etag", etag(version)));
    }
    let group = reread(ctx, id, &projection).await?;
    Ok(projection.respond(&rt, 200, group.version, read_form(ctx, group)))
}

/// One attempt at a group PATCH: the version it leaves, or `None` when the
/// group changed between its read and its write (nothing written).
async fn patch_once<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    rt: &ResourceType,
    id: &str,
    ops: &[patch::PatchOp],
) -> ScimResult<Option<i64>> {
    let current = store::get(ctx.db, &ctx.tenant, id, false)
        .await
        .map_err(db_error)?
        .ok_or_else(|| not_found(id))?;
    check_if_match(req, current.version)?;
    let outcome = patch::apply(rt, id, &current.doc, ops)?;
    let changes = outcome.members;
    let mut remove = changes.remove;
    if !changes.remove_filters.is_empty() {
        // Filters on members (e.g. `members[type eq "User"]`) are evaluated
        // against the current members, then removed by id.
        let with_members = store::get(ctx.db, &ctx.tenant, id, true)
            .await
            .map_err(db_error)?
            .ok_or_else(|| not_found(id))?;
        for m in with_members.members.unwrap_or_default() {
            let element = json!({"value": m.id, "type": m.kind, "display": m.display});
            if changes
                .remove_filters
                .iter()
                .any(|f| f.matches(&element, &|_| false))
            {
                remove.push(m.id);
            }
        }
    }
    let add: Vec<NewMember> = changes
        .add
        .into_iter()
        .map(|(id, kind)| NewMember { id, kind })
        .collect();
    limits::check_document(&outcome.doc, &ctx.limits)?;
    check_members(ctx.db, &ctx.tenant, id, &add).await?;
    let membership = Membership {
        remove_all: changes.remove_all,
        remove,
        add,
    };
    let mut version = current.version;
    if outcome.doc == current.doc && req.header("if-match").is_none() {
        // Only members change, unconditionally: Okta and Entra add and
        // remove members of one group in parallel requests without
        // If-Match, and each must apply rather than fail 412 on the version
        // bump of another. The document is not rewritten.
        if !membership.is_empty() {
            if !store::update_members(ctx.db, &ctx.tenant, id, &ctx.now, &membership)
                .await
                .map_err(db_error)?
            {
                return Err(not_found(id));
            }
            // The version now (other writes may have landed meanwhile).
            version = store::get(ctx.db, &ctx.tenant, id, false)
                .await
                .map_err(db_error)?
                .ok_or_else(|| not_found(id))?
                .version;
        }
    } else if outcome.changed {
        if !write(ctx, id, current.version, &outcome.doc, &membership).await? {
            return Ok(None);
        }
        version += 1;
    }
    Ok(Some(version))
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
    let deleted = store::delete(ctx.db, &ctx.tenant, id, version)
        .await
        .map_err(db_error)?;
    delete_answer(deleted, version, not_found(id))
}

pub async fn list<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    query: &ListQuery,
) -> ScimResult<Response> {
    let keyset = query.keyset("Groups")?;
    let found = search(
        ctx,
        query,
        query.paging.offset(),
        query.paging.count,
        keyset,
    )
    .await?;
    let body = list_body(query, "Groups", keyset, found);
    Ok(Response::scim(200, &body))
}

/// The groups matching a list query, in order, projected: from `offset`
/// (0-based) or after/before a keyset position, at most `limit` of them.
pub async fn search<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    query: &ListQuery,
    offset: u64,
    limit: u64,
    keyset: Option<Keyset>,
) -> ScimResult<Found> {
    let rt = group_resource_type();
    let projection = Projection::from_params(
        query.attributes.as_deref(),
        query.excluded_attributes.as_deref(),
        &rt,
    )?;
    let condition = filter_condition(&rt, Resource::Group, &ctx.tenant, query.filter.as_deref())?;
    let sort = sort_by(&rt, Resource::Group, query)?;
    let spec = PageSpec {
        clause: condition
            .as_ref()
            .map(|c| (c.sql.as_str(), c.params.as_slice())),
        sort: sort.as_deref().map(|s| (s, query.descending)),
        offset,
        limit,
        keyset,
    };
    let listed = store::list(ctx.db, &ctx.tenant, &spec, projection.wants("members"))
        .await
        .map_err(db_error)?;
    Ok(Found::of(
        listed,
        |g| g.seq,
        |g| projection.apply(&rt, read_form(ctx, g)),
    ))
}
