// End-to-end: the admin API, token lifecycle, tenant isolation and custom
// extensions on the built wasm worker (Miniflare, D1, KV) — issue 5.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const URN = "urn:scimworker:scim:schemas:extension:shop:2:User";

let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
before(async () => {
  w = await startWorker();
});
after(async () => w?.dispose());

const creds = (tenant, token) => ({ baseUrl: `${w.origin}/scim/v2/${tenant}`, token });

test("admin JWTs: platform scope, tenant scope (403 elsewhere), expiry and wrong key are 401", async () => {
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: "iso-a" })).status, 201);
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: "iso-b" })).status, 201);
  const a = mintJwt(ADMIN_JWT_SECRET, "iso-a", 1);
  assert.equal((await w.admin(a, "GET", "/tenants/iso-a")).status, 200);
  assert.equal((await w.admin(a, "GET", "/tenants/iso-b")).status, 403);
  assert.equal((await w.admin(a, "GET", "/tenants")).status, 403);
  const expired = mintJwt(ADMIN_JWT_SECRET, undefined, -1);
  assert.equal((await w.admin(expired, "GET", "/tenants")).status, 401);
  const forged = mintJwt("another-secret-0123456789abcdef0123456", undefined, 1);
  const r = await w.admin(forged, "GET", "/tenants");
  assert.equal(r.status, 401);
  assert.equal(r.headers.get("www-authenticate"), "Bearer");
});

test("SCIM token lifecycle: issue (shown once), use, rotate, revoke on the next request", async () => {
  await w.admin(platform, "POST", "/tenants", { id: "tok" });
  const issued = await w.admin(platform, "POST", "/tenants/tok/tokens", { label: "okta" });
  assert.equal(issued.status, 201);
  assert.match(issued.body.token, /^swt_[0-9a-f]{64}$/);
  const c = creds("tok", issued.body.token);
  assert.equal((await w.scim(c, "GET", "/Users")).status, 200);
  const keys = (await w.kv.list()).keys.map((k) => k.name);
  assert.ok(keys.every((k) => !k.includes(issued.body.token)), "only hashes in KV");
  const listed = await w.admin(platform, "GET", "/tenants/tok/tokens");
  assert.equal(listed.body.tokens.length, 1);
  assert.equal(listed.body.tokens[0].token, undefined);
  const rotated = await w.admin(platform, "POST", `/tenants/tok/tokens/${issued.body.id}/rotate`);
  assert.equal((await w.scim(c, "GET", "/Users")).status, 401);
  const c2 = creds("tok", rotated.body.token);
  assert.equal((await w.scim(c2, "GET", "/Users")).status, 200);
  assert.equal((await w.admin(platform, "DELETE", `/tenants/tok/tokens/${rotated.body.id}`)).status, 204);
  assert.equal((await w.scim(c2, "GET", "/Users")).status, 401);
  const dl = await w.admin(platform, "POST", "/tenants/tok/tokens?download=true", {});
  assert.deepEqual(Object.keys(dl.body).sort(), ["baseUrl", "token"]);
  assert.match(dl.headers.get("content-disposition"), /attachment/);
});

test("tenant isolation: another tenant's token is 401 on this base URL, its ids are 404", async () => {
  await w.admin(platform, "POST", "/tenants", { id: "iso-x" });
  await w.admin(platform, "POST", "/tenants", { id: "iso-y" });
  const x = creds("iso-x", (await w.admin(platform, "POST", "/tenants/iso-x/tokens", {})).body.token);
  const y = creds("iso-y", (await w.admin(platform, "POST", "/tenants/iso-y/tokens", {})).body.token);
  const u = await w.scim(y, "POST", "/Users", { schemas: [USER], userName: "y-user" });
  assert.equal(u.status, 201);
  for (const [m, p] of [["GET", "/Users"], ["GET", `/Users/${u.body.id}`], ["DELETE", `/Users/${u.body.id}`], ["GET", "/Groups"]]) {
    assert.equal((await w.scim({ ...y, token: x.token }, m, p)).status, 401, `${m} ${p}`);
  }
  assert.equal((await w.scim(x, "GET", `/Users/${u.body.id}`)).status, 404);
  assert.equal((await w.scim(x, "DELETE", `/Users/${u.body.id}`)).status, 404);
  assert.equal((await w.scim(y, "GET", `/Users/${u.body.id}`)).status, 200);
});

test("custom extension: every field type through POST, PATCH, filter, sort and /Schemas", async () => {
  await w.admin(platform, "POST", "/tenants", { id: "shop" });
  const c = creds("shop", (await w.admin(platform, "POST", "/tenants/shop/tokens", {})).body.token);
  const boss = await w.scim(c, "POST", "/Users", { schemas: [USER], userName: "boss" });
  const defs = {
    costCenter: { type: "string" }, seats: { type: "integer" }, ratio: { type: "number" },
    vip: { type: "boolean" }, startDate: { type: "date" }, lastReview: { type: "dateTime" },
    tier: { type: "dropdown", values: ["Gold", "Silver"] }, salary: { type: "currency" },
    badge: { type: "uniqueNumber" }, mentor: { type: "userReference" },
  };
  for (const [name, def] of Object.entries(defs)) {
    const r = await w.admin(platform, "PUT", `/tenants/shop/schema/attributes/${name}`, def);
    assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.body)}`);
  }
  const schema = await w.scim(c, "GET", `/Schemas/${URN}`);
  assert.equal(schema.body.attributes.length, Object.keys(defs).length);
  const values = {
    costCenter: "CC-7", seats: 4, ratio: 1.5, vip: true, startDate: "2026-05-01",
    lastReview: "2026-06-01T08:00:00Z", tier: "Gold", salary: { amount: 99.5, currency: "USD" },
    badge: 42, mentor: { value: boss.body.id },
  };
  const made = await w.scim(c, "POST", "/Users", { schemas: [USER, URN], userName: "ext", [URN]: values });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual(made.body[URN], values);
  const dup = await w.scim(c, "POST", "/Users", { schemas: [USER, URN], userName: "ext2", [URN]: { badge: 42 } });
  assert.equal(dup.status, 409, "unique number enforced in D1");
  const patched = await w.scim(c, "PATCH", `/Users/${made.body.id}`, {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    Operations: [{ op: "replace", path: `${URN}:tier`, value: "Silver" }],
  });
  assert.equal(patched.body[URN].tier, "Silver");
  const found = await w.scim(c, "GET", `/Users?filter=${encodeURIComponent(`${URN}:salary.currency eq "USD"`)}`);
  assert.equal(found.body.totalResults, 1);
  await w.scim(c, "POST", "/Users", { schemas: [USER, URN], userName: "few", [URN]: { seats: 1 } });
  const sorted = await w.scim(c, "GET", `/Users?sortBy=${encodeURIComponent(`${URN}:seats`)}&sortOrder=descending&filter=${encodeURIComponent(`${URN}:seats pr`)}`);
  assert.deepEqual(sorted.body.Resources.map((u) => u.userName), ["ext", "few"]);
});
