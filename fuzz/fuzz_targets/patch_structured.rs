//! Structured writes through the whole service: the fuzzer's bytes choose a
//! PatchOp document (ops, paths, value filters, values) or a resource body
//! made of the attribute names, ids and values the seeded tenant knows, so
//! that most requests get past JSON and schema checks into the PATCH engine,
//! the validation of the result and the store.
//!
//! Checks as in `patch` and `resource`: no panic, no 5xx; a rejected request
//! leaves every table byte for byte as it was; an accepted one leaves a
//! resource that reads back.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use scim_fuzz::*;
use scim_worker::Method;
use serde_json::{json, Map, Value};

/// Attribute names, sub-attributes and path-shaped keys (Entra sends
/// `{"name.givenName": ...}` as a path-less value).
const KEYS: &[&str] = &[
    "userName",
    "displayName",
    "name",
    "givenName",
    "familyName",
    "formatted",
    "emails",
    "value",
    "type",
    "primary",
    "display",
    "active",
    "externalId",
    "title",
    "nickName",
    "addresses",
    "streetAddress",
    "locality",
    "postalCode",
    "phoneNumbers",
    "roles",
    "entitlements",
    "ims",
    "photos",
    "x509Certificates",
    "members",
    "$ref",
    "schemas",
    "id",
    "meta",
    "groups",
    "password",
    "manager",
    "employeeNumber",
    "department",
    "costCenter",
    "tier",
    "badge",
    "hired",
    "salary",
    "amount",
    "currency",
    "buddy",
    "langs",
    "score",
    "seniority",
    "remote",
    "badgeCode",
    "legacy",
    "name.givenName",
    "name.familyName",
    "emails[type eq \"work\"].value",
    "addresses[type eq \"work\"].locality",
    ENTERPRISE,
    CUSTOM,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:tier",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:badge",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:langs",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:salary.amount",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:legacy",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
    "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
    "meta.lastModified",
    "USERNAME",
    "Emails",
];

/// Multi-valued or complex attributes, for `attr[filter]` paths.
const FILTERABLE: &[&str] = &[
    "emails",
    "phoneNumbers",
    "addresses",
    "roles",
    "members",
    "ims",
    "photos",
    "entitlements",
    "x509Certificates",
    "groups",
    "name",
    "manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:langs",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:salary",
    "urn:acme-vendor:scim:schemas:extension:acme:2:User:buddy",
    "displayName",
];

const SUBS: &[&str] = &[
    "value",
    "type",
    "primary",
    "display",
    "streetAddress",
    "$ref",
    "amount",
    "currency",
    "givenName",
    "locality",
    "Value",
];

const STRINGS: &[&str] = &[
    USER_ID,
    MANAGER_ID,
    DELETED_ID,
    GROUP_ID,
    SUBGROUP_ID,
    MISSING_ID,
    "work",
    "home",
    "other",
    "mobile",
    "User",
    "Group",
    "Gold",
    "Silver",
    "gold",
    "EUR",
    "usd",
    "2020-01-31",
    "2026-02-30",
    "bjensen@example.com",
    "jsmith@example.com",
    "BJENSEN@EXAMPLE.COM",
    "new@example.com",
    "Tour Guides",
    "Employees",
    "True",
    "False",
    "true",
    "",
    " ",
    "x",
    "https://example.com/x",
    "2026-03-01T12:00:00Z",
    "not a date",
    ENTERPRISE,
    CUSTOM,
    USER_SCHEMA,
    GROUP_SCHEMA,
    PATCH_OP,
    "1.5",
    "7",
    "Ünïcödé ǅ ß",
    "http://localhost/scim/v2/acme/Users/2819c223-7f76-453a-919d-413861904646",
];

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

#[derive(Arbitrary, Debug)]
enum Str {
    Known(u8),
    Raw(String),
}

