//! What every resource endpoint shares: `attributes`/`excludedAttributes`
//! (RFC 7644 §3.4.2.5), entity tags and conditional requests (§3.14), and
//! filters read from the query string.

use serde_json::Value;

use crate::proto::attr::{parse_attr_list, AttrPath};
use crate::proto::error::{ScimError, ScimResult};
use crate::proto::filter::parse_filter;
use crate::proto::project::project;
use crate::proto::schema::ResourceType;
use crate::server::http::{Request, Response};
use crate::server::list::ListQuery;
use crate::store::query::{condition, sort_expression, Resource, SqlCondition};

/// `W/"<version>"`: the weak entity tag of a stored version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A resource response with its `ETag`.
pub fn resource_response(status: u16, body: &Value, version: i64) -> Response {
    Response::scim(status, body).with_header("etag", etag(version))
}

/// How many times a write is tried when another request changes the
/// resource between its read and its write.
pub const WRITE_ATTEMPTS: u32 = 16;

/// After a write lost a race (the version moved between read and write):
/// `Ok` to read again and redo it, or the 412 to answer. A request with
/// `If-Match` named the version it meant, so it gets 412 at once (RFC 7644
/// §3.14); one without asked for no check, so it is redone on the new state
/// as if it had come after the other request, as Okta and Entra expect of
/// their parallel PATCHes. Only a resource changing faster than
/// `WRITE_ATTEMPTS` reads still gets 412.
pub fn retry_or_conflict(req: &Request, attempt: u32) -> ScimResult<()> {
    if req.header("if-match").is_none() && attempt < WRITE_ATTEMPTS {
        Ok(())
    } else {
        Err(changed_meanwhile())
    }
}

/// The answer to a DELETE: 204 when it deleted; when it did not, 412 if it
/// was conditional on `version` (the resource changed meanwhile), else
/// `missing`.
pub fn delete_answer(
    deleted: bool,
    version: Option<i64>,
    missing: ScimError,
) -> ScimResult<Response> {
    match (deleted, version) {
        (true, _) => Ok(Response::empty(204)),
        (false, Some(_)) => Err(changed_meanwhile()),
        (false, None) => Err(missing),
    }
}

/// 412: the resource changed between a request's read and its write.
pub fn changed_meanwhile() -> ScimError {
    ScimError::precondition_failed("The resource was changed by another request meanwhile; retry.")
}

/// Whether an `If-Match`/`If-None-Match` header value names `version`.
/// Comparison is weak (RFC 7232 §2.3.2): `W/"3"` and `"3"` both match 3.
fn tag_list_matches(header: &str, version: i64) -> bool {
    let want = version.to_string();
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == want)
}

/// RFC 7644 §3.14: a write with `If-Match` naming another version is 412.
pub fn check_if_match(req: &Request, version: i64) -> ScimResult<()> {
    match req.header("if-match") {
        Some(h) if !tag_list_matches(h, version) => Err(ScimError::precondition_failed(
            "The resource has changed: its version does not match If-Match.",
        )),
        _ => Ok(()),
    }
}

/// RFC 7644 §3.14: a read with `If-None-Match` naming the current version
/// is answered 304 Not Modified.
pub fn not_modified(req: &Request, version: i64) -> Option<Response> {
    req.header("if-none-match")
        .filter(|h| tag_list_matches(h, version))
        .map(|_| Response::empty(304).with_header("etag", etag(version)))
}

/// The `attributes` and `excludedAttributes` of a request.
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    pub fn of(req: &Request, rt: &ResourceType) -> ScimResult<Projection> {
        Self::from_params(
            req.query_param("attributes").as_deref(),
            req.query_param("excludedAttributes").as_deref(),
            rt,
        )
    }

    pub fn from_params(
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
    pub fn wants(&self, name: &str) -> bool {
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

    pub fn apply(&self, rt: &ResourceType, full: Value) -> Value {
        project(rt, full, &self.attributes, &self.excluded)
    }

    /// The response carrying one resource: its read form `full` projected,
    /// with the ETag of `version`.
    pub fn respond(&self, rt: &ResourceType, status: u16, version: i64, full: Value) -> Response {
        resource_response(status, &self.apply(rt, full), version)
    }
}

/// The SQL sort expression for a query's `sortBy`, if it names a known
/// attribute (RFC 7644 §3.4.2.3).
pub fn sort_by(rt: &ResourceType, kind: Resource, q: &ListQuery) -> ScimResult<Option<String>> {
    let Some(s) = q.sort_by.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let paths = parse_attr_list(s, rt)?;
    Ok(paths.first().and_then(|p| sort_expression(rt, kind, p)))
}

/// The SQL condition for a filter expression, if one was given.
pub fn filter_condition(
    rt: &ResourceType,
    kind: Resource,
    tenant: &str,
    filter: Option<&str>,
) -> ScimResult<Option<SqlCondition>> {
    match filter {
        Some(f) if !f.trim().is_empty() => {
            let parsed = parse_filter(f, &rt.all_schema_urns())
                .map_err(|e| ScimError::invalid_filter(e.message))?;
            condition(rt, kind, tenant, &parsed).map(Some)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::http::Method;

    #[test]
    fn if_match_compares_weakly_and_accepts_star() {
        // RFC 7644 §3.14 with RFC 7232 weak comparison.
        let req = |v: &str| Request::new(Method::Put, "/Users/1").with_header("If-Match", v);
        assert!(check_if_match(&req("W/\"3\""), 3).is_ok());
        assert!(check_if_match(&req("\"3\""), 3).is_ok());
        assert!(check_if_match(&req("*"), 3).is_ok());
        assert!(check_if_match(&req("W/\"1\", W/\"3\""), 3).is_ok());
        assert_eq!(check_if_match(&req("W/\"2\""), 3).unwrap_err().status, 412);
        assert!(check_if_match(&Request::new(Method::Put, "/Users/1"), 3).is_ok());
    }

    #[test]
    fn if_none_match_on_current_version_is_304() {
        let req = Request::new(Method::Get, "/Users/1").with_header("If-None-Match", "W/\"5\"");
        assert_eq!(not_modified(&req, 5).map(|r| r.status), Some(304));
        assert!(not_modified(&req, 6).is_none());
    }
}
