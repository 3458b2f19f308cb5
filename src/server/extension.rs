//! Per-tenant custom User attributes, in the tenant's own extension schema:
//! `urn:<vendor>:scim:schemas:extension:<tenant>:2:User` unless the tenant
//! set a URN of its own.
//!
//! An attribute is defined by the application's field id (kept as given) and
//! a field type; each type maps onto SCIM attribute characteristics, so the
//! extension is validated, returned, filtered, sorted and patched by the same
//! schema-driven code as the core attributes. What SCIM types cannot say
//! (a calendar date, a currency code, a reference to a user of the tenant, a
//! value unique in the tenant) is checked here, at write time.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::proto::error::{ScimError, ScimResult};
use crate::proto::schema::{AttrType, Attribute, Returned, Schema, SchemaExtension, Uniqueness};
use crate::proto::urn::check_extension_urn;
use crate::server::error::Result;
use crate::store::attributes::{self, Compare, TenantProfile, UniqueAttr};
use crate::store::{tenants, users, SqlExecutor, Stmt, StoreError, UniqueKey};

/// The URN of a tenant's extension schema when it sets none.
pub(crate) fn default_urn(vendor: &str, tenant: &str) -> String {
    format!("urn:{vendor}:scim:schemas:extension:{tenant}:2:User")
}

/// The URN of a tenant's extension schema: the one it set (`stored`), or
/// the default.
pub(crate) fn urn_in_force(vendor: &str, tenant: &str, stored: Option<&str>) -> String {
    stored.map_or_else(|| default_urn(vendor, tenant), str::to_owned)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    String,
    Integer,
    /// A decimal number.
    Number,
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    DateTime,
    /// One of a fixed list of canonical values.
    Dropdown,
    /// `{"amount": decimal, "currency": "EUR"}`.
    Currency,
    /// An integer unique among the tenant's users: `integer` with `unique`.
    UniqueNumber,
    /// `{"value": "<user id>"}`, a user of the same tenant (like `manager`).
    UserReference,
}

/// A custom attribute as the admin API defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeDef {
    /// The application's field id: the SCIM attribute name, case kept.
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub case_exact: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The canonical values of a dropdown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// No two live users of the tenant may hold the same value (strings in
    /// any case unless `caseExact`; a currency by amount and code). Shown
    /// only when set: a `uniqueNumber` is unique without it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// RFC 7643 §2.1 ATTRNAME: ALPHA *(nameChar).
fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && n.len() <= 128
}

impl AttributeDef {
    pub(crate) fn validate(&self) -> ScimResult<()> {
        if !valid_name(&self.name) {
            return Err(ScimError::invalid_value(format!(
                "'{}' is not an attribute name: a letter, then letters, digits, '_' or '-'.",
                self.name
            )));
        }
        match (self.field_type, self.values.is_empty()) {
            (FieldType::Dropdown, true) => {
                return Err(ScimError::invalid_value(
                    "A dropdown needs its list of values.",
                ))
            }
            (FieldType::Dropdown, false) | (_, true) => {}
            (_, false) => {
                return Err(ScimError::invalid_value(
                    "Only a dropdown has a list of values.",
                ))
            }
        }
        if !self.unique {
            return Ok(());
        }
        let why = match self.field_type {
            _ if self.multi_valued => {
                "a multi-valued attribute has no one value to compare; only a single-valued one can be unique"
            }
            FieldType::Boolean => {
                "a boolean has only two values, so at most two users could hold one; it cannot be unique"
            }
            FieldType::UserReference => {
                "a reference to a user is shared by design (like a manager); it cannot be unique"
            }
            _ => return Ok(()),
        };
        Err(ScimError::invalid_value(format!("'{}': {why}.", self.name)))
    }

    /// How values compare when the attribute is unique (a unique number,
    /// or `unique`); `None` when it is not.
    fn unique_compare(&self) -> Option<Compare> {
        if !self.unique && self.field_type != FieldType::UniqueNumber {
            return None;
        }
        Some(match self.field_type {
            FieldType::String | FieldType::Dropdown if !self.case_exact => Compare::CaseInsensitive,
            FieldType::DateTime => Compare::Instant,
            FieldType::Currency => Compare::Currency,
            _ => Compare::Exact,
        })
    }

