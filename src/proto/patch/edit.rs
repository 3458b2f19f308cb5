//! The edit of one attribute of a resource's document by one PATCH operation
//! (RFC 7644 §3.5.2.1 add, §3.5.2.2 remove, §3.5.2.3 replace): single and
//! complex values, multi-valued lists, and the elements a value filter
//! selects, created from an `eq` filter when none matches (Microsoft Entra).

use serde_json::{Map, Value};

use crate::proto::dialect;
use crate::proto::error::ScimError;
use crate::proto::json::{get_ci, take_ci};
use crate::proto::patch::request::OpKind;
use crate::proto::patch::target::{eq_pairs, Target};
use crate::proto::schema::{find_sub, AttrType, Attribute};

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A string given for a complex attribute: Entra's stringified JSON
/// (`roles`), or its bare Enterprise `manager` id ("" clears it).
fn unstring(attr: &Attribute, manager: bool, v: &Value) -> Value {
    let Value::String(s) = v else {
        return v.clone();
    };
    if attr.attr_type != AttrType::Complex {
        return v.clone();
    }
    match dialect::parse_stringified(s) {
        Some(parsed) => parsed,
        None if manager => dialect::manager_from_id(s),
        None => v.clone(),
    }
}

/// A value for the whole attribute: a multi-valued one becomes an array
/// (a single value is a list of one; nulls dropped), a one-element array for
/// a single-valued complex one its element (Entra's legacy `manager` array).
pub(super) fn prep_attr(attr: &Attribute, manager: bool, v: &Value) -> Value {
    let v = unstring(attr, manager, v);
    let complex = attr.attr_type == AttrType::Complex;
    match &v {
        Value::Null => Value::Null,
        _ if attr.multi_valued => Value::Array(
            dialect::as_list(&v)
                .iter()
                .filter(|e| !e.is_null())
                .map(|e| strip_nulls(prep_one(attr, manager, e)))
                .collect(),
        ),
        Value::Array(a) if complex && a.is_empty() => Value::Null,
        _ if complex => prep_one(attr, manager, dialect::lone_element(&v).unwrap_or(&v)),
        _ => prep_one(attr, manager, &v),
    }
}

/// A value for one element of a multi-valued (or single complex) attribute;
/// a one-element array stands for its element (Entra).
fn prep_element(attr: &Attribute, manager: bool, v: &Value) -> Value {
    let v = unstring(attr, manager, v);
    prep_one(attr, manager, dialect::lone_element(&v).unwrap_or(&v))
}

/// One value: "True"/"False" for a boolean (Entra), canonical sub-attribute
/// names. Unknown keys are left for `normalize` to reject.
fn prep_one(attr: &Attribute, manager: bool, v: &Value) -> Value {
    match unstring(attr, manager, v) {
        Value::String(s) if attr.attr_type == AttrType::Boolean => {
            dialect::boolean_from_string(&s).map_or(Value::String(s), Value::Bool)
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
pub(super) fn edit_attr(
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
                .is_some_and(|e| t.filter.is_none_or(|f| attr.element_matches(f, e)))
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::error::ScimType;
    use crate::proto::patch::fixtures::*;
    use serde_json::json;

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
}
