// End-to-end: the isolate's recent copies of users and groups
// (src/server/resources/recent.rs) on the built worker with real D1. Okta and
// Entra look a user up and then PATCH it; the PATCH starts from the copy the
// lookup left, guarded by the copy's version. A group's member PATCHes after
// its POST add members without reading whether they exist, guarded in the
// batch. Another isolate's write is played here by a
// statement straight to D1 (bumping the version, as every statement that
// rewrites a user does): the PATCH must not lose it, must not answer from
// the copy, and must record one event per change.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

let w;
let c;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
before(async () => {
  w = await startWorker();
  assert.equal((await w.admin(platform, "POST", "/tenants", { id: "rec" })).status, 201);
  const issued = await w.admin(platform, "POST", "/tenants/rec/tokens", { label: "idp" });
  c = { baseUrl: `${w.origin}/scim/v2/rec`, token: issued.body.token };
});
after(async () => w?.dispose());

/** A user created and then looked up by userName, as an IdP does. */
async function foundUser(name) {
  const r = await w.scim(c, "POST", "/Users", { schemas: [USER], userName: name, displayName: name });
  assert.equal(r.status, 201, r.text);
  const q = encodeURIComponent(`userName eq "${name}"`);
  const found = await w.scim(c, "GET", `/Users?filter=${q}`);
  assert.equal(found.body.totalResults, 1, found.text);
  return r.body.id;
}

const elsewhere = (set, id) =>
  w.db.prepare(`UPDATE users SET ${set}, version = version + 1 WHERE tenant_id = 'rec' AND id = ?`).bind(id).run();
const events = (id) =>
  w.db.prepare("SELECT type FROM events WHERE tenant_id = 'rec' AND resource_id = ? ORDER BY sequence").bind(id).all();
const active = (value) => ({ schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value }] });

test("a PATCH after a lookup starts from the lookup's copy, not from a read", async () => {
  // A write that leaves the version as it was breaks the rule every
  // statement of ours keeps; it shows what the PATCH started from (so that
  // the tests below exercise the copy, not a fresh read).
  const id = await foundUser("eve");
  await w.db.prepare("UPDATE users SET doc = json_set(doc, '$.title', 'unseen') WHERE tenant_id = 'rec' AND id = ?")
    .bind(id).run();
  const r = await w.scim(c, "PATCH", `/Users/${id}`, active(false));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.title, undefined, "the copy has no title");
});

test("a PATCH after a lookup keeps another isolate's write, and records one event", async () => {
  const id = await foundUser("ann");
  await elsewhere("doc = json_set(doc, '$.displayName', 'Ann Elsewhere')", id);
  const before = (await events(id)).results.length;
  const r = await w.scim(c, "PATCH", `/Users/${id}`, active("False"));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.displayName, r.body.active], ["Ann Elsewhere", false]);
  const stored = await w.scim(c, "GET", `/Users/${id}`);
  assert.deepEqual([stored.body.displayName, stored.body.active], ["Ann Elsewhere", false]);
  assert.equal(r.body.meta.version, stored.body.meta.version);
  const after = (await events(id)).results.map((e) => e.type);
  assert.deepEqual(after.slice(before), ["user.deactivated"]);
});

test("a change the copy calls a no-op is made on the stored user", async () => {
  const id = await foundUser("bob");
  await elsewhere("active = 0, doc = json_set(doc, '$.active', json('false'))", id);
  const r = await w.scim(c, "PATCH", `/Users/${id}`, active(true));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.active, true);
  assert.equal((await w.scim(c, "GET", `/Users/${id}`)).body.active, true);
});

test("the answer's groups are the stored ones, not the copy's", async () => {
  const id = await foundUser("cat");
  const g = await w.scim(c, "POST", "/Groups", { schemas: [GROUP], displayName: "Ops", members: [{ value: id }] });
  assert.equal(g.status, 201, g.text);
  const r = await w.scim(c, "PATCH", `/Users/${id}`, active(false));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.groups?.map((x) => x.value), [g.body.id]);
});

test("a user deleted elsewhere after the lookup is 404 to the PATCH", async () => {
  const id = await foundUser("dan");
  await w.db.prepare("DELETE FROM users WHERE tenant_id = 'rec' AND id = ?").bind(id).run();
  const r = await w.scim(c, "PATCH", `/Users/${id}`, active(false));
  assert.equal(r.status, 404, r.text);
});

test("a member PATCH from a group's copy adds the members that exist, and names the group as stored", async () => {
  const ann = await foundUser("gus");
  const g = await w.scim(c, "POST", "/Groups", { schemas: [GROUP], displayName: "Before" });
  assert.equal(g.status, 201, g.text);
  const gid = g.body.id;
  await w.db.prepare("UPDATE groups SET doc = json_set(doc, '$.displayName', 'After'), version = version + 1 WHERE tenant_id = 'rec' AND id = ?")
    .bind(gid).run();
  const add = (ids) => w.scim(c, "PATCH", `/Groups/${gid}`, {
    schemas: [PATCH_OP], Operations: ids.map((id) => ({ op: "Add", path: "members", value: [{ value: id }] })),
  });
  // Entra's form; one member does not exist: skipped (unknownMembers: skip).
  const r = await add([ann, "no-such-user"]);
  assert.equal(r.status, 204, r.text);
  const members = await w.db.prepare("SELECT member_id FROM group_members WHERE tenant_id = 'rec' AND group_id = ?")
    .bind(gid).all();
  assert.deepEqual(members.results.map((m) => m.member_id), [ann]);
  const added = await w.db.prepare("SELECT body FROM events WHERE tenant_id = 'rec' AND type = 'group.member_added' AND resource_id = ?")
    .bind(gid).all();
  assert.equal(added.results.length, 1);
  assert.match(added.results[0].body, /"After"/);
  assert.doesNotMatch(added.results[0].body, /"Before"/);
});