    /// The SCIM attribute this definition stands for.
    pub(crate) fn attribute(&self) -> Attribute {
        let base = match self.field_type {
            FieldType::String | FieldType::Date => Attribute::string(&self.name),
            FieldType::Integer => Attribute::integer(&self.name),
            FieldType::Number => Attribute::decimal(&self.name),
            FieldType::Boolean => Attribute::boolean(&self.name),
            FieldType::DateTime => Attribute::date_time(&self.name),
            FieldType::Dropdown => {
                let values: Vec<&str> = self.values.iter().map(String::as_str).collect();
                Attribute::string(&self.name).canonical(&values).enforced()
            }
            FieldType::Currency => Attribute::complex(
                &self.name,
                vec![
                    Attribute::decimal("amount").required(),
                    Attribute::string("currency")
                        .required()
                        .case_exact()
                        .desc("ISO 4217 currency code, e.g. EUR."),
                ],
            ),
            FieldType::UniqueNumber => Attribute::integer(&self.name).unique(Uniqueness::Server),
            FieldType::UserReference => Attribute::complex(
                &self.name,
                vec![
                    Attribute::string("value")
                        .required()
                        .case_exact()
                        .desc("The id of a user of this tenant."),
                    Attribute::string("display")
                        .read_only()
                        .returned(Returned::Request),
                ],
            ),
        };
        let mut a = if self.multi_valued {
            base.multi()
        } else {
            base
        };
        if self.required {
            a = a.required();
        }
        if self.unique_compare().is_some() {
            a = a.unique(Uniqueness::Server);
        }
        if self.case_exact && a.attr_type == AttrType::String {
            a = a.case_exact();
        }
        let desc = self
            .description
            .clone()
            .unwrap_or_else(|| format!("Custom attribute {} ({:?}).", self.name, self.field_type));
        a.desc(&desc)
    }
}

/// The tenant's extension, named `urn`, as a schema, or none when it
/// defines nothing.
pub(crate) fn schema(urn: &str, tenant: &str, defs: &[AttributeDef]) -> Option<SchemaExtension> {
    (!defs.is_empty()).then(|| SchemaExtension {
        schema: Schema::new(
            urn,
            &format!("{tenant} User extension"),
            &format!("Custom user attributes of tenant {tenant}."),
            defs.iter().map(AttributeDef::attribute).collect(),
        ),
        required: false,
    })
}

/// The JSON path of attribute `name` of the tenant's extension in a stored
/// document.
fn value_path(urn: &str, name: &str) -> String {
    format!("$.\"{urn}\".\"{name}\"")
}

/// Creates or updates a definition. Adding is free; changing the type or
/// multiplicity is refused (409) while users hold values for it, so that a
/// definition change never makes stored users invalid; so is making it
/// unique while two live users share a value (checked in the write's own
/// batch). Returns whether it was created.
pub(crate) async fn put<D: SqlExecutor>(
    db: &D,
    vendor: &str,
    tenant: &str,
    def: &AttributeDef,
    now: &str,
) -> Result<bool> {
    def.validate()?;
    let profile: TenantProfile<AttributeDef> = attributes::load(db, tenant).await?;
    let urn = urn_in_force(vendor, tenant, profile.urn.as_deref());
    let defs = profile.defs;
    if let Some(other) = defs
        .iter()
        .find(|d| d.name != def.name && d.name.eq_ignore_ascii_case(&def.name))
    {
        return Err(ScimError::uniqueness(format!(
            "Attribute names are case-insensitive in SCIM: '{}' already exists.",
            other.name
        ))
        .into());
    }
    let existing = defs.iter().find(|d| d.name == def.name);
    if let Some(old) = existing {
        let reshaped = old.field_type != def.field_type || old.multi_valued != def.multi_valued;
        let path = value_path(&urn, &def.name);
        if reshaped && attributes::has_values(db, tenant, &path).await? {
            return Err(ScimError::new(
                409,
                None,
                format!(
                    "Users hold values for '{}': its type cannot change until they are removed.",
                    def.name
                ),
            )
            .into());
        }
    }
    let path = value_path(&urn, &def.name);
    let unique = def.unique_compare().map(|compare| UniqueAttr {
        path: &path,
        compare,
    });
    match attributes::put(db, tenant, &def.name, def, unique.as_ref(), now).await {
        Err(StoreError::Unique(UniqueKey::UniqueValue)) => {
            return Err(ScimError::uniqueness(format!(
                "Live users share a value of '{}': it cannot be unique until their values differ.",
                def.name
            ))
            .into())
        }
        other => other?,
    }
    crate::server::schema::forget_tenant(db, tenant);
    Ok(existing.is_none())
}

