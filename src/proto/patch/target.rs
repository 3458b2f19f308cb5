//! What a PATCH path designates (RFC 7644 §3.5.2): the schema slot, the
//! attribute, its sub-attribute and value filter, resolved case-insensitively
//! against the resource type's schemas (RFC 7643 §2.1).

use serde_json::Value;

use crate::proto::dialect;
use crate::proto::error::ScimError;
use crate::proto::filter::{CompValue, CompareOp, Filter};
use crate::proto::patch::path::PatchPath;
use crate::proto::schema::{
    ambiguous, find_sub, AttrType, Attribute, Located, Mutability, ResourceType,
};

/// Builds the error for a bad path (invalidPath) or a bad key of a path-less
/// value (invalidValue).
pub(super) type Bad = fn(String) -> ScimError;

/// What a path (or a path-less key) designates.
pub(super) enum Resolved<'a> {
    /// A whole schema (bare URN): the extension object.
    Schema(usize),
    Attr(Target<'a>),
    /// Nothing the resource type defines (an unknown schema URN, attribute
    /// or sub-attribute): the caller decides whether that is an error.
    Unknown,
}

/// An attribute a path designates, with what the path adds to it.
pub(super) struct Target<'a> {
    pub(super) path: &'a PatchPath,
    pub(super) slot: usize,
    pub(super) attr: &'a Attribute,
    /// `name.sub`, or `attr[filter].sub`.
    pub(super) sub: Option<&'a Attribute>,
    pub(super) filter: Option<&'a Filter>,
    /// Microsoft Entra ID sends the Enterprise `manager` as a bare id, and ""
    /// to clear it.
    pub(super) manager: bool,
    pub(super) bad: Bad,
}

impl Target<'_> {
    pub(super) fn read_only(&self) -> bool {
        self.attr.mutability == Mutability::ReadOnly
            || self
                .sub
                .is_some_and(|s| s.mutability == Mutability::ReadOnly)
    }
}

/// The one resolver: slot (core or extension), attribute, sub-attribute and
/// value filter, all case-insensitive. An unqualified name that is not a
/// core attribute resolves to the one extension that defines it
/// (`manager[value eq "id"]`, as Entra and Okta docs write it; a tenant's
/// `costCenter`); one that two extensions define is 400 `invalidPath`
/// naming both.
pub(super) fn resolve<'a>(
    rt: &'a ResourceType,
    path: &'a PatchPath,
    bad: Bad,
) -> Result<Resolved<'a>, ScimError> {
    if path.attr.name.is_empty() {
        return Ok(
            match path.attr.urn.as_deref().and_then(|u| rt.schema_index(u)) {
                Some(slot) => Resolved::Schema(slot),
                None => Resolved::Unknown,
            },
        );
    }
    let name = &path.attr.name;
    let (slot, attr) = match rt.locate(path.attr.urn.as_deref(), name) {
        Located::Found(slot, attr) => (slot, attr),
        Located::Unknown => return Ok(Resolved::Unknown),
        Located::Ambiguous(urns) => return Err(ScimError::invalid_path(ambiguous(name, &urns))),
    };
    let sub = match path.attr.sub.as_ref().or(path.sub_after_filter.as_ref()) {
        Some(s) => match find_sub(attr, s) {
            Some(sub) => Some(sub),
            None => return Ok(Resolved::Unknown),
        },
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
        .is_some_and(|s| dialect::is_enterprise_manager(&s.id, attr));
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

/// The attributes of a filter made only of `eq` comparisons joined by `and`
/// (`type eq "work"`), from which a missing element can be created.
pub(super) fn eq_pairs(attr: &Attribute, f: &Filter) -> Option<Vec<(String, Value)>> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::proto::error::ScimType;
    use crate::proto::fixtures::extension;
    use crate::proto::patch::fixtures::*;
    use crate::proto::schema::{user_resource_type, Attribute};
    use serde_json::json;

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
        let twin = |urn: &str| extension(urn, "T", vec![Attribute::string("department")]);
        let rt2 = user_resource_type(vec![twin("urn:example:a:1.0")]);
        fails(
            &rt2,
            &bjensen(),
            json!([{"op": "add", "path": "department", "value": "D"}]),
            ScimType::InvalidPath,
        );
    }
}
