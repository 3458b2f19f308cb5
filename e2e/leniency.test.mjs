// Leniency toward what identity providers send (issue 13), on the built
// wasm worker with real D1 and KV: the two tenant settings set through the
// admin API (`unknownAttributes`, `unknownMembers`), the log line that names
// what was let through, URLs as IdPs write them, and Accept negotiation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const logs = [];
let w;
let jwt;
before(async () => {
  w = await startWorker({ logs });
  jwt = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
});
after(async () => w?.dispose());

/** A tenant created through the admin API, with a SCIM token. */
async function tenant(id, settings) {
  const t = await w.admin(jwt, "POST", "/tenants", { id, name: id, settings });
  assert.equal(t.status, 201, t.text);
  const k = await w.admin(jwt, "POST", `/tenants/${id}/tokens`, { label: "e2e" });
  assert.equal(k.status, 201, k.text);
  assert.equal(t.body.scimBaseUrl, `${w.origin}/scim/v2/${id}`);
  return { baseUrl: t.body.scimBaseUrl, token: k.body.token, id };
}

/** The "accepted with leniency" log line of request `id`, once it arrives. */
async function leniencyLine(id) {
  const find = () =>
    logs
      .filter((l) => l.includes(id) && l.includes("accepted with leniency"))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))))[0];
  for (let i = 0; i < 50 && !find(); i++) await new Promise((s) => setTimeout(s, 20));
  return find();
}

async function rows(sql, ...params) {
  return (await w.db.prepare(sql).bind(...params).all()).results;
}

test("unknownAttributes: ignored by default (not stored, logged by name), 400 under reject", async () => {
  const c = await tenant("lenient-attrs");
  const r = await w.scim(c, "POST", "/Users", {
    schemas: [USER, "urn:other:product:2.0:User"],
    userName: "ann",
    phoneNumbrs: [{ value: "secret-555" }],
    "urn:other:product:2.0:User": { plan: "gold" },
  });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body.schemas, [USER]);
  const [row] = await rows("SELECT doc FROM users WHERE tenant_id = ? AND id = ?", c.id, r.body.id);
  assert.ok(!row.doc.includes("phoneNumbrs") && !row.doc.includes("gold"), row.doc);
  const line = await leniencyLine(r.headers.get("x-request-id"));
  assert.ok(line, JSON.stringify(logs.slice(-5)));
  assert.equal(line.level, "info");
  assert.equal(line.tenant, c.id);
  assert.equal(line.status, 201);
  assert.deepEqual(
    line.leniencies.map((l) => `${l.kind} ${l.name}`).sort(),
    ["unknownAttribute phoneNumbrs", "unknownSchema urn:other:product:2.0:User"],
  );
  assert.ok(!logs.join("\n").includes("secret-555"), "no value is logged");

  const set = await w.admin(jwt, "PATCH", `/tenants/${c.id}`, { settings: { unknownAttributes: "reject" } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.settings.unknownAttributes, "reject");
  const refused = await w.scim(c, "PATCH", `/Users/${r.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: "replace", value: { title: "CTO", phoneNumbrs: [] , nickNmae: "A" } }],
  });
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.body.scimType, "invalidValue");
  const get = await w.scim(c, "GET", `/Users/${r.body.id}`);
  assert.equal(get.body.title, undefined, "nothing was applied");
  assert.equal(get.body.meta.version, r.body.meta.version);
});

test("unknownMembers: skipped and logged by default, 400 with nothing stored under reject", async () => {
  const c = await tenant("lenient-members");
  const u = await w.scim(c, "POST", "/Users", { schemas: [USER], userName: "ann" });
  const g = await w.scim(c, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: "Pushed",
    members: [u.body.id, { value: "ghost-1" }],
  });
  assert.equal(g.status, 201, g.text);
  assert.deepEqual(g.body.members.map((m) => m.value), [u.body.id]);
  const line = await leniencyLine(g.headers.get("x-request-id"));
  assert.deepEqual(line.leniencies, [{ kind: "unknownMembers", skipped: ["ghost-1"] }]);

  const rejecting = await tenant("strict-members", { unknownMembers: "reject" });
  const v = await w.scim(rejecting, "POST", "/Users", { schemas: [USER], userName: "ann" });
  const r = await w.scim(rejecting, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: "Pushed",
    members: [{ value: v.body.id }, { value: "ghost-1" }],
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.detail, /ghost-1/);
  assert.deepEqual(await rows("SELECT id FROM groups WHERE tenant_id = ?", rejecting.id), []);
  assert.deepEqual(await rows("SELECT member_id FROM group_members WHERE tenant_id = ?", rejecting.id), []);
});

test("URLs as IdPs write them: endpoint names in any case, a doubled slash, a trailing ? or &", async () => {
  const c = await tenant("lenient-urls");
  const u = await w.scim(c, "POST", "/users", { schemas: [USER], userName: "ann" });
  assert.equal(u.status, 201, u.text);
  for (const path of [
    "/USERS?filter=userName+eq+%22ann%22&",
    "//Users?filter=userName+eq+%22ann%22",
    `/users/${u.body.id}?`,
    "/serviceproviderconfig",
    "/resourcetypes/User",
  ]) {
    const r = await w.scim(c, "GET", path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }
  const put = await w.scim(c, "PUT", `/Users/${u.body.id}?`, { schemas: [USER], userName: "ann", active: false });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.active, false);
});

test("Accept: application/json is answered application/json (RFC 7644 §8.1); no Accept, scim+json", async () => {
  const c = await tenant("lenient-accept");
  const plain = await w.scim(c, "GET", "/Users", undefined, { accept: "application/json" });
  assert.equal(plain.status, 200);
  assert.match(plain.headers.get("content-type"), /^application\/json/);
  const missing = await w.scim(c, "GET", "/Users/nope", undefined, { accept: "application/json" });
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get("content-type"), /^application\/json/, "errors too");
  const scim = await w.scim(c, "GET", "/Users");
  assert.match(scim.headers.get("content-type"), /^application\/scim\+json/);
});