/// Sets the URN of the tenant's extension from `stored` (its current
/// setting; `None`: the default) to `wanted`, keeping the case given, and
/// moves every user's values to it in the same batch. Returns the URN in
/// force afterwards. A URN that is no RFC 8141 URN, or that SCIM could not
/// tell from one of its own schemas, is refused (400); a change that lost
/// a race with another is 409.
pub(crate) async fn set_urn<D: SqlExecutor>(
    db: &D,
    vendor: &str,
    tenant: &str,
    stored: Option<&str>,
    wanted: Option<&str>,
    now: &str,
) -> Result<String> {
    if let Some(urn) = wanted {
        check_extension_urn(urn)?;
    }
    let old = urn_in_force(vendor, tenant, stored);
    let new = urn_in_force(vendor, tenant, wanted);
    if stored == wanted {
        return Ok(new);
    }
    let set = tenants::set_extension_urn(db, tenant, stored, wanted, (&old, &new), now).await?;
    crate::server::schema::forget_tenant(db, tenant);
    if !set {
        return Err(ScimError::new(
            409,
            None,
            "The extension URN was changed by another request meanwhile; read it and try again.",
        )
        .into());
    }
    Ok(new)
}

/// Removes a definition. Stored values stay in the documents, hidden: they
/// are neither returned nor accepted until the attribute is defined again.
pub(crate) async fn remove<D: SqlExecutor>(db: &D, tenant: &str, name: &str) -> Result<bool> {
    let removed = attributes::remove(db, tenant, name).await?;
    crate::server::schema::forget_tenant(db, tenant);
    Ok(removed)
}

