//! Standard Webhooks signatures (standardwebhooks.com, spec v1.0.0).
//!
//! An endpoint's secret is `whsec_` + base64 of 32 bytes. It is never
//! stored: the bytes are HMAC-SHA256 of the endpoint's identity and random
//! salt under the `SECRETS_KEY` Worker secret, so the database alone gives
//! nothing, and rotating means a new salt. A delivery is signed with
//! `v1,` + base64(HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")).

use ct_codecs::{Base64, Encoder};
use hmac_sha256::HMAC;

/// The shown form's prefix.
pub(crate) const SECRET_PREFIX: &str = "whsec_";

/// The secret bytes of endpoint `webhook` of `tenant` with `salt`.
pub(crate) fn secret_bytes(master: &str, tenant: &str, webhook: &str, salt: &str) -> [u8; 32] {
    let input = format!("scim-worker webhook signing secret\n{tenant}\n{webhook}\n{salt}");
    HMAC::mac(input.as_bytes(), master.as_bytes())
}

/// The secret as shown once to whoever creates or rotates the endpoint.
pub(crate) fn shown(bytes: &[u8; 32]) -> String {
    format!(
        "{SECRET_PREFIX}{}",
        Base64::encode_to_string(bytes).unwrap_or_default()
    )
}

/// One `v1,<base64>` signature of a delivery.
pub(crate) fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let content = format!("{id}.{timestamp}.{body}");
    let mac = HMAC::mac(content.as_bytes(), secret);
    format!("v1,{}", Base64::encode_to_string(mac).unwrap_or_default())
}

/// The bytes of a shown secret (`whsec_` + base64).
#[cfg(test)]
pub(crate) fn decode_shown(secret: &str) -> Option<Vec<u8>> {
    use ct_codecs::Decoder;
    let b64 = secret.strip_prefix(SECRET_PREFIX)?;
    Base64::decode_to_vec(b64, None).ok()
}

/// A random salt: 128 bits as hex.
pub(crate) fn salt() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification ("Verifying
    /// signatures"): secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id
    /// `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, body
    /// `{"test": 2432232314}`.
    #[test]
    fn the_specification_example_signs_as_published() {
        let secret = decode_shown("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_depend_on_key_tenant_endpoint_and_salt() {
        let a = secret_bytes("k", "acme", "wh_1", "s1");
        assert_eq!(a, secret_bytes("k", "acme", "wh_1", "s1"));
        assert_ne!(a, secret_bytes("k2", "acme", "wh_1", "s1"));
        assert_ne!(a, secret_bytes("k", "globex", "wh_1", "s1"));
        assert_ne!(a, secret_bytes("k", "acme", "wh_2", "s1"));
        assert_ne!(a, secret_bytes("k", "acme", "wh_1", "s2"));
        let s = shown(&a);
        assert!(s.starts_with("whsec_"));
        assert_eq!(decode_shown(&s).unwrap(), a.to_vec());
    }
}
