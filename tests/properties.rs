//! Property tests (proptest) of the filter grammar and of PATCH.
//!
//! - RFC 7644 §3.4.2.2 filters: generated ASTs print and parse back equal;
//!   noisy spellings (keyword case, whitespace, redundant parentheses, JSON
//!   escapes, URN case) parse to the same AST; arbitrary input never panics
//!   and whatever parses is a print/parse fixed point; depth and length limits.
//! - RFC 7644 §3.5.2 PATCH paths: print/parse round trip.
//! - RFC 7644 §3.4.2.2 filters over SQL (`GET /Users?filter=`) select the
//!   users that in-memory `Filter::matches` selects.
//! - RFC 7644 §3.5.2 PATCH through the whole service agrees with a reference
//!   model; rejected requests change nothing; `meta.version` moves iff the
//!   resource changed.

use proptest::prelude::*;
use scim_worker::testing::proto::user_resource_type;
use scim_worker::testing::proto::{
    parse_filter, AttrPath, CompValue, CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN,
};
use scim_worker::testing::proto::{parse_patch_path, PatchPath};
use scim_worker::testing::{
    urn::{ENTERPRISE, PATCH_OP, USER as CORE},
    App, Creds,
};
use serde_json::{json, Map, Number, Value};

const URNS: &[&str] = &[CORE, ENTERPRISE];

/// `cases` cases; failures are saved beside this file, in
/// `tests/properties.proptest-regressions`, and replayed first.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::with_cases(cases)
    }
}

// ===========================================================================
// Filter ASTs (RFC 7644 §3.4.2.2)
// ===========================================================================

/// Attribute names, including ones spelled like keywords and operators.
const NAMES: &[&str] = &[
    "userName", "title", "emails", "name", "active", "value", "type", "$ref", "$Ref", "not", "NOT",
    "and", "Or", "pr", "eq", "ne", "co", "true", "null", "False", "x-y_2", "A", "a1",
];

fn attr_name() -> BoxedStrategy<String> {
    prop_oneof![
        2 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
    ]
    .boxed()
}

/// No URN, a known schema URN (canonical spelling), or an unknown one (kept
/// as written; it cannot start like a known one).
fn urn() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some(CORE.to_owned())),
        2 => Just(Some(ENTERPRISE.to_owned())),
        1 => "(urn|URN|uRn):x[a-z0-9]{0,4}(:[A-Za-z0-9._é-]{1,6}){0,3}".prop_map(Some),
    ]
    .boxed()
}

/// `[URN ":"] name ["." sub]`, anywhere outside a value filter.
fn top_path() -> BoxedStrategy<AttrPath> {
    (urn(), attr_name(), prop::option::of(attr_name()))
        .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
        .boxed()
}

/// The attribute before `[`: no sub-attribute.
fn value_path_attr() -> BoxedStrategy<AttrPath> {
    (urn(), attr_name())
        .prop_map(|(urn, name)| AttrPath {
            urn,
            name,
            sub: None,
        })
        .boxed()
}

/// Inside a value filter: a plain sub-attribute name.
fn plain_path() -> BoxedStrategy<AttrPath> {
    attr_name()
        .prop_map(|name| AttrPath {
            urn: None,
            name,
            sub: None,
        })
        .boxed()
}

/// Strings that need escaping, unicode, and look-alikes of syntax.
const TRICKY: &[&str] = &[
    "",
    "\"",
    "\\",
    "\\\"",
    "a\"b\\c/d",
    "a(b)[c]",
    " and ",
    "not (x pr)",
    "\u{0}\u{1f}\u{7f}",
    "é😀\u{2028}\u{feff}",
    "\u{10ffff}",
    "\\u0041",
];

fn string_value() -> BoxedStrategy<String> {
    let chars = prop::sample::select(vec![
        '"', '\\', '/', 'a', 'Z', 'é', 'É', '😀', '\0', '\n', '\t', '(', ')', '[', ']', ' ',
        '\u{7f}', '\u{2028}', '\u{ffff}',
    ]);
    prop_oneof![
        "[a-zA-Z0-9 @._-]{0,12}",
        "(?s).{0,12}",
        prop::sample::select(TRICKY).prop_map(str::to_owned),
        prop::collection::vec(chars, 0..10).prop_map(|v| v.into_iter().collect()),
    ]
    .boxed()
}

/// Integers of both signs, short decimals, and arbitrary finite doubles.
fn number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        (-1_000_000i64..1_000_000, 0i32..7).prop_filter_map("finite", |(m, k)| Number::from_f64(
            m as f64 / 10f64.powi(k)
        )),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
    ]
    .boxed()
}

const OPS: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

/// `pr` or a comparison; `null` and booleans only with `eq`/`ne`.
fn attr_exp(path: BoxedStrategy<AttrPath>) -> BoxedStrategy<Filter> {
    let ordered = (
        path.clone(),
        prop::sample::select(OPS),
        prop_oneof![
            3 => string_value().prop_map(CompValue::String),
            2 => number().prop_map(CompValue::Number),
        ],
    );
    let equality = (
        path.clone(),
        prop::sample::select(&OPS[..2]),
        prop_oneof![
            Just(CompValue::Null),
            any::<bool>().prop_map(CompValue::Bool)
        ],
    );
    prop_oneof![
        1 => path.prop_map(Filter::Present),
        3 => ordered.prop_map(|(p, op, v)| Filter::Compare(p, op, v)),
        1 => equality.prop_map(|(p, op, v)| Filter::Compare(p, op, v)),
    ]
    .boxed()
}

/// `and`, `or` and `not (…)` over `leaf`, nested up to `depth` levels.
fn logical(leaf: BoxedStrategy<Filter>, depth: u32, size: u32) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(depth, size, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|x| Filter::Not(Box::new(x))),
        ]
    })
    .boxed()
}

/// A value filter's contents (`valFilter`): no URNs, sub-attributes or nesting.
fn val_filter() -> BoxedStrategy<Filter> {
    logical(attr_exp(plain_path()), 3, 8)
}

/// Any filter. Nesting stays far below `MAX_FILTER_DEPTH`: at most 4
/// logical levels, one value path and 3 more levels inside it.
fn filter() -> BoxedStrategy<Filter> {
    let leaf = prop_oneof![
        3 => attr_exp(top_path()),
        1 => (value_path_attr(), val_filter())
            .prop_map(|(p, f)| Filter::ValuePath(p, Box::new(f))),
    ];
    logical(leaf.boxed(), 4, 24)
}

// ---------------------------------------------------------------------------
// A noisy printer: the same filter, spelled differently.

