//! The read path (RFC 7644 §3.4.2.5, RFC 7643 §2.2 `returned`): a resource's
//! read form (its stored form plus `id`, `meta`, `groups`...) cut down to
//! what a response may carry and the client asked for.

use serde_json::{Map, Value};

use crate::proto::attr::AttrPath;
use crate::proto::error::ScimError;
use crate::proto::filter::Filter;
use crate::proto::patch::path::parse_patch_path;
use crate::proto::schema::{find_sub, AttrType, Attribute, Member, ResourceType, Returned};

/// An `attributes` or `excludedAttributes` entry (RFC 7644 §3.4.2.5): an
/// attribute path, and, for a multi-valued attribute, a value filter that
/// narrows it to the matching elements (`phoneNumbers[type eq "mobile"]`,
/// `emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub path: AttrPath,
    pub filter: Option<Filter>,
}

impl From<AttrPath> for Selection {
    fn from(path: AttrPath) -> Self {
        Selection { path, filter: None }
    }
}

/// The entries of a list split at the commas between them, not those
/// inside a value filter's brackets or strings.
fn entries(param: &str) -> Vec<&str> {
    let (mut out, mut start, mut depth, mut quoted, mut escaped) =
        (Vec::new(), 0, 0u32, false, false);
    for (i, c) in param.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                out.push(param.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(param.get(start..).unwrap_or_default());
    out
}

/// Parses an `attributes` or `excludedAttributes` parameter into its
/// entries, resolved as [`crate::proto::schema::parse_attr_list`] resolves
/// plain paths (unknown names ignored, malformed ones refused); an entry
/// may carry a value filter, whose syntax is a PATCH path's (RFC 7644
/// §3.5.2: `attr[filter]` or `attr[filter].sub`).
pub fn parse_selection(param: &str, rt: &ResourceType) -> Result<Vec<Selection>, ScimError> {
    let mut out = Vec::new();
    for raw in entries(param) {
        let token = raw.trim();
        if !token.contains('[') {
            out.extend(rt.attr_path(token)?.map(Selection::from));
            continue;
        }
        let urns = rt.all_schema_urns();
        let parsed = parse_patch_path(token, &urns).map_err(|e| {
            ScimError::invalid_value(format!("Invalid attribute path '{token}': {}", e.message))
        })?;
        let plain = match &parsed.sub_after_filter {
            Some(sub) => format!("{}.{sub}", parsed.attr),
            None => parsed.attr.to_string(),
        };
        if let Some(path) = rt.attr_path(&plain)? {
            out.push(Selection {
                path,
                filter: parsed.filter,
            });
        }
    }
    Ok(out)
}

/// A resolved `attributes`/`excludedAttributes` entry.
struct Sel<'f> {
    slot: usize,
    /// None: the whole schema (`urn:...:enterprise:2.0:User`).
    attr: Option<String>,
    sub: Option<String>,
    filter: Option<&'f Filter>,
}

fn resolve_sel<'f>(rt: &ResourceType, s: &'f Selection) -> Option<Sel<'f>> {
    let p = &s.path;
    let slot = match &p.urn {
        None => 0,
        Some(urn) => rt.schema_index(urn)?,
    };
    if p.name.is_empty() {
        return Some(Sel {
            slot,
            attr: None,
            sub: None,
            filter: None,
        });
    }
    let attr = rt.attribute_in(slot, &p.name)?;
    let sub = match &p.sub {
        None => None,
        Some(s) => Some(find_sub(attr, s)?.name.clone()),
    };
    Some(Sel {
        slot,
        attr: Some(attr.name.clone()),
        sub,
        // A value filter narrows only a multi-valued attribute.
        filter: s.filter.as_ref().filter(|_| attr.multi_valued),
    })
}

enum Pick {
    No,
    All,
    Subs(Vec<String>),
}

