-- scim-worker, fifth migration: the SCIM request log.
-- Per tenant, the recent SCIM requests as an operator debugging a connection
-- needs them: time, request id, method, path and query, status, the error's
-- scimType and detail, duration, the token's id and label, user agent, the
-- leniencies applied and the body with its secrets redacted (see
-- src/server/request_log.rs). Which requests are kept is the tenant's setting
-- requestLog ("writes-and-errors" or "all"), read inside the INSERT from
-- tenants.settings; how long, its setting requestLogRetentionDays (default 7),
-- applied by the retention statement (src/store/requests.rs, purge). Admin API
-- requests are not recorded.

-- seq orders entries as they were written: the listing's order (newest first)
-- and its cursor.
CREATE TABLE request_log (
  seq           INTEGER PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  at            TEXT NOT NULL,                  -- RFC 3339 UTC with milliseconds, as every stored time
  request_id    TEXT NOT NULL,                  -- cf-ray, or the id the worker made; the x-request-id header
  method        TEXT NOT NULL,
  path          TEXT NOT NULL,                  -- as sent (percent-encoded), without the query
  query         TEXT,                           -- the raw query string without '?'; NULL when there is none
  status        INTEGER NOT NULL,
  scim_type     TEXT,                           -- of an error answer (status >= 400)
  detail        TEXT,                           -- of an error answer
  duration_ms   INTEGER NOT NULL,
  token_id      TEXT,                           -- the SCIM token that authenticated; NULL when none did
  token_label   TEXT,
  user_agent    TEXT,
  leniencies    TEXT NOT NULL DEFAULT '[]',     -- JSON array: what the request was let through
  body          TEXT                            -- redacted and capped; NULL: none, or not authenticated
);
-- A tenant's entries newest first, from a cursor.
CREATE INDEX request_log_by_tenant ON request_log (tenant_id, seq);
-- Retention: a tenant's entries older than its cut-off.
CREATE INDEX request_log_by_time ON request_log (tenant_id, at);
