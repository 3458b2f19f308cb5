//! SCIM filters (RFC 7644 §3.4.2.2): the abstract syntax tree, the parser,
//! a canonical printer and in-memory evaluation.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

use crate::proto::attr::{is_attr_name_or_ref, split_urn, AttrPath};
use crate::proto::json::{items, member};

/// `compareOp` (RFC 7644 §3.4.2.2 attribute operators), case-insensitive on
/// input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value: JSON `false`, `null`, `true`, a number or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

/// A parsed filter (RFC 7644 §3.4.2.2 `FILTER`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath pr`
    Present(AttrPath),
    /// `attrPath compareOp compValue`
    Compare(AttrPath, CompareOp, CompValue),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath "[" valFilter "]"`: the inner filter's paths name sub-attributes
    /// of the multi-valued complex attribute `attrPath`.
    ValuePath(AttrPath, Box<Filter>),
}

/// Longest accepted filter or PATCH path, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest accepted nesting of parentheses, `not (…)` and value paths.
pub const MAX_FILTER_DEPTH: usize = 32;

/// A filter or PATCH path that does not parse; the message names the problem
/// and its byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
}

impl FilterError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        FilterError {
            message: message.into(),
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator named by `word`, case-insensitively (`pr` is not a `CompareOp`).
    pub(crate) fn from_keyword(word: &str) -> Option<CompareOp> {
        use CompareOp::{Co, Eq, Ew, Ge, Gt, Le, Lt, Ne, Sw};
        [Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le]
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => write!(f, "{}", Value::String(s.clone())),
        }
    }
}

/// Canonical form: `and`/`or` operands are parenthesised only where precedence
/// or left-associativity requires it, so `parse_filter` reads back an equal AST.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn operand(f: &mut fmt::Formatter<'_>, x: &Filter, parens: bool) -> fmt::Result {
            if parens {
                write!(f, "({x})")
            } else {
                write!(f, "{x}")
            }
        }
        match self {
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::Compare(p, op, v) => write!(f, "{p} {op} {v}"),
            Filter::And(a, b) => {
                operand(f, a, matches!(**a, Filter::Or(..)))?;
                f.write_str(" and ")?;
                operand(f, b, matches!(**b, Filter::And(..) | Filter::Or(..)))
            }
            Filter::Or(a, b) => {
                write!(f, "{a} or ")?;
                operand(f, b, matches!(**b, Filter::Or(..)))
            }
            Filter::Not(x) => write!(f, "not ({x})"),
            Filter::ValuePath(p, x) => write!(f, "{p}[{x}]"),
        }
    }
}

// ---------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    /// A run of characters other than whitespace, `( ) [ ] "`: an attribute
    /// path, a keyword, an operator, a number or `.subAttr` after `]`.
    Word(&'a str),
    /// A decoded JSON string.
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    End,
}

static END: Tok<'static> = Tok::End;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn tokenize(input: &str) -> Result<Vec<(Tok<'_>, usize)>, FilterError> {
    let mut toks = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let tok = match c {
            c if is_space(c) => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '"' => {
                let mut escaped = false;
                let close = chars.by_ref().find_map(|(i, c)| {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        return Some(i);
                    }
                    None
                });
                let text = close.and_then(|end| input.get(at..=end)).ok_or_else(|| {
                    FilterError::new(format!("unterminated string starting at offset {at}"))
                })?;
                let s = serde_json::from_str::<String>(text)
                    .map_err(|e| FilterError::new(format!("invalid string at offset {at}: {e}")))?;
                Tok::Str(s)
            }
            _ => {
                let mut end = at + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if is_space(c) || "()[]\"".contains(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                Tok::Word(input.get(at..end).unwrap_or_default())
            }
        };
        toks.push((tok, at));
    }
    Ok(toks)
}

// ---------------------------------------------------------------------------
// Parser

/// Parses one attribute path word found at byte offset `at`: `[URN ":"] name
/// ["." sub]`. The URN is the longest known one that prefixes the word
/// (ignoring case) and leaves a colon-free rest, else everything before the
/// last ':'. A bare known URN (empty `name`) is accepted only when
/// `allow_bare_urn` (PATCH paths).
fn attr_path(
    word: &str,
    at: usize,
    urns: &[&str],
    allow_bare_urn: bool,
) -> Result<AttrPath, FilterError> {
    let is_urn = word
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let known = split_urn(word, urns.iter().map(|u| (*u, *u)))
        .filter(|(_, rest)| is_urn && !rest.contains(':'))
        .map(|(known, _)| known);
    let (urn, rest, rest_at) = match (known, word.rsplit_once(':')) {
        (Some(known), _) if word.len() == known.len() => {
            if !allow_bare_urn {
                return Err(FilterError::new(format!(
                    "expected an attribute name after the schema URN at offset {}",
                    at + word.len()
                )));
            }
            return Ok(AttrPath {
                urn: Some(known.to_string()),
                name: String::new(),
                sub: None,
            });
        }
        (Some(known), _) => (
            Some(known.to_string()),
            word.get(known.len() + 1..).unwrap_or_default(),
            at + known.len() + 1,
        ),
        (None, Some((urn, rest))) if is_urn => (Some(urn.to_string()), rest, at + urn.len() + 1),
        _ => (None, word, at),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    if !is_attr_name_or_ref(name) {
        return Err(FilterError::new(format!(
            "invalid attribute name {name:?} at offset {rest_at}"
        )));
    }
    if let Some(sub) = sub.filter(|s| !is_attr_name_or_ref(s)) {
        return Err(FilterError::new(format!(
            "invalid sub-attribute name {sub:?} at offset {}",
            rest_at + name.len() + 1
        )));
    }
    Ok(AttrPath {
        urn,
        name: name.to_string(),
        sub: sub.map(str::to_string),
    })
}

/// Recursive-descent parser over the token list, shared with
/// `crate::proto::patch::path`.
pub(crate) struct Parser<'a> {
    toks: Vec<(Tok<'a>, usize)>,
    pos: usize,
    len: usize,
    urns: &'a [&'a str],
    depth: usize,
}

