//! The Okta connector of a tenant (`/tenants/{t}/connectors/okta`): the
//! customer's Okta org and API token (sealed at rest, never shown again),
//! a test, and the actions on that org's users: add, read by id or login,
//! find by name or email, deactivate; and the rule that deactivates the
//! matching Okta user when the application deactivates one of ours.

use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{missing, parse_body, Admin};
use crate::proto::error::ScimError;
use crate::server::connectors::{self, okta, OKTA};
use crate::server::error::Result;
use crate::server::http::Response;
use crate::server::webhooks::Outbound;
use crate::store::connectors::{self as stored, Column, Connector};
use crate::store::resources::Stored;
use crate::store::users::GroupRef;
use crate::store::{KeyValue, SqlExecutor};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Connection {
    org_url: String,
    api_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rules {
    deactivate_users: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewUser {
    profile: serde_json::Map<String, Value>,
    #[serde(default)]
    activate: Option<bool>,
}

/// The most users a search answers.
const MAX_SEARCH: u32 = 200;

/// Percent-encodes a path segment (an id or a login like a@b.com).
fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Okta's `search` expression of a quoted string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    async fn connector(&self, tenant: &str) -> Result<Connector> {
        self.tenant(tenant).await?;
        stored::get(self.db, tenant, OKTA)
            .await?
            .ok_or_else(|| missing(&format!("The Okta connector of tenant {tenant}")))
    }

    pub(super) async fn put_okta(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let body: Connection = parse_body(self.req)?;
        let org = connectors::org_url(&body.org_url, self.config.webhooks.allow_local)?;
        let token = body.api_token.trim();
        if token.len() < 8 || token.len() > 200 || token.chars().any(char::is_whitespace) {
            return Err(ScimError::invalid_value(
                "apiToken is the Okta API token as Okta showed it (Security > API > Tokens).",
            )
            .into());
        }
        let sealed = connectors::seal_token(self.config, tenant, token)?;
        let last4: String = token.chars().skip(token.chars().count() - 4).collect();
        if !stored::put(self.db, tenant, OKTA, &org, &sealed, &last4, &self.stamp).await? {
            return Err(missing(&format!("Tenant {tenant}")));
        }
        okta::forget_limits(&org);
        let c = self.connector(tenant).await?;
        Ok(Response::json(200, &connectors::view(&c)))
    }

    pub(super) async fn get_okta(&self, tenant: &str) -> Result<Response> {
        let c = self.connector(tenant).await?;
        Ok(Response::json(200, &connectors::view(&c)))
    }

    pub(super) async fn delete_okta(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if stored::delete(self.db, tenant, OKTA).await? {
            Ok(Response::empty(204))
        } else {
            Err(missing(&format!("The Okta connector of tenant {tenant}")))
        }
    }

    pub(super) async fn put_okta_rules(&self, tenant: &str) -> Result<Response> {
        self.connector(tenant).await?;
        let body: Rules = parse_body(self.req)?;
        let rules = json!({"deactivateUsers": body.deactivate_users});
        stored::set(self.db, tenant, OKTA, Column::Rules, &rules, &self.stamp).await?;
        let c = self.connector(tenant).await?;
        Ok(Response::json(200, &connectors::view(&c)))
    }

    /// Calls the tenant's Okta org with its token.
    async fn okta_call(
        &self,
        c: &Connector,
        tenant: &str,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<std::result::Result<(u16, Value), okta::Failure>> {
        let token = connectors::open_token(self.config, tenant, c)?;
        let client = connectors::client(self.config, self.out, c, &token, self.now.timestamp());
        Ok(client.call(method, path, body).await)
    }

    /// Who the token belongs to (`GET /api/v1/users/me`), kept as the
    /// connector's last test.
    pub(super) async fn test_okta(&self, tenant: &str) -> Result<Response> {
        let c = self.connector(tenant).await?;
        let (result, answer) = match self
            .okta_call(&c, tenant, "GET", "/api/v1/users/me", None)
            .await?
        {
            Ok((_, me)) => {
                let result = json!({"ok": true, "at": self.stamp, "user": {
                    "id": me.get("id"), "login": me.pointer("/profile/login"),
                    "name": format!("{} {}",
                        me.pointer("/profile/firstName").and_then(Value::as_str).unwrap_or(""),
                        me.pointer("/profile/lastName").and_then(Value::as_str).unwrap_or("")).trim()}});
                (result.clone(), Response::json(200, &result))
            }
            Err(f) => {
                let (status, detail, error) = okta::explain(&f, "read its own user");
                let result = json!({"ok": false, "at": self.stamp, "status": status, "detail": detail, "okta": error});
                (
                    result,
                    connectors::failure_response(&f, "read its own user"),
                )
            }
        };
        stored::set(
            self.db,
            tenant,
            OKTA,
            Column::LastTest,
            &result,
            &self.stamp,
        )
        .await?;
        Ok(answer)
    }

    pub(super) async fn create_okta_user(&self, tenant: &str) -> Result<Response> {
        let c = self.connector(tenant).await?;
        let body: NewUser = parse_body(self.req)?;
        let absent: Vec<&str> = ["firstName", "lastName", "email", "login"]
            .into_iter()
            .filter(|k| {
                body.profile
                    .get(*k)
                    .and_then(Value::as_str)
                    .is_none_or(|v| v.trim().is_empty())
            })
            .collect();
        if !absent.is_empty() {
            return Err(ScimError::invalid_value(format!(
                "An Okta user's profile needs {}.",
                absent.join(", ")
            ))
            .into());
        }
        let activate = body.activate.unwrap_or(true);
        let path = format!("/api/v1/users?activate={activate}");
        let doc = json!({"profile": body.profile});
        match self
            .okta_call(&c, tenant, "POST", &path, Some(&doc))
            .await?
        {
            Ok((_, user)) => Ok(Response::json(201, &okta::user_json(&user))),
            Err(f) => Ok(connectors::failure_response(&f, "create the user")),
        }
    }

    pub(super) async fn get_okta_user(&self, tenant: &str, id: &str) -> Result<Response> {
        let c = self.connector(tenant).await?;
        let path = format!("/api/v1/users/{}", segment(id));
        match self.okta_call(&c, tenant, "GET", &path, None).await? {
            Ok((_, user)) => Ok(Response::json(200, &okta::user_json(&user))),
            Err(f) => Ok(connectors::failure_response(&f, "read the user")),
        }
    }

    /// Users by name or email: a full name ("Bob Ross") as first and last
    /// name prefixes (Okta's `search`), anything else as Okta's `q` (a
    /// prefix of the first name, last name or email).
    pub(super) async fn search_okta_users(&self, tenant: &str) -> Result<Response> {
        let c = self.connector(tenant).await?;
        let params = self.req.params();
        super::request::known_params(&params, &["search", "limit"])?;
        let term = params.get("search").unwrap_or_default();
        let term = term.trim();
        if term.is_empty() {
            return Err(ScimError::invalid_value("`search` is a name or an email address.").into());
        }
        let limit = match params.get("limit") {
            None => 20,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_SEARCH).contains(l))
                .ok_or_else(|| {
                    ScimError::invalid_value(format!("`limit` is 1 to {MAX_SEARCH}."))
                })?,
        };
        let words: Vec<&str> = term.split_whitespace().collect();
        let query = match words.as_slice() {
            [first, last] if !term.contains('@') => {
                let expr = format!(
                    "profile.firstName sw {} and profile.lastName sw {}",
                    quoted(first),
                    quoted(last)
                );
                format!("search={}", segment(&expr))
            }
            _ => format!("q={}", segment(term)),
        };
        let path = format!("/api/v1/users?{query}&limit={limit}");
        match self.okta_call(&c, tenant, "GET", &path, None).await? {
            Ok((_, Value::Array(users))) => {
                let users: Vec<Value> = users.iter().map(okta::user_json).collect();
                Ok(Response::json(200, &json!({"users": users})))
            }
            Ok((status, _)) => Ok(connectors::failure_response(
                &okta::Failure::BadAnswer(status),
                "find users",
            )),
            Err(f) => Ok(connectors::failure_response(&f, "find users")),
        }
    }

    /// Deactivates an Okta user, unless it is deprovisioned already (409,
    /// and deactivate is not called: a second deactivate of Okta's is
    /// refused, and a delete would destroy the user).
    pub(super) async fn deactivate_okta_user(&self, tenant: &str, id: &str) -> Result<Response> {
        let c = self.connector(tenant).await?;
        match self.okta_deactivate(&c, tenant, id).await? {
            Deactivated::Done(user) => Ok(Response::json(200, &okta::user_json(&user))),
            Deactivated::Already(user) => Ok(Response::json(
                409,
                &json!({"schemas": [crate::proto::error::ERROR_SCHEMA], "status": "409",
                        "detail": format!("The Okta user {} is deprovisioned (deactivated) already; nothing was done.",
                            user.pointer("/profile/login").and_then(Value::as_str).unwrap_or(id)),
                        "user": okta::user_json(&user)}),
            )),
            Deactivated::Failed(f, what) => Ok(connectors::failure_response(&f, what)),
        }
    }

    /// Reads the user, deactivates it unless it is deprovisioned, reads it
    /// again (the token opened once for the three calls).
    pub(super) async fn okta_deactivate(
        &self,
        c: &Connector,
        tenant: &str,
        id: &str,
    ) -> Result<Deactivated> {
        let token = connectors::open_token(self.config, tenant, c)?;
        let client = connectors::client(self.config, self.out, c, &token, self.now.timestamp());
        let path = format!("/api/v1/users/{}", segment(id));
        let user = match client.call("GET", &path, None).await {
            Ok((_, u)) => u,
            Err(f) => return Ok(Deactivated::Failed(f, "read the user")),
        };
        if user.get("status").and_then(Value::as_str) == Some("DEPROVISIONED") {
            return Ok(Deactivated::Already(user));
        }
        let okta_id = user
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_owned();
        let path = format!("/api/v1/users/{}", segment(&okta_id));
        let action = format!("{path}/lifecycle/deactivate");
        if let Err(f) = client.call("POST", &action, None).await {
            return Ok(Deactivated::Failed(f, "deactivate the user"));
        }
        Ok(match client.call("GET", &path, None).await {
            Ok((_, u)) => Deactivated::Done(u),
            // Deactivated; only the read after it failed.
            Err(_) => Deactivated::Done(
                json!({"id": okta_id, "status": "DEPROVISIONED", "profile": user.get("profile")}),
            ),
        })
    }
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// The connector's rule, after the application deactivated `user`:
    /// when the tenant's Okta connector has `deactivateUsers`, the matching
    /// Okta user (by the user's externalId when it is an Okta user id, as
    /// Okta's own provisioning sets it, else by login = userName) is
    /// deactivated, and the result recorded as an event
    /// (`connector.okta.user_deactivated` or `connector.okta.failed`) and
    /// in the request log. The deactivation here has committed: nothing
    /// about the rule fails it.
    pub(super) async fn okta_rule(&self, tenant: &str, user: &Stored<Vec<GroupRef>>) {
        if let Err(e) = self.try_okta_rule(tenant, user).await {
            self.notes.add(crate::server::log::Note::Unfinished(format!(
                "the Okta connector's rule did not run: {e:?}"
            )));
        }
    }

    async fn try_okta_rule(&self, tenant: &str, user: &Stored<Vec<GroupRef>>) -> Result<()> {
        let Some(c) = stored::get(self.db, tenant, OKTA).await? else {
            return Ok(());
        };
        if c.rules.get("deactivateUsers").and_then(Value::as_bool) != Some(true) {
            return Ok(());
        }
        let text = |k: &str| user.doc.get(k).and_then(Value::as_str).map(str::to_owned);
        let (key, matched_by) = match text("externalId").filter(|e| e.starts_with("00u")) {
            Some(e) => (e, "externalId"),
            None => (text("userName").unwrap_or_default(), "userName"),
        };
        let outcome = self.okta_deactivate(&c, tenant, &key).await?;
        let (kind, data, status, detail) = match &outcome {
            Deactivated::Done(u) => (
                "connector.okta.user_deactivated",
                json!({"okta": okta::user_json(u), "matchedBy": matched_by, "alreadyDeprovisioned": false}),
                200,
                None,
            ),
            Deactivated::Already(u) => (
                "connector.okta.user_deactivated",
                json!({"okta": okta::user_json(u), "matchedBy": matched_by, "alreadyDeprovisioned": true}),
                409,
                Some("deprovisioned already; nothing was done".to_owned()),
            ),
            Deactivated::Failed(f, what) => {
                let (status, detail, error) = okta::explain(f, what);
                (
                    "connector.okta.failed",
                    json!({"action": "deactivate", "matchedBy": matched_by, "key": key,
                           "status": status, "error": detail, "okta": error}),
                    status,
                    Some(detail),
                )
            }
        };
        let ctx = self.ctx(tenant);
        let summary = crate::server::events::user_summary(&user.id, &user.doc);
        let mut stmts = ctx.events.record(kind, &summary, data, None);
        let entry = crate::store::requests::Entry {
            at: self.stamp.clone(),
            request_id: self.request_id.to_owned(),
            method: "POST".into(),
            path: format!(
                "{}/api/v1/users/{}/lifecycle/deactivate",
                c.org_url,
                segment(&key)
            ),
            status,
            detail,
            // Outbound entries are not timed.
            duration_ms: 0,
            token_label: Some("connector.okta".into()),
            user_agent: Some("scim-worker okta-connector".into()),
            leniencies: "[]".into(),
            ..Default::default()
        };
        stmts.push(crate::store::requests::record_all(&[
            crate::store::requests::Pending {
                tenant: tenant.to_owned(),
                entry,
                always: true,
            },
        ]));
        self.db.batch(stmts).await?;
        Ok(())
    }
}

/// How a deactivation went.
pub(super) enum Deactivated {
    Done(Value),
    /// Deprovisioned before: nothing done.
    Already(Value),
    /// A call failed, doing this.
    Failed(okta::Failure, &'static str),
}
