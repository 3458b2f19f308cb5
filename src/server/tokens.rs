//! The SCIM token lifecycle: issue, list, revoke, rotate, expire.
//!
//! A token is 256 bits from the platform CSPRNG, shown once. KV keeps, under
//! `scim-token:<sha256 hex>`, the record the authenticator reads, and under
//! `tenant-token:<tenant>:<token id>` the same record for listing; neither
//! holds the token itself. Revoking deletes both, so the next request with
//! the token fails.

use serde::Serialize;

use crate::server::auth::{basic_hash, token_hash};
use crate::server::error::{Error, Result};
use crate::store::tokens::{self, CredentialKind, TokenRecord};
use crate::store::KeyValue;

/// A new random token: `swt_` and 64 hex digits (256 bits of CSPRNG output).
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("No randomness available: {e}")))?;
    Ok(format!("swt_{}", base16ct::lower::encode_string(&bytes)))
}

/// A token id: public, short, derived from nothing secret.
fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What listing shows of a token: everything but secrets.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenInfo {
    pub id: String,
    pub label: String,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// The `User-Agent` of its last recorded use, and the IdP it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<&'static str>,
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
            last_user_agent: r.last_user_agent.clone(),
            idp: r.last_user_agent.as_deref().and_then(idp_of),
            fingerprint: r.hash.chars().take(8).collect(),
        }
    }
}

/// Issues a token for a tenant; returns the token (shown once) and its record.
pub(crate) async fn issue<K: KeyValue>(
    kv: &K,
    tenant: &str,
    label: &str,
    expires: Option<String>,
    now: &str,
) -> Result<(String, TokenRecord)> {
    let token = random_token()?;
    let record = TokenRecord {
        last_user_agent: None,
        tenant: tenant.to_owned(),
        id: random_id(),
        label: label.to_owned(),
        hash: token_hash(&token),
        created: now.to_owned(),
        expires,
        last_used: None,
        kind: None,
        username: None,
    };
    tokens::save(kv, &record).await?;
    Ok((token, record))
}

/// A new Basic credential for a tenant: a generated username (`scim-` and
/// 16 hex digits) and password (`swb_` and 64 hex digits, 256 bits), the
/// password shown once. Returns it and its record.
pub(crate) async fn issue_basic<K: KeyValue>(
    kv: &K,
    tenant: &str,
    label: &str,
    now: &str,
) -> Result<(String, TokenRecord)> {
    let mut name = [0u8; 8];
    getrandom::fill(&mut name)
        .map_err(|e| Error::internal(format!("No randomness available: {e}")))?;
    let username = format!("scim-{}", base16ct::lower::encode_string(&name));
    let password = format!("swb_{}", &random_token()?[4..]);
    let record = TokenRecord {
        last_user_agent: None,
        tenant: tenant.to_owned(),
        id: random_id(),
        label: label.to_owned(),
        hash: basic_hash(&username, &password),
        created: now.to_owned(),
        expires: None,
        last_used: None,
        kind: Some(CredentialKind::Basic),
        username: Some(username),
    };
    tokens::save(kv, &record).await?;
    Ok((password, record))
}

/// The tenant's credentials of `kind` (`None`: SCIM tokens), metadata
/// only, oldest first.
pub(crate) async fn list<K: KeyValue>(
    kv: &K,
    tenant: &str,
    kind: Option<CredentialKind>,
) -> Result<Vec<TokenRecord>> {
    let mut all = tokens::list(kv, tenant).await?;
    all.retain(|r| r.kind == kind);
    Ok(all)
}

/// Revokes a credential of `kind`: both keys go. Returns false when there
/// is no such credential of that kind.
pub(crate) async fn revoke<K: KeyValue>(
    kv: &K,
    tenant: &str,
    id: &str,
    kind: Option<CredentialKind>,
) -> Result<bool> {
    let Some(r) = tokens::get(kv, tenant, id)
        .await?
        .filter(|r| r.kind == kind)
    else {
        return Ok(false);
    };
    tokens::delete(kv, &r).await?;
    Ok(true)
}

/// Sets (or clears) a token's expiry.
pub(crate) async fn set_expiry<K: KeyValue>(
    kv: &K,
    tenant: &str,
    id: &str,
    expires: Option<String>,
) -> Result<Option<TokenRecord>> {
    let Some(mut r) = tokens::get(kv, tenant, id)
        .await?
        .filter(|r| r.kind.is_none())
    else {
        return Ok(None);
    };
    r.expires = expires;
    tokens::save(kv, &r).await?;
    Ok(Some(r))
}

