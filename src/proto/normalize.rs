//! The write path (RFC 7643 §2, §3; RFC 7644 §3.3, §3.5.1): a POST or PUT
//! body validated against the resource type's schemas, by walking the schema
//! data, and turned into the stored form.
//!
//! The stored form of a resource is a JSON object with canonical attribute
//! names, extension attributes nested under their schema URN, a `schemas`
//! array (core URN first, then the extensions that hold data) and no `null`,
//! empty arrays or empty objects. It holds no readOnly data (`id`, `meta`,
//! `groups`, ...) and no writeOnly data (`password`): the store adds the
//! readOnly attributes at read time.

use serde_json::{Map, Value};

use crate::proto::dialect;
use crate::proto::error::ScimError;
use crate::proto::json::get_ci;
use crate::proto::lenience::{Leniency, Options, Unknown};
use crate::proto::schema::{
    ambiguous, find_sub, AttrType, Attribute, Located, Member, Mutability, ResourceType,
};

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How an attribute is named in error messages: bare for the core schema,
/// URN-qualified for an extension.
fn label(rt: &ResourceType, slot: usize, name: &str) -> String {
    match (slot, rt.schema_at(slot)) {
        (0, _) | (_, None) => name.to_string(),
        (_, Some(s)) => format!("{}:{}", s.id, name),
    }
}

/// Validates a POST (`existing` None) or PUT (`existing` = the stored form)
/// body against the resource type, read strictly, and returns the stored
/// form (the tests' reading of RFC 7643 without leniency).
#[cfg(any(test, feature = "test-utils"))]
pub fn normalize(
    rt: &ResourceType,
    input: &Value,
    existing: Option<&Value>,
) -> Result<Value, ScimError> {
    normalize_with(rt, input, existing, Options::STRICT).map(|(doc, _)| doc)
}

/// [`normalize`], read as `opts` say; returns the stored form and the
/// leniencies applied.
pub fn normalize_with(
    rt: &ResourceType,
    input: &Value,
    existing: Option<&Value>,
    opts: Options,
) -> Result<(Value, Vec<Leniency>), ScimError> {
    let obj = input
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("The request body must be a JSON object."))?;
    let mut reader = Reader {
        opts,
        notes: Vec::new(),
    };
    check_schemas(rt, obj, &mut reader)?;

    let n = rt.extensions.len() + 1;
    let mut collected = Collected {
        slots: vec![Map::new(); n],
        write_only_seen: Vec::new(),
        reader,
    };
    for (key, value) in obj {
        match rt.member(key) {
            Member::Schemas => {}
            // An extension object (`"urn:...:enterprise:2.0:User": {...}`).
            // It is accepted even when its URN is missing from `schemas`
            // (Microsoft Entra ID does this).
            Member::Schema(slot) => match value {
                Value::Null => {}
                Value::Object(inner) => {
                    for (k, v) in inner {
                        collected.put(rt, slot, k, v)?;
                    }
                }
                other => {
                    return Err(ScimError::invalid_value(format!(
                    "'{key}' must be a JSON object holding the attributes of that schema, not {}.",
                    json_kind(other)
                )))
                }
            },
            // A URN-qualified attribute name at top level
            // (`"urn:...:enterprise:2.0:User:employeeNumber": "7"`).
            Member::Qualified(slot, rest) => collected.put(rt, slot, rest, value)?,
            // A plain name: a core attribute, else the one extension's that
            // defines it (`employeeNumber` at top level).
            Member::Plain => match rt.locate(None, key) {
                Located::Found(slot, _) => collected.put(rt, slot, key, value)?,
                Located::Unknown => collected.put(rt, 0, key, value)?,
                Located::Ambiguous(urns) => {
                    return Err(ScimError::invalid_path(ambiguous(key, &urns)))
                }
            },
        }
    }

    // Canonical order, immutability against the stored form (PUT).
    let mut built: Vec<Map<String, Value>> = Vec::with_capacity(n);
    for slot in 0..n {
        let mut got = collected
            .slots
            .get_mut(slot)
            .map(std::mem::take)
            .unwrap_or_default();
        let old = existing.and_then(|doc| rt.slot_object(doc, slot));
        let mut out = Map::new();
        for attr in rt.attributes_in(slot) {
            let new = got.remove(&attr.name);
            let old_value = old
                .and_then(|m| get_ci(m, &attr.name))
                .filter(|v| !v.is_null());
            let name = label(rt, slot, &attr.name);
            if let Some(v) = apply_immutable(attr, new, old_value, &name)? {
                out.insert(attr.name.clone(), v);
            }
        }
        built.push(out);
    }

    check_required(rt, &built, &collected.write_only_seen)?;

    Ok((rt.assemble(built), collected.reader.notes))
}

/// How a body is being read, and what was let through.
struct Reader {
    opts: Options,
    notes: Vec<Leniency>,
}