/// A small deterministic generator (xorshift64*), seeded by proptest.
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Noise {
        Noise(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
    /// `min` or more whitespace characters of RFC 7644's kinds.
    fn space(&mut self, out: &mut String, min: usize) {
        let n = min + (self.next() % 3) as usize;
        for _ in 0..n {
            out.push([' ', ' ', '\t', '\n', '\r'][(self.next() % 5) as usize]);
        }
    }
    /// `s` with each ASCII letter's case flipped at random.
    fn case(&mut self, s: &str) -> String {
        s.chars()
            .map(|c| {
                if self.one_in(2) {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }
}

fn noisy_path(p: &AttrPath, n: &mut Noise, out: &mut String) {
    if let Some(urn) = &p.urn {
        // Known URNs match case-insensitively (and read back canonical).
        if URNS.contains(&urn.as_str()) {
            out.push_str(&n.case(urn));
        } else {
            out.push_str(urn);
        }
        out.push(':');
    }
    out.push_str(&p.name);
    if let Some(sub) = &p.sub {
        out.push('.');
        out.push_str(sub);
    }
}

/// A JSON string literal with random (valid) escapes.
fn noisy_string(s: &str, n: &mut Noise, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\t' => Some("\\t"),
            '\r' => Some("\\r"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '/' if n.one_in(2) => Some("\\/"),
            _ => None,
        };
        let must_escape = c < ' ' || c == '"' || c == '\\';
        if let (Some(e), false) = (short, n.one_in(3)) {
            out.push_str(e);
        } else if must_escape || n.one_in(4) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let hex = format!("\\u{u:04x}");
                out.push_str(&if n.one_in(2) {
                    hex.to_ascii_uppercase().replacen("\\U", "\\u", 1)
                } else {
                    hex
                });
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

fn noisy_value(v: &CompValue, n: &mut Noise, out: &mut String) {
    match v {
        CompValue::Null => out.push_str(&n.case("null")),
        CompValue::Bool(b) => out.push_str(&n.case(&b.to_string())),
        CompValue::Number(x) => {
            let s = x.to_string();
            out.push_str(&if n.one_in(2) { s.replace('e', "E") } else { s });
        }
        CompValue::String(s) => noisy_string(s, n, out),
    }
}

/// `x`, parenthesised when `needed` and sometimes when not.
fn noisy_operand(x: &Filter, needed: bool, n: &mut Noise, out: &mut String) {
    if needed || n.one_in(5) {
        out.push('(');
        n.space(out, 0);
        noisy(x, n, out);
        n.space(out, 0);
        out.push(')');
    } else {
        noisy(x, n, out);
    }
}

fn noisy(f: &Filter, n: &mut Noise, out: &mut String) {
    match f {
        Filter::Present(p) => {
            noisy_path(p, n, out);
            n.space(out, 1);
            out.push_str(&n.case("pr"));
        }
        Filter::Compare(p, op, v) => {
            noisy_path(p, n, out);
            n.space(out, 1);
            out.push_str(&n.case(op.as_str()));
            // A string needs no space before it.
            n.space(out, usize::from(!matches!(v, CompValue::String(_))));
            noisy_value(v, n, out);
        }
        Filter::And(a, b) => {
            noisy_operand(a, matches!(**a, Filter::Or(..)), n, out);
            n.space(out, 1);
            out.push_str(&n.case("and"));
            n.space(out, 1);
            noisy_operand(b, matches!(**b, Filter::And(..) | Filter::Or(..)), n, out);
        }
        Filter::Or(a, b) => {
            noisy_operand(a, false, n, out);
            n.space(out, 1);
            out.push_str(&n.case("or"));
            n.space(out, 1);
            noisy_operand(b, matches!(**b, Filter::Or(..)), n, out);
        }
        Filter::Not(x) => {
            out.push_str(&n.case("not"));
            n.space(out, 0);
            out.push('(');
            n.space(out, 0);
            noisy(x, n, out);
            n.space(out, 0);
            out.push(')');
        }
        Filter::ValuePath(p, x) => {
            noisy_path(p, n, out);
            n.space(out, 0);
            out.push('[');
            n.space(out, 0);
            noisy(x, n, out);
            n.space(out, 0);
            out.push(']');
        }
    }
}

// ---------------------------------------------------------------------------
// Inputs that are mostly not filters.

/// Tokens of the grammar and near misses, for token soup.
const SOUP: &[&str] = &[
    "userName",
    "emails",
    "name.givenName",
    "emails.value",
    ".value",
    ".",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:",
    "urn:x:y",
    "a:b",
    "eq",
    "NE",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "and",
    "or",
    "not",
    "(",
    ")",
    "[",
    "]",
    "\"x\"",
    "\"a\\\"b\"",
    "\"\\u00e9\"",
    "\"\\ud800\"",
    "\"",
    "\\",
    "1",
    "-2.5e3",
    "01",
    "1.",
    "-",
    "1e400",
    "true",
    "False",
    "null",
    "$ref",
    "é",
    "😀",
];

fn soup() -> BoxedStrategy<String> {
    let piece = (
        prop::sample::select(SOUP),
        prop::sample::select(&["", " ", "  ", "\t"][..]),
    );
    prop::collection::vec(piece, 0..24)
        .prop_map(|v| v.into_iter().map(|(t, s)| format!("{t}{s}")).collect())
        .boxed()
}

/// A printed filter with a few characters deleted, inserted or replaced.
fn mutated_filter() -> BoxedStrategy<String> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..3,
        prop::sample::select(SOUP),
    );
    (filter(), prop::collection::vec(edit, 1..4))
        .prop_map(|(f, edits)| {
            let mut chars: Vec<char> = f.to_string().chars().collect();
            for (at, kind, text) in edits {
                let i = at.index(chars.len() + 1);
                match kind {
                    0 if i < chars.len() => {
                        chars.remove(i);
                    }
                    1 if i < chars.len() => {
                        chars.splice(i..=i, text.chars());
                    }
                    _ => {
                        chars.splice(i..i, text.chars());
                    }
                }
            }
            chars.into_iter().collect()
        })
        .boxed()
}

fn any_input() -> BoxedStrategy<String> {
    prop_oneof!["(?s).{0,40}", soup(), mutated_filter(),].boxed()
}

// ---------------------------------------------------------------------------
// PATCH paths (RFC 7644 §3.5.2): `attrPath / valuePath [subAttr]`.

fn patch_path() -> BoxedStrategy<PatchPath> {
    prop_oneof![
        3 => top_path().prop_map(|attr| PatchPath {
            attr,
            filter: None,
            sub_after_filter: None,
        }),
        3 => (value_path_attr(), val_filter(), prop::option::of(attr_name())).prop_map(
            |(attr, f, sub)| PatchPath {
                attr,
                filter: Some(f),
                sub_after_filter: sub,
            }
        ),
        1 => prop::sample::select(URNS).prop_map(|u| PatchPath {
            attr: AttrPath {
                urn: Some(u.to_owned()),
                name: String::new(),
                sub: None,
            },
            filter: None,
            sub_after_filter: None,
        }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(256))]

    /// RFC 7644 §3.4.2.2: the canonical printer's output parses back to the
    /// same AST (precedence, associativity, escaping, numbers, URNs).
    #[test]
    fn rfc7644_3_4_2_2_filter_print_parse_round_trip(f in filter()) {
        let printed = f.to_string();
        let parsed = parse_filter(&printed, URNS);
        if printed.len() > MAX_FILTER_LEN {
            prop_assert!(parsed.is_err(), "{printed}");
        } else {
            prop_assert_eq!(parsed, Ok(f), "{}", printed);
        }
    }

    /// RFC 7644 §3.4.2.2: operators, keywords and literals are
    /// case-insensitive, whitespace and redundant parentheses do not matter,
    /// strings are JSON strings (any escape), and known schema URNs match
    /// case-insensitively: all spellings parse to the same AST.
    #[test]
    fn rfc7644_3_4_2_2_filter_spellings_parse_alike(f in filter(), seed in any::<u64>()) {
        let mut noise = Noise::new(seed);
        let mut text = String::new();
        noise.space(&mut text, 0);
        noisy_operand(&f, false, &mut noise, &mut text);
        noise.space(&mut text, 0);
        let parsed = parse_filter(&text, URNS);
        if text.len() > MAX_FILTER_LEN {
            prop_assert!(parsed.is_err(), "{text}");
        } else {
            prop_assert_eq!(parsed, Ok(f), "{}", text);
        }
    }

    /// RFC 7644 §3.4.2.2: any input is accepted or rejected without a panic;
    /// an accepted one prints to a filter that parses back equal.
    #[test]
    fn rfc7644_3_4_2_2_filter_parser_total_and_fixed_point(input in any_input()) {
        if let Ok(f) = parse_filter(&input, URNS) {
            let printed = f.to_string();
            // Printing may lengthen (`1e5` prints as `100000.0`).
            if printed.len() <= MAX_FILTER_LEN {
                prop_assert_eq!(parse_filter(&printed, URNS), Ok(f), "{} -> {}", input, printed);
            }
        }
        if let Ok(p) = parse_patch_path(&input, URNS) {
            let printed = p.to_string();
            if printed.len() <= MAX_FILTER_LEN {
                prop_assert_eq!(parse_patch_path(&printed, URNS), Ok(p), "{} -> {}", input, printed);
            }
        }
    }

    /// RFC 7644 §3.5.2: PATCH paths print and parse back equal.
    #[test]
    fn rfc7644_3_5_2_patch_path_round_trip(p in patch_path()) {
        let printed = p.to_string();
        prop_assert_eq!(parse_patch_path(&printed, URNS), Ok(p), "{}", printed);
    }

    /// Nesting of `( … )`, `not ( … )` and value paths is accepted up to
    /// `MAX_FILTER_DEPTH` levels and rejected beyond, without a panic.
    #[test]
    fn filter_depth_limit(levels in prop::collection::vec(any::<bool>(), 0..48), value_path in any::<bool>()) {
        let mut text = String::new();
        for &not in &levels {
            text.push_str(if not { "not (" } else { "(" });
        }
        text.push_str(if value_path { "emails[type eq \"work\"]" } else { "a pr" });
        text.push_str(&")".repeat(levels.len()));
        let depth = levels.len() + usize::from(value_path);
        let parsed = parse_filter(&text, URNS);
        prop_assert_eq!(parsed.is_ok(), depth <= MAX_FILTER_DEPTH, "{} {:?}", depth, parsed);
    }

    /// Filters and paths are accepted up to `MAX_FILTER_LEN` bytes.
    #[test]
    fn filter_length_limit(pad in (MAX_FILTER_LEN - 16)..(MAX_FILTER_LEN + 16), multibyte in any::<bool>()) {
        let text = if multibyte {
            // Two-byte characters inside a string: the limit is in bytes.
            let body = "é".repeat(pad.saturating_sub(8) / 2);
            format!("a eq \"{body}\"")
        } else {
            format!("a pr{}", " ".repeat(pad.saturating_sub(4)))
        };
        prop_assert_eq!(parse_filter(&text, URNS).is_ok(), text.len() <= MAX_FILTER_LEN);
        let path = format!("a{}", " ".repeat(pad.saturating_sub(1)));
        prop_assert_eq!(parse_patch_path(&path, URNS).is_ok(), path.len() <= MAX_FILTER_LEN);
    }
}

// ===========================================================================
// Filters over SQL agree with in-memory evaluation (RFC 7644 §3.4.2.2)
// ===========================================================================

/// Values of users and of filter operands: a small pool, so that filters
/// match, order and prefix one another; ASCII case variants included.
/// Non-ASCII letters only in lower case: for attributes without a folded
/// column, SQL folds ASCII only (SQLite's `lower`, no ICU on D1), while
/// `Filter::matches` folds Unicode, so "é" and "É" differ only there.
const WORDS: &[&str] = &[
    "", "a", "A", "ab", "aB", "Ab", "abc", "b", "ba", "x y", "z", "é", "éa", "a@x.org", "B@x.org",
];
/// Distinct ignoring case: userName is unique case-insensitively.
const USER_NAMES: &[&str] = &["a", "ab", "abc", "b", "ba", "bob@x.org", "é", "zed"];

fn word() -> BoxedStrategy<String> {
    prop::sample::select(WORDS).prop_map(str::to_owned).boxed()
}

fn opt_word() -> BoxedStrategy<Option<String>> {
    prop::option::of(word()).boxed()
}

/// Emails of a generated user: always a non-empty value (the email index
/// holds only emails with a value), a type, sometimes `primary` (at most one true).
fn list_elements(types: &'static [&'static str]) -> BoxedStrategy<Vec<Value>> {
    let one = (
        prop::sample::select(&WORDS[1..]),
        prop::sample::select(types),
        prop::option::of(any::<bool>()),
    );
    prop::collection::vec(one, 0..3)
        .prop_map(|items| {
            let mut seen_primary = false;
            items
                .into_iter()
                .map(|(v, t, p)| {
                    let mut m = Map::new();
                    m.insert("value".into(), json!(v));
                    m.insert("type".into(), json!(t));
                    if let Some(p) = p {
                        let p = p && !seen_primary;
                        seen_primary |= p;
                        m.insert("primary".into(), json!(p));
                    }
                    Value::Object(m)
                })
                .collect()
        })
        .boxed()
}

/// Random ASCII case of `s`, decided by `seed`.
fn mix_case(s: &str, seed: u64) -> String {
    if seed.is_multiple_of(3) {
        return s.to_owned();
    }
    Noise::new(seed).case(s)
}

/// A user for the filter property: every attribute the filters name may be
/// there or not, except `active`, which is always given (a user without
/// `active` is active for the SQL side: RFC 7643 §4.1.1, store/users.rs).
fn filter_user(user_name: &'static str) -> BoxedStrategy<Value> {
    (
        any::<u64>(),
        (opt_word(), opt_word(), opt_word(), opt_word()),
        any::<bool>(),
        list_elements(&["work", "home", "Work"]),
        (opt_word(), opt_word(), opt_word()),
    )
        .prop_map(
            move |(seed, (display, title, given, family), active, emails, (emp, dept, mgr))| {
                let mut u = Map::new();
                u.insert("schemas".into(), json!([CORE, ENTERPRISE]));
                u.insert("userName".into(), json!(mix_case(user_name, seed)));
                let put = |m: &mut Map<String, Value>, k: &str, v: Option<String>| {
                    if let Some(v) = v {
                        m.insert(k.into(), json!(v));
                    }
                };
                put(&mut u, "displayName", display);
                put(&mut u, "title", title);
                let mut name = Map::new();
                put(&mut name, "givenName", given);
                put(&mut name, "familyName", family);
                if !name.is_empty() {
                    u.insert("name".into(), Value::Object(name));
                }
                u.insert("active".into(), json!(active));
                if !emails.is_empty() {
                    u.insert("emails".into(), Value::Array(emails));
                }
                let mut ent = Map::new();
                put(&mut ent, "employeeNumber", emp);
                put(&mut ent, "department", dept);
                if let Some(m) = mgr.filter(|m| !m.is_empty()) {
                    ent.insert("manager".into(), json!({"value": m}));
                }
                if !ent.is_empty() {
                    u.insert(ENTERPRISE.into(), Value::Object(ent));
                }
                Value::Object(u)
            },
        )
        .boxed()
}

fn users_for_filters() -> BoxedStrategy<Vec<Value>> {
    prop::sample::subsequence(USER_NAMES, 1..=5)
        .prop_flat_map(|names| names.into_iter().map(filter_user).collect::<Vec<_>>())
        .boxed()
}

fn path(urn: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        urn: urn.map(str::to_owned),
        name: name.to_owned(),
        sub: sub.map(str::to_owned),
    }
}

/// Single-valued string attributes: columns (userName, displayName) and
/// JSON paths, core and Enterprise.
fn string_attr() -> BoxedStrategy<AttrPath> {
    prop::sample::select(vec![
        path(None, "userName", None),
        path(None, "displayName", None),
        path(None, "title", None),
        path(None, "name", Some("givenName")),
        path(None, "name", Some("familyName")),
        path(Some(ENTERPRISE), "employeeNumber", None),
        path(Some(ENTERPRISE), "department", None),
        path(Some(ENTERPRISE), "manager", Some("value")),
        path(Some(CORE), "title", None),
    ])
    .boxed()
}

/// Sub-attributes of the emails index, top level (`emails.value`).
fn email_attr() -> BoxedStrategy<AttrPath> {
    prop::sample::select(vec![
        path(None, "emails", None),
        path(None, "emails", Some("value")),
        path(None, "emails", Some("type")),
    ])
    .boxed()
}

fn ordered_op() -> BoxedStrategy<CompareOp> {
    prop::sample::select(OPS).boxed()
}

fn sql_leaf() -> BoxedStrategy<Filter> {
    let s = |w: String| CompValue::String(w);
    let eq_ne = prop::sample::select(&OPS[..2]);
    prop_oneof![
        4 => (string_attr(), ordered_op(), word()).prop_map(move |(p, op, w)| Filter::Compare(p, op, s(w))),
        1 => (string_attr(), eq_ne.clone()).prop_map(|(p, op)| Filter::Compare(p, op, CompValue::Null)),
        1 => (eq_ne.clone(), any::<bool>())
            .prop_map(|(op, b)| Filter::Compare(path(None, "active", None), op, CompValue::Bool(b))),
        // Multi-valued at the top level: "any value matches" (no `ne`, no
        // `null`: see the note on `sql_and_memory_agree`).
        2 => (email_attr(), prop::sample::select(vec![CompareOp::Eq, CompareOp::Co, CompareOp::Sw, CompareOp::Ew, CompareOp::Gt, CompareOp::Ge, CompareOp::Lt, CompareOp::Le]), word())
            .prop_map(move |(p, op, w)| Filter::Compare(p, op, s(w))),
        2 => prop::sample::select(vec![
                path(None, "userName", None),
                path(None, "displayName", None),
                path(None, "title", None),
                path(None, "name", None),
                path(None, "name", Some("givenName")),
                path(None, "active", None),
                path(None, "emails", None),
                path(None, "emails", Some("value")),
                path(Some(ENTERPRISE), "manager", None),
                path(Some(ENTERPRISE), "employeeNumber", None),
            ]).prop_map(Filter::Present),
        2 => email_value_filter().prop_map(|f| Filter::ValuePath(path(None, "emails", None), Box::new(f))),
    ]
    .boxed()
}

fn email_value_filter() -> BoxedStrategy<Filter> {
    let sub = prop::sample::select(vec!["value", "type", "primary"]);
    let leaf = prop_oneof![
        (
            prop::sample::select(vec!["value", "type"]),
            ordered_op(),
            word()
        )
            .prop_map(|(n, op, w)| Filter::Compare(
                path(None, n, None),
                op,
                CompValue::String(w)
            )),
        (prop::sample::select(&OPS[..2]), any::<bool>()).prop_map(|(op, b)| Filter::Compare(
            path(None, "primary", None),
            op,
            CompValue::Bool(b)
        )),
        sub.prop_map(|n| Filter::Present(path(None, n, None))),
    ];
    logical(leaf.boxed(), 2, 4)
}

fn sql_filter() -> BoxedStrategy<Filter> {
    logical(sql_leaf(), 3, 8)
}

/// RFC 7643 §2.4: "If not specified, the value of "primary" SHALL be
/// assumed to be "false"": the email index stores it so, and the in-memory
/// side is given the same default.
fn primary_defaults_to_false(resource: &Value) -> Value {
    let mut r = resource.clone();
    if let Some(items) = r.get_mut("emails").and_then(Value::as_array_mut) {
        for e in items.iter_mut().filter_map(Value::as_object_mut) {
            e.entry("primary").or_insert(json!(false));
        }
    }
    r
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn create(app: &App, c: &Creds, body: &Value) -> Result<(String, Value), TestCaseError> {
    let r = app.call(c, "POST", "/Users", Some(body.clone()));
    prop_assert_eq!(r.status, 201, "{} -> {}", body, r.body);
    let id = r.body["id"].as_str().unwrap_or_default().to_owned();
    let got = app.call(c, "GET", &format!("/Users/{id}"), None);
    prop_assert_eq!(got.status, 200);
    Ok((id, got.body))
}

proptest! {
    #![proptest_config(config(64))]

    /// RFC 7644 §3.4.2.2 through the service: `GET /Users?filter=` (SQL)
    /// returns exactly the users that `Filter::matches` selects from their
    /// representations, for filters over columns (userName, displayName,
    /// active), JSON paths (title, name.*, Enterprise attributes), the email
    /// index (`emails.value`, `emails[type eq … and …]`), `pr`, `not`, `and`, `or`.
    ///
    /// Deliberate differences, left out or modelled: `ne` and `eq null` on
    /// a multi-valued attribute at the top level (SQL: some value differs;
    /// in memory: no value equals); users without `active` (active for SQL,
    /// RFC 7643 §4.1.1); emails without `primary` (false for SQL, RFC 7643
    /// §2.4: the in-memory side gets the default); non-ASCII case variants
    /// (see `WORDS`).
    #[test]
    fn rfc7644_3_4_2_2_sql_and_memory_agree(
        users in users_for_filters(),
        filters in prop::collection::vec(sql_filter(), 1..6),
    ) {
        let app = App::new();
        let c = app.tenant("acme");
        let rt = user_resource_type(vec![]);
        let exact = |p: &AttrPath| rt.find(p).is_some_and(|(_, a)| a.case_exact);
        let mut created = Vec::new();
        for u in &users {
            created.push(create(&app, &c, u)?);
        }
        for f in filters {
            let text = f.to_string();
            let r = app.call(&c, "GET", &format!("/Users?count=100&filter={}", urlencode(&text)), None);
            prop_assert_eq!(r.status, 200, "{} -> {}", text, r.body);
            let mut got: Vec<String> = r.body["Resources"]
                .as_array()
                .map(|a| a.iter().filter_map(|u| u["id"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            got.sort();
            let mut want: Vec<String> = created
                .iter()
                .filter(|(_, rep)| f.matches(&primary_defaults_to_false(rep), &exact))
                .map(|(id, _)| id.clone())
                .collect();
            want.sort();
            let names = |ids: &[String]| -> Vec<Value> {
                created.iter().filter(|(id, _)| ids.contains(id)).map(|(_, u)| u.clone()).collect()
            };
            prop_assert_eq!(&got, &want, "filter {}\nSQL: {:#?}\nmemory: {:#?}", text, names(&got), names(&want));
        }
    }
}

/// Strings with non-ASCII capitals (`É`, `İ`, which lowercases to two
/// characters), SQL quotes and LIKE wildcards. No `Σ`: its lower case
/// depends on the position (final sigma), so its prefixes do not fold to
/// prefixes.
fn stored_string() -> BoxedStrategy<String> {
    let chars = prop::sample::select(vec![
        'a', 'B', 'z', '0', ' ', 'é', 'É', 'İ', 'ß', 'ǅ', 'Ω', '😀', '\'', '"', '%', '_', '\\', '.',
    ]);
    prop::collection::vec(chars, 1..10)
        .prop_map(|v| v.into_iter().collect())
        .boxed()
}

/// A prefix, a suffix and a middle part of `s`, at character boundaries.
fn parts(s: &str, a: usize, b: usize) -> (String, String, String) {
    let chars: Vec<char> = s.chars().collect();
    let (i, j) = (a % (chars.len() + 1), b % (chars.len() + 1));
    let (lo, hi) = (i.min(j), i.max(j));
    let take = |r: std::ops::Range<usize>| chars[r].iter().collect::<String>();
    (take(0..hi), take(lo..chars.len()), take(lo..hi))
}

proptest! {
    #![proptest_config(config(64))]

    /// RFC 7644 §3.4.2.2 through SQL: a stored string is found by `eq`
    /// itself and by `sw`/`ew`/`co` of its own prefix, suffix and middle, and
    /// for attributes that are not caseExact (RFC 7643 §2.2) also with ASCII
    /// letters in another case; `ne` itself does not find it. Covers folded
    /// columns (userName, emails.value), plain columns (displayName) and
    /// JSON paths (title, name.givenName, the Enterprise department).
    #[test]
    fn rfc7644_3_4_2_2_sql_finds_stored_values(
        values in prop::collection::vec(stored_string(), 6),
        cuts in (any::<usize>(), any::<usize>()),
        seed in any::<u64>(),
    ) {
        let app = App::new();
        let c = app.tenant("acme");
        let user = json!({
            "schemas": [CORE, ENTERPRISE],
            "userName": values[0],
            "displayName": values[1],
            "title": values[2],
            "name": {"givenName": values[3]},
            "emails": [{"value": values[4], "type": "work"}],
            ENTERPRISE: {"department": values[5]},
        });
        let (id, _) = create(&app, &c, &user)?;
        let attrs = [
            "userName",
            "displayName",
            "title",
            "name.givenName",
            "emails.value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        ];
        for (attr, v) in attrs.iter().zip(&values) {
            let (prefix, suffix, middle) = parts(v, cuts.0, cuts.1);
            let lit = |s: &str| Value::String(s.to_owned()).to_string();
            let finds = [
                format!("{attr} eq {}", lit(v)),
                format!("{attr} eq {}", lit(&mix_case(v, seed))),
                format!("{attr} sw {}", lit(&prefix)),
                format!("{attr} ew {}", lit(&suffix)),
                format!("{attr} co {}", lit(&middle)),
                format!("{attr} sw {}", lit(&mix_case(&prefix, seed))),
                format!("{attr} ge {}", lit(v)),
                format!("{attr} le {}", lit(v)),
            ];
            for f in &finds {
                let r = app.call(&c, "GET", &format!("/Users?filter={}", urlencode(f)), None);
                prop_assert_eq!(r.status, 200, "{} -> {}", f, r.body);
                prop_assert_eq!(&r.body["Resources"][0]["id"], &json!(id), "{} found nothing", f);
            }
            let f = format!("{attr} ne {}", lit(v));
            let r = app.call(&c, "GET", &format!("/Users?filter={}", urlencode(&f)), None);
            prop_assert_eq!(&r.body["totalResults"], &json!(0), "{}", f);
        }
    }
}

// ===========================================================================
// PATCH through the service agrees with a reference model (RFC 7644 §3.5.2)
// ===========================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

/// What one operation (or one key of a path-less value) does, in model terms.
/// Key paths are canonical attribute names; the Enterprise extension is the
/// key `ENTERPRISE`.
#[derive(Debug, Clone)]
enum Effect {
    /// Sets a single-valued attribute or sub-attribute.
    Set(Vec<String>, Value),
    /// Sets the given sub-attributes of a complex attribute (§3.5.2.1, §3.5.2.3).
    Merge(Vec<String>, Map<String, Value>),
    Remove(Vec<String>),
    /// `add` to a multi-valued attribute: appends values not already there.
    ListAdd(String, Vec<Value>),
    /// `replace` of a multi-valued attribute: the new list.
    ListReplace(String, Vec<Value>),
    /// `remove` of a multi-valued attribute with a value list: removes the
    /// elements with those `value`s (Microsoft Entra ID's legacy form).
    ListRemoveValues(String, Vec<Value>),
    /// `list[a eq x and b eq y]` or `list[…].sub`.
    Element {
        list: String,
        filter: Vec<(String, Value)>,
        sub: Option<String>,
        kind: Kind,
        value: Value,
    },
    /// An operation the server must reject (400) whatever else the request holds.
    Reject,
}

type GenOp = (Value, Vec<Effect>);

fn keys(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

/// Values sent by PATCH: plain, unicode, quotes and escapes, empty.
fn patch_string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 ._@-]{0,10}",
        1 => "(?s).{0,8}",
        1 => prop::sample::select(TRICKY).prop_map(str::to_owned),
    ]
    .boxed()
}

fn op_name(kind: Kind) -> BoxedStrategy<String> {
    let names: &'static [&'static str] = match kind {
        Kind::Add => &["add", "Add", "ADD"],
        Kind::Replace => &["replace", "Replace", "REPLACE"],
        Kind::Remove => &["remove", "Remove"],
    };
    prop::sample::select(names).prop_map(str::to_owned).boxed()
}

fn add_or_replace() -> BoxedStrategy<Kind> {
    prop::sample::select(vec![Kind::Add, Kind::Replace]).boxed()
}

/// Single-valued string attributes: path spellings and model keys.
/// Unqualified Enterprise names resolve to the extension.
const SIMPLE: &[(&str, &[&str])] = &[
    ("title", &["title"]),
    ("displayName", &["displayName"]),
    ("name.givenName", &["name", "givenName"]),
    ("name.familyName", &["name", "familyName"]),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        &[ENTERPRISE, "employeeNumber"],
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        &[ENTERPRISE, "department"],
    ),
    ("employeeNumber", &[ENTERPRISE, "employeeNumber"]),
    (
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName",
        &["displayName"],
    ),
];

/// Attribute names are case-insensitive (RFC 7643 §2.1).
fn spelled(p: &'static str) -> BoxedStrategy<String> {
    any::<u64>().prop_map(move |seed| mix_case(p, seed)).boxed()
}

fn simple_ops() -> BoxedStrategy<GenOp> {
    let set = (prop::sample::select(SIMPLE), add_or_replace())
        .prop_flat_map(|((p, k), kind)| (spelled(p), op_name(kind), patch_string(), Just(k)))
        .prop_map(|(p, op, v, k)| {
            (
                json!({"op": op, "path": p, "value": v}),
                vec![Effect::Set(keys(k), json!(v))],
            )
        });
    let remove = prop::sample::select(SIMPLE)
        .prop_flat_map(|(p, k)| (spelled(p), op_name(Kind::Remove), Just(k)))
        .prop_map(|(p, op, k)| (json!({"op": op, "path": p}), vec![Effect::Remove(keys(k))]));
    // Not a string: rejected unless a later operation sets a string.
    let wrong_type =
        (prop::sample::select(SIMPLE), op_name(Kind::Replace)).prop_map(|((p, k), op)| {
            (
                json!({"op": op, "path": p, "value": 5}),
                vec![Effect::Set(keys(k), json!(5))],
            )
        });
    let remove_name = op_name(Kind::Remove).prop_map(|op| {
        (
            json!({"op": op, "path": "name"}),
            vec![Effect::Remove(keys(&["name"]))],
        )
    });
    prop_oneof![4 => set, 2 => remove, 1 => wrong_type, 1 => remove_name].boxed()
}

fn user_name_ops() -> BoxedStrategy<GenOp> {
    prop_oneof![
        (op_name(Kind::Replace), "[a-z]{1,6}(@x\\.org)?").prop_map(|(op, v)| (
            json!({"op": op, "path": "userName", "value": v}),
            vec![Effect::Set(keys(&["userName"]), json!(v))]
        )),
        // Required: rejected unless set again later in the same request.
        op_name(Kind::Remove).prop_map(|op| (
            json!({"op": op, "path": "userName"}),
            vec![Effect::Remove(keys(&["userName"]))]
        )),
        op_name(Kind::Replace).prop_map(|op| (
            json!({"op": op, "path": "userName", "value": ""}),
            vec![Effect::Set(keys(&["userName"]), json!(""))]
        )),
    ]
    .boxed()
}

/// `active`, including Microsoft Entra ID's "True"/"False" strings and the
/// Okta path-less `{"op":"replace","value":{"active":false}}`.
fn active_ops() -> BoxedStrategy<GenOp> {
    let sent = prop::sample::select(vec![
        (json!(true), json!(true)),
        (json!(false), json!(false)),
        (json!("True"), json!(true)),
        (json!("False"), json!(false)),
        (json!("FALSE"), json!(false)),
        // Not a boolean: rejected unless overwritten.
        (json!("maybe"), json!("maybe")),
    ]);
    prop_oneof![
        (add_or_replace().prop_flat_map(op_name), sent.clone()).prop_map(|(op, (v, m))| (
            json!({"op": op, "path": "active", "value": v}),
            vec![Effect::Set(keys(&["active"]), m)]
        )),
        (op_name(Kind::Replace), sent).prop_map(|(op, (v, m))| (
            json!({"op": op, "value": {"active": v}}),
            vec![Effect::Set(keys(&["active"]), m)]
        )),
        op_name(Kind::Remove).prop_map(|op| (
            json!({"op": op, "path": "active"}),
            vec![Effect::Remove(keys(&["active"]))]
        )),
    ]
    .boxed()
}

/// `name` as a complex value: the given sub-attributes are set, the others kept.
fn name_ops() -> BoxedStrategy<GenOp> {
    (
        add_or_replace().prop_flat_map(op_name),
        prop::option::of(patch_string()),
        prop::option::of(patch_string()),
    )
        .prop_map(|(op, given, family)| {
            let mut m = Map::new();
            if let Some(g) = given {
                m.insert("givenName".into(), json!(g));
            }
            if let Some(f) = family {
                m.insert("familyName".into(), json!(f));
            }
            (
                json!({"op": op, "path": "name", "value": m}),
                vec![Effect::Merge(keys(&["name"]), m)],
            )
        })
        .boxed()
}

const MANAGER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

/// The Enterprise `manager`: an object, Entra's bare id, "" to clear it,
/// `manager.value`, and removal; also the whole extension removed by its URN.
fn manager_ops() -> BoxedStrategy<GenOp> {
    let id = "[a-z0-9-]{1,8}";
    let mk = || keys(&[ENTERPRISE, "manager"]);
    prop_oneof![
        (add_or_replace().prop_flat_map(op_name), id, any::<bool>()).prop_map(
            move |(op, id, bare)| {
                let v = if bare {
                    json!(id)
                } else {
                    json!({"value": id})
                };
                let new = Map::from_iter([("value".to_owned(), json!(id))]);
                (
                    json!({"op": op, "path": MANAGER, "value": v}),
                    vec![Effect::Merge(mk(), new)],
                )
            }
        ),
        (op_name(Kind::Replace), any::<bool>()).prop_map(move |(op, bare)| {
            let v = if bare {
                json!("")
            } else {
                json!({"value": ""})
            };
            (
                json!({"op": op, "path": MANAGER, "value": v}),
                vec![Effect::Remove(mk())],
            )
        }),
        (op_name(Kind::Replace), id).prop_map(move |(op, id)| (
            json!({"op": op, "path": format!("{MANAGER}.value"), "value": id}),
            vec![Effect::Set(
                keys(&[ENTERPRISE, "manager", "value"]),
                json!(id)
            )]
        )),
        op_name(Kind::Remove).prop_map(move |op| (
            json!({"op": op, "path": MANAGER}),
            vec![Effect::Remove(mk())]
        )),
        op_name(Kind::Remove).prop_map(|op| (
            json!({"op": op, "path": ENTERPRISE}),
            vec![Effect::Remove(keys(&[ENTERPRISE]))]
        )),
    ]
    .boxed()
}

const LISTS: &[(&str, &[&str])] = &[
    ("emails", &["work", "home", "other"]),
    ("phoneNumbers", &["work", "mobile", "fax"]),
];

/// A small pool of values, so that added elements collide with existing ones.
const ELEMENT_VALUES: &[&str] = &["a@x.org", "b@x.org", "+1 555", "c"];

fn element(types: &'static [&'static str]) -> BoxedStrategy<Value> {
    (
        prop_oneof![
            3 => prop::sample::select(ELEMENT_VALUES).prop_map(str::to_owned),
            1 => patch_string(),
        ],
        prop::option::of(prop::sample::select(types)),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(v, t, p)| {
            let mut m = Map::new();
            m.insert("value".into(), json!(v));
            if let Some(t) = t {
                m.insert("type".into(), json!(t));
            }
            if let Some(p) = p {
                m.insert("primary".into(), json!(p));
            }
            Value::Object(m)
        })
        .boxed()
}

fn list_ops() -> BoxedStrategy<GenOp> {
    prop::sample::select(LISTS)
        .prop_flat_map(|(list, types)| {
            let elements = prop::collection::vec(element(types), 0..3);
            prop_oneof![
                (op_name(Kind::Add), elements.clone(), any::<bool>()).prop_map(
                    move |(op, es, single)| {
                        // A single object stands for a list of one.
                        let sent = match (single, es.first()) {
                            (true, Some(e)) if es.len() == 1 => e.clone(),
                            _ => Value::Array(es.clone()),
                        };
                        (
                            json!({"op": op, "path": list, "value": sent}),
                            vec![Effect::ListAdd(list.to_owned(), es)],
                        )
                    }
                ),
                (op_name(Kind::Replace), elements).prop_map(move |(op, es)| (
                    json!({"op": op, "path": list, "value": es}),
                    vec![Effect::ListReplace(list.to_owned(), es)]
                )),
                op_name(Kind::Remove).prop_map(move |op| (
                    json!({"op": op, "path": list}),
                    vec![Effect::Remove(vec![list.to_owned()])]
                )),
                (op_name(Kind::Remove), prop::sample::select(ELEMENT_VALUES)).prop_map(
                    move |(op, v)| (
                        json!({"op": op, "path": list, "value": [{"value": v}]}),
                        vec![Effect::ListRemoveValues(list.to_owned(), vec![json!(v)])]
                    )
                ),
            ]
        })
        .boxed()
}

/// Value-filter paths: `emails[type eq "work"]`, `emails[type eq "work"].value`
/// (Entra creates the element when none matches), `.primary`, `.display`;
/// filters on `type`, `value`, `primary eq true` and `and` of them; the
/// attribute sometimes URN-qualified.
fn element_ops() -> BoxedStrategy<GenOp> {
    let kind = prop::sample::select(vec![Kind::Add, Kind::Replace, Kind::Remove]);
    let sub = prop::sample::select(vec![None, Some("value"), Some("display"), Some("primary")]);
    (prop::sample::select(LISTS), kind, sub, any::<u64>())
        .prop_flat_map(|((list, types), kind, sub, seed)| {
            let value: BoxedStrategy<Value> = match sub {
                Some("primary") => any::<bool>().prop_map(Value::Bool).boxed(),
                Some(_) => patch_string().prop_map(Value::String).boxed(),
                None => (patch_string(), prop::option::of(patch_string()))
                    .prop_map(|(v, d)| {
                        let mut m = Map::new();
                        m.insert("value".into(), json!(v));
                        if let Some(d) = d {
                            m.insert("display".into(), json!(d));
                        }
                        Value::Object(m)
                    })
                    .boxed(),
            };
            // The operands match case-insensitively (neither type nor value
            // is caseExact).
            let pair = prop_oneof![
                3 => prop::sample::select(types)
                    .prop_map(move |t| ("type".to_owned(), json!(mix_case(t, seed)))),
                2 => prop::sample::select(ELEMENT_VALUES)
                    .prop_map(move |v| ("value".to_owned(), json!(mix_case(v, seed)))),
                1 => Just(("primary".to_owned(), json!(true))),
            ];
            let pairs = prop::collection::vec(pair, 1..3);
            (Just((list, kind, sub, seed)), pairs, value, op_name(kind))
        })
        .prop_map(|((list, kind, sub, seed), mut pairs, value, op)| {
            pairs.dedup_by(|a, b| a.0 == b.0);
            let filter: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{} eq {v}", mix_case(k, seed >> 8)))
                .collect();
            let urn = if seed.is_multiple_of(4) {
                format!("{CORE}:")
            } else {
                String::new()
            };
            let mut p = format!("{urn}{list}[{}]", filter.join(" and "));
            if let Some(s) = sub {
                p.push('.');
                p.push_str(s);
            }
            let mut op_json = json!({"op": op, "path": p});
            if kind != Kind::Remove {
                op_json["value"] = value.clone();
            }
            let effect = Effect::Element {
                list: list.to_owned(),
                filter: pairs,
                sub: sub.map(str::to_owned),
                kind,
                value,
            };
            (op_json, vec![effect])
        })
        .boxed()
}

/// Path-less `add`/`replace` with several attributes, as Okta and Entra send
/// them: plain, dotted (`name.givenName`) and URN-qualified keys, the
/// extension as an object, and whole lists.
fn pathless_ops() -> BoxedStrategy<GenOp> {
    let entry = prop_oneof![
        (prop::sample::select(&SIMPLE[..4]), patch_string()).prop_map(|((k, m), v)| (
            k.to_owned(),
            json!(v),
            Effect::Set(keys(m), json!(v))
        )),
        patch_string().prop_map(|v| (
            format!("{ENTERPRISE}:employeeNumber"),
            json!(v),
            Effect::Set(keys(&[ENTERPRISE, "employeeNumber"]), json!(v))
        )),
        patch_string().prop_map(|v| (
            ENTERPRISE.to_owned(),
            json!({"department": v}),
            Effect::Set(keys(&[ENTERPRISE, "department"]), json!(v))
        )),
        patch_string().prop_map(|v| (
            "name".to_owned(),
            json!({"familyName": v}),
            Effect::Merge(
                keys(&["name"]),
                Map::from_iter([("familyName".to_owned(), json!(v))])
            )
        )),
        prop::sample::select(vec![
            (json!(false), false),
            (json!("False"), false),
            (json!("True"), true)
        ])
        .prop_map(|(v, b)| (
            "active".to_owned(),
            v,
            Effect::Set(keys(&["active"]), json!(b))
        )),
        prop::collection::vec(element(&["work", "home"]), 0..3).prop_map(|es| (
            "emails".to_owned(),
            Value::Array(es.clone()),
            // Made an add or a replace below.
            Effect::ListAdd("emails".to_owned(), es)
        )),
    ];
    (add_or_replace(), prop::collection::vec(entry, 1..4))
        .prop_flat_map(|(kind, entries)| (Just(kind), op_name(kind), Just(entries)))
        .prop_map(|(kind, op, entries)| {
            let mut value = Map::new();
            let mut effects = Vec::new();
            for (k, v, e) in entries {
                if value.contains_key(&k) {
                    continue;
                }
                value.insert(k, v);
                effects.push(match (kind, e) {
                    (Kind::Replace, Effect::ListAdd(l, es)) => Effect::ListReplace(l, es),
                    (_, e) => e,
                });
            }
            (json!({"op": op, "value": value}), effects)
        })
        .boxed()
}

/// Requests the server rejects as a whole (RFC 7644 §3.5.2: all or nothing).
fn rejected_ops() -> BoxedStrategy<GenOp> {
    prop::sample::select(vec![
        json!({"op": "replace", "path": "nosuch", "value": "x"}),
        json!({"op": "remove"}),
        json!({"op": "Remove", "path": ""}),
        json!({"op": "replace", "path": "id", "value": "x"}),
        json!({"op": "replace", "path": "meta.version", "value": "x"}),
        json!({"op": "add", "path": "emails[type eq \"work\"", "value": "x"}),
        json!({"op": "add", "path": "title"}),
        json!({"op": "merge", "path": "title", "value": "x"}),
        json!({"op": "replace", "value": "not an object"}),
        json!({"op": "replace", "path": "name.nosuch", "value": "x"}),
        json!({"op": "add", "path": "emails[type eq \"work\"].nosuch", "value": "x"}),
        json!({"op": "add", "path": "emails[nosuch eq \"x\"].value", "value": "x"}),
        json!({"path": "title", "value": "x"}),
    ])
    .prop_map(|op| (op, vec![Effect::Reject]))
    .boxed()
}

/// Path-less values naming attributes the schema does not define: ignored,
/// nothing changes (issue 13; the tenant default `unknownAttributes:
/// ignore`). A path naming one is still refused (`rejected_ops`).
fn ignored_ops() -> BoxedStrategy<GenOp> {
    prop::sample::select(vec![
        json!({"op": "replace", "value": {"nosuch": 1}}),
        json!({"op": "add", "value": {"name": {"nosuch": "x"}}}),
        json!({"op": "Replace", "value": {"urn:x:y:2.0:User:nosuch": "x"}}),
    ])
    .prop_map(|op| (op, Vec::new()))
    .boxed()
}

fn patch_op() -> BoxedStrategy<GenOp> {
    prop_oneof![
        4 => simple_ops(),
        1 => user_name_ops(),
        2 => active_ops(),
        1 => name_ops(),
        2 => manager_ops(),
        3 => list_ops(),
        3 => element_ops(),
        2 => pathless_ops(),
        1 => rejected_ops(),
        1 => ignored_ops(),
    ]
    .boxed()
}

/// The user a PATCH starts from.
fn patch_user() -> BoxedStrategy<Value> {
    let opt = || prop::option::of(patch_string());
    (
        "[a-z]{1,8}",
        (opt(), opt(), opt(), opt()),
        prop::option::of(any::<bool>()),
        prop::collection::vec(element(&["work", "home", "other"]), 0..3),
        prop::collection::vec(element(&["work", "mobile"]), 0..3),
        (opt(), opt(), prop::option::of("[a-z0-9]{1,8}")),
    )
        .prop_map(
            |(
                user_name,
                (given, family, display, title),
                active,
                emails,
                phones,
                (emp, dept, mgr),
            )| {
                let mut u = json!({"userName": user_name});
                let mut put = |k: &[&str], v: Option<Value>| {
                    if let Some(v) = v {
                        set_at(&mut u, &keys(k), v);
                    }
                };
                put(&["name", "givenName"], given.map(Value::String));
                put(&["name", "familyName"], family.map(Value::String));
                put(&["displayName"], display.map(Value::String));
                put(&["title"], title.map(Value::String));
                put(&["active"], active.map(Value::Bool));
                put(&["emails"], Some(Value::Array(one_primary(emails))));
                put(&["phoneNumbers"], Some(Value::Array(one_primary(phones))));
                put(&[ENTERPRISE, "employeeNumber"], emp.map(Value::String));
                put(&[ENTERPRISE, "department"], dept.map(Value::String));
                put(&[ENTERPRISE, "manager", "value"], mgr.map(Value::String));
                canon(u)
            },
        )
        .boxed()
}

/// RFC 7643 §2.4: at most one `primary: true`.
fn one_primary(mut items: Vec<Value>) -> Vec<Value> {
    let mut seen = false;
    for e in &mut items {
        if e["primary"] == json!(true) {
            if seen {
                e["primary"] = json!(false);
            }
            seen = true;
        }
    }
    items
}

// ---------------------------------------------------------------------------
// The reference model: a canonical JSON view of the attributes generated.

fn set_at(doc: &mut Value, keys: &[String], v: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut cur = doc;
    for k in parents {
        if !cur.get(k).is_some_and(Value::is_object) {
            cur[k.as_str()] = json!({});
        }
        cur = &mut cur[k.as_str()];
    }
    cur[last.as_str()] = v;
}

fn remove_at(doc: &mut Value, keys: &[String]) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut cur = doc;
    for k in parents {
        match cur.get_mut(k) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
}

fn get_at<'v>(doc: &'v Value, keys: &[String]) -> Option<&'v Value> {
    keys.iter().try_fold(doc, |cur, k| cur.get(k))
}

