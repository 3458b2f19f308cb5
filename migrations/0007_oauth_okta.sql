-- scim-worker, seventh migration: the OAuth 2.0 authorization code grant
-- with refresh tokens (RFC 6749 §4.1, §6), as Okta's OIN SCIM integrations
-- use it: one client for the deployment (Worker secrets), the customer's
-- tenant decided at the authorize step.
--
-- Single use needs strong consistency, so all of it is in D1, as SHA-256
-- hashes only: the connect codes a tenant admin types into the consent page,
-- the authorization codes (10 minutes), and the refresh tokens, which
-- rotate on every use. A grant is the family of one authorization: its
-- codes, refresh tokens and access tokens (oauth_tokens.client_id is the
-- grant's id); presenting a used refresh token revokes the whole family.
-- The daily cron purges expired rows.

CREATE TABLE oauth_connect_codes (
  hash        TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT
);

CREATE TABLE oauth_grants (
  id              TEXT PRIMARY KEY,             -- swg_ + 32 hex digits
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id       TEXT NOT NULL,
  how             TEXT NOT NULL,                -- 'connect-code' or 'admin-token'
  created_at      TEXT NOT NULL,
  last_used       TEXT,
  revoked_at      TEXT,
  revoked_reason  TEXT
);
CREATE INDEX oauth_grants_by_tenant ON oauth_grants (tenant_id, created_at);

CREATE TABLE oauth_codes (
  hash          TEXT PRIMARY KEY,
  grant_id      TEXT NOT NULL,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id     TEXT NOT NULL,
  redirect_uri  TEXT NOT NULL,
  expires_at    TEXT NOT NULL,
  used_at       TEXT
);

CREATE TABLE oauth_refresh_tokens (
  hash        TEXT PRIMARY KEY,
  grant_id    TEXT NOT NULL,
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  expires_at  TEXT NOT NULL,
  used_at     TEXT
);
CREATE INDEX oauth_refresh_by_grant ON oauth_refresh_tokens (grant_id);
