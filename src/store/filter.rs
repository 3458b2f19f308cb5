//! Filters to SQL (RFC 7644 §3.4.2.2): every filter becomes one SQL condition,
//! so listing never scans resources in process memory. Attributes with a column
//! or an index table (userName, externalId, active, meta.*, emails, groups)
//! use it; any other attribute is read from the stored JSON document.
//! Case sensitivity follows each attribute's `caseExact`.

use chrono::{DateTime, Utc};
use serde_json::Number;

use super::resources::Resource;
use super::users::fold;
use super::{timestamp, SqlValue};
use crate::proto::attr::AttrPath;
use crate::proto::error::{ScimError, ScimResult};
use crate::proto::filter::{CompValue, CompareOp, Filter};
use crate::proto::schema::{AttrType, Attribute, ResourceType};

/// An SQL condition over the resource alias (`u` for users) and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlCondition {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// How a column or JSON value compares to a string operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Compared as stored (caseExact).
    Exact,
    /// The column holds a folded copy: fold the operand only.
    Folded,
    /// Fold ASCII letters on both sides (SQLite's `lower` folds ASCII only).
    Insensitive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    /// A dateTime as the client wrote it (any offset and precision): in
    /// documents.
    DateTime,
    /// A dateTime stored in UTC to the millisecond (`meta` columns).
    Instant,
    Bool,
    Number,
}

/// A value expression to compare against.
struct Operand {
    expr: String,
    kind: Kind,
    case: Case,
}

/// The email sub-attributes `user_emails` has columns for.
const EMAIL_COLUMNS: &[&str] = &["value", "type", "primary"];

/// Where an element's sub-attributes live inside a value filter.
#[derive(Clone, Copy)]
enum Element {
    /// `user_emails` rows, alias `e`.
    Emails,
    /// `group_members` rows of the user, alias `m`.
    Groups,
    /// `group_members` rows of the group, alias `gm`.
    Members,
    /// `json_each` rows over the document array, alias `j`.
    Json,
}

struct Query<'a> {
    rt: &'a ResourceType,
    kind: Resource,
    tenant: String,
    params: Vec<SqlValue>,
}

/// Translates a filter into an SQL condition over alias `r`, a row of the
/// resource's table.
pub fn condition(
    rt: &ResourceType,
    kind: Resource,
    tenant: &str,
    filter: &Filter,
) -> ScimResult<SqlCondition> {
    let mut q = Query {
        rt,
        kind,
        tenant: tenant.to_owned(),
        params: Vec::new(),
    };
    let sql = q.filter(filter)?;
    Ok(SqlCondition {
        sql,
        params: q.params,
    })
}

/// The SQL expression to order by for `sortBy` (RFC 7644 §3.4.2.3), over
/// alias `r`. Strings order case-insensitively unless caseExact; a
/// multi-valued attribute orders by its first value. `None` when the
/// attribute is unknown (the default order then applies).
pub fn sort_expression(rt: &ResourceType, kind: Resource, path: &AttrPath) -> Option<String> {
    let q = Query {
        rt,
        kind,
        tenant: String::new(),
        params: Vec::new(),
    };
    let attr = q.lookup(path).ok()?;
    let core = is_core(rt, path);
    let sub = path.sub.as_deref();
    if core {
        if let Ok(Some((expr, _, case))) = q.column(&attr.name, sub) {
            return Some(match case {
                Case::Insensitive => format!("lower({expr})"),
                Case::Exact | Case::Folded => expr.to_owned(),
            });
        }
    }
    let urn = if core { None } else { path.urn.as_deref() };
    let (target, json) = match (sub, attr.multi_valued) {
        (None, false) => (attr.clone(), json_path(urn, &[&attr.name])),
        (Some(s), false) => {
            let t = find_sub(&attr, s).ok()?.clone();
            let p = json_path(urn, &[&attr.name, &t.name]);
            (t, p)
        }
        (sub, true) => {
            let name = sub.unwrap_or("value");
            let t = find_sub(&attr, name).ok().cloned().unwrap_or(attr.clone());
            let p = format!(
                "{}[0]{}",
                json_path(urn, &[&attr.name]),
                json_path(None, &[&t.name]).trim_start_matches('$')
            );
            (t, p)
        }
    };
    let expr = format!("json_extract(r.doc, {})", sql_literal(&json));
    Some(
        if target.case_exact || target.attr_type != AttrType::String {
            expr
        } else {
            format!("lower({expr})")
        },
    )
}

