-- scim-worker, ninth migration: the host application's roles and the rules
-- that map IdP groups to them.
--
-- A user's roles are computed by the database, inside the batch of every
-- write that can change them (a membership change, a group's rename or
-- externalId change, a group's deletion, a new or restored user, a new
-- mapping), and kept in users.roles: reads never recompute them.

CREATE TABLE roles (
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,                  -- as the application names it, case-sensitive
  description   TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

-- The ordered rules: a group (by exactly one of id, externalId, or
-- displayName matched case-insensitively) gives a role. A user's roles are
-- the roles of the rules matching a group they are a direct member of, in
-- rule order without repeats; a user whom no rule matches gets the
-- tenant's default role, when it has one.
CREATE TABLE role_mappings (
  tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  position          INTEGER NOT NULL,
  group_id          TEXT,
  external_id       TEXT,
  display_name      TEXT,                       -- as given
  display_name_key  TEXT,                       -- lowercased, matched against groups.display_name_key
  role              TEXT NOT NULL,
  PRIMARY KEY (tenant_id, position)
) WITHOUT ROWID;

ALTER TABLE tenants ADD COLUMN default_role TEXT;
ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';   -- JSON array, first = highest rule

-- Scratch rows of one batch: users whose roles a write must recompute but
-- whom the write's own statements remove from view first (the members of a
-- group that is emptied or deleted). Filled and emptied in the same batch,
-- so it is empty between batches.
CREATE TABLE role_candidates (
  tenant_id     TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;
