//! SCIM schemas as data (RFC 7643 §2, §7, §8.7.1) and resource types (§6).
//!
//! Schemas are plain owned values: the core User, Group and Enterprise User
//! schemas are built here, and tenants may add their own extension schemas at
//! runtime. Validation, projection and path resolution walk these values; no
//! code elsewhere should special-case individual attributes.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::proto::attr::{is_attr_name, split_urn, AttrPath};
use crate::proto::error::ScimError;
use crate::proto::filter::Filter;
use crate::proto::json::get_ci;

/// The core User schema (RFC 7643 §4.1).
pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema (RFC 7643 §4.2).
pub(crate) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension (RFC 7643 §4.3).
pub(crate) const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Microsoft Entra ID sends this in a Group's `schemas`; it is tolerated as an
/// alias of the core Group schema (and nothing else).
pub(crate) const MS_LEGACY_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
/// SCIM 1.1's core schema URN, and the `2.0` form OneLogin sends (see
/// `ResourceType::aliases`).
const SCIM1_CORE: [&str; 2] = ["urn:scim:schemas:core:1.0", "urn:scim:schemas:core:2.0"];
/// SCIM 1.1's enterprise extension URN, and its `2.0` form.
const SCIM1_ENTERPRISE: [&str; 2] = [
    "urn:scim:schemas:extension:enterprise:1.0",
    "urn:scim:schemas:extension:enterprise:2.0",
];
/// The schema of a `/Schemas` entry (RFC 7643 §7).
pub(crate) const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// The schema of a `/ResourceTypes` entry (RFC 7643 §6).
pub(crate) const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The schema of `/ServiceProviderConfig` (RFC 7643 §5).
pub(crate) const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// Attribute data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }

    /// Parses the RFC 7643 §7 spelling (case-insensitively).
    #[cfg(test)]
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            AttrType::String,
            AttrType::Boolean,
            AttrType::Decimal,
            AttrType::Integer,
            AttrType::DateTime,
            AttrType::Binary,
            AttrType::Reference,
            AttrType::Complex,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

/// `mutability` (RFC 7643 §2.2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }

    #[cfg(test)]
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            Mutability::ReadOnly,
            Mutability::ReadWrite,
            Mutability::Immutable,
            Mutability::WriteOnly,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// `returned` (RFC 7643 §2.2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }

    #[cfg(test)]
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            Returned::Always,
            Returned::Never,
            Returned::Default,
            Returned::Request,
        ]
        .into_iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

/// `uniqueness` (RFC 7643 §2.2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    /// RFC 7643 §2.2 defines it; no schema this server serves uses it.
    #[allow(dead_code)]
    Global,
}

impl Uniqueness {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }

    #[cfg(test)]
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [Uniqueness::None, Uniqueness::Server, Uniqueness::Global]
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(s))
    }
}

/// An attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub attr_type: AttrType,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: Vec<String>,
    /// When true, values must be one of `canonical_values` (case-sensitive).
    /// Only for tenant-defined dropdowns; the core canonical values are
    /// advisory (RFC 7643 §2.2 "MAY").
    pub enforce_canonical: bool,
    pub reference_types: Vec<String>,
    pub sub_attributes: Vec<Attribute>,
}

/// Builders. Defaults are those of RFC 7643 §2.2: single-valued, optional,
/// caseExact false, readWrite, returned default, uniqueness none.
impl Attribute {
    pub(crate) fn new(name: &str, attr_type: AttrType) -> Attribute {
        Attribute {
            name: name.to_string(),
            attr_type,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            enforce_canonical: false,
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }
    pub(crate) fn string(name: &str) -> Attribute {
        Attribute::new(name, AttrType::String)
    }
    pub(crate) fn boolean(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Boolean)
    }
    pub(crate) fn decimal(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Decimal)
    }
    pub(crate) fn integer(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Integer)
    }
    pub(crate) fn date_time(name: &str) -> Attribute {
        Attribute::new(name, AttrType::DateTime)
    }
    pub(crate) fn binary(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Binary)
    }
    pub(crate) fn reference(name: &str, reference_types: &[&str]) -> Attribute {
        let mut a = Attribute::new(name, AttrType::Reference);
        a.reference_types = reference_types.iter().map(|s| s.to_string()).collect();
        a
    }
    pub(crate) fn complex(name: &str, sub_attributes: Vec<Attribute>) -> Attribute {
        let mut a = Attribute::new(name, AttrType::Complex);
        a.sub_attributes = sub_attributes;
        a
    }

    pub(crate) fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(crate) fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub(crate) fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub(crate) fn read_only(self) -> Self {
        self.mutability(Mutability::ReadOnly)
    }
    pub(crate) fn immutable(self) -> Self {
        self.mutability(Mutability::Immutable)
    }
    pub(crate) fn write_only(self) -> Self {
        self.mutability(Mutability::WriteOnly)
    }
    pub(crate) fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub(crate) fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    pub(crate) fn desc(mut self, d: &str) -> Self {
        self.description = d.to_string();
        self
    }
    pub(crate) fn canonical(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Makes `canonical_values` binding (tenant dropdowns).
    pub(crate) fn enforced(mut self) -> Self {
        self.enforce_canonical = true;
        self
    }

    /// The sub-attribute `name`, case-insensitively (RFC 7643 §2.1).
    #[cfg(test)]
    pub(crate) fn sub(&self, name: &str) -> Option<&Attribute> {
        find_sub(self, name)
    }

    /// Whether the value filter `f` selects the element `e` of this
    /// multi-valued (or complex) attribute (RFC 7644 §3.5.2 `valuePath`,
    /// §3.4.2.5), strings compared as each sub-attribute's `caseExact` says.
    pub(crate) fn element_matches(&self, f: &Filter, e: &Value) -> bool {
        let ce = |p: &AttrPath| find_sub(self, &p.name).map_or(self.case_exact, |s| s.case_exact);
        match e {
            Value::Object(_) => f.matches(e, &ce),
            // A simple multi-valued attribute: its values are `value`.
            other => {
                let wrapped = Value::Object(Map::from_iter([("value".to_string(), other.clone())]));
                f.matches(&wrapped, &ce)
            }
        }
    }

    /// The RFC 7643 §7 representation of this attribute definition.
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert("type".into(), Value::String(self.attr_type.as_str().into()));
        m.insert("multiValued".into(), Value::Bool(self.multi_valued));
        m.insert(
            "description".into(),
            Value::String(self.description.clone()),
        );
        m.insert("required".into(), Value::Bool(self.required));
        m.insert("caseExact".into(), Value::Bool(self.case_exact));
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        m.insert(
            "mutability".into(),
            Value::String(self.mutability.as_str().into()),
        );
        m.insert(
            "returned".into(),
            Value::String(self.returned.as_str().into()),
        );
        m.insert(
            "uniqueness".into(),
            Value::String(self.uniqueness.as_str().into()),
        );
        if !self.reference_types.is_empty() {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if self.attr_type == AttrType::Complex {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Attribute::to_json).collect();
            m.insert("subAttributes".into(), Value::Array(subs));
        }
        Value::Object(m)
    }
}