fn kind_of(attr: &Attribute) -> ScimResult<Kind> {
    Ok(match attr.attr_type {
        AttrType::String | AttrType::Reference | AttrType::Binary => Kind::Text,
        AttrType::DateTime => Kind::DateTime,
        AttrType::Boolean => Kind::Bool,
        AttrType::Integer | AttrType::Decimal => Kind::Number,
        AttrType::Complex => {
            return Err(ScimError::invalid_filter(format!(
                "The complex attribute '{}' cannot be compared; name a sub-attribute.",
                attr.name
            )))
        }
    })
}

fn case_of(attr: &Attribute) -> Case {
    if attr.case_exact {
        Case::Exact
    } else {
        Case::Insensitive
    }
}

/// A JSON path into the stored document, e.g. `$."urn:...:User"."manager"."value"`.
fn json_path(urn: Option<&str>, parts: &[&str]) -> String {
    let mut p = String::from("$");
    for part in urn.into_iter().chain(parts.iter().copied()) {
        p.push_str(".\"");
        p.push_str(&part.replace('"', "\\\""));
        p.push('"');
    }
    p
}

fn is_core(rt: &ResourceType, path: &AttrPath) -> bool {
    path.urn
        .as_deref()
        .is_none_or(|urn| urn.eq_ignore_ascii_case(&rt.schema.id))
}