/// Drops nulls, empty objects and empty lists, recursively: absent.
fn canon(v: Value) -> Value {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        }
    }
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, canon(x)))
                .filter(|(_, x)| !empty(x))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(canon).filter(|x| !empty(x)).collect()),
        other => other,
    }
}

/// The attributes this property generates, from a resource as returned
/// (the derived `manager.$ref` left out).
fn view(resource: &Value) -> Value {
    let mut out = Map::new();
    for k in [
        "userName",
        "name",
        "displayName",
        "title",
        "active",
        "emails",
        "phoneNumbers",
        ENTERPRISE,
    ] {
        if let Some(v) = resource.get(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    let mut out = Value::Object(out);
    if let Some(m) = out
        .get_mut(ENTERPRISE)
        .and_then(|e| e.get_mut("manager"))
        .and_then(Value::as_object_mut)
    {
        m.remove("$ref");
    }
    canon(out)
}

fn list_at(doc: &Value, list: &str) -> Vec<Value> {
    doc.get(list)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn put_list(doc: &mut Value, list: &str, items: Vec<Value>) {
    if items.is_empty() {
        remove_at(doc, &[list.to_owned()]);
    } else {
        doc[list] = Value::Array(items);
    }
}

/// RFC 7643 §2.4: the last element an operation made primary keeps it; the
/// others lose `primary`.
fn fix_primary(items: &mut [Value], touched: &[usize]) {
    let is_primary = |e: &Value| e.get("primary") == Some(&json!(true));
    let Some(&winner) = touched
        .iter()
        .rev()
        .find(|&&i| items.get(i).is_some_and(is_primary))
    else {
        return;
    };
    for (i, e) in items.iter_mut().enumerate() {
        if i != winner && is_primary(e) {
            if let Some(m) = e.as_object_mut() {
                m.remove("primary");
            }
        }
    }
}

/// Applies one effect; false when the request must be rejected.
fn apply(doc: &mut Value, effect: &Effect) -> bool {
    match effect {
        Effect::Reject => return false,
        Effect::Set(k, v) => set_at(doc, k, v.clone()),
        Effect::Merge(k, m) => {
            for (sub, v) in m {
                let mut full = k.clone();
                full.push(sub.clone());
                set_at(doc, &full, v.clone());
            }
        }
        Effect::Remove(k) => remove_at(doc, k),
        Effect::ListAdd(list, new) => {
            let mut items = list_at(doc, list);
            let mut touched = Vec::new();
            for n in new {
                if !items.contains(n) {
                    items.push(n.clone());
                    touched.push(items.len() - 1);
                }
            }
            fix_primary(&mut items, &touched);
            put_list(doc, list, items);
        }
        Effect::ListReplace(list, new) => {
            let mut items = new.clone();
            let touched: Vec<usize> = (0..items.len()).collect();
            fix_primary(&mut items, &touched);
            put_list(doc, list, items);
        }
        Effect::ListRemoveValues(list, values) => {
            let mut items = list_at(doc, list);
            items.retain(|e| !values.iter().any(|v| e.get("value") == Some(v)));
            put_list(doc, list, items);
        }
        Effect::Element {
            list,
            filter,
            sub,
            kind,
            value,
        } => {
            let mut items = list_at(doc, list);
            // Strings compare ignoring case (not caseExact), booleans exactly.
            let same = |a: &Value, b: &Value| match (a, b) {
                (Value::String(x), Value::String(y)) => x.to_lowercase() == y.to_lowercase(),
                _ => a == b,
            };
            let hits: Vec<usize> = (0..items.len())
                .filter(|&i| {
                    filter
                        .iter()
                        .all(|(k, v)| items[i].get(k).is_some_and(|x| same(x, v)))
                })
                .collect();
            let touched = match (kind, sub) {
                (Kind::Remove, Some(s)) => {
                    for &i in &hits {
                        if let Some(m) = items[i].as_object_mut() {
                            m.remove(s);
                        }
                    }
                    Vec::new()
                }
                (Kind::Remove, None) => {
                    let mut i = 0;
                    items.retain(|_| {
                        i += 1;
                        !hits.contains(&(i - 1))
                    });
                    Vec::new()
                }
                (_, _) if hits.is_empty() => {
                    // Created from the filter's `eq` pairs and the value.
                    let mut m: Map<String, Value> = filter.iter().cloned().collect();
                    match (sub, value) {
                        (Some(s), v) => {
                            m.insert(s.clone(), v.clone());
                        }
                        (None, Value::Object(new)) => {
                            m.extend(new.clone());
                        }
                        (None, _) => return false,
                    }
                    items.push(Value::Object(m));
                    vec![items.len() - 1]
                }
                (_, Some(s)) => {
                    for &i in &hits {
                        items[i][s.as_str()] = value.clone();
                    }
                    hits
                }
                (Kind::Add, None) => {
                    for &i in &hits {
                        if let (Some(m), Some(new)) = (items[i].as_object_mut(), value.as_object())
                        {
                            m.extend(new.clone());
                        }
                    }
                    hits
                }
                (Kind::Replace, None) => {
                    for &i in &hits {
                        items[i] = value.clone();
                    }
                    hits
                }
            };
            fix_primary(&mut items, &touched);
            put_list(
                doc,
                list,
                canon(Value::Array(items))
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
    }
    true
}

/// What `normalize::normalize` requires of the final state (RFC 7643 §2.2,
/// §2.4, §4.1): a non-empty userName, strings and a boolean where declared,
/// at most one primary per list.
fn valid(doc: &Value) -> bool {
    let is_string = |k: &[&str]| get_at(doc, &keys(k)).is_none_or(Value::is_string);
    let user_name = doc
        .get("userName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let strings = SIMPLE.iter().all(|(_, k)| is_string(k));
    let active = doc.get("active").is_none_or(Value::is_boolean);
    let primaries = ["emails", "phoneNumbers"].iter().all(|l| {
        list_at(doc, l)
            .iter()
            .filter(|e| e.get("primary") == Some(&json!(true)))
            .count()
            <= 1
    });
    user_name && strings && active && primaries
}

fn without_meta(resource: &Value) -> Value {
    let mut r = resource.clone();
    if let Some(m) = r.as_object_mut() {
        m.remove("meta");
    }
    r
}

proptest! {
    #![proptest_config(config(64))]

    /// RFC 7644 §3.5.2 through the whole service: after a PATCH request of
    /// generated operations (add/replace/remove, with and without paths,
    /// value filters, Okta and Entra forms), GET returns what a reference
    /// model predicts for every generated attribute (replaced or added values
    /// read back as sent, removed ones are absent, the others unchanged); the
    /// PATCH response is the resource GET returns; `meta.version` changes
    /// iff the resource did; a rejected request (400) changes nothing.
    #[test]
    fn rfc7644_3_5_2_patch_agrees_with_model(
        user in patch_user(),
        ops in prop::collection::vec(patch_op(), 1..5),
    ) {
        let app = App::new();
        let c = app.tenant("acme");
        let mut body = user.clone();
        body["schemas"] = json!([CORE, ENTERPRISE]);
        let (id, before) = create(&app, &c, &body)?;
        // RFC 7644 §3.3: the created resource reads back as sent.
        prop_assert_eq!(view(&before), user.clone(), "POST {}", body);

        let mut model = user.clone();
        let mut accepted = true;
        for (_, effects) in &ops {
            for e in effects {
                accepted = accepted && apply(&mut model, e);
            }
        }
        let model = canon(model);
        accepted = accepted && valid(&model);

        let request: Vec<Value> = ops.iter().map(|(op, _)| op.clone()).collect();
        let request = json!({"schemas": [PATCH_OP], "Operations": request});
        let r = app.call(&c, "PATCH", &format!("/Users/{id}"), Some(request.clone()));
        let after = app.call(&c, "GET", &format!("/Users/{id}"), None);
        prop_assert_eq!(after.status, 200);
        let ctx = format!("user {user}\nPATCH {request}\n-> {} {}", r.status, r.body);
        if accepted {
            prop_assert_eq!(r.status, 200, "{}", ctx);
            prop_assert_eq!(&r.body, &after.body, "the PATCH response is the resource\n{}", ctx);
            prop_assert_eq!(view(&after.body), model.clone(), "{}", ctx);
            // RFC 7643 §3: `schemas` names the extension iff it holds data.
            let schemas = after.body["schemas"].as_array().cloned().unwrap_or_default();
            prop_assert_eq!(
                schemas.contains(&json!(ENTERPRISE)),
                model.get(ENTERPRISE).is_some(),
                "{}",
                ctx
            );
            let changed = without_meta(&after.body) != without_meta(&before);
            let version = |r: &Value| r["meta"]["version"].clone();
            prop_assert_eq!(version(&after.body) != version(&before), changed, "{}", ctx);
            prop_assert_eq!(after.header("etag").map(|e| json!(e)), Some(version(&after.body)));
        } else {
            prop_assert_eq!(r.status, 400, "{}", ctx);
            prop_assert_eq!(&after.body, &before, "a rejected PATCH changes nothing\n{}", ctx);
        }
    }
}
