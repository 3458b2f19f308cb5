//! What the resource pipeline knows of the request it serves: its storage,
//! its tenant and base URL, its time and the deployment's settings.

use chrono::{DateTime, Utc};

use crate::server::config::{Config, Limits};
use crate::server::router::SCIM_PREFIX;
use crate::store::timestamp;

pub(crate) struct Ctx<'a, D> {
    pub db: &'a D,
    pub tenant: String,
    /// The tenant's SCIM base URL, e.g. `https://host/scim/v2/acme`.
    pub base_url: String,
    /// The request time in the stored timestamp form.
    pub now: String,
    /// The vendor part of custom extension URNs.
    pub vendor: &'a str,
    /// The request limits of this deployment.
    pub limits: Limits,
}

impl<'a, D> Ctx<'a, D> {
    /// The one way to make a `Ctx`: for `tenant`, served at `origin`.
    pub(crate) fn new(
        config: &'a Config,
        db: &'a D,
        origin: &str,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Ctx {
            db,
            tenant: tenant.to_owned(),
            base_url: format!("{origin}{SCIM_PREFIX}{tenant}"),
            now: timestamp(now),
            vendor: &config.vendor,
            limits: config.limits,
        }
    }

    /// The URI of a resource: `<base>/<endpoint>/<id>`.
    pub(crate) fn location(&self, endpoint: &str, id: &str) -> String {
        format!("{}/{endpoint}/{id}", self.base_url)
    }
}
