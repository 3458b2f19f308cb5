-- scim-worker, third migration: each tenant's own extension URN.
-- A tenant's custom User attributes live in an extension schema whose URN is
-- urn:<vendor>:scim:schemas:extension:<tenant>:2:User unless the tenant sets
-- its own (PUT /admin/v1/tenants/{t}/schema {"urn": ...}): a host application
-- whose account ids are mixed-case, or an administrator following an identity
-- provider's guide, names it as they need. NULL keeps the default, so rows of
-- existing tenants, and the version still running while this applies, are
-- unaffected.

ALTER TABLE tenants ADD COLUMN extension_urn TEXT;   -- as set, case kept; NULL: the default
