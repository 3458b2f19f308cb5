// End-to-end: each tenant's own extension URN on the built wasm worker
// (Miniflare, real D1 and KV): set it, provision values, change it (the
// values move in one D1 batch), read them back; unique custom fields
// enforced inside D1's batch; and migration 0003 applied to a database made
// by 0001 and 0002 with data in it, as an upgrade applies it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, migrationFiles, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const KISSFLOW = "urn:kissflow:scim:schemas:extension:Ab3xYz9Q:2:User";
const MICROSOFT = "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User";

const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const running = [];
after(async () => {
  for (const w of running) await w.dispose();
});

async function start(options) {
  const w = await startWorker(options);
  running.push(w);
  return w;
}

const filter = (f) => `/Users?filter=${encodeURIComponent(f)}`;

test("a tenant's own extension URN: set, provision values, change it, read them back", async () => {
  const w = await start();
  const t = "kiss";
  const defaultUrn = `urn:scimworker:scim:schemas:extension:${t}:2:User`;
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: t })).status, 201);
  const creds = { baseUrl: `${w.origin}/scim/v2/${t}`, token: (await w.admin(platform, "POST", `/tenants/${t}/tokens`, {})).body.token };
  const admin = mintJwt(ADMIN_JWT_SECRET, t, 1);
  for (const [name, def] of [
    ["costCenter", { type: "string" }],
    ["employeeCode", { type: "string", unique: true }],
    ["legacy", { type: "string" }],
  ]) {
    const r = await w.admin(admin, "PUT", `/tenants/${t}/schema/attributes/${name}`, def);
    assert.equal(r.status, 201, `${name}: ${r.text}`);
  }
  // Set: a mixed-case URN, kept as given.
  let r = await w.admin(admin, "PUT", `/tenants/${t}/schema`, { urn: KISSFLOW });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.urn, KISSFLOW);
  assert.equal((await w.admin(admin, "GET", `/tenants/${t}`)).body.schemaUrn, KISSFLOW);
  assert.equal((await w.scim(creds, "GET", `/Schemas/${KISSFLOW}`)).body.id, KISSFLOW);
  const bad = await w.admin(admin, "PUT", `/tenants/${t}/schema`, { urn: "urn:ietf:params:scim:schemas:core:2.0:User" });
  assert.equal(bad.status, 400, bad.text);

  // Provision, naming the URN in other cases as IdPs may.
  const ann = await w.scim(creds, "POST", "/Users", {
    schemas: [USER, KISSFLOW.toLowerCase()],
    userName: "ann",
    [KISSFLOW.toUpperCase()]: { costCenter: "CC-1", employeeCode: "EMP-1", legacy: "L-1" },
  });
  assert.equal(ann.status, 201, ann.text);
  assert.deepEqual(ann.body[KISSFLOW], { costCenter: "CC-1", employeeCode: "EMP-1", legacy: "L-1" });
  const bob = await w.scim(creds, "POST", "/Users", {
    schemas: [USER],
    userName: "bob",
    [`${KISSFLOW.toLowerCase()}:costCenter`]: "CC-2",
  });
  assert.equal(bob.status, 201, bob.text);
  const gone = await w.scim(creds, "POST", "/Users", { schemas: [USER], userName: "gone", [KISSFLOW]: { costCenter: "CC-9" } });
  assert.equal((await w.scim(creds, "DELETE", `/Users/${gone.body.id}`)).status, 204);
  // The unique code is enforced inside D1's batch, in any case.
  const dup = await w.scim(creds, "POST", "/Users", { schemas: [USER], userName: "dup", [KISSFLOW]: { employeeCode: "emp-1" } });
  assert.equal(dup.status, 409, dup.text);
  assert.equal(dup.body.scimType, "uniqueness");
  // `legacy` is removed: its value is hidden in ann's document.
  assert.equal((await w.admin(admin, "DELETE", `/tenants/${t}/schema/attributes/legacy`)).status, 204);
  const found = await w.scim(creds, "GET", filter(`${KISSFLOW.toLowerCase()}:costCenter eq "cc-2"`));
  assert.deepEqual(found.body.Resources.map((u) => u.id), [bob.body.id]);

  // Change it: every user's values move in the same D1 batch.
  r = await w.admin(admin, "PUT", `/tenants/${t}/schema`, { urn: MICROSOFT });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.urn, MICROSOFT);
  const annAfter = await w.scim(creds, "GET", `/Users/${ann.body.id}`);
  assert.deepEqual(annAfter.body[MICROSOFT], { costCenter: "CC-1", employeeCode: "EMP-1" });
  assert.equal(annAfter.body[KISSFLOW], undefined);
  assert.deepEqual(annAfter.body.schemas, [USER, MICROSOFT]);
  assert.notEqual(annAfter.headers.get("etag"), ann.headers.get("etag"));
  const byNew = await w.scim(creds, "GET", filter(`${MICROSOFT}:costCenter eq "CC-2"`));
  assert.deepEqual(byNew.body.Resources.map((u) => u.id), [bob.body.id]);
  assert.equal((await w.scim(creds, "GET", filter(`${KISSFLOW}:costCenter eq "CC-2"`))).status, 400);
  const tomb = await w.admin(admin, "GET", `/tenants/${t}/users/${gone.body.id}`);
  assert.ok(tomb.body.deleted, tomb.text);
  assert.equal(tomb.body[MICROSOFT].costCenter, "CC-9", "the tombstone's values moved too");
  // The hidden value moved with them.
  assert.equal((await w.admin(admin, "PUT", `/tenants/${t}/schema/attributes/legacy`, { type: "string" })).status, 201);
  assert.equal((await w.scim(creds, "GET", `/Users/${ann.body.id}`)).body[MICROSOFT].legacy, "L-1");
  // Uniqueness holds under the new URN; writes go on.
  const dup2 = await w.scim(creds, "PATCH", `/Users/${bob.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: "replace", path: `${MICROSOFT}:employeeCode`, value: "EMP-1" }],
  });
  assert.equal(dup2.status, 409, dup2.text);
  const patched = await w.scim(creds, "PATCH", `/Users/${bob.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: "replace", path: `${MICROSOFT.toLowerCase()}:employeeCode`, value: "EMP-2" }],
  });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body[MICROSOFT], { costCenter: "CC-2", employeeCode: "EMP-2" });

  // Reset: back to the default URN, values and all.
  r = await w.admin(platform, "PUT", `/tenants/${t}/schema`, { urn: null });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.urn, defaultUrn);
  const annReset = await w.scim(creds, "GET", `/Users/${ann.body.id}`);
  assert.deepEqual(annReset.body[defaultUrn], { costCenter: "CC-1", employeeCode: "EMP-1", legacy: "L-1" });
  const stored = await w.db.prepare("SELECT extension_urn FROM tenants WHERE id = ?").bind(t).first();
  assert.equal(stored.extension_urn, null);
});