impl Reader {
    /// Something the schema does not define (`what` names it, for the
    /// error and the log): ignored and noted, or refused with `error`.
    fn unknown(
        &mut self,
        what: Leniency,
        error: impl FnOnce() -> ScimError,
    ) -> Result<(), ScimError> {
        match self.opts.unknown {
            Unknown::Ignore => {
                // Named once, however often (in `schemas` and as a key).
                if !self.notes.contains(&what) {
                    self.notes.push(what);
                }
                Ok(())
            }
            Unknown::Reject => Err(error()),
        }
    }
}

/// RFC 7643 §3: `schemas` lists the core schema and any extensions used.
/// A URN the resource type does not have is an unknown name (see
/// [`Reader::unknown`]).
fn check_schemas(
    rt: &ResourceType,
    obj: &Map<String, Value>,
    reader: &mut Reader,
) -> Result<(), ScimError> {
    let schemas = get_ci(obj, "schemas")
        .ok_or_else(|| ScimError::invalid_syntax("The 'schemas' attribute is required."))?;
    let list = schemas
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("'schemas' must be an array of schema URNs."))?;
    let mut has_core = false;
    for urn in list {
        let urn = urn.as_str().ok_or_else(|| {
            ScimError::invalid_syntax("'schemas' must be an array of schema URNs.")
        })?;
        // Other products' URNs for RFC 7643's schemas count as them.
        if rt.is_alias(urn) {
            reader.notes.push(Leniency::SchemaAlias(urn.to_owned()));
        }
        if rt.is_core_urn(urn) {
            has_core = true;
        } else if rt.schema_index(urn).is_none() {
            reader.unknown(Leniency::UnknownSchema(urn.to_owned()), || {
                ScimError::invalid_value(format!("Unknown schema '{urn}' in 'schemas'."))
            })?;
        }
    }
    if !has_core {
        return Err(ScimError::invalid_value(format!(
            "'schemas' must contain '{}'.",
            rt.schema.id
        )));
    }
    Ok(())
}

/// Values found in the body, per schema slot, keyed by canonical name.
struct Collected {
    slots: Vec<Map<String, Value>>,
    /// writeOnly attributes that were given (validated, then dropped).
    write_only_seen: Vec<(usize, String)>,
    reader: Reader,
}

impl Collected {
    fn put(
        &mut self,
        rt: &ResourceType,
        slot: usize,
        name: &str,
        value: &Value,
    ) -> Result<(), ScimError> {
        let Some(attr) = rt.attribute_in(slot, name) else {
            // RFC 7643 §2.5: a null (or empty) value is unassigned, known or not.
            if dialect::is_unassigned(value) {
                return Ok(());
            }
            let full = label(rt, slot, name);
            // A URN key holding an object is another schema's attributes
            // (`"urn:other:product:2.0:User": {...}`).
            let what = if slot == 0 && name.contains(':') && value.is_object() {
                Leniency::UnknownSchema(full.clone())
            } else {
                Leniency::UnknownAttribute(full.clone())
            };
            let error = || ScimError::invalid_value(format!("Unknown attribute '{full}'."));
            return self.reader.unknown(what, error);
        };
        // RFC 7643 §2.2: readOnly values in a request are ignored (Okta sends
        // id, meta and groups on PUT).
        if attr.mutability == Mutability::ReadOnly {
            return Ok(());
        }
        let schema_id = rt
            .schema_at(slot)
            .map(|s| s.id.as_str())
            .unwrap_or_default();
        let value = coerce(
            &mut self.reader,
            attr,
            schema_id,
            value,
            &label(rt, slot, &attr.name),
        )?;
        // writeOnly values (password) are validated, then dropped: this
        // product stores no write-only data.
        if attr.mutability == Mutability::WriteOnly {
            if value.is_some() {
                self.write_only_seen.push((slot, attr.name.clone()));
            }
            return Ok(());
        }
        if let (Some(v), Some(m)) = (value, self.slots.get_mut(slot)) {
            m.insert(attr.name.clone(), v);
        }
        Ok(())
    }
}

/// Equality as the attribute's `caseExact` defines it (RFC 7643 §2.2).
fn same_value(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !attr.case_exact => {
            x == y || x.to_lowercase() == y.to_lowercase()
        }
        _ => a == b,
    }
}

/// RFC 7643 §2.2 immutable: once set, a PUT may repeat but not change the
/// value; an omitted value is kept. Applies to top-level attributes and to
/// sub-attributes of single-valued complex attributes (values of a
/// multi-valued attribute, e.g. Group members, may be added and removed).
fn apply_immutable(
    attr: &Attribute,
    new: Option<Value>,
    old: Option<&Value>,
    name: &str,
) -> Result<Option<Value>, ScimError> {
    if attr.mutability == Mutability::Immutable {
        return match (new, old) {
            (Some(n), Some(o)) if !same_value(attr, &n, o) => Err(ScimError::mutability(format!(
                "Attribute '{name}' is immutable and cannot be changed."
            ))),
            (None, Some(o)) => Ok(Some(o.clone())),
            (n, _) => Ok(n),
        };
    }
    let has_immutable_subs = attr
        .sub_attributes
        .iter()
        .any(|s| s.mutability == Mutability::Immutable);
    if attr.attr_type != AttrType::Complex || attr.multi_valued || !has_immutable_subs {
        return Ok(new);
    }
    let mut new_obj = match new {
        Some(Value::Object(m)) => m,
        Some(other) => return Ok(Some(other)),
        None => Map::new(),
    };
    let old_obj = old.and_then(Value::as_object);
    let mut out = Map::new();
    for sub in &attr.sub_attributes {
        let nv = new_obj.remove(&sub.name);
        let ov = old_obj
            .and_then(|m| get_ci(m, &sub.name))
            .filter(|v| !v.is_null());
        if let Some(v) = apply_immutable(sub, nv, ov, &format!("{name}.{}", sub.name))? {
            out.insert(sub.name.clone(), v);
        }
    }
    Ok(if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    })
}

