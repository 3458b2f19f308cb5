//! The message envelopes of RFC 7644 (`urn:ietf:params:scim:api:messages:2.0:*`):
//! the request bodies that are not resources, parsed into plain values, and
//! the responses that wrap resources.
//!
//! - one "`schemas` lists this message's URN" check (`lists_schema`), used by
//!   SearchRequest, BulkRequest and PatchOp (`patch::parse_request`);
//! - SearchRequest (§3.4.3) and the `sortOrder` rule it shares with the query
//!   string (§3.4.2.3);
//! - BulkRequest (§3.7), its operations and limits;
//! - ListResponse (§3.4.2, RFC 9865 cursors) and BulkResponse (§3.7.3).
//!
//! What the values mean for the service (paging limits, running a bulk
//! operation) is the server's; the wording of every error is fixed here.

use serde_json::{json, Map, Value};

use crate::proto::error::{ScimError, ScimResult};
use crate::proto::json::get_ci_non_null;

/// The schema URN of a list or search response (RFC 7644 §3.4.2).
pub(crate) const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema URN of a `POST .../.search` body (RFC 7644 §3.4.3).
pub(crate) const SEARCH_REQUEST_SCHEMA: &str =
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The schema URN of a `POST /Bulk` body (RFC 7644 §3.7).
pub(crate) const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// The schema URN of a `POST /Bulk` response (RFC 7644 §3.7).
pub(crate) const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

// ---------------------------------------------------------------------------
// schemas
// ---------------------------------------------------------------------------

/// How a message's URN is compared with the entries of its `schemas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrnCase {
    /// Byte for byte (SearchRequest, BulkRequest).
    Exact,
    /// Ignoring ASCII case (PatchOp).
    Insensitive,
}

/// What a message's `schemas` member says about the message's URN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schemas {
    /// An array that lists the URN.
    Lists,
    /// An array that does not.
    Lacks,
    /// Absent, `null` or not an array.
    NotAList,
}

/// RFC 7644 §3.1 (and §3.4.3, §3.5.2, §3.7): a message names its schema URN
/// in `schemas`. Looks the member up case-insensitively (RFC 7643 §2.1),
/// `null` being absent; entries that are not strings never match.
pub(crate) fn lists_schema(obj: &Map<String, Value>, urn: &str, case: UrnCase) -> Schemas {
    let Some(list) = get_ci_non_null(obj, "schemas").and_then(Value::as_array) else {
        return Schemas::NotAList;
    };
    let same = |s: &str| match case {
        UrnCase::Exact => s == urn,
        UrnCase::Insensitive => s.eq_ignore_ascii_case(urn),
    };
    if list.iter().any(|s| s.as_str().is_some_and(same)) {
        Schemas::Lists
    } else {
        Schemas::Lacks
    }
}

/// The one error of a SearchRequest or BulkRequest whose `schemas` does not
/// list its URN (`what` names the message).
fn must_list(obj: &Map<String, Value>, urn: &str, what: &str) -> ScimResult<()> {
    match lists_schema(obj, urn, UrnCase::Exact) {
        Schemas::Lists => Ok(()),
        Schemas::Lacks | Schemas::NotAList => Err(ScimError::invalid_syntax(format!(
            "A {what} must list \"{urn}\" in schemas."
        ))),
    }
}

// ---------------------------------------------------------------------------
// SearchRequest
// ---------------------------------------------------------------------------

/// RFC 7644 §3.4.2.3 `sortOrder`: "ascending" (the default, also for an empty
/// value) or "descending", in any case; whether it is descending.
pub(crate) fn sort_descending(order: Option<&str>) -> ScimResult<bool> {
    match order.map(str::trim) {
        None | Some("") => Ok(false),
        Some(o) if o.eq_ignore_ascii_case("ascending") => Ok(false),
        Some(o) if o.eq_ignore_ascii_case("descending") => Ok(true),
        Some(o) => Err(ScimError::invalid_value(format!(
            "sortOrder must be \"ascending\" or \"descending\", not '{o}'."
        ))),
    }
}

/// A SearchRequest body (`POST .../.search`, RFC 7644 §3.4.3): the fields of
/// the list query parameters (§3.4.2), as sent. Paging limits and the
/// meaning of `cursor` (RFC 9865) are the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SearchRequest {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    /// From `sortOrder` (see `sort_descending`).
    pub descending: bool,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    /// An array of strings in the body, comma-joined like the query
    /// parameter (a single string is taken as it is).
    pub attributes: Option<String>,
    /// Like `attributes`.
    pub excluded_attributes: Option<String>,
    pub cursor: Option<String>,
}

