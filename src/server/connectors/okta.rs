//! A client of Okta's Users API (`/api/v1/users`), as the connector uses
//! it: `Authorization: SSWS <API token>`, JSON both ways, a timeout on
//! every call, Okta's error bodies (`errorCode`, `errorSummary`,
//! `errorId`, `errorCauses`) kept, and its rate limits honoured: the
//! `X-Rate-Limit-Remaining` and `-Reset` (Unix seconds) of the last answer
//! are remembered per org in the isolate, so a call that would surely be
//! refused waits for the reset when it is near ([`MAX_WAIT_MS`]) or is
//! answered 429 without calling; a 429 is retried once after the reset
//! when that is near.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{json, Value};

use crate::server::webhooks::{Fetch, Outbound};

/// The longest a call waits for a rate limit to reset before it tries
/// (again); a later reset is answered 429 with `Retry-After`.
pub(crate) const MAX_WAIT_MS: u64 = 5_000;

thread_local! {
    /// Per org URL: the last answer's remaining calls and reset time.
    static RATE: RefCell<HashMap<String, (i64, i64)>> = RefCell::new(HashMap::new());
}

/// Why a call did not give an answer to use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Okta answered with an error status (its body, when JSON).
    Okta { status: u16, body: Value },
    /// Rate-limited, and the reset is too far to wait: retry after this
    /// many seconds.
    RateLimited { retry_after: i64, body: Value },
    /// No answer within the timeout (its milliseconds).
    Timeout(u32),
    /// No connection (DNS, TLS, refused), with what the platform said.
    Unreachable(String),
    /// An answer that is not Okta's JSON.
    BadAnswer(u16),
}

/// One org and its API token.
pub(crate) struct Okta<'a, O> {
    pub out: &'a O,
    /// `https://<org>.okta.com`, without a trailing slash.
    pub org: &'a str,
    pub token: &'a str,
    /// The request's time, in seconds since the epoch (as
    /// `X-Rate-Limit-Reset` counts).
    pub now: i64,
    /// How long Okta may take to answer one call (`WEBHOOK_TIMEOUT_MS`,
    /// 10 s unless set: the deployment's bound on outbound calls).
    pub timeout_ms: u32,
}

impl<O: Outbound> Okta<'_, O> {
    /// Calls `method` `path` (with its query) and answers the status and
    /// JSON body of a 2xx answer (`null` when empty).
    pub(crate) async fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), Failure> {
        self.wait_for_limit().await?;
        let mut retried = false;
        loop {
            let fetched = self
                .out
                .fetch(Fetch {
                    method,
                    url: format!("{}{path}", self.org),
                    headers: vec![
                        ("authorization".into(), format!("SSWS {}", self.token)),
                        ("accept".into(), "application/json".into()),
                        ("content-type".into(), "application/json".into()),
                        ("user-agent".into(), "scim-worker okta-connector".into()),
                    ],
                    body: body.map(Value::to_string),
                    timeout_ms: self.timeout_ms,
                })
                .await
                .map_err(|e| {
                    let lower = e.to_ascii_lowercase();
                    if lower.contains("timeout")
                        || lower.contains("timed out")
                        || lower.contains("abort")
                    {
                        Failure::Timeout(self.timeout_ms)
                    } else {
                        Failure::Unreachable(e)
                    }
                })?;
            let int = |name: &str| {
                fetched
                    .header(name)
                    .and_then(|v| v.trim().parse::<i64>().ok())
            };
            let reset = int("x-rate-limit-reset");
            if let (Some(remaining), Some(reset)) = (int("x-rate-limit-remaining"), reset) {
                RATE.with(|r| {
                    r.borrow_mut()
                        .insert(self.org.to_owned(), (remaining, reset))
                });
            }
            let parsed: Option<Value> = if fetched.body.trim().is_empty() {
                Some(Value::Null)
            } else {
                serde_json::from_str(&fetched.body).ok()
            };
            let status = fetched.status;
            if status == 429 {
                let wait = reset.map_or(60, |r| (r - self.now).max(1));
                let ms = u64::try_from(wait * 1000).unwrap_or(u64::MAX);
                if !retried && ms <= MAX_WAIT_MS {
                    retried = true;
                    self.out.sleep(ms).await;
                    continue;
                }
                return Err(Failure::RateLimited {
                    retry_after: wait,
                    body: parsed.unwrap_or(Value::Null),
                });
            }
            return match (status, parsed) {
                (200..=299, Some(v)) => Ok((status, v)),
                (_, None) => Err(Failure::BadAnswer(status)),
                (_, Some(body)) => Err(Failure::Okta { status, body }),
            };
        }
    }

    /// Before a call: when the last answer left no calls until a reset
    /// still ahead, waits for it if it is near, else refuses at once.
    async fn wait_for_limit(&self) -> Result<(), Failure> {
        let state = RATE.with(|r| r.borrow().get(self.org).copied());
        let Some((remaining, reset)) = state else {
            return Ok(());
        };
        let wait = reset - self.now;
        if remaining > 0 || wait <= 0 {
            return Ok(());
        }
        let ms = u64::try_from(wait * 1000).unwrap_or(u64::MAX);
        if ms <= MAX_WAIT_MS {
            self.out.sleep(ms).await;
            return Ok(());
        }
        Err(Failure::RateLimited {
            retry_after: wait,
            body: json!(null),
        })
    }
}