impl<'a> Parser<'a> {
    /// Tokenizes `input`; `kind` ("filter", "path") names it in errors.
    pub(crate) fn new(
        input: &'a str,
        urns: &'a [&'a str],
        kind: &str,
    ) -> Result<Self, FilterError> {
        if input.len() > MAX_FILTER_LEN {
            return Err(FilterError::new(format!(
                "{kind} is longer than {MAX_FILTER_LEN} bytes"
            )));
        }
        let toks = tokenize(input)?;
        if toks.is_empty() {
            return Err(FilterError::new(format!("empty {kind}")));
        }
        Ok(Parser {
            toks,
            pos: 0,
            len: input.len(),
            urns,
            depth: 0,
        })
    }

    fn peek(&self) -> (&Tok<'a>, usize) {
        match self.toks.get(self.pos) {
            Some((tok, at)) => (tok, *at),
            None => (&END, self.len),
        }
    }

    fn bump(&mut self) {
        self.pos += 1;
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek().0, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn error(&self, expected: &str) -> FilterError {
        let (tok, at) = self.peek();
        let found = match tok {
            Tok::Word(w) => format!("{w:?}"),
            Tok::Str(_) => "a string".to_string(),
            Tok::LParen => "'('".to_string(),
            Tok::RParen => "')'".to_string(),
            Tok::LBracket => "'['".to_string(),
            Tok::RBracket => "']'".to_string(),
            Tok::End => "end of input".to_string(),
        };
        FilterError::new(format!("expected {expected} at offset {at}, found {found}"))
    }

    fn expect(&mut self, tok: &Tok<'static>, expected: &str) -> Result<(), FilterError> {
        if self.peek().0 != tok {
            return Err(self.error(expected));
        }
        self.bump();
        Ok(())
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(FilterError::new(format!(
                "filter nests deeper than {MAX_FILTER_DEPTH} levels at offset {}",
                self.peek().1
            )));
        }
        Ok(())
    }

    /// Succeeds only when every token has been consumed.
    pub(crate) fn finish(&self) -> Result<(), FilterError> {
        match self.peek().0 {
            Tok::End => Ok(()),
            _ => Err(self.error("end of input")),
        }
    }

    /// An attribute path word.
    pub(crate) fn attr_path(&mut self, allow_bare_urn: bool) -> Result<AttrPath, FilterError> {
        match self.peek() {
            (Tok::Word(w), at) => {
                let path = attr_path(w, at, self.urns, allow_bare_urn)?;
                self.bump();
                Ok(path)
            }
            _ => Err(self.error("an attribute path")),
        }
    }

    /// `filter = orExp`, `orExp = andExp *("or" andExp)`: left-associative.
    fn or_expr(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let mut lhs = self.and_expr(in_value_path)?;
        while self.is_keyword("or") {
            self.bump();
            let rhs = self.and_expr(in_value_path)?;
            lhs = Filter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    /// `andExp = unary *("and" unary)`: binds tighter than `or`.
    fn and_expr(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let mut lhs = self.unary(in_value_path)?;
        while self.is_keyword("and") {
            self.bump();
            let rhs = self.unary(in_value_path)?;
            lhs = Filter::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    /// `"not" "(" filter ")"`, `"(" filter ")"`, `attrExp` or `valuePath`.
    fn unary(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let not =
            self.is_keyword("not") && matches!(self.toks.get(self.pos + 1), Some((Tok::LParen, _)));
        if not {
            self.bump();
        }
        match self.peek().0 {
            Tok::LParen => {
                self.enter()?;
                self.bump();
                let inner = self.or_expr(in_value_path)?;
                self.expect(&Tok::RParen, "')'")?;
                self.depth -= 1;
                Ok(if not {
                    Filter::Not(Box::new(inner))
                } else {
                    inner
                })
            }
            Tok::Word(_) => {
                let at = self.peek().1;
                let path = self.attr_path(false)?;
                if in_value_path && (path.urn.is_some() || path.sub.is_some()) {
                    return Err(FilterError::new(format!(
                        "expected a plain sub-attribute name inside a value filter at offset {at}"
                    )));
                }
                match self.value_filter(&path, in_value_path)? {
                    None => self.attr_exp(path),
                    Some(inner) => match self.dotted_sub()? {
                        // Non-RFC `emails[type eq "work"].value eq "x"`.
                        Some(sub) => {
                            let sub = AttrPath {
                                urn: None,
                                name: sub,
                                sub: None,
                            };
                            let tail = self.attr_exp(sub)?;
                            let inner = Filter::And(Box::new(inner), Box::new(tail));
                            Ok(Filter::ValuePath(path, Box::new(inner)))
                        }
                        None => Ok(Filter::ValuePath(path, Box::new(inner))),
                    },
                }
            }
            _ => Err(self.error("an attribute path, '(' or 'not'")),
        }
    }

    /// `"[" valFilter "]"` after `path`, if the next token is `[`.
    pub(crate) fn value_filter(
        &mut self,
        path: &AttrPath,
        in_value_path: bool,
    ) -> Result<Option<Filter>, FilterError> {
        let (Tok::LBracket, at) = self.peek() else {
            return Ok(None);
        };
        if in_value_path {
            return Err(FilterError::new(format!(
                "value filters cannot be nested, at offset {at}"
            )));
        }
        if path.name.is_empty() || path.sub.is_some() {
            return Err(FilterError::new(format!(
                "a value filter must follow an attribute name, not a sub-attribute, at offset {at}"
            )));
        }
        self.enter()?;
        self.bump();
        let inner = self.or_expr(true)?;
        self.expect(&Tok::RBracket, "']'")?;
        self.depth -= 1;
        Ok(Some(inner))
    }

    /// `"." subAttr` right after a value filter's `]`.
    pub(crate) fn dotted_sub(&mut self) -> Result<Option<String>, FilterError> {
        let (Tok::Word(w), at) = self.peek() else {
            return Ok(None);
        };
        let Some(sub) = w.strip_prefix('.') else {
            return Ok(None);
        };
        if !is_attr_name_or_ref(sub) {
            return Err(FilterError::new(format!(
                "invalid sub-attribute name {sub:?} at offset {}",
                at + 1
            )));
        }
        self.bump();
        Ok(Some(sub.to_string()))
    }

    /// `"pr"` or `compareOp compValue` after `path`.
    fn attr_exp(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let (Tok::Word(w), _) = self.peek() else {
            return Err(self.error("a comparison operator"));
        };
        if w.eq_ignore_ascii_case("pr") {
            self.bump();
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(w) else {
            return Err(self.error("a comparison operator"));
        };
        self.bump();
        let (tok, at) = self.peek();
        let value = match tok {
            Tok::Str(s) => CompValue::String(s.clone()),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            // A JSON number; anything else written without quotes is a
            // string (`displayName sw Bar`, `meta.lastModified ge
            // 2024-03-01T08:00:00.1234567+02:00`: Ping Identity and others
            // send values unquoted).
            Tok::Word(w) => match serde_json::from_str::<Number>(w) {
                Ok(n) => CompValue::Number(n),
                // JSON number syntax that no number holds (`1e400`).
                Err(_) if is_number_syntax(w) => {
                    return Err(FilterError::new(format!(
                        "invalid number {w:?} at offset {at}"
                    )))
                }
                Err(_) => CompValue::String((*w).to_owned()),
            },
            _ => return Err(self.error("a comparison value")),
        };
        if matches!(value, CompValue::Null | CompValue::Bool(_))
            && !matches!(op, CompareOp::Eq | CompareOp::Ne)
        {
            return Err(FilterError::new(format!(
                "operator {op} cannot compare with {value}, at offset {at}"
            )));
        }
        self.bump();
        Ok(Filter::Compare(path, op, value))
    }
}

/// Whether `w` is written as a JSON number (RFC 8259 §6): `-`? int
/// frac? exp? (the digits are ASCII, so byte offsets are char offsets).
fn is_number_syntax(w: &str) -> bool {
    let digits = |s: &str| -> usize { s.bytes().take_while(u8::is_ascii_digit).count() };
    let rest = w.strip_prefix('-').unwrap_or(w);
    let int = digits(rest);
    if int == 0 || (int > 1 && rest.starts_with('0')) {
        return false;
    }
    let mut rest = rest.get(int..).unwrap_or_default();
    if let Some(frac) = rest.strip_prefix('.') {
        let n = digits(frac);
        if n == 0 {
            return false;
        }
        rest = frac.get(n..).unwrap_or_default();
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let n = digits(exp);
        return n > 0 && n == exp.len();
    }
    rest.is_empty()
}

/// Parses a SCIM filter (RFC 7644 §3.4.2.2). `urns` are the known schema URNs,
/// used to split URN-qualified attribute paths.
pub fn parse_filter(input: &str, urns: &[&str]) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(input, urns, "filter")?;
    let filter = parser.or_expr(false)?;
    parser.finish()?;
    Ok(filter)
}

// ---------------------------------------------------------------------------
// Evaluation

/// Every value `path` names in `res`, with multi-valued attributes flattened.
/// A URN path looks inside the member named by the URN (an extension); when
/// there is no such member (the core schema), at the top level.
fn resolve<'v>(res: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let base = match path.urn.as_deref().and_then(|u| member(res, u)) {
        Some(ext) if ext.is_object() => ext,
        _ => res,
    };
    if path.name.is_empty() {
        return vec![base];
    }
    let Some(v) = member(base, &path.name) else {
        return Vec::new();
    };
    match &path.sub {
        None => items(v).iter().collect(),
        Some(sub) => items(v)
            .iter()
            .filter_map(|parent| member(parent, sub))
            .flat_map(items)
            .collect(),
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// One attribute value against one comparison value (`ne` is handled by the caller).
fn compare_one(v: &Value, op: CompareOp, want: &CompValue, case_exact: &dyn Fn() -> bool) -> bool {
    let ord = match (v, want) {
        (Value::String(a), CompValue::String(b)) => {
            let (a, b) = if case_exact() {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => a.cmp(&b),
            }
        }
        (Value::Number(a), CompValue::Number(b)) => match compare_numbers(a, b) {
            Some(ord) => ord,
            None => return false,
        },
        (Value::Bool(a), CompValue::Bool(b)) => return op == CompareOp::Eq && a == b,
        _ => return false,
    };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Any of `values` against `want`; complex values compare their `value`
/// sub-attribute. `eq null` holds when nothing non-null is there.
fn compare(
    values: &[&Value],
    op: CompareOp,
    want: &CompValue,
    case_exact: &dyn Fn() -> bool,
) -> bool {
    match (op, want) {
        (CompareOp::Ne, _) => !compare(values, CompareOp::Eq, want, case_exact),
        (CompareOp::Eq, CompValue::Null) => values.iter().all(|v| v.is_null()),
        _ => values.iter().any(|v| {
            let v = if v.is_object() {
                member(v, "value")
            } else {
                Some(*v)
            };
            v.is_some_and(|v| compare_one(v, op, want, case_exact))
        }),
    }
}

impl Filter {
    /// Calls `f` on every attribute path the filter names at its top level:
    /// those it compares, and the attribute of each value filter (not the
    /// names inside its brackets, which are that attribute's own).
    pub(crate) fn try_for_each_path<E>(
        &mut self,
        f: &mut impl FnMut(&mut AttrPath) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Filter::Present(p) | Filter::Compare(p, ..) | Filter::ValuePath(p, _) => f(p),
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.try_for_each_path(f)?;
                b.try_for_each_path(f)
            }
            Filter::Not(x) => x.try_for_each_path(f),
        }
    }

    /// Evaluates the filter against a resource's JSON. `case_exact` tells
    /// whether an attribute's strings compare case-sensitively (RFC 7643
    /// §2.2 `caseExact`); inside a value path it gets `outer.name` with the
    /// inner attribute as `sub`.
    pub fn matches(&self, resource: &Value, case_exact: &dyn Fn(&AttrPath) -> bool) -> bool {
        self.eval(resource, None, case_exact)
    }

    fn eval(&self, res: &Value, outer: Option<&AttrPath>, ce: &dyn Fn(&AttrPath) -> bool) -> bool {
        match self {
            Filter::Present(p) => resolve(res, p).into_iter().any(is_present),
            Filter::Compare(p, op, want) => {
                let cached = OnceCell::new();
                let exact = || {
                    *cached.get_or_init(|| match outer {
                        Some(o) => ce(&AttrPath {
                            urn: o.urn.clone(),
                            name: o.name.clone(),
                            sub: Some(p.name.clone()),
                        }),
                        None => ce(p),
                    })
                };
                compare(&resolve(res, p), *op, want, &exact)
            }
            Filter::And(a, b) => a.eval(res, outer, ce) && b.eval(res, outer, ce),
            Filter::Or(a, b) => a.eval(res, outer, ce) || b.eval(res, outer, ce),
            Filter::Not(x) => !x.eval(res, outer, ce),
            Filter::ValuePath(p, x) => resolve(res, p)
                .into_iter()
                .any(|item| x.eval(item, Some(p), ce)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const URNS: &[&str] = &[CORE, ENTERPRISE];

    fn parse(s: &str) -> Filter {
        match parse_filter(s, URNS) {
            Ok(f) => f,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }
    fn err(s: &str) -> String {
        match parse_filter(s, URNS) {
            Ok(f) => panic!("{s:?} parsed as {f:?}"),
            Err(e) => e.message,
        }
    }
    fn p(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }
    fn ps(name: &str, sub: &str) -> AttrPath {
        AttrPath {
            sub: Some(sub.into()),
            ..p(name)
        }
    }
    fn s(v: &str) -> CompValue {
        CompValue::String(v.into())
    }
    fn cmp(path: AttrPath, op: CompareOp, v: CompValue) -> Filter {
        Filter::Compare(path, op, v)
    }
    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }
    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }
    fn num(n: i64) -> CompValue {
        CompValue::Number(n.into())
    }
    use CompareOp::*;

    /// The example filters of RFC 7644 §3.4.2.2.
    const RFC_EXAMPLES: &[&str] = &[
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ];

    #[test]
    fn rfc_examples_parse_and_round_trip() {
        // RFC 7644 §3.4.2.2: every example filter parses; Display reads back equal.
        for src in RFC_EXAMPLES {
            let f = parse(src);
            let printed = f.to_string();
            assert_eq!(parse(&printed), f, "{src} -> {printed}");
        }
    }

    #[test]
    fn rfc_example_asts() {
        // RFC 7644 §3.4.2.2 attrExp, valuePath, logExp, "not".
        assert_eq!(
            parse(r#"userName eq "bjensen""#),
            cmp(p("userName"), Eq, s("bjensen"))
        );
        assert_eq!(
            parse(r#"name.familyName co "O'Malley""#),
            cmp(ps("name", "familyName"), Co, s("O'Malley"))
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#),
            cmp(
                AttrPath {
                    urn: Some(CORE.into()),
                    ..p("userName")
                },
                Sw,
                s("J")
            )
        );
        assert_eq!(parse("title pr"), Filter::Present(p("title")));
        assert_eq!(
            parse(
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
            ),
            and(
                cmp(p("userType"), Ne, s("Employee")),
                Filter::Not(Box::new(or(
                    cmp(p("emails"), Co, s("example.com")),
                    cmp(ps("emails", "value"), Co, s("example.org"))
                )))
            )
        );
        assert_eq!(
            parse(
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
            ),
            and(
                cmp(p("userType"), Eq, s("Employee")),
                Filter::ValuePath(
                    p("emails"),
                    Box::new(and(
                        cmp(p("type"), Eq, s("work")),
                        cmp(p("value"), Co, s("@example.com"))
                    ))
                )
            )
        );
    }

    #[test]
    fn precedence_and_associativity() {
        // RFC 7644 §3.4.2.2: "and" binds tighter than "or"; both left-associative.
        assert_eq!(
            parse("a eq 1 or b eq 2 and c eq 3"),
            or(
                cmp(p("a"), Eq, num(1)),
                and(cmp(p("b"), Eq, num(2)), cmp(p("c"), Eq, num(3)))
            )
        );
        assert_eq!(
            parse("a pr and b pr and c pr"),
            and(
                and(Filter::Present(p("a")), Filter::Present(p("b"))),
                Filter::Present(p("c"))
            )
        );
        assert_eq!(
            parse("a pr or b pr or c pr"),
            or(
                or(Filter::Present(p("a")), Filter::Present(p("b"))),
                Filter::Present(p("c"))
            )
        );
        let grouped = parse("(a eq 1 or b eq 2) and c eq 3");
        assert_eq!(
            grouped,
            and(
                or(cmp(p("a"), Eq, num(1)), cmp(p("b"), Eq, num(2))),
                cmp(p("c"), Eq, num(3))
            )
        );
        for src in [
            "(a eq 1 or b eq 2) and c eq 3",
            "a pr and (b pr and c pr)",
            "a pr or (b pr or c pr)",
            "a pr and (b pr or c pr) and not (d pr or e pr)",
            "((a pr))",
        ] {
            let f = parse(src);
            assert_eq!(parse(&f.to_string()), f, "{src} -> {f}");
        }
        assert_eq!(
            parse("a pr and (b pr and c pr)").to_string(),
            "a pr and (b pr and c pr)"
        );
        assert_eq!(parse("((a pr))").to_string(), "a pr");
    }

    #[test]
    fn case_insensitive_keywords_and_whitespace() {
        // RFC 7644 §3.4.2.2: operators and "and"/"or"/"not"/"pr" are case-insensitive.
        let want = cmp(p("userName"), Eq, s("x"));
        assert_eq!(parse(r#"userName EQ "x""#), want);
        assert_eq!(parse(r#"userName Eq "x""#), want);
        assert_eq!(parse("  userName \t eq   \"x\"  "), want);
        assert_eq!(
            parse(r#"title PR AND userType eQ "E" Or NOT(x Pr)"#),
            or(
                and(Filter::Present(p("title")), cmp(p("userType"), Eq, s("E"))),
                Filter::Not(Box::new(Filter::Present(p("x"))))
            )
        );
        assert_eq!(
            parse("active eq TRUE"),
            cmp(p("active"), Eq, CompValue::Bool(true))
        );
        assert_eq!(
            parse("active ne False"),
            cmp(p("active"), Ne, CompValue::Bool(false))
        );
        assert_eq!(
            parse("manager eq NULL"),
            cmp(p("manager"), Eq, CompValue::Null)
        );
        // Keywords are still usable as attribute names.
        assert_eq!(parse("not pr"), Filter::Present(p("not")));
        assert_eq!(parse("pr pr"), Filter::Present(p("pr")));
    }

    #[test]
    fn comp_values() {
        // RFC 7644 §3.4.2.2 compValue: false / null / true / number / string (JSON).
        for (src, want) in [
            ("x eq 0", json!(0)),
            ("x eq -12", json!(-12)),
            ("x eq 1.5", json!(1.5)),
            ("x eq 2e3", json!(2000.0)),
            ("x eq -1.25E-2", json!(-0.0125)),
            ("x eq 18446744073709551615", json!(u64::MAX)),
        ] {
            let f = parse(src);
            assert_eq!(parse(&f.to_string()), f, "{src}");
            match f {
                Filter::Compare(_, _, CompValue::Number(n)) => {
                    assert_eq!(Value::Number(n), want, "{src}")
                }
                other => panic!("{src}: {other:?}"),
            }
        }
        assert_eq!(
            parse(r#"x eq "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#),
            cmp(p("x"), Eq, s("a\"b\\c/d\u{8}\u{c}\n\r\t\u{e9}\u{1F600}"))
        );
        for src in [
            "x eq -0",
            "x eq -9223372036854775809",
            "x eq 0.1",
            "x eq 1e-7",
        ] {
            let f = parse(src);
            assert_eq!(parse(&f.to_string()), f, "{src}");
        }
        assert!(parse_filter("x eq 1e400", URNS).is_err());
        assert_eq!(parse(r#"x eq "a(b)[c]""#), cmp(p("x"), Eq, s("a(b)[c]")));
        assert_eq!(parse(r#"x eq """#), cmp(p("x"), Eq, s("")));
        let f = parse(r#"x eq "quote\" tab\t é 😀 \u0001""#);
        assert_eq!(parse(&f.to_string()), f);
    }

    #[test]
    fn printed_decimals_read_back_exactly() {
        // Found by tests/properties.rs: serde_json's default float parsing
        // can be one ULP off, so a printed double did not parse back equal;
        // its `float_roundtrip` feature (Cargo.toml) parses exactly.
        for x in [
            8.527802907406337e-16,
            7.18431404051424e-41,
            -1.0857049545124987e-279,
            0.1,
            1e300,
            5e-324,
            f64::MAX,
        ] {
            let f = cmp(p("x"), Gt, CompValue::Number(Number::from_f64(x).unwrap()));
            assert_eq!(parse(&f.to_string()), f, "{x}");
        }
    }

    #[test]
    fn attribute_paths() {
        // RFC 7644 §3.4.2.2 attrPath = [URI ":"] ATTRNAME *1subAttr; RFC 7643 §2.1 names.
        assert_eq!(parse("$ref eq \"x\""), cmp(p("$ref"), Eq, s("x")));
        assert_eq!(
            parse("members.$ref pr"),
            Filter::Present(ps("members", "$ref"))
        );
        assert_eq!(parse("x-y_2 pr"), Filter::Present(p("x-y_2")));
        let ent = |name: &str, sub: Option<&str>| AttrPath {
            urn: Some(ENTERPRISE.into()),
            name: name.into(),
            sub: sub.map(Into::into),
        };
        // Longest known URN wins, matched case-insensitively, stored canonically.
        assert_eq!(
            parse("URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:manager.value pr"),
            Filter::Present(ent("manager", Some("value")))
        );
        assert_eq!(
            parse(&format!("{ENTERPRISE}:employeeNumber eq \"7\"")),
            cmp(ent("employeeNumber", None), Eq, s("7"))
        );
        // Unknown URN: split at the last ':' and keep the spelling.
        assert_eq!(
            parse("urn:example:Foo:bar.baz pr"),
            Filter::Present(AttrPath {
                urn: Some("urn:example:Foo".into()),
                ..ps("bar", "baz")
            })
        );
        let f = parse("urn:example:Foo:bar.baz pr");
        assert_eq!(f.to_string(), "urn:example:Foo:bar.baz pr");
        assert_eq!(parse(&f.to_string()), f);
    }

    #[test]
    fn value_path_sub_attribute_extension() {
        // Non-RFC `valuePath "." subAttr` sent by IdPs: folded into the value filter.
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "x""#),
            Filter::ValuePath(
                p("emails"),
                Box::new(and(
                    cmp(p("type"), Eq, s("work")),
                    cmp(p("value"), Eq, s("x"))
                ))
            )
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value pr"#),
            Filter::ValuePath(
                p("emails"),
                Box::new(and(
                    cmp(p("type"), Eq, s("work")),
                    Filter::Present(p("value"))
                ))
            )
        );
        let f = parse(r#"emails[type eq "a" or type eq "b"].value eq "x" and x pr"#);
        assert_eq!(parse(&f.to_string()), f);
    }

    #[test]
    fn values_without_quotes_are_strings_unless_json_literals() {
        // Issue 13: Ping Identity and other clients write values unquoted;
        // a word that is not `true`, `false`, `null` or a JSON number is a
        // string (RFC 7644 §3.4.2.2 would want quotes).
        let value = |f: &str| match parse(f) {
            Filter::Compare(_, _, v) => v,
            other => panic!("{other:?}"),
        };
        let s = |x: &str| CompValue::String(x.to_owned());
        assert_eq!(value("displayName sw Bar"), s("Bar"));
        assert_eq!(value("title eq Engineer"), s("Engineer"));
        assert_eq!(
            value("meta.lastModified ge 2024-03-01T08:00:00.1234567+02:00"),
            s("2024-03-01T08:00:00.1234567+02:00")
        );
        for word in ["01", "1.", "-", "bjensen", "'x'", "a@b.c"] {
            assert_eq!(value(&format!("a eq {word}")), s(word), "{word}");
        }
        assert_eq!(value("a eq 12"), CompValue::Number(12.into()));
        assert_eq!(
            value("a eq -1.5e3"),
            CompValue::Number(Number::from_f64(-1500.0).unwrap())
        );
        assert_eq!(value("a eq TRUE"), CompValue::Bool(true));
        assert_eq!(value("a eq Null"), CompValue::Null);
        // The structure stays strict: a value is still required.
        assert!(err("userName eq").contains("comparison value"));
        // And the canonical form quotes it.
        assert_eq!(
            parse("title eq Engineer").to_string(),
            r#"title eq "Engineer""#
        );
    }

    #[test]
    fn invalid_filters() {
        // RFC 7644 §3.4.2.2: malformed filters are rejected (invalidFilter).
        assert_eq!(
            err("userName xx \"a\""),
            r#"expected a comparison operator at offset 9, found "xx""#
        );
        assert!(err("userName eq").contains("expected a comparison value at offset 11"));
        assert!(err("userName").contains("comparison operator at offset 8"));
        assert!(err("(userName pr").contains("')' at offset 12"));
        assert!(err("userName pr)").contains("end of input at offset 11"));
        assert!(err("userName pr foo").contains("offset 12"));
        assert!(err("emails[type pr").contains("']'"));
        assert!(err("").contains("empty filter"));
        assert!(err("   ").contains("empty filter"));
        assert!(err("a pr and").contains("offset 8"));
        assert!(err("a pr or or b pr").contains("operator at offset 11"));
        assert!(err("not a pr").contains("comparison operator"));
        assert!(err("1abc pr").contains("invalid attribute name"));
        assert!(err("a.b.c pr").contains("invalid sub-attribute"));
        assert!(err("a:b pr").contains("invalid attribute name"));
        assert!(err(&format!("{ENTERPRISE} pr")).contains("attribute name after the schema URN"));
        assert!(err("a eq \"x").contains("unterminated string"));
        assert!(err(r#"a eq "\x""#).contains("invalid string at offset 5"));
        assert!(err(r#"a eq "\ud800""#).contains("invalid string"));
        assert!(err("active gt true").contains("operator gt"));
        for op in ["co", "sw", "ew", "ge", "lt", "le"] {
            err(&format!("active {op} false"));
            err(&format!("manager {op} null"));
        }
        assert!(err(r#"emails[type eq "w" and x[y pr]]"#).contains("nested"));
        assert!(err(r#"emails[a.b eq "w"]"#).contains("plain sub-attribute"));
        assert!(err(r#"name.x[a pr]"#).contains("value filter"));
        assert!(err(r#"emails[type eq "w"].1x eq "a""#).contains("invalid sub-attribute"));
        assert!(err(r#"emails[type eq "w"].value"#).contains("comparison operator"));
        assert!(err("a pr [").contains("end of input"));
        assert!(err("]").contains("attribute path"));
    }

    #[test]
    fn limits() {
        let ok = format!(
            "{}a pr{}",
            "(".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        parse(&ok);
        let deep = format!(
            "{}a pr{}",
            "(".repeat(MAX_FILTER_DEPTH + 1),
            ")".repeat(MAX_FILTER_DEPTH + 1)
        );
        assert!(err(&deep).contains("deeper than 32"));
        let nots = format!("{}a pr{}", "not (".repeat(40), ")".repeat(40));
        assert!(err(&nots).contains("deeper"));
        let unbalanced = "(".repeat(4000);
        assert!(err(&unbalanced).contains("deeper"));
        let long = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert!(err(&long).contains("longer than 4096"));
        // A long flat chain is fine (iterative, not recursive).
        let chain = vec!["a pr"; 400].join(" and ");
        assert_eq!(parse(&parse(&chain).to_string()), parse(&chain));
        // Multi-byte characters never split.
        assert!(parse_filter("é pr", URNS).is_err());
        assert!(parse_filter("urn:é pr", URNS).is_err());
        assert!(parse_filter("urn:éé:x pr", &["urn:a"]).is_ok());
        assert!(parse_filter("a eq \"é", URNS).is_err());
    }

    fn user() -> Value {
        json!({
            "schemas": [CORE, ENTERPRISE],
            "userName": "BJensen",
            "Title": "Tour Guide",
            "userType": "Employee",
            "active": true,
            "nickName": "",
            "displayName": null,
            "phoneNumbers": [],
            "age": 42,
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
            ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915"}}
        })
    }

    fn eval_with(src: &str, exact: &dyn Fn(&AttrPath) -> bool) -> bool {
        parse(src).matches(&user(), exact)
    }
    fn eval(src: &str) -> bool {
        eval_with(src, &|_| false)
    }

    #[test]
    fn evaluate_rfc_examples() {
        // RFC 7644 §3.4.2.2 examples against a sample user.
        let expected = [
            true, true, false, false, true, false, true, false, true, true, true, true, true,
            false, true, true, true,
        ];
        for (src, want) in RFC_EXAMPLES.iter().zip(expected) {
            assert_eq!(eval(src), want, "{src}");
        }
    }

    #[test]
    fn evaluate_strings_and_case() {
        // RFC 7643 §2.1 (case-insensitive names), §2.2 (caseExact).
        assert!(eval(r#"USERNAME eq "bjensen""#));
        assert!(eval(r#"title co "tour""#));
        assert!(eval(r#"userName ew "SEN""#));
        assert!(!eval_with(r#"userName eq "bjensen""#, &|p| p.name == "userName"));
        assert!(eval_with(r#"userName eq "BJensen""#, &|p| p.name == "userName"));
        assert!(eval(r#"userName gt "a""#) && eval(r#"userName lt "C""#));
        assert!(!eval_with(r#"userName gt "a""#, &|_| true));
        // Value-path inner paths are reported as outer.sub.
        let exact_type = |p: &AttrPath| p.name == "emails" && p.sub.as_deref() == Some("type");
        assert!(!eval_with(r#"emails[type eq "WORK"]"#, &exact_type));
        assert!(eval_with(
            r#"emails[value eq "BJENSEN@example.com"]"#,
            &exact_type
        ));
        assert!(eval(r#"meta.lastModified gt "2011-01-01T00:00:00Z""#));
    }

    #[test]
    fn evaluate_multi_valued_and_value_paths() {
        // RFC 7644 §3.4.2.2: multi-valued attributes match if any value matches.
        assert!(eval(r#"emails eq "babs@jensen.org""#));
        assert!(eval(r#"emails.value eq "babs@jensen.org""#));
        assert!(eval(r#"emails.type eq "home""#));
        assert!(!eval(r#"emails.type eq "other""#));
        assert!(eval(
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#
        ));
        assert!(eval(r#"emails[type eq "work" and value co "example.com"]"#));
        assert!(!eval(
            r#"emails[type eq "home" and value co "example.com"]"#
        ));
        assert!(eval(
            r#"emails[type eq "work"].value eq "bjensen@example.com""#
        ));
        assert!(!eval(
            r#"emails[type eq "home"].value eq "bjensen@example.com""#
        ));
        assert!(eval(r#"emails[primary eq true]"#));
        assert!(eval(r#"emails[not (primary pr)]"#));
        assert!(eval(r#"name[familyName sw "o'"]"#));
    }

    #[test]
    fn evaluate_present_null_numbers_bools() {
        // RFC 7644 §3.4.2.2 "pr": has a non-empty, non-null value.
        assert!(eval("title pr") && eval("emails pr") && eval("name pr") && eval("active pr"));
        assert!(!eval("nickName pr") && !eval("displayName pr") && !eval("phoneNumbers pr"));
        assert!(!eval("missing pr") && !eval("name.middleName pr"));
        assert!(eval("not (missing pr)"));
        assert!(eval("missing eq null") && eval("displayName eq null"));
        assert!(!eval("userName eq null") && eval("userName ne null"));
        assert!(eval("missing ne \"x\"") && !eval("missing eq \"x\""));
        assert!(eval("active eq true") && !eval("active eq false") && eval("active ne false"));
        assert!(eval("age eq 42") && eval("age eq 42.0") && eval("age gt 41.5"));
        assert!(eval("age ge 42") && eval("age le 42") && !eval("age lt 42"));
        assert!(!eval("age eq \"42\"") && eval("age ne \"42\"") && !eval("age co 4"));
        assert!(!eval("userName eq 1"));
    }

    #[test]
    fn evaluate_urn_paths() {
        // RFC 7644 §3.10: URN-qualified paths; extension attributes live under the URN.
        assert!(eval(&format!("{ENTERPRISE}:employeeNumber eq \"701984\"")));
        assert!(eval(&format!("{ENTERPRISE}:manager.value eq \"26118915\"")));
        assert!(eval(&format!("{CORE}:userName eq \"bjensen\"")));
        assert!(!eval("employeeNumber pr"));
        let lower = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"employeeNumber": "1"}});
        let f = parse(&format!("{ENTERPRISE}:employeeNumber eq \"1\""));
        assert!(f.matches(&lower, &|_| false));
        assert!(!parse("a pr").matches(&json!("not an object"), &|_| false));
    }
}
