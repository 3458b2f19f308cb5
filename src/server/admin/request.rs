//! One admin request: who asks (its token's scope), at what time, with
//! what body; and the answers the admin API's areas share.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::jwt::Scope;
use crate::proto::error::{ScimError, ScimResult};
use crate::server::config::Config;
use crate::server::ctx::{Ctx, SCIM_PREFIX};
use crate::server::error::{Error, Result};
use crate::server::events::Actor;
use crate::server::http::Request;
use crate::server::list::Paging;
use crate::server::log::Notes;
use crate::server::webhooks::Outbound;
use crate::store::page::{Listed, PageSpec};
use crate::store::shards::Shards;
use crate::store::{tenants, KeyValue, SqlExecutor};

pub(crate) const ADMIN_PREFIX: &str = "/admin/v1";
/// Paths about one tenant start with this.
pub(crate) const TENANTS_PREFIX: &str = "/admin/v1/tenants/";

/// One admin request: who asks (its scope), at what time, with what.
pub(super) struct Admin<'a, D, K, O> {
    /// The shard of the tenant the path names (`DB` when it names none).
    pub db: &'a D,
    /// `DB`: the registry, OAuth clients and grants, setup links.
    pub registry: &'a D,
    pub shards: &'a Shards<'a, D>,
    pub kv: &'a K,
    /// The events queue and outbound HTTP (webhook tests, retries).
    pub out: &'a O,
    pub config: &'a Config,
    pub req: &'a Request,
    pub now: DateTime<Utc>,
    /// `now` in the stored timestamp form.
    pub stamp: String,
    pub scope: Scope,
    /// The token's `sub` claim, when it has one.
    pub subject: Option<String>,
    pub notes: &'a Notes,
    pub request_id: &'a str,
    /// Whether a setup link's credential authenticated the request.
    pub via_link: bool,
}

pub(super) fn parse_body<T: for<'de> Deserialize<'de>>(req: &Request) -> ScimResult<T> {
    serde_json::from_slice(&req.body)
        .map_err(|e| ScimError::invalid_syntax(format!("Invalid request body: {e}")))
}

pub(super) fn parse_body_or_default<T: for<'de> Deserialize<'de> + Default>(
    req: &Request,
) -> ScimResult<T> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_body(req)
    }
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    pub(super) fn base_url(&self, tenant: &str) -> String {
        format!("{}{SCIM_PREFIX}{tenant}", self.req.origin)
    }

    /// The tenant, after checking the token may act on it.
    pub(super) async fn tenant(&self, id: &str) -> Result<tenants::Tenant> {
        self.scope.require_tenant(id)?;
        tenants::get(self.db, id)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("Tenant {id} not found.")).into())
    }

    /// The resource pipeline's view of `tenant`, with this token as the
    /// actor of the events its changes record.
    pub(super) fn ctx(&self, tenant: &str) -> Ctx<'_, D> {
        let ctx = Ctx::new(
            self.config,
            self.db,
            self.notes,
            &self.req.origin,
            tenant,
            self.now,
            self.request_id,
        );
        let label = match &self.scope {
            Scope::Platform => "platform".to_owned(),
            Scope::Tenant(t) => format!("tenant:{t}"),
        };
        let id = self.subject.clone().unwrap_or_else(|| label.clone());
        ctx.events.set_actor(Actor::admin(&id, &label));
        ctx
    }

    /// The page a list request asks for (`startIndex`, `count`), and its
    /// window for the store.
    pub(super) fn page(&self) -> ScimResult<(Paging, PageSpec<'static>)> {
        let paging = Paging::of(&self.req.params(), self.config.limits.max_results)?;
        let spec = PageSpec {
            offset: paging.offset(),
            limit: paging.count,
            ..PageSpec::default()
        };
        Ok((paging, spec))
    }
}

/// A list answer of the admin API: `{totalResults, startIndex, <key>: [...]}`
/// with each listed resource as `item` gives it.
pub(super) fn page_body<T>(
    paging: &Paging,
    key: &str,
    listed: Listed<T>,
    item: impl FnMut(T) -> Value,
) -> Map<String, Value> {
    let items: Vec<Value> = listed.items.into_iter().map(item).collect();
    let mut body = Map::new();
    body.insert("totalResults".into(), json!(listed.total));
    body.insert("startIndex".into(), json!(paging.start_index));
    body.insert(key.into(), Value::Array(items));
    body
}

/// 404 for a tenant's `what` (a token, an attribute...).
pub(super) fn missing(what: &str) -> Error {
    ScimError::not_found(format!("{what} not found.")).into()
}

/// The entries one page of an admin log (events, deliveries, requests)
/// holds when `limit` is not given, and the most it may ask.
pub(super) const DEFAULT_PAGE: u32 = 100;
pub(super) const MAX_PAGE: u32 = 1000;

/// Refuses a log page's query parameter that is none of `known` (a typo
/// like `stauts=4xx` would otherwise answer every entry).
pub(super) fn known_params(params: &crate::server::http::Query, known: &[&str]) -> ScimResult<()> {
    match params.unknown(known) {
        None => Ok(()),
        Some(k) => Err(ScimError::invalid_value(format!(
            "Unknown query parameter '{k}'; this endpoint takes {}.",
            known.join(", ")
        ))),
    }
}

/// A log page's `limit` query parameter: 1 to [`MAX_PAGE`],
/// [`DEFAULT_PAGE`] when absent or empty.
pub(super) fn limit_param(params: &crate::server::http::Query) -> ScimResult<u32> {
    match params.get("limit").filter(|l| !l.is_empty()) {
        None => Ok(DEFAULT_PAGE),
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| ScimError::new(400, None, "`limit` must be an integer from 1 to 1000.")),
    }
}
