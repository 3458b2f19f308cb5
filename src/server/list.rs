//! List responses and index pagination (RFC 7644 §3.4.2, §3.4.2.4).

use serde_json::{json, Value};

use crate::proto::error::{ScimError, ScimResult, ScimType};
use crate::server::http::Query;
use crate::store::page::Keyset;

pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The default page size when `count` is absent.
pub const DEFAULT_COUNT: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based (RFC 7644 §3.4.2.4); values below 1 are read as 1.
    pub start_index: u64,
    /// Capped at the deployment's `maxResults`; negative values are read
    /// as 0.
    pub count: u64,
}

impl Paging {
    /// From `startIndex` and `count` query parameters; `max` is maxResults.
    pub fn of(params: &Query, max: u64) -> ScimResult<Paging> {
        let int = |name: &str| -> ScimResult<Option<i64>> {
            match params.get(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                    ScimError::invalid_value(format!("{name} must be an integer, not '{v}'."))
                }),
            }
        };
        Ok(Self::new(int("startIndex")?, int("count")?, max))
    }

    pub fn new(start_index: Option<i64>, count: Option<i64>, max: u64) -> Paging {
        let clamp = |v: i64| u64::try_from(v.max(0)).unwrap_or(0);
        Paging {
            start_index: start_index.map_or(1, |s| clamp(s).max(1)),
            count: count.map_or(DEFAULT_COUNT, clamp).min(max),
        }
    }

    pub fn offset(&self) -> u64 {
        self.start_index - 1
    }
}

pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// What a list or search asks for (RFC 7644 §3.4.2 query parameters, or the
/// same fields in a SearchRequest body, §3.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub paging: Paging,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
    /// RFC 9865: `Some("")` asks for the first page with cursors.
    pub cursor: Option<String>,
}

fn descending(order: Option<&str>) -> ScimResult<bool> {
    match order.map(str::trim) {
        None | Some("") => Ok(false),
        Some(o) if o.eq_ignore_ascii_case("ascending") => Ok(false),
        Some(o) if o.eq_ignore_ascii_case("descending") => Ok(true),
        Some(o) => Err(ScimError::invalid_value(format!(
            "sortOrder must be \"ascending\" or \"descending\", not '{o}'."
        ))),
    }
}

impl ListQuery {
    /// From the query string of `GET /Users` or `GET /Groups`; `max` is
    /// maxResults.
    pub fn from_query(params: &Query, max: u64) -> ScimResult<ListQuery> {
        ListQuery {
            filter: params.get("filter"),
            sort_by: params.get("sortBy"),
            descending: descending(params.get("sortOrder").as_deref())?,
            paging: Paging::of(params, max)?,
            attributes: params.get("attributes"),
            excluded_attributes: params.get("excludedAttributes"),
            cursor: params.get("cursor"),
        }
        .checked(params.get("startIndex").is_some())
    }

    /// From a SearchRequest body (`POST .../.search`, RFC 7644 §3.4.3).
    pub fn from_search(body: &Value, max: u64) -> ScimResult<ListQuery> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("A SearchRequest must be a JSON object."))?;
        let field = |name: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .filter(|v| !v.is_null())
        };
        let schemas_ok = field("schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(SEARCH_REQUEST_SCHEMA)));
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "A SearchRequest must list \"{SEARCH_REQUEST_SCHEMA}\" in schemas."
            )));
        }
        let string = |name: &str| -> ScimResult<Option<String>> {
            match field(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "{name} must be a string."
                ))),
            }
        };
        // `attributes` and `excludedAttributes` are arrays of strings in a body.
        let names = |name: &str| -> ScimResult<Option<String>> {
            match field(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| Some(v.join(",")))
                    .ok_or_else(|| {
                        ScimError::invalid_value(format!("{name} must be an array of strings."))
                    }),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "{name} must be an array of strings."
                ))),
            }
        };
        let int = |name: &str| -> ScimResult<Option<i64>> {
            match field(name) {
                None => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer."))),
            }
        };
        ListQuery {
            filter: string("filter")?,
            sort_by: string("sortBy")?,
            descending: descending(string("sortOrder")?.as_deref())?,
            paging: Paging::new(int("startIndex")?, int("count")?, max),
            attributes: names("attributes")?,
            excluded_attributes: names("excludedAttributes")?,
            cursor: string("cursor")?,
        }
        .checked(field("startIndex").is_some())
    }
}

impl ListQuery {
    fn checked(self, has_start_index: bool) -> ScimResult<ListQuery> {
        if self.cursor.is_some() && has_start_index {
            return Err(ScimError::invalid_value(
                "Use either cursor or startIndex pagination, not both (RFC 9865).",
            ));
        }
        if self.cursor.is_some() && self.sort_by.is_some() {
            return Err(ScimError::invalid_value(
                "Cursor pagination follows creation order; it cannot be combined with sortBy.",
            ));
        }
        Ok(self)
    }

    /// What a cursor is bound to: the resource type and filter it was issued
    /// for, so that it cannot be replayed against another query.
    pub fn fingerprint(&self, resource: &str) -> String {
        let seed = format!("{resource}\n{}", self.filter.as_deref().unwrap_or(""));
        let mut hex = crate::server::auth::sha256_hex(seed.as_bytes());
        hex.truncate(12);
        hex
    }