/// The sub-attribute `name` of `attr`, case-insensitively (RFC 7643 §2.1).
pub(crate) fn find_sub<'a>(attr: &'a Attribute, name: &str) -> Option<&'a Attribute> {
    attr.sub_attributes
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// A schema (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub(crate) fn new(
        id: &str,
        name: &str,
        description: &str,
        attributes: Vec<Attribute>,
    ) -> Schema {
        Schema {
            id: id.to_string(),
            name: name.to_string(),
            description: description.to_string(),
            attributes,
        }
    }

    /// The top-level attribute `name` of this schema, case-insensitively.
    /// Common attributes are not part of a schema; see `ResourceType::find`.
    pub(crate) fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The `/Schemas/{id}` representation (RFC 7643 §7, §8.7.1).
    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        let attrs: Vec<Value> = self.attributes.iter().map(Attribute::to_json).collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attrs,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), self.id),
            },
        })
    }
}

/// A schema extension of a resource type (RFC 7643 §6 "schemaExtensions").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaExtension {
    pub schema: Schema,
    pub required: bool,
}

/// Where a member of a resource's JSON belongs (RFC 7643 §3: core attributes
/// at the top level, an extension's in an object under its URN; RFC 7644
/// §3.10: a URN-qualified name at the top level names an attribute of that
/// schema). See `ResourceType::member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member<'k> {
    /// `schemas` (in any case).
    Schemas,
    /// A bare schema URN: the object holding the attributes of that slot.
    Schema(usize),
    /// A URN-qualified attribute name: the slot, and the name after the URN.
    Qualified(usize, &'k str),
    /// A plain name: an attribute of the core slot.
    Plain,
}

/// Where an attribute name lives (see `ResourceType::locate`).
pub(crate) enum Located<'a> {
    /// In the schema of this slot.
    Found(usize, &'a Attribute),
    /// Nowhere.
    Unknown,
    /// In each of these extensions: the name must be qualified.
    Ambiguous(Vec<&'a str>),
}

/// The detail of an error about a name that several extensions define.
pub(crate) fn ambiguous(name: &str, urns: &[&str]) -> String {
    format!(
        "'{name}' is defined by more than one extension ({}); qualify it with its schema URN, e.g. '{}:{name}'.",
        urns.join(" and "),
        urns.first().copied().unwrap_or_default()
    )
}

/// A resource type (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// e.g. "User"
    pub id: String,
    /// e.g. "User"
    pub name: String,
    /// e.g. "/Users"
    pub endpoint: String,
    pub description: String,
    pub schema: Schema,
    pub extensions: Vec<SchemaExtension>,
}

impl ResourceType {
    /// Core schema first, then the extensions in declaration order. Indexes
    /// into this list are used as "slots" by `resolve_urn_index`.
    pub(crate) fn schemas(&self) -> Vec<&Schema> {
        std::iter::once(&self.schema)
            .chain(self.extensions.iter().map(|e| &e.schema))
            .collect()
    }

    /// The URNs of the core schema and every extension (not the MS alias).
    pub fn all_schema_urns(&self) -> Vec<&str> {
        self.schemas().into_iter().map(|s| s.id.as_str()).collect()
    }

    /// Whether `urn` names the core schema (case-insensitively).
    pub(crate) fn is_core_urn(&self, urn: &str) -> bool {
        self.schema.id.eq_ignore_ascii_case(urn)
            || self
                .aliases()
                .any(|(slot, alias)| slot == 0 && alias.eq_ignore_ascii_case(urn))
    }

