//! PATCH (RFC 7644 §3.5.2), pure: parses a PatchOp request and applies its
//! operations to a resource's stored form (see `normalize`).
//!
//! Every operation, and every key of a path-less value, goes through one
//! resolver (`target::resolve`) to a `Target`; the edits are made on a copy,
//! so an error leaves nothing applied; the result is validated by
//! `normalize::normalize`. Group members are not part of the document: they
//! come out as `MemberChanges`.
//!
//! - `request`: the PatchOp body and its operations;
//! - `path`: the `path` grammar (`PatchPath`);
//! - `target`: what a path designates in a resource type's schemas;
//! - `edit`: the edit of one attribute of the document (add, replace, remove
//!   on single, complex and multi-valued attributes, value filters);
//! - `members`: Group `members`, kept out of the document as `MemberChanges`.

mod edit;
mod members;
pub mod path;
pub(crate) mod request;
mod target;

use serde_json::{Map, Value};

use crate::proto::dialect;
use crate::proto::error::ScimError;
use crate::proto::json::{get_ci, member, take_ci};
use crate::proto::lenience::{Leniency, Options, Unknown};
use crate::proto::normalize::normalize_with;
use crate::proto::schema::{Mutability, ResourceType, GROUP_SCHEMA};

use edit::edit_attr;
pub(crate) use members::MemberChanges;
use path::parse_patch_path;
use request::at_op;
pub use request::{parse_request, OpKind, PatchOp};
use target::{resolve, Resolved, Target};

