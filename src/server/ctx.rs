//! What a request is served with: the platform's parts ([`Platform`]), and
//! what the resource pipeline knows of the request ([`Ctx`]): its storage,
//! its tenant and base URL, its time and the deployment's settings.

use std::cell::OnceCell;
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::server::config::{Config, Limits};
use crate::server::error::Result;
use crate::server::events::Recorder;
use crate::server::log::Notes;
use crate::store::shards::Shards;
use crate::store::tenants::Settings;
use crate::store::{timestamp, SqlExecutor};

/// Where SCIM lives: `/scim/v2/<tenant>/...`.
pub(crate) const SCIM_PREFIX: &str = "/scim/v2/";

/// A tenant id: lowercase letters, digits and `-` (never `_`, which Okta
/// rejects in base URLs), 1 to 63 characters, not starting or ending with `-`.
pub(crate) fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// The deployment's configuration and what the platform gives a request:
/// storage and the rate limiter.
pub(crate) struct Platform<'a, D, K, L, O> {
    pub config: &'a Config,
    /// Every shard of the deployment (see [`Shards`]).
    pub shards: &'a Shards<'a, D>,
    /// `DB`, which holds the registry and what is found by a credential
    /// that names no tenant (OAuth clients and grants, setup links).
    pub db: &'a D,
    pub kv: &'a K,
    pub limiter: &'a L,
    /// The events queue and outbound HTTP.
    pub out: &'a O,
    /// What the request is let through, for its log line.
    pub notes: &'a Notes,
    /// The request's id, in its log lines and events.
    pub request_id: &'a str,
}

/// Member ids asked about, and the (id, kind) pairs found of them.
pub(crate) type Probed = (Vec<String>, HashSet<(String, String)>);

pub(crate) struct Ctx<'a, D> {
    pub db: &'a D,
    pub tenant: String,
    /// The tenant's SCIM base URL, e.g. `https://host/scim/v2/acme`.
    pub base_url: String,
    /// The request time in the stored timestamp form.
    pub now: String,
    /// The request time in ms since the epoch (for what the isolate caches).
    pub now_ms: i64,
    /// The vendor part of custom extension URNs.
    pub vendor: &'a str,
    /// The request limits of this deployment.
    pub limits: Limits,
    /// What the request is let through, for its log line.
    pub notes: &'a Notes,
    /// The events the request's writes record: who and which request.
    pub events: Recorder<'a>,
    /// The tenant's settings, once read (see [`Ctx::settings`]).
    settings: OnceCell<Settings>,
    /// Which members a group write may add exist, read with the group
    /// before the write (see `resources::groups`): the ids asked about and
    /// the (id, kind) pairs found.
    pub members_probed: OnceCell<Probed>,
}

impl<'a, D> Ctx<'a, D> {
    /// The one way to make a `Ctx`: for `tenant`, served at `origin`.
    pub(crate) fn new(
        config: &'a Config,
        db: &'a D,
        notes: &'a Notes,
        origin: &str,
        tenant: &str,
        now: DateTime<Utc>,
        request_id: &str,
    ) -> Self {
        let stamp = timestamp(now);
        Ctx {
            db,
            notes,
            events: Recorder::new(notes, tenant, &stamp, request_id, now.timestamp_millis()),
            tenant: tenant.to_owned(),
            base_url: format!("{origin}{SCIM_PREFIX}{tenant}"),
            now: stamp,
            now_ms: now.timestamp_millis(),
            vendor: &config.vendor,
            limits: config.limits,
            settings: OnceCell::new(),
            members_probed: OnceCell::new(),
        }
    }

    /// The tenant's settings. Most requests never need them (they decide
    /// only what is done with input the schema does not know, and how a
    /// user is deleted), so they are read on first use, once per request.
    pub(crate) async fn settings(&self) -> Result<&Settings>
    where
        D: SqlExecutor,
    {
        if let Some(s) = self.settings.get() {
            return Ok(s);
        }
        let read = crate::server::schema::TenantSchema::profile(self)
            .await?
            .settings;
        self.notes.saw_request_log(read.request_log);
        Ok(self.settings.get_or_init(|| read))
    }

    /// Keeps the tenant's settings read along with something else (its
    /// schema), for [`Ctx::settings`].
    pub(crate) fn read_settings(&self, settings: Settings) {
        self.notes.saw_request_log(settings.request_log);
        let _ = self.settings.set(settings);
    }

    /// The URI of a resource: `<base>/<endpoint>/<id>`.
    pub(crate) fn location(&self, endpoint: &str, id: &str) -> String {
        format!("{}/{endpoint}/{id}", self.base_url)
    }
}
