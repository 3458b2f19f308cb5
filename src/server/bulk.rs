//! Bulk operations (RFC 7644 §3.7): many writes in one request, with
//! `bulkId` references between them and `failOnErrors`. Each operation runs
//! through the same resource endpoints as a single request would, and is
//! atomic on its own; the limits advertised in ServiceProviderConfig are
//! enforced here.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::proto::error::ScimError;
use crate::proto::messages::{
    bulk_response, BulkMethod, BulkOperation, BulkOperationError, BulkRequest,
};
use crate::server::ctx::Ctx;
use crate::server::error::{Error, Result};
use crate::server::http::{Method, Query, Request};
use crate::server::op::{self, etag, Outcome, Precondition};
use crate::server::resources;
use crate::store::SqlExecutor;

const BULK_ID_PREFIX: &str = "bulkId:";

/// One operation of a BulkRequest, as parsed.
struct Operation {
    method: Method,
    method_name: String,
    path: String,
    bulk_id: Option<String>,
    version: Option<String>,
    data: Option<Value>,
}

impl From<BulkOperation> for Operation {
    fn from(op: BulkOperation) -> Operation {
        let method = match op.method {
            BulkMethod::Post => Method::Post,
            BulkMethod::Put => Method::Put,
            BulkMethod::Patch => Method::Patch,
            BulkMethod::Delete => Method::Delete,
        };
        Operation {
            method,
            method_name: op.method.as_str().to_owned(),
            path: op.path,
            bulk_id: op.bulk_id,
            version: op.version,
            data: op.data,
        }
    }
}

/// Every `bulkId:x` reference in a string or JSON value.
fn references(path: &str, data: Option<&Value>, out: &mut Vec<String>) {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => refs_in(s, out),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    refs_in(path, out);
    if let Some(d) = data {
        walk(d, out);
    }
}

fn refs_in(s: &str, out: &mut Vec<String>) {
    // In a path the reference is a whole segment; in data a whole value.
    for part in s.split('/') {
        if let Some(id) = part.strip_prefix(BULK_ID_PREFIX) {
            out.push(id.to_owned());
        }
    }
}