fn is_missing(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        Some(_) => false,
    }
}

/// RFC 7643 §2.2 required; §6: a required extension must be present, and an
/// extension's required attributes apply when the extension is used.
fn check_required(
    rt: &ResourceType,
    built: &[Map<String, Value>],
    write_only_seen: &[(usize, String)],
) -> Result<(), ScimError> {
    for (slot, values) in built.iter().enumerate() {
        let extension = slot.checked_sub(1).and_then(|i| rt.extensions.get(i));
        if let Some(ext) = extension {
            let used = !values.is_empty() || write_only_seen.iter().any(|(s, _)| *s == slot);
            if !used {
                if ext.required {
                    return Err(ScimError::invalid_value(format!(
                        "The schema extension '{}' is required.",
                        ext.schema.id
                    )));
                }
                continue;
            }
        }
        for attr in rt.attributes_in(slot) {
            // readOnly attributes (id) are assigned by the server.
            if !attr.required || attr.mutability == Mutability::ReadOnly {
                continue;
            }
            let given = !is_missing(values.get(&attr.name))
                || write_only_seen
                    .iter()
                    .any(|(s, n)| *s == slot && *n == attr.name);
            if !given {
                return Err(ScimError::invalid_value(format!(
                    "Required attribute '{}' is missing or empty.",
                    label(rt, slot, &attr.name)
                )));
            }
        }
    }
    Ok(())
}

/// RFC 7643 §2.3.7, §4.2: a `$ref` to this server's own resources
/// (referenceTypes naming resource types rather than "external"/"uri") is
/// computed by the server from the sibling `value` when the resource is read;
/// a client's copy is validated and dropped.
fn is_derived_ref(sub: &Attribute) -> bool {
    sub.name == "$ref"
        && sub.attr_type == AttrType::Reference
        && !sub.reference_types.is_empty()
        && sub
            .reference_types
            .iter()
            .all(|t| t != "external" && t != "uri")
}

/// Validates and converts the value of `attr` (RFC 7643 §2.3). `None` means
/// absent: null, empty arrays and empty complex values.
fn coerce(
    reader: &mut Reader,
    attr: &Attribute,
    schema_id: &str,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        // RFC 7644 §3.5.2: null is equivalent to "unassigned".
        return Ok(None);
    }
    if reader.opts.lenient && attr.attr_type != AttrType::Complex && dialect::is_unassigned(value) {
        // RFC 7643 §2.5: `{}` or `[]` for a simple attribute assigns nothing.
        return Ok(None);
    }
    if dialect::is_enterprise_manager(schema_id, attr) {
        match value {
            // Entra's bare manager id ("" clears it).
            Value::String(id) => {
                return coerce(reader, attr, schema_id, &dialect::manager_from_id(id), path)
            }
            Value::Object(m) if dialect::is_cleared_manager(m) => return Ok(None),
            Value::Object(m) => {
                if let Some(rfc) = dialect::manager_with_value(m) {
                    return coerce(reader, attr, schema_id, &rfc, path);
                }
            }
            _ => {}
        }
    }
    if attr.multi_valued {
        let items = dialect::as_list(value);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::Null => {}
                Value::Array(_) => {
                    return Err(ScimError::invalid_value(format!(
                        "Attribute '{path}' must not contain nested arrays."
                    )))
                }
                Value::String(_) if dialect::is_group_members(schema_id, attr) => {
                    let member = dialect::reference_from_id(item);
                    if let Some(x) = coerce_single(reader, attr, schema_id, &member, path)? {
                        out.push(x);
                    }
                }
                v => {
                    if let Some(x) = coerce_single(reader, attr, schema_id, v, path)? {
                        out.push(x);
                    }
                }
            }
        }
        check_primary(reader, attr, &mut out, path)?;
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Array(out))
        });
    }
    match value {
        Value::Array(a) if a.is_empty() => Ok(None),
        // Entra's legacy `manager` array: a single complex value as a list
        // of one.
        Value::Array(_) if attr.attr_type == AttrType::Complex => {
            match dialect::lone_element(value) {
                Some(first) if !first.is_array() => coerce(reader, attr, schema_id, first, path),
                _ => Err(single_valued(path)),
            }
        }
        Value::Array(_) => Err(single_valued(path)),
        v => coerce_single(reader, attr, schema_id, v, path),
    }
}

fn single_valued(path: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "Attribute '{path}' is single-valued; an array was given."
    ))
}