test("migration 0003 applies to a D1 database made by 0001 and 0002 with data in it", async () => {
  const before = migrationFiles().filter((f) => f < "0003");
  assert.deepEqual(before, ["0001_init.sql", "0002_counts.sql"]);
  const w = await start({ migrations: before });
  const columns = async () => (await w.db.prepare("PRAGMA table_info(tenants)").all()).results.map((c) => c.name);
  assert.ok(!(await columns()).includes("extension_urn"));
  // Data as the previous version wrote it.
  const t = "legacy";
  const urn = `urn:scimworker:scim:schemas:extension:${t}:2:User`;
  const now = "2026-01-01T00:00:00.000Z";
  const doc = { schemas: [USER, urn], userName: "old", active: true, [urn]: { costCenter: "CC-0" } };
  await w.db.batch([
    w.db
      .prepare("INSERT INTO tenants (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
      .bind(t, "Legacy", JSON.stringify({ deletePolicy: "remove" }), now, now),
    w.db
      .prepare("INSERT INTO tenant_attributes (tenant_id, name, definition, created_at) VALUES (?, ?, ?, ?)")
      .bind(t, "costCenter", JSON.stringify({ name: "costCenter", type: "string", multiValued: false, required: false, caseExact: false }), now),
    w.db
      .prepare(
        "INSERT INTO users (tenant_id, id, user_name, user_name_key, created_at, last_modified, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(t, "u-old", "old", "old", now, now, JSON.stringify(doc)),
  ]);

  // The upgrade: 0003 applied as the harness (and wrangler) apply a file.
  await w.migrate(["0003_extension_urn.sql"]);
  assert.ok((await columns()).includes("extension_urn"));
  const row = await w.db.prepare("SELECT extension_urn, settings, user_count FROM tenants WHERE id = ?").bind(t).first();
  assert.deepEqual(row, { extension_urn: null, settings: '{"deletePolicy":"remove"}', user_count: 1 });

  // The new version, with the migrations after 0003 applied too, serves the
  // old data under the default URN, then moves it.
  await w.migrate(migrationFiles().filter((f) => f >= "0004"));
  const tenant = await w.admin(platform, "GET", `/tenants/${t}`);
  assert.equal(tenant.status, 200, tenant.text);
  assert.equal(tenant.body.schemaUrn, urn);
  assert.equal(tenant.body.settings.deletePolicy, "remove");
  const creds = { baseUrl: `${w.origin}/scim/v2/${t}`, token: (await w.admin(platform, "POST", `/tenants/${t}/tokens`, {})).body.token };
  const old = await w.scim(creds, "GET", "/Users/u-old");
  assert.equal(old.status, 200, old.text);
  assert.deepEqual(old.body[urn], { costCenter: "CC-0" });
  const set = await w.admin(platform, "PUT", `/tenants/${t}/schema`, { urn: KISSFLOW });
  assert.equal(set.status, 200, set.text);
  const moved = await w.scim(creds, "GET", "/Users/u-old");
  assert.deepEqual(moved.body[KISSFLOW], { costCenter: "CC-0" });
  assert.deepEqual(moved.body.schemas, [USER, KISSFLOW]);
  assert.equal((await w.scim(creds, "GET", "/Users")).body.totalResults, 1, "the counts of 0002 still hold");
});
