//! JSON members looked up by attribute name (RFC 7643 §2.1: "Attribute names
//! are case insensitive"). A SCIM body is a JSON object whose keys a client
//! may spell in any case; this is the one place that finds them.
//!
//! The rule everywhere: the key spelled exactly as asked wins, else the first
//! key equal to it ignoring ASCII case.

use serde_json::{Map, Value};

/// The member `key` of `m` (RFC 7643 §2.1): the exact key first, then the
/// first key equal to it ignoring ASCII case.
pub(crate) fn get_ci<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Like [`get_ci`], with an explicit `null` read as absent (RFC 7644 §3.5.2:
/// null is "unassigned"): how the members of a SearchRequest or BulkRequest
/// message are read.
pub(crate) fn get_ci_non_null<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    get_ci(m, key).filter(|v| !v.is_null())
}

/// [`get_ci`] on a value that may not be an object (then there is no member).
pub(crate) fn member<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m| get_ci(m, key))
}

/// The items of an array, or the value itself as the only item: how a
/// multi-valued attribute's values are read (RFC 7643 §2.4).
pub(crate) fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// Removes every member of `m` whose key equals `key` ignoring ASCII case,
/// so that a new value can be inserted under the canonical spelling; returns
/// the exact key's value, else the first removed one's.
pub(crate) fn take_ci(m: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let keys: Vec<String> = m
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .collect();
    let mut out = None;
    for k in keys {
        let v = m.remove(&k);
        if k == key || out.is_none() {
            out = v;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::fixtures::object as obj;
    use serde_json::json;

    #[test]
    fn exact_key_first_then_any_case() {
        // RFC 7643 §2.1: names are case-insensitive; the exact spelling wins.
        let m = obj(json!({"USERNAME": 1, "userName": 2, "UserName": 3}));
        assert_eq!(get_ci(&m, "userName"), Some(&json!(2)));
        assert_eq!(get_ci(&m, "username"), Some(&json!(1)), "first in order");
        assert_eq!(get_ci(&m, "nope"), None);
        assert_eq!(member(&json!({"A": 1}), "a"), Some(&json!(1)));
        assert_eq!(member(&json!([1]), "a"), None);
    }

    #[test]
    fn items_of_a_value() {
        assert_eq!(items(&json!([1, 2])), [json!(1), json!(2)]);
        assert_eq!(items(&json!("x")), [json!("x")]);
        assert!(items(&json!([])).is_empty());
    }

    #[test]
    fn null_is_absent_for_message_members() {
        // RFC 7644 §3.5.2: null means unassigned.
        let m = obj(json!({"filter": null, "Count": 3}));
        assert_eq!(get_ci_non_null(&m, "filter"), None);
        assert_eq!(get_ci_non_null(&m, "count"), Some(&json!(3)));
        // The exact key decides, even when it is null.
        let m = obj(json!({"COUNT": 1, "count": null}));
        assert_eq!(get_ci_non_null(&m, "count"), None);
    }

    #[test]
    fn take_removes_every_spelling() {
        let mut m = obj(json!({"Title": "a", "x": 0, "title": "b", "TITLE": "c"}));
        assert_eq!(take_ci(&mut m, "title"), Some(json!("b")));
        assert_eq!(m, obj(json!({"x": 0})));
        let mut m = obj(json!({"TITLE": "c", "Title": "a"}));
        assert_eq!(take_ci(&mut m, "title"), Some(json!("c")), "first one");
        assert!(m.is_empty());
        assert_eq!(take_ci(&mut m, "title"), None);
    }
}