impl SearchRequest {
    /// Parses a SearchRequest body (RFC 7644 §3.4.3). Members are matched
    /// case-insensitively, `null` is absent; `schemas` must list
    /// `SEARCH_REQUEST_SCHEMA`.
    pub(crate) fn parse(body: &Value) -> ScimResult<SearchRequest> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("A SearchRequest must be a JSON object."))?;
        must_list(obj, SEARCH_REQUEST_SCHEMA, "SearchRequest")?;
        let field = |name: &str| get_ci_non_null(obj, name);
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
        Ok(SearchRequest {
            filter: string("filter")?,
            sort_by: string("sortBy")?,
            descending: sort_descending(string("sortOrder")?.as_deref())?,
            start_index: int("startIndex")?,
            count: int("count")?,
            attributes: names("attributes")?,
            excluded_attributes: names("excludedAttributes")?,
            cursor: string("cursor")?,
        })
    }
}

// ---------------------------------------------------------------------------
// BulkRequest
// ---------------------------------------------------------------------------

/// The methods a bulk operation may use (RFC 7644 §3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    /// The HTTP spelling, uppercase.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }

    /// The method named `s`, in any case.
    fn parse(s: &str) -> Option<BulkMethod> {
        [
            BulkMethod::Post,
            BulkMethod::Put,
            BulkMethod::Patch,
            BulkMethod::Delete,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// One operation of a BulkRequest (RFC 7644 §3.7), as sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BulkOperation {
    pub method: BulkMethod,
    /// Starts with `/`, relative to the service root (`/Users`, `/Groups/id`).
    pub path: String,
    /// Required for POST (§3.7): how later operations refer to the result.
    pub bulk_id: Option<String>,
    /// The `version` to send as `If-Match`.
    pub version: Option<String>,
    /// The resource or PatchOp body; absent only for DELETE.
    pub data: Option<Value>,
}

/// An operation that does not parse: its error, and the `method` it was sent
/// with (as sent, "" when it had none), for its entry in the BulkResponse.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BulkOperationError {
    pub method: String,
    pub error: ScimError,
}

/// A BulkRequest body (RFC 7644 §3.7). An operation that does not parse fails
/// on its own (§3.7.3); the request as a whole fails only for its envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BulkRequest {
    /// §3.7.3 `failOnErrors`: stop after this many errors.
    pub fail_on_errors: Option<u64>,
    pub operations: Vec<Result<BulkOperation, BulkOperationError>>,
}

impl BulkRequest {
    /// Parses a BulkRequest body (RFC 7644 §3.7): a JSON object whose
    /// `schemas` lists `BULK_REQUEST_SCHEMA`, with an `Operations` array of at
    /// most `max_operations` (413 beyond, as §3.7.4 advertises maxOperations)
    /// and an optional positive `failOnErrors`. Members are matched
    /// case-insensitively, `null` is absent.
    pub(crate) fn parse(body: &Value, max_operations: usize) -> ScimResult<BulkRequest> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("A BulkRequest must be a JSON object."))?;
        must_list(obj, BULK_REQUEST_SCHEMA, "BulkRequest")?;
        let ops = get_ci_non_null(obj, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| ScimError::invalid_syntax("A BulkRequest needs an Operations array."))?;
        if ops.len() > max_operations {
            return Err(ScimError::payload_too_large(format!(
                "The bulk request has {} operations; maxOperations is {max_operations}.",
                ops.len()
            )));
        }
        let fail_on_errors = match get_ci_non_null(obj, "failOnErrors") {
            None => None,
            Some(v) => Some(v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
                ScimError::invalid_value("failOnErrors must be a positive integer.")
            })?),
        };
        let operations = ops
            .iter()
            .map(|op| {
                parse_operation(op).map_err(|error| BulkOperationError {
                    method: op
                        .get("method")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    error,
                })
            })
            .collect();
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }
}