impl Query<'_> {
    fn bind(&mut self, v: SqlValue) -> &'static str {
        self.params.push(v);
        "?"
    }

    fn filter(&mut self, f: &Filter) -> ScimResult<String> {
        match f {
            Filter::And(a, b) => Ok(format!("({} AND {})", self.filter(a)?, self.filter(b)?)),
            Filter::Or(a, b) => Ok(format!("({} OR {})", self.filter(a)?, self.filter(b)?)),
            Filter::Not(a) => Ok(format!("NOT coalesce({}, 0)", self.filter(a)?)),
            Filter::Present(p) => self.top(p, None),
            Filter::Compare(p, op, v) => self.top(p, Some((*op, v))),
            Filter::ValuePath(p, inner) => self.value_path(p, inner),
        }
    }

    /// Looks an attribute up; unknown attributes are an invalid filter.
    fn lookup(&self, path: &AttrPath) -> ScimResult<Attribute> {
        let parent = AttrPath {
            sub: None,
            ..path.clone()
        };
        let (_, attr) = self.rt.find(&parent).ok_or_else(|| {
            ScimError::invalid_filter(format!("Unknown attribute '{}' in filter.", parent.name))
        })?;
        Ok(attr.clone())
    }

    /// The indexed column of a core attribute, if it has one.
    fn column(
        &self,
        name: &str,
        sub: Option<&str>,
    ) -> ScimResult<Option<(&'static str, Kind, Case)>> {
        let meta = |s: &str| s.to_ascii_lowercase();
        Ok(match (self.kind, name, sub.map(meta).as_deref()) {
            (_, "id", None) => Some(("r.id", Kind::Text, Case::Exact)),
            (_, "externalId", None) => Some(("r.external_id", Kind::Text, Case::Exact)),
            (_, "meta", Some("created")) => Some(("r.created_at", Kind::Instant, Case::Exact)),
            (_, "meta", Some("lastmodified")) => {
                Some(("r.last_modified", Kind::Instant, Case::Exact))
            }
            (Resource::User, "meta", Some("resourcetype")) => {
                Some(("'User'", Kind::Text, Case::Insensitive))
            }
            (Resource::Group, "meta", Some("resourcetype")) => {
                Some(("'Group'", Kind::Text, Case::Insensitive))
            }
            (_, "meta", _) => {
                return Err(ScimError::invalid_filter(
                    "Only meta.created, meta.lastModified and meta.resourceType can be filtered.",
                ))
            }
            (Resource::User, "userName", None) => {
                Some(("r.user_name_key", Kind::Text, Case::Folded))
            }
            (Resource::User, "displayName", None) => {
                Some(("r.display_name", Kind::Text, Case::Insensitive))
            }
            (Resource::User, "active", None) => Some(("r.active", Kind::Bool, Case::Exact)),
            (Resource::Group, "displayName", None) => {
                Some(("r.display_name_key", Kind::Text, Case::Folded))
            }
            _ => None,
        })
    }

    /// The index table holding the elements of a core multi-valued attribute,
    /// when every sub-attribute the filter names (`uses`) is a column of it.
    fn element_table(&self, name: &str, uses: impl Fn(&str) -> bool) -> Option<Element> {
        let any = |names: &[&str]| names.iter().any(|n| uses(n));
        match (self.kind, name) {
            (Resource::User, "emails") if any(EMAIL_COLUMNS) => Some(Element::Emails),
            (Resource::User, "groups") => Some(Element::Groups),
            (Resource::Group, "members") => Some(Element::Members),
            _ => None,
        }
    }

    /// A top-level attribute path with an optional comparison (`None` = `pr`).
    fn top(&mut self, path: &AttrPath, cmp: Option<(CompareOp, &CompValue)>) -> ScimResult<String> {
        let attr = self.lookup(path)?;
        let core = is_core(self.rt, path);
        let name = attr.name.as_str();
        let sub_name = path.sub.as_deref();
        if core {
            if let Some((expr, kind, case)) = self.column(name, sub_name)? {
                let operand = Operand {
                    expr: expr.into(),
                    kind,
                    case,
                };
                return self.compare(&operand, cmp);
            }
            if let Some(element) =
                self.element_table(name, |n| sub_name.is_none_or(|s| s.eq_ignore_ascii_case(n)))
            {
                // `emails co "x"` means `emails.value co "x"` (RFC 7644 §3.4.2.2).
                let inner = AttrPath {
                    urn: None,
                    name: sub_name.unwrap_or("value").to_owned(),
                    sub: None,
                };
                let cond = self.element_condition(&attr, element, &inner, cmp)?;
                return Ok(self.exists(&attr, path, element, &cond));
            }
        }
        let urn = if core { None } else { path.urn.clone() };
        if attr.multi_valued {
            let inner = AttrPath {
                urn: None,
                name: match (sub_name, attr.attr_type) {
                    (Some(s), _) => s.to_owned(),
                    (None, AttrType::Complex) => "value".to_owned(),
                    // A multi-valued simple attribute: compare each element itself.
                    (None, _) => String::new(),
                },
                sub: None,
            };
            let cond = self.element_condition(&attr, Element::Json, &inner, cmp)?;
            let exists = self.exists(
                &attr,
                &AttrPath {
                    urn,
                    ..path.clone()
                },
                Element::Json,
                &cond,
            );
            return Ok(exists);
        }
        let (target, parts): (Attribute, Vec<&str>) = match sub_name {
            None => (attr.clone(), vec![attr.name.as_str()]),
            Some(s) => {
                let sub = find_sub(&attr, s)?;
                (sub.clone(), vec![attr.name.as_str(), sub.name.as_str()])
            }
        };
        let p = sql_literal(&json_path(urn.as_deref(), &parts));
        if cmp.is_none() && target.attr_type == AttrType::Complex {
            return Ok(format!("json_type(r.doc, {p}) IS NOT NULL"));
        }
        let operand = Operand {
            expr: format!("json_extract(r.doc, {p})"),
            kind: kind_of(&target)?,
            case: case_of(&target),
        };
        self.compare(&operand, cmp)
    }

    /// `attr[inner]`: some element of the multi-valued attribute matches.
    fn value_path(&mut self, path: &AttrPath, inner: &Filter) -> ScimResult<String> {
        let attr = self.lookup(path)?;
        if !attr.multi_valued || attr.attr_type != AttrType::Complex {
            return Err(ScimError::invalid_filter(format!(
                "'{}' is not a multi-valued complex attribute.",
                attr.name
            )));
        }
        let core = is_core(self.rt, path);
        let element = match (core, attr.name.as_str()) {
            (true, "emails") if !uses_only(inner, EMAIL_COLUMNS) => Element::Json,
            (true, name) => self.element_table(name, |_| true).unwrap_or(Element::Json),
            (false, _) => Element::Json,
        };
        let cond = self.element_filter(&attr, element, inner)?;
        let urn = if core { None } else { path.urn.clone() };
        Ok(self.exists(
            &attr,
            &AttrPath {
                urn,
                ..path.clone()
            },
            element,
            &cond,
        ))
    }

    fn element_filter(&mut self, attr: &Attribute, el: Element, f: &Filter) -> ScimResult<String> {
        match f {
            Filter::And(a, b) => Ok(format!(
                "({} AND {})",
                self.element_filter(attr, el, a)?,
                self.element_filter(attr, el, b)?
            )),
            Filter::Or(a, b) => Ok(format!(
                "({} OR {})",
                self.element_filter(attr, el, a)?,
                self.element_filter(attr, el, b)?
            )),
            Filter::Not(a) => Ok(format!(
                "NOT coalesce({}, 0)",
                self.element_filter(attr, el, a)?
            )),
            Filter::Present(p) => self.element_condition(attr, el, p, None),
            Filter::Compare(p, op, v) => self.element_condition(attr, el, p, Some((*op, v))),
            Filter::ValuePath(..) => {
                Err(ScimError::invalid_filter("Value filters cannot be nested."))
            }
        }
    }

    /// A condition on one sub-attribute of an element row.
    fn element_condition(
        &mut self,
        attr: &Attribute,
        el: Element,
        inner: &AttrPath,
        cmp: Option<(CompareOp, &CompValue)>,
    ) -> ScimResult<String> {
        if inner.name.is_empty() {
            // Elements of a multi-valued simple attribute (e.g. `schemas`).
            let operand = Operand {
                expr: "j.value".into(),
                kind: kind_of(attr)?,
                case: case_of(attr),
            };
            return self.compare(&operand, cmp);
        }
        let sub = find_sub(attr, &inner.name)?.clone();
        let column = match (el, sub.name.as_str()) {
            (Element::Emails, "value") => Some(("e.value_key", Case::Folded)),
            (Element::Emails, "type") => Some(("e.type", Case::Folded)),
            (Element::Emails, "primary") => Some(("e.is_primary", Case::Exact)),
            (Element::Groups, "value") => Some(("m.group_id", Case::Exact)),
            (Element::Groups, "display") => Some(("g.display_name", Case::Insensitive)),
            (Element::Groups, "type") => Some(("'direct'", Case::Insensitive)),
            (Element::Members, "value") => Some(("gm.member_id", Case::Exact)),
            (Element::Members, "type") => Some(("gm.member_type", Case::Insensitive)),
            _ => None,
        };
        let operand = match column {
            Some((expr, case)) => Operand {
                expr: expr.into(),
                kind: kind_of(&sub)?,
                case,
            },
            None => match el {
                Element::Json => Operand {
                    expr: format!(
                        "json_extract(j.value, {})",
                        sql_literal(&json_path(None, &[sub.name.as_str()]))
                    ),
                    kind: kind_of(&sub)?,
                    case: case_of(&sub),
                },
                Element::Emails | Element::Groups | Element::Members => {
                    return Err(ScimError::invalid_filter(format!(
                        "{}.{} cannot be filtered.",
                        attr.name, sub.name
                    )))
                }
            },
        };
        self.compare(&operand, cmp)
    }

    /// `EXISTS` over the element rows of a multi-valued attribute.
    /// The condition that some element of a multi-valued attribute matches
    /// `cond`. Index tables are searched by value first (an uncorrelated
    /// `IN`), so a lookup costs the same whatever the size of the tenant;
    /// the tenant parameter follows `cond`'s, in placeholder order.
    fn exists(&mut self, attr: &Attribute, path: &AttrPath, el: Element, cond: &str) -> String {
        let (select, tenant_column) = match el {
            Element::Emails => ("SELECT e.user_id FROM user_emails e", "e.tenant_id"),
            Element::Groups => (
                "SELECT m.member_id FROM group_members m JOIN groups g \
                 ON g.tenant_id = m.tenant_id AND g.id = m.group_id",
                "m.tenant_id",
            ),
            Element::Members => ("SELECT gm.group_id FROM group_members gm", "gm.tenant_id"),
            // Within the row's own document: no tenant needed.
            Element::Json => {
                return format!(
                    "EXISTS (SELECT 1 FROM json_each(r.doc, {}) j WHERE {cond})",
                    sql_literal(&json_path(path.urn.as_deref(), &[attr.name.as_str()]))
                )
            }
        };
        let tenant = self.bind(self.tenant.clone().into());
        format!("r.id IN ({select} WHERE {cond} AND {tenant_column} = {tenant})")
    }

    fn compare(&mut self, o: &Operand, cmp: Option<(CompareOp, &CompValue)>) -> ScimResult<String> {
        let Some((op, value)) = cmp else {
            return Ok(match o.kind {
                Kind::Text | Kind::DateTime | Kind::Instant => {
                    format!("({0} IS NOT NULL AND {0} <> '')", o.expr)
                }
                Kind::Bool | Kind::Number => format!("{} IS NOT NULL", o.expr),
            });
        };
        if let CompValue::Null = value {
            return match op {
                CompareOp::Eq => Ok(format!("{} IS NULL", o.expr)),
                CompareOp::Ne => Ok(format!("{} IS NOT NULL", o.expr)),
                _ => Err(ScimError::invalid_filter(
                    "null can only be compared with eq or ne.",
                )),
            };
        }
        let (lhs, operand) = match o.kind {
            Kind::Text => {
                let CompValue::String(s) = value else {
                    return Err(ScimError::invalid_filter(
                        "A string attribute must be compared with a string.",
                    ));
                };
                match o.case {
                    Case::Exact => (o.expr.clone(), s.clone()),
                    Case::Folded => (o.expr.clone(), fold(s)),
                    // Fold the operand as SQLite's `lower` folds the column
                    // (ASCII only): a Unicode fold would make stored values
                    // with non-ASCII capitals ("Élodie") unmatchable.
                    Case::Insensitive => (format!("lower({})", o.expr), s.to_ascii_lowercase()),
                }
            }
            Kind::DateTime | Kind::Instant => {
                let CompValue::String(s) = value else {
                    return Err(ScimError::invalid_filter(
                        "A dateTime attribute must be compared with a string.",
                    ));
                };
                let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
                // Any offset, and fractional seconds of any length
                // (`.1234567+02:00`, as .NET writes them).
                let (normal, finer) = match DateTime::parse_from_rfc3339(s) {
                    Ok(t) => (
                        timestamp(t.with_timezone(&Utc)),
                        t.timestamp_subsec_nanos() % 1_000_000 != 0,
                    ),
                    Err(_) if substring => (s.clone(), false),
                    Err(_) => {
                        return Err(ScimError::invalid_filter(format!(
                            "'{s}' is not a dateTime (RFC 3339)."
                        )))
                    }
                };
                // What the client wrote is compared as the instant it names,
                // in the form `meta` columns have (SQLite reads any offset
                // and fraction length, and keeps the milliseconds).
                let stored = if o.kind == Kind::DateTime && !substring {
                    format!("strftime('%Y-%m-%dT%H:%M:%fZ', {})", o.expr)
                } else {
                    o.expr.clone()
                };
                if finer && !substring {
                    // Stored times are read to the millisecond: an instant
                    // finer than that lies strictly after the millisecond
                    // `normal` truncates it to, and before the next.
                    let expr = &stored;
                    return Ok(match op {
                        CompareOp::Eq => "0".into(),
                        CompareOp::Ne => "1".into(),
                        CompareOp::Gt | CompareOp::Ge => {
                            format!("{expr} > {}", self.bind(normal.into()))
                        }
                        _ => format!("{expr} <= {}", self.bind(normal.into())),
                    });
                }
                (stored, normal)
            }
            Kind::Bool => {
                let b = match value {
                    CompValue::Bool(b) => *b,
                    CompValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                    CompValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                    _ => {
                        return Err(ScimError::invalid_filter(
                            "A boolean attribute must be compared with true or false.",
                        ))
                    }
                };
                // A literal, not a parameter: it lets the planner use the
                // partial index of inactive users.
                let p = if b { "1" } else { "0" };
                return match op {
                    CompareOp::Eq => Ok(format!("{} = {p}", o.expr)),
                    CompareOp::Ne => Ok(format!("coalesce({} <> {p}, 1)", o.expr)),
                    _ => Err(ScimError::invalid_filter(
                        "Booleans can only be compared with eq or ne.",
                    )),
                };
            }
            Kind::Number => {
                let CompValue::Number(n) = value else {
                    return Err(ScimError::invalid_filter(
                        "A numeric attribute must be compared with a number.",
                    ));
                };
                let v = number_value(n);
                let sym = match op {
                    CompareOp::Eq => "=",
                    CompareOp::Ne => "<>",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    _ => {
                        return Err(ScimError::invalid_filter(
                            "co, sw and ew apply to strings only.",
                        ))
                    }
                };
                let p = self.bind(v);
                return Ok(if op == CompareOp::Ne {
                    format!("coalesce({} <> {p}, 1)", o.expr)
                } else {
                    format!("{} {sym} {p}", o.expr)
                });
            }
        };
        Ok(match op {
            CompareOp::Eq => format!("{lhs} = {}", self.bind(operand.into())),
            CompareOp::Ne => format!("coalesce({lhs} <> {}, 1)", self.bind(operand.into())),
            CompareOp::Co => format!("instr({lhs}, {}) > 0", self.bind(operand.into())),
            CompareOp::Sw => {
                // A range keeps a prefix search on an indexed column indexed.
                let upper = format!("{operand}\u{10FFFF}");
                let a = self.bind(operand.into());
                let b = self.bind(upper.into());
                format!("({lhs} >= {a} AND {lhs} < {b})")
            }
            CompareOp::Ew => {
                let n = operand.chars().count();
                if n == 0 {
                    format!("{lhs} IS NOT NULL")
                } else {
                    format!("substr({lhs}, -{n}) = {}", self.bind(operand.into()))
                }
            }
            CompareOp::Gt => format!("{lhs} > {}", self.bind(operand.into())),
            CompareOp::Ge => format!("{lhs} >= {}", self.bind(operand.into())),
            CompareOp::Lt => format!("{lhs} < {}", self.bind(operand.into())),
            CompareOp::Le => format!("{lhs} <= {}", self.bind(operand.into())),
        })
    }
}

