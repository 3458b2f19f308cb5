-- scim-worker schema, first migration.
-- Every table is scoped by tenant_id; every query names the tenant.
-- Keys that users or IdPs match case-insensitively (userName, group displayName,
-- email values) have a *_key column holding the Unicode-lowercased value, so that
-- equality and prefix lookups use an ordinary index (SQLite NOCASE folds ASCII only).
-- Ids and large numbers are TEXT: integers above 2^53 lose precision through JS.

CREATE TABLE tenants (
  id            TEXT PRIMARY KEY,               -- [a-z0-9-], used in the SCIM base URL
  name          TEXT NOT NULL,
  settings      TEXT NOT NULL DEFAULT '{}',     -- JSON: DELETE policy, limits, ...
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
) WITHOUT ROWID;

-- A tenant's custom User extension attributes (one row per attribute).
CREATE TABLE tenant_attributes (
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,                  -- the application's field id, case-sensitive
  definition    TEXT NOT NULL,                  -- JSON attribute definition
  created_at    TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

-- seq gives every user a stable, monotonic position: the default list order and
-- the keyset for cursor pagination.
CREATE TABLE users (
  seq             INTEGER PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id              TEXT NOT NULL,
  user_name       TEXT NOT NULL,                -- as sent
  user_name_key   TEXT NOT NULL,                -- lowercased, for matching and uniqueness
  external_id     TEXT,
  display_name    TEXT,
  active          INTEGER NOT NULL DEFAULT 1,
  deleted_at      TEXT,                         -- set: a tombstone SCIM no longer returns
  created_at      TEXT NOT NULL,
  last_modified   TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 1,
  doc             TEXT NOT NULL                 -- the full resource as stored JSON
);
CREATE UNIQUE INDEX users_by_id ON users (tenant_id, id);
CREATE INDEX users_by_seq ON users (tenant_id, seq);
-- userName is unique per tenant case-insensitively among live users; a tombstone
-- does not block a later POST of the same userName.
CREATE UNIQUE INDEX users_by_user_name ON users (tenant_id, user_name_key) WHERE deleted_at IS NULL;
CREATE INDEX users_by_external_id ON users (tenant_id, external_id);
CREATE INDEX users_by_last_modified ON users (tenant_id, last_modified);
-- `active eq false` selects the few inactive users; a full index on a boolean
-- would mislead the planner for every other query.
CREATE INDEX users_inactive ON users (tenant_id, seq) WHERE active = 0;

-- One row per email value of a user, for `emails.value eq` and
-- `emails[type eq "work"].value eq` lookups.
CREATE TABLE user_emails (
  tenant_id     TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  value_key     TEXT NOT NULL,                  -- lowercased address
  type          TEXT,                           -- lowercased type, e.g. 'work'
  is_primary    INTEGER NOT NULL DEFAULT 0,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_emails_by_value ON user_emails (tenant_id, value_key, type);
CREATE INDEX user_emails_by_user ON user_emails (tenant_id, user_id);

CREATE TABLE groups (
  seq               INTEGER PRIMARY KEY,
  tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id                TEXT NOT NULL,
  display_name      TEXT NOT NULL,
  display_name_key  TEXT NOT NULL,              -- lowercased, unique per tenant
  external_id       TEXT,
  created_at        TEXT NOT NULL,
  last_modified     TEXT NOT NULL,
  version           INTEGER NOT NULL DEFAULT 1,
  doc               TEXT NOT NULL               -- the group without its members
);
CREATE UNIQUE INDEX groups_by_id ON groups (tenant_id, id);
CREATE INDEX groups_by_seq ON groups (tenant_id, seq);
CREATE UNIQUE INDEX groups_by_display_name ON groups (tenant_id, display_name_key);
CREATE INDEX groups_by_external_id ON groups (tenant_id, external_id);
CREATE INDEX groups_by_last_modified ON groups (tenant_id, last_modified);

-- Membership is its own table, keyed both ways: adding or removing one member is
-- one row, never a rewrite of the group.
CREATE TABLE group_members (
  tenant_id     TEXT NOT NULL,
  group_id      TEXT NOT NULL,
  member_id     TEXT NOT NULL,
  member_type   TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
  PRIMARY KEY (tenant_id, group_id, member_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_members_by_member ON group_members (tenant_id, member_id, group_id);

-- An always-empty table. A multi-statement write (a D1 batch) whose first
-- statement is a guarded UPDATE continues with
--   INSERT INTO write_guard SELECT 1 WHERE changes() = 0
-- which fails the CHECK, and so rolls the whole batch back, when the guarded
-- UPDATE matched no row (the resource was changed or deleted meanwhile).
CREATE TABLE write_guard (
  stale INTEGER NOT NULL CONSTRAINT write_guard CHECK (stale = 0)
);

-- Also always empty: a write that would give two live users of a tenant the
-- same value of a custom "unique number" attribute adds
--   INSERT INTO unique_guard SELECT 1 WHERE EXISTS (<another user holds it>)
-- to its batch, which then fails and rolls back (409 uniqueness).
CREATE TABLE unique_guard (
  duplicate INTEGER NOT NULL CONSTRAINT unique_guard CHECK (duplicate = 0)
);
