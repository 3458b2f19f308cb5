//! SCIM authentication: a SCIM token as `Authorization: Bearer <token>` or
//! alone (`Authorization: <token>`, Okta's "HTTP Header" mode), or a Basic
//! credential (`Authorization: Basic <base64 of username:password>`, Okta's
//! "SCIM 2.0 Test App (Basic Auth)").
//!
//! Secrets are never stored: KV holds, under `scim-token:<sha256 hex>`, a
//! record naming the tenant and the kind of credential. A request's secret
//! is hashed (a Basic one as `basic:<username>:<password>`), looked up by
//! that key, and the stored hash is compared in constant time; the record
//! must be of the kind presented, so a Basic pair is never a token. Every
//! failure is the same 401, so a guesser learns nothing.

use chrono::{DateTime, Utc};
use ct_codecs::{Base64, Decoder};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::http::Request;
use crate::store::tokens::{self, CredentialKind, TokenRecord};
use crate::store::KeyValue;

/// SHA-256 of a token as lowercase hex.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The hash a Basic credential is stored under.
pub(crate) fn basic_hash(username: &str, password: &str) -> String {
    sha256_hex(format!("basic:{username}:{password}").as_bytes())
}

/// SHA-256 as lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(data))
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.header("authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A credential as a SCIM request presents it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    /// `Bearer <token>`, or the token alone.
    Token(&'a str),
    /// `Basic <base64 of username:password>` (RFC 7617).
    Basic { username: String, password: String },
}

/// The credential of a SCIM request, if it presents one in a form we take.
pub(crate) fn presented(req: &Request) -> Option<Presented<'_>> {
    let value = req.header("authorization")?.trim();
    let Some((scheme, rest)) = value.split_once(' ') else {
        // Okta's "HTTP Header" mode: the token with no scheme.
        return (!value.is_empty()).then_some(Presented::Token(value));
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Presented::Token(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = Base64::decode_to_vec(rest, None).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (username, password) = text.split_once(':')?;
        return Some(Presented::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        });
    }
    None
}