    /// URNs other than RFC 7643's that clients use for its schemas, with the
    /// slot each names: SCIM 1.1's core and enterprise URNs (OneLogin's
    /// templates send `urn:scim:schemas:core:1.0` and
    /// `urn:scim:schemas:extension:enterprise:1.0`, its SCIM 2 traffic the
    /// same with `2.0`), and for Groups Microsoft Entra ID's legacy ADSCIM
    /// Group URN.
    pub(crate) fn aliases(&self) -> impl Iterator<Item = (usize, &'static str)> + '_ {
        let group = (self.schema.id == GROUP_SCHEMA).then_some((0, MS_LEGACY_GROUP_SCHEMA));
        let enterprise = self
            .extensions
            .iter()
            .position(|e| e.schema.id == ENTERPRISE_USER_SCHEMA)
            .map(|i| i + 1);
        SCIM1_CORE.iter().map(|u| (0, *u)).chain(group).chain(
            enterprise
                .into_iter()
                .flat_map(|slot| SCIM1_ENTERPRISE.iter().map(move |u| (slot, *u))),
        )
    }

    /// Whether `urn` is one of [`Self::aliases`].
    pub(crate) fn is_alias(&self, urn: &str) -> bool {
        self.aliases().any(|(_, a)| a.eq_ignore_ascii_case(urn))
    }

    /// Slot of the schema named `urn`: 0 for core (or its alias), i+1 for
    /// `extensions[i]`.
    pub(crate) fn schema_index(&self, urn: &str) -> Option<usize> {
        if self.is_core_urn(urn) {
            return Some(0);
        }
        self.extensions
            .iter()
            .position(|e| e.schema.id.eq_ignore_ascii_case(urn))
            .map(|i| i + 1)
            .or_else(|| {
                self.aliases()
                    .find(|(_, a)| a.eq_ignore_ascii_case(urn))
                    .map(|(slot, _)| slot)
            })
    }

    /// The schema in slot `i` (see `schemas`).
    pub(crate) fn schema_at(&self, i: usize) -> Option<&Schema> {
        match i {
            0 => Some(&self.schema),
            n => self.extensions.get(n - 1).map(|e| &e.schema),
        }
    }

    /// Splits a URN-qualified name (`urn:...:User:userName`, or a bare schema
    /// URN) by the longest known schema URN that prefixes it, followed by `:`
    /// or the end. Returns the slot and the remainder ("" for a bare URN).
    pub(crate) fn resolve_urn_index<'a>(&self, s: &'a str) -> Option<(usize, &'a str)> {
        let extensions = self.extensions.iter().enumerate();
        let urns = std::iter::once((0, self.schema.id.as_str()))
            .chain(extensions.map(|(i, e)| (i + 1, e.schema.id.as_str())))
            .chain(self.aliases().map(|(slot, urn)| (slot, urn as &str)));
        split_urn(s, urns)
    }

    /// Like `resolve_urn_index`, returning the schema itself.
    #[cfg(test)]
    pub(crate) fn resolve_urn<'a>(&self, s: &'a str) -> Option<(&Schema, &'a str)> {
        let (slot, rest) = self.resolve_urn_index(s)?;
        self.schema_at(slot).map(|sc| (sc, rest))
    }

    /// The top-level attributes of the schema in `slot`; the core slot starts
    /// with the common attributes (RFC 7643 §3.1).
    pub(crate) fn attributes_in(&self, slot: usize) -> Vec<&Attribute> {
        let Some(schema) = self.schema_at(slot) else {
            return Vec::new();
        };
        let common_attrs: &[Attribute] = if slot == 0 { common() } else { &[] };
        common_attrs
            .iter()
            .chain(schema.attributes.iter())
            .collect()
    }

    /// The top-level attribute `name` of the schema in `slot`; the core slot
    /// also holds the common attributes (RFC 7643 §3.1).
    pub(crate) fn attribute_in(&self, slot: usize, name: &str) -> Option<&Attribute> {
        let schema = self.schema_at(slot)?;
        schema.attribute(name).or_else(|| {
            if slot == 0 {
                common().iter().find(|a| a.name.eq_ignore_ascii_case(name))
            } else {
                None
            }
        })
    }

    /// Where the attribute `name` lives (RFC 7643 §2.1, case-insensitive):
    /// in the schema `urn` names, or, for an unqualified name, in the core
    /// schema (common attributes included) first, then in the one extension
    /// that defines it (clients write `employeeNumber` or a tenant's
    /// `costCenter` without their URN).
    pub(crate) fn locate(&self, urn: Option<&str>, name: &str) -> Located<'_> {
        if let Some(urn) = urn {
            return match self
                .schema_index(urn)
                .and_then(|slot| Some((slot, self.attribute_in(slot, name)?)))
            {
                Some((slot, attr)) => Located::Found(slot, attr),
                None => Located::Unknown,
            };
        }
        if let Some(attr) = self.attribute_in(0, name) {
            return Located::Found(0, attr);
        }
        let found: Vec<(usize, &Attribute)> = (1..=self.extensions.len())
            .filter_map(|slot| Some((slot, self.attribute_in(slot, name)?)))
            .collect();
        match found.as_slice() {
            [] => Located::Unknown,
            [(slot, attr)] => Located::Found(*slot, attr),
            more => Located::Ambiguous(
                more.iter()
                    .filter_map(|(slot, _)| Some(self.schema_at(*slot)?.id.as_str()))
                    .collect(),
            ),
        }
    }

    /// Qualifies an unqualified path that names an extension's attribute
    /// with that extension's URN (see [`Self::locate`]); other paths are
    /// left as they are. A name two extensions define is an error naming
    /// both, built by `bad` (`invalidFilter` for a filter, else
    /// `invalidPath`).
    pub(crate) fn qualify(
        &self,
        path: &mut AttrPath,
        bad: fn(String) -> ScimError,
    ) -> Result<(), ScimError> {
        if path.urn.is_some() || path.name.is_empty() {
            return Ok(());
        }
        match self.locate(None, &path.name) {
            Located::Found(slot, _) if slot > 0 => {
                path.urn = self.schema_at(slot).map(|s| s.id.clone());
                Ok(())
            }
            Located::Ambiguous(urns) => Err(bad(ambiguous(&path.name, &urns))),
            _ => Ok(()),
        }
    }

    /// Resolves an attribute path case-insensitively (RFC 7643 §2.1). An
    /// unqualified name is a core or common attribute; a URN selects the core
    /// schema or an extension. With `sub`, the sub-attribute is returned.
    /// A path naming a whole schema (`name` empty) has no attribute: `None`.
    pub fn find(&self, path: &AttrPath) -> Option<(&Schema, &Attribute)> {
        let slot = match &path.urn {
            None => 0,
            Some(urn) => self.schema_index(urn)?,
        };
        let schema = self.schema_at(slot)?;
        let attr = self.attribute_in(slot, &path.name)?;
        match &path.sub {
            None => Some((schema, attr)),
            Some(sub) => find_sub(attr, sub).map(|s| (schema, s)),
        }
    }

    /// Where the member `key` of a resource's JSON belongs (see `Member`).
    pub(crate) fn member<'k>(&self, key: &'k str) -> Member<'k> {
        if key.eq_ignore_ascii_case("schemas") {
            return Member::Schemas;
        }
        // A schema id is a URI (RFC 7643 §7): only a name with a colon can
        // start with one.
        let qualified = key.contains(':').then(|| self.resolve_urn_index(key));
        match qualified.flatten() {
            Some((slot, "")) => Member::Schema(slot),
            Some((slot, rest)) => Member::Qualified(slot, rest),
            None => Member::Plain,
        }
    }

    /// The object holding the attributes of `slot` in a resource's JSON
    /// (RFC 7643 §3): the top level for the core schema, else the member
    /// named by the extension's URN (matched case-insensitively).
    pub(crate) fn slot_object<'v>(
        &self,
        doc: &'v Value,
        slot: usize,
    ) -> Option<&'v Map<String, Value>> {
        let top = doc.as_object()?;
        if slot == 0 {
            return Some(top);
        }
        get_ci(top, &self.schema_at(slot)?.id)?.as_object()
    }

    /// A resource's JSON from the attributes of each slot (RFC 7643 §3):
    /// `schemas` first (the core URN, then each extension that holds data),
    /// the core attributes, then each non-empty extension under its URN.
    pub(crate) fn assemble(&self, slots: Vec<Map<String, Value>>) -> Value {
        let mut urns = vec![Value::String(self.schema.id.clone())];
        for (slot, m) in slots.iter().enumerate().skip(1) {
            if let (false, Some(s)) = (m.is_empty(), self.schema_at(slot)) {
                urns.push(Value::String(s.id.clone()));
            }
        }
        let mut out = Map::new();
        out.insert("schemas".into(), Value::Array(urns));
        for (slot, m) in slots.into_iter().enumerate() {
            if slot == 0 {
                out.extend(m);
            } else if let (false, Some(s)) = (m.is_empty(), self.schema_at(slot)) {
                out.insert(s.id.clone(), Value::Object(m));
            }
        }
        Value::Object(out)
    }

    /// The `/ResourceTypes/{id}` representation (RFC 7643 §6).
    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        let mut m = Map::new();
        m.insert("schemas".into(), json!([RESOURCE_TYPE_SCHEMA]));
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert("endpoint".into(), Value::String(self.endpoint.clone()));
        m.insert(
            "description".into(),
            Value::String(self.description.clone()),
        );
        m.insert("schema".into(), Value::String(self.schema.id.clone()));
        if !self.extensions.is_empty() {
            let exts: Vec<Value> = self
                .extensions
                .iter()
                .map(|e| json!({"schema": e.schema.id, "required": e.required}))
                .collect();
            m.insert("schemaExtensions".into(), Value::Array(exts));
        }
        m.insert(
            "meta".into(),
            json!({
                "resourceType": "ResourceType",
                "location": format!("{}/ResourceTypes/{}", base_url.trim_end_matches('/'), self.id),
            }),
        );
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------

