// End-to-end: the per-tenant counts of migrations/0002_counts.sql on the built
// worker with real D1. An unfiltered list's totalResults (RFC 7644 §3.4.2)
// comes from the tenant row, kept by SQLite triggers; D1 reports the rows its
// triggers change in a statement's changes, so the application endpoints that
// ask "did this change a row" (deactivate, restore) are checked here too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
before(async () => {
  w = await startWorker();
});
after(async () => w?.dispose());

/** The totals an unfiltered list answers, checked against counting the rows. */
async function totals(c, tenant) {
  const users = await w.scim(c, "GET", "/Users?count=1");
  const groups = await w.scim(c, "GET", "/Groups?count=1");
  assert.equal(users.status, 200, users.text);
  assert.equal(groups.status, 200, groups.text);
  const live = await w.db
    .prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ? AND deleted_at IS NULL")
    .bind(tenant)
    .first("n");
  const grouped = await w.db.prepare("SELECT count(*) AS n FROM groups WHERE tenant_id = ?").bind(tenant).first("n");
  assert.deepEqual([users.body.totalResults, groups.body.totalResults], [live, grouped]);
  return [live, grouped];
}

test("unfiltered list totals follow every write on D1, and rejected writes leave them", async () => {
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: "cnt" })).status, 201);
  const issued = await w.admin(platform, "POST", "/tenants/cnt/tokens", { label: "idp" });
  const c = { baseUrl: `${w.origin}/scim/v2/cnt`, token: issued.body.token };
  assert.deepEqual(await totals(c, "cnt"), [0, 0]);

  const ids = [];
  for (const name of ["ann", "bob", "carl"]) {
    const r = await w.scim(c, "POST", "/Users", { schemas: [USER], userName: name });
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  assert.equal((await w.scim(c, "POST", "/Users", { schemas: [USER], userName: "BOB" })).status, 409);
  assert.deepEqual(await totals(c, "cnt"), [3, 0]);

  // deactivate keeps the user counted; DELETE (retain) drops it; restore brings it back.
  const deact = await w.admin(platform, "POST", `/tenants/cnt/users/${ids[0]}/deactivate`);
  assert.equal(deact.status, 200, deact.text);
  assert.equal(deact.body.active, false);
  assert.deepEqual(await totals(c, "cnt"), [3, 0]);
  assert.equal((await w.scim(c, "DELETE", `/Users/${ids[0]}`)).status, 204);
  assert.deepEqual(await totals(c, "cnt"), [2, 0]);
  const restored = await w.admin(platform, "POST", `/tenants/cnt/users/${ids[0]}/restore`);
  assert.equal(restored.status, 200, restored.text);
  assert.deepEqual(await totals(c, "cnt"), [3, 0]);
  const again = await w.admin(platform, "POST", `/tenants/cnt/users/${ids[0]}/restore`);
  assert.equal(again.status, 404, again.text);

  // A DELETE at a stale version is 412 and counts nothing (RFC 7644 §3.14).
  const stale = await w.scim(c, "DELETE", `/Users/${ids[1]}`, undefined, { "If-Match": 'W/"999"' });
  assert.equal(stale.status, 412, stale.text);
  assert.deepEqual(await totals(c, "cnt"), [3, 0]);

  const g = await w.scim(c, "POST", "/Groups", { schemas: [GROUP], displayName: "Sales", members: [{ value: ids[1] }] });
  assert.equal(g.status, 201, g.text);
  assert.equal((await w.scim(c, "POST", "/Groups", { schemas: [GROUP], displayName: "sales" })).status, 409);
  assert.deepEqual(await totals(c, "cnt"), [3, 1]);
  assert.equal((await w.scim(c, "DELETE", `/Groups/${g.body.id}`)).status, 204);
  assert.deepEqual(await totals(c, "cnt"), [3, 0]);

  // Paging a full page tells the same total, and the pages cover every user once.
  const seen = [];
  for (let start = 1; start <= 3; start += 2) {
    const page = await w.scim(c, "GET", `/Users?startIndex=${start}&count=2`);
    assert.equal(page.body.totalResults, 3);
    seen.push(...page.body.Resources.map((u) => u.id));
  }
  assert.deepEqual(seen.sort(), [...ids].sort());

  // Deleting the tenant and creating it again starts from zero.
  assert.equal((await w.admin(platform, "DELETE", "/tenants/cnt")).status, 204);
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: "cnt" })).status, 201);
  const fresh = await w.admin(platform, "POST", "/tenants/cnt/tokens", { label: "idp" });
  assert.deepEqual(await totals({ baseUrl: c.baseUrl, token: fresh.body.token }, "cnt"), [0, 0]);
});
