//! Typed operations on resources and their outcomes. The router (and Bulk)
//! turns a request into an [`Op`]; the resource pipeline carries it out and
//! returns an [`Outcome`]; [`Outcome::into_response`] is the one place an
//! outcome becomes an HTTP answer.

use serde_json::Value;

use crate::proto::error::{ScimError, ScimResult};
use crate::server::error::{changed_meanwhile, Error, Result};
use crate::server::http::{path_segments, Method, Query, Response};
use crate::server::list::ListQuery;

/// Which resource endpoint an operation addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Users,
    Groups,
}

/// What is done.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// `POST /Users`: the body.
    Create(Value),
    /// `GET /Users/{id}`.
    Get(String),
    /// `PUT /Users/{id}`: the id and the body.
    Replace(String, Value),
    /// `PATCH /Users/{id}`: the id and the PatchOp body.
    Patch(String, Value),
    /// `DELETE /Users/{id}`.
    Delete(String),
    /// `GET /Users` or `POST /Users/.search`.
    List(ListQuery),
}

impl Action {
    /// Whether it writes a document made with the tenant's schema.
    pub(crate) fn is_write(&self) -> bool {
        matches!(
            self,
            Action::Create(_) | Action::Replace(..) | Action::Patch(..)
        )
    }
}

/// An operation on one resource endpoint, as parsed from a request or a
/// Bulk operation: nothing of HTTP is left in it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Op {
    pub endpoint: Endpoint,
    pub action: Action,
    pub precondition: Precondition,
    /// The `attributes` and `excludedAttributes` asked for (RFC 7644
    /// §3.4.2.5), as given; a list takes them from its query instead.
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

/// The endpoints under a tenant's base URL, as RFC 7644 §3.2 spells them.
const ENDPOINTS: [&str; 7] = [
    "Users",
    "Groups",
    "ServiceProviderConfig",
    "Schemas",
    "ResourceTypes",
    "Bulk",
    "Me",
];

/// The decoded segments of `path` (what follows a tenant's base URL), read
/// as identity providers write it: empty segments are dropped (a base URL
/// configured with a trailing slash gives `//Users`), and an endpoint name
/// or `.search` in any case is spelled as RFC 7644 does (`/users`,
/// `/serviceproviderconfig`). Resource ids are kept as they are.
pub(crate) fn segments(path: &str) -> Vec<String> {
    let mut segments: Vec<String> = path_segments(path)
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let canonical = |s: &mut String, names: &[&str]| {
        if let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(s)) {
            *s = (*name).to_owned();
        }
    };
    if let Some(first) = segments.first_mut() {
        canonical(first, &ENDPOINTS);
        canonical(first, &[".search"]);
    }
    if let [first, second, ..] = segments.as_mut_slice() {
        if matches!(first.as_str(), "Users" | "Groups") {
            canonical(second, &[".search"]);
        }
    }
    segments
}

/// The operation a request on `/Users` or `/Groups` asks for (`segments`:
/// the path after the base URL); `None` when the path names neither. `body` gives the request body as JSON (read only
/// by the methods that have one). Bulk operations are parsed here too.
pub(crate) fn parse(
    method: Method,
    segments: &[&str],
    params: &Query,
    body: impl FnOnce() -> ScimResult<Value>,
    precondition: Precondition,
    max_results: u64,
) -> Option<Result<Op>> {
    use Method::{Delete, Get, Patch, Post, Put};
    let not_allowed = |allow| Error::MethodNotAllowed { allow };
    let (endpoint, rest) = match segments.split_first() {
        Some((&"Users", rest)) => (Endpoint::Users, rest),
        Some((&"Groups", rest)) => (Endpoint::Groups, rest),
        _ => return None,
    };
    let action = match (rest, method) {
        ([], Get) => ListQuery::from_query(params, max_results).map(Action::List),
        ([], Post) => body().map(Action::Create),
        ([], _) => return Some(Err(not_allowed("GET, POST"))),
        ([".search"], Post) => body()
            .and_then(|b| ListQuery::from_search(&b, max_results))
            .map(Action::List),
        ([".search"], _) => return Some(Err(not_allowed("POST"))),
        ([id], Get) => Ok(Action::Get((*id).to_owned())),
        ([id], Put) => body().map(|b| Action::Replace((*id).to_owned(), b)),
        ([id], Patch) => body().map(|b| Action::Patch((*id).to_owned(), b)),
        ([id], Delete) => Ok(Action::Delete((*id).to_owned())),
        ([_], _) => return Some(Err(not_allowed("GET, PUT, PATCH, DELETE"))),
        _ => return None,
    };
    Some(action.map_err(Error::from).map(|action| Op {
        endpoint,
        action,
        precondition,
        attributes: params.get("attributes"),
        excluded_attributes: params.get("excludedAttributes"),
    }))
}

