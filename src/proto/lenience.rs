//! Leniency: how strictly a write is read, and a record of what was
//! accepted that RFC 7643 would have refused. Identity providers send
//! attributes a tenant never defined, misspellings, schema URNs of other
//! products and duplicate `primary` flags; an IdP that gets a 400 stops
//! provisioning that user. Such input is accepted, nothing of it is stored,
//! and each leniency is recorded so that the request's log line shows it.

/// What a write does with an attribute (or sub-attribute, or schema URN in
/// `schemas`) its resource type does not define: the tenant setting
/// `unknownAttributes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unknown {
    /// Ignore it: not stored, the request succeeds (the default).
    #[default]
    Ignore,
    /// Refuse the request (400 `invalidValue`), as RFC 7643 reads strictly.
    Reject,
}

/// How a write is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// What the schema does not define.
    pub unknown: Unknown,
    /// Whether the other leniencies apply (a second `primary` mark is
    /// dropped, `{}` for a simple attribute is unassigned) or their input
    /// is refused.
    pub lenient: bool,
}

impl Options {
    /// RFC 7643 read strictly: everything above is refused.
    #[cfg(any(test, feature = "test-utils"))]
    pub const STRICT: Options = Options {
        unknown: Unknown::Reject,
        lenient: false,
    };
    /// What the service does by default.
    pub const LENIENT: Options = Options {
        unknown: Unknown::Ignore,
        lenient: true,
    };
}

impl Default for Options {
    fn default() -> Self {
        Options::LENIENT
    }
}

/// One leniency applied to a request, named by what the client sent
/// (attribute names and URNs only: never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leniency {
    /// An attribute or sub-attribute the schema does not define, ignored.
    UnknownAttribute(String),
    /// A schema URN in `schemas` that the resource type does not have,
    /// ignored.
    UnknownSchema(String),
    /// A URN other than RFC 7643's for one of its schemas (SCIM 1.1's
    /// `urn:scim:schemas:core:1.0`, say), read as that schema.
    SchemaAlias(String),
    /// `""` for an attribute that cannot hold it (a boolean, number,
    /// dateTime, complex value or fixed set of values): unassigned.
    EmptyValue(String),
    /// More than one value of the attribute was marked primary (RFC 7643
    /// §2.4 allows one): the first kept the mark.
    ExtraPrimary(String),
}

impl Leniency {
    /// The kind of leniency, as the log names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Leniency::UnknownAttribute(_) => "unknownAttribute",
            Leniency::UnknownSchema(_) => "unknownSchema",
            Leniency::SchemaAlias(_) => "schemaAlias",
            Leniency::EmptyValue(_) => "emptyValue",
            Leniency::ExtraPrimary(_) => "extraPrimary",
        }
    }

    /// Whether it let through a name the schema does not define (what the
    /// tenant setting `unknownAttributes: reject` refuses).
    pub fn is_unknown(&self) -> bool {
        matches!(
            self,
            Leniency::UnknownAttribute(_) | Leniency::UnknownSchema(_)
        )
    }

    /// What it is about: an attribute path or a schema URN.
    pub fn subject(&self) -> &str {
        match self {
            Leniency::UnknownAttribute(s)
            | Leniency::UnknownSchema(s)
            | Leniency::SchemaAlias(s)
            | Leniency::EmptyValue(s)
            | Leniency::ExtraPrimary(s) => s,
        }
    }
}
