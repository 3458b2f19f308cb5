//! Setup links: the URL a SaaS hands its customer's IT admin. It opens the
//! setup page (`/setup/`) with a credential in its fragment (never sent in
//! a request line, so never in a log) that the admin API takes as that one
//! tenant's scope until it expires or is revoked. A link's credential cannot
//! make or list setup links, so revoking one ends it.

use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{missing, parse_body_or_default, Admin};
use crate::proto::error::ScimError;
use crate::server::auth::sha256_hex;
use crate::server::error::Result;
use crate::server::http::Response;
use crate::server::tokens::random_token;
use crate::server::webhooks::Outbound;
use crate::store::setup_links::{self, SetupLink};
use crate::store::{timestamp, KeyValue, SqlExecutor};

/// How a setup link's credential starts.
pub(super) const LINK_PREFIX: &str = "ssl_";
/// A link's lifetime unless told, and the most it may be (30 days).
const DEFAULT_HOURS: u32 = 72;
const MAX_HOURS: u32 = 720;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewLink {
    #[serde(default)]
    expires_in_hours: Option<u32>,
}

fn link_json(l: &SetupLink) -> Value {
    json!({"id": l.id, "created": l.created, "expires": l.expires, "revoked": l.revoked, "lastUsed": l.last_used})
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    /// Setup links are made and seen only with an admin token, not a link.
    fn not_by_link(&self) -> Result<()> {
        if self.via_link {
            return Err(ScimError::new(
                403,
                None,
                "A setup link cannot make, list or revoke setup links.",
            )
            .into());
        }
        Ok(())
    }

    pub(super) async fn create_setup_link(&self, tenant: &str) -> Result<Response> {
        self.not_by_link()?;
        self.tenant(tenant).await?;
        let body: NewLink = parse_body_or_default(self.req)?;
        let hours = body.expires_in_hours.unwrap_or(DEFAULT_HOURS);
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(ScimError::invalid_value(format!(
                "expiresInHours is 1 to {MAX_HOURS} (30 days), not {hours}."
            ))
            .into());
        }
        let credential = format!("{LINK_PREFIX}{}", &random_token()?[4..]);
        let id = format!("sln_{}", uuid::Uuid::new_v4().simple());
        let expires = timestamp(self.now + chrono::Duration::hours(i64::from(hours)));
        let stored = setup_links::insert(
            self.registry,
            &id,
            tenant,
            &sha256_hex(credential.as_bytes()),
            &self.stamp,
            &expires,
        )
        .await?;
        if !stored {
            return Err(missing(&format!("Tenant {tenant}")));
        }
        let url = format!("{}/setup/#token={credential}", self.req.origin);
        Ok(Response::json(
            201,
            &json!({"id": id, "url": url, "expires": expires}),
        ))
    }

    pub(super) async fn list_setup_links(&self, tenant: &str) -> Result<Response> {
        self.not_by_link()?;
        self.tenant(tenant).await?;
        let items: Vec<Value> = setup_links::list(self.registry, tenant)
            .await?
            .iter()
            .map(link_json)
            .collect();
        Ok(Response::json(200, &json!({"setupLinks": items})))
    }

    pub(super) async fn revoke_setup_link(&self, tenant: &str, id: &str) -> Result<Response> {
        self.not_by_link()?;
        self.tenant(tenant).await?;
        if setup_links::revoke(self.registry, tenant, id, &self.stamp).await? {
            Ok(Response::empty(204))
        } else {
            Err(missing(&format!("Setup link {id}")))
        }
    }
}
