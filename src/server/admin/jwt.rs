//! Admin API tokens: HS256 JWTs signed with `ADMIN_JWT_SECRET`, scoped to
//! the platform or to one tenant.

use chrono::{DateTime, Utc};
use jwt_simple::prelude::{Duration, HS256Key, MACLike, UnixTimeStamp, VerificationOptions};
use serde::{Deserialize, Serialize};

use crate::proto::error::{ScimError, ScimResult};
use crate::server::ctx::valid_tenant_id;

/// The claims of an admin token besides the registered ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminClaims {
    /// `platform` or `tenant`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    Platform,
    Tenant(String),
}

impl Scope {
    fn allows(&self, tenant: &str) -> bool {
        match self {
            Scope::Platform => true,
            Scope::Tenant(t) => t == tenant,
        }
    }

    pub(super) fn require_platform(&self) -> ScimResult<()> {
        match self {
            Scope::Platform => Ok(()),
            Scope::Tenant(_) => Err(ScimError::forbidden(
                "This operation needs a platform-scoped admin token.",
            )),
        }
    }

    pub(super) fn require_tenant(&self, tenant: &str) -> ScimResult<()> {
        if self.allows(tenant) {
            Ok(())
        } else {
            Err(ScimError::forbidden(
                "This admin token is scoped to another tenant.",
            ))
        }
    }
}

/// Verifies an admin JWT (HS256) at time `now`.
#[cfg(test)]
pub(crate) fn verify(token: &str, secret: &str, now: DateTime<Utc>) -> ScimResult<Scope> {
    verify_with_subject(token, secret, now).map(|(scope, _)| scope)
}

/// Verifies an admin JWT (HS256) at time `now`: its scope, and its `sub`
/// claim when it has one (who acts, in the events its changes record).
pub(crate) fn verify_with_subject(
    token: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> ScimResult<(Scope, Option<String>)> {
    let key = HS256Key::from_bytes(secret.as_bytes());
    let options = VerificationOptions {
        // The request time comes from the runtime, not from the library's clock.
        artificial_time: Some(UnixTimeStamp::from_secs(
            u64::try_from(now.timestamp()).unwrap_or(0),
        )),
        time_tolerance: Some(Duration::from_secs(30)),
        ..VerificationOptions::default()
    };
    let claims = key
        .verify_token::<AdminClaims>(token, Some(options))
        .map_err(|_| ScimError::unauthorized())?;
    if claims.expires_at.is_none() {
        return Err(ScimError::unauthorized());
    }
    let subject = claims.subject;
    match (claims.custom.scope.as_str(), claims.custom.tenant) {
        ("platform", _) => Ok((Scope::Platform, subject)),
        ("tenant", Some(t)) if valid_tenant_id(&t) => Ok((Scope::Tenant(t), subject)),
        _ => Err(ScimError::unauthorized()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sign;

    const SECRET: &str = "a-test-secret-that-is-32-bytes-long";

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn platform_and_tenant_scopes_verify() {
        let t = sign(
            AdminClaims {
                scope: "platform".into(),
                tenant: None,
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        assert_eq!(verify(&t, SECRET, now()).unwrap(), Scope::Platform);
        let t = sign(
            AdminClaims {
                scope: "tenant".into(),
                tenant: Some("acme".into()),
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        let scope = verify(&t, SECRET, now()).unwrap();
        assert_eq!(scope, Scope::Tenant("acme".into()));
        assert_eq!(scope.require_tenant("other").unwrap_err().status, 403);
        assert_eq!(scope.require_platform().unwrap_err().status, 403);
    }

    #[test]
    fn wrong_key_expired_or_malformed_tokens_are_401() {
        let t = sign(
            AdminClaims {
                scope: "platform".into(),
                tenant: None,
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        assert_eq!(
            verify(&t, "another-secret-of-at-least-32-bytes!", now())
                .unwrap_err()
                .status,
            401
        );
        // Two hours later the one-hour token has expired.
        let later = now() + chrono::Duration::hours(2);
        assert_eq!(verify(&t, SECRET, later).unwrap_err().status, 401);
        assert_eq!(verify("not.a.jwt", SECRET, now()).unwrap_err().status, 401);
        let bad_scope = sign(
            AdminClaims {
                scope: "tenant".into(),
                tenant: Some("Bad_Id".into()),
            },
            SECRET,
            Duration::from_hours(1),
        )
        .unwrap();
        assert_eq!(verify(&bad_scope, SECRET, now()).unwrap_err().status, 401);
    }
}
