//! URNs as schema ids (RFC 7643 §2, §7; RFC 8141): the syntax a tenant's own
//! extension URN must have, and the URNs of RFC 7643/7644 themselves, which
//! it may neither take nor overlap.
//!
//! Overlap matters because an attribute path names its schema by the
//! longest URN that prefixes it (RFC 7644 §3.10, `attr::split_urn`): an
//! extension named `urn:ietf:params:scim:schemas:core:2.0:User:x` would make
//! `...:User:x:name` mean either its `name` or core `x.name`.

use crate::proto::error::{ScimError, ScimResult, ERROR_SCHEMA};
use crate::proto::messages::{
    BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA, LIST_RESPONSE_SCHEMA, SEARCH_REQUEST_SCHEMA,
};
use crate::proto::patch::request::PATCH_OP_SCHEMA;
use crate::proto::schema::{
    ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SPC_SCHEMA,
    USER_SCHEMA,
};

/// The longest extension URN accepted: far above any real one, and short
/// enough for every path, filter and JSON key it appears in.
pub(crate) const MAX_URN_LEN: usize = 255;

/// The schema URNs RFC 7643 and RFC 7644 define: the core schemas, the
/// Enterprise User extension and the API messages.
pub(crate) const PROTOCOL_URNS: &[&str] = &[
    USER_SCHEMA,
    GROUP_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    SPC_SCHEMA,
    RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA,
    LIST_RESPONSE_SCHEMA,
    SEARCH_REQUEST_SCHEMA,
    PATCH_OP_SCHEMA,
    BULK_REQUEST_SCHEMA,
    BULK_RESPONSE_SCHEMA,
    ERROR_SCHEMA,
];

/// RFC 8141 §2 NID: `(alphanum) 0*30(ldh) (alphanum)`, 2 to 32 characters.
fn is_nid(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=32).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// RFC 8141 §2 NSS: `pchar *(pchar / "/")`, with RFC 3986 §3.3
/// `pchar = unreserved / pct-encoded / sub-delims / ":" / "@"`.
fn is_nss(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let ok = match c {
            b'%' => {
                let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return false;
                }
                i += 2;
                true
            }
            b'/' => i > 0,
            c if c.is_ascii_alphanumeric() => true,
            // unreserved punctuation, sub-delims, ":" and "@"
            c => b"-._~!$&'()*+,;=:@".contains(&c),
        };
        if !ok {
            return false;
        }
        i += 1;
    }
    !b.is_empty()
}

/// Whether `s` is an RFC 8141 URN without r-, q- or f-components:
/// `"urn:" NID ":" NSS` ("urn" in any case).
pub(crate) fn is_urn(s: &str) -> bool {
    let Some(head) = s.get(..4).filter(|h| h.eq_ignore_ascii_case("urn:")) else {
        return false;
    };
    let rest = s.get(head.len()..).unwrap_or("");
    match rest.split_once(':') {
        Some((nid, nss)) => is_nid(nid) && is_nss(nss),
        None => false,
    }
}

/// Whether `a` and `b` name the same schema, or one of them is a `:`-prefix
/// of the other (ignoring ASCII case, as schema URNs are compared).
pub(crate) fn overlaps(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let Some(head) = long.get(..short.len()) else {
        return false;
    };
    head.eq_ignore_ascii_case(short) && long.as_bytes().get(short.len()).is_none_or(|c| *c == b':')
}