/// Rotates a token: a new one with the same label and expiry replaces it.
/// The old one is revoked now, or, with `grace_until` (a stored timestamp),
/// stays valid until then (or its own earlier expiry), so an IT admin can
/// paste the new token into the IdP without a gap. Answers the new token,
/// its record and the old one's record as it now is (`None`: revoked).
pub(crate) async fn rotate<K: KeyValue>(
    kv: &K,
    tenant: &str,
    id: &str,
    now: &str,
    grace_until: Option<String>,
) -> Result<Option<(String, TokenRecord, Option<TokenRecord>)>> {
    let Some(mut old) = tokens::get(kv, tenant, id)
        .await?
        .filter(|r| r.kind.is_none())
    else {
        return Ok(None);
    };
    let (token, record) = issue(kv, tenant, &old.label, old.expires.clone(), now).await?;
    let Some(until) = grace_until else {
        tokens::delete(kv, &old).await?;
        return Ok(Some((token, record, None)));
    };
    // Stored timestamps compare as text.
    let sooner = match old.expires.take() {
        Some(e) if e < until => e,
        _ => until,
    };
    old.expires = Some(sooner);
    tokens::save(kv, &old).await?;
    Ok(Some((token, record, Some(old))))
}

/// Revokes every token of a tenant (when the tenant is deleted).
pub(crate) async fn revoke_all<K: KeyValue>(kv: &K, tenant: &str) -> Result<()> {
    for r in tokens::list(kv, tenant).await? {
        tokens::delete(kv, &r).await?;
    }
    Ok(())
}

/// The longest `User-Agent` kept with a credential's last use.
const MAX_AGENT: usize = 200;

/// Records that a token was used, at most once an hour per token (KV allows
/// about one write per second per key, and a write per request would cost),
/// with the request's `User-Agent` (so the console can tell which IdP
/// uses it).
pub(crate) async fn touch<K: KeyValue>(
    kv: &K,
    r: &TokenRecord,
    now: &str,
    user_agent: Option<&str>,
) -> Result<()> {
    // An OAuth access token is short-lived; its client records its use
    // when it is granted one (`server::oauth`).
    if r.kind == Some(CredentialKind::OAuth) {
        return Ok(());
    }
    let stale = r
        .last_used
        .as_deref()
        .is_none_or(|last| last.get(..13) != now.get(..13));
    if stale {
        let mut updated = r.clone();
        updated.last_used = Some(now.to_owned());
        updated.last_user_agent = user_agent
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| a.chars().take(MAX_AGENT).collect());
        tokens::save(kv, &updated).await?;
    }
    Ok(())
}

/// The identity provider a `User-Agent` names, when it names a known one
/// (by substring, in any case; unknown agents are shown as they are).
pub(crate) fn idp_of(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.to_ascii_lowercase();
    [
        ("okta", "Okta"),
        ("azure", "Microsoft Entra ID"),
        ("microsoft", "Microsoft Entra ID"),
        ("entra", "Microsoft Entra ID"),
        ("aad", "Microsoft Entra ID"),
        ("onelogin", "OneLogin"),
        ("jumpcloud", "JumpCloud"),
        ("google", "Google Workspace"),
        ("rippling", "Rippling"),
        ("pingidentity", "PingOne"),
        ("pingone", "PingOne"),
        ("cyberark", "CyberArk"),
        ("authentik", "authentik"),
        ("keycloak", "Keycloak"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tokens::token_key;
    use crate::testing::MemoryKv;

    #[test]
    fn the_idp_is_told_by_its_user_agent() {
        // What Okta's SCIM client sends (seen in Okta's System Log and our
        // request-log tests).
        assert_eq!(idp_of("Okta SCIM Client 1.0.0"), Some("Okta"));
        assert_eq!(
            idp_of("Microsoft.AzureAD.Provisioning/1.0"),
            Some("Microsoft Entra ID")
        );
        assert_eq!(idp_of("curl/8.5.0"), None);
        assert_eq!(idp_of(""), None);
    }

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
            let listed = list(&kv, "acme", None).await.unwrap();
            assert_eq!(listed, vec![rec.clone()]);
            assert!(list(&kv, "other", None).await.unwrap().is_empty());
            let exp = set_expiry(&kv, "acme", &rec.id, Some("2030-01-01T00:00:00Z".into()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(exp.expires.as_deref(), Some("2030-01-01T00:00:00Z"));
            let (new_token, new_rec, old) =
                rotate(&kv, "acme", &rec.id, "2026-01-02T00:00:00.000Z", None)
                    .await
                    .unwrap()
                    .unwrap();
            assert!(old.is_none());
            assert_ne!(new_token, token);
            assert!(kv.get(&token_key(&rec.hash)).await.unwrap().is_none());
            assert!(kv.get(&token_key(&new_rec.hash)).await.unwrap().is_some());
            assert!(revoke(&kv, "acme", &new_rec.id, None).await.unwrap());
            assert!(kv.keys().is_empty());
            assert!(!revoke(&kv, "acme", &new_rec.id, None).await.unwrap());
        });
    }
}
