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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin_jwt_secret: None,
            vendor: DEFAULT_VENDOR.to_owned(),
            limits: Limits::default(),
        }
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
