//! The PATCH engine (RFC 7644 §3.5.2), pure: parses a PatchOp request and
//! applies its operations to a resource's stored form (see `normalize`).
//!
//! Every operation, and every key of a path-less value, goes through one
//! resolver (`resolve`) to a `Target`; the edits are made on a copy, so an
//! error leaves nothing applied; the result is validated by
//! `normalize::normalize`. Group members are not part of the document: they
//! come out as `MemberChanges`.

use std::fmt;

use serde_json::{Map, Value};

use crate::proto::attr::AttrPath;
use crate::proto::error::{ScimError, ScimType};
use crate::proto::filter::{CompValue, CompareOp, Filter};
use crate::proto::json::{get_ci, member, take_ci};
use crate::proto::normalize::normalize;
use crate::proto::path::{parse_patch_path, PatchPath};
use crate::proto::schema::{
    find_sub, AttrType, Attribute, Mutability, ResourceType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA,
};

pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

impl OpKind {
    /// Case-insensitive: Microsoft Entra ID sends "Add", "Replace", "Remove".
    pub fn parse(s: &str) -> Option<OpKind> {
        [OpKind::Add, OpKind::Replace, OpKind::Remove]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(self) -> &'static str {
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

/// Membership changes for Groups, kept out of the document (members live in
/// their own table). Apply them in this order: `remove_all`, `remove`,
/// `remove_filters` (evaluated on the member list), `add`; the operations
/// were folded so that this order gives the result of applying them one by
/// one. Duplicates may occur (re-adding a member is a no-op in the store).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberChanges {
    pub remove_all: bool,
    pub remove: Vec<String>,
    pub remove_filters: Vec<Filter>,
    /// (value, type)
    pub add: Vec<(String, Option<String>)>,
}

impl MemberChanges {
    pub fn is_empty(&self) -> bool {
        *self == MemberChanges::default()
    }

    fn clear_all(&mut self) {
        *self = MemberChanges {
            remove_all: true,
            ..MemberChanges::default()
        };
    }

    fn remove_id(&mut self, id: String) {
        self.add.retain(|(v, _)| *v != id);
        self.remove.push(id);
    }

    fn remove_where(&mut self, attr: &Attribute, filter: &Filter) {
        self.add.retain(|(v, ty)| {
            let mut m = Map::new();
            m.insert("value".into(), Value::String(v.clone()));
            if let Some(t) = ty {
                m.insert("type".into(), Value::String(t.clone()));
            }
            !element_matches(attr, filter, &Value::Object(m))
        });
        self.remove_filters.push(filter.clone());
    }

    fn add_member(&mut self, id: String, ty: Option<String>) {
        self.remove.retain(|r| *r != id);
        self.add.push((id, ty));
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The new stored form (for Groups: without members).
    pub doc: Value,
    pub members: MemberChanges,
    /// False when `doc` equals the current stored form and `members` is
    /// empty: the caller may skip the write and keep the version.
    pub changed: bool,
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Prefixes an error's detail with the operation it comes from.
fn at_op(i: usize, e: ScimError) -> ScimError {
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
    let schemas = get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("'schemas' must be an array of schema URNs."))?;
    let is_patch = |s: &Value| {
        s.as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
    };
    if !schemas.iter().any(is_patch) {
        return Err(ScimError::invalid_value(format!(
            "'schemas' must contain '{PATCH_OP_SCHEMA}'."
        )));
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

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

/// Builds the error for a bad path (invalidPath) or a bad key of a path-less
/// value (invalidValue).
type Bad = fn(String) -> ScimError;

/// What a path (or a path-less key) designates.
enum Resolved<'a> {
    /// A whole schema (bare URN): the extension object.
    Schema(usize),
    Attr(Target<'a>),
}

struct Target<'a> {
    path: &'a PatchPath,
    slot: usize,
    attr: &'a Attribute,
    /// `name.sub`, or `attr[filter].sub`.
    sub: Option<&'a Attribute>,
    filter: Option<&'a Filter>,
    /// Microsoft Entra ID sends the Enterprise `manager` as a bare id, and ""
    /// to clear it.
    manager: bool,
    bad: Bad,
}

impl Target<'_> {
    fn read_only(&self) -> bool {
        self.attr.mutability == Mutability::ReadOnly
            || self
                .sub
                .is_some_and(|s| s.mutability == Mutability::ReadOnly)
    }
}

/// The one resolver: slot (core or extension), attribute, sub-attribute and
/// value filter, all case-insensitive. An unqualified name that is not a
/// core attribute resolves to the one extension that defines it, if exactly
/// one does (`manager[value eq "id"]`, as Entra and Okta docs write it).
fn resolve<'a>(
    rt: &'a ResourceType,
    path: &'a PatchPath,
    bad: Bad,
) -> Result<Resolved<'a>, ScimError> {
    let unknown = || bad(format!("Unknown attribute '{path}'."));
    let slot = match &path.attr.urn {
        Some(urn) => rt.schema_index(urn).ok_or_else(unknown)?,
        None => 0,
    };
    if path.attr.name.is_empty() {
        return Ok(Resolved::Schema(slot));
    }
    let name = &path.attr.name;
    let (slot, attr) = match rt.attribute_in(slot, name) {
        Some(a) => (slot, a),
        None if path.attr.urn.is_none() => {
            let mut found =
                (1..=rt.extensions.len()).filter_map(|s| rt.attribute_in(s, name).map(|a| (s, a)));
            match (found.next(), found.next()) {
                (Some(one), None) => one,
                _ => return Err(unknown()),
            }
        }
        None => return Err(unknown()),
    };
    let sub = match path.attr.sub.as_ref().or(path.sub_after_filter.as_ref()) {
        Some(s) => Some(find_sub(attr, s).ok_or_else(unknown)?),
        None => None,
    };
    if let Some(f) = &path.filter {
        if !attr.multi_valued && attr.attr_type != AttrType::Complex {
            return Err(bad(format!(
                "'{path}': a value filter needs a multi-valued or complex attribute."
            )));
        }
        check_filter(attr, f).map_err(|n| {
            bad(format!(
                "Unknown attribute '{n}' in the value filter of '{path}'."
            ))
        })?;
    }
    let manager = rt
        .schema_at(slot)
        .is_some_and(|s| s.id == ENTERPRISE_USER_SCHEMA)
        && attr.name == "manager";
    Ok(Resolved::Attr(Target {
        path,
        slot,
        attr,
        sub,
        filter: path.filter.as_ref(),
        manager,
        bad,
    }))
}

/// Every attribute a value filter names must be a sub-attribute (`value`
/// for a multi-valued simple attribute).
fn check_filter(attr: &Attribute, f: &Filter) -> Result<(), String> {
    match f {
        Filter::Present(p) | Filter::Compare(p, _, _) => {
            let known = find_sub(attr, &p.name).is_some()
                || (attr.attr_type != AttrType::Complex && p.name.eq_ignore_ascii_case("value"));
            if known && p.urn.is_none() && p.sub.is_none() {
                Ok(())
            } else {
                Err(p.to_string())
            }
        }
        Filter::And(a, b) | Filter::Or(a, b) => check_filter(attr, a).and(check_filter(attr, b)),
        Filter::Not(x) => check_filter(attr, x),
        Filter::ValuePath(p, _) => Err(p.to_string()),
    }
}

