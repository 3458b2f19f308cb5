//! IdP dialects: how Okta and Microsoft Entra ID write values that RFC 7643
//! spells otherwise (`/work/shared/docs/idp-behaviour.md`: "where a client
//! deviates, accept what it sends and answer in RFC form").
//!
//! Each quirk is one function here, with a test naming where it comes from.
//! Both the write path (`normalize`) and PATCH (`patch::edit`) call them, each
//! where its input may carry the quirk; neither spells a quirk itself. Where
//! the two paths accept different things today (stringified JSON is a PATCH
//! form only; `{"value": ""}` as "no manager" is read by `normalize`, which
//! also validates every PATCH result), that is the caller's choice of which
//! function to call, not a second copy.

use serde_json::{Map, Value};

use crate::proto::json::{get_ci, items};
use crate::proto::schema::{Attribute, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA};

/// Microsoft Entra ID sends booleans as strings, `"True"`, `"False"`,
/// `"false"` (RFC 7643 §2.3.2 wants a JSON boolean): the boolean a string
/// stands for, in any case, or `None` for any other string.
pub(crate) fn boolean_from_string(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Whether `attr` of the schema `schema_id` is the Enterprise User `manager`
/// (RFC 7643 §4.3), the attribute Microsoft Entra ID writes in its own forms
/// (see `manager_from_id`, `is_cleared_manager`).
pub(crate) fn is_enterprise_manager(schema_id: &str, attr: &Attribute) -> bool {
    schema_id.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) && attr.name == "manager"
}

/// Microsoft Entra ID sends the Enterprise `manager` as a bare id string
/// instead of `{"value": id}`, and `""` to clear it: the RFC 7643 §4.3 value
/// a string stands for (`null`, unassigned, for `""`).
pub(crate) fn manager_from_id(id: &str) -> Value {
    if id.is_empty() {
        return Value::Null;
    }
    Value::Object(Map::from_iter([(
        "value".to_string(),
        Value::String(id.to_string()),
    )]))
}

/// OneLogin's Enterprise template sends the manager's id as
/// `manager.managerId` (SCIM 1.1's name) where RFC 7643 §4.3 has
/// `manager.value`: the RFC form of such a value, or `None` when it has no
/// `managerId` or already has a `value`.
pub(crate) fn manager_with_value(m: &Map<String, Value>) -> Option<Value> {
    if get_ci(m, "value").is_some() {
        return None;
    }
    let key = m.keys().find(|k| k.eq_ignore_ascii_case("managerId"))?;
    let renamed = m.iter().map(|(k, v)| {
        let k = if k == key {
            "value".to_string()
        } else {
            k.clone()
        };
        (k, v.clone())
    });
    Some(Value::Object(renamed.collect()))
}

/// A reference given as its bare id: a group member as `"id"` (alone, or
/// in an array) instead of `{"value": "id"}`, as several clients send it
/// (issue 13; RFC 7643 §4.2 writes members as objects): the object a
/// string stands for; anything else as it is.
pub(crate) fn reference_from_id(v: &Value) -> Value {
    match v {
        Value::String(id) => Value::Object(Map::from_iter([(
            "value".to_string(),
            Value::String(id.clone()),
        )])),
        other => other.clone(),
    }
}

/// Whether `attr` of the schema `schema_id` is a Group's `members`
/// (RFC 7643 §4.2), whose elements may come as bare ids (see
/// `reference_from_id`).
pub(crate) fn is_group_members(schema_id: &str, attr: &Attribute) -> bool {
    schema_id.eq_ignore_ascii_case(GROUP_SCHEMA) && attr.name == "members"
}

/// Microsoft Entra ID's "replace to empty" in object form: `{"value": ""}`
/// is no manager (a manager without an id would be a dangling reference).
pub(crate) fn is_cleared_manager(m: &Map<String, Value>) -> bool {
    get_ci(m, "value").and_then(Value::as_str) == Some("")
}

/// Microsoft Entra ID sends complex values (app `roles`) as stringified
/// JSON: the array or object a string holds, or `None` when it holds
/// anything else (it is then an ordinary string).
pub(crate) fn parse_stringified(s: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(s) {
        Ok(parsed @ (Value::Array(_) | Value::Object(_))) => Some(parsed),
        _ => None,
    }
}

/// Microsoft Entra ID's legacy `manager` array: a one-element array where a
/// single value is expected (a single-valued complex attribute, or one
/// element of a multi-valued one) stands for that element.
pub(crate) fn lone_element(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(a) if a.len() == 1 => a.first(),
        _ => None,
    }
}

