//! PATCH paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`,
//! parsed with the filter module's tokenizer and parser.

use std::fmt;

use crate::proto::attr::AttrPath;
use crate::proto::filter::{Filter, FilterError, Parser};

/// A parsed PATCH `path`. `attr.name` is empty for a bare extension URN
/// (the whole extension object).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// The value filter of `attr[filter]`; its paths name sub-attributes.
    pub filter: Option<Filter>,
    /// The `.subAttr` after `attr[filter]`.
    pub sub_after_filter: Option<String>,
}

/// Parses a PATCH operation's `path` (surrounding whitespace is ignored).
pub fn parse_patch_path(input: &str, urns: &[&str]) -> Result<PatchPath, FilterError> {
    let mut parser = Parser::new(input, urns, "path")?;
    let attr = parser.attr_path(true)?;
    let filter = parser.value_filter(&attr, false)?;
    let sub_after_filter = match filter {
        Some(_) => parser.dotted_sub()?,
        None => None,
    };
    parser.finish()?;
    Ok(PatchPath {
        attr,
        filter,
        sub_after_filter,
    })
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_after_filter {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::proto::filter::{CompValue, CompareOp};
    use crate::proto::fixtures::path as attr;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const URNS: &[&str] = &["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE];

    fn parse(s: &str) -> PatchPath {
        match parse_patch_path(s, URNS) {
            Ok(p) => p,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }
    fn eq(name: &str, v: &str) -> Filter {
        Filter::Compare(
            attr(None, name, None),
            CompareOp::Eq,
            CompValue::String(v.into()),
        )
    }

    #[test]
    fn rfc_examples_parse_and_round_trip() {
        // RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr], and its examples.
        let cases = [
            ("members", attr(None, "members", None), None, None),
            (
                "name.familyName",
                attr(None, "name", Some("familyName")),
                None,
                None,
            ),
            (
                r#"emails[type eq "work"]"#,
                attr(None, "emails", None),
                Some(eq("type", "work")),
                None,
            ),
            (
                r#"emails[type eq "work"].value"#,
                attr(None, "emails", None),
                Some(eq("type", "work")),
                Some("value"),
            ),
            (
                r#"addresses[type eq "work"].streetAddress"#,
                attr(None, "addresses", None),
                Some(eq("type", "work")),
                Some("streetAddress"),
            ),
            (
                r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
                attr(None, "members", None),
                Some(eq("value", "2819c223-7f76-453a-919d-413861904646")),
                None,
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                attr(Some(ENTERPRISE), "employeeNumber", None),
                None,
                None,
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                attr(Some(ENTERPRISE), "manager", Some("value")),
                None,
                None,
            ),
            (
                r#"manager[value eq "x"]"#,
                attr(None, "manager", None),
                Some(eq("value", "x")),
                None,
            ),
            (ENTERPRISE, attr(Some(ENTERPRISE), "", None), None, None),
        ];
        for (src, attr, filter, sub) in cases {
            let path = parse(src);
            let want = PatchPath {
                attr,
                filter,
                sub_after_filter: sub.map(Into::into),
            };
            assert_eq!(path, want, "{src}");
            assert_eq!(path.to_string(), src);
            assert_eq!(parse(&path.to_string()), path);
        }
    }

    #[test]
    fn whitespace_case_and_complex_filters() {
        // RFC 7644 §3.5.2 valuePath filters use the §3.4.2.2 grammar.
        let p = parse("  \temails[TYPE EQ \"work\"  and primary eq true].value \n");
        assert_eq!(p.attr, attr(None, "emails", None));
        assert_eq!(p.sub_after_filter.as_deref(), Some("value"));
        assert_eq!(parse(&p.to_string()), p);
        let bare = parse("URN:ietf:params:scim:schemas:extension:enterprise:2.0:user");
        assert_eq!(bare.attr, attr(Some(ENTERPRISE), "", None));
        let m = parse(&format!("{ENTERPRISE}:manager[value eq \"x\"]"));
        assert_eq!(m.attr, attr(Some(ENTERPRISE), "manager", None));
        assert_eq!(parse(&m.to_string()), m);
    }

    #[test]
    fn invalid_paths() {
        // RFC 7644 §3.5.2: malformed paths are rejected (invalidPath).
        let err = |s: &str| match parse_patch_path(s, URNS) {
            Ok(p) => panic!("{s:?} parsed as {p:?}"),
            Err(e) => e.message,
        };
        assert!(err("").contains("empty path"));
        assert!(err("   ").contains("empty path"));
        assert!(err("members extra").contains("end of input at offset 8"));
        assert!(err("name.familyName.x").contains("invalid sub-attribute"));
        assert!(err("emails[type eq \"work\"").contains("']'"));
        assert!(err("emails[type eq \"work\"].value.x").contains("invalid sub-attribute"));
        assert!(err("emails[]").contains("attribute path"));
        assert!(err("emails.value[type pr]").contains("value filter"));
        assert!(err(&format!("{ENTERPRISE}[value pr]")).contains("value filter"));
        assert!(err("emails[x[y pr]]").contains("nested"));
        assert!(err("emails.value eq \"x\"").contains("end of input"));
        assert!(err("(members)").contains("attribute path"));
        assert!(err("\"members\"").contains("attribute path"));
        assert!(err(&"a".repeat(5000)).contains("longer than 4096"));
        assert!(err("1members").contains("invalid attribute name"));
    }
}