/// What `sels` (the entries without a value filter, or, with `filtered`,
/// those with one) pick of attribute `name`.
fn pick(sels: &[Sel<'_>], slot: usize, name: &str, filtered: bool) -> Pick {
    let mut subs = Vec::new();
    for s in sels
        .iter()
        .filter(|s| s.slot == slot && s.filter.is_some() == filtered)
    {
        match (&s.attr, &s.sub) {
            (None, _) => return Pick::All,
            (Some(a), None) if a == name => return Pick::All,
            (Some(a), Some(sub)) if a == name => subs.push(sub.clone()),
            _ => {}
        }
    }
    if subs.is_empty() {
        Pick::No
    } else {
        Pick::Subs(subs)
    }
}

/// The value filters of the entries of `sels` that name attribute `name`.
fn filters_of<'s>(sels: &'s [Sel<'_>], slot: usize, name: &str) -> Vec<&'s Sel<'s>> {
    sels.iter()
        .filter(|s| s.slot == slot && s.filter.is_some() && s.attr.as_deref() == Some(name))
        .collect()
}

/// Which sub-attributes of a complex value are output.
enum SubMode {
    /// Everything but `returned: never`.
    All,
    /// `returned: always` and `default`.
    Default,
    /// `returned: always` and the listed ones.
    Only(Vec<String>),
}

struct Projection<'f> {
    inc: Vec<Sel<'f>>,
    exc: Vec<Sel<'f>>,
    /// `attributes` was given: only `always` and listed attributes.
    restrict: bool,
}

/// The start of a resource's read form: its `schemas`, then `id`, then the
/// stored document's other members, moved out of `doc`.
pub(crate) fn resource_head(doc: Value, id: &str) -> Map<String, Value> {
    let doc = match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut out = Map::with_capacity(doc.len() + 4);
    // Placed first, filled below if the document has schemas.
    out.insert("schemas".into(), Value::Null);
    out.insert("id".into(), Value::String(id.to_owned()));
    // A stored `id` never stands in for the row's; `schemas` fills its
    // placeholder, keeping its place first.
    for (k, v) in doc {
        if k != "id" {
            out.insert(k, v);
        }
    }
    if out.get("schemas").is_some_and(Value::is_null) {
        out.shift_remove("schemas");
    }
    out
}

/// Applies `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) and the
/// `returned` characteristic (RFC 7643 §2.2) to the full read form of a
/// resource (stored form plus id, meta, groups...).
///
/// Takes the read form by value and moves the values it keeps: a list page
/// projects every resource, and a copy of each would cost as much again.
pub fn project(
    rt: &ResourceType,
    resource: Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let select = |l: &[AttrPath]| l.iter().cloned().map(Selection::from).collect::<Vec<_>>();
    project_selected(rt, resource, &select(attributes), &select(excluded))
}

/// [`project`] with entries that may carry value filters (see
/// [`Selection`]): an included entry with a filter returns only the
/// matching elements; an excluded one drops them (or, with a
/// sub-attribute, drops that sub-attribute of them).
pub fn project_selected(
    rt: &ResourceType,
    resource: Value,
    attributes: &[Selection],
    excluded: &[Selection],
) -> Value {
    let obj = match resource {
        Value::Object(obj) => obj,
        other => return other,
    };
    let ctx = Projection {
        inc: attributes
            .iter()
            .filter_map(|p| resolve_sel(rt, p))
            .collect(),
        exc: excluded.iter().filter_map(|p| resolve_sel(rt, p)).collect(),
        restrict: !attributes.is_empty(),
    };
    let n = rt.extensions.len() + 1;
    let mut slots: Vec<Map<String, Value>> = vec![Map::new(); n];
    // `key` is the name as stored; the output spells it as the schema does,
    // reusing the stored string when it already is (the common case).
    let mut put = |slot: usize, key: String, value: Value| {
        // Names outside the schema are never output.
        let Some(attr) = rt.attribute_in(slot, &key) else {
            return;
        };
        if let (Some(v), Some(m)) = (project_attr(&ctx, slot, attr, value), slots.get_mut(slot)) {
            let name = if key == attr.name {
                key
            } else {
                attr.name.clone()
            };
            m.insert(name, v);
        }
    };
    for (key, value) in obj {
        match rt.member(&key) {
            Member::Schemas => {}
            Member::Schema(slot) => {
                if let Value::Object(inner) = value {
                    for (k, v) in inner {
                        put(slot, k, v);
                    }
                }
            }
            Member::Qualified(slot, rest) => put(slot, rest.to_owned(), value),
            Member::Plain => put(0, key, value),
        }
    }

    // `schemas` is always returned: the core URN plus extensions with data.
    rt.assemble(slots)
}