/// Splits the values of undefined (removed) attributes out of the tenant's
/// extension object of a stored document, so that a write neither rejects
/// nor loses them; [`restore_hidden`] puts them back.
pub(crate) fn take_hidden(
    urn: &str,
    defs: &[AttributeDef],
    doc: &mut Value,
) -> serde_json::Map<String, Value> {
    let mut hidden = serde_json::Map::new();
    let Some(ext) = doc.get_mut(urn).and_then(Value::as_object_mut) else {
        return hidden;
    };
    let names: Vec<String> = ext
        .keys()
        .filter(|k| !defs.iter().any(|d| d.name.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    for k in names {
        if let Some(v) = ext.remove(&k) {
            hidden.insert(k, v);
        }
    }
    if ext.is_empty() {
        if let Some(o) = doc.as_object_mut() {
            o.remove(urn);
        }
    }
    hidden
}

pub(crate) fn restore_hidden(urn: &str, doc: &mut Value, hidden: serde_json::Map<String, Value>) {
    if hidden.is_empty() {
        return;
    }
    if let Some(o) = doc.as_object_mut() {
        let ext = o
            .entry(urn.to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(e) = ext.as_object_mut() {
            for (k, v) in hidden {
                e.entry(k).or_insert(v);
            }
        }
    }
}

fn values_of<'a>(ext: &'a Value, def: &AttributeDef) -> Vec<&'a Value> {
    match ext.get(&def.name) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

/// The statements that, inside the batch writing user `own_id` with `doc`
/// (its extension named `urn`), fail it and so roll it back when another
/// live user holds one of its values of a unique attribute.
pub(crate) fn unique_guards(
    tenant: &str,
    urn: &str,
    own_id: &str,
    defs: &[AttributeDef],
    doc: &Value,
) -> Vec<Stmt> {
    let Some(ext) = doc.get(urn) else {
        return Vec::new();
    };
    let mut guards = Vec::new();
    for def in defs {
        let Some(compare) = def.unique_compare() else {
            continue;
        };
        let path = value_path(urn, &def.name);
        let unique = UniqueAttr {
            path: &path,
            compare,
        };
        for v in values_of(ext, def) {
            guards.extend(attributes::unique_guard(tenant, own_id, &unique, v));
        }
    }
    guards
}

/// The checks SCIM types cannot express, on a normalized document whose
/// extension is named `urn`: dates, currency codes, user references (to
/// live users of the tenant) and unique values. Returns the statements
/// that guard uniqueness inside the write (see [`unique_guards`]).
pub(crate) async fn check<D: SqlExecutor>(
    db: &D,
    tenant: &str,
    urn: &str,
    own_id: &str,
    defs: &[AttributeDef],
    doc: &Value,
) -> Result<Vec<Stmt>> {
    let Some(ext) = doc.get(urn) else {
        return Ok(Vec::new());
    };
    for def in defs {
        for v in values_of(ext, def) {
            match def.field_type {
                FieldType::Date => {
                    let ok = v
                        .as_str()
                        .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok());
                    if !ok {
                        return Err(ScimError::invalid_value(format!(
                            "{} must be a date like 2026-01-31.",
                            def.name
                        ))
                        .into());
                    }
                }
                FieldType::Currency => {
                    let code = v.get("currency").and_then(Value::as_str).unwrap_or("");
                    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(ScimError::invalid_value(format!(
                            "{}.currency must be a three-letter ISO 4217 code like EUR.",
                            def.name
                        ))
                        .into());
                    }
                }
                FieldType::UserReference => {
                    let id = v.get("value").and_then(Value::as_str).unwrap_or("");
                    if !users::exists(db, tenant, id).await? {
                        return Err(ScimError::invalid_value(format!(
                            "{}: user {id} does not exist in this tenant.",
                            def.name
                        ))
                        .into());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(unique_guards(tenant, urn, own_id, defs, doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, t: FieldType) -> AttributeDef {
        AttributeDef {
            name: name.into(),
            field_type: t,
            multi_valued: false,
            required: false,
            case_exact: false,
            description: None,
            values: Vec::new(),
            unique: false,
        }
    }

    #[test]
    fn definitions_map_to_scim_characteristics() {
        let mut d = def("tier", FieldType::Dropdown);
        d.values = vec!["Gold".into(), "Silver".into()];
        let a = d.attribute();
        assert!(a.enforce_canonical);
        assert_eq!(a.canonical_values, ["Gold", "Silver"]);
        assert_eq!(
            def("n", FieldType::UniqueNumber).attribute().uniqueness,
            Uniqueness::Server
        );
        assert_eq!(
            def("c", FieldType::Currency).attribute().attr_type,
            AttrType::Complex
        );
        let mut m = def("langs", FieldType::String);
        m.multi_valued = true;
        assert!(m.attribute().multi_valued);
    }

    #[test]
    fn names_and_dropdown_values_are_validated() {
        assert!(def("costCenter_2", FieldType::String).validate().is_ok());
        assert!(def("2bad", FieldType::String).validate().is_err());
        assert!(def("has:colon", FieldType::String).validate().is_err());
        assert!(def("tier", FieldType::Dropdown).validate().is_err());
        let mut s = def("s", FieldType::String);
        s.values = vec!["x".into()];
        assert!(s.validate().is_err());
    }

    #[test]
    fn unique_definitions_say_how_values_compare() {
        let unique = |t: FieldType| AttributeDef {
            unique: true,
            ..def("u", t)
        };
        assert_eq!(
            unique(FieldType::String).unique_compare(),
            Some(Compare::CaseInsensitive)
        );
        let exact = AttributeDef {
            case_exact: true,
            ..unique(FieldType::String)
        };
        assert_eq!(exact.unique_compare(), Some(Compare::Exact));
        assert_eq!(
            unique(FieldType::DateTime).unique_compare(),
            Some(Compare::Instant)
        );
        assert_eq!(
            unique(FieldType::Currency).unique_compare(),
            Some(Compare::Currency)
        );
        assert_eq!(
            def("n", FieldType::UniqueNumber).unique_compare(),
            Some(Compare::Exact)
        );
        assert_eq!(def("s", FieldType::String).unique_compare(), None);
        assert_eq!(
            unique(FieldType::Currency).attribute().uniqueness,
            Uniqueness::Server
        );
        assert_eq!(
            def("s", FieldType::String).attribute().uniqueness,
            Uniqueness::None
        );
        for ok in [
            FieldType::String,
            FieldType::Integer,
            FieldType::Number,
            FieldType::Date,
            FieldType::DateTime,
            FieldType::Currency,
            FieldType::UniqueNumber,
        ] {
            assert!(unique(ok).validate().is_ok(), "{ok:?}");
        }
        for bad in [FieldType::Boolean, FieldType::UserReference] {
            assert!(unique(bad).validate().is_err(), "{bad:?}");
        }
        let multi = AttributeDef {
            multi_valued: true,
            ..unique(FieldType::String)
        };
        assert!(multi.validate().is_err());
    }

    #[test]
    fn hidden_values_are_taken_out_and_put_back() {
        let u = default_urn("acme-corp", "t1");
        let defs = vec![def("kept", FieldType::String)];
        let mut doc = serde_json::json!({u.clone(): {"kept": "a", "gone": "b"}});
        let hidden = take_hidden(&u, &defs, &mut doc);
        assert_eq!(doc[&u], serde_json::json!({"kept": "a"}));
        restore_hidden(&u, &mut doc, hidden);
        assert_eq!(doc[&u]["gone"], "b");
    }
}