/// An SQL string literal. Used only for JSON paths built from schema names,
/// so that parameter order stays the order of placeholders.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether every attribute a value filter names is one of `names`.
fn uses_only(f: &Filter, names: &[&str]) -> bool {
    let ok = |p: &AttrPath| p.sub.is_none() && names.iter().any(|n| p.name.eq_ignore_ascii_case(n));
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => uses_only(a, names) && uses_only(b, names),
        Filter::Not(a) => uses_only(a, names),
        Filter::Present(p) | Filter::Compare(p, ..) => ok(p),
        Filter::ValuePath(..) => false,
    }
}

fn find_sub<'a>(attr: &'a Attribute, name: &str) -> ScimResult<&'a Attribute> {
    attr.sub_attributes
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "Unknown attribute '{}.{name}' in filter.",
                attr.name
            ))
        })
}

fn number_value(n: &Number) -> SqlValue {
    match n.as_i64() {
        Some(i) => SqlValue::Int(i),
        None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::filter::parse_filter;
    use crate::proto::schema::user_resource_type;

    /// Runs `filter`'s condition over one user row holding `display_name`
    /// and `doc`.
    fn selects(filter: &str, display_name: &str, doc: &str) -> bool {
        let rt = user_resource_type(vec![]);
        let f = parse_filter(filter, &rt.all_schema_urns()).unwrap();
        let c = condition(&rt, Resource::User, "t", &f).unwrap();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute("CREATE TABLE users (display_name TEXT, doc TEXT)", [])
            .unwrap();
        conn.execute("INSERT INTO users VALUES (?1, ?2)", [display_name, doc])
            .unwrap();
        let params = c.params.iter().map(|p| match p {
            SqlValue::Null => rusqlite::types::Value::Null,
            SqlValue::Int(i) => rusqlite::types::Value::Integer(*i),
            SqlValue::Real(x) => rusqlite::types::Value::Real(*x),
            SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
        });
        let sql = format!("SELECT count(*) FROM users r WHERE {}", c.sql);
        conn.query_row(&sql, rusqlite::params_from_iter(params), |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
            == 1
    }

    #[test]
    fn case_insensitive_strings_with_non_ascii_capitals_match() {
        // Found by tests/properties.rs: `lower(column)` folds ASCII only, so a
        // Unicode-folded operand never matched a stored "Élodie" (RFC 7644
        // §3.4.2.2 eq, sw; RFC 7643 §2.2 caseExact false).
        let doc = r#"{"title": "École", "name": {"givenName": "Élodie"}}"#;
        assert!(selects(r#"displayName eq "Élodie""#, "Élodie", doc));
        assert!(selects(r#"displayName eq "éLODIE""#, "élodie", doc));
        assert!(selects(r#"displayName eq "ÉLODIE""#, "Élodie", doc));
        assert!(selects(r#"title eq "ÉCOLE""#, "", doc));
        assert!(selects(r#"title sw "ÉC""#, "", doc));
        assert!(selects(r#"title ew "OLE""#, "", doc));
        assert!(selects(r#"name.givenName co "LOD""#, "", doc));
        assert!(!selects(r#"title eq "Ecole""#, "", doc));
    }
}
