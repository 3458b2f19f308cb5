//! SCIM tokens of a tenant: list, issue (shown once, or as the
//! `{"baseUrl", "token"}` download), expire, revoke, rotate (with a grace
//! period during which both work); and its Basic credentials: issue (the
//! password shown once), list, revoke.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{missing, parse_body, parse_body_or_default, Admin};
use crate::proto::error::{ScimError, ScimResult};
use crate::server::error::Result;
use crate::server::http::Response;
use crate::server::tokens::{self, TokenInfo};
use crate::server::webhooks::Outbound;
use crate::store::tenants::AuthMode;
use crate::store::tokens::{CredentialKind, TokenRecord};
use crate::store::{timestamp, KeyValue, SqlExecutor};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    label: Option<String>,
    /// RFC 3339 expiry.
    #[serde(default)]
    expires: Option<String>,
    /// Or a lifetime in days.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rotation {
    /// How long the old token keeps working, 0 to [`MAX_GRACE_HOURS`];
    /// 0 (the default) revokes it at once.
    #[serde(default)]
    grace_hours: Option<u32>,
}

/// The longest a rotated token keeps working: a week.
const MAX_GRACE_HOURS: u32 = 168;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewBasic {
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenUpdate {
    /// RFC 3339 expiry; `null` clears it. `"now"` expires the token at once.
    expires: Option<String>,
}

fn check_expiry(expires: &str) -> ScimResult<String> {
    DateTime::parse_from_rfc3339(expires)
        .map(|t| timestamp(t.with_timezone(&Utc)))
        .map_err(|_| {
            ScimError::invalid_value(format!("expires must be RFC 3339, not '{expires}'."))
        })
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// The connection status of the tenant's IdP: for each credential
    /// (SCIM token, Basic credential, OAuth client) when it was last seen
    /// (its recorded use, or its newest request-log entry, whichever is
    /// later), the `User-Agent` of that use and the IdP it names; and the
    /// newest request of all.
    pub(super) async fn connection(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let mut records = tokens::list(self.kv, tenant, None).await?;
        records.extend(tokens::list(self.kv, tenant, Some(CredentialKind::Basic)).await?);
        let clients = crate::store::oauth::list(self.registry, tenant).await?;
        let logged = crate::store::requests::latest_per_credential(self.db, tenant).await?;
        let request_json = |e: &crate::store::requests::Entry| {
            json!({"at": e.at, "method": e.method, "path": e.path, "status": e.status,
                   "userAgent": e.user_agent})
        };
        let credential =
            |kind: &str, id: &str, label: &str, used: Option<&str>, agent: Option<&str>| {
                let last = logged.iter().find(|e| e.token_id.as_deref() == Some(id));
                // The later of the two; the log's agent when it is the later.
                let (seen, agent) = match (used, last) {
                    (Some(u), Some(e)) if u > e.at.as_str() => {
                        (Some(u.to_owned()), agent.map(str::to_owned))
                    }
                    (_, Some(e)) => (Some(e.at.clone()), e.user_agent.clone()),
                    (u, None) => (u.map(str::to_owned), agent.map(str::to_owned)),
                };
                let idp = agent.as_deref().and_then(tokens::idp_of);
                json!({"kind": kind, "id": id, "label": label, "lastSeen": seen, "userAgent": agent,
                   "idp": idp, "lastRequest": last.map(request_json)})
            };
        let mut items: Vec<Value> = records
            .iter()
            .map(|r| {
                let kind = if r.kind == Some(CredentialKind::Basic) {
                    "basic"
                } else {
                    "token"
                };
                credential(
                    kind,
                    &r.id,
                    &r.label,
                    r.last_used.as_deref(),
                    r.last_user_agent.as_deref(),
                )
            })
            .collect();
        items.extend(clients.iter().map(|c| {
            credential(
                "oauth-client",
                &c.client_id,
                &c.label,
                c.last_used.as_deref(),
                None,
            )
        }));
        // Most recently seen first; never seen last.
        items.sort_by(|a, b| b["lastSeen"].as_str().cmp(&a["lastSeen"].as_str()));
        let newest = logged.first().map(|e| {
            let mut v = request_json(e);
            v["credential"] = e.token_id.clone().into();
            v["idp"] = e.user_agent.as_deref().and_then(tokens::idp_of).into();
            v
        });
        Ok(Response::json(
            200,
            &json!({"baseUrl": self.base_url(tenant), "credentials": items, "lastRequest": newest}),
        ))
    }

    pub(super) async fn list_tokens(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let list = tokens::list(self.kv, tenant, None).await?;
        let items: Vec<TokenInfo> = list.iter().map(TokenInfo::from).collect();
        Ok(Response::json(200, &json!({"tokens": items})))
    }

    /// Issues a token. The answer shows the token once; with
    /// `?download=true` it is the `{"baseUrl", "token"}` document to paste
    /// into an identity provider, as an attachment.
    pub(super) async fn issue_token(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let body: NewToken = parse_body_or_default(self.req)?;
        let expires = match (body.expires, body.expires_in_days) {
            (Some(_), Some(_)) => {
                return Err(
                    ScimError::invalid_value("Give expires or expiresInDays, not both.").into(),
                )
            }
            (Some(e), None) => Some(check_expiry(&e)?),
            (None, Some(days)) => Some(timestamp(
                self.now + chrono::Duration::days(i64::from(days)),
            )),
            (None, None) => None,
        };
        let label = body.label.unwrap_or_default();
        let (token, record) = tokens::issue(self.kv, tenant, &label, expires, &self.stamp).await?;
        Ok(self.token_created(tenant, &token, &record, None))
    }

    /// The answer to a new token; after a rotation with a grace period,
    /// `previous` is the old token, still working until its `expires`.
    fn token_created(
        &self,
        tenant: &str,
        token: &str,
        record: &TokenRecord,
        previous: Option<&TokenRecord>,
    ) -> Response {
        let base_url = self.base_url(tenant);
        let download = self
            .req
            .query_param("download")
            .is_some_and(|v| v.is_empty() || v == "true" || v == "1");
        if download {
            let doc = json!({"baseUrl": base_url, "token": token});
            return Response::json(201, &doc).with_header(
                "content-disposition",
                format!("attachment; filename=\"scim-{tenant}.json\""),
            );
        }
        let mut v = serde_json::to_value(TokenInfo::from(record)).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("token".into(), Value::String(token.to_owned()));
            o.insert("baseUrl".into(), Value::String(base_url));
            if let Some(p) = previous {
                o.insert("previous".into(), json!({"id": p.id, "expires": p.expires}));
            }
        }
        Response::json(201, &v)
    }

    pub(super) async fn expire_token(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let body: TokenUpdate = parse_body(self.req)?;
        let expires = match body.expires.as_deref() {
            None => None,
            Some("now") => Some(self.stamp.clone()),
            Some(e) => Some(check_expiry(e)?),
        };
        let r = tokens::set_expiry(self.kv, tenant, id, expires)
            .await?
            .ok_or_else(|| missing(&format!("Token {id}")))?;
        Ok(Response::json(200, &json!(TokenInfo::from(&r))))
    }

    pub(super) async fn revoke_token(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if tokens::revoke(self.kv, tenant, id, None).await? {
            Ok(Response::empty(204))
        } else {
            Err(missing(&format!("Token {id}")))
        }
    }

    pub(super) async fn rotate_token(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let body: Rotation = parse_body_or_default(self.req)?;
        let grace = body.grace_hours.unwrap_or(0);
        if grace > MAX_GRACE_HOURS {
            return Err(ScimError::invalid_value(format!(
                "graceHours is 0 to {MAX_GRACE_HOURS} (a week), not {grace}."
            ))
            .into());
        }
        let until =
            (grace > 0).then(|| timestamp(self.now + chrono::Duration::hours(i64::from(grace))));
        let (token, record, old) = tokens::rotate(self.kv, tenant, id, &self.stamp, until)
            .await?
            .ok_or_else(|| missing(&format!("Token {id}")))?;
        Ok(self.token_created(tenant, &token, &record, old.as_ref()))
    }

    /// Issues a Basic credential (the tenant must allow `basic`): its
    /// generated username and password, the password shown once.
    pub(super) async fn issue_basic(&self, tenant: &str) -> Result<Response> {
        let t = self.tenant(tenant).await?;
        if !t.settings.authentication.allows(AuthMode::Basic) {
            return Err(ScimError::new(
                409,
                None,
                "Basic authentication is off for this tenant: add \"basic\" to settings.authentication first.",
            )
            .into());
        }
        let body: NewBasic = parse_body_or_default(self.req)?;
        let label = body.label.unwrap_or_default();
        let (password, record) = tokens::issue_basic(self.kv, tenant, &label, &self.stamp).await?;
        let mut v = basic_json(&record);
        if let Some(o) = v.as_object_mut() {
            o.insert("password".into(), Value::String(password));
            o.insert("baseUrl".into(), Value::String(self.base_url(tenant)));
        }
        Ok(Response::json(201, &v))
    }

    pub(super) async fn list_basic(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let list = tokens::list(self.kv, tenant, Some(CredentialKind::Basic)).await?;
        let items: Vec<Value> = list.iter().map(basic_json).collect();
        Ok(Response::json(200, &json!({"basicCredentials": items})))
    }

    pub(super) async fn revoke_basic(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if tokens::revoke(self.kv, tenant, id, Some(CredentialKind::Basic)).await? {
            Ok(Response::empty(204))
        } else {
            Err(missing(&format!("Basic credential {id}")))
        }
    }
}

/// What the admin API shows of a Basic credential: never its password.
fn basic_json(r: &TokenRecord) -> Value {
    json!({
        "id": r.id,
        "label": r.label,
        "username": r.username,
        "created": r.created,
        "lastUsed": r.last_used,
        "fingerprint": r.hash.chars().take(8).collect::<String>(),
    })
}
