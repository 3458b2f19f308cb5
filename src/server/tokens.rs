//! The SCIM token lifecycle: issue, list, revoke, rotate, expire.
//!
//! A token is 256 bits from the platform CSPRNG, shown once. KV keeps, under
//! `scim-token:<sha256 hex>`, the record the authenticator reads, and under
//! `tenant-token:<tenant>:<token id>` the same record for listing; neither
//! holds the token itself. Revoking deletes both, so the next request with
//! the token fails.

use serde::Serialize;

use crate::proto::error::{ScimError, ScimResult};
use crate::server::auth::{hex, token_hash, token_key, TokenRecord};
use crate::store::KeyValue;

const INDEX_PREFIX: &str = "tenant-token:";

fn index_key(tenant: &str, id: &str) -> String {
    format!("{INDEX_PREFIX}{tenant}:{id}")
}

fn kv_error(e: crate::store::DbError) -> ScimError {
    ScimError::internal(format!("Token store error: {e}"))
}

/// A new random token: `swt_` and 64 hex digits (256 bits of CSPRNG output).
pub fn random_token() -> ScimResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ScimError::internal(format!("No randomness available: {e}")))?;
    Ok(format!("swt_{}", hex(&bytes)))
}

/// A token id: public, short, derived from nothing secret.
fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What listing shows of a token: everything but secrets.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: String,
    pub label: String,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// The first characters of the token's hash, to tell tokens apart.
    pub fingerprint: String,
}

impl From<&TokenRecord> for TokenInfo {
    fn from(r: &TokenRecord) -> Self {
        TokenInfo {
            id: r.id.clone(),
            label: r.label.clone(),
            created: r.created.clone(),
            expires: r.expires.clone(),
            last_used: r.last_used.clone(),
            fingerprint: r.hash.chars().take(8).collect(),
        }
    }
}

async fn save<K: KeyValue>(kv: &K, r: &TokenRecord) -> ScimResult<()> {
    let json = serde_json::to_string(r).map_err(|e| ScimError::internal(e.to_string()))?;
    kv.put(&token_key(&r.hash), &json, None)
        .await
        .map_err(kv_error)?;
    kv.put(&index_key(&r.tenant, &r.id), &json, None)
        .await
        .map_err(kv_error)
}

/// Issues a token for a tenant; returns the token (shown once) and its record.
pub async fn issue<K: KeyValue>(
    kv: &K,
    tenant: &str,
    label: &str,
    expires: Option<String>,
    now: &str,
) -> ScimResult<(String, TokenRecord)> {
    let token = random_token()?;
    let record = TokenRecord {
        tenant: tenant.to_owned(),
        id: random_id(),
        label: label.to_owned(),
        hash: token_hash(&token),
        created: now.to_owned(),
        expires,
        last_used: None,
    };
    save(kv, &record).await?;
    Ok((token, record))
}

/// The tenant's tokens (metadata only), oldest first.
pub async fn list<K: KeyValue>(kv: &K, tenant: &str) -> ScimResult<Vec<TokenRecord>> {
    let keys = kv
        .list(&format!("{INDEX_PREFIX}{tenant}:"))
        .await
        .map_err(kv_error)?;
    let mut out = Vec::new();
    for key in keys {
        if let Some(v) = kv.get(&key).await.map_err(kv_error)? {
            if let Ok(r) = serde_json::from_str::<TokenRecord>(&v) {
                out.push(r);
            }
        }
    }
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    Ok(out)
}

pub async fn get<K: KeyValue>(kv: &K, tenant: &str, id: &str) -> ScimResult<Option<TokenRecord>> {
    let v = kv.get(&index_key(tenant, id)).await.map_err(kv_error)?;
    Ok(v.and_then(|v| serde_json::from_str(&v).ok()))
}

/// Revokes a token: both keys go. Returns false when there is no such token.
pub async fn revoke<K: KeyValue>(kv: &K, tenant: &str, id: &str) -> ScimResult<bool> {
    let Some(r) = get(kv, tenant, id).await? else {
        return Ok(false);
    };
    kv.delete(&token_key(&r.hash)).await.map_err(kv_error)?;
    kv.delete(&index_key(tenant, id)).await.map_err(kv_error)?;
    Ok(true)
}

/// Sets (or clears) a token's expiry.
pub async fn set_expiry<K: KeyValue>(
    kv: &K,
    tenant: &str,
    id: &str,
    expires: Option<String>,
) -> ScimResult<Option<TokenRecord>> {
    let Some(mut r) = get(kv, tenant, id).await? else {
        return Ok(None);
    };
    r.expires = expires;
    save(kv, &r).await?;
    Ok(Some(r))
}

/// Rotates a token: a new one with the same label replaces it, and the old
/// one is revoked.
pub async fn rotate<K: KeyValue>(
    kv: &K,
    tenant: &str,
    id: &str,
    now: &str,
) -> ScimResult<Option<(String, TokenRecord)>> {
    let Some(old) = get(kv, tenant, id).await? else {
        return Ok(None);
    };
    let issued = issue(kv, tenant, &old.label, old.expires.clone(), now).await?;
    revoke(kv, tenant, id).await?;
    Ok(Some(issued))
}

/// Revokes every token of a tenant (when the tenant is deleted).
pub async fn revoke_all<K: KeyValue>(kv: &K, tenant: &str) -> ScimResult<()> {
    for r in list(kv, tenant).await? {
        revoke(kv, tenant, &r.id).await?;
    }
    Ok(())
}

/// Records that a token was used, at most once an hour per token (KV allows
/// about one write per second per key, and a write per request would cost).
pub async fn touch<K: KeyValue>(kv: &K, r: &TokenRecord, now: &str) -> ScimResult<()> {
    let stale = r
        .last_used
        .as_deref()
        .is_none_or(|last| last.get(..13) != now.get(..13));
    if stale {
        let mut updated = r.clone();
        updated.last_used = Some(now.to_owned());
        save(kv, &updated).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory_kv::MemoryKv;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert!(a.starts_with("swt_"));
    }

    #[test]
    fn lifecycle_issue_list_expire_rotate_revoke() {
        pollster::block_on(async {
            let kv = MemoryKv::default();
            let (token, rec) = issue(&kv, "acme", "okta", None, "2026-01-01T00:00:00.000Z")
                .await
                .unwrap();
            // Only hashes are stored.
            for key in kv.keys() {
                let v = kv.get(&key).await.unwrap().unwrap();
                assert!(!v.contains(&token) && !key.contains(&token));
            }
            let listed = list(&kv, "acme").await.unwrap();
            assert_eq!(listed, vec![rec.clone()]);
            assert!(list(&kv, "other").await.unwrap().is_empty());
            let exp = set_expiry(&kv, "acme", &rec.id, Some("2030-01-01T00:00:00Z".into()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(exp.expires.as_deref(), Some("2030-01-01T00:00:00Z"));
            let (new_token, new_rec) = rotate(&kv, "acme", &rec.id, "2026-01-02T00:00:00.000Z")
                .await
                .unwrap()
                .unwrap();
            assert_ne!(new_token, token);
            assert!(kv.get(&token_key(&rec.hash)).await.unwrap().is_none());
            assert!(kv.get(&token_key(&new_rec.hash)).await.unwrap().is_some());
            assert!(revoke(&kv, "acme", &new_rec.id).await.unwrap());
            assert!(kv.keys().is_empty());
            assert!(!revoke(&kv, "acme", &new_rec.id).await.unwrap());
        });
    }
}