/// Authenticates a request for `tenant`: the credential must exist, be of
/// the kind presented, belong to the tenant and not be expired.
pub(crate) async fn authenticate<K: KeyValue>(
    kv: &K,
    req: &Request,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<TokenRecord> {
    let (hash, kinds): (String, &[Option<CredentialKind>]) =
        match presented(req).ok_or_else(ScimError::unauthorized)? {
            Presented::Token(t) => (token_hash(t), &[None, Some(CredentialKind::OAuth)]),
            Presented::Basic { username, password } => (
                basic_hash(&username, &password),
                &[Some(CredentialKind::Basic)],
            ),
        };
    // A lookup that could not be made is a fault (500, logged); a
    // credential that is not there is 401.
    let record = tokens::by_hash_cached(kv, &hash, now.timestamp_millis())
        .await?
        .ok_or_else(ScimError::unauthorized)?;
    let hash_ok: bool = record.hash.as_bytes().ct_eq(hash.as_bytes()).into();
    let kind_ok = kinds.contains(&record.kind);
    let tenant_ok = record.tenant == tenant;
    let live = match &record.expires {
        None => true,
        Some(e) => DateTime::parse_from_rfc3339(e).is_ok_and(|e| e > now),
    };
    if hash_ok && kind_ok && tenant_ok && live {
        Ok(record)
    } else {
        Err(ScimError::unauthorized().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::http::Method;
    use crate::store::tokens::token_key;
    use crate::testing::MemoryKv;

    fn record(tenant: &str, token: &str, expires: Option<&str>) -> TokenRecord {
        TokenRecord {
            last_user_agent: None,
            tenant: tenant.into(),
            id: "t1".into(),
            label: "test".into(),
            hash: token_hash(token),
            created: "2026-01-01T00:00:00Z".into(),
            expires: expires.map(Into::into),
            last_used: None,
            kind: None,
            username: None,
        }
    }

    async fn store(kv: &MemoryKv, token: &str, r: &TokenRecord) {
        let v = serde_json::to_string(r).unwrap();
        kv.put(&token_key(&token_hash(token)), &v, None)
            .await
            .unwrap();
    }

    fn req(auth: Option<&str>) -> Request {
        let r = Request::new(Method::Get, "/scim/v2/acme/Users");
        match auth {
            Some(a) => r.with_header("Authorization", a),
            None => r,
        }
    }

    #[test]
    fn sha256_hex_matches_known_vector() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn valid_token_of_the_tenant_authenticates() {
        pollster::block_on(async {
            let kv = MemoryKv::default();
            store(&kv, "secret-1", &record("acme", "secret-1", None)).await;
            let now = Utc::now();
            assert!(
                authenticate(&kv, &req(Some("Bearer secret-1")), "acme", now)
                    .await
                    .is_ok()
            );
            // The scheme is case-insensitive (RFC 7235 §2.1).
            assert!(
                authenticate(&kv, &req(Some("bearer secret-1")), "acme", now)
                    .await
                    .is_ok()
            );
        });
    }

    /// Okta's "HTTP Header" authentication sends the token with no scheme
    /// (Okta OIN SCIM protocol properties: `Authorization: {API token}`).
    #[test]
    fn a_token_with_no_scheme_authenticates_as_a_bearer_token_does() {
        pollster::block_on(async {
            let kv = MemoryKv::default();
            store(&kv, "swt_abc", &record("acme", "swt_abc", None)).await;
            let now = Utc::now();
            assert!(authenticate(&kv, &req(Some("swt_abc")), "acme", now)
                .await
                .is_ok());
            assert!(authenticate(&kv, &req(Some("  swt_abc ")), "acme", now)
                .await
                .is_ok());
            assert!(authenticate(&kv, &req(Some("swt_abc")), "other", now)
                .await
                .is_err());
        });
    }

    /// RFC 7617: `Basic` and base64 of `username:password`; a Basic record
    /// is never a token and a token never a Basic pair.
    #[test]
    fn basic_credentials_are_their_own_kind() {
        pollster::block_on(async {
            use ct_codecs::Encoder;
            let kv = MemoryKv::default();
            let mut basic = record("acme", "ignored", None);
            basic.hash = basic_hash("scim-user", "p:ss");
            basic.kind = Some(CredentialKind::Basic);
            let v = serde_json::to_string(&basic).unwrap();
            kv.put(&token_key(&basic.hash), &v, None).await.unwrap();
            let b64 = |s: &str| Base64::encode_to_string(s).unwrap();
            let now = Utc::now();
            let ok = format!("Basic {}", b64("scim-user:p:ss"));
            assert!(authenticate(&kv, &req(Some(&ok)), "acme", now)
                .await
                .is_ok());
            for bad in [
                format!("Basic {}", b64("scim-user:wrong")),
                format!("Basic {}", b64("scim-user")),
                "Basic !!notbase64".to_owned(),
                // The stored hash's preimage presented as a token.
                "Bearer basic:scim-user:p:ss".to_owned(),
            ] {
                assert!(
                    authenticate(&kv, &req(Some(&bad)), "acme", now)
                        .await
                        .is_err(),
                    "{bad}"
                );
            }
            // A token presented as a Basic password is not a Basic credential.
            store(&kv, "swt_x", &record("acme", "swt_x", None)).await;
            let as_basic = format!("Basic {}", b64("u:swt_x"));
            assert!(authenticate(&kv, &req(Some(&as_basic)), "acme", now)
                .await
                .is_err());
        });
    }

    #[test]
    fn wrong_missing_foreign_or_expired_tokens_are_401() {
        pollster::block_on(async {
            let kv = MemoryKv::default();
            store(&kv, "a-token", &record("acme", "a-token", None)).await;
            store(
                &kv,
                "old",
                &record("acme", "old", Some("2020-01-01T00:00:00Z")),
            )
            .await;
            let now = Utc::now();
            for (auth, tenant) in [
                (Some("Bearer nope"), "acme"),
                (None, "acme"),
                (Some("Basic a-token"), "acme"),
                (Some("Bearer"), "acme"),
                (Some("Digest a-token"), "acme"),
                (Some("Bearer a-token"), "other"),
                (Some("Bearer old"), "acme"),
            ] {
                let e = authenticate(&kv, &req(auth), tenant, now)
                    .await
                    .unwrap_err()
                    .scim();
                assert_eq!(e.status, 401, "{auth:?} for {tenant}");
                assert_eq!(e.detail, "Authentication failed.");
            }
        });
    }
}