fn common() -> &'static [Attribute] {
    static COMMON: OnceLock<Vec<Attribute>> = OnceLock::new();
    COMMON.get_or_init(build_common_attributes)
}

/// The common attributes of every resource (RFC 7643 §3.1): `id`,
/// `externalId`, `meta`. They are not listed in the `/Schemas` entries
/// (as in RFC 7643 §8.7.1) but `ResourceType::find` treats them as part of
/// every resource's core schema.
#[cfg(test)]
pub(crate) fn common_attributes() -> Vec<Attribute> {
    common().to_vec()
}

fn build_common_attributes() -> Vec<Attribute> {
    use AttrType::{DateTime, String as Str};
    let meta_sub = |name: &str, t: AttrType, d: &str| Attribute::new(name, t).read_only().desc(d);
    vec![
        Attribute::string("id")
            .required()
            .case_exact()
            .read_only()
            .returned(Returned::Always)
            .unique(Uniqueness::Server)
            .desc("A unique identifier for a SCIM resource as defined by the service provider."),
        Attribute::string("externalId")
            .case_exact()
            .desc("A String that is an identifier for the resource as defined by the provisioning client."),
        Attribute::complex(
            "meta",
            vec![
                meta_sub("resourceType", Str, "The name of the resource type of the resource.")
                    .case_exact(),
                meta_sub("created", DateTime, "The DateTime that the resource was added to the service provider."),
                meta_sub("lastModified", DateTime, "The most recent DateTime that the details of this resource were updated at the service provider."),
                Attribute::reference("location", &["uri"])
                    .case_exact()
                    .read_only()
                    .desc("The URI of the resource being returned."),
                meta_sub("version", Str, "The version of the resource being returned.").case_exact(),
            ],
        )
        .read_only()
        .desc("A complex attribute containing resource metadata."),
    ]
}

/// A multi-valued complex attribute with the usual `value`, `display`, `type`
/// and `primary` sub-attributes (RFC 7643 §2.4).
fn multi_complex(name: &str, description: &str, value: Attribute, types: &[&str]) -> Attribute {
    Attribute::complex(
        name,
        vec![
            value,
            Attribute::string("display").desc("A human-readable name, primarily used for display purposes."),
            Attribute::string("type")
                .canonical(types)
                .desc("A label indicating the attribute's function."),
            Attribute::boolean("primary").desc(
                "A Boolean value indicating the 'primary' or preferred attribute value for this attribute. \
                 The primary attribute value 'true' MUST appear no more than once.",
            ),
        ],
    )
    .multi()
    .desc(description)
}