fn element_matches(attr: &Attribute, f: &Filter, e: &Value) -> bool {
    let ce = |p: &AttrPath| find_sub(attr, &p.name).map_or(attr.case_exact, |s| s.case_exact);
    match e {
        Value::Object(_) => f.matches(e, &ce),
        // A simple multi-valued attribute: its values are `value`.
        other => {
            let wrapped = Value::Object(Map::from_iter([("value".to_string(), other.clone())]));
            f.matches(&wrapped, &ce)
        }
    }
}

/// The attributes of a filter made only of `eq` comparisons joined by `and`
/// (`type eq "work"`), from which a missing element can be created.
fn eq_pairs(attr: &Attribute, f: &Filter) -> Option<Vec<(String, Value)>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, v) => {
            let name = find_sub(attr, &p.name)?.name.clone();
            let v = match v {
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Null => return None,
            };
            Some(vec![(name, v)])
        }
        Filter::And(a, b) => {
            let mut l = eq_pairs(attr, a)?;
            l.extend(eq_pairs(attr, b)?);
            Some(l)
        }
        _ => None,
    }
}

/// The ids of `value eq "id"` or an `or` of them.
fn value_eqs(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, CompValue::String(s))
            if p.name.eq_ignore_ascii_case("value") =>
        {
            Some(vec![s.clone()])
        }
        Filter::Or(a, b) => {
            let mut l = value_eqs(a)?;
            l.extend(value_eqs(b)?);
            Some(l)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A string given for a complex attribute: Entra sends complex values
/// (`roles`) as stringified JSON, and the Enterprise `manager` as a bare id
/// ("" clears it).
fn unstring(attr: &Attribute, manager: bool, v: &Value) -> Value {
    let Value::String(s) = v else {
        return v.clone();
    };
    if attr.attr_type != AttrType::Complex {
        return v.clone();
    }
    match serde_json::from_str::<Value>(s) {
        Ok(parsed @ (Value::Array(_) | Value::Object(_))) => parsed,
        _ if manager && s.is_empty() => Value::Null,
        _ if manager => Value::Object(Map::from_iter([("value".to_string(), v.clone())])),
        _ => v.clone(),
    }
}

/// A value for the whole attribute: a multi-valued one becomes an array
/// (nulls dropped), a one-element array for a single-valued complex one its
/// element (Entra's legacy `manager` array).
fn prep_attr(attr: &Attribute, manager: bool, v: &Value) -> Value {
    let v = unstring(attr, manager, v);
    match &v {
        Value::Null => Value::Null,
        Value::Array(a) if attr.multi_valued => Value::Array(
            a.iter()
                .filter(|e| !e.is_null())
                .map(|e| strip_nulls(prep_one(attr, manager, e)))
                .collect(),
        ),
        _ if attr.multi_valued => Value::Array(vec![strip_nulls(prep_one(attr, manager, &v))]),
        Value::Array(a) if attr.attr_type == AttrType::Complex && a.len() <= 1 => a
            .first()
            .map_or(Value::Null, |e| prep_one(attr, manager, e)),
        _ => prep_one(attr, manager, &v),
    }
}

/// A value for one element of a multi-valued (or single complex) attribute.
fn prep_element(attr: &Attribute, manager: bool, v: &Value) -> Value {
    match unstring(attr, manager, v) {
        Value::Array(a) if a.len() == 1 => a
            .first()
            .map_or(Value::Null, |e| prep_one(attr, manager, e)),
        other => prep_one(attr, manager, &other),
    }
}

/// One value: "True"/"False" for a boolean (Entra), canonical sub-attribute
/// names. Unknown keys are left for `normalize` to reject.
fn prep_one(attr: &Attribute, manager: bool, v: &Value) -> Value {
    match unstring(attr, manager, v) {
        Value::String(s) if attr.attr_type == AttrType::Boolean => {
            if s.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if s.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                Value::String(s)
            }
        }
        Value::Object(m) if attr.attr_type == AttrType::Complex => {
            let mut out = Map::new();
            for (k, x) in &m {
                match find_sub(attr, k) {
                    Some(sub) => out.insert(sub.name.clone(), prep_attr(sub, false, x)),
                    None => out.insert(k.clone(), x.clone()),
                };
            }
            Value::Object(out)
        }
        other => other,
    }
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            m.retain(|_, x| !x.is_null());
            Value::Object(m)
        }
        other => other,
    }
}

/// Sets the keys of `new` in `obj` (a null key removes it).
fn merge_into(obj: &mut Map<String, Value>, new: &Map<String, Value>) {
    for (k, v) in new {
        take_ci(obj, k);
        if !v.is_null() {
            obj.insert(k.clone(), v.clone());
        }
    }
}

fn non_empty(obj: Map<String, Value>) -> Option<Value> {
    (!obj.is_empty()).then_some(Value::Object(obj))
}

fn into_list(v: Option<Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(other) => vec![other],
    }
}

/// Two elements are the same when equal or with equal `value`s.
fn same_element(a: &Value, b: &Value) -> bool {
    let key = |e: &Value| match e {
        Value::Object(m) => get_ci(m, "value").cloned(),
        other => Some(other.clone()),
    };
    key(a).is_some() && key(a) == key(b)
}

