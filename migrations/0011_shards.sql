-- scim-worker, eleventh migration: tenants across D1 databases (shards).
--
-- The worker binds DB (the tenant registry, and the first shard) and
-- optionally DB_2, DB_3, ... (more shards). Every migration applies to every
-- shard. On DB, `tenants` is the registry: one row per tenant of the
-- deployment, naming the shard (binding name) its data is on and the region
-- it was placed for. On a shard, `tenants` holds the full rows of the
-- tenants placed there (their settings, extension URN), which its tables
-- reference. A tenant on DB has one row, both at once. A tenant on DB_2 has
-- its registry row on DB (id, name, shard, region; found by credentials
-- that do not name a tenant: OAuth clients, setup links, which stay on DB)
-- and its full row on DB_2.

ALTER TABLE tenants ADD COLUMN shard TEXT NOT NULL DEFAULT 'DB';
ALTER TABLE tenants ADD COLUMN region TEXT;          -- e.g. 'eu' (a jurisdiction) or 'weur' (a location)

CREATE INDEX tenants_by_shard ON tenants (shard);

-- A tenant being loaded from an export (POST /admin/v1/tenants/{t}/import):
-- JSON {lines, phase, counts, source, started}, written in the same batch as
-- each part's rows, so that an import interrupted anywhere resumes at the
-- first line not loaded. NULL: no import in progress.
ALTER TABLE tenants ADD COLUMN import_state TEXT;

-- What a request needs of its tenant (settings, extension URN, attribute
-- definitions, whether it maps roles) is cached in each isolate. Every change of it bumps
-- profile_version (these triggers), and a user write carries a guard on the
-- version its schema was read at (profile_guard): a write made with a stale
-- schema aborts and is made again with the current one.
ALTER TABLE tenants ADD COLUMN profile_version INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER tenants_profile_changed AFTER UPDATE OF settings, extension_urn, default_role ON tenants
BEGIN UPDATE tenants SET profile_version = profile_version + 1 WHERE id = NEW.id; END;
-- Whether a tenant has role rules (or a default role) is part of it too: a
-- new user of a tenant without them needs no role statements.
CREATE TRIGGER role_mappings_profile_insert AFTER INSERT ON role_mappings
BEGIN UPDATE tenants SET profile_version = profile_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER role_mappings_profile_delete AFTER DELETE ON role_mappings
BEGIN UPDATE tenants SET profile_version = profile_version + 1 WHERE id = OLD.tenant_id; END;
CREATE TRIGGER attributes_profile_insert AFTER INSERT ON tenant_attributes
BEGIN UPDATE tenants SET profile_version = profile_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER attributes_profile_update AFTER UPDATE ON tenant_attributes
BEGIN UPDATE tenants SET profile_version = profile_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER attributes_profile_delete AFTER DELETE ON tenant_attributes
BEGIN UPDATE tenants SET profile_version = profile_version + 1 WHERE id = OLD.tenant_id; END;
CREATE TABLE profile_guard (
  changed INTEGER NOT NULL CONSTRAINT profile_guard CHECK (changed = 0)
);
