-- scim-worker, tenth migration: outbound connectors, the host product
-- acting on the customer's own IdP (Okta's Users API).
--
-- The API token is stored only sealed (AES-256-GCM under a key derived from
-- the SECRETS_KEY Worker secret, a fresh nonce per write, the tenant as
-- associated data): D1 alone cannot give it back. Its last four characters
-- are kept apart, to tell tokens apart.

CREATE TABLE connectors (
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('okta')),
  org_url       TEXT NOT NULL,                  -- https://<org>.okta.com
  token_sealed  TEXT NOT NULL,                  -- base64(nonce || ciphertext || tag)
  token_last4   TEXT NOT NULL,
  rules         TEXT NOT NULL DEFAULT '{}',     -- JSON: {"deactivateUsers": bool}
  last_test     TEXT,                           -- JSON: the last test's result
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (tenant_id, kind)
) WITHOUT ROWID;