/// RFC 7643 §2.4, RFC 7644 §3.5.2: the primary value "true" appears at most
/// once; the last element an operation made primary wins, and the others
/// lose their `primary`.
fn fix_primary(attr: &Attribute, items: &mut [Value], touched: &[usize]) {
    let Some(p) = find_sub(attr, "primary").filter(|p| p.attr_type == AttrType::Boolean) else {
        return;
    };
    let is_primary =
        |e: &Value| e.as_object().and_then(|m| get_ci(m, &p.name)) == Some(&Value::Bool(true));
    let Some(&winner) = touched
        .iter()
        .rev()
        .find(|&&i| items.get(i).is_some_and(is_primary))
    else {
        return;
    };
    for (i, e) in items.iter_mut().enumerate() {
        if let (false, Value::Object(m)) = (i == winner, e) {
            if get_ci(m, &p.name) == Some(&Value::Bool(true)) {
                take_ci(m, &p.name);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Editing one attribute
// ---------------------------------------------------------------------------

/// The new value of the target's attribute (`None`: absent).
fn edit_attr(
    kind: OpKind,
    t: &Target<'_>,
    cur: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let attr = t.attr;
    let remove = kind == OpKind::Remove;
    match (t.filter, t.sub) {
        (None, None) if attr.multi_valued => Ok(edit_list(
            kind,
            attr,
            cur,
            value.map(|v| prep_attr(attr, false, v)),
        )),
        (None, None) => Ok(match value.map(|v| prep_attr(attr, t.manager, v)) {
            _ if remove => None,
            None | Some(Value::Null) => None,
            // RFC 7644 §3.5.2.1, §3.5.2.3: a complex value sets the given
            // sub-attributes and leaves the others unchanged.
            Some(Value::Object(new)) if attr.attr_type == AttrType::Complex => {
                let mut obj = match cur {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                merge_into(&mut obj, &new);
                non_empty(obj)
            }
            Some(v) => Some(v),
        }),
        (None, Some(sub)) if !attr.multi_valued => {
            let mut obj = match cur {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            take_ci(&mut obj, &sub.name);
            match value.map(|v| prep_attr(sub, false, v)) {
                Some(v) if !remove && !v.is_null() => {
                    obj.insert(sub.name.clone(), v);
                }
                _ => {}
            }
            Ok(non_empty(obj))
        }
        _ => edit_elements(kind, t, cur, value),
    }
}

/// A multi-valued attribute as a whole: add appends new elements, replace
/// replaces the list, remove drops it (or, given a value list, only the
/// elements listed: Entra's legacy form).
fn edit_list(
    kind: OpKind,
    attr: &Attribute,
    cur: Option<Value>,
    value: Option<Value>,
) -> Option<Value> {
    let new = match &value {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let absent = value.as_ref().is_none_or(Value::is_null);
    let mut items = into_list(cur);
    let touched: Vec<usize> = match kind {
        OpKind::Remove | OpKind::Replace if absent => return None,
        OpKind::Remove => {
            items.retain(|e| !new.iter().any(|n| same_element(e, n)));
            Vec::new()
        }
        OpKind::Replace => {
            items = new;
            (0..items.len()).collect()
        }
        OpKind::Add => {
            let mut touched = Vec::new();
            for n in new {
                if !items.contains(&n) {
                    items.push(n);
                    touched.push(items.len() - 1);
                }
            }
            touched
        }
    };
    fix_primary(attr, &mut items, &touched);
    (!items.is_empty()).then_some(Value::Array(items))
}

/// Elements selected by a value filter (all of them without one), for a
/// multi-valued attribute or a single complex one seen as a one-element list.
fn edit_elements(
    kind: OpKind,
    t: &Target<'_>,
    cur: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let attr = t.attr;
    let mut items = into_list(cur);
    let hits: Vec<usize> = (0..items.len())
        .filter(|&i| {
            items
                .get(i)
                .is_some_and(|e| t.filter.is_none_or(|f| element_matches(attr, f, e)))
        })
        .collect();
    let value = match (kind, value) {
        (OpKind::Remove, _) | (_, None) => Value::Null,
        (_, Some(v)) => match t.sub {
            Some(s) => prep_attr(s, false, v),
            None => prep_element(attr, t.manager, v),
        },
    };
    let touched = if kind != OpKind::Remove && hits.is_empty() {
        if value.is_null() {
            Vec::new()
        } else {
            items.push(create_element(t, value)?);
            vec![items.len() - 1]
        }
    } else if value.is_null() {
        match t.sub {
            Some(s) => {
                for &i in &hits {
                    if let Some(Value::Object(m)) = items.get_mut(i) {
                        take_ci(m, &s.name);
                    }
                }
            }
            None => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !hits.contains(&(i - 1))
                });
            }
        }
        Vec::new()
    } else {
        for &i in &hits {
            if let Some(e) = items.get_mut(i) {
                match (t.sub, kind, e, &value) {
                    (Some(s), _, Value::Object(m), v) => {
                        take_ci(m, &s.name);
                        m.insert(s.name.clone(), v.clone());
                    }
                    (None, OpKind::Add, Value::Object(m), Value::Object(new)) => merge_into(m, new),
                    (_, _, e, v) => *e = v.clone(),
                }
            }
        }
        hits
    };
    fix_primary(attr, &mut items, &touched);
    Ok(match (attr.multi_valued, items.is_empty()) {
        (_, true) => None,
        (true, false) => Some(Value::Array(items)),
        (false, false) => items.pop(),
    })
}

/// No element matched: create one from an `eq` conjunction filter plus the
/// value (Microsoft Entra ID: `emails[type eq "work"].value` creates the
/// work email), else 400 noTarget (RFC 7644 §3.5.2.3).
fn create_element(t: &Target<'_>, value: Value) -> Result<Value, ScimError> {
    let pairs = match t.filter {
        None => Some(Vec::new()),
        Some(f) => eq_pairs(t.attr, f),
    };
    let Some(pairs) = pairs else {
        return Err(ScimError::no_target(format!(
            "No value of '{}' matches the filter of '{}'.",
            t.attr.name, t.path
        )));
    };
    let mut m: Map<String, Value> = pairs.into_iter().collect();
    match (t.sub, value) {
        (Some(s), v) => {
            m.insert(s.name.clone(), v);
        }
        (None, Value::Object(new)) => merge_into(&mut m, &new),
        (None, v) if m.is_empty() => return Ok(v),
        (None, _) => {
            return Err(ScimError::invalid_value(format!(
                "The value for '{}' must be a JSON object.",
                t.path
            )))
        }
    }
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------
// Applying operations
// ---------------------------------------------------------------------------

struct State<'a> {
    rt: &'a ResourceType,
    own_id: &'a str,
    urns: Vec<&'a str>,
    doc: Map<String, Value>,
    members: MemberChanges,
}

impl State<'_> {
    fn op(&mut self, op: &PatchOp) -> Result<(), ScimError> {
        let value = op.value.as_ref();
        if op.op != OpKind::Remove && value.is_none() {
            return Err(ScimError::invalid_value(format!(
                "The '{}' operation requires a 'value'.",
                op.op
            )));
        }
        let Some(path) = &op.path else {
            if op.op == OpKind::Remove {
                return Err(ScimError::no_target(
                    "The 'remove' operation requires a 'path' (RFC 7644 §3.5.2.2).",
                ));
            }
            return self.object(op.op, None, value.unwrap_or(&Value::Null));
        };
        match resolve(self.rt, path, ScimError::invalid_path)? {
            Resolved::Schema(slot) if op.op == OpKind::Remove => self.remove_schema(slot),
            Resolved::Schema(slot) => self.object(op.op, Some(slot), value.unwrap_or(&Value::Null)),
            Resolved::Attr(t) if t.read_only() => Err(ScimError::mutability(format!(
                "Attribute '{path}' is readOnly."
            ))),
            Resolved::Attr(t) => self.edit(op.op, &t, value),
        }
    }

    /// A path-less value (`slot` None), or the value of a bare schema URN
    /// path: each key is resolved like a path, within `slot`.
    fn object(&mut self, kind: OpKind, slot: Option<usize>, v: &Value) -> Result<(), ScimError> {
        let m = match (v, slot) {
            (Value::Object(m), _) => m,
            (Value::Null, Some(s)) => return self.remove_schema(s),
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "The value of a '{kind}' without a path must be a JSON object of attributes."
                )))
            }
        };
        let rt = self.rt;
        for (key, value) in m {
            // `schemas` names the request's schemas, not an attribute.
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let full = match slot.and_then(|s| rt.schema_at(s)) {
                Some(schema) => format!("{}:{key}", schema.id),
                None => key.clone(),
            };
            let path = parse_patch_path(&full, &self.urns).map_err(|e| {
                ScimError::invalid_value(format!("Invalid attribute name '{key}': {}", e.message))
            })?;
            match resolve(rt, &path, ScimError::invalid_value)? {
                Resolved::Schema(s) if slot.is_none() => self.object(kind, Some(s), value)?,
                Resolved::Schema(_) => {
                    return Err(ScimError::invalid_value(format!(
                        "Unknown attribute '{full}'."
                    )))
                }
                Resolved::Attr(t) if t.read_only() => {
                    // RFC 7643 §2.2: readOnly values are ignored. Okta sends
                    // the group's own `id` with every rename and membership
                    // change: accepted when it is the resource's own.
                    let is_id = t.slot == 0 && t.attr.name == "id" && t.sub.is_none();
                    if is_id && value.as_str() != Some(self.own_id) {
                        return Err(ScimError::mutability("Attribute 'id' cannot be changed."));
                    }
                }
                Resolved::Attr(t) => self.edit(kind, &t, Some(value))?,
            }
        }
        Ok(())
    }

    fn remove_schema(&mut self, slot: usize) -> Result<(), ScimError> {
        match self.rt.schema_at(slot) {
            Some(s) if slot > 0 => {
                take_ci(&mut self.doc, &s.id);
                Ok(())
            }
            _ => Err(ScimError::invalid_path(
                "The core schema cannot be removed or replaced by null.",
            )),
        }
    }

    fn edit(
        &mut self,
        kind: OpKind,
        t: &Target<'_>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if self.rt.schema.id == GROUP_SCHEMA && t.slot == 0 && t.attr.name == "members" {
            return self.edit_members(kind, t, value);
        }
        let map = if t.slot == 0 {
            &mut self.doc
        } else {
            let urn = self
                .rt
                .schema_at(t.slot)
                .map(|s| s.id.clone())
                .ok_or_else(|| ScimError::internal("Unknown schema slot."))?;
            let old = take_ci(&mut self.doc, &urn).filter(Value::is_object);
            let entry = self
                .doc
                .entry(urn)
                .or_insert(old.unwrap_or(Value::Object(Map::new())));
            entry
                .as_object_mut()
                .ok_or_else(|| ScimError::internal("Extension data is not an object."))?
        };
        let cur = take_ci(map, &t.attr.name);
        if let Some(v) = edit_attr(kind, t, cur, value)? {
            map.insert(t.attr.name.clone(), v);
        }
        Ok(())
    }

    /// Group members (RFC 7644 §3.5.2 examples; Okta and Entra forms).
    fn edit_members(
        &mut self,
        kind: OpKind,
        t: &Target<'_>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if t.sub.is_some() || (t.filter.is_some() && kind != OpKind::Remove) {
            return Err((t.bad)(format!(
                "'{}': members are added or replaced as whole values, and removed by value filter.",
                t.path
            )));
        }
        match (kind, t.filter, value) {
            (OpKind::Remove, Some(f), _) => match value_eqs(f) {
                Some(ids) => ids.into_iter().for_each(|id| self.members.remove_id(id)),
                None => self.members.remove_where(t.attr, f),
            },
            (OpKind::Remove, None, None | Some(Value::Null)) => self.members.clear_all(),
            // Entra's legacy form: `remove` `members` with a value list
            // removes only those members (it must not empty the group).
            (OpKind::Remove, None, Some(v)) => {
                for (id, _) in member_list(t.attr, v)? {
                    self.members.remove_id(id);
                }
            }
            (kind, _, v) => {
                let list = member_list(t.attr, v.unwrap_or(&Value::Null))?;
                if kind == OpKind::Replace {
                    self.members.clear_all();
                }
                for (id, ty) in list {
                    self.members.add_member(id, ty);
                }
            }
        }
        Ok(())
    }
}

