//! Secrets the service must use again (an Okta API token), encrypted at
//! rest: AES-256-GCM with a key derived from the `SECRETS_KEY` Worker
//! secret for this one purpose, a fresh random 96-bit nonce per write, and
//! the owner (tenant and connector) as associated data, so a sealed value
//! copied to another tenant's row does not open. Stored as base64 of
//! nonce || ciphertext || tag.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use ct_codecs::{Base64, Decoder, Encoder};
use hmac_sha256::HMAC;

const NONCE_LEN: usize = 12;

/// The AES key of `purpose` under the deployment's `SECRETS_KEY`.
fn cipher(master: &str, purpose: &str) -> Aes256Gcm {
    let input = format!("scim-worker encryption key\n{purpose}");
    let key = HMAC::mac(input.as_bytes(), master.as_bytes());
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))
}

/// `plaintext` sealed for `owner`.
pub(crate) fn seal(
    master: &str,
    purpose: &str,
    owner: &str,
    plaintext: &str,
) -> Result<String, String> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| format!("no randomness: {e}"))?;
    let sealed = cipher(master, purpose)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: owner.as_bytes(),
            },
        )
        .map_err(|_| "encryption failed".to_owned())?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Base64::encode_to_string(out).map_err(|_| "encoding failed".to_owned())
}

/// The plaintext of a value [`seal`] made for `owner`; `Err` when it was
/// sealed under another key or for another owner, or changed.
pub(crate) fn open(
    master: &str,
    purpose: &str,
    owner: &str,
    sealed: &str,
) -> Result<String, String> {
    let bytes = Base64::decode_to_vec(sealed, None).map_err(|_| "not base64".to_owned())?;
    if bytes.len() <= NONCE_LEN {
        return Err("too short".into());
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let plain = cipher(master, purpose)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: owner.as_bytes(),
            },
        )
        .map_err(|_| "it does not open with this SECRETS_KEY (changed?)".to_owned())?;
    String::from_utf8(plain).map_err(|_| "not text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_owner_and_key() {
        let s = seal("master-key", "okta", "acme", "00abcSECRET").unwrap();
        assert!(!s.contains("SECRET"));
        assert_eq!(
            open("master-key", "okta", "acme", &s).unwrap(),
            "00abcSECRET"
        );
        assert!(open("master-key", "okta", "globex", &s).is_err());
        assert!(open("other-key", "okta", "acme", &s).is_err());
        assert!(open("master-key", "webhook", "acme", &s).is_err());
        // A fresh nonce per write: the same token seals differently.
        assert_ne!(
            s,
            seal("master-key", "okta", "acme", "00abcSECRET").unwrap()
        );
        // A changed byte does not open.
        let mut bytes = Base64::decode_to_vec(&s, None).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = Base64::encode_to_string(bytes).unwrap();
        assert!(open("master-key", "okta", "acme", &tampered).is_err());
    }
}
