// Setup links on the built worker with real D1 (issue 16): a link is its
// one tenant's scope (whoami, its tenant's API, 403 on another tenant's),
// cannot make links, and stops when revoked or expired.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
before(async () => {
  w = await startWorker();
  await w.tenant("linked");
  await w.tenant("elsewhere");
});
after(async () => w?.dispose());

async function link(tenant, body = {}) {
  const r = await w.admin(platform, "POST", `/tenants/${tenant}/setup-links`, body);
  assert.equal(r.status, 201, r.text);
  assert.match(r.body.url, /\/setup\/#token=ssl_[0-9a-f]+$/);
  return { id: r.body.id, credential: r.body.url.split("#token=")[1], expires: r.body.expires };
}

test("a link is one tenant's scope and cannot make links", async () => {
  const { credential } = await link("linked", { expiresInHours: 2 });
  const who = await w.admin(credential, "GET", "/whoami");
  assert.deepEqual([who.body.scope, who.body.tenant, who.body.setupLink], ["tenant", "linked", true]);
  assert.equal((await w.admin(credential, "GET", "/tenants/linked/tokens")).status, 200);
  assert.equal((await w.admin(credential, "GET", "/tenants/elsewhere/tokens")).status, 403);
  assert.equal((await w.admin(credential, "GET", "/tenants")).status, 403);
  assert.equal((await w.admin(credential, "POST", "/tenants/linked/setup-links", {})).status, 403);
  // D1 keeps only its hash.
  const rows = await w.db.prepare("SELECT * FROM setup_links WHERE tenant_id = 'linked'").all();
  assert.ok(!JSON.stringify(rows.results).includes(credential));
  assert.equal((await w.admin(platform, "POST", "/tenants/linked/setup-links", { expiresInHours: 721 })).status, 400);
});

test("a link stops when revoked and when it expires", async () => {
  const revoked = await link("linked");
  assert.equal((await w.admin(platform, "DELETE", `/tenants/linked/setup-links/${revoked.id}`)).status, 204);
  assert.equal((await w.admin(revoked.credential, "GET", "/whoami")).status, 401);
  const expiring = await link("linked");
  assert.equal((await w.admin(expiring.credential, "GET", "/whoami")).status, 200);
  await w.db.prepare("UPDATE setup_links SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), expiring.id).run();
  assert.equal((await w.admin(expiring.credential, "GET", "/whoami")).status, 401);
  const listed = await w.admin(platform, "GET", "/tenants/linked/setup-links");
  const revokedRow = listed.body.setupLinks.find((l) => l.id === revoked.id);
  assert.ok(revokedRow.revoked, JSON.stringify(revokedRow));
});
