//! SCIM bearer-token authentication.
//!
//! Tokens are never stored: KV holds, under `scim-token:<sha256 hex>`, a
//! record naming the tenant. A request's token is hashed, looked up by that
//! key, and the stored hash is compared in constant time. Every failure is
//! the same 401, so a guesser learns nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::proto::error::{ScimError, ScimResult};
use crate::server::http::Request;
use crate::store::KeyValue;

pub const TOKEN_KEY_PREFIX: &str = "scim-token:";

/// What KV stores for one SCIM token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub tenant: String,
    pub id: String,
    #[serde(default)]
    pub label: String,
    /// SHA-256 of the token, lowercase hex.
    pub hash: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}

/// SHA-256 of a token as lowercase hex.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub fn token_key(hash: &str) -> String {
    format!("{TOKEN_KEY_PREFIX}{hash}")
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.header("authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Authenticates a request for `tenant`: the token must exist, belong to the
/// tenant and not be expired.
pub async fn authenticate<K: KeyValue>(
    kv: &K,
    req: &Request,
    tenant: &str,
    now: DateTime<Utc>,
) -> ScimResult<TokenRecord> {
    let token = bearer_token(req).ok_or_else(ScimError::unauthorized)?;
    let hash = token_hash(token);
    let stored = kv
        .get(&token_key(&hash))
        .await
        .map_err(|_| ScimError::internal("The token store is unavailable."))?
        .ok_or_else(ScimError::unauthorized)?;
    let record: TokenRecord =
        serde_json::from_str(&stored).map_err(|_| ScimError::unauthorized())?;
    let hash_ok: bool = record.hash.as_bytes().ct_eq(hash.as_bytes()).into();
    let tenant_ok = record.tenant == tenant;
    let live = match &record.expires {
        None => true,
        Some(e) => DateTime::parse_from_rfc3339(e).is_ok_and(|e| e > now),
    };
    if hash_ok && tenant_ok && live {
        Ok(record)
    } else {
        Err(ScimError::unauthorized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::http::Method;
    use crate::store::memory_kv::MemoryKv;

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
                    .unwrap_err();
                assert_eq!(e.status, 401, "{auth:?} for {tenant}");
                assert_eq!(e.detail, "Authentication failed.");
            }
        });
    }
}
