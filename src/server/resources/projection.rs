//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): what a
//! request asks to be returned, value filters included
//! (`phoneNumbers[type eq "mobile"].value`).

use serde_json::Value;

use crate::proto::error::ScimResult;
use crate::proto::project::{parse_selection, project_selected, Selection};
use crate::proto::schema::ResourceType;

/// The `attributes` and `excludedAttributes` parameters of a request.
pub(crate) type ProjectionParams<'a> = (Option<&'a str>, Option<&'a str>);

/// The `attributes` and `excludedAttributes` of a request.
pub(crate) struct Projection {
    pub attributes: Vec<Selection>,
    pub excluded: Vec<Selection>,
}

impl Projection {
    pub(crate) fn of(
        attributes: Option<&str>,
        excluded: Option<&str>,
        rt: &ResourceType,
    ) -> ScimResult<Projection> {
        let list = |v: Option<&str>| v.map_or(Ok(Vec::new()), |v| parse_selection(v, rt));
        Ok(Projection {
            attributes: list(attributes)?,
            excluded: list(excluded)?,
        })
    }

    /// Whether the output can include the core attribute `name`, so that
    /// costly computed attributes (`groups`, `members`) are read only when
    /// they will be returned: it is excluded only by an entry that names it
    /// whole (no sub-attribute, no value filter).
    pub(crate) fn wants(&self, name: &str) -> bool {
        let names = |s: &Selection| s.path.urn.is_none() && s.path.name.eq_ignore_ascii_case(name);
        if self.attributes.is_empty() {
            !self
                .excluded
                .iter()
                .any(|s| names(s) && s.path.sub.is_none() && s.filter.is_none())
        } else {
            self.attributes.iter().any(names)
        }
    }

    /// Whether the request asked for any projection at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    pub(crate) fn apply(&self, rt: &ResourceType, full: Value) -> Value {
        project_selected(rt, full, &self.attributes, &self.excluded)
    }
}