fn wrong_type(path: &str, expected: &str, got: &Value) -> ScimError {
    ScimError::invalid_value(format!(
        "Attribute '{path}' must be {expected}, not {}.",
        json_kind(got)
    ))
}

/// One (non-array, non-null) value of `attr`.
fn coerce_single(
    reader: &mut Reader,
    attr: &Attribute,
    schema_id: &str,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if reader.opts.lenient && value.as_str() == Some("") && !takes_empty_string(attr) {
        // An unfilled template parameter (OneLogin's JSON templates give
        // `"active": ""`): no value, where "" cannot be one.
        reader.notes.push(Leniency::EmptyValue(path.to_owned()));
        return Ok(None);
    }
    let out = match attr.attr_type {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(_) => value.clone(),
            other => return Err(wrong_type(path, "a string", other)),
        },
        // Entra sends "True"/"False".
        AttrType::Boolean => match (value, value.as_str().and_then(dialect::boolean_from_string)) {
            (Value::Bool(_), _) => value.clone(),
            (_, Some(b)) => Value::Bool(b),
            (other, None) => return Err(wrong_type(path, "a boolean", other)),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => value.clone(),
            other => return Err(wrong_type(path, "an integer", other)),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => value.clone(),
            other => return Err(wrong_type(path, "a decimal number", other)),
        },
        AttrType::DateTime => match value {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => value.clone(),
            Value::String(s) => {
                return Err(ScimError::invalid_value(format!(
                    "Attribute '{path}' must be an xsd:dateTime such as 2008-01-23T04:56:22Z, not '{s}'."
                )))
            }
            other => return Err(wrong_type(path, "a dateTime string", other)),
        },
        AttrType::Complex => match value {
            Value::Object(m) => return coerce_complex(reader, attr, schema_id, m, path),
            other => return Err(wrong_type(path, "a complex value (JSON object)", other)),
        },
    };
    if attr.enforce_canonical {
        let ok = out
            .as_str()
            .is_some_and(|s| attr.canonical_values.iter().any(|c| c == s));
        if !ok {
            return Err(ScimError::invalid_value(format!(
                "Attribute '{path}' must be one of: {}.",
                attr.canonical_values.join(", ")
            )));
        }
    }
    Ok(Some(out))
}

/// Whether `""` is a value of `attr`: a string with no fixed set of values.
fn takes_empty_string(attr: &Attribute) -> bool {
    matches!(
        attr.attr_type,
        AttrType::String | AttrType::Reference | AttrType::Binary
    ) && !attr.enforce_canonical
}