/// RFC 7643 §2.5: an attribute whose value is `null`, `[]` or `{}` is
/// unassigned, whatever its type (Entra and Okta send all three for
/// attributes they have no value for).
pub(crate) fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A single value sent for a multi-valued attribute is a list of one
/// (RFC 7644 §3.5.2.1 speaks of adding "a new value"; Microsoft Entra ID
/// sends one stringified role for `roles`, clients one member object for
/// `members`): the values a multi-valued attribute is given.
pub(crate) fn as_list(v: &Value) -> &[Value] {
    items(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::schema::{enterprise_user_schema, USER_SCHEMA};
    use serde_json::json;

    #[test]
    fn entra_string_booleans() {
        // idp-behaviour.md, Microsoft Entra ID: "Booleans may arrive as
        // strings: "active": "False", "True", "false"" (Microsoft "Known issues
        // and resolutions with SCIM 2.0 protocol compliance").
        for (s, b) in [
            ("True", true),
            ("true", true),
            ("TRUE", true),
            ("False", false),
        ] {
            assert_eq!(boolean_from_string(s), Some(b), "{s}");
        }
        for s in ["", "yes", "1", " true", "Truee"] {
            assert_eq!(boolean_from_string(s), None, "{s}");
        }
    }

    #[test]
    fn entra_manager_forms() {
        // idp-behaviour.md, Microsoft Entra ID: "manager may arrive as a bare
        // string id, as {"value": id}, or (legacy) as an array; remove it ...
        // with replace to """ (Microsoft "Known issues and resolutions with
        // SCIM 2.0 protocol compliance").
        let ent = enterprise_user_schema();
        let manager = ent.attribute("manager").unwrap();
        assert!(is_enterprise_manager(ENTERPRISE_USER_SCHEMA, manager));
        assert!(is_enterprise_manager(
            &ENTERPRISE_USER_SCHEMA.to_lowercase(),
            manager
        ));
        assert!(!is_enterprise_manager(USER_SCHEMA, manager));
        let department = ent.attribute("department").unwrap();
        assert!(!is_enterprise_manager(ENTERPRISE_USER_SCHEMA, department));

        assert_eq!(manager_from_id("m-1"), json!({"value": "m-1"}));
        assert_eq!(manager_from_id(""), Value::Null);
        let cleared = |v: Value| is_cleared_manager(v.as_object().unwrap());
        assert!(cleared(json!({"value": ""})));
        assert!(cleared(json!({"Value": "", "displayName": "Boss"})));
        assert!(!cleared(json!({"value": "m-1"})));
        assert!(!cleared(json!({"displayName": ""})));
    }

    #[test]
    fn entra_stringified_complex_values() {
        // idp-behaviour.md, Microsoft Entra ID: "roles[].value may be
        // stringified JSON" (Microsoft app role provisioning sends the whole
        // roles value as a string).
        assert_eq!(
            parse_stringified(r#"[{"value":"Reader","primary":"False"}]"#),
            Some(json!([{"value": "Reader", "primary": "False"}]))
        );
        assert_eq!(
            parse_stringified(r#"{"value":"Owner"}"#),
            Some(json!({"value": "Owner"}))
        );
        for plain in ["Reader", "42", "true", "\"x\"", "", "{"] {
            assert_eq!(parse_stringified(plain), None, "{plain}");
        }
    }

    #[test]
    fn members_as_bare_ids() {
        // Issue 13: group members arrive as a bare id string or an array of
        // them, as well as RFC 7643 §4.2 objects.
        assert_eq!(reference_from_id(&json!("u-1")), json!({"value": "u-1"}));
        let object = json!({"value": "u-2", "type": "User"});
        assert_eq!(reference_from_id(&object), object);
        let group = crate::proto::schema::group_schema();
        let members = group.attribute("members").unwrap();
        assert!(is_group_members(GROUP_SCHEMA, members));
        assert!(!is_group_members(USER_SCHEMA, members));
    }

    #[test]
    fn entra_legacy_one_element_array() {
        // idp-behaviour.md, Microsoft Entra ID: manager "(legacy) as an array".
        let one = json!([{"value": "m-2"}]);
        assert_eq!(lone_element(&one), Some(&json!({"value": "m-2"})));
        assert_eq!(lone_element(&json!([])), None);
        assert_eq!(lone_element(&json!([1, 2])), None);
        assert_eq!(lone_element(&json!({"value": "m"})), None);
    }

    #[test]
    fn onelogin_manager_id_is_manager_value() {
        // research: OneLogin's Enterprise template sends manager.managerId.
        let m = json!({"managerId": "m1", "displayName": "Boss"});
        assert_eq!(
            manager_with_value(m.as_object().unwrap()),
            Some(json!({"value": "m1", "displayName": "Boss"}))
        );
        let both = json!({"managerId": "m1", "value": "m2"});
        assert_eq!(manager_with_value(both.as_object().unwrap()), None);
        let plain = json!({"value": "m2"});
        assert_eq!(manager_with_value(plain.as_object().unwrap()), None);
    }

    #[test]
    fn single_value_for_a_multi_valued_attribute() {
        // RFC 7644 §3.5.2.1 "a new value is added"; tests/entra.rs: a
        // path-less replace of `roles` with one stringified role.
        assert_eq!(as_list(&json!({"value": "a@x"})), [json!({"value": "a@x"})]);
        assert_eq!(as_list(&json!([1, 2])), [json!(1), json!(2)]);
        assert!(as_list(&json!([])).is_empty());
    }
}