/// Checks a URN a tenant wants its extension schema named by: an RFC 8141
/// URN that SCIM can name in a path, a filter and an `attributes` list,
/// and that overlaps none of the protocol's own schemas (see the module
/// comment).
pub(crate) fn check_extension_urn(urn: &str) -> ScimResult<()> {
    if urn.len() > MAX_URN_LEN {
        return Err(ScimError::invalid_value(format!(
            "An extension URN has at most {MAX_URN_LEN} characters."
        )));
    }
    if !is_urn(urn) {
        return Err(ScimError::invalid_value(format!(
            "'{urn}' is not a URN (RFC 8141): 'urn:', a namespace id of 2 to 32 letters, digits \
             and '-', ':', then letters, digits and -._~!$&'*+;=:@/ or %XX, without spaces."
        )));
    }
    // RFC 8141 allows these, but a filter cuts words at parentheses, an
    // `attributes` list at commas, and a name after a trailing colon would
    // follow an empty segment.
    if urn.contains(['(', ')', ',']) || urn.ends_with(':') {
        return Err(ScimError::invalid_value(format!(
            "'{urn}' cannot be named in SCIM filters and attribute lists: it may not contain \
             '(', ')' or ',', nor end with ':'."
        )));
    }
    if let Some(taken) = PROTOCOL_URNS.iter().find(|p| overlaps(p, urn)) {
        return Err(ScimError::invalid_value(format!(
            "'{urn}' would clash with the SCIM schema '{taken}': an extension URN may not equal \
             a schema of RFC 7643/7644 (in any case), nor be a ':'-prefix of one or have one \
             as its prefix."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urn_syntax_rfc8141_2() {
        for ok in [
            "urn:kissflow:scim:schemas:extension:Ab3xYz9Q:2:User",
            "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User",
            "URN:example:a",
            "urn:ab:x/y",
            "urn:a-b:x%2Fy@z~!$&'*+;=",
        ] {
            assert!(is_urn(ok), "{ok}");
        }
        for bad in [
            "",
            "urn:",
            "urn:a:x",          // NID too short
            "urn:-ab:x",        // NID starts with '-'
            "urn:ab-:x",        // NID ends with '-'
            "urn:ab",           // no NSS
            "urn:ab:",          // empty NSS
            "urn:ab:/x",        // NSS starts with '/'
            "urn:ab:x y",       // whitespace
            "urn:ab:x%2",       // short escape
            "urn:ab:x%zz",      // not hex
            "urn:ab:x?+r",      // r-component
            "urn:ab:x#f",       // f-component
            "urn:ab:\"x\"",     // not pchar
            "urn:ab:é",         // not ASCII
            "http://x.example", // not a URN
            "urn:a_b:x",        // '_' is no NID character
        ] {
            assert!(!is_urn(bad), "{bad}");
        }
        let long = format!("urn:{}:x", "a".repeat(33));
        assert!(!is_urn(&long), "NID of 33");
        assert!(is_urn(&format!("urn:{}:x", "a".repeat(32))));
    }

    #[test]
    fn overlap_is_equality_or_a_colon_prefix_either_way() {
        assert!(overlaps(USER_SCHEMA, &USER_SCHEMA.to_uppercase()));
        assert!(overlaps(USER_SCHEMA, &format!("{USER_SCHEMA}:x")));
        assert!(overlaps("urn:ietf:params:scim", USER_SCHEMA));
        assert!(!overlaps(USER_SCHEMA, &format!("{USER_SCHEMA}s")));
        assert!(!overlaps(
            ENTERPRISE_USER_SCHEMA,
            "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User"
        ));
    }

    #[test]
    fn extension_urns_may_not_clash_with_the_protocol_or_break_paths() {
        assert!(
            check_extension_urn("urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User")
                .is_ok()
        );
        for bad in [
            "not a urn",
            "urn:ietf:params:scim:schemas:core:2.0:user",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:extra",
            "urn:ietf:params:scim:schemas:core:2.0",
            "urn:ietf:params:scim:api:messages:2.0:PatchOp",
            "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
            "urn:ab:x(1)",
            "urn:ab:x,y",
            "urn:ab:x:",
        ] {
            let e = check_extension_urn(bad).expect_err(bad);
            assert_eq!(e.status, 400, "{bad}");
        }
        let long = format!("urn:ab:{}", "x".repeat(MAX_URN_LEN));
        assert!(check_extension_urn(&long).is_err());
    }
}
