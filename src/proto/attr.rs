//! Attribute paths and names (RFC 7643 §2.1, RFC 7644 §3.10): the vocabulary
//! that schemas, filters, PATCH paths and the `attributes` parameters share.
//!
//! - `AttrPath`: `[URN ":"] attrName ["." subAttr]`, and its canonical text;
//! - the one ATTRNAME check (`is_attr_name`, `is_attr_name_or_ref`);
//! - the one URN-prefix split (`split_urn`): which known schema URN a
//!   URN-qualified word starts with;
//! - `parse_attr_list`, the `attributes` / `excludedAttributes` list.

use std::fmt;

/// An attribute path: `[URN ":"] attrName ["." subAttr]` (RFC 7644 §3.10).
/// `urn` is the schema URN when the path was URN-qualified, resolved by the
/// longest known schema URN. Inside a value filter (`emails[type eq "work"]`)
/// paths are relative to the complex attribute: `name` is the sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

/// The path as written: `urn:name.sub`, or the bare URN when `name` is empty.
impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            f.write_str(urn)?;
            if !self.name.is_empty() {
                f.write_str(":")?;
            }
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// RFC 7643 §2.1 `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" /
/// DIGIT / ALPHA`.
pub(crate) fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An ATTRNAME, or the `$ref` sub-attribute of a reference (RFC 7643 §2.4,
/// §7), whose name is matched case-insensitively like any other (§2.1). The
/// names a filter or a PATCH path may use.
pub(crate) fn is_attr_name_or_ref(s: &str) -> bool {
    s.eq_ignore_ascii_case("$ref") || is_attr_name(s)
}

/// Splits a URN-qualified word (`urn:...:User:userName`, or a bare schema
/// URN) by the longest of `urns` that prefixes it, ignoring ASCII case, and
/// is followed by `:` or the end (RFC 7644 §3.10; a URN contains colons and
/// dots itself, so it is never split at the first colon or a dot). Each URN
/// comes with a key the caller wants back (a schema slot, the URN itself); of
/// equally long matches the first wins. Returns that key and the rest after
/// the `:` ("" for a bare URN).
pub(crate) fn split_urn<'w, 'u, K>(
    word: &'w str,
    urns: impl IntoIterator<Item = (K, &'u str)>,
) -> Option<(K, &'w str)> {
    let mut best: Option<(usize, K, &'w str)> = None;
    for (key, urn) in urns {
        let Some(head) = word.get(..urn.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(urn) {
            continue;
        }
        let tail = word.get(urn.len()..).unwrap_or("");
        let rest = if tail.is_empty() {
            ""
        } else if let Some(r) = tail.strip_prefix(':') {
            r
        } else {
            continue;
        };
        if best.as_ref().is_none_or(|(len, ..)| urn.len() > *len) {
            best = Some((urn.len(), key, rest));
        }
    }
    best.map(|(_, key, rest)| (key, rest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::fixtures::path as p;
    use crate::proto::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

    const CORE: &str = USER_SCHEMA;
    const ENT: &str = ENTERPRISE_USER_SCHEMA;

    #[test]
    fn attr_names_rfc7643_2_1() {
        for ok in ["userName", "x", "x-y_2", "A1"] {
            assert!(is_attr_name(ok) && is_attr_name_or_ref(ok), "{ok}");
        }
        for bad in ["", "1abc", "_a", "-a", "a.b", "a b", "é", "a:b", "$ref"] {
            assert!(!is_attr_name(bad), "{bad}");
        }
        assert!(is_attr_name_or_ref("$ref") && is_attr_name_or_ref("$REF"));
        assert!(!is_attr_name_or_ref("$refs") && !is_attr_name_or_ref("$"));
    }

    #[test]
    fn urn_split_longest_match_rfc7644_3_10() {
        let custom = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:custom";
        let urns = [(0, CORE), (1, ENT), (2, custom)];
        assert_eq!(
            split_urn(&format!("{ENT}:department"), urns),
            Some((1, "department"))
        );
        assert_eq!(split_urn(&format!("{custom}:x.y"), urns), Some((2, "x.y")));
        assert_eq!(split_urn(&format!("{custom}x"), urns), Some((1, "customx")));
        assert_eq!(split_urn(ENT, urns), Some((1, "")));
        assert_eq!(split_urn(&format!("{ENT}:"), urns), Some((1, "")));
        // Case-insensitive; the rest keeps its spelling.
        assert_eq!(
            split_urn("URN:IETF:params:scim:schemas:core:2.0:user:UserName", urns),
            Some((0, "UserName"))
        );
        // A prefix must end at a colon or the end of the word.
        assert_eq!(split_urn(&format!("{CORE}s:x"), urns), None);
        assert_eq!(split_urn("userName", urns), None);
        assert_eq!(split_urn("ü", urns), None, "never splits a character");
        // Of equally long matches, the first.
        assert_eq!(
            split_urn("urn:a:x", [("first", "urn:a"), ("second", "URN:A")]),
            Some(("first", "x"))
        );
    }

    #[test]
    fn display_rfc7644_3_10() {
        assert_eq!(
            p(None, "name", Some("givenName")).to_string(),
            "name.givenName"
        );
        assert_eq!(
            p(Some(ENT), "manager", Some("value")).to_string(),
            format!("{ENT}:manager.value")
        );
        assert_eq!(p(Some(ENT), "", None).to_string(), ENT);
    }
}
