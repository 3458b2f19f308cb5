//! SCIM bearer-token authentication.
//!
//! Tokens are never stored: KV holds, under `scim-token:<sha256 hex>`, a
//! record naming the tenant. A request's token is hashed, looked up by that
//! key, and the stored hash is compared in constant time. Every failure is
//! the same 401, so a guesser learns nothing.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::http::Request;
use crate::store::tokens::{self, TokenRecord};
use crate::store::KeyValue;

/// SHA-256 of a token as lowercase hex.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
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

/// Authenticates a request for `tenant`: the token must exist, belong to the
/// tenant and not be expired.
pub(crate) async fn authenticate<K: KeyValue>(
    kv: &K,
    req: &Request,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<TokenRecord> {
    let token = bearer_token(req).ok_or_else(ScimError::unauthorized)?;
    let hash = token_hash(token);
    // A lookup that could not be made is a fault (500, logged); a token
    // that is not there is 401.
    let record = tokens::by_hash(kv, &hash)
        .await?
        .ok_or_else(ScimError::unauthorized)?;
    let hash_ok: bool = record.hash.as_bytes().ct_eq(hash.as_bytes()).into();
    let tenant_ok = record.tenant == tenant;
    let live = match &record.expires {
        None => true,
        Some(e) => DateTime::parse_from_rfc3339(e).is_ok_and(|e| e > now),
    };
    if hash_ok && tenant_ok && live {
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
            tenant: tenant.into(),
            id: "t1".into(),
            label: "test".into(),
            hash: token_hash(token),
            created: "2026-01-01T00:00:00Z".into(),
            expires: expires.map(Into::into),
            last_used: None,
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