impl Str {
    fn text(&self) -> String {
        match self {
            Str::Known(i) => pick(STRINGS, *i).to_owned(),
            Str::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Raw(String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Known(i) => pick(KEYS, *i).to_owned(),
            Key::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Val {
    Str(Str),
    Bool(bool),
    Int(i64),
    Small(i8),
    Float(f64),
    Null,
    Arr(Vec<Val>),
    Obj(Vec<(Key, Val)>),
    /// `{"value": <id>, "type": ...}`, a member or an email.
    Element(Str, Option<Str>, Option<bool>),
}

impl Val {
    fn json(&self, depth: u32) -> Value {
        if depth > 6 {
            return Value::Null;
        }
        match self {
            Val::Str(s) => Value::String(s.text()),
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => json!(i),
            Val::Small(i) => json!(i),
            Val::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Val::Null => Value::Null,
            Val::Arr(items) => Value::Array(items.iter().map(|v| v.json(depth + 1)).collect()),
            Val::Obj(pairs) => {
                let mut m = Map::new();
                for (k, v) in pairs {
                    m.insert(k.text(), v.json(depth + 1));
                }
                Value::Object(m)
            }
            Val::Element(value, ty, primary) => {
                let mut m = Map::new();
                m.insert("value".into(), Value::String(value.text()));
                if let Some(t) = ty {
                    m.insert("type".into(), Value::String(t.text()));
                }
                if let Some(p) = primary {
                    m.insert("primary".into(), Value::Bool(*p));
                }
                Value::Object(m)
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum CmpOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
    Pr,
}

#[derive(Arbitrary, Debug)]
enum Literal {
    Str(Str),
    True,
    False,
    Null,
    Num(i32),
}

#[derive(Arbitrary, Debug)]
enum FilterGen {
    Cmp(u8, CmpOp, Literal),
    And(Box<FilterGen>, Box<FilterGen>),
    Or(Box<FilterGen>, Box<FilterGen>),
    Not(Box<FilterGen>),
    Raw(String),
}

impl FilterGen {
    fn text(&self, depth: u32) -> String {
        if depth > 4 {
            return "value pr".into();
        }
        match self {
            FilterGen::Cmp(sub, op, lit) => {
                let op = match op {
                    CmpOp::Eq => "eq",
                    CmpOp::Ne => "ne",
                    CmpOp::Co => "co",
                    CmpOp::Sw => "sw",
                    CmpOp::Ew => "ew",
                    CmpOp::Gt => "gt",
                    CmpOp::Ge => "ge",
                    CmpOp::Lt => "lt",
                    CmpOp::Le => "le",
                    CmpOp::Pr => return format!("{} pr", pick(SUBS, *sub)),
                };
                let lit = match lit {
                    Literal::Str(s) => Value::String(s.text()).to_string(),
                    Literal::True => "true".into(),
                    Literal::False => "false".into(),
                    Literal::Null => "null".into(),
                    Literal::Num(n) => n.to_string(),
                };
                format!("{} {op} {lit}", pick(SUBS, *sub))
            }
            FilterGen::And(a, b) => format!("{} and {}", a.text(depth + 1), b.text(depth + 1)),
            FilterGen::Or(a, b) => format!("({} or {})", a.text(depth + 1), b.text(depth + 1)),
            FilterGen::Not(a) => format!("not ({})", a.text(depth + 1)),
            FilterGen::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum PathGen {
    Known(u8),
    Filtered(u8, FilterGen, Option<u8>),
    Raw(String),
    Empty,
}

impl PathGen {
    fn text(&self) -> String {
        match self {
            PathGen::Known(i) => pick(KEYS, *i).to_owned(),
            PathGen::Filtered(attr, f, sub) => {
                let mut s = format!("{}[{}]", pick(FILTERABLE, *attr), f.text(0));
                if let Some(sub) = sub {
                    s.push('.');
                    s.push_str(pick(SUBS, *sub));
                }
                s
            }
            PathGen::Raw(s) => s.clone(),
            PathGen::Empty => String::new(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum OpName {
    Add,
    Replace,
    Remove,
    /// Entra's capitalised names.
    AddCap,
    ReplaceCap,
    RemoveCap,
    Other(String),
    Missing,
}

#[derive(Arbitrary, Debug)]
struct Op {
    op: OpName,
    path: Option<PathGen>,
    value: Option<Val>,
    /// Extra member of the operation object.
    extra: Option<(Key, Val)>,
}

impl Op {
    fn json(&self) -> Value {
        let mut m = Map::new();
        let name = match &self.op {
            OpName::Add => Some("add".to_owned()),
            OpName::Replace => Some("replace".to_owned()),
            OpName::Remove => Some("remove".to_owned()),
            OpName::AddCap => Some("Add".to_owned()),
            OpName::ReplaceCap => Some("Replace".to_owned()),
            OpName::RemoveCap => Some("Remove".to_owned()),
            OpName::Other(s) => Some(s.clone()),
            OpName::Missing => None,
        };
        if let Some(n) = name {
            m.insert("op".into(), Value::String(n));
        }
        if let Some(p) = &self.path {
            m.insert("path".into(), Value::String(p.text()));
        }
        if let Some(v) = &self.value {
            m.insert("value".into(), v.json(0));
        }
        if let Some((k, v)) = &self.extra {
            m.insert(k.text(), v.json(0));
        }
        Value::Object(m)
    }
}

#[derive(Arbitrary, Debug)]
enum Schemas {
    Right,
    Lowercase,
    Missing,
    Other(Val),
}

#[derive(Arbitrary, Debug)]
struct PatchDoc {
    schemas: Schemas,
    lowercase_operations: bool,
    ops: Vec<Op>,
}

impl PatchDoc {
    fn json(&self) -> Value {
        let mut m = Map::new();
        match &self.schemas {
            Schemas::Right => {
                m.insert("schemas".into(), json!([PATCH_OP]));
            }
            Schemas::Lowercase => {
                m.insert("schemas".into(), json!([PATCH_OP.to_lowercase()]));
            }
            Schemas::Missing => {}
            Schemas::Other(v) => {
                m.insert("schemas".into(), v.json(0));
            }
        }
        let key = if self.lowercase_operations {
            "operations"
        } else {
            "Operations"
        };
        m.insert(
            key.into(),
            Value::Array(self.ops.iter().map(Op::json).collect()),
        );
        Value::Object(m)
    }
}

#[derive(Arbitrary, Debug)]
enum Base {
    Empty,
    /// The seeded user (as a client POSTs it).
    User,
    /// The seeded manager.
    Manager,
    Group,
}

#[derive(Arbitrary, Debug)]
struct Body {
    base: Base,
    /// Top-level keys set (or, with `None`, removed).
    edits: Vec<(Key, Option<Val>)>,
}

impl Body {
    fn json(&self) -> Value {
        let mut doc = match self.base {
            Base::Empty => json!({}),
            Base::User => {
                // As a client would PUT it back: without the hidden value,
                // which GET never shows.
                let mut u = seed_users()[1].1.clone();
                if let Some(ext) = u.get_mut(CUSTOM).and_then(Value::as_object_mut) {
                    ext.remove("legacy");
                }
                u
            }
            Base::Manager => seed_users()[0].1.clone(),
            Base::Group => json!({
                "schemas": [GROUP_SCHEMA],
                "displayName": "Tour Guides",
                "members": [{"value": USER_ID}, {"value": SUBGROUP_ID, "type": "Group"}],
            }),
        };
        if let Some(m) = doc.as_object_mut() {
            for (k, v) in &self.edits {
                match v {
                    Some(v) => {
                        m.insert(k.text(), v.json(0));
                    }
                    None => {
                        m.remove(&k.text());
                    }
                }
            }
        }
        doc
    }
}

#[derive(Arbitrary, Debug)]
struct Opts {
    /// `If-Match` with the current version (true) or another one (false).
    if_match: Option<bool>,
    /// `attributes`, so that Groups answer 200 with the resource.
    attributes: Option<Key>,
}

#[derive(Arbitrary, Debug)]
enum Call {
    PatchUser(PatchDoc, Opts),
    PatchGroup(PatchDoc, Opts),
    PutUser(Body, Opts),
    PutGroup(Body, Opts),
    PostUser(Body),
    PostGroup(Body),
}

fn query(path: &str, opts: &Opts) -> String {
    match &opts.attributes {
        Some(k) => {
            let v: String = url_encode(&k.text());
            format!("{path}?attributes={v}")
        }
        None => path.to_owned(),
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn headers(opts: &Opts) -> Vec<(&'static str, &'static str)> {
    match opts.if_match {
        Some(true) => vec![("If-Match", "W/\"1\"")],
        Some(false) => vec![("If-Match", "W/\"2\"")],
        None => Vec::new(),
    }
}

fuzz_target!(|call: Call| {
    let app = App::get();
    let user = format!("/Users/{USER_ID}");
    let group = format!("/Groups/{GROUP_ID}");
    let (what, method, path, readable, body, hdrs) = match &call {
        Call::PatchUser(d, o) => (
            "PATCH",
            Method::Patch,
            query(&user, o),
            Some(user.clone()),
            d.json(),
            headers(o),
        ),
        Call::PatchGroup(d, o) => (
            "PATCH",
            Method::Patch,
            query(&group, o),
            Some(group.clone()),
            d.json(),
            headers(o),
        ),
        Call::PutUser(b, o) => (
            "PUT",
            Method::Put,
            query(&user, o),
            Some(user.clone()),
            b.json(),
            headers(o),
        ),
        Call::PutGroup(b, o) => (
            "PUT",
            Method::Put,
            query(&group, o),
            Some(group.clone()),
            b.json(),
            headers(o),
        ),
        Call::PostUser(b) => (
            "POST",
            Method::Post,
            "/Users".into(),
            None,
            b.json(),
            Vec::new(),
        ),
        Call::PostGroup(b) => (
            "POST",
            Method::Post,
            "/Groups".into(),
            None,
            b.json(),
            Vec::new(),
        ),
    };
    let bytes = body.to_string().into_bytes();
    let reply = app.call(method, &path, Some(&bytes), &hdrs);
    let readable = match readable {
        Some(r) => Some(r),
        None if reply.ok() => {
            Some(location_path(&reply).expect("a 201 without a Location of this tenant"))
        }
        None => None,
    };
    let shown = format!("{what} {path}\n{body}");
    app.after(what, shown.as_bytes(), &reply, readable.as_deref());
});
