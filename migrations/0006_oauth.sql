-- scim-worker, sixth migration: OAuth 2.0 clients (RFC 6749 client
-- credentials grant, as Microsoft Entra's provisioning uses it: one client
-- per customer tenant), and the access tokens issued to them.
--
-- No secret is stored: a client keeps the SHA-256 of its secret (256 random
-- bits), and during a rotation the previous one's until `previous_until`.
-- An access token lives in KV (the record SCIM authentication reads, under
-- the SHA-256 of the token, expiring with it); `oauth_tokens` lists those
-- hashes so that deleting a client revokes its tokens at once. The daily
-- cron purges rows of expired tokens.

CREATE TABLE oauth_clients (
  client_id       TEXT PRIMARY KEY,             -- public: swc_ + 32 hex digits
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  label           TEXT NOT NULL DEFAULT '',
  secret_hash     TEXT NOT NULL,                -- SHA-256 hex of the secret
  secret_expires  TEXT,                         -- NULL: the secret does not expire
  previous_hash   TEXT,                         -- the secret before the last rotation
  previous_until  TEXT,                         -- ... valid until then
  created_at      TEXT NOT NULL,
  rotated_at      TEXT,
  last_used       TEXT                          -- the last token granted (hourly)
);
CREATE INDEX oauth_clients_by_tenant ON oauth_clients (tenant_id, created_at);

CREATE TABLE oauth_tokens (
  hash        TEXT PRIMARY KEY,                 -- SHA-256 hex of the access token
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);
CREATE INDEX oauth_tokens_by_client ON oauth_tokens (tenant_id, client_id);
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (expires_at);