/// What `apply` made of a PATCH request: the document to store and, for a
/// Group, the membership changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The new stored form (for Groups: without members).
    pub doc: Value,
    pub(crate) members: MemberChanges,
    /// False when `doc` equals the current stored form and `members` is
    /// empty: the caller may skip the write and keep the version.
    pub changed: bool,
    /// The leniencies applied (see `apply_with`).
    pub notes: Vec<Leniency>,
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
    opts: Options,
    notes: Vec<Leniency>,
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
            Resolved::Unknown => Err(ScimError::invalid_path(format!(
                "Unknown attribute '{path}'."
            ))),
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
            let unknown = match resolve(rt, &path, ScimError::invalid_value)? {
                Resolved::Schema(s) if slot.is_none() => {
                    self.object(kind, Some(s), value)?;
                    false
                }
                Resolved::Schema(_) | Resolved::Unknown => true,
                Resolved::Attr(t) if t.read_only() => {
                    // RFC 7643 §2.2: readOnly values are ignored. Okta sends
                    // the group's own `id` with every rename and membership
                    // change: accepted when it is the resource's own.
                    let is_id = t.slot == 0 && t.attr.name == "id" && t.sub.is_none();
                    if is_id && value.as_str() != Some(self.own_id) {
                        return Err(ScimError::mutability("Attribute 'id' cannot be changed."));
                    }
                    false
                }
                Resolved::Attr(t) => {
                    self.edit(kind, &t, Some(value))?;
                    false
                }
            };
            // A key the schema does not define: ignored (and noted) or
            // refused, as for a POST body; a null one assigns nothing.
            if unknown && !dialect::is_unassigned(value) {
                match self.opts.unknown {
                    Unknown::Ignore => self.notes.push(Leniency::UnknownAttribute(full)),
                    Unknown::Reject => {
                        return Err(ScimError::invalid_value(format!(
                            "Unknown attribute '{full}'."
                        )))
                    }
                }
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
            return self.members.edit(kind, t, value);
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
/// Read strictly (the tests' reading); the result is validated as
/// `normalize_with` validates a PUT.
#[cfg(any(test, feature = "test-utils"))]
pub fn apply(
    rt: &ResourceType,
    own_id: &str,
    current: &Value,
    ops: &[PatchOp],
) -> Result<Outcome, ScimError> {
    apply_with(rt, own_id, current, ops, Options::STRICT)
}

/// [`apply`], read as `opts` say: path-less keys the schema does not
/// define and the values' own leniencies (see `normalize_with`) are noted in
/// the outcome's `notes`.
pub fn apply_with(
    rt: &ResourceType,
    own_id: &str,
    current: &Value,
    ops: &[PatchOp],
    opts: Options,
) -> Result<Outcome, ScimError> {
    let mut state = State {
        rt,
        own_id,
        urns: rt.all_schema_urns(),
        doc: current.as_object().cloned().unwrap_or_default(),
        members: MemberChanges::default(),
        opts,
        notes: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        state.op(op).map_err(|e| at_op(i, e))?;
    }
    let State {
        mut doc,
        members,
        mut notes,
        ..
    } = state;
    // Every known schema: `normalize` lists those that hold data.
    let urns = rt
        .all_schema_urns()
        .into_iter()
        .map(|u| Value::String(u.into()));
    doc.insert("schemas".into(), Value::Array(urns.collect()));
    let new = Value::Object(doc);
    check_immutable_kept(rt, current, &new)?;
    let (doc, more) = normalize_with(rt, &new, Some(current), opts)?;
    notes.extend(more);
    let changed = doc != *current || !members.is_empty();
    Ok(Outcome {
        doc,
        members,
        changed,
        notes,
    })
}

/// What the tests of every PATCH file share: sample resources and runners.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod fixtures {
    use super::*;
    use crate::proto::error::ScimType;
    pub(super) use crate::proto::fixtures::users;
    use crate::proto::normalize::normalize;
    use crate::proto::patch::request::PATCH_OP_SCHEMA;
    use crate::proto::schema::{group_resource_type, ENTERPRISE_USER_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    pub(super) const ENT: &str = ENTERPRISE_USER_SCHEMA;
    pub(super) const OWN: &str = "own-id";

    pub(super) fn groups() -> ResourceType {
        group_resource_type()
    }
    pub(super) fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
    }
    pub(super) fn run(
        rt: &ResourceType,
        current: &Value,
        ops: Value,
    ) -> Result<Outcome, ScimError> {
        let ops = parse_request(&body(ops), rt, 100)?;
        apply(rt, OWN, current, &ops)
    }
    pub(super) fn ok(rt: &ResourceType, current: &Value, ops: Value) -> Outcome {
        match run(rt, current, ops.clone()) {
            Ok(o) => o,
            Err(e) => panic!("{ops}: {e:?}"),
        }
    }
    pub(super) fn fails(rt: &ResourceType, current: &Value, ops: Value, t: ScimType) -> ScimError {
        match run(rt, current, ops.clone()) {
            Ok(o) => panic!("{ops} succeeded: {o:?}"),
            Err(e) => {
                assert_eq!(e.status, 400, "{e:?}");
                assert_eq!(e.scim_type, Some(t), "{ops}: {e:?}");
                e
            }
        }
    }
    pub(super) fn stored(rt: &ResourceType, v: Value) -> Value {
        normalize(rt, &v, None).unwrap()
    }
    pub(super) fn bjensen() -> Value {
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
    pub(super) fn group() -> Value {
        stored(
            &groups(),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng"}),
        )
    }
    pub(super) fn members(out: &Outcome) -> &MemberChanges {
        &out.members
    }
    pub(super) fn added(ids: &[&str]) -> Vec<(String, Option<String>)> {
        ids.iter().map(|i| (i.to_string(), None)).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::error::ScimType;
    use crate::proto::fixtures::extension;
    use crate::proto::patch::fixtures::*;
    use crate::proto::schema::{user_resource_type, Attribute, USER_SCHEMA};
    use serde_json::json;

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
        let rt = user_resource_type(vec![extension(
            custom,
            "Custom",
            vec![Attribute::string("x")],
        )]);
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
        let rt = user_resource_type(vec![extension(
            urn,
            "X",
            vec![
                Attribute::string("badge").immutable(),
                Attribute::complex("card", vec![Attribute::string("serial").immutable()]),
            ],
        )]);
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
