// End-to-end hardening (issue 7): what the worker wrote survives a restart.
// Miniflare keeps D1 and KV on disk (d1Persist/kvPersist under one temp
// directory, see startWorker's `persist`); the worker is disposed, started
// again on the same directory, and reads everything back with the same token.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const URN = "urn:scimworker:scim:schemas:extension:durable:2:User";

const dirs = [];
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), "scim-worker-durable-"));
  dirs.push(d);
  return d;
}
let running;
after(async () => {
  await running?.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("users, groups, memberships, tokens and the tenant's schema survive a restart on the same storage", async () => {
  const dir = tempDir();
  const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);

  // First run: provision through the admin API, write through SCIM.
  let w = (running = await startWorker({ persist: dir }));
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: "durable" })).status, 201);
  const issued = await w.admin(platform, "POST", "/tenants/durable/tokens", { label: "okta" });
  assert.equal(issued.status, 201);
  const revoked = await w.admin(platform, "POST", "/tenants/durable/tokens", { label: "old" });
  assert.equal((await w.admin(platform, "DELETE", `/tenants/durable/tokens/${revoked.body.id}`)).status, 204);
  assert.equal(
    (await w.admin(platform, "PUT", "/tenants/durable/schema/attributes/costCenter", { type: "string" })).status,
    201,
  );
  const creds = { baseUrl: `${w.origin}/scim/v2/durable`, token: issued.body.token };
  const user = await w.scim(creds, "POST", "/Users", {
    schemas: [USER, URN],
    userName: "Durable.User@example.com",
    name: { givenName: "Dura", familyName: "Ble" },
    emails: [{ value: "durable@example.com", type: "work", primary: true }],
    [URN]: { costCenter: "CC-1" },
  });
  assert.equal(user.status, 201, user.text);
  const group = await w.scim(creds, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: "Durable Group",
    members: [{ value: user.body.id }],
  });
  assert.equal(group.status, 201, group.text);
  const userBefore = await w.scim(creds, "GET", `/Users/${user.body.id}`);
  const groupBefore = await w.scim(creds, "GET", `/Groups/${group.body.id}`);
  assert.equal(groupBefore.body.members.length, 1);
  await w.dispose();
  running = undefined;

  // Second run on the same directory (migrations are not re-applied).
  w = running = await startWorker({ persist: dir });
  const userAfter = await w.scim(creds, "GET", `/Users/${user.body.id}`);
  assert.equal(userAfter.status, 200, "the same token still authenticates");
  assert.equal(userAfter.text, userBefore.text, "the user reads back byte for byte");
  assert.equal(userAfter.headers.get("etag"), userBefore.headers.get("etag"));
  const groupAfter = await w.scim(creds, "GET", `/Groups/${group.body.id}`);
  assert.equal(groupAfter.text, groupBefore.text, "the group and its members read back byte for byte");
  // The indexes came back too: the email and userName lookups IdPs use.
  const byEmail = await w.scim(creds, "GET", `/Users?filter=${encodeURIComponent('emails.value eq "DURABLE@example.com"')}`);
  assert.deepEqual(byEmail.body.Resources.map((r) => r.id), [user.body.id]);
  const byName = await w.scim(creds, "GET", `/Users?filter=${encodeURIComponent('userName eq "durable.user@EXAMPLE.com"')}`);
  assert.equal(byName.body.totalResults, 1);
  // The revoked token stays revoked; the token list is intact.
  assert.equal((await w.scim({ ...creds, token: revoked.body.token }, "GET", "/Users")).status, 401);
  const tokens = await w.admin(platform, "GET", "/tenants/durable/tokens");
  assert.deepEqual(tokens.body.tokens.map((t) => t.id), [issued.body.id]);
  // The tenant's extension schema is still served.
  const schema = await w.scim(creds, "GET", `/Schemas/${URN}`);
  assert.deepEqual(schema.body.attributes.map((a) => a.name), ["costCenter"]);
  // And writes continue from the stored version.
  const patched = await w.scim(creds, "PATCH", `/Users/${user.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: "replace", path: "active", value: false }],
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.headers.get("etag"), 'W/"2"');
  // userName uniqueness still holds against the persisted user.
  const dup = await w.scim(creds, "POST", "/Users", { schemas: [USER], userName: "durable.user@example.com" });
  assert.equal(dup.status, 409);
  await w.dispose();
  running = undefined;

  // Control: a worker on another, empty directory knows none of it, so the
  // reads above came from the persisted storage.
  w = running = await startWorker({ persist: tempDir() });
  assert.equal((await w.scim(creds, "GET", `/Users/${user.body.id}`)).status, 401);
  assert.deepEqual((await w.db.prepare("SELECT id FROM users").all()).results, []);
});
