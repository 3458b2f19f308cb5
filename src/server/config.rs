//! Deployment configuration: secrets and variables the worker reads from its
//! environment (`wrangler.toml` vars, `wrangler secret put`).

/// The vendor part of custom extension URNs when `SCIM_VENDOR` is unset.
pub(crate) const DEFAULT_VENDOR: &str = "scimworker";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `ADMIN_JWT_SECRET`: the HS256 key of admin API tokens. Without it the
    /// admin API refuses every request.
    pub admin_jwt_secret: Option<String>,
    /// `SCIM_VENDOR`: tenants' extensions are
    /// `urn:<vendor>:scim:schemas:extension:<tenant>:2:User`.
    pub vendor: String,
    /// The request limits (`SCIM_MAX_*` variables).
    pub limits: Limits,
    /// `SECRETS_KEY`: the key webhook signing secrets are derived from.
    /// Without it webhooks cannot be created or delivered (503).
    pub secrets_key: Option<String>,
    /// How webhooks are delivered.
    pub webhooks: WebhookConfig,
    /// `OAUTH_ACCESS_TOKEN_SECONDS`: how long an OAuth access token lives,
    /// 3600 to 21600 (1 to 6 hours, the range Microsoft Entra requires).
    pub oauth_token_seconds: u32,
    /// The deployment's Okta OAuth client (the authorization code grant),
    /// when `OKTA_OAUTH_CLIENT_ID`, `OKTA_OAUTH_CLIENT_SECRET` and
    /// `OKTA_APP_NAME` are all set.
    pub okta: Option<OktaClient>,
    /// `OAUTH_LOGIN_URL`: the host product's sign-in page, which the consent
    /// page offers; it comes back with a tenant-scoped admin JWT.
    pub login_url: Option<String>,
}

/// The one OAuth client of the deployment's Okta integration (OIN: the same
/// id and secret for every customer tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaClient {
    pub client_id: String,
    pub client_secret: String,
    /// The `<app>` of Okta's redirect URIs (`/admin/app/cpc/<app>/oauth/callback`).
    pub app_name: String,
}

impl OktaClient {
    /// From the three settings; `None` unless each is given and non-empty.
    pub fn from(
        client_id: Option<String>,
        client_secret: Option<String>,
        app_name: Option<String>,
    ) -> Option<OktaClient> {
        let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Some(OktaClient {
            client_id: given(client_id)?,
            client_secret: given(client_secret)?,
            app_name: given(app_name)?,
        })
    }
}

/// The default and the bounds of [`Config::oauth_token_seconds`].
pub const OAUTH_TOKEN_SECONDS: (u32, u32, u32) = (3600, 3600, 21_600);

impl Config {
    /// `SECRETS_KEY`, when it is set and not empty: an empty key would
    /// sign and encrypt with nothing secret.
    pub(crate) fn secrets(&self) -> Option<&str> {
        self.secrets_key.as_deref().filter(|k| !k.is_empty())
    }

    /// [`Config::secrets`], or 503 saying that `what` is disabled without it.
    pub(crate) fn require_secrets(
        &self,
        what: &str,
    ) -> Result<&str, crate::proto::error::ScimError> {
        self.secrets().ok_or_else(|| {
            crate::proto::error::ScimError::new(
                503,
                None,
                format!("{what} disabled: the SECRETS_KEY secret is not set."),
            )
        })
    }

    /// `OAUTH_ACCESS_TOKEN_SECONDS` as given, if within its bounds; else the
    /// default.
    pub fn oauth_token_seconds_from(value: Option<String>) -> u32 {
        let (default, min, max) = OAUTH_TOKEN_SECONDS;
        value
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|s| (min..=max).contains(s))
            .unwrap_or(default)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin_jwt_secret: None,
            vendor: DEFAULT_VENDOR.to_owned(),
            limits: Limits::default(),
            secrets_key: None,
            webhooks: WebhookConfig::default(),
            oauth_token_seconds: OAUTH_TOKEN_SECONDS.0,
            okta: None,
            login_url: None,
        }
    }
}

/// Webhook delivery settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `WEBHOOK_ALLOW_LOCAL` = `true`: endpoints may be
    /// `http://127.0.0.1` or `http://localhost` (`scripts/dev`, tests).
    pub allow_local: bool,
    /// `WEBHOOK_RETRY_DELAYS`: seconds before each retry, comma-separated;
    /// a delivery is attempted once more than there are delays.
    pub retry_delays: Vec<u32>,
    /// `WEBHOOK_TIMEOUT_MS`: how long a receiver may take to answer.
    pub timeout_ms: u32,
}

/// The retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about a
/// day and a half; Standard Webhooks suggests one like it).
pub const DEFAULT_RETRY_DELAYS: [u32; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_local: false,
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
            timeout_ms: 10_000,
        }
    }
}

