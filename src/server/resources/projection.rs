//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): what a
//! request asks to be returned.

use serde_json::Value;

use crate::proto::attr::AttrPath;
use crate::proto::error::ScimResult;
use crate::proto::project::project;
use crate::proto::schema::{parse_attr_list, ResourceType};

/// The `attributes` and `excludedAttributes` parameters of a request.
pub(crate) type ProjectionParams<'a> = (Option<&'a str>, Option<&'a str>);

/// The `attributes` and `excludedAttributes` of a request.
pub(crate) struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    pub(crate) fn of(
        attributes: Option<&str>,
        excluded: Option<&str>,
        rt: &ResourceType,
    ) -> ScimResult<Projection> {
        let list = |v: Option<&str>| v.map_or(Ok(Vec::new()), |v| parse_attr_list(v, rt));
        Ok(Projection {
            attributes: list(attributes)?,
            excluded: list(excluded)?,
        })
    }

    /// Whether the output can include the core attribute `name`, so that
    /// costly computed attributes (`groups`, `members`) are read only when
    /// they will be returned.
    pub(crate) fn wants(&self, name: &str) -> bool {
        let named = |l: &[AttrPath]| {
            l.iter()
                .any(|p| p.urn.is_none() && p.name.eq_ignore_ascii_case(name))
        };
        if self.attributes.is_empty() {
            !named(&self.excluded)
        } else {
            named(&self.attributes)
        }
    }

    /// Whether the request asked for any projection at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    pub(crate) fn apply(&self, rt: &ResourceType, full: Value) -> Value {
        project(rt, full, &self.attributes, &self.excluded)
    }
}