fn substitute_str(s: &str, ids: &HashMap<String, String>) -> String {
    s.split('/')
        .map(|part| {
            part.strip_prefix(BULK_ID_PREFIX)
                .and_then(|b| ids.get(b))
                .map_or(part, String::as_str)
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn substitute(v: &Value, ids: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => Value::String(substitute_str(s, ids)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, ids)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn error_result(op_method: &str, bulk_id: Option<&str>, e: &ScimError) -> Value {
    let mut r =
        json!({"method": op_method, "status": e.status.to_string(), "response": e.to_json()});
    if let (Some(b), Some(o)) = (bulk_id, r.as_object_mut()) {
        o.insert("bulkId".into(), Value::String(b.to_owned()));
    }
    r
}

/// `POST /Bulk`: the BulkResponse.
pub(crate) async fn run<D: SqlExecutor>(ctx: &Ctx<'_, D>, req: &Request) -> Result<Value> {
    let max_payload = ctx.limits.max_request_bytes;
    if req.body.len() > max_payload {
        return Err(ScimError::payload_too_large(format!(
            "The bulk request is larger than maxPayloadSize ({max_payload} bytes)."
        ))
        .into());
    }
    let body = req.json()?;
    let request = BulkRequest::parse(&body, ctx.limits.max_bulk_operations)?;
    let fail_on_errors = request.fail_on_errors;

    let parsed: Vec<std::result::Result<Operation, BulkOperationError>> = request
        .operations
        .into_iter()
        .map(|op| op.map(Operation::from))
        .collect();
    let declared: Vec<&str> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok()?.bulk_id.as_deref())
        .collect();
    let mut results: Vec<Option<Value>> = vec![None; parsed.len()];
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut failed_ids: Vec<String> = Vec::new();
    let mut errors: u64 = 0;
    let mut pending: Vec<usize> = (0..parsed.len()).collect();
    let stop = |errors: u64| fail_on_errors.is_some_and(|n| errors >= n);

    // Operations run in order; one that refers to a bulkId created later
    // waits for it (RFC 7644 §3.7.2), and what can never resolve fails.
    'passes: while !pending.is_empty() {
        let mut progressed = false;
        let mut still = Vec::new();
        for i in pending {
            if stop(errors) {
                break 'passes;
            }
            let op = match parsed.get(i) {
                Some(Ok(op)) => op,
                Some(Err(e)) => {
                    results[i] = Some(error_result(&e.method, None, &e.error));
                    errors += 1;
                    progressed = true;
                    continue;
                }
                None => continue,
            };
            let mut refs = Vec::new();
            references(&op.path, op.data.as_ref(), &mut refs);
            let unknown = refs
                .iter()
                .find(|r| !declared.contains(&r.as_str()) || failed_ids.contains(r));
            if let Some(r) = unknown {
                let e = ScimError::new(
                    409,
                    Some(crate::proto::error::ScimType::InvalidValue),
                    format!("bulkId {r} does not name an operation that succeeded."),
                );
                results[i] = Some(error_result(&op.method_name, op.bulk_id.as_deref(), &e));
                if let Some(b) = &op.bulk_id {
                    failed_ids.push(b.clone());
                }
                errors += 1;
                progressed = true;
                continue;
            }
            if refs.iter().any(|r| !ids.contains_key(r)) {
                still.push(i);
                continue;
            }
            progressed = true;
            let result = execute(ctx, op, &ids).await?;
            let ok = result
                .get("status")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with('2'));
            match (&op.bulk_id, ok) {
                (Some(b), true) => {
                    if let Some(id) = result.get("location").and_then(Value::as_str) {
                        if let Some(last) = id.rsplit('/').next() {
                            ids.insert(b.clone(), last.to_owned());
                        }
                    }
                }
                (Some(b), false) => failed_ids.push(b.clone()),
                (None, _) => {}
            }
            if !ok {
                errors += 1;
            }
            results[i] = Some(result);
        }
        if !progressed {
            // Only circular references remain.
            for i in still {
                if let Some(Ok(op)) = parsed.get(i) {
                    let e = ScimError::new(
                        409,
                        Some(crate::proto::error::ScimType::InvalidValue),
                        "The operation's bulkId references are circular.",
                    );
                    results[i] = Some(error_result(&op.method_name, op.bulk_id.as_deref(), &e));
                }
            }
            break;
        }
        pending = still;
    }
    let operations: Vec<Value> = results.into_iter().flatten().collect();
    Ok(bulk_response(operations))
}

/// Runs one operation through the resource pipeline, as the same request
/// would run on its own, and reports its outcome (RFC 7644 §3.7.3).
async fn execute<D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    op: &Operation,
    ids: &HashMap<String, String>,
) -> Result<Value> {
    let path = substitute_str(&op.path, ids);
    let data = op.data.as_ref().map(|d| substitute(d, ids));
    let (path_only, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
    let precondition = Precondition {
        if_match: op.version.clone(),
        if_none_match: None,
    };
    let segments = op::segments(path_only);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let body = || {
        data.clone()
            .ok_or_else(|| ScimError::invalid_syntax("The request body is empty."))
    };
    let outcome = match op::parse(
        op.method,
        &segments,
        &Query::parse(query),
        body,
        precondition,
        ctx.limits.max_results,
    ) {
        Some(Ok(parsed)) => resources::run(ctx, parsed).await,
        Some(Err(e)) => Err(e),
        None => Err(ScimError::not_found(format!("No endpoint at {path_only}.")).into()),
    };
    let mut result = Map::new();
    let (status, version, location, error) = match outcome {
        Ok(o) => {
            let location = match &o {
                Outcome::Resource {
                    location: Some(l), ..
                } => Some(l.clone()),
                _ if op.method != Method::Post => Some(format!("{}{path_only}", ctx.base_url)),
                _ => None,
            };
            (o.status(), o.version(), location, None)
        }
        Err(e) => {
            let e = operation_error(e)?;
            (e.status, None, None, Some(e))
        }
    };
    if let Some(l) = location {
        result.insert("location".into(), Value::String(l));
    }
    result.insert("method".into(), Value::String(op.method_name.clone()));
    if let Some(b) = &op.bulk_id {
        result.insert("bulkId".into(), Value::String(b.clone()));
    }
    if let Some(v) = version {
        result.insert("version".into(), Value::String(etag(v)));
    }
    result.insert("status".into(), Value::String(status.to_string()));
    if let Some(e) = error {
        result.insert("response".into(), e.to_json());
    }
    Ok(Value::Object(result))
}

/// The SCIM error an operation's failure is reported as. A fault of the
/// server is no answer to the operation: it stops the whole request, which
/// is then logged and answered 500 (the operations before it stay done, as
/// RFC 7644 §3.7 allows).
fn operation_error(e: Error) -> Result<ScimError> {
    match e {
        Error::Scim(e) => Ok(e),
        Error::MethodNotAllowed { allow } => Ok(ScimError::method_not_allowed(format!(
            "This endpoint supports {allow}."
        ))),
        Error::SchemaChanged => Ok(crate::server::error::changed_meanwhile()),
        other => Err(other),
    }
}
