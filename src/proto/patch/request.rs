//! The PatchOp request (RFC 7644 §3.5.2): its envelope and operations,
//! parsed with the resource type's schema URNs.

use std::fmt;

use serde_json::Value;

use crate::proto::error::{ScimError, ScimType};
use crate::proto::json::get_ci;
use crate::proto::messages::{lists_schema, Schemas, UrnCase};
use crate::proto::patch::path::{parse_patch_path, PatchPath};
use crate::proto::schema::ResourceType;

/// The schema URN of a PATCH request body (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An operation's `op`: RFC 7644 §3.5.2.1 add, §3.5.2.2 remove, §3.5.2.3
/// replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

impl OpKind {
    /// Case-insensitive: Microsoft Entra ID sends "Add", "Replace", "Remove".
    pub(crate) fn parse(s: &str) -> Option<OpKind> {
        [OpKind::Add, OpKind::Replace, OpKind::Remove]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// The RFC 7644 spelling, lowercase.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Remove => "remove",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One PATCH operation. `value` is `None` when the request had no `value`
/// member (an explicit `null` is `Some(Value::Null)`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Prefixes an error's detail with the operation it comes from.
pub(crate) fn at_op(i: usize, e: ScimError) -> ScimError {
    ScimError {
        detail: format!("Operations[{i}]: {}", e.detail),
        ..e
    }
}

/// Parses a PatchOp request body (RFC 7644 §3.5.2): `schemas` must contain
/// `PATCH_OP_SCHEMA`, `Operations` is a non-empty array of at most `max_ops`
/// operations, `op` is case-insensitive, paths are parsed with the resource
/// type's schema URNs.
pub fn parse_request(
    body: &Value,
    rt: &ResourceType,
    max_ops: usize,
) -> Result<Vec<PatchOp>, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("The request body must be a JSON object."))?;
    match lists_schema(obj, PATCH_OP_SCHEMA, UrnCase::Insensitive) {
        Schemas::Lists => {}
        Schemas::Lacks => {
            return Err(ScimError::invalid_value(format!(
                "'schemas' must contain '{PATCH_OP_SCHEMA}'."
            )))
        }
        Schemas::NotAList => {
            return Err(ScimError::invalid_syntax(
                "'schemas' must be an array of schema URNs.",
            ))
        }
    }
    let list = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array."))?;
    if list.is_empty() {
        return Err(ScimError::invalid_value(
            "'Operations' must contain at least one operation.",
        ));
    }
    if list.len() > max_ops {
        return Err(ScimError::new(
            400,
            Some(ScimType::InvalidValue),
            format!(
                "A PATCH request may contain at most {max_ops} operations; this one has {}.",
                list.len()
            ),
        ));
    }
    let urns = rt.all_schema_urns();
    list.iter()
        .enumerate()
        .map(|(i, op)| parse_op(op, &urns).map_err(|e| at_op(i, e)))
        .collect()
}

fn parse_op(v: &Value, urns: &[&str]) -> Result<PatchOp, ScimError> {
    let m = v
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("An operation must be a JSON object."))?;
    let op = match get_ci(m, "op") {
        Some(Value::String(s)) => OpKind::parse(s).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "Unknown op '{s}': expected 'add', 'replace' or 'remove'."
            ))
        })?,
        _ => {
            return Err(ScimError::invalid_value(
                "Each operation needs an 'op' string.",
            ))
        }
    };
    // An empty `path` is treated as an absent one.
    let path =
        match get_ci(m, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(parse_patch_path(s, urns).map_err(|e| {
                ScimError::invalid_path(format!("Invalid path '{s}': {}", e.message))
            })?),
            Some(_) => return Err(ScimError::invalid_path("'path' must be a string.")),
        };
    Ok(PatchOp {
        op,
        path,
        value: get_ci(m, "value").cloned(),
    })
}
