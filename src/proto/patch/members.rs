//! Group `members` under PATCH (RFC 7644 §3.5.2 examples; Okta's and
//! Microsoft Entra's forms): members live in their own table, so operations
//! on them are folded into `MemberChanges` instead of editing the document.

use serde_json::{Map, Value};

use crate::proto::dialect;
use crate::proto::error::ScimError;
use crate::proto::filter::{CompValue, CompareOp, Filter};
use crate::proto::patch::edit::prep_attr;
use crate::proto::patch::request::OpKind;
use crate::proto::patch::target::Target;
use crate::proto::schema::Attribute;

/// Membership changes for Groups, kept out of the document (members live in
/// their own table). Apply them in this order: `remove_all`, `remove`,
/// `remove_filters` (evaluated on the member list), `add`; the operations
/// were folded so that this order gives the result of applying them one by
/// one. Duplicates may occur (re-adding a member is a no-op in the store).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MemberChanges {
    pub remove_all: bool,
    pub remove: Vec<String>,
    pub remove_filters: Vec<Filter>,
    /// (value, type)
    pub add: Vec<(String, Option<String>)>,
}

impl MemberChanges {
    /// Whether there is nothing to change in the membership table.
    pub(crate) fn is_empty(&self) -> bool {
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
            !attr.element_matches(filter, &Value::Object(m))
        });
        self.remove_filters.push(filter.clone());
    }

    fn add_member(&mut self, id: String, ty: Option<String>) {
        self.remove.retain(|r| *r != id);
        self.add.push((id, ty));
    }

    /// Applies one operation on a Group's `members` (RFC 7644 §3.5.2
    /// examples; Okta and Entra forms).
    pub(super) fn edit(
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
                Some(ids) => ids.into_iter().for_each(|id| self.remove_id(id)),
                None => self.remove_where(t.attr, f),
            },
            (OpKind::Remove, None, None | Some(Value::Null)) => self.clear_all(),
            // Entra's legacy form: `remove` `members` with a value list
            // removes only those members (it must not empty the group).
            (OpKind::Remove, None, Some(v)) => {
                for (id, _) in member_list(t.attr, v)? {
                    self.remove_id(id);
                }
            }
            (kind, _, v) => {
                let list = member_list(t.attr, v.unwrap_or(&Value::Null))?;
                if kind == OpKind::Replace {
                    self.clear_all();
                }
                for (id, ty) in list {
                    self.add_member(id, ty);
                }
            }
        }
        Ok(())
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

/// `[{"value": id, "type": "User"}, ...]` (a single object is a list of
/// one; a bare id stands for `{"value": id}`).
fn member_list(attr: &Attribute, v: &Value) -> Result<Vec<(String, Option<String>)>, ScimError> {
    let Value::Array(items) = prep_attr(attr, false, v) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(dialect::reference_from_id)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::error::ScimType;
    use crate::proto::patch::fixtures::*;
    use serde_json::json;

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
}