/// Forgets what the isolate knows of an org's rate limit (a new token).
pub(crate) fn forget_limits(org: &str) {
    RATE.with(|r| r.borrow_mut().remove(org));
}

/// A user as the connector shows it: the fields an application wants,
/// and Okta's own object under `okta`.
pub(crate) fn user_json(okta: &Value) -> Value {
    json!({
        "id": okta.get("id"),
        "status": okta.get("status"),
        "login": okta.pointer("/profile/login"),
        "profile": okta.get("profile"),
        "created": okta.get("created"),
        "activated": okta.get("activated"),
        "lastLogin": okta.get("lastLogin"),
        "okta": okta,
    })
}

/// What an admin API answer says about a failure: the status it answers
/// with, what happened and what to do, and Okta's error (for support:
/// `errorId`).
pub(crate) fn explain(f: &Failure, what: &str) -> (u16, String, Value) {
    let okta_error = |status: u16, body: &Value| {
        let mut e = json!({"status": status});
        for k in ["errorCode", "errorSummary", "errorId", "errorCauses"] {
            if let Some(v) = body.get(k) {
                e[k] = v.clone();
            }
        }
        e
    };
    let summary = |body: &Value| {
        body.get("errorSummary")
            .and_then(Value::as_str)
            .unwrap_or("no summary")
            .to_owned()
    };
    match f {
        Failure::Okta { status: 401, body } => (
            502,
            format!(
                "Okta refused the API token ({}). It is wrong, revoked or expired (Okta expires tokens unused for 30 days): \
                 create a new one in Okta (Security > API > Tokens) and save it in this connector.",
                summary(body)
            ),
            okta_error(401, body),
        ),
        Failure::Okta { status: 403, body } => (
            502,
            format!(
                "Okta says the API token may not {what} ({}). A token acts with its creator's admin role: \
                 create it as an admin who can manage users (Super Admin, Org Admin, or a custom role with user permissions).",
                summary(body)
            ),
            okta_error(403, body),
        ),
        Failure::Okta { status: 404, body } => (
            404,
            format!("Okta has no such user ({}).", summary(body)),
            okta_error(404, body),
        ),
        Failure::Okta { status, body } if (400..500).contains(status) => {
            let causes: Vec<&str> = body
                .get("errorCauses")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c.get("errorSummary").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            let detail = if causes.is_empty() {
                format!("Okta refused to {what}: {}.", summary(body))
            } else {
                format!("Okta refused to {what}: {} ({}).", summary(body), causes.join("; "))
            };
            (400, detail, okta_error(*status, body))
        }
        Failure::Okta { status, body } => (
            502,
            format!(
                "Okta failed to {what} ({status}: {}). This is on Okta's side; try again in a few minutes.",
                summary(body)
            ),
            okta_error(*status, body),
        ),
        Failure::RateLimited { retry_after, body } => (
            429,
            format!(
                "Okta's rate limit for this org is used up until its reset in {retry_after} s; \
                 try again then (see Retry-After)."
            ),
            okta_error(429, body),
        ),
        Failure::Timeout(ms) => (
            504,
            format!(
                "Okta did not answer within {} s. Check that the org URL is right and Okta is up (status.okta.com), then try again.",
                f64::from(*ms) / 1000.0
            ),
            json!(null),
        ),
        Failure::Unreachable(e) => (
            502,
            format!("Okta could not be reached ({e}). Check the org URL."),
            json!(null),
        ),
        Failure::BadAnswer(status) => (
            502,
            format!(
                "The org URL answered {status} with something that is not Okta's API. Check the org URL (https://<org>.okta.com)."
            ),
            json!(null),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_errors_become_clear_answers_and_keep_the_error_id() {
        // Okta's 400 for a taken login (developer.okta.com, Error codes: E0000001).
        let taken = Failure::Okta {
            status: 400,
            body: json!({"errorCode": "E0000001", "errorSummary": "Api validation failed: login",
                "errorLink": "E0000001", "errorId": "oaeXYZ",
                "errorCauses": [{"errorSummary": "login: An object with this field already exists in the current organization"}]}),
        };
        let (status, detail, okta) = explain(&taken, "create the user");
        assert_eq!(status, 400);
        assert!(detail.contains("already exists"), "{detail}");
        assert_eq!(okta["errorId"], "oaeXYZ");
        let bad_token = Failure::Okta {
            status: 401,
            body: json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorId": "oae1"}),
        };
        let (status, detail, _) = explain(&bad_token, "read users");
        assert_eq!(status, 502);
        assert!(detail.contains("Security > API > Tokens"), "{detail}");
        let (status, detail, _) = explain(&Failure::Timeout(10_000), "read users");
        assert_eq!(status, 504);
        assert!(detail.contains("10 s"), "{detail}");
    }
}
