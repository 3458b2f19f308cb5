//! What the unit tests of the proto modules share: attribute paths, the User
//! resource type, JSON objects and tenant-style schema extensions.

use serde_json::{Map, Value};

use crate::proto::attr::AttrPath;
use crate::proto::schema::{user_resource_type, Attribute, ResourceType, Schema, SchemaExtension};

/// `[urn:]name[.sub]` as an `AttrPath` (RFC 7644 §3.10).
pub(crate) fn path(urn: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        urn: urn.map(str::to_string),
        name: name.to_string(),
        sub: sub.map(str::to_string),
    }
}

/// The User resource type with the Enterprise extension only.
pub(crate) fn users() -> ResourceType {
    user_resource_type(vec![])
}

/// The members of a JSON object (a test's `json!({...})`).
#[allow(clippy::panic)]
pub(crate) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// An optional schema extension `urn` (RFC 7643 §6) named `name`, holding
/// `attributes`, as a tenant defines one.
pub(crate) fn extension(urn: &str, name: &str, attributes: Vec<Attribute>) -> SchemaExtension {
    SchemaExtension {
        schema: Schema::new(urn, name, "", attributes),
        required: false,
    }
}