fn coerce_complex(
    reader: &mut Reader,
    attr: &Attribute,
    schema_id: &str,
    m: &Map<String, Value>,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    let mut found = Map::new();
    for (key, v) in m {
        let Some(sub) = find_sub(attr, key) else {
            if !dialect::is_unassigned(v) {
                let full = format!("{path}.{key}");
                let error = || ScimError::invalid_value(format!("Unknown sub-attribute '{full}'."));
                reader.unknown(Leniency::UnknownAttribute(full.clone()), error)?;
            }
            continue;
        };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let sub_path = format!("{path}.{}", sub.name);
        let value = coerce(reader, sub, schema_id, v, &sub_path)?;
        if sub.mutability == Mutability::WriteOnly || is_derived_ref(sub) {
            continue;
        }
        if let Some(x) = value {
            found.insert(sub.name.clone(), x);
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    let mut out = Map::new();
    for sub in &attr.sub_attributes {
        if let Some(x) = found.remove(&sub.name) {
            out.insert(sub.name.clone(), x);
        } else if sub.required
            && sub.mutability != Mutability::ReadOnly
            && sub.mutability != Mutability::WriteOnly
            && !is_derived_ref(sub)
        {
            return Err(ScimError::invalid_value(format!(
                "Required sub-attribute '{path}.{}' is missing.",
                sub.name
            )));
        }
    }
    Ok(Some(Value::Object(out)))
}

/// RFC 7643 §2.4: the primary value "true" MUST appear no more than once.
/// Leniently (Ping Identity sends two equal emails, both primary), the
/// first value keeps the mark and the others lose it.
fn check_primary(
    reader: &mut Reader,
    attr: &Attribute,
    values: &mut [Value],
    path: &str,
) -> Result<(), ScimError> {
    let Some(primary) = find_sub(attr, "primary").filter(|p| p.attr_type == AttrType::Boolean)
    else {
        return Ok(());
    };
    let is_primary = |v: &Value| v.get(primary.name.as_str()) == Some(&Value::Bool(true));
    let count = values.iter().filter(|v| is_primary(v)).count();
    if count <= 1 {
        return Ok(());
    }
    if !reader.opts.lenient {
        return Err(ScimError::invalid_value(format!(
            "At most one value of '{path}' may have primary set to true."
        )));
    }
    let mut seen = false;
    for v in values.iter_mut() {
        if is_primary(v) {
            if seen {
                if let Some(m) = v.as_object_mut() {
                    m.remove(primary.name.as_str());
                }
            }
            seen = true;
        }
    }
    reader.notes.push(Leniency::ExtraPrimary(path.to_owned()));
    Ok(())
}

#[cfg(test)]
// Tests may unwrap: a failure is a test failure, not a server panic.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::error::ScimType;
    use crate::proto::fixtures::{extension, path as p, users};
    use crate::proto::project::project;
    use crate::proto::schema::{
        group_resource_type, user_resource_type, Returned, SchemaExtension, ENTERPRISE_USER_SCHEMA,
        GROUP_SCHEMA, MS_LEGACY_GROUP_SCHEMA, USER_SCHEMA,
    };
    use serde_json::json;

    const ENT: &str = ENTERPRISE_USER_SCHEMA;

    fn err(r: Result<Value, ScimError>) -> ScimError {
        r.unwrap_err()
    }

    fn assert_invalid_value(r: Result<Value, ScimError>, needle: &str) {
        let e = err(r);
        assert_eq!(e.status, 400);
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{e:?}");
        assert!(
            e.detail.contains(needle),
            "detail {:?} lacks {needle:?}",
            e.detail
        );
    }

    fn has_null_or_empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty() || a.iter().any(has_null_or_empty),
            Value::Object(m) => m.is_empty() || m.values().any(has_null_or_empty),
            _ => false,
        }
    }

    fn user(extra: Value) -> Value {
        let mut base = json!({"schemas": [USER_SCHEMA], "userName": "bjensen"});
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn okta_post_user_password_dropped_groups_ignored() {
        // Okta's documented POST /Users body.
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "isaac.brock@example.com",
            "name": {"givenName": "Isaac", "familyName": "Brock"},
            "emails": [{"primary": true, "value": "isaac.brock@example.com",
                        "type": "work", "display": "isaac.brock@example.com"}],
            "displayName": "Isaac Brock",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        });
        let out = normalize(&users(), &body, None).unwrap();
        assert_eq!(
            out,
            json!({
                "schemas": [USER_SCHEMA],
                "externalId": "00ujl29u0le5T6Aj10h7",
                "userName": "isaac.brock@example.com",
                "name": {"familyName": "Brock", "givenName": "Isaac"},
                "displayName": "Isaac Brock",
                "locale": "en-US",
                "active": true,
                "emails": [{"value": "isaac.brock@example.com",
                            "display": "isaac.brock@example.com",
                            "type": "work", "primary": true}]
            })
        );
        // Password must still be a string (RFC 7643 §2.3.1) even though dropped.
        assert_invalid_value(
            normalize(&users(), &user(json!({"password": 5})), None),
            "password",
        );
    }

    #[test]
    fn okta_put_with_id_meta_groups_ignored() {
        // Okta echoes readOnly id/meta/groups on PUT: ignored (RFC 7643 §2.2).
        let body = user(json!({
            "id": "abc",
            "meta": {"resourceType": "User", "created": "not-a-date"},
            "groups": [{"value": "g1", "display": "G"}],
        }));
        let out = normalize(
            &users(),
            &body,
            Some(&json!({"schemas": [USER_SCHEMA], "userName": "x"})),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA], "userName": "bjensen"})
        );
    }

    #[test]
    fn entra_post_user_with_string_booleans_and_empty_roles() {
        // Microsoft Entra ID provisioning POST; "active": "False" (string).
        let body = json!({
            "schemas": [USER_SCHEMA, ENT],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User@testuser.com",
            "active": "False",
            "emails": [{"primary": "True", "type": "work", "value": "Test_User@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        });
        let out = normalize(&users(), &body, None).unwrap();
        assert_eq!(out["active"], false);
        assert_eq!(out["emails"][0]["primary"], true);
        assert!(out.get("roles").is_none());
        assert!(out.get("meta").is_none());
        // The enterprise URN is listed but has no data: not in output schemas.
        assert_eq!(out["schemas"], json!([USER_SCHEMA]));
        assert!(!has_null_or_empty(&out));
        assert_invalid_value(
            normalize(&users(), &user(json!({"active": "yes"})), None),
            "active",
        );
    }

    #[test]
    fn body_must_be_object_with_schemas() {
        let e = err(normalize(&users(), &json!([1]), None));
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        let e = err(normalize(&users(), &json!({"userName": "a"}), None));
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        let e = err(normalize(
            &users(),
            &json!({"schemas": USER_SCHEMA, "userName": "a"}),
            None,
        ));
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        // RFC 7643 §3: the core schema URN must be listed.
        assert_invalid_value(
            normalize(&users(), &json!({"schemas": [ENT], "userName": "a"}), None),
            USER_SCHEMA,
        );
        // Unknown URN in schemas.
        assert_invalid_value(
            normalize(
                &users(),
                &json!({"schemas": [USER_SCHEMA, "urn:x:y"], "userName": "a"}),
                None,
            ),
            "urn:x:y",
        );
        // URNs compare case-insensitively.
        assert!(normalize(
            &users(),
            &json!({"Schemas": [USER_SCHEMA.to_uppercase()], "userName": "a"}),
            None
        )
        .is_ok());
    }

    #[test]
    fn ms_legacy_group_urn_counts_as_core() {
        // Entra ID sends the legacy ADSCIM Group URN.
        let g = group_resource_type();
        let body = json!({"schemas": [MS_LEGACY_GROUP_SCHEMA], "displayName": "Eng"});
        let out = normalize(&g, &body, None).unwrap();
        assert_eq!(
            out,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng"})
        );
        // ...but not for Users.
        assert_invalid_value(
            normalize(
                &users(),
                &json!({"schemas": [USER_SCHEMA, MS_LEGACY_GROUP_SCHEMA], "userName": "a"}),
                None,
            ),
            MS_LEGACY_GROUP_SCHEMA,
        );
    }

    #[test]
    fn names_are_case_insensitive_and_canonicalized() {
        // RFC 7643 §2.1.
        let body = json!({"schemas": [USER_SCHEMA], "USERNAME": "a", "Name": {"GIVENNAME": "B"},
                          "EMAILS": [{"VALUE": "a@x"}]});
        let out = normalize(&users(), &body, None).unwrap();
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA], "userName": "a", "name": {"givenName": "B"}, "emails": [{"value": "a@x"}]})
        );
    }

    #[test]
    fn unknown_attributes_rejected() {
        assert_invalid_value(
            normalize(&users(), &user(json!({"favouriteColour": "red"})), None),
            "favouriteColour",
        );
        assert_invalid_value(
            normalize(&users(), &user(json!({"name": {"nick": "x"}})), None),
            "name.nick",
        );
        assert_invalid_value(
            normalize(&users(), &user(json!({ENT: {"shoeSize": "9"}})), None),
            "shoeSize",
        );
        assert_invalid_value(
            normalize(&users(), &user(json!({"urn:x:y:z": "9"})), None),
            "urn:x:y:z",
        );
    }

    #[test]
    fn extension_attribute_without_its_urn_lands_in_its_extension() {
        // Issue 13: a plain name that is no core attribute is the attribute
        // of the one extension that defines it (Entra and Okta send
        // `employeeNumber`, tenants' fields without their URN).
        let out = normalize(&users(), &user(json!({"department": "R&D"})), None).unwrap();
        assert_eq!(out[ENT], json!({"department": "R&D"}));
        assert!(out["schemas"].as_array().unwrap().contains(&json!(ENT)));
        assert!(out.get("department").is_none());
    }

    #[test]
    fn urn_qualified_top_level_key_is_nested() {
        // RFC 7644 §3.10 URN-qualified names at top level.
        let body = user(json!({
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Babs",
        }));
        let out = normalize(&users(), &body, None).unwrap();
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA, ENT], "userName": "bjensen", "displayName": "Babs",
                   ENT: {"employeeNumber": "7"}})
        );
    }

    #[test]
    fn extension_without_urn_in_schemas_accepted() {
        // Entra ID sends the enterprise object without listing its URN.
        let body = user(
            json!({ "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":
            {"Department": "R&D", "costCenter": null} }),
        );
        let out = normalize(&users(), &body, None).unwrap();
        assert_eq!(out["schemas"], json!([USER_SCHEMA, ENT]));
        assert_eq!(out[ENT], json!({"department": "R&D"}));
        assert_invalid_value(normalize(&users(), &user(json!({ENT: "x"})), None), ENT);
    }

    #[test]
    fn nulls_and_empty_arrays_dropped() {
        // RFC 7644 §3.5.2: null means unassigned; never stored.
        let body = user(json!({
            "displayName": null, "name": {"givenName": null}, "emails": [], "phoneNumbers": [null],
            "addresses": [{"type": null}], "title": "", ENT: null,
        }));
        let out = normalize(&users(), &body, None).unwrap();
        // Empty strings are kept as given.
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA], "userName": "bjensen", "title": ""})
        );
    }

    #[test]
    fn type_checks_rfc7643_2_3() {
        let rt = users();
        assert_invalid_value(
            normalize(&rt, &user(json!({"displayName": 5})), None),
            "displayName",
        );
        assert_invalid_value(normalize(&rt, &user(json!({"active": 1})), None), "boolean");
        assert_invalid_value(
            normalize(&rt, &user(json!({"name": "Barbara"})), None),
            "name",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({"emails": [{"value": true}]})), None),
            "emails.value",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({"profileUrl": {}})), None),
            "profileUrl",
        );
        assert_invalid_value(
            normalize(
                &rt,
                &user(json!({"x509Certificates": [{"value": 1}]})),
                None,
            ),
            "x509Certificates.value",
        );
        // Single-valued given an array.
        assert_invalid_value(
            normalize(&rt, &user(json!({"displayName": ["a", "b"]})), None),
            "single-valued",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({"userName": ["a"]})), None),
            "single-valued",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({"emails": [["a"]]})), None),
            "nested",
        );
    }

    #[test]
    fn integer_decimal_datetime_and_enforced_canonical() {
        // A tenant extension exercising the remaining types (RFC 7643 §2.3).
        let urn = "urn:example:params:scim:schemas:extension:acme:2.0:User";
        let ext = extension(
            urn,
            "Acme",
            vec![
                Attribute::integer("level"),
                Attribute::decimal("score"),
                Attribute::date_time("hired"),
                Attribute::string("tier")
                    .canonical(&["Gold", "Silver"])
                    .enforced(),
                Attribute::string("tags").multi(),
            ],
        );
        let rt = user_resource_type(vec![ext]);
        let ok = user(
            json!({ urn: {"level": 3, "score": 2.5, "hired": "2008-01-23T04:56:22Z",
                                    "tier": "Gold", "tags": "solo"} }),
        );
        let out = normalize(&rt, &ok, None).unwrap();
        assert_eq!(
            out[urn],
            json!({"level": 3, "score": 2.5, "hired": "2008-01-23T04:56:22Z",
                                    "tier": "Gold", "tags": ["solo"]})
        );
        assert_eq!(out["schemas"], json!([USER_SCHEMA, urn]));
        assert_invalid_value(
            normalize(&rt, &user(json!({ urn: {"level": 3.5} })), None),
            "integer",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({ urn: {"level": "3"} })), None),
            "integer",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({ urn: {"score": "2.5"} })), None),
            "decimal",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({ urn: {"hired": "yesterday"} })), None),
            "dateTime",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({ urn: {"hired": 5} })), None),
            "hired",
        );
        // enforce_canonical is case-sensitive.
        assert_invalid_value(
            normalize(&rt, &user(json!({ urn: {"tier": "gold"} })), None),
            "Gold, Silver",
        );
        // Core canonical values are advisory (RFC 7643 §2.2): any email type is fine.
        assert!(normalize(
            &rt,
            &user(json!({"emails": [{"value": "a@x", "type": "Work-ish"}]})),
            None
        )
        .is_ok());
    }

    #[test]
    fn single_value_for_multi_valued_is_wrapped() {
        let out = normalize(
            &users(),
            &user(json!({"emails": {"value": "a@x", "type": "work"}})),
            None,
        )
        .unwrap();
        assert_eq!(out["emails"], json!([{"value": "a@x", "type": "work"}]));
    }

    #[test]
    fn entra_manager_string_and_array_forms() {
        // Entra ID: manager as a bare id, as a legacy one-element array, or "" (absent).
        let rt = users();
        let out = normalize(&rt, &user(json!({ENT: {"manager": "m-1"}})), None).unwrap();
        assert_eq!(out[ENT], json!({"manager": {"value": "m-1"}}));
        let out = normalize(
            &rt,
            &user(json!({ENT: {"manager": [{"value": "m-2", "displayName": "Boss"}]}})),
            None,
        )
        .unwrap();
        assert_eq!(out[ENT], json!({"manager": {"value": "m-2"}}));
        let out = normalize(&rt, &user(json!({ENT: {"manager": ""}})), None).unwrap();
        assert!(out.get(ENT).is_none());
        assert_eq!(out["schemas"], json!([USER_SCHEMA]));
        // `{"value": ""}`, alone or as the legacy array, is no manager either.
        for empty in [
            json!({"value": ""}),
            json!([{"value": "", "displayName": "Boss"}]),
        ] {
            let out = normalize(
                &rt,
                &user(json!({ENT: {"manager": empty, "department": "D"}})),
                None,
            )
            .unwrap();
            assert_eq!(out[ENT], json!({"department": "D"}));
        }
        assert_invalid_value(
            normalize(
                &rt,
                &user(json!({ENT: {"manager": [{"value": "a"}, {"value": "b"}]}})),
                None,
            ),
            "single-valued",
        );
        // The string tolerance is for the Enterprise manager only.
        assert_invalid_value(normalize(&rt, &user(json!({"name": "x"})), None), "name");
    }

    #[test]
    fn two_primaries_rejected() {
        // RFC 7643 §2.4: primary "true" at most once.
        let body = user(
            json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": "True"}]}),
        );
        assert_invalid_value(normalize(&users(), &body, None), "primary");
        let body = user(
            json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": false}]}),
        );
        assert!(normalize(&users(), &body, None).is_ok());
    }

    #[test]
    fn required_attributes() {
        // RFC 7643 §4.1.1 userName, §4.2 Group displayName (REQUIRED).
        assert_invalid_value(
            normalize(&users(), &json!({"schemas": [USER_SCHEMA]}), None),
            "userName",
        );
        assert_invalid_value(
            normalize(
                &users(),
                &json!({"schemas": [USER_SCHEMA], "userName": null}),
                None,
            ),
            "userName",
        );
        assert_invalid_value(
            normalize(
                &users(),
                &json!({"schemas": [USER_SCHEMA], "userName": ""}),
                None,
            ),
            "userName",
        );
        let g = group_resource_type();
        assert_invalid_value(
            normalize(&g, &json!({"schemas": [GROUP_SCHEMA], "members": []}), None),
            "displayName",
        );
        // RFC 7643 §6: a required extension must be present; its required
        // attributes apply; a required writeOnly attribute counts when given.
        let urn = "urn:example:ext:1.0";
        let ext = SchemaExtension {
            required: true,
            ..extension(
                urn,
                "X",
                vec![
                    Attribute::string("badge").required(),
                    Attribute::string("pin")
                        .required()
                        .write_only()
                        .returned(Returned::Never),
                ],
            )
        };
        let rt = user_resource_type(vec![ext]);
        assert_invalid_value(normalize(&rt, &user(json!({})), None), "is required");
        assert_invalid_value(
            normalize(&rt, &user(json!({urn: {"pin": "1"}})), None),
            "badge",
        );
        assert_invalid_value(
            normalize(&rt, &user(json!({urn: {"badge": "b"}})), None),
            "pin",
        );
        let out = normalize(&rt, &user(json!({urn: {"badge": "b", "pin": "1"}})), None).unwrap();
        assert_eq!(out[urn], json!({"badge": "b"}));
    }

    #[test]
    fn immutable_on_put() {
        // RFC 7643 §2.2 immutable: cannot change once set; omitted keeps it.
        let urn = "urn:example:ext:1.0";
        let ext = extension(
            urn,
            "X",
            vec![
                Attribute::string("employeeId").immutable().case_exact(),
                Attribute::string("badge").immutable(),
                Attribute::complex(
                    "card",
                    vec![
                        Attribute::string("serial").immutable(),
                        Attribute::string("label"),
                    ],
                ),
            ],
        );
        let rt = user_resource_type(vec![ext]);
        let stored = normalize(&rt, &user(json!({urn: {"employeeId": "E1", "badge": "abc", "card": {"serial": "S1", "label": "l"}}})), None).unwrap();
        let e = err(normalize(
            &rt,
            &user(json!({urn: {"employeeId": "E2"}})),
            Some(&stored),
        ));
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
        assert!(e.detail.contains("employeeId"));
        // caseExact true: case change is a change.
        let e = err(normalize(
            &rt,
            &user(json!({urn: {"employeeId": "e1"}})),
            Some(&stored),
        ));
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
        let e = err(normalize(
            &rt,
            &user(json!({urn: {"card": {"serial": "S2"}}})),
            Some(&stored),
        ));
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
        // Same value (caseExact false: case-insensitive), or omitted: kept.
        let out = normalize(&rt, &user(json!({urn: {"badge": "ABC"}})), Some(&stored)).unwrap();
        assert_eq!(
            out[urn],
            json!({"employeeId": "E1", "badge": "ABC", "card": {"serial": "S1"}})
        );
        let out = normalize(&rt, &user(json!({})), Some(&stored)).unwrap();
        assert_eq!(
            out[urn],
            json!({"employeeId": "E1", "badge": "abc", "card": {"serial": "S1"}})
        );
        assert_eq!(out["schemas"], json!([USER_SCHEMA, urn]));
        // POST (no existing): anything goes.
        assert!(normalize(&rt, &user(json!({urn: {"employeeId": "E2"}})), None).is_ok());
    }

    #[test]
    fn group_members_kept_without_ref_and_display() {
        // RFC 7643 §4.2; $ref and display are recomputed at read time.
        let g = group_resource_type();
        let body = json!({
            "schemas": [GROUP_SCHEMA],
            "displayName": "Eng",
            "members": [
                {"value": "u1", "$ref": "https://x/Users/u1", "display": "Ann", "type": "User"},
                {"value": "g2", "type": "Group"},
                {"display": "only-readonly"}
            ],
            "externalId": "ext-1",
            "id": "ignored"
        });
        let out = normalize(&g, &body, None).unwrap();
        assert_eq!(
            out,
            json!({"schemas": [GROUP_SCHEMA], "externalId": "ext-1", "displayName": "Eng",
                   "members": [{"value": "u1", "type": "User"}, {"value": "g2", "type": "Group"}]})
        );
        // Members may change on PUT: only single-valued immutables are compared.
        let out2 = normalize(
            &g,
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng", "members": [{"value": "u9"}]}),
            Some(&out),
        )
        .unwrap();
        assert_eq!(out2["members"], json!([{"value": "u9"}]));
        assert_invalid_value(
            normalize(
                &g,
                &json!({"schemas": [GROUP_SCHEMA], "displayName": "E", "members": [{"value": 1}]}),
                None,
            ),
            "members.value",
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let rt = users();
        for v in [
            json!(null),
            json!("x"),
            json!(1),
            json!({"schemas": [1]}),
            json!({"schemas": [USER_SCHEMA], "userName": {}}),
            json!({"schemas": [USER_SCHEMA], "userName": "a", "ü": 1}),
            json!({"schemas": [USER_SCHEMA], "userName": "a", "urn:ietf:params:scim:schemas:core:2.0:User": {"displayName": "d"}}),
            json!({"schemas": [USER_SCHEMA], "userName": "a", ENT: {"manager": [[["x"]]]}}),
        ] {
            let _ = normalize(&rt, &v, None);
            let _ = normalize(&rt, &v, Some(&v));
            let _ = project(
                &rt,
                v.clone(),
                &[p(None, "ü", None)],
                &[p(Some("urn:x"), "", None)],
            );
        }
    }
}