/// One BulkRequest operation (RFC 7644 §3.7): `method`, `path`, `bulkId`
/// (required for POST), `version`, `data` (required but for DELETE).
fn parse_operation(v: &Value) -> ScimResult<BulkOperation> {
    let obj = v
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("A bulk operation must be an object."))?;
    let text = |name: &str| {
        get_ci_non_null(obj, name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let method_name = text("method")
        .ok_or_else(|| ScimError::invalid_syntax("A bulk operation needs a method."))?
        .to_ascii_uppercase();
    let method = BulkMethod::parse(&method_name).ok_or_else(|| {
        ScimError::invalid_value(format!(
            "Bulk method {method_name} is not one of POST, PUT, PATCH, DELETE."
        ))
    })?;
    let path = text("path")
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| ScimError::invalid_syntax("A bulk operation needs a path like /Users."))?;
    let bulk_id = text("bulkId");
    if method == BulkMethod::Post && bulk_id.is_none() {
        return Err(ScimError::invalid_syntax(
            "A bulk POST needs a bulkId (RFC 7644 §3.7).",
        ));
    }
    let data = get_ci_non_null(obj, "data").cloned();
    if method != BulkMethod::Delete && data.is_none() {
        return Err(ScimError::invalid_syntax(format!(
            "A bulk {method_name} needs data."
        )));
    }
    Ok(BulkOperation {
        method,
        path,
        bulk_id,
        version: text("version"),
        data,
    })
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// A ListResponse (RFC 7644 §3.4.2); numbers are JSON integers and
/// `itemsPerPage` is the number of resources returned.
pub(crate) fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A ListResponse for a cursor page (RFC 9865): no `startIndex`;
/// `nextCursor` and `previousCursor` when given.
pub(crate) fn cursor_list_response(
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

/// A BulkResponse (RFC 7644 §3.7.3) with one result per operation run.
pub(crate) fn bulk_response(operations: Vec<Value>) -> Value {
    json!({"schemas": [BULK_RESPONSE_SCHEMA], "Operations": operations})
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::error::ScimType;
    use crate::proto::fixtures::object as obj;

    #[test]
    fn schemas_lists_the_message_urn_rfc7644_3_1() {
        let urn = SEARCH_REQUEST_SCHEMA;
        let check = |v: Value, case| lists_schema(&obj(v), urn, case);
        assert_eq!(
            check(json!({"schemas": [urn]}), UrnCase::Exact),
            Schemas::Lists
        );
        assert_eq!(
            check(json!({"SCHEMAS": [1, urn]}), UrnCase::Exact),
            Schemas::Lists
        );
        let lower = json!({"schemas": [urn.to_lowercase()]});
        assert_eq!(check(lower.clone(), UrnCase::Exact), Schemas::Lacks);
        assert_eq!(check(lower, UrnCase::Insensitive), Schemas::Lists);
        assert_eq!(
            check(json!({"schemas": []}), UrnCase::Exact),
            Schemas::Lacks
        );
        for not_a_list in [json!({}), json!({"schemas": null}), json!({"schemas": urn})] {
            assert_eq!(check(not_a_list, UrnCase::Exact), Schemas::NotAList);
        }
    }

    #[test]
    fn search_request_reads_the_same_fields_as_the_query() {
        // RFC 7644 §3.4.3: attributes as an array, integers as JSON numbers.
        let q = SearchRequest::parse(&json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "attributes": ["displayName", "userName"],
            "filter": "userName sw \"a\"",
            "sortBy": "userName",
            "sortOrder": "descending",
            "startIndex": 3,
            "count": 10,
        }))
        .unwrap();
        assert_eq!(q.attributes.as_deref(), Some("displayName,userName"));
        assert_eq!(q.filter.as_deref(), Some("userName sw \"a\""));
        assert!(q.descending);
        assert_eq!((q.start_index, q.count), (Some(3), Some(10)));
        let missing_schema = SearchRequest::parse(&json!({"filter": "x pr"}));
        assert_eq!(missing_schema.unwrap_err().status, 400);
        let bad_order = SearchRequest::parse(&json!({
            "schemas": [SEARCH_REQUEST_SCHEMA], "sortOrder": "sideways"
        }));
        assert_eq!(bad_order.unwrap_err().status, 400);
    }

    #[test]
    fn search_request_fields_and_errors() {
        // RFC 7644 §3.4.3; members in any case, null as absent.
        let q = SearchRequest::parse(&json!({
            "schemas": [SEARCH_REQUEST_SCHEMA], "ExcludedAttributes": "members",
            "FILTER": null, "cursor": "", "SortOrder": " Ascending "
        }))
        .unwrap();
        assert_eq!(
            q,
            SearchRequest {
                excluded_attributes: Some("members".into()),
                cursor: Some(String::new()),
                ..SearchRequest::default()
            }
        );
        let detail = |v: Value| {
            let mut body = obj(v);
            body.insert("schemas".into(), json!([SEARCH_REQUEST_SCHEMA]));
            let e = SearchRequest::parse(&Value::Object(body)).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
            e.detail
        };
        assert_eq!(detail(json!({"filter": 1})), "filter must be a string.");
        assert_eq!(detail(json!({"count": "10"})), "count must be an integer.");
        assert_eq!(
            detail(json!({"attributes": ["a", 1]})),
            "attributes must be an array of strings."
        );
        assert_eq!(
            detail(json!({"sortOrder": "up"})),
            "sortOrder must be \"ascending\" or \"descending\", not 'up'."
        );
        let e = SearchRequest::parse(&json!([])).unwrap_err();
        assert_eq!(e.detail, "A SearchRequest must be a JSON object.");
        let e = SearchRequest::parse(&json!({"schemas": [BULK_REQUEST_SCHEMA]})).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        assert_eq!(
            e.detail,
            format!("A SearchRequest must list \"{SEARCH_REQUEST_SCHEMA}\" in schemas.")
        );
    }

    #[test]
    fn bulk_request_envelope_rfc7644_3_7() {
        let body = |ops: Value| json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": ops});
        let r = BulkRequest::parse(
            &json!({"schemas": [BULK_REQUEST_SCHEMA], "failOnErrors": 2, "operations": []}),
            10,
        )
        .unwrap();
        assert_eq!(r.fail_on_errors, Some(2));
        assert!(r.operations.is_empty());
        let e = |v: Value, max| BulkRequest::parse(&v, max).unwrap_err();
        assert_eq!(
            e(json!([]), 10).detail,
            "A BulkRequest must be a JSON object."
        );
        assert_eq!(
            e(json!({"Operations": []}), 10).detail,
            format!("A BulkRequest must list \"{BULK_REQUEST_SCHEMA}\" in schemas.")
        );
        assert_eq!(
            e(json!({"schemas": [BULK_REQUEST_SCHEMA]}), 10).detail,
            "A BulkRequest needs an Operations array."
        );
        let many = e(body(json!([{}, {}, {}])), 2);
        assert_eq!(many.status, 413);
        assert_eq!(
            many.detail,
            "The bulk request has 3 operations; maxOperations is 2."
        );
        let mut zero = body(json!([]));
        zero["failOnErrors"] = json!(0);
        assert_eq!(
            e(zero, 10).detail,
            "failOnErrors must be a positive integer."
        );
    }

    #[test]
    fn bulk_operations_parse_or_fail_alone_rfc7644_3_7() {
        let r = BulkRequest::parse(
            &json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": [
                {"method": "post", "path": "/Users", "bulkId": "q1", "data": {"userName": "a"}},
                {"Method": "DELETE", "path": "/Users/1", "version": "W/\"1\""},
                {"method": "GET", "path": "/Users"},
                {"method": "PUT", "path": "/Users/1"},
                {"method": "POST", "path": "/Users", "data": {}},
                {"method": "PATCH", "path": "Users", "data": {}},
                {"path": "/Users"},
                "not an object"
            ]}),
            100,
        )
        .unwrap();
        let ops = &r.operations;
        assert_eq!(
            ops[0],
            Ok(BulkOperation {
                method: BulkMethod::Post,
                path: "/Users".into(),
                bulk_id: Some("q1".into()),
                version: None,
                data: Some(json!({"userName": "a"})),
            })
        );
        let delete = ops[1].as_ref().unwrap();
        assert_eq!(delete.method.as_str(), "DELETE");
        assert_eq!(delete.version.as_deref(), Some("W/\"1\""));
        assert!(delete.data.is_none());
        let failed = |i: usize| ops[i].as_ref().unwrap_err();
        let want = [
            (
                2,
                "GET",
                "Bulk method GET is not one of POST, PUT, PATCH, DELETE.",
            ),
            (3, "PUT", "A bulk PUT needs data."),
            (4, "POST", "A bulk POST needs a bulkId (RFC 7644 §3.7)."),
            (5, "PATCH", "A bulk operation needs a path like /Users."),
            (6, "", "A bulk operation needs a method."),
            (7, "", "A bulk operation must be an object."),
        ];
        for (i, method, detail) in want {
            assert_eq!(
                (failed(i).method.as_str(), failed(i).error.detail.as_str()),
                (method, detail)
            );
        }
    }

    #[test]
    fn list_and_bulk_responses_rfc7644_3_4_2_and_3_7_3() {
        let page = list_response(5, 3, vec![json!({"id": "a"})]);
        assert_eq!(
            page,
            json!({"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 5, "startIndex": 3,
                   "itemsPerPage": 1, "Resources": [{"id": "a"}]})
        );
        let page = cursor_list_response(5, vec![], Some("n".into()), None);
        assert_eq!(
            page,
            json!({"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 5, "itemsPerPage": 0,
                   "nextCursor": "n", "Resources": []})
        );
        assert_eq!(
            bulk_response(vec![json!({"status": "200"})]),
            json!({"schemas": [BULK_RESPONSE_SCHEMA], "Operations": [{"status": "200"}]})
        );
    }
}
