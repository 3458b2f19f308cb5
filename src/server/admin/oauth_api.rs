//! OAuth clients of a tenant (RFC 6749 client credentials, one client per
//! customer as Microsoft Entra requires): create (the secret shown once),
//! list, rotate the secret (the old one valid for a grace period), delete
//! (its access tokens revoked at once).

use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{missing, parse_body_or_default, Admin};
use crate::proto::error::ScimError;
use crate::server::auth::sha256_hex;
use crate::server::authorize;
use crate::server::error::Result;
use crate::server::http::Response;
use crate::server::oauth::{self, TOKEN_PATH};
use crate::server::webhooks::Outbound;
use crate::store::oauth::{self as store, Client};
use crate::store::tenants::AuthMode;
use crate::store::{timestamp, KeyValue, SqlExecutor};

/// The longest a client secret may live: three years (Entra's gallery rule
/// is one to three).
const MAX_SECRET_DAYS: u32 = 1095;
/// How long a rotated secret keeps working unless told: a day.
const DEFAULT_GRACE_HOURS: u32 = 24;
/// The longest it may: a week.
const MAX_GRACE_HOURS: u32 = 168;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewClient {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    secret_expires_in_days: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rotation {
    #[serde(default)]
    grace_hours: Option<u32>,
    #[serde(default)]
    secret_expires_in_days: Option<u32>,
}

/// What the admin API shows of a client: never a secret.
fn client_json(c: &Client) -> Value {
    json!({
        "clientId": c.client_id,
        "label": c.label,
        "created": c.created,
        "secretExpires": c.secret_expires,
        "rotated": c.rotated,
        "previousSecretExpires": c.previous_until,
        "lastUsed": c.last_used,
    })
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// The tenant, which must allow `oauth` (else 409).
    async fn oauth_tenant(&self, tenant: &str) -> Result<()> {
        let t = self.tenant(tenant).await?;
        if !t.settings.authentication.allows(AuthMode::OAuth) {
            return Err(ScimError::new(
                409,
                None,
                "OAuth is off for this tenant: add \"oauth\" to settings.authentication first.",
            )
            .into());
        }
        Ok(())
    }

    fn secret_expiry(&self, days: Option<u32>) -> Result<Option<String>> {
        match days {
            None => Ok(None),
            Some(d) if (1..=MAX_SECRET_DAYS).contains(&d) => Ok(Some(timestamp(
                self.now + chrono::Duration::days(i64::from(d)),
            ))),
            Some(d) => Err(ScimError::invalid_value(format!(
                "secretExpiresInDays is 1 to {MAX_SECRET_DAYS}, not {d}."
            ))
            .into()),
        }
    }

    /// The answer to a new secret: the client, the secret once, and what
    /// to paste into the IdP.
    fn secret_issued(&self, status: u16, tenant: &str, c: &Client, secret: &str) -> Response {
        let mut v = client_json(c);
        if let Some(o) = v.as_object_mut() {
            o.insert("clientSecret".into(), Value::String(secret.to_owned()));
            o.insert(
                "tokenEndpoint".into(),
                Value::String(format!("{}{TOKEN_PATH}", self.req.origin)),
            );
            o.insert("baseUrl".into(), Value::String(self.base_url(tenant)));
        }
        Response::json(status, &v)
    }

    pub(super) async fn create_oauth_client(&self, tenant: &str) -> Result<Response> {
        self.oauth_tenant(tenant).await?;
        let body: NewClient = parse_body_or_default(self.req)?;
        let secret = oauth::new_secret()?;
        let client = Client {
            client_id: oauth::new_client_id(),
            tenant: tenant.to_owned(),
            label: body.label.unwrap_or_default(),
            secret_hash: sha256_hex(secret.as_bytes()),
            secret_expires: self.secret_expiry(body.secret_expires_in_days)?,
            previous_hash: None,
            previous_until: None,
            created: self.stamp.clone(),
            rotated: None,
            last_used: None,
        };
        if !store::insert(self.registry, &client).await? {
            return Err(missing(&format!("Tenant {tenant}")));
        }
        Ok(self.secret_issued(201, tenant, &client, &secret))
    }

    pub(super) async fn list_oauth_clients(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let list = store::list(self.registry, tenant).await?;
        let items: Vec<Value> = list.iter().map(client_json).collect();
        Ok(Response::json(200, &json!({"oauthClients": items})))
    }

    pub(super) async fn get_oauth_client(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let c = store::get(self.registry, id)
            .await?
            .filter(|c| c.tenant == tenant)
            .ok_or_else(|| missing(&format!("OAuth client {id}")))?;
        Ok(Response::json(200, &client_json(&c)))
    }

    pub(super) async fn rotate_oauth_secret(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let body: Rotation = parse_body_or_default(self.req)?;
        let grace = body.grace_hours.unwrap_or(DEFAULT_GRACE_HOURS);
        if grace > MAX_GRACE_HOURS {
            return Err(ScimError::invalid_value(format!(
                "graceHours is 0 to {MAX_GRACE_HOURS} (a week), not {grace}."
            ))
            .into());
        }
        let expires = self.secret_expiry(body.secret_expires_in_days)?;
        let until =
            (grace > 0).then(|| timestamp(self.now + chrono::Duration::hours(i64::from(grace))));
        let secret = oauth::new_secret()?;
        let rotated = store::rotate(
            self.registry,
            tenant,
            id,
            &sha256_hex(secret.as_bytes()),
            expires.as_deref(),
            until.as_deref(),
            &self.stamp,
        )
        .await?;
        if !rotated {
            return Err(missing(&format!("OAuth client {id}")));
        }
        let c = store::get(self.registry, id)
            .await?
            .ok_or_else(|| missing(&format!("OAuth client {id}")))?;
        Ok(self.secret_issued(200, tenant, &c, &secret))
    }

    pub(super) async fn delete_oauth_client(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let hashes = store::delete(self.registry, tenant, id)
            .await?
            .ok_or_else(|| missing(&format!("OAuth client {id}")))?;
        oauth::revoke_tokens(self.kv, &hashes).await?;
        Ok(Response::empty(204))
    }
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// A one-time connect code for Okta's authorize step (the tenant must
    /// allow `oauth`): the tenant admin types it into the consent page.
    pub(super) async fn create_connect_code(&self, tenant: &str) -> Result<Response> {
        self.oauth_tenant(tenant).await?;
        let code = authorize::new_connect_code()?;
        let expires =
            timestamp(self.now + chrono::Duration::minutes(authorize::CONNECT_CODE_MINUTES));
        if !store::add_connect_code(
            self.registry,
            tenant,
            &authorize::connect_code_hash(&code),
            &self.stamp,
            &expires,
        )
        .await?
        {
            return Err(missing(&format!("Tenant {tenant}")));
        }
        Ok(Response::json(
            201,
            &json!({"code": code, "expires": expires}),
        ))
    }

    /// The tenant's authorizations (Okta connections), newest first.
    pub(super) async fn list_grants(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let items: Vec<Value> = store::grants(self.registry, tenant)
            .await?
            .into_iter()
            .map(|g| {
                json!({"id": g.id, "client": g.client, "how": g.how, "created": g.created,
                       "lastUsed": g.last_used, "revoked": g.revoked, "revokedReason": g.revoked_reason})
            })
            .collect();
        Ok(Response::json(200, &json!({"grants": items})))
    }

    /// Revokes an authorization: its refresh and access tokens stop at once.
    pub(super) async fn revoke_grant(&self, tenant: &str, id: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let hashes = store::revoke_grant(
            self.registry,
            tenant,
            id,
            "revoked through the admin API",
            &self.stamp,
        )
        .await?
        .ok_or_else(|| missing(&format!("Grant {id}")))?;
        oauth::revoke_tokens(self.kv, &hashes).await?;
        Ok(Response::empty(204))
    }
}
