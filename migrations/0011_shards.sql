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