/// How many times a write is tried when another request changes the
/// resource between its read and its write.
pub(crate) const WRITE_ATTEMPTS: u32 = 16;

/// `W/"<version>"`: the weak entity tag of a stored version.
pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match`/`If-None-Match` value names `version`. Comparison
/// is weak (RFC 7232 §2.3.2): `W/"3"` and `"3"` both match 3.
fn tag_list_matches(header: &str, version: i64) -> bool {
    let want = version.to_string();
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == want)
}

/// The conditions of a request (RFC 7644 §3.14): `If-Match` on writes,
/// `If-None-Match` on reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Precondition {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

impl Precondition {
    /// A write with `If-Match` naming another version is 412.
    pub(crate) fn check(&self, version: i64) -> Result<()> {
        match &self.if_match {
            Some(h) if !tag_list_matches(h, version) => Err(ScimError::precondition_failed(
                "The resource has changed: its version does not match If-Match.",
            )
            .into()),
            _ => Ok(()),
        }
    }

    /// A read with `If-None-Match` naming the current version is answered
    /// 304 Not Modified.
    pub(crate) fn not_modified(&self, version: i64) -> bool {
        self.if_none_match
            .as_deref()
            .is_some_and(|h| tag_list_matches(h, version))
    }

    /// After a write lost a race (the version moved between read and
    /// write): `Ok` to read again and redo it, or the 412 to answer. A
    /// request with `If-Match` named the version it meant, so it gets 412
    /// at once; one without asked for no check, so it is redone on the new
    /// state as if it had come after the other request, as Okta and Entra
    /// expect of their parallel PATCHes. Only a resource changing faster
    /// than `WRITE_ATTEMPTS` reads still gets 412.
    pub(crate) fn retry(&self, attempt: u32) -> Result<()> {
        if self.if_match.is_none() && attempt < WRITE_ATTEMPTS {
            Ok(())
        } else {
            Err(changed_meanwhile().into())
        }
    }
}

/// What an operation produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// One resource, projected. `location` is set when it was created.
    Resource {
        status: u16,
        id: String,
        version: i64,
        location: Option<String>,
        body: Value,
    },
    /// 304: the resource is still at the version the client has.
    NotModified { version: i64 },
    /// 204, with the version it leaves when there still is a resource.
    NoContent { version: Option<i64> },
    /// A ListResponse.
    List(Value),
}

impl Outcome {
    /// The version the outcome leaves the resource at, if any.
    pub(crate) fn version(&self) -> Option<i64> {
        match self {
            Outcome::Resource { version, .. } | Outcome::NotModified { version } => Some(*version),
            Outcome::NoContent { version } => *version,
            Outcome::List(_) => None,
        }
    }

    pub(crate) fn status(&self) -> u16 {
        match self {
            Outcome::Resource { status, .. } => *status,
            Outcome::NotModified { .. } => 304,
            Outcome::NoContent { .. } => 204,
            Outcome::List(_) => 200,
        }
    }

    /// The HTTP answer: SCIM JSON, with `ETag` for a resource and
    /// `Location` for a created one.
    pub(crate) fn into_response(self) -> Response {
        let version = self.version();
        let response = match self {
            Outcome::Resource {
                status,
                location,
                body,
                ..
            } => {
                let r = Response::scim(status, &body);
                match location {
                    Some(l) => r.with_header("location", l),
                    None => r,
                }
            }
            Outcome::NotModified { .. } => Response::empty(304),
            Outcome::NoContent { .. } => Response::empty(204),
            Outcome::List(body) => Response::scim(200, &body),
        };
        match version {
            Some(v) => response.with_header("etag", etag(v)),
            None => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_match(v: &str) -> Precondition {
        Precondition {
            if_match: Some(v.into()),
            ..Precondition::default()
        }
    }

    #[test]
    fn if_match_compares_weakly_and_accepts_star() {
        // RFC 7644 §3.14 with RFC 7232 weak comparison.
        assert!(if_match("W/\"3\"").check(3).is_ok());
        assert!(if_match("\"3\"").check(3).is_ok());
        assert!(if_match("*").check(3).is_ok());
        assert!(if_match("W/\"1\", W/\"3\"").check(3).is_ok());
        let Err(crate::server::error::Error::Scim(e)) = if_match("W/\"2\"").check(3) else {
            panic!("a stale If-Match must be refused");
        };
        assert_eq!(e.status, 412);
        assert!(Precondition::default().check(3).is_ok());
    }

    #[test]
    fn if_none_match_on_current_version_is_304() {
        let p = Precondition {
            if_none_match: Some("W/\"5\"".into()),
            ..Precondition::default()
        };
        assert!(p.not_modified(5));
        assert!(!p.not_modified(6));
        assert_eq!(
            Outcome::NotModified { version: 5 }.into_response().status,
            304
        );
    }
}