impl WebhookConfig {
    /// From the worker's variables; a malformed one keeps its default.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> WebhookConfig {
        let mut c = WebhookConfig {
            allow_local: var("WEBHOOK_ALLOW_LOCAL").is_some_and(|v| v.trim() == "true"),
            ..WebhookConfig::default()
        };
        if let Some(delays) = var("WEBHOOK_RETRY_DELAYS") {
            let parsed: Option<Vec<u32>> = delays
                .split(',')
                .map(|d| d.trim().parse::<u32>().ok().filter(|d| *d <= 86_400))
                .collect();
            if let Some(d) = parsed.filter(|d| !d.is_empty() && d.len() <= 20) {
                c.retry_delays = d;
            }
        }
        if let Some(t) = var("WEBHOOK_TIMEOUT_MS").and_then(|t| t.trim().parse::<u32>().ok()) {
            if (100..=30_000).contains(&t) {
                c.timeout_ms = t;
            }
        }
        c
    }

    /// How many times a delivery is attempted.
    pub fn max_attempts(&self) -> i64 {
        i64::try_from(self.retry_delays.len()).unwrap_or(0) + 1
    }
}

/// What one request may ask of the server. Each is a worker variable; the
/// ones SCIM has a place for are advertised in /ServiceProviderConfig, and
/// going over one is a SCIM error that changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `SCIM_MAX_REQUEST_BYTES`: the largest request body (413), also Bulk's
    /// `maxPayloadSize`.
    pub max_request_bytes: usize,
    /// `SCIM_MAX_RESULTS`: the largest page (`filter.maxResults`,
    /// `pagination.maxPageSize`); a larger `count` is read as this.
    pub max_results: u64,
    /// `SCIM_MAX_PATCH_OPERATIONS`: operations in one PATCH (413 tooMany).
    pub max_patch_operations: usize,
    /// `SCIM_MAX_BULK_OPERATIONS`: Bulk's `maxOperations` (413).
    pub max_bulk_operations: usize,
    /// `SCIM_MAX_VALUE_BYTES`: the largest string value of any attribute
    /// (400 invalidValue).
    pub max_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 1_048_576,
            max_results: 1000,
            max_patch_operations: 1000,
            max_bulk_operations: 1000,
            max_value_bytes: 16_384,
        }
    }
}

/// Each limit's variable, default and the largest value accepted for it.
/// Values that are not integers in 1..=max are ignored (the default holds).
pub(crate) const LIMIT_VARIABLES: [(&str, u64); 5] = [
    // A stored document may be as large as a request: D1 rows hold 2 MB.
    ("SCIM_MAX_REQUEST_BYTES", 1_900_000),
    ("SCIM_MAX_RESULTS", 10_000),
    ("SCIM_MAX_PATCH_OPERATIONS", 10_000),
    ("SCIM_MAX_BULK_OPERATIONS", 10_000),
    ("SCIM_MAX_VALUE_BYTES", 1_048_576),
];

impl Limits {
    /// The limits from variables: `var(name)` gives a variable's text.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Limits {
        let d = Limits::default();
        let read = |i: usize, default: u64| -> u64 {
            let (name, max) = LIMIT_VARIABLES[i];
            var(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| (1..=max).contains(n))
                .unwrap_or(default)
        };
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Limits {
            max_request_bytes: size(read(0, d.max_request_bytes as u64)),
            max_results: read(1, d.max_results),
            max_patch_operations: size(read(2, d.max_patch_operations as u64)),
            max_bulk_operations: size(read(3, d.max_bulk_operations as u64)),
            max_value_bytes: size(read(4, d.max_value_bytes as u64)),
        }
    }
}

impl Config {
    /// A vendor name usable inside a URN: lowercase letters, digits and `-`.
    pub fn valid_vendor(v: &str) -> bool {
        !v.is_empty()
            && v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_variables_within_bounds_or_stay_default() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(Limits::from_vars(|_| None), Limits::default());
        let l = Limits::from_vars(vars(&[
            ("SCIM_MAX_RESULTS", "200"),
            ("SCIM_MAX_VALUE_BYTES", " 4096 "),
            ("SCIM_MAX_PATCH_OPERATIONS", "0"),
            ("SCIM_MAX_BULK_OPERATIONS", "many"),
            ("SCIM_MAX_REQUEST_BYTES", "999999999999"),
        ]));
        assert_eq!(l.max_results, 200);
        assert_eq!(l.max_value_bytes, 4096);
        assert_eq!(l.max_patch_operations, 1000, "0 is ignored");
        assert_eq!(l.max_bulk_operations, 1000, "not a number");
        assert_eq!(l.max_request_bytes, 1_048_576, "above the ceiling");
    }
}