fn project_attr(
    ctx: &Projection<'_>,
    slot: usize,
    attr: &Attribute,
    value: Value,
) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    // The included entries with a value filter: an element is returned when
    // one of them selects it (and then with the sub-attributes it names),
    // unless an entry without a filter takes the whole attribute.
    let mut narrowed: Vec<&Sel<'_>> = Vec::new();
    let (mode, excluded_subs) = match attr.returned {
        Returned::Never => return None,
        // excludedAttributes has no effect on `always` (RFC 7644 §3.4.2.5).
        Returned::Always => (SubMode::All, Vec::new()),
        Returned::Default | Returned::Request => {
            let mode = if ctx.restrict {
                match (
                    pick(&ctx.inc, slot, &attr.name, false),
                    filters_of(&ctx.inc, slot, &attr.name),
                ) {
                    (Pick::No, f) if f.is_empty() => return None,
                    (Pick::No, f) => {
                        narrowed = f;
                        SubMode::All
                    }
                    (Pick::All, _) => SubMode::All,
                    (Pick::Subs(s), _) => SubMode::Only(s),
                }
            } else if attr.returned == Returned::Request {
                return None;
            } else {
                SubMode::Default
            };
            match pick(&ctx.exc, slot, &attr.name, false) {
                Pick::All => return None,
                Pick::Subs(s) => (mode, s),
                Pick::No => (mode, Vec::new()),
            }
        }
    };
    let dropped = filters_of(&ctx.exc, slot, &attr.name);
    match value {
        Value::Array(items) if !narrowed.is_empty() || !dropped.is_empty() => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|item| {
                    project_element(attr, item, &mode, &excluded_subs, &narrowed, &dropped)
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => project_value(attr, other, &mode, &excluded_subs),
    }
}

/// One element of a multi-valued attribute under entries with value
/// filters: `narrowed` (included; when there are any, an element none of
/// them selects is left out, and one they select keeps the sub-attributes
/// they name, or all of them) and `dropped` (excluded: the element, or the
/// sub-attribute they name, is left out).
fn project_element(
    attr: &Attribute,
    item: Value,
    mode: &SubMode,
    excluded_subs: &[String],
    narrowed: &[&Sel<'_>],
    dropped: &[&Sel<'_>],
) -> Option<Value> {
    let selects = |s: &Sel<'_>| s.filter.is_some_and(|f| attr.element_matches(f, &item));
    let narrowed_mode = if narrowed.is_empty() {
        None
    } else {
        let hits: Vec<&Sel<'_>> = narrowed.iter().copied().filter(|s| selects(s)).collect();
        if hits.is_empty() {
            return None;
        }
        let only: Option<Vec<String>> = hits.iter().map(|s| s.sub.clone()).collect();
        Some(only.map_or(SubMode::All, SubMode::Only))
    };
    let mut excluded = excluded_subs.to_vec();
    for s in dropped.iter().filter(|s| selects(s)) {
        match &s.sub {
            None => return None,
            Some(sub) => excluded.push(sub.clone()),
        }
    }
    if attr.attr_type != AttrType::Complex {
        return Some(item);
    }
    project_complex(
        attr,
        item,
        narrowed_mode.as_ref().unwrap_or(mode),
        &excluded,
    )
}

/// A value of `attr`, its complex parts cut down to `mode` less `excluded`.
fn project_value(
    attr: &Attribute,
    value: Value,
    mode: &SubMode,
    excluded_subs: &[String],
) -> Option<Value> {
    if attr.attr_type != AttrType::Complex {
        return Some(value);
    }
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|item| project_complex(attr, item, mode, excluded_subs))
                .collect();
            if kept.is_empty() {
                None
            } else {
                Some(Value::Array(kept))
            }
        }
        other => project_complex(attr, other, mode, excluded_subs),
    }
}