/// `[{"value": id, "type": "User"}, ...]` (a single object is a list of one).
fn member_list(attr: &Attribute, v: &Value) -> Result<Vec<(String, Option<String>)>, ScimError> {
    let Value::Array(items) = prep_attr(attr, false, v) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|e| {
            let id = e
                .get("value")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    ScimError::invalid_value("Each member needs a 'value' string (its id).")
                })?;
            let ty = match e.get("type") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    return Err(ScimError::invalid_value(
                        "A member's 'type' must be a string.",
                    ))
                }
            };
            Ok((id.to_string(), ty))
        })
        .collect()
}

fn sub_of<'v>(v: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    v.and_then(|v| member(v, name))
}

/// RFC 7643 §2.2: an immutable value, once set, cannot be removed either
/// (`normalize` rejects changes, but would silently keep a removed value).
/// Checks top-level attributes and sub-attributes of single complex ones.
fn check_immutable_kept(rt: &ResourceType, old: &Value, new: &Value) -> Result<(), ScimError> {
    let set = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    for slot in 0..=rt.extensions.len() {
        let (o, n) = (rt.slot_object(old, slot), rt.slot_object(new, slot));
        for attr in rt.attributes_in(slot) {
            let ov = o.and_then(|m| get_ci(m, &attr.name));
            let nv = n.and_then(|m| get_ci(m, &attr.name));
            let subs = attr
                .sub_attributes
                .iter()
                .filter(|_| !attr.multi_valued)
                .map(|s| (s, sub_of(ov, &s.name), sub_of(nv, &s.name)));
            let lost = std::iter::once((attr, ov, nv))
                .chain(subs)
                .find(|(a, o, n)| a.mutability == Mutability::Immutable && set(*o) && !set(*n));
            if let Some((a, ..)) = lost {
                return Err(ScimError::mutability(format!(
                    "Attribute '{}' is immutable and cannot be removed.",
                    a.name
                )));
            }
        }
    }
    Ok(())
}