    /// The keyset position a cursor stands for (RFC 9865); the empty cursor
    /// is the first page.
    pub fn keyset(&self, resource: &str) -> ScimResult<Option<Keyset>> {
        let Some(c) = self.cursor.as_deref() else {
            return Ok(None);
        };
        if c.is_empty() {
            return Ok(Some(Keyset::After(0)));
        }
        let invalid = || {
            ScimError::bad_request(
                ScimType::InvalidCursor,
                "The cursor is not valid for this query.",
            )
        };
        let (pos, fp) = c.split_once('.').ok_or_else(invalid)?;
        if fp != self.fingerprint(resource) {
            return Err(invalid());
        }
        let seq = |s: &str| s.parse::<i64>().map_err(|_| invalid());
        match pos.split_at_checked(1) {
            Some(("a", s)) => Ok(Some(Keyset::After(seq(s)?))),
            Some(("b", s)) => Ok(Some(Keyset::Before(seq(s)?))),
            _ => Err(invalid()),
        }
    }

    pub fn cursor_for(&self, resource: &str, k: Keyset) -> String {
        let (d, s) = match k {
            Keyset::After(s) => ('a', s),
            Keyset::Before(s) => ('b', s),
        };
        format!("{d}{s}.{}", self.fingerprint(resource))
    }
}

/// Resources found for a list query, projected.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub total: u64,
    pub resources: Vec<Value>,
    /// Whether more resources follow the page (in its direction).
    pub more: bool,
    /// The `seq` of the first and last resource of the page.
    pub seq_range: Option<(i64, i64)>,
}

impl Found {
    /// A page of stored resources turned into their projected read forms
    /// by `form`, which takes each resource by value; `seq` tells a
    /// resource's insertion position, for the page's cursors.
    pub fn of<T>(
        listed: crate::store::page::Listed<T>,
        seq: impl Fn(&T) -> i64,
        form: impl FnMut(T) -> Value,
    ) -> Found {
        let seq_range = listed
            .items
            .first()
            .zip(listed.items.last())
            .map(|(f, l)| (seq(f), seq(l)));
        Found {
            total: listed.total,
            more: listed.more,
            seq_range,
            resources: listed.items.into_iter().map(form).collect(),
        }
    }
}

/// The cursors of a keyset page (RFC 9865): `nextCursor` when rows follow,
/// `previousCursor` when rows precede.
pub fn cursor_links(
    query: &ListQuery,
    resource: &str,
    keyset: Keyset,
    first_last: Option<(i64, i64)>,
    more: bool,
) -> (Option<String>, Option<String>) {
    let Some((first, last)) = first_last else {
        return (None, None);
    };
    let (has_next, has_prev) = match keyset {
        Keyset::After(s) => (more, s > 0),
        Keyset::Before(_) => (true, more),
    };
    (
        has_next.then(|| query.cursor_for(resource, Keyset::After(last))),
        has_prev.then(|| query.cursor_for(resource, Keyset::Before(first))),
    )
}

/// The ListResponse of a list query's page: index form, or cursor form
/// (RFC 9865) when the query asked for cursors.
pub fn list_body(query: &ListQuery, resource: &str, keyset: Option<Keyset>, found: Found) -> Value {
    match keyset {
        None => list_response(found.total, query.paging.start_index, found.resources),
        Some(k) => {
            let (next, previous) = cursor_links(query, resource, k, found.seq_range, found.more);
            cursor_list_response(found.total, found.resources, next, previous)
        }
    }
}

/// A ListResponse for a cursor page (RFC 9865): no `startIndex`.
pub fn cursor_list_response(
    total: u64,
    resources: Vec<Value>,
    next: Option<String>,
    previous: Option<String>,
) -> Value {
    let mut v = json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "itemsPerPage": resources.len(),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(n) = next {
            o.insert("nextCursor".into(), Value::String(n));
        }
        if let Some(p) = previous {
            o.insert("previousCursor".into(), Value::String(p));
        }
        o.insert("Resources".into(), Value::Array(resources));
    }
    v
}

/// A ListResponse; numbers are JSON integers and `itemsPerPage` is the number
/// of resources returned.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(q: &str) -> ScimResult<Paging> {
        Paging::of(&Query::parse(q), 1000)
    }

    #[test]
    fn paging_defaults_and_clamps() {
        // RFC 7644 §3.4.2.4: startIndex < 1 is 1; negative count is 0.
        assert_eq!(
            paging("").unwrap(),
            Paging {
                start_index: 1,
                count: DEFAULT_COUNT
            }
        );
        assert_eq!(
            paging("startIndex=0&count=-3").unwrap(),
            Paging {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(paging("count=5000").unwrap().count, 1000, "maxResults");
        assert_eq!(
            paging("startindex=3&COUNT=2").unwrap(),
            Paging {
                start_index: 3,
                count: 2
            }
        );
        assert_eq!(paging("count=ten").unwrap_err().status, 400);
    }

    #[test]
    fn search_request_reads_the_same_fields_as_the_query() {
        // RFC 7644 §3.4.3: attributes as an array, integers as JSON numbers.
        let q = ListQuery::from_search(
            &json!({
                "schemas": [SEARCH_REQUEST_SCHEMA],
                "attributes": ["displayName", "userName"],
                "filter": "userName sw \"a\"",
                "sortBy": "userName",
                "sortOrder": "descending",
                "startIndex": 3,
                "count": 10,
            }),
            1000,
        )
        .unwrap();
        assert_eq!(q.attributes.as_deref(), Some("displayName,userName"));
        assert_eq!(q.filter.as_deref(), Some("userName sw \"a\""));
        assert!(q.descending);
        assert_eq!(
            q.paging,
            Paging {
                start_index: 3,
                count: 10
            }
        );
        let missing_schema = ListQuery::from_search(&json!({"filter": "x pr"}), 1000);
        assert_eq!(missing_schema.unwrap_err().status, 400);
        let bad_order = ListQuery::from_search(
            &json!({
                "schemas": [SEARCH_REQUEST_SCHEMA], "sortOrder": "sideways"
            }),
            1000,
        );
        assert_eq!(bad_order.unwrap_err().status, 400);
    }
}
