//! Deployment configuration: secrets and variables the worker reads from its
//! environment (`wrangler.toml` vars, `wrangler secret put`).

/// The vendor part of custom extension URNs when `SCIM_VENDOR` is unset.
pub const DEFAULT_VENDOR: &str = "scimworker";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `ADMIN_JWT_SECRET`: the HS256 key of admin API tokens. Without it the
    /// admin API refuses every request.
    pub admin_jwt_secret: Option<String>,
    /// `SCIM_VENDOR`: tenants' extensions are
    /// `urn:<vendor>:scim:schemas:extension:<tenant>:2:User`.
    pub vendor: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin_jwt_secret: None,
            vendor: DEFAULT_VENDOR.to_owned(),
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
