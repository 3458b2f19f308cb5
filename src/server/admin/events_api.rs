//! The change feed: `GET /admin/v1/tenants/{t}/events`, the tenant's
//! provisioning events in sequence order, the pull side of the same log
//! its webhooks are delivered from.
//!
//! `after` is a cursor: the `sequence` of the last event the reader has
//! (the `next` of the previous page), `0` or absent for the oldest event
//! still retained. A cursor stays valid while its events are retained, and
//! an older one continues at the oldest event left. `types` is a comma list
//! of types or prefix patterns (`user.*`), `resource` an id (events about
//! that user or group, or with it as the member), `limit` 1 to 1000 (100).
//! `next` is the cursor of the page's last event when more events follow
//! now, else `null`: a follower then polls again with the last event's
//! `sequence`.

use serde_json::{json, Value};

use super::request::{known_params, limit_param, Admin};
use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::http::Response;
use crate::server::webhooks::Outbound;
use crate::store::events::{self, FeedQuery};
use crate::store::{KeyValue, SqlExecutor};

/// Reads the feed's query parameters; a malformed one is 400.
pub(crate) fn feed_query(params: &crate::server::http::Query) -> Result<FeedQuery> {
    let bad =
        |what: &str| -> crate::server::error::Error { ScimError::new(400, None, what).into() };
    known_params(params, &["after", "types", "resource", "limit"])?;
    let after = match params.get("after").filter(|a| !a.is_empty()) {
        None => 0,
        Some(a) => a
            .parse::<i64>()
            .ok()
            .filter(|a| *a >= 0)
            .ok_or_else(|| bad("`after` must be a cursor: the sequence of an event."))?,
    };
    let limit = limit_param(params)?;
    let mut types = Vec::new();
    if let Some(t) = params.get("types") {
        for ty in t.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let ok = ty == "*"
                || ty
                    .trim_end_matches('*')
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
            if !ok {
                return Err(bad(&format!(
                    "`types` holds {ty:?}: give event types like user.created, or prefixes like user.*."
                )));
            }
            types.push(ty.to_owned());
        }
    }
    if types.iter().any(|t| t == "*") {
        types.clear();
    }
    let resource = params.get("resource").filter(|r| !r.is_empty());
    Ok(FeedQuery {
        after,
        types,
        resource,
        limit,
    })
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    pub(super) async fn list_events(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let q = feed_query(&self.req.params())?;
        let (page, more) = events::feed(self.db, tenant, &q).await?;
        let next = match page.last() {
            Some(last) if more => Value::String(last.sequence.to_string()),
            _ => Value::Null,
        };
        let list: Vec<Value> = page.into_iter().map(|e| e.json).collect();
        Ok(Response::json(200, &json!({"events": list, "next": next})))
    }
}