fn project_complex(
    attr: &Attribute,
    value: Value,
    mode: &SubMode,
    excluded: &[String],
) -> Option<Value> {
    let m = match value {
        Value::Object(m) => m,
        Value::Null => return None,
        other => return Some(other),
    };
    let listed = |list: &[String], name: &str| list.iter().any(|s| s.eq_ignore_ascii_case(name));
    let mut out = Map::new();
    for (key, v) in m {
        let Some(sub) = find_sub(attr, &key) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        let keep = match sub.returned {
            Returned::Never => false,
            Returned::Always => true,
            r => {
                let included = match mode {
                    SubMode::All => true,
                    SubMode::Default => r != Returned::Request,
                    SubMode::Only(list) => listed(list, &sub.name),
                };
                included && !listed(excluded, &sub.name)
            }
        };
        if keep {
            let name = if key == sub.name {
                key
            } else {
                sub.name.clone()
            };
            out.insert(name, v);
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    }
}

#[cfg(test)]
// Tests may unwrap: a failure is a test failure, not a server panic.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::fixtures::{extension, path as p, users};
    use crate::proto::schema::parse_attr_list;
    use crate::proto::schema::ENTERPRISE_USER_SCHEMA;
    use crate::proto::schema::{
        group_resource_type, user_resource_type, GROUP_SCHEMA, MS_LEGACY_GROUP_SCHEMA, USER_SCHEMA,
    };
    use serde_json::json;

    const ENT: &str = ENTERPRISE_USER_SCHEMA;

    fn full_user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENT],
            "id": "2819c223",
            "externalId": "701984",
            "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
                     "lastModified": "2011-05-13T04:42:34Z", "location": "https://x/Users/2819c223", "version": "W/\"a\""},
            "userName": "bjensen",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "password": "must-never-appear",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                       {"value": "babs@jensen.org", "type": "home"}],
            "groups": [{"value": "g1", "$ref": "https://x/Groups/g1", "display": "Tour Guides"}],
            ENT: {"employeeNumber": "701984", "department": "Tour Operations",
                  "manager": {"value": "26118915", "displayName": "John Smith"}}
        })
    }

    #[test]
    fn default_projection_and_password_never_returned() {
        // RFC 7643 §2.2 returned: never (password) is never output; default ones are.
        let out = project(&users(), full_user(), &[], &[]);
        let mut expected = full_user();
        expected.as_object_mut().unwrap().remove("password");
        assert_eq!(out, expected);
        let out = project(&users(), full_user(), &[p(None, "password", None)], &[]);
        assert_eq!(out, json!({"schemas": [USER_SCHEMA], "id": "2819c223"}));
    }

    #[test]
    fn attributes_parameter_with_sub_attributes() {
        // RFC 7644 §3.4.2.5: only listed attributes plus returned: always (id, schemas).
        let attrs = vec![
            p(None, "userName", None),
            p(None, "name", Some("givenName")),
            p(None, "emails", Some("value")),
            p(None, "meta", Some("lastModified")),
        ];
        let out = project(&users(), full_user(), &attrs, &[]);
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA], "id": "2819c223",
                   "meta": {"lastModified": "2011-05-13T04:42:34Z"},
                   "userName": "bjensen", "name": {"givenName": "Barbara"},
                   "emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]})
        );
    }

    #[test]
    fn attributes_parameter_with_extension_urns() {
        // Whole extension, and one extension attribute / sub-attribute.
        let out = project(&users(), full_user(), &[p(Some(ENT), "", None)], &[]);
        assert_eq!(out["schemas"], json!([USER_SCHEMA, ENT]));
        assert_eq!(out[ENT], full_user()[ENT]);
        assert!(out.get("userName").is_none());
        let out = project(
            &users(),
            full_user(),
            &[
                p(Some(ENT), "department", None),
                p(Some(ENT), "manager", Some("value")),
            ],
            &[],
        );
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA, ENT], "id": "2819c223",
                   ENT: {"department": "Tour Operations", "manager": {"value": "26118915"}}})
        );
        // An extension with nothing left is dropped from schemas.
        let out = project(&users(), full_user(), &[p(None, "userName", None)], &[]);
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA], "id": "2819c223", "userName": "bjensen"})
        );
    }

    #[test]
    fn excluded_attributes() {
        // RFC 7644 §3.4.2.5 excludedAttributes; no effect on returned: always.
        let excl = vec![
            p(None, "emails", Some("type")),
            p(None, "meta", None),
            p(None, "id", None),
            p(Some(ENT), "manager", None),
            p(None, "groups", None),
        ];
        let out = project(&users(), full_user(), &[], &excl);
        assert_eq!(out["id"], "2819c223");
        assert!(out.get("meta").is_none() && out.get("groups").is_none());
        assert_eq!(
            out["emails"],
            json!([{"value": "bjensen@example.com", "primary": true}, {"value": "babs@jensen.org"}])
        );
        assert_eq!(
            out[ENT],
            json!({"employeeNumber": "701984", "department": "Tour Operations"})
        );
        let out = project(&users(), full_user(), &[], &[p(Some(ENT), "", None)]);
        assert!(out.get(ENT).is_none());
        assert_eq!(out["schemas"], json!([USER_SCHEMA]));
    }

    #[test]
    fn returned_request_only_when_listed() {
        // RFC 7643 §2.2 returned: request.
        let urn = "urn:example:ext:1.0";
        let ext = extension(
            urn,
            "X",
            vec![
                Attribute::string("secretish").returned(Returned::Request),
                Attribute::string("plain"),
            ],
        );
        let rt = user_resource_type(vec![ext]);
        let r = json!({"schemas": [USER_SCHEMA, urn], "id": "1", "userName": "u", urn: {"secretish": "s", "plain": "p"}});
        assert_eq!(
            project(&rt, r.clone(), &[], &[])[urn],
            json!({"plain": "p"})
        );
        assert_eq!(
            project(&rt, r.clone(), &[p(Some(urn), "secretish", None)], &[])[urn],
            json!({"secretish": "s"})
        );
    }

    #[test]
    fn projection_of_group_and_legacy_schemas_key() {
        let g = group_resource_type();
        let r = json!({"schemas": [MS_LEGACY_GROUP_SCHEMA], "id": "g1", "displayName": "Eng",
                       "members": [{"value": "u1", "$ref": "https://x/Users/u1", "display": "Ann", "type": "User"}]});
        let out = project(&g, r.clone(), &[p(None, "members", Some("value"))], &[]);
        assert_eq!(
            out,
            json!({"schemas": [GROUP_SCHEMA], "id": "g1", "members": [{"value": "u1"}]})
        );
        let out = project(&g, r.clone(), &[], &[p(None, "members", None)]);
        assert_eq!(
            out,
            json!({"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "Eng"})
        );
    }

    #[test]
    fn parse_then_project_round_trip() {
        let rt = users();
        let attrs = parse_attr_list(
            "emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            &rt,
        )
        .unwrap();
        let out = project(&rt, full_user(), &attrs, &[]);
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA, ENT], "id": "2819c223",
                   "emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}],
                   ENT: {"department": "Tour Operations"}})
        );
    }
}
