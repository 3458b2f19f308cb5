//! List responses and index pagination (RFC 7644 §3.4.2, §3.4.2.4).

use serde_json::{json, Value};

use crate::error::{ScimError, ScimResult};
use crate::http::Request;

pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The default page size when `count` is absent.
pub const DEFAULT_COUNT: u64 = 100;
/// The largest page served (advertised as `filter.maxResults`).
pub const MAX_RESULTS: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based (RFC 7644 §3.4.2.4); values below 1 are read as 1.
    pub start_index: u64,
    /// Capped at `MAX_RESULTS`; negative values are read as 0.
    pub count: u64,
}

impl Paging {
    pub fn of(req: &Request) -> ScimResult<Paging> {
        let int = |name: &str| -> ScimResult<Option<i64>> {
            match req.query_param(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                    ScimError::invalid_value(format!("{name} must be an integer, not '{v}'."))
                }),
            }
        };
        let start_index = int("startIndex")?.unwrap_or(1).max(1) as u64;
        let count = int("count")?
            .map_or(DEFAULT_COUNT, |c| c.max(0) as u64)
            .min(MAX_RESULTS);
        Ok(Paging { start_index, count })
    }

    pub fn offset(&self) -> u64 {
        self.start_index - 1
    }
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
    use crate::http::Method;

    fn paging(q: &str) -> ScimResult<Paging> {
        Paging::of(&Request::new(Method::Get, &format!("/Users?{q}")))
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
        assert_eq!(paging("count=5000").unwrap().count, MAX_RESULTS);
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
