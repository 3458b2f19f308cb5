//! Rate limiting per SCIM token. In the worker this is the Workers Rate
//! Limiting binding `SCIM_RATE_LIMITER` (configured in wrangler.toml); a
//! request over the limit gets 429 with an integer-seconds `Retry-After`
//! and a SCIM error body, as Okta and Entra expect under overload.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::ScimError;
use crate::http::Response;

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

/// A fixed budget of requests per key, for tests.
pub struct Budget {
    limit: u64,
    used: Mutex<HashMap<String, u64>>,
}

impl Budget {
    pub fn new(limit: u64) -> Self {
        Budget {
            limit,
            used: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimit for Budget {
    async fn allow(&self, key: &str) -> bool {
        let Ok(mut used) = self.used.lock() else {
            return true;
        };
        let n = used.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n <= self.limit
    }
}

/// The 429 answer.
pub fn too_many_requests() -> Response {
    Response::from(ScimError::new(
        429,
        None,
        format!("Too many requests for this token; retry after {RETRY_AFTER_SECONDS} seconds."),
    ))
    .with_header("retry-after", RETRY_AFTER_SECONDS.to_string())
}
