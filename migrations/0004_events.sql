-- scim-worker, fourth migration: provisioning events and their webhooks.
--
-- Every change a SCIM request or the admin API makes to a user or a group is
-- recorded as an event row in the same D1 batch as the change itself (a
-- transactional outbox): a change without its event, or an event without its
-- change, cannot be committed. `sequence` is per tenant, numbered inside the
-- batch after the tenant's highest (its newest event's, or tenants.event_seq,
-- which the retention purge raises to the highest it deletes), so committed
-- events have no gaps and no two share a number, even after a purge.

ALTER TABLE tenants ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;   -- the highest sequence purged (or given)

CREATE TABLE events (
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  sequence      INTEGER NOT NULL,
  id            TEXT NOT NULL,                  -- evt_ + a time-ordered unique id
  type          TEXT NOT NULL,                  -- user.created, group.member_added, ...
  occurred_at   TEXT NOT NULL,                  -- RFC 3339, UTC, milliseconds
  resource_id   TEXT,                           -- the user or group the event is about
  member_id     TEXT,                           -- membership events: the member
  body          TEXT NOT NULL,                  -- JSON: actor, requestId, resource, data, changed, previous
  dispatched    INTEGER NOT NULL DEFAULT 0,     -- 1 once its webhook deliveries exist
  PRIMARY KEY (tenant_id, sequence)
) WITHOUT ROWID;
CREATE INDEX events_undispatched ON events (tenant_id, sequence) WHERE dispatched = 0;
CREATE INDEX events_by_resource ON events (tenant_id, resource_id, sequence);
CREATE INDEX events_by_member ON events (tenant_id, member_id, sequence) WHERE member_id IS NOT NULL;
CREATE INDEX events_by_time ON events (tenant_id, occurred_at);

-- A tenant's webhook endpoints. The signing secret is never stored: it is
-- derived from the SECRETS_KEY Worker secret and the endpoint's random salt;
-- during a rotation the previous salt keeps signing until previous_until.
CREATE TABLE webhooks (
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id              TEXT NOT NULL,                -- wh_ + random
  url             TEXT NOT NULL,
  types           TEXT NOT NULL DEFAULT '["*"]',-- JSON array of event types, prefix wildcards like user.*
  description     TEXT,
  enabled         INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,                         -- e.g. the endpoint answered 410 Gone
  salt            TEXT NOT NULL,
  previous_salt   TEXT,
  previous_until  TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

-- One row per event and endpoint: what was tried, what came back, what is next.
CREATE TABLE deliveries (
  tenant_id       TEXT NOT NULL,
  id              TEXT NOT NULL,                -- dlv_ + random
  webhook_id      TEXT NOT NULL,
  event_sequence  INTEGER NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_status     INTEGER,                      -- the receiver's HTTP status of the last attempt
  last_error      TEXT,                         -- why the last attempt failed
  next_attempt    TEXT,                         -- when a pending delivery is due
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX deliveries_once ON deliveries (tenant_id, webhook_id, event_sequence);
CREATE INDEX deliveries_by_webhook ON deliveries (tenant_id, webhook_id, event_sequence);
CREATE INDEX deliveries_pending ON deliveries (next_attempt) WHERE state = 'pending';
