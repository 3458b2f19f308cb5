//! Webhook endpoints of a tenant, under `/admin/v1/tenants/{t}/webhooks`:
//! create (the signing secret is shown once), list, read, change, delete,
//! rotate the secret (the previous one keeps signing for 24 hours), send a
//! `webhook.test` event now, list an endpoint's deliveries and retry one.

use chrono::Duration;
use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{known_params, limit_param, missing, parse_body, Admin};
use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::events::EVENT_TYPES;
use crate::server::http::Response;
use crate::server::webhooks::{self, sign, url, Outbound};
use crate::store::webhooks::{self as store, Delivery, Webhook};
use crate::store::{events, timestamp, KeyValue, SqlExecutor};

/// How long a rotated-out secret keeps signing.
const ROTATION_OVERLAP_HOURS: i64 = 24;
/// The most endpoints a tenant may have.
const MAX_WEBHOOKS: usize = 20;

fn bad(detail: impl Into<String>) -> crate::server::error::Error {
    ScimError::new(400, None, detail).into()
}

/// Checks a list of types: known types, `user.*`, `group.*` or `*`.
fn checked_types(types: Option<Vec<String>>) -> Result<Vec<String>> {
    let types = types.unwrap_or_else(|| vec!["*".into()]);
    if types.is_empty() {
        return Err(bad(
            "`types` may not be empty: leave it out for every type.",
        ));
    }
    for t in &types {
        let ok = t == "*" || t == "user.*" || t == "group.*" || EVENT_TYPES.contains(&t.as_str());
        if !ok {
            return Err(bad(format!(
                "Unknown event type {t:?}: use {}, user.*, group.* or *.",
                EVENT_TYPES.join(", ")
            )));
        }
    }
    Ok(types)
}

fn webhook_json(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "url": w.url,
        "types": w.types,
        "description": w.description,
        "enabled": w.enabled,
        "disabledReason": w.disabled_reason,
        "previousSecretExpires": w.previous_until,
        "created": w.created,
        "updated": w.updated,
    })
}