/// Applies `ops` to the stored form `current` (for Groups: without members)
/// of the resource `own_id`, atomically: any error means nothing is applied.
/// The result is validated by `normalize(rt, &result, Some(current))`.
pub fn apply(
    rt: &ResourceType,
    own_id: &str,
    current: &Value,
    ops: &[PatchOp],
) -> Result<Outcome, ScimError> {
    let mut state = State {
        rt,
        own_id,
        urns: rt.all_schema_urns(),
        doc: current.as_object().cloned().unwrap_or_default(),
        members: MemberChanges::default(),
    };
    for (i, op) in ops.iter().enumerate() {
        state.op(op).map_err(|e| at_op(i, e))?;
    }
    let State {
        mut doc, members, ..
    } = state;
    // Every known schema: `normalize` lists those that hold data.
    let urns = rt
        .all_schema_urns()
        .into_iter()
        .map(|u| Value::String(u.into()));
    doc.insert("schemas".into(), Value::Array(urns.collect()));
    let new = Value::Object(doc);
    check_immutable_kept(rt, current, &new)?;
    let doc = normalize(rt, &new, Some(current))?;
    let changed = doc != *current || !members.is_empty();
    Ok(Outcome {
        doc,
        members,
        changed,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::schema::{
        group_resource_type, user_resource_type, Schema, SchemaExtension, USER_SCHEMA,
    };
    use serde_json::json;

    const ENT: &str = ENTERPRISE_USER_SCHEMA;
    const OWN: &str = "own-id";

    fn users() -> ResourceType {
        user_resource_type(vec![])
    }
    fn groups() -> ResourceType {
        group_resource_type()
    }
    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
    }
    fn run(rt: &ResourceType, current: &Value, ops: Value) -> Result<Outcome, ScimError> {
        let ops = parse_request(&body(ops), rt, 100)?;
        apply(rt, OWN, current, &ops)
    }
    fn ok(rt: &ResourceType, current: &Value, ops: Value) -> Outcome {
        match run(rt, current, ops.clone()) {
            Ok(o) => o,
            Err(e) => panic!("{ops}: {e:?}"),
        }
    }
    fn fails(rt: &ResourceType, current: &Value, ops: Value, t: ScimType) -> ScimError {
        match run(rt, current, ops.clone()) {
            Ok(o) => panic!("{ops} succeeded: {o:?}"),
            Err(e) => {
                assert_eq!(e.status, 400, "{e:?}");
                assert_eq!(e.scim_type, Some(t), "{ops}: {e:?}");
                e
            }
        }
    }
    fn stored(rt: &ResourceType, v: Value) -> Value {
        normalize(rt, &v, None).unwrap()
    }
    fn bjensen() -> Value {
        stored(
            &users(),
            json!({
                "schemas": [USER_SCHEMA, ENT],
                "userName": "bjensen",
                "name": {"familyName": "Jensen", "givenName": "Barbara"},
                "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                           {"value": "babs@jensen.org", "type": "home"}],
                ENT: {"employeeNumber": "1", "manager": {"value": "m1"}}
            }),
        )
    }
    fn group() -> Value {
        stored(
            &groups(),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng"}),
        )
    }
    fn members(out: &Outcome) -> &MemberChanges {
        &out.members
    }
    fn added(ids: &[&str]) -> Vec<(String, Option<String>)> {
        ids.iter().map(|i| (i.to_string(), None)).collect()
    }

    // ---- parse_request ---------------------------------------------------

    #[test]
    fn parse_request_rfc7644_3_5_2_envelope() {
        // RFC 7644 §3.5.2: schemas holds the PatchOp URN, Operations non-empty.
        let rt = users();
        let ops = parse_request(
            &body(json!([
                {"op": "Add", "path": "emails", "value": []},
                {"op": "REPLACE", "path": "", "value": {}},
                {"op": "remove", "path": "name.familyName"}
            ])),
            &rt,
            10,
        )
        .unwrap();
        // Entra capitalises op values: case-insensitive.
        let kinds: Vec<OpKind> = ops.iter().map(|o| o.op).collect();
        assert_eq!(kinds, [OpKind::Add, OpKind::Replace, OpKind::Remove]);
        assert!(ops[1].path.is_none(), "an empty path is no path");
        assert_eq!(ops[2].path.as_ref().unwrap().to_string(), "name.familyName");
        assert!(ops[2].value.is_none());

        let e = |b: Value| parse_request(&b, &rt, 2).unwrap_err();
        assert_eq!(e(json!([])).scim_type, Some(ScimType::InvalidSyntax));
        assert_eq!(
            e(json!({"Operations": []})).scim_type,
            Some(ScimType::InvalidSyntax)
        );
        let wrong =
            e(json!({"schemas": [USER_SCHEMA], "Operations": [{"op": "add", "value": {}}]}));
        assert_eq!(wrong.scim_type, Some(ScimType::InvalidValue));
        assert_eq!(e(body(json!([]))).scim_type, Some(ScimType::InvalidValue));
        let unknown = e(body(json!([{"op": "merge", "value": {}}])));
        assert_eq!(unknown.scim_type, Some(ScimType::InvalidValue));
        assert!(unknown.detail.contains("Operations[0]"));
        let bad_path = e(body(json!([{"op": "remove", "path": "emails[type eq"}])));
        assert_eq!(bad_path.scim_type, Some(ScimType::InvalidPath));
        let non_string = e(body(json!([{"op": "remove", "path": 3}])));
        assert_eq!(non_string.scim_type, Some(ScimType::InvalidPath));
        // Too many operations: 400 naming the limit.
        let many = e(body(Value::Array(vec![
            json!({"op": "remove", "path": "title"});
            3
        ])));
        assert_eq!(
            (many.status, many.scim_type),
            (400, Some(ScimType::InvalidValue))
        );
        assert!(many.detail.contains("at most 2"));
    }

    #[test]
    fn add_and_replace_need_a_value_remove_needs_a_path() {
        // RFC 7644 §3.5.2.1/§3.5.2.3: value required; §3.5.2.2: remove without path -> noTarget.
        let rt = users();
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": "title"}]),
            ScimType::InvalidValue,
        );
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "replace"}]),
            ScimType::InvalidValue,
        );
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "remove"}]),
            ScimType::NoTarget,
        );
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "remove", "value": {"title": "x"}}]),
            ScimType::NoTarget,
        );
        // Path-less values must be objects.
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "add", "value": "x"}]),
            ScimType::InvalidValue,
        );
    }

    // ---- add ---------------------------------------------------------------

    #[test]
    fn add_rfc7644_3_5_2_1_multi_valued_appends_and_dedups() {
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": "emails", "value": [
                {"value": "b@work.example", "type": "other"},
                {"value": "babs@jensen.org", "type": "home"}
            ]}]),
        );
        let emails = out.doc["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 3, "{emails:?}");
        assert_eq!(
            emails[2],
            json!({"value": "b@work.example", "type": "other"})
        );
        // A single value is one element; an equal element is a no-op.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": "emails", "value": {"value": "babs@jensen.org", "type": "home"}}]),
        );
        assert!(!out.changed);
        assert_eq!(out.doc, bjensen());
    }

    #[test]
    fn add_rfc7644_3_5_2_1_single_and_complex() {
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "add", "path": "title", "value": "Tour Guide"},
                {"op": "add", "path": "name", "value": {"middleName": "J"}},
                {"op": "add", "path": "name.honorificPrefix", "value": "Ms."}
            ]),
        );
        assert_eq!(out.doc["title"], "Tour Guide");
        assert_eq!(
            out.doc["name"],
            json!({"familyName": "Jensen", "givenName": "Barbara", "middleName": "J", "honorificPrefix": "Ms."})
        );
        assert!(out.changed);
    }

    #[test]
    fn add_path_less_rfc7644_3_5_2_1_merges() {
        // Path-less: the value's attributes are merged into the resource.
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "value": {
                "emails": [{"value": "new@example.com", "type": "other"}],
                "NickName": "Babs",
                "name": {"givenName": "Barb"}
            }}]),
        );
        assert_eq!(out.doc["emails"].as_array().unwrap().len(), 3);
        assert_eq!(out.doc["nickName"], "Babs");
        assert_eq!(
            out.doc["name"],
            json!({"familyName": "Jensen", "givenName": "Barb"})
        );
    }

    #[test]
    fn value_filter_sub_attribute_in_place_and_created_entra() {
        // RFC 7644 §3.5.2 `emails[type eq "work"].value`; Entra requires the
        // element to be created (with that type) when none matches.
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "bj@new.example"}]),
        );
        assert_eq!(
            out.doc["emails"][0],
            json!({"value": "bj@new.example", "type": "work", "primary": true})
        );
        assert_eq!(out.doc["emails"].as_array().unwrap().len(), 2);

        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555"},
                {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
                {"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"},
                {"op": "Add", "path": "emails[type eq \"other\" and display eq \"x\"].value", "value": "o@x"}
            ]),
        );
        assert_eq!(
            out.doc["phoneNumbers"],
            json!([{"value": "+1 555", "type": "work"}])
        );
        assert_eq!(
            out.doc["addresses"],
            json!([{"streetAddress": "1 Main St", "locality": "Springfield", "type": "work"}])
        );
        assert_eq!(
            out.doc["emails"][2],
            json!({"value": "o@x", "display": "x", "type": "other"})
        );
        // Not an eq conjunction: nothing can be created -> noTarget.
        for path in [
            "emails[type eq \"other\" or type eq \"x\"].value",
            "emails[value co \"zzz\"].type",
            "emails[type ne \"work\" and type ne \"home\"]",
        ] {
            fails(
                &rt,
                &bjensen(),
                json!([{"op": "replace", "path": path, "value": "x"}]),
                ScimType::NoTarget,
            );
        }
    }

    #[test]
    fn replace_with_value_filter_replaces_matching_elements_rfc7644_3_5_2_3() {
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"]",
                    "value": {"value": "home@x", "type": "home"}}]),
        );
        assert_eq!(
            out.doc["emails"][1],
            json!({"value": "home@x", "type": "home"})
        );
        // add with a filter merges into the matching element.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]),
        );
        assert_eq!(
            out.doc["emails"][1],
            json!({"value": "babs@jensen.org", "display": "Home", "type": "home"})
        );
    }

    // ---- replace -------------------------------------------------------------

    #[test]
    fn okta_deactivate_path_less_replace() {
        // Okta: {"op":"replace","value":{"active":false}} (no path).
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "replace", "value": {"active": false}}]),
        );
        assert_eq!(out.doc["active"], false);
        let again = ok(
            &rt,
            &out.doc,
            json!([{"op": "replace", "value": {"active": false}}]),
        );
        assert!(!again.changed, "same value: nothing to write");
        let back = ok(
            &rt,
            &out.doc,
            json!([{"op": "replace", "value": {"active": true}}]),
        );
        assert_eq!(back.doc["active"], true);
    }

    #[test]
    fn entra_replace_active_string_boolean() {
        // Entra: {"op":"Replace","path":"active","value":"False"}.
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        );
        assert_eq!(out.doc["active"], json!(false));
        let out = ok(
            &rt,
            &out.doc,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        );
        assert_eq!(out.doc["active"], json!(true));
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "Replace", "path": "active", "value": "maybe"}]),
            ScimType::InvalidValue,
        );
    }

    #[test]
    fn replace_rfc7644_3_5_2_3_multi_whole_complex_merge_and_absent_target() {
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "replace", "path": "emails", "value": [{"value": "only@x", "type": "work"}]},
                // Complex: given sub-attributes replaced, others unchanged.
                {"op": "replace", "path": "name", "value": {"givenName": "Babs"}},
                // Target absent: replace acts like add.
                {"op": "replace", "path": "title", "value": "Boss"},
                {"op": "replace", "path": "phoneNumbers", "value": [{"value": "1"}]}
            ]),
        );
        assert_eq!(
            out.doc["emails"],
            json!([{"value": "only@x", "type": "work"}])
        );
        assert_eq!(
            out.doc["name"],
            json!({"familyName": "Jensen", "givenName": "Babs"})
        );
        assert_eq!(out.doc["title"], "Boss");
        assert_eq!(out.doc["phoneNumbers"], json!([{"value": "1"}]));
        // Path-less replace replaces a multi-valued attribute's list.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "replace", "value": {"emails": [{"value": "p@x"}]}}]),
        );
        assert_eq!(out.doc["emails"], json!([{"value": "p@x"}]));
    }

    #[test]
    fn explicit_null_removes() {
        // RFC 7644 §3.5.2: null is "unassigned"; Entra sends explicit nulls.
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "replace", "path": "emails", "value": null},
                {"op": "replace", "value": {"name.givenName": null, "nickName": null}},
                {"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": null}}
            ]),
        );
        assert!(out.doc.get("emails").is_none());
        assert_eq!(out.doc["name"], json!({"familyName": "Jensen"}));
        assert_eq!(out.doc[ENT], json!({"manager": {"value": "m1"}}));
    }

    #[test]
    fn entra_path_less_dotted_and_urn_keys_land_nested() {
        let rt = users();
        let out = ok(
            &rt,
            &stored(&rt, json!({"schemas": [USER_SCHEMA], "userName": "u"})),
            json!([{"op": "replace", "value": {
                "name.givenName": "A",
                "NAME.familyName": "B",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "boss",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
                "schemas": ["whatever"]
            }}]),
        );
        assert_eq!(
            out.doc,
            json!({"schemas": [USER_SCHEMA, ENT], "userName": "u",
                   "name": {"familyName": "B", "givenName": "A"},
                   ENT: {"employeeNumber": "7", "department": "Sales", "manager": {"value": "boss"}}})
        );
        // A whole extension object under its URN key, and as a bare URN path.
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "add", "value": {ENT: {"division": "D", "employeeNumber": "2"}}},
                {"op": "add", "path": ENT, "value": {"costCenter": "C"}}
            ]),
        );
        assert_eq!(
            out.doc[ENT],
            json!({"employeeNumber": "2", "costCenter": "C", "division": "D", "manager": {"value": "m1"}})
        );
        // Unknown keys are invalidValue; an unknown URN is never split at a dot.
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "add", "value": {"nope": 1}}]),
            ScimType::InvalidValue,
        );
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope": "1"}}]),
            ScimType::InvalidValue,
        );
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "add", "value": {"urn:acme:2.0:User:x": "1"}}]),
            ScimType::InvalidValue,
        );
    }

    #[test]
    fn extension_urn_paths_and_schemas_list() {
        // Entra: URN paths contain colons and dots; the longest URN wins.
        let custom = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:custom";
        let rt = user_resource_type(vec![SchemaExtension {
            schema: Schema::new(custom, "Custom", "", vec![Attribute::string("x")]),
            required: false,
        }]);
        let cur = stored(&rt, json!({"schemas": [USER_SCHEMA], "userName": "u"}));
        let out = ok(
            &rt,
            &cur,
            json!([
                {"op": "add", "path": format!("{custom}:x"), "value": "1"},
                {"op": "add", "path": format!("{ENT}:department"), "value": "D"}
            ]),
        );
        assert_eq!(out.doc["schemas"], json!([USER_SCHEMA, ENT, custom]));
        assert_eq!(out.doc[custom], json!({"x": "1"}));
        assert_eq!(out.doc[ENT], json!({"department": "D"}));
        // Removing a whole extension drops its URN from schemas.
        let out = ok(&rt, &out.doc, json!([{"op": "remove", "path": custom}]));
        assert_eq!(out.doc["schemas"], json!([USER_SCHEMA, ENT]));
        assert!(out.doc.get(custom).is_none());
        fails(
            &rt,
            &cur,
            json!([{"op": "remove", "path": USER_SCHEMA}]),
            ScimType::InvalidPath,
        );
    }

    // ---- remove ----------------------------------------------------------------

    #[test]
    fn remove_rfc7644_3_5_2_2() {
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "remove", "path": "name.familyName"},
                {"op": "remove", "path": "emails[type eq \"home\"]"},
                {"op": "remove", "path": "emails[type eq \"work\"].primary"}
            ]),
        );
        assert_eq!(out.doc["name"], json!({"givenName": "Barbara"}));
        assert_eq!(
            out.doc["emails"],
            json!([{"value": "bjensen@example.com", "type": "work"}])
        );
        let out = ok(&rt, &out.doc, json!([{"op": "remove", "path": "emails"}]));
        assert!(out.doc.get("emails").is_none());
        // Removing something absent is a no-op success.
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "remove", "path": "title"},
                {"op": "remove", "path": "name.middleName"},
                {"op": "remove", "path": "emails[type eq \"pager\"]"},
                {"op": "remove", "path": "addresses[type eq \"work\"].region"}
            ]),
        );
        assert!(!out.changed);
        assert_eq!(out.doc, bjensen());
        // Removing a required attribute fails validation.
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "remove", "path": "userName"}]),
            ScimType::InvalidValue,
        );
    }

    #[test]
    fn remove_with_value_list_removes_only_those() {
        // Entra's legacy form, generically for multi-valued attributes.
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "Remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]),
        );
        assert_eq!(
            out.doc["emails"],
            json!([{"value": "bjensen@example.com", "type": "work", "primary": true}])
        );
    }

    // ---- manager (Entra) ---------------------------------------------------------

    #[test]
    fn entra_manager_three_input_forms() {
        let rt = users();
        let path = format!("{ENT}:manager");
        for value in [
            json!("m2"),
            json!({"value": "m2"}),
            json!([{"value": "m2"}]),
        ] {
            for op in ["add", "Replace"] {
                let out = ok(
                    &rt,
                    &bjensen(),
                    json!([{"op": op, "path": path, "value": value}]),
                );
                assert_eq!(
                    out.doc[ENT]["manager"],
                    json!({"value": "m2"}),
                    "{op} {value}"
                );
            }
            let out = ok(
                &rt,
                &bjensen(),
                json!([{"op": "replace", "value": {path.clone(): value}}]),
            );
            assert_eq!(out.doc[ENT]["manager"], json!({"value": "m2"}));
        }
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": format!("{path}.value"), "value": "m3"}]),
        );
        assert_eq!(out.doc[ENT]["manager"], json!({"value": "m3"}));
    }

    #[test]
    fn entra_manager_removal_forms() {
        let rt = users();
        let gone = |ops: Value| {
            let out = ok(&rt, &bjensen(), ops);
            assert_eq!(out.doc[ENT], json!({"employeeNumber": "1"}));
        };
        gone(json!([{"op": "Remove", "path": format!("{ENT}:manager")}]));
        // Unqualified: resolved to the one extension that defines it.
        gone(json!([{"op": "remove", "path": "manager"}]));
        gone(json!([{"op": "Replace", "path": format!("{ENT}:manager"), "value": ""}]));
        gone(json!([{"op": "Replace", "value": {format!("{ENT}:manager"): ""}}]));
        // The single-valued complex manager as a one-element list.
        gone(json!([{"op": "Remove", "path": format!("{ENT}:manager[value eq \"m1\"]")}]));
        gone(json!([{"op": "Remove", "path": "manager[value eq \"m1\"]"}]));
        // Another manager id: nothing removed.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "Remove", "path": "manager[value eq \"other\"]"}]),
        );
        assert!(!out.changed);
        // manager.displayName is readOnly.
        fails(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": format!("{ENT}:manager.displayName"), "value": "x"}]),
            ScimType::Mutability,
        );
    }

    // ---- roles, booleans, primary ------------------------------------------------

    #[test]
    fn entra_stringified_roles_and_string_booleans() {
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "Add", "path": "roles",
                    "value": "[{\"value\":\"{\\\"id\\\":\\\"r1\\\"}\",\"primary\":\"True\",\"type\":\"WindowsAzureActiveDirectoryRole\"}]"}]),
        );
        assert_eq!(
            out.doc["roles"],
            json!([{"value": "{\"id\":\"r1\"}", "type": "WindowsAzureActiveDirectoryRole", "primary": true}])
        );
        // Value filters work on the stored booleans.
        let out = ok(
            &rt,
            &out.doc,
            json!([
                {"op": "replace", "path": "roles[primary eq true].display", "value": "Admin"},
                {"op": "replace", "path": "emails[primary eq true].display", "value": "Work"}
            ]),
        );
        assert_eq!(out.doc["roles"][0]["display"], "Admin");
        assert_eq!(out.doc["emails"][0]["display"], "Work");
        // A single stringified object, path-less.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "value": {"roles": "{\"value\":\"r2\",\"primary\":\"false\"}"}}]),
        );
        assert_eq!(out.doc["roles"], json!([{"value": "r2", "primary": false}]));
    }

    #[test]
    fn primary_moves_to_the_last_one_set_rfc7644_3_5_2() {
        let rt = users();
        // Adding a primary email clears the old one's primary.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "n@x", "primary": "True"}]}]),
        );
        let emails = out.doc["emails"].as_array().unwrap();
        assert!(emails[0].get("primary").is_none());
        assert_eq!(emails[2]["primary"], true);
        // Via a value-filter sub-attribute.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        );
        assert!(out.doc["emails"][0].get("primary").is_none());
        assert_eq!(out.doc["emails"][1]["primary"], true);
        // Several primaries in one op and across ops: the last one set wins.
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "replace", "path": "emails", "value": [
                    {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]},
                {"op": "add", "path": "phoneNumbers", "value": [{"value": "1", "primary": true}]},
                {"op": "add", "path": "phoneNumbers", "value": [{"value": "2", "primary": true}]}
            ]),
        );
        assert_eq!(
            out.doc["emails"],
            json!([{"value": "a@x"}, {"value": "b@x", "primary": true}])
        );
        assert_eq!(
            out.doc["phoneNumbers"],
            json!([{"value": "1"}, {"value": "2", "primary": true}])
        );
    }

    // ---- mutability ----------------------------------------------------------------

    #[test]
    fn read_only_paths_are_mutability_errors() {
        // RFC 7644 §3.5.2: readOnly targets -> 400 mutability.
        let rt = users();
        for path in [
            "id",
            "meta",
            "meta.lastModified",
            "groups",
            "groups[value eq \"g\"]",
        ] {
            fails(
                &rt,
                &bjensen(),
                json!([{"op": "replace", "path": path, "value": "x"}]),
                ScimType::Mutability,
            );
        }
        fails(
            &groups(),
            &group(),
            json!([{"op": "replace", "path": "members[value eq \"u\"].display", "value": "x"}]),
            ScimType::Mutability,
        );
        // Path-less: readOnly keys are ignored.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "replace", "value": {"meta": {"version": "x"}, "groups": [{"value": "g"}], "id": OWN}}]),
        );
        assert!(!out.changed);
    }

    #[test]
    fn okta_group_rename_with_own_id() {
        // Okta sends the group's own id with every rename/membership patch.
        let rt = groups();
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "replace", "value": {"id": OWN, "displayName": "Engineering"}}]),
        );
        assert_eq!(
            out.doc,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Engineering"})
        );
        assert!(out.changed && out.members.is_empty());
        let e = fails(
            &rt,
            &group(),
            json!([{"op": "replace", "value": {"id": "other", "displayName": "X"}}]),
            ScimType::Mutability,
        );
        assert!(e.detail.contains("id"));
    }

    #[test]
    fn immutable_attributes_rfc7643_2_2() {
        let urn = "urn:example:ext:1.0";
        let rt = user_resource_type(vec![SchemaExtension {
            schema: Schema::new(
                urn,
                "X",
                "",
                vec![
                    Attribute::string("badge").immutable(),
                    Attribute::complex("card", vec![Attribute::string("serial").immutable()]),
                ],
            ),
            required: false,
        }]);
        let empty = stored(&rt, json!({"schemas": [USER_SCHEMA], "userName": "u"}));
        // Setting when absent is fine.
        let cur = ok(
            &rt,
            &empty,
            json!([{"op": "add", "value": {urn: {"badge": "B1", "card": {"serial": "S"}}}}]),
        )
        .doc;
        assert_eq!(cur[urn], json!({"badge": "B1", "card": {"serial": "S"}}));
        // The same value again is fine; another value, or removal, is not.
        assert!(
            !ok(
                &rt,
                &cur,
                json!([{"op": "replace", "path": format!("{urn}:badge"), "value": "B1"}])
            )
            .changed
        );
        for op in [
            json!({"op": "replace", "path": format!("{urn}:badge"), "value": "B2"}),
            json!({"op": "remove", "path": format!("{urn}:badge")}),
            json!({"op": "remove", "path": format!("{urn}:card.serial")}),
            json!({"op": "remove", "path": urn}),
        ] {
            fails(&rt, &cur, json!([op]), ScimType::Mutability);
        }
    }

    #[test]
    fn unknown_attributes() {
        let rt = users();
        for path in [
            "nope",
            "name.nope",
            "emails[nope eq \"x\"]",
            "userName[value eq \"x\"]",
            "urn:acme:x:y",
        ] {
            fails(
                &rt,
                &bjensen(),
                json!([{"op": "add", "path": path, "value": "x"}]),
                ScimType::InvalidPath,
            );
        }
        // An unqualified extension attribute resolves when one extension
        // defines it, and is unknown when several do.
        let out = ok(
            &rt,
            &bjensen(),
            json!([{"op": "add", "path": "department", "value": "D"}]),
        );
        assert_eq!(out.doc[ENT]["department"], "D");
        let twin = |urn: &str| SchemaExtension {
            schema: Schema::new(urn, "T", "", vec![Attribute::string("department")]),
            required: false,
        };
        let rt2 = user_resource_type(vec![twin("urn:example:a:1.0")]);
        fails(
            &rt2,
            &bjensen(),
            json!([{"op": "add", "path": "department", "value": "D"}]),
            ScimType::InvalidPath,
        );
    }

    #[test]
    fn a_failing_op_leaves_nothing_changed() {
        // Atomic (RFC 7644 §3.5.2): one bad op fails the whole request.
        let rt = users();
        let cur = bjensen();
        let before = cur.clone();
        let e = fails(
            &rt,
            &cur,
            json!([
                {"op": "replace", "path": "title", "value": "Changed"},
                {"op": "replace", "path": "id", "value": "x"},
                {"op": "remove", "path": "emails"}
            ]),
            ScimType::Mutability,
        );
        assert!(e.detail.starts_with("Operations[1]"), "{}", e.detail);
        assert_eq!(cur, before);
        // Type errors surface from normalize, after all ops.
        fails(
            &rt,
            &cur,
            json!([{"op": "add", "path": "title", "value": "ok"}, {"op": "add", "path": "active", "value": 3}]),
            ScimType::InvalidValue,
        );
    }

    // ---- Group members ---------------------------------------------------------------

    #[test]
    fn members_add_rfc7644_3_5_2_1_and_okta() {
        let rt = groups();
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "add", "path": "members", "value": [
                {"display": "Babs Jensen", "$ref": "https://x/Users/2819c223", "value": "2819c223"},
                {"value": "g2", "type": "Group"}
            ]}]),
        );
        assert_eq!(
            members(&out).add,
            vec![
                ("2819c223".into(), None),
                ("g2".into(), Some("Group".into()))
            ]
        );
        assert_eq!(out.doc, group(), "members never land in the document");
        assert!(out.changed);
        // Path-less, with Okta's own id; and Entra's "Add".
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "Add", "value": {"id": OWN, "members": [{"value": "u1"}]}}]),
        );
        assert_eq!(members(&out).add, added(&["u1"]));
        assert!(!out.members.remove_all);
        fails(
            &rt,
            &group(),
            json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}]),
            ScimType::InvalidValue,
        );
    }

    #[test]
    fn members_remove_rfc7644_3_5_2_2_and_entra_legacy() {
        let rt = groups();
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]),
        );
        assert_eq!(
            *members(&out),
            MemberChanges {
                remove: vec!["2819c223-7f76-453a-919d-413861904646".into()],
                ..MemberChanges::default()
            }
        );
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}]),
        );
        assert_eq!(members(&out).remove, ["a", "b"]);
        // Any other filter is handed to the store.
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "remove", "path": "members[type eq \"Group\"]"}]),
        );
        assert_eq!(members(&out).remove_filters.len(), 1);
        assert_eq!(
            members(&out).remove_filters[0].to_string(),
            "type eq \"Group\""
        );
        // No value: all members.
        let out = ok(&rt, &group(), json!([{"op": "Remove", "path": "members"}]));
        assert!(members(&out).remove_all);
        // Entra legacy: a value list removes only those (must not empty the group).
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
        );
        assert_eq!(
            *members(&out),
            MemberChanges {
                remove: vec!["u1".into(), "u2".into()],
                ..MemberChanges::default()
            }
        );
    }

    #[test]
    fn members_replace_rfc7644_3_5_2_3_and_ordering() {
        let rt = groups();
        let out = ok(
            &rt,
            &group(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
        );
        assert!(members(&out).remove_all);
        assert_eq!(members(&out).add, added(&["u1", "u2"]));
        // Later ops see earlier ones: remove-all then add keeps the add,
        // add then remove drops it, remove then add keeps it.
        let out = ok(
            &rt,
            &group(),
            json!([
                {"op": "remove", "path": "members"},
                {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}, {"value": "u3", "type": "Group"}]},
                {"op": "remove", "path": "members[value eq \"u2\"]"},
                {"op": "remove", "path": "members[type eq \"Group\"]"},
                {"op": "remove", "path": "members[value eq \"u4\"]"},
                {"op": "add", "path": "members", "value": {"value": "u4"}}
            ]),
        );
        let m = members(&out);
        assert!(m.remove_all);
        assert_eq!(m.add, added(&["u1", "u4"]));
        assert_eq!(m.remove, ["u2"]);
        // Only whole members are added or replaced.
        fails(
            &rt,
            &group(),
            json!([{"op": "add", "path": "members[value eq \"x\"]", "value": {"value": "x"}}]),
            ScimType::InvalidPath,
        );
        fails(
            &rt,
            &group(),
            json!([{"op": "replace", "path": "members.value", "value": "x"}]),
            ScimType::InvalidPath,
        );
    }

    #[test]
    fn users_have_no_members() {
        fails(
            &users(),
            &bjensen(),
            json!([{"op": "add", "path": "members", "value": [{"value": "x"}]}]),
            ScimType::InvalidPath,
        );
    }

    #[test]
    fn case_insensitive_paths_and_keys() {
        // RFC 7643 §2.1: attribute names are case-insensitive.
        let rt = users();
        let out = ok(
            &rt,
            &bjensen(),
            json!([
                {"op": "replace", "path": "EMAILS[TYPE eq \"WORK\"].VALUE", "value": "x@y"},
                {"op": "replace", "value": {"DISPLAYNAME": "B", "Name.GivenName": "G"}}
            ]),
        );
        assert_eq!(out.doc["emails"][0]["value"], "x@y");
        assert_eq!(out.doc["displayName"], "B");
        assert_eq!(out.doc["name"]["givenName"], "G");
    }

    #[test]
    fn never_panics_on_odd_input() {
        let rt = users();
        let odd = [
            json!(null),
            json!([1, [2]]),
            json!({"": 1}),
            json!({"emails": [[1]]}),
            json!("[{\"value\": [[]]}]"),
            json!({"name": "x"}),
            json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": 1}),
            json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"urn:x": 1}}),
            json!("ü"),
        ];
        let paths = [
            None,
            Some("emails"),
            Some("emails[type eq \"work\"]"),
            Some("emails[type eq \"work\"].value"),
            Some("name"),
            Some("roles"),
            Some("manager"),
            Some("x509Certificates[value pr]"),
            Some(ENT),
        ];
        for cur in [bjensen(), json!(null), json!({"emails": "x", ENT: 3})] {
            for v in &odd {
                for p in paths {
                    for op in ["add", "replace", "remove"] {
                        let mut o = json!({"op": op, "value": v});
                        if let Some(p) = p {
                            o["path"] = json!(p);
                        }
                        let _ = run(&rt, &cur, json!([o]));
                        let _ = run(&groups(), &cur, json!([o]));
                    }
                }
            }
        }
    }
}
