//! The /Users endpoints (RFC 7644 §3.3, §3.4.1, §3.4.2, §3.5.1, §3.6).

use serde_json::{json, Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::{parse_filter, AttrPath};
use crate::http::{Request, Response};
use crate::list::{list_response, Paging};
use crate::query::user_condition;
use crate::resource::{normalize, parse_attr_list, project};
use crate::schema::{user_resource_type, ResourceType};
use crate::service::Ctx;
use crate::store::users::{self as store, StoredUser};
use crate::store::{DbError, KeyValue, SqlExecutor};

fn db_error(e: DbError) -> ScimError {
    match e {
        DbError::Unique(_) => {
            ScimError::uniqueness("A user with this userName already exists in this tenant.")
        }
        other => ScimError::internal(format!("Storage error: {other}")),
    }
}

/// `W/"<version>"`: the weak entity tag of a stored version (RFC 7644 §3.14).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The read form of a stored user: `schemas`, `id`, the document, the
/// computed `groups`, and `meta`.
fn read_form<D, K>(ctx: &Ctx<'_, D, K>, u: &StoredUser) -> Value {
    let mut out = Map::new();
    if let Some(s) = u.doc.get("schemas") {
        out.insert("schemas".into(), s.clone());
    }
    out.insert("id".into(), Value::String(u.id.clone()));
    if let Some(doc) = u.doc.as_object() {
        for (k, v) in doc {
            if k != "schemas" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(groups) = u.groups.as_ref().filter(|g| !g.is_empty()) {
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

/// The `attributes` and `excludedAttributes` of a request (RFC 7644 §3.4.2.5).
struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

impl Projection {
    fn of(req: &Request, rt: &ResourceType) -> ScimResult<Projection> {
        let list = |name: &str| match req.query_param(name) {
            Some(v) => parse_attr_list(&v, rt),
            None => Ok(Vec::new()),
        };
        Ok(Projection {
            attributes: list("attributes")?,
            excluded: list("excludedAttributes")?,
        })
    }

    /// Whether the output can include the attribute `name` (so that costly
    /// computed attributes like `groups` are read only when needed).
    fn wants(&self, name: &str) -> bool {
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

    fn apply(&self, rt: &ResourceType, full: &Value) -> Value {
        project(rt, full, &self.attributes, &self.excluded)
    }
}

fn resource_response(status: u16, body: &Value, version: i64) -> Response {
    Response::scim(status, body).with_header("etag", etag(version))
}

pub async fn create<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> ScimResult<Response> {
    let rt = user_resource_type(Vec::new());
    let input = req.json()?;
    let doc = normalize(&rt, &input, None)?;
    let id = uuid::Uuid::new_v4().to_string();
    store::insert(ctx.db, &ctx.tenant, &id, &ctx.now, &doc)
        .await
        .map_err(db_error)?;
    let stored = StoredUser {
        id,
        created: ctx.now.clone(),
        last_modified: ctx.now.clone(),
        version: 1,
        doc,
        groups: Some(Vec::new()),
    };
    let full = read_form(ctx, &stored);
    let body = Projection::of(req, &rt)?.apply(&rt, &full);
    let location = format!("{}/Users/{}", ctx.base_url, stored.id);
    Ok(resource_response(201, &body, 1).with_header("location", location))
}

pub async fn get<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let rt = user_resource_type(Vec::new());
    let projection = Projection::of(req, &rt)?;
    let user = store::get(ctx.db, &ctx.tenant, id, projection.wants("groups"))
        .await
        .map_err(db_error)?
        .ok_or_else(|| not_found(id))?;
    let body = projection.apply(&rt, &read_form(ctx, &user));
    Ok(resource_response(200, &body, user.version))
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("User {id} not found."))
}

pub async fn replace<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    id: &str,
) -> ScimResult<Response> {
    let rt = user_resource_type(Vec::new());
    let input = req.json()?;
    let projection = Projection::of(req, &rt)?;
    let current = store::get(ctx.db, &ctx.tenant, id, true)
        .await
        .map_err(db_error)?
        .ok_or_else(|| not_found(id))?;
    let doc = normalize(&rt, &input, Some(&current.doc))?;
    let written = store::replace(ctx.db, &ctx.tenant, id, current.version, &ctx.now, &doc)
        .await
        .map_err(db_error)?;
    if !written {
        return Err(ScimError::precondition_failed(
            "The user was changed or deleted by another request; retry.",
        ));
    }
    let stored = StoredUser {
        last_modified: ctx.now.clone(),
        version: current.version + 1,
        doc,
        ..current
    };
    let body = projection.apply(&rt, &read_form(ctx, &stored));
    Ok(resource_response(200, &body, stored.version))
}

pub async fn delete<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> ScimResult<Response> {
    if store::delete(ctx.db, &ctx.tenant, id)
        .await
        .map_err(db_error)?
    {
        Ok(Response::empty(204))
    } else {
        Err(not_found(id))
    }
}

pub async fn list<D: SqlExecutor, K: KeyValue>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> ScimResult<Response> {
    let rt = user_resource_type(Vec::new());
    let projection = Projection::of(req, &rt)?;
    let paging = Paging::of(req)?;
    let condition = match req.query_param("filter") {
        Some(f) if !f.trim().is_empty() => {
            let filter = parse_filter(&f, &rt.all_schema_urns())
                .map_err(|e| ScimError::invalid_filter(e.message))?;
            Some(user_condition(&rt, &filter)?)
        }
        _ => None,
    };
    let (total, users) = store::list(
        ctx.db,
        &ctx.tenant,
        condition
            .as_ref()
            .map(|c| (c.sql.as_str(), c.params.as_slice())),
        paging.offset(),
        paging.count,
        projection.wants("groups"),
    )
    .await
    .map_err(db_error)?;
    let resources = users
        .iter()
        .map(|u| projection.apply(&rt, &read_form(ctx, u)))
        .collect();
    Ok(Response::scim(
        200,
        &list_response(total, paging.start_index, resources),
    ))
}