fn delivery_json(d: &Delivery, event: Option<&Value>) -> Value {
    json!({
        "id": d.id,
        "event": event.map(|e| json!({"id": e["id"], "type": e["type"], "sequence": e["sequence"]}))
            .unwrap_or_else(|| json!({"sequence": d.event_sequence})),
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "lastStatus": d.last_status,
        "lastError": d.last_error,
        "nextAttempt": d.next_attempt,
        "created": d.created,
        "updated": d.updated,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    types: Option<Vec<String>>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookChange {
    url: Option<String>,
    types: Option<Vec<String>>,
    description: Option<String>,
    enabled: Option<bool>,
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// The key secrets derive from; 503 when the deployment has none.
    fn secrets_key(&self) -> Result<&str> {
        Ok(self.config.require_secrets("Webhooks are")?)
    }

    fn checked_url(&self, u: &str) -> Result<String> {
        url::check(u, self.config.webhooks.allow_local).map_err(bad)?;
        Ok(u.to_owned())
    }

    async fn webhook(&self, tenant: &str, id: &str) -> Result<Webhook> {
        self.tenant(tenant).await?;
        store::get(self.db, tenant, id)
            .await?
            .ok_or_else(|| missing(&format!("Webhook {id}")))
    }

    pub(super) async fn create_webhook(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let key = self.secrets_key()?;
        let body: NewWebhook = parse_body(self.req)?;
        let url = self.checked_url(&body.url)?;
        let types = checked_types(body.types)?;
        if store::list(self.db, tenant, false).await?.len() >= MAX_WEBHOOKS {
            return Err(ScimError::new(
                409,
                None,
                format!("A tenant has at most {MAX_WEBHOOKS} webhooks."),
            )
            .into());
        }
        let w = Webhook {
            id: format!("wh_{}", uuid::Uuid::new_v4().simple()),
            url,
            types,
            description: body.description.filter(|d| !d.is_empty()),
            enabled: true,
            disabled_reason: None,
            salt: sign::salt(),
            previous_salt: None,
            previous_until: None,
            created: self.stamp.clone(),
            updated: self.stamp.clone(),
        };
        store::insert(self.db, tenant, &w).await?;
        let mut v = webhook_json(&w);
        v["secret"] = sign::shown(&sign::secret_bytes(key, tenant, &w.id, &w.salt)).into();
        Ok(Response::json(201, &v))
    }

    pub(super) async fn list_webhooks(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let list: Vec<Value> = store::list(self.db, tenant, false)
            .await?
            .iter()
            .map(webhook_json)
            .collect();
        Ok(Response::json(200, &json!({"webhooks": list})))
    }

    pub(super) async fn get_webhook(&self, tenant: &str, id: &str) -> Result<Response> {
        Ok(Response::json(
            200,
            &webhook_json(&self.webhook(tenant, id).await?),
        ))
    }

    pub(super) async fn update_webhook(&self, tenant: &str, id: &str) -> Result<Response> {
        let mut w = self.webhook(tenant, id).await?;
        let change: WebhookChange = parse_body(self.req)?;
        if let Some(u) = change.url {
            w.url = self.checked_url(&u)?;
        }
        if let Some(t) = change.types {
            w.types = checked_types(Some(t))?;
        }
        if let Some(d) = change.description {
            w.description = Some(d).filter(|d| !d.is_empty());
        }
        if let Some(e) = change.enabled {
            w.enabled = e;
            if e {
                w.disabled_reason = None;
            }
        }
        w.updated = self.stamp.clone();
        if !store::update(self.db, tenant, &w).await? {
            return Err(missing(&format!("Webhook {id}")));
        }
        Ok(Response::json(200, &webhook_json(&w)))
    }

    pub(super) async fn delete_webhook(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if !store::delete(self.db, tenant, id).await? {
            return Err(missing(&format!("Webhook {id}")));
        }
        Ok(Response::empty(204))
    }

    /// A new secret, shown once; the old one signs too for 24 hours.
    pub(super) async fn rotate_webhook_secret(&self, tenant: &str, id: &str) -> Result<Response> {
        let key = self.secrets_key()?;
        let mut w = self.webhook(tenant, id).await?;
        w.previous_salt = Some(std::mem::replace(&mut w.salt, sign::salt()));
        w.previous_until = Some(timestamp(
            self.now + Duration::hours(ROTATION_OVERLAP_HOURS),
        ));
        w.updated = self.stamp.clone();
        if !store::update(self.db, tenant, &w).await? {
            return Err(missing(&format!("Webhook {id}")));
        }
        let mut v = webhook_json(&w);
        v["secret"] = sign::shown(&sign::secret_bytes(key, tenant, &w.id, &w.salt)).into();
        Ok(Response::json(200, &v))
    }

    /// Sends `webhook.test` now (not recorded in the event log) and answers
    /// how the receiver took it.
    pub(super) async fn test_webhook(&self, tenant: &str, id: &str) -> Result<Response> {
        let key = self.secrets_key()?;
        let w = self.webhook(tenant, id).await?;
        let outcome = webhooks::test(
            self.config,
            key,
            self.out,
            tenant,
            &w,
            self.request_id,
            self.now,
        )
        .await;
        Ok(Response::json(200, &outcome))
    }

    pub(super) async fn list_deliveries(&self, tenant: &str, id: &str) -> Result<Response> {
        self.webhook(tenant, id).await?;
        let params = self.req.params();
        let before = match params.get("after").filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => Some(
                a.parse::<i64>()
                    .map_err(|_| bad("`after` must be a cursor from `next`."))?,
            ),
        };
        known_params(&params, &["after", "limit"])?;
        let limit = limit_param(&params)?;
        let (list, more) = store::deliveries(self.db, tenant, id, before, limit).await?;
        let mut out = Vec::with_capacity(list.len());
        for d in &list {
            let event = events::get(self.db, tenant, d.event_sequence).await?;
            out.push(delivery_json(d, event.as_ref().map(|e| &e.json)));
        }
        let next = match list.last() {
            Some(last) if more => Value::String(last.event_sequence.to_string()),
            _ => Value::Null,
        };
        Ok(Response::json(
            200,
            &json!({"deliveries": out, "next": next}),
        ))
    }

    /// Makes a delivery pending again with a fresh set of attempts, now.
    pub(super) async fn retry_delivery(
        &self,
        tenant: &str,
        id: &str,
        delivery: &str,
    ) -> Result<Response> {
        self.webhook(tenant, id).await?;
        if !store::requeue(self.db, tenant, id, delivery, &self.stamp).await? {
            return Err(missing(&format!("Delivery {delivery}")));
        }
        let message = webhooks::deliver_message(tenant, delivery);
        // A lost send is picked up by the cron (the delivery is due now).
        let _ = self.out.enqueue(vec![message], 0).await;
        let d = store::get_delivery(self.db, tenant, delivery)
            .await?
            .ok_or_else(|| missing(&format!("Delivery {delivery}")))?;
        Ok(Response::json(202, &delivery_json(&d, None)))
    }
}
