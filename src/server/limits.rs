//! Rate limiting per SCIM token. In the worker this is the Workers Rate
//! Limiting binding `SCIM_RATE_LIMITER` (configured in wrangler.toml); a
//! request over the limit gets 429 with an integer-seconds `Retry-After`
//! and a SCIM error body, as Okta and Entra expect under overload.

use serde_json::Value;

use crate::proto::error::{ScimError, ScimResult};
use crate::server::config::Limits;

/// The binding's period: how long until a limited client may retry.
pub const RETRY_AFTER_SECONDS: u64 = 60;

#[allow(async_fn_in_trait)]
pub trait RateLimit {
    /// Counts one request for `key`; false when the key is over its limit.
    async fn allow(&self, key: &str) -> bool;
}

/// No limit (native tests, and a worker deployed without the binding).
pub struct Unlimited;

impl RateLimit for Unlimited {
    async fn allow(&self, _key: &str) -> bool {
        true
    }
}

/// Checks a resource document before it is stored: no string value longer
/// than `max_value_bytes`, and the whole document no larger than
/// `max_request_bytes` (PATCH adds could otherwise grow it past what one D1
/// row holds). Both are 400 invalidValue and nothing is written.
pub(crate) fn check_document(doc: &Value, limits: &Limits) -> ScimResult<()> {
    fn walk(v: &Value, path: &mut Vec<String>, max: usize) -> ScimResult<()> {
        match v {
            Value::String(s) if s.len() > max => Err(ScimError::invalid_value(format!(
                "The value of '{}' is {} bytes; the largest accepted is {max} bytes.",
                path.join("."),
                s.len()
            ))),
            Value::Array(items) => items.iter().try_for_each(|i| walk(i, path, max)),
            Value::Object(m) => m.iter().try_for_each(|(k, v)| {
                path.push(k.clone());
                let r = walk(v, path, max);
                path.pop();
                r
            }),
            _ => Ok(()),
        }
    }
    walk(doc, &mut Vec::new(), limits.max_value_bytes)?;
    let size = serde_json::to_vec(doc).map_or(0, |b| b.len());
    if size > limits.max_request_bytes {
        return Err(ScimError::invalid_value(format!(
            "The resource would be {size} bytes; the largest stored is {} bytes.",
            limits.max_request_bytes
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_values_and_large_documents_are_refused_by_name() {
        let limits = Limits {
            max_value_bytes: 8,
            max_request_bytes: 200,
            ..Limits::default()
        };
        assert!(check_document(&json!({"userName": "12345678"}), &limits).is_ok());
        let e = check_document(
            &json!({"emails": [{"value": "a@b.c"}, {"value": "123456789"}]}),
            &limits,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.contains("'emails.value'"), "{}", e.detail);
        let many: Vec<Value> = (0..100).map(|i| json!(i.to_string())).collect();
        let e = check_document(&json!({"x": many}), &limits).unwrap_err();
        assert!(e.detail.contains("largest stored is 200"), "{}", e.detail);
    }
}
