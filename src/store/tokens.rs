//! SCIM credential records in KV: tokens, and Basic usernames and
//! passwords. A secret itself is never stored: under `scim-token:<sha256
//! hex>` KV holds the record the authenticator reads (for a Basic
//! credential, the hash of `basic:<username>:<password>`), and under
//! `tenant-token:<tenant>:<id>` the same record for listing.

use serde::{Deserialize, Serialize};

use super::{KeyValue, KvError};

const TOKEN_KEY_PREFIX: &str = "scim-token:";
const INDEX_PREFIX: &str = "tenant-token:";

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
    /// The `User-Agent` of a request recorded as its last use (capped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_user_agent: Option<String>,
    /// What kind of credential it is; `None`: a SCIM token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CredentialKind>,
    /// The username of a Basic credential (not secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The kinds of credential besides a SCIM token, each presented its own way.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    /// A username and password (`Authorization: Basic`).
    Basic,
    /// An OAuth access token (`Authorization: Bearer`), issued by the token
    /// endpoint to a client (whose id the record's `id` is); only its
    /// authenticator key is written, expiring with it.
    #[serde(rename = "oauth")]
    OAuth,
}

/// The key the authenticator reads for a token's hash.
pub fn token_key(hash: &str) -> String {
    format!("{TOKEN_KEY_PREFIX}{hash}")
}

fn index_key(tenant: &str, id: &str) -> String {
    format!("{INDEX_PREFIX}{tenant}:{id}")
}

fn parse(v: Option<String>) -> Option<TokenRecord> {
    v.and_then(|v| serde_json::from_str(&v).ok())
}

/// How long this isolate trusts a record it read (milliseconds): less
/// than the time Workers KV itself takes to carry a change to every
/// location (up to 60 s), so the cache adds at most this to how long a
/// revoked credential works in another isolate; the isolate that revokes
/// forgets at once.
pub(crate) const CACHE_MS: i64 = 30_000;
/// The most records an isolate keeps.
const CACHE_SIZE: usize = 1024;

thread_local! {
    /// Records by hash, with when they were read (ms): a steady stream of
    /// requests from one IdP costs no KV read per request.
    static CACHE: std::cell::RefCell<std::collections::HashMap<String, (TokenRecord, i64)>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn remember(r: &TokenRecord, now_ms: i64) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE && !c.contains_key(&r.hash) {
            c.retain(|_, (_, at)| now_ms - *at < CACHE_MS);
            if c.len() >= CACHE_SIZE {
                c.clear();
            }
        }
        c.insert(r.hash.clone(), (r.clone(), now_ms));
    });
}

/// Forgets the record of `hash` in this isolate (it was revoked).
pub(crate) fn forget(hash: &str) {
    CACHE.with(|c| c.borrow_mut().remove(hash));
}

/// Stores a record under both of its keys (and as this isolate's view).
pub(crate) async fn save<K: KeyValue>(kv: &K, r: &TokenRecord) -> Result<(), KvError> {
    let json = serde_json::to_string(r).map_err(|e| KvError(e.to_string()))?;
    kv.put(&token_key(&r.hash), &json, None).await?;
    kv.put(&index_key(&r.tenant, &r.id), &json, None).await?;
    CACHE.with(|c| {
        if let Some(entry) = c.borrow_mut().get_mut(&r.hash) {
            entry.0 = r.clone();
        }
    });
    Ok(())
}

/// The record of the token whose hash is `hash`; `None` when there is none
/// or it is unreadable.
pub(crate) async fn by_hash<K: KeyValue>(
    kv: &K,
    hash: &str,
) -> Result<Option<TokenRecord>, KvError> {
    Ok(parse(kv.get(&token_key(hash)).await?))
}

/// [`by_hash`], from this isolate's cache when it read the record less
/// than [`CACHE_MS`] before `now_ms`. A record that is not there is not
/// cached (a guesser's misses cost a read each, as before).
pub(crate) async fn by_hash_cached<K: KeyValue>(
    kv: &K,
    hash: &str,
    now_ms: i64,
) -> Result<Option<TokenRecord>, KvError> {
    let cached = CACHE.with(|c| {
        c.borrow()
            .get(hash)
            .filter(|(_, at)| (0..CACHE_MS).contains(&(now_ms - at)))
            .map(|(r, _)| r.clone())
    });
    if cached.is_some() {
        return Ok(cached);
    }
    let read = by_hash(kv, hash).await?;
    match &read {
        Some(r) => remember(r, now_ms),
        None => forget(hash),
    }
    Ok(read)
}

/// The record of a tenant's token `id`.
pub(crate) async fn get<K: KeyValue>(
    kv: &K,
    tenant: &str,
    id: &str,
) -> Result<Option<TokenRecord>, KvError> {
    Ok(parse(kv.get(&index_key(tenant, id)).await?))
}

/// The tenant's token records, oldest first.
pub(crate) async fn list<K: KeyValue>(kv: &K, tenant: &str) -> Result<Vec<TokenRecord>, KvError> {
    let keys = kv.list(&format!("{INDEX_PREFIX}{tenant}:")).await?;
    let mut out = Vec::new();
    for key in keys {
        if let Some(r) = parse(kv.get(&key).await?) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Deletes both keys of a record: the token stops working (in this
/// isolate at once, elsewhere when KV and the isolates' caches catch up).
pub(crate) async fn delete<K: KeyValue>(kv: &K, r: &TokenRecord) -> Result<(), KvError> {
    forget(&r.hash);
    kv.delete(&token_key(&r.hash)).await?;
    kv.delete(&index_key(&r.tenant, &r.id)).await
}
