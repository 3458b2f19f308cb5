//! List responses and index pagination (RFC 7644 §3.4.2, §3.4.2.4).

use serde_json::Value;

use crate::proto::error::{ScimError, ScimResult, ScimType};
use crate::proto::messages::{cursor_list_response, list_response, sort_descending, SearchRequest};
use crate::server::http::Query;
use crate::store::page::Keyset;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    /// 1-based (RFC 7644 §3.4.2.4); values below 1 are read as 1.
    pub start_index: u64,
    /// Capped at the deployment's `maxResults`; negative values are read
    /// as 0. Without `count`, `maxResults`: clients that do not page
    /// (OneLogin's group refresh, Rippling with "Supports Pagination" off)
    /// get everything up to it.
    pub count: u64,
}

impl Paging {
    /// From `startIndex` and `count` query parameters; `max` is maxResults.
    pub(crate) fn of(params: &Query, max: u64) -> ScimResult<Paging> {
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

    pub(crate) fn new(start_index: Option<i64>, count: Option<i64>, max: u64) -> Paging {
        let clamp = |v: i64| u64::try_from(v.max(0)).unwrap_or(0);
        Paging {
            start_index: start_index.map_or(1, |s| clamp(s).max(1)),
            count: count.map_or(max, clamp).min(max),
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.start_index - 1
    }
}

/// What a list or search asks for (RFC 7644 §3.4.2 query parameters, or the
/// same fields in a SearchRequest body, §3.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub paging: Paging,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
    /// RFC 9865: `Some("")` asks for the first page with cursors.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// From the query string of `GET /Users` or `GET /Groups`; `max` is
    /// maxResults.
    pub(crate) fn from_query(params: &Query, max: u64) -> ScimResult<ListQuery> {
        ListQuery {
            filter: params.get("filter"),
            sort_by: params.get("sortBy"),
            descending: sort_descending(params.get("sortOrder").as_deref())?,
            paging: Paging::of(params, max)?,
            attributes: params.get("attributes"),
            excluded_attributes: params.get("excludedAttributes"),
            cursor: params.get("cursor"),
        }
        .checked(params.get("startIndex").is_some())
    }

    /// From a SearchRequest body (`POST .../.search`, RFC 7644 §3.4.3).
    pub(crate) fn from_search(body: &Value, max: u64) -> ScimResult<ListQuery> {
        let s = SearchRequest::parse(body)?;
        ListQuery {
            filter: s.filter,
            sort_by: s.sort_by,
            descending: s.descending,
            paging: Paging::new(s.start_index, s.count, max),
            attributes: s.attributes,
            excluded_attributes: s.excluded_attributes,
            cursor: s.cursor,
        }
        .checked(s.start_index.is_some())
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
    pub(crate) fn fingerprint(&self, resource: &str) -> String {
        let seed = format!("{resource}\n{}", self.filter.as_deref().unwrap_or(""));
        let mut hex = crate::server::auth::sha256_hex(seed.as_bytes());
        hex.truncate(12);
        hex
    }

    /// The keyset position a cursor stands for (RFC 9865); the empty cursor
    /// is the first page.
    pub(crate) fn keyset(&self, resource: &str) -> ScimResult<Option<Keyset>> {
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

    pub(crate) fn cursor_for(&self, resource: &str, k: Keyset) -> String {
        let (d, s) = match k {
            Keyset::After(s) => ('a', s),
            Keyset::Before(s) => ('b', s),
        };
        format!("{d}{s}.{}", self.fingerprint(resource))
    }
}

/// Resources found for a list query, projected.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
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
    pub(crate) fn of<T>(
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
pub(crate) fn cursor_links(
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
pub(crate) fn list_body(
    query: &ListQuery,
    resource: &str,
    keyset: Option<Keyset>,
    found: Found,
) -> Value {
    match keyset {
        None => list_response(found.total, query.paging.start_index, found.resources),
        Some(k) => {
            let (next, previous) = cursor_links(query, resource, k, found.seq_range, found.more);
            cursor_list_response(found.total, found.resources, next, previous)
        }
    }
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
                count: 1000
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
}
