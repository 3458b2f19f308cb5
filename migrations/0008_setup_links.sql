-- scim-worker, eighth migration: setup links, the URLs a SaaS hands its
-- customer's IT admin. Each carries (in its fragment) a credential that the
-- admin API takes as that one tenant's scope until it expires or is revoked.
-- Only its SHA-256 is kept.

CREATE TABLE setup_links (
  id          TEXT PRIMARY KEY,                 -- sln_ + 32 hex digits
  tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  hash        TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the credential
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  revoked_at  TEXT,
  last_used   TEXT
);
CREATE INDEX setup_links_by_tenant ON setup_links (tenant_id, created_at);