/// The core User schema (RFC 7643 §4.1, characteristics of §8.7.1).
pub(crate) fn user_schema() -> Schema {
    let s = |name: &str, d: &str| Attribute::string(name).desc(d);
    let name_attr = Attribute::complex(
        "name",
        vec![
            s("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
            s("familyName", "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."),
            s("givenName", "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."),
            s("middleName", "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
            s("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III')."),
            s("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III')."),
        ],
    )
    .desc("The components of the user's real name.");

    let addresses = Attribute::complex(
        "addresses",
        vec![
            s("formatted", "The full mailing address, formatted for display or use with a mailing label."),
            s("streetAddress", "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information."),
            s("locality", "The city or locality component."),
            s("region", "The state or region component."),
            s("postalCode", "The zip code or postal code component."),
            s("country", "The country name component."),
            s("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.")
                .canonical(&["work", "home", "other"]),
            // §4.1.2 lists `primary` for addresses (§8.7.1 omits it); Okta and
            // Entra send it.
            Attribute::boolean("primary").desc("A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address or primary email address."),
        ],
    )
    .multi()
    .desc("A physical mailing address for this User.");

    let groups = Attribute::complex(
        "groups",
        vec![
            s("value", "The identifier of the User's group.").read_only(),
            Attribute::reference("$ref", &["User", "Group"])
                .read_only()
                .desc("The URI of the corresponding 'Group' resource to which the user belongs."),
            s("display", "A human-readable name, primarily used for display purposes.").read_only(),
            s("type", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.")
                .canonical(&["direct", "indirect"])
                .read_only(),
        ],
    )
    .multi()
    .read_only()
    .desc("A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.");

    Schema::new(
        USER_SCHEMA,
        "User",
        "User Account",
        vec![
            s("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.")
                .required()
                .unique(Uniqueness::Server),
            name_attr,
            s("displayName", "The name of the User, suitable for display to end-users. The name SHOULD be the full name of the User being described, if known."),
            s("nickName", "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'."),
            Attribute::reference("profileUrl", &["external"])
                .desc("A fully qualified URL pointing to a page representing the User's online profile."),
            s("title", "The user's title, such as \"Vice President.\""),
            s("userType", "Used to identify the relationship between the organization and the user. Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used."),
            s("preferredLanguage", "Indicates the User's preferred written or spoken language. Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US."),
            s("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
            s("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
            Attribute::boolean("active").desc("A Boolean value indicating the User's administrative status."),
            s("password", "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.")
                .write_only()
                .returned(Returned::Never),
            multi_complex(
                "emails",
                "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
                s("value", "Email addresses for the user."),
                &["work", "home", "other"],
            ),
            multi_complex(
                "phoneNumbers",
                "Phone numbers for the User. The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
                s("value", "Phone number of the User."),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_complex(
                "ims",
                "Instant messaging addresses for the User.",
                s("value", "Instant messaging address for the User."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_complex(
                "photos",
                "URLs of photos of the User.",
                Attribute::reference("value", &["external"]).desc("URL of a photo of the User."),
                &["photo", "thumbnail"],
            ),
            addresses,
            groups,
            multi_complex(
                "entitlements",
                "A list of entitlements for the User that represent a thing the User has.",
                s("value", "The value of an entitlement."),
                &[],
            ),
            multi_complex(
                "roles",
                "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
                s("value", "The value of a role."),
                &[],
            ),
            multi_complex(
                "x509Certificates",
                "A list of certificates issued to the User.",
                Attribute::binary("value").desc("The value of an X.509 certificate."),
                &[],
            ),
        ],
    )
}

/// The core Group schema (RFC 7643 §4.2, characteristics of §8.7.1).
pub(crate) fn group_schema() -> Schema {
    Schema::new(
        GROUP_SCHEMA,
        "Group",
        "Group",
        vec![
            // §4.2 says REQUIRED (§8.7.1 says false); this product also
            // enforces unique group names.
            Attribute::string("displayName")
                .required()
                .unique(Uniqueness::Server)
                .desc("A human-readable name for the Group. REQUIRED."),
            Attribute::complex(
                "members",
                vec![
                    Attribute::string("value")
                        .immutable()
                        .desc("Identifier of the member of this Group."),
                    Attribute::reference("$ref", &["User", "Group"])
                        .immutable()
                        .desc("The URI corresponding to a SCIM resource that is a member of this Group."),
                    Attribute::string("type")
                        .immutable()
                        .canonical(&["User", "Group"])
                        .desc("A label indicating the type of resource, e.g., 'User' or 'Group'."),
                    // Computed from the member's current name, so returned on
                    // request only: a group reads back exactly as written.
                    Attribute::string("display")
                        .read_only()
                        .returned(Returned::Request)
                        .desc("A human-readable name, primarily used for display purposes."),
                ],
            )
            .multi()
            .desc("A list of members of the Group."),
        ],
    )
}

/// The Enterprise User extension (RFC 7643 §4.3, characteristics of §8.7.1).
pub(crate) fn enterprise_user_schema() -> Schema {
    let s = |name: &str, d: &str| Attribute::string(name).desc(d);
    Schema::new(
        ENTERPRISE_USER_SCHEMA,
        "EnterpriseUser",
        "Enterprise User",
        vec![
            s("employeeNumber", "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
            s("costCenter", "Identifies the name of a cost center."),
            s("organization", "Identifies the name of an organization."),
            s("division", "Identifies the name of a division."),
            s("department", "Identifies the name of a department."),
            Attribute::complex(
                "manager",
                vec![
                    s("value", "The id of the SCIM resource representing the User's manager."),
                    Attribute::reference("$ref", &["User"])
                        .desc("The URI of the SCIM resource representing the User's manager."),
                    s("displayName", "The displayName of the User's manager.").read_only(),
                ],
            )
            .desc("The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User."),
        ],
    )
}

/// The User resource type: core User, the Enterprise extension (optional),
/// then any tenant extensions.
pub fn user_resource_type(extra_extensions: Vec<SchemaExtension>) -> ResourceType {
    let mut extensions = vec![SchemaExtension {
        schema: enterprise_user_schema(),
        required: false,
    }];
    extensions.extend(extra_extensions);
    ResourceType {
        id: "User".into(),
        name: "User".into(),
        endpoint: "/Users".into(),
        description: "User Account".into(),
        schema: user_schema(),
        extensions,
    }
}

/// The User type of core User and Enterprise User alone, built once. Every
/// tenant's User type extends it.
pub(crate) fn core_user_type() -> &'static ResourceType {
    static USER: OnceLock<ResourceType> = OnceLock::new();
    USER.get_or_init(|| user_resource_type(Vec::new()))
}

/// The Group type, built once.
pub(crate) fn core_group_type() -> &'static ResourceType {
    static GROUP: OnceLock<ResourceType> = OnceLock::new();
    GROUP.get_or_init(group_resource_type)
}

/// The Group resource type.
pub fn group_resource_type() -> ResourceType {
    ResourceType {
        id: "Group".into(),
        name: "Group".into(),
        endpoint: "/Groups".into(),
        description: "Group".into(),
        schema: group_schema(),
        extensions: Vec::new(),
    }
}

/// The names an `attributes` list may use: an ATTRNAME, or `$ref` spelled
/// exactly so (stricter than filters and PATCH paths, which take `$ref` in
/// any case; kept as it was).
fn is_list_name(s: &str) -> bool {
    s == "$ref" || is_attr_name(s)
}

/// Parses an `attributes` or `excludedAttributes` parameter (RFC 7644
/// §3.4.2.5, §3.10): comma-separated attribute paths, optionally
/// URN-qualified, or bare schema URNs. Names come back in their canonical
/// spelling; unknown attributes and schemas are ignored. Malformed paths are
/// rejected.
pub fn parse_attr_list(param: &str, rt: &ResourceType) -> Result<Vec<AttrPath>, ScimError> {
    let mut out = Vec::new();
    for raw in param.split(',') {
        out.extend(rt.attr_path(raw.trim())?);
    }
    Ok(out)
}

impl ResourceType {
    /// One entry of an `attributes` list (see [`parse_attr_list`]): `None`
    /// when it is empty or names nothing of this resource type. An
    /// unqualified name of an extension's attribute comes back qualified
    /// (see [`Self::locate`]).
    pub(crate) fn attr_path(&self, token: &str) -> Result<Option<AttrPath>, ScimError> {
        if token.is_empty() {
            return Ok(None);
        }
        let (slot, rest) = match self.resolve_urn_index(token) {
            Some(found) => found,
            // An unknown schema URN: ignored.
            None if token.contains(':') => return Ok(None),
            None => (0, token),
        };
        let qualified = rest.len() != token.len();
        if rest.is_empty() {
            return Ok(Some(AttrPath {
                urn: self.schema_at(slot).map(|s| s.id.clone()),
                name: String::new(),
                sub: None,
            }));
        }
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !is_list_name(name) || sub.is_some_and(|s| !is_list_name(s)) {
            return Err(ScimError::invalid_value(format!(
                "Invalid attribute path '{token}'."
            )));
        }
        let urn = qualified
            .then(|| self.schema_at(slot).map(|s| s.id.as_str()))
            .flatten();
        let (slot, attr) = match self.locate(urn, name) {
            Located::Found(slot, attr) => (slot, attr),
            Located::Unknown => return Ok(None),
            Located::Ambiguous(urns) => {
                return Err(ScimError::invalid_path(ambiguous(name, &urns)))
            }
        };
        let sub = match sub {
            None => None,
            Some(s) => match find_sub(attr, s) {
                Some(found) => Some(found.name.clone()),
                None => return Ok(None),
            },
        };
        // Spelled as the client did: qualified when it qualified the name or
        // the name is an extension's, bare for the core schema.
        let urn = (qualified || slot > 0)
            .then(|| self.schema_at(slot).map(|s| s.id.clone()))
            .flatten();
        Ok(Some(AttrPath {
            urn,
            name: attr.name.clone(),
            sub,
        }))
    }
}

#[cfg(test)]
// Tests may unwrap: a failure is a test failure, not a server panic.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::error::ScimType;
    use crate::proto::fixtures::{extension, path, path as p, users};

    fn attr_json<'a>(schema: &'a Value, name: &str) -> &'a Value {
        schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()
    }

    fn has_null(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(a) => a.iter().any(has_null),
            Value::Object(m) => m.values().any(has_null),
            _ => false,
        }
    }

    #[test]
    fn user_schema_characteristics_match_rfc7643_8_7_1() {
        // RFC 7643 §8.7.1: userName required, caseExact false, uniqueness server.
        let j = user_schema().to_json("https://example.com/scim/v2");
        let un = attr_json(&j, "userName");
        assert_eq!(un["required"], true);
        assert_eq!(un["caseExact"], false);
        assert_eq!(un["uniqueness"], "server");
        assert_eq!(un["type"], "string");
        // password: writeOnly, returned never.
        let pw = attr_json(&j, "password");
        assert_eq!(pw["mutability"], "writeOnly");
        assert_eq!(pw["returned"], "never");
        // groups: readOnly, multi-valued complex with readOnly sub-attributes.
        let g = attr_json(&j, "groups");
        assert_eq!(g["mutability"], "readOnly");
        assert_eq!(g["multiValued"], true);
        assert_eq!(g["type"], "complex");
        let subs: Vec<&str> = g["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(subs, ["value", "$ref", "display", "type"]);
        assert!(g["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["mutability"] == "readOnly"));
        // profileUrl: reference with referenceTypes external; active boolean.
        let pu = attr_json(&j, "profileUrl");
        assert_eq!(pu["type"], "reference");
        assert_eq!(pu["referenceTypes"], json!(["external"]));
        assert_eq!(attr_json(&j, "active")["type"], "boolean");
        // emails.type canonicalValues; no referenceTypes on plain strings.
        let emails = attr_json(&j, "emails");
        let ty = emails["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "type")
            .unwrap();
        assert_eq!(ty["canonicalValues"], json!(["work", "home", "other"]));
        assert!(ty.get("referenceTypes").is_none());
        assert!(un.get("subAttributes").is_none());
        assert_eq!(
            attr_json(&j, "x509Certificates")["subAttributes"][0]["type"],
            "binary"
        );
    }

    #[test]
    fn schema_json_shape_and_no_nulls() {
        // RFC 7643 §7: schemas, id, name, description, attributes, meta.
        for schema in [user_schema(), group_schema(), enterprise_user_schema()] {
            let j = schema.to_json("https://example.com/scim/v2/");
            assert!(!has_null(&j));
            assert_eq!(j["schemas"], json!([SCHEMA_SCHEMA]));
            assert_eq!(j["id"], schema.id.as_str());
            assert_eq!(j["meta"]["resourceType"], "Schema");
            assert_eq!(
                j["meta"]["location"],
                format!("https://example.com/scim/v2/Schemas/{}", schema.id)
            );
            // Common attributes are not listed (as in RFC 7643 §8.7.1).
            for common in ["id", "externalId", "meta"] {
                assert!(j["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|a| a["name"] != common));
            }
        }
    }

    #[test]
    fn user_schema_is_complete() {
        // RFC 7643 §4.1 attribute list.
        let names: Vec<String> = user_schema()
            .attributes
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates"
            ]
        );
        let ent: Vec<String> = enterprise_user_schema()
            .attributes
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(
            ent,
            [
                "employeeNumber",
                "costCenter",
                "organization",
                "division",
                "department",
                "manager"
            ]
        );
    }

    #[test]
    fn group_schema_members_characteristics() {
        // RFC 7643 §8.7.1 Group: members value/$ref/type immutable; display readOnly (§4.2).
        let j = group_schema().to_json("https://x");
        let dn = attr_json(&j, "displayName");
        assert_eq!(dn["required"], true);
        assert_eq!(dn["uniqueness"], "server");
        let m = attr_json(&j, "members");
        assert_eq!(m["multiValued"], true);
        let subs = m["subAttributes"].as_array().unwrap();
        let sub = |n: &str| subs.iter().find(|s| s["name"] == n).unwrap();
        assert_eq!(sub("value")["mutability"], "immutable");
        assert_eq!(sub("$ref")["mutability"], "immutable");
        assert_eq!(sub("$ref")["referenceTypes"], json!(["User", "Group"]));
        assert_eq!(sub("type")["canonicalValues"], json!(["User", "Group"]));
        assert_eq!(sub("display")["mutability"], "readOnly");
    }

    #[test]
    fn enterprise_manager_display_name_read_only() {
        // RFC 7643 §8.7.1 Enterprise User: manager.displayName readOnly.
        let s = enterprise_user_schema();
        let m = s.attribute("manager").unwrap();
        assert_eq!(m.attr_type, AttrType::Complex);
        assert_eq!(
            m.sub("displayname").unwrap().mutability,
            Mutability::ReadOnly
        );
        assert_eq!(m.sub("$ref").unwrap().reference_types, ["User"]);
    }

    #[test]
    fn common_attributes_rfc7643_3_1() {
        let c = common_attributes();
        let id = c.iter().find(|a| a.name == "id").unwrap();
        assert_eq!(id.returned, Returned::Always);
        assert_eq!(id.mutability, Mutability::ReadOnly);
        assert!(id.case_exact);
        assert_eq!(id.uniqueness, Uniqueness::Server);
        let ext = c.iter().find(|a| a.name == "externalId").unwrap();
        assert!(ext.case_exact);
        assert_eq!(ext.mutability, Mutability::ReadWrite);
        let meta = c.iter().find(|a| a.name == "meta").unwrap();
        assert_eq!(meta.mutability, Mutability::ReadOnly);
        assert_eq!(
            meta.sub("lastModified").unwrap().attr_type,
            AttrType::DateTime
        );
    }

    #[test]
    fn resource_type_json_rfc7643_6() {
        let rt = user_resource_type(vec![]);
        let j = rt.to_json("https://example.com/v2");
        assert!(!has_null(&j));
        assert_eq!(j["schemas"], json!([RESOURCE_TYPE_SCHEMA]));
        assert_eq!(j["id"], "User");
        assert_eq!(j["endpoint"], "/Users");
        assert_eq!(j["schema"], USER_SCHEMA);
        assert_eq!(
            j["schemaExtensions"],
            json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}])
        );
        assert_eq!(
            j["meta"]["location"],
            "https://example.com/v2/ResourceTypes/User"
        );
        let g = group_resource_type().to_json("https://example.com/v2");
        assert!(g.get("schemaExtensions").is_none());
        assert_eq!(g["endpoint"], "/Groups");
    }

    #[test]
    fn find_is_case_insensitive_and_knows_common_attributes() {
        // RFC 7643 §2.1: attribute names are case-insensitive.
        let rt = user_resource_type(vec![]);
        let (s, a) = rt.find(&path(None, "USERNAME", None)).unwrap();
        assert_eq!((s.id.as_str(), a.name.as_str()), (USER_SCHEMA, "userName"));
        let (_, a) = rt.find(&path(None, "name", Some("GIVENNAME"))).unwrap();
        assert_eq!(a.name, "givenName");
        let (s, a) = rt.find(&path(None, "meta", Some("lastmodified"))).unwrap();
        assert_eq!(
            (s.id.as_str(), a.name.as_str()),
            (USER_SCHEMA, "lastModified")
        );
        assert_eq!(rt.find(&path(None, "id", None)).unwrap().1.name, "id");
        let (s, a) = rt
            .find(&path(
                Some("URN:ietf:params:scim:schemas:extension:enterprise:2.0:user"),
                "manager",
                Some("value"),
            ))
            .unwrap();
        assert_eq!(
            (s.id.as_str(), a.name.as_str()),
            (ENTERPRISE_USER_SCHEMA, "value")
        );
        // Extension attributes need their URN; common ones don't live there.
        assert!(rt.find(&path(None, "department", None)).is_none());
        assert!(rt
            .find(&path(Some(ENTERPRISE_USER_SCHEMA), "id", None))
            .is_none());
        assert!(rt
            .find(&path(Some(USER_SCHEMA), "userName", None))
            .is_some());
        assert!(rt.find(&path(None, "nope", None)).is_none());
        assert!(rt.find(&path(None, "name", Some("nope"))).is_none());
        assert!(rt.find(&path(Some("urn:unknown"), "x", None)).is_none());
        assert!(find_sub(rt.schema.attribute("emails").unwrap(), "PRIMARY").is_some());
    }

    #[test]
    fn urn_resolution_longest_match_and_ms_alias() {
        let custom = extension(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:custom",
            "Custom",
            vec![Attribute::string("x")],
        );
        let rt = user_resource_type(vec![custom]);
        assert_eq!(
            rt.all_schema_urns(),
            [
                USER_SCHEMA,
                ENTERPRISE_USER_SCHEMA,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:custom"
            ]
        );
        let (s, rest) = rt
            .resolve_urn("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:custom:x")
            .unwrap();
        assert_eq!((s.name.as_str(), rest), ("Custom", "x"));
        let (s, rest) = rt
            .resolve_urn("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
            .unwrap();
        assert_eq!(
            (s.id.as_str(), rest),
            (ENTERPRISE_USER_SCHEMA, "department")
        );
        assert_eq!(rt.resolve_urn_index(ENTERPRISE_USER_SCHEMA), Some((1, "")));
        assert!(rt
            .resolve_urn("urn:ietf:params:scim:schemas:core:2.0:Users")
            .is_none());
        assert!(rt.resolve_urn("userName").is_none());
        // Entra's legacy Group URN is an alias of the core Group schema only.
        let g = group_resource_type();
        assert!(g.is_core_urn(MS_LEGACY_GROUP_SCHEMA));
        assert!(!rt.is_core_urn(MS_LEGACY_GROUP_SCHEMA));
        assert_eq!(g.resolve_urn_index(MS_LEGACY_GROUP_SCHEMA), Some((0, "")));
        assert_eq!(g.all_schema_urns(), [GROUP_SCHEMA]);
        // Multi-byte input never panics on slicing.
        assert!(rt.resolve_urn("ü").is_none());
    }

    #[test]
    fn members_of_a_resource_rfc7643_3_rfc7644_3_10() {
        let rt = user_resource_type(vec![]);
        assert_eq!(rt.member("Schemas"), Member::Schemas);
        assert_eq!(rt.member("userName"), Member::Plain);
        assert_eq!(rt.member("urn:x:y"), Member::Plain, "unknown URN");
        assert_eq!(rt.member(ENTERPRISE_USER_SCHEMA), Member::Schema(1));
        assert_eq!(
            rt.member(&format!("{ENTERPRISE_USER_SCHEMA}:manager")),
            Member::Qualified(1, "manager")
        );
        assert_eq!(
            rt.member(&format!("{USER_SCHEMA}:name.givenName")),
            Member::Qualified(0, "name.givenName")
        );
        let g = group_resource_type();
        assert_eq!(g.member(MS_LEGACY_GROUP_SCHEMA), Member::Schema(0));
    }

    #[test]
    fn slots_of_a_resource_rfc7643_3() {
        // Core attributes at the top level, an extension's under its URN.
        let rt = user_resource_type(vec![]);
        let doc = json!({"schemas": [USER_SCHEMA], "userName": "u",
                         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"department": "D"}});
        assert_eq!(rt.slot_object(&doc, 0), doc.as_object());
        assert_eq!(
            rt.slot_object(&doc, 1).and_then(|m| m.get("department")),
            Some(&json!("D"))
        );
        assert!(rt.slot_object(&json!("x"), 0).is_none());
        assert!(rt.slot_object(&doc, 2).is_none());
        // `schemas` lists the core URN and the extensions that hold data.
        let core = Map::from_iter([("userName".to_string(), json!("u"))]);
        let ent = Map::from_iter([("department".to_string(), json!("D"))]);
        assert_eq!(
            rt.assemble(vec![core.clone(), ent.clone()]),
            json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "userName": "u",
                   ENTERPRISE_USER_SCHEMA: {"department": "D"}})
        );
        assert_eq!(
            rt.assemble(vec![core, Map::new()]),
            json!({"schemas": [USER_SCHEMA], "userName": "u"})
        );
    }

    #[test]
    fn enum_parsing_round_trips() {
        assert_eq!(AttrType::parse("DATETIME"), Some(AttrType::DateTime));
        assert_eq!(Mutability::parse("writeOnly"), Some(Mutability::WriteOnly));
        assert_eq!(Returned::parse("request"), Some(Returned::Request));
        assert_eq!(Uniqueness::parse("global"), Some(Uniqueness::Global));
        assert_eq!(AttrType::parse("float"), None);
    }

    #[test]
    fn parse_attr_list_resolves_and_canonicalizes() {
        let rt = users();
        let got = parse_attr_list(
            " userName, name.GIVENNAME ,emails.value,meta.lastModified, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User ,\
             urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value,\
             urn:ietf:params:scim:schemas:core:2.0:User:displayName,,",
            &rt,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                p(None, "userName", None),
                p(None, "name", Some("givenName")),
                p(None, "emails", Some("value")),
                p(None, "meta", Some("lastModified")),
                p(Some(ENTERPRISE_USER_SCHEMA), "", None),
                p(Some(ENTERPRISE_USER_SCHEMA), "manager", Some("value")),
                p(Some(USER_SCHEMA), "displayName", None),
            ]
        );
        assert!(parse_attr_list("", &rt).unwrap().is_empty());
        assert!(parse_attr_list("  ,  ", &rt).unwrap().is_empty());
    }

    #[test]
    fn parse_attr_list_ignores_unknown_rejects_malformed() {
        let rt = users();
        let got = parse_attr_list("nope, name.nope, urn:x:y:z, userName", &rt).unwrap();
        assert_eq!(got, vec![p(None, "userName", None)]);
        // Issue 13: an extension's attribute without its URN is that
        // extension's, qualified.
        let got = parse_attr_list("department", &rt).unwrap();
        assert_eq!(
            got,
            vec![p(Some(ENTERPRISE_USER_SCHEMA), "department", None)]
        );
        for bad in [
            "name.",
            ".x",
            "a.b.c",
            "user name",
            "1abc",
            "emails[type eq \"work\"]",
        ] {
            let e = parse_attr_list(bad, &rt).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
        }
        // Group: the legacy Entra URN resolves to the core Group schema.
        let g = group_resource_type();
        let got = parse_attr_list(&format!("{MS_LEGACY_GROUP_SCHEMA}:displayName"), &g).unwrap();
        assert_eq!(got, vec![p(Some(GROUP_SCHEMA), "displayName", None)]);
    }
}
