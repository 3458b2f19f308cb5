// Group-to-role mapping on the built worker (issue 16), with real D1, KV and
// Queues in Miniflare: roles computed by D1 inside each write's batch, so
// parallel membership changes of one user in two mapped groups both count;
// a rule change recomputing every user in one batch; `user.roles_changed`
// in the feed and delivered to a webhook, verified by the `standardwebhooks`
// package (an implementation of the Standard Webhooks specification that is
// not ours); the `role` filter; tenant scope.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { startReceiver, until as pollUntil } from "./receiver.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const addMember = (id) => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: id }] }] });

let w, receiver, port, received;
const logs = [];
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);

before(async () => {
  const r = await startReceiver();
  ({ server: receiver, port, received } = r);
  w = await startWorker({ logs });
});
after(async () => {
  await w?.dispose();
  receiver?.close();
});

async function ok(res, status = 200) {
  assert.equal(res.status, status, res.text);
  return res.body;
}

async function setup(tenant) {
  const t = await w.tenant(tenant);
  for (const role of ["admin", "sales", "member"]) await ok(await admin("PUT", `/tenants/${tenant}/roles/${role}`, {}), 201);
  const user = async (userName) => (await ok(await w.scim(t, "POST", "/Users", { schemas: [USER], userName }), 201)).id;
  const group = async (displayName, externalId) =>
    (await ok(await w.scim(t, "POST", "/Groups", { schemas: [GROUP], displayName, externalId }), 201)).id;
  return { t, user, group };
}

test("parallel joins of two mapped groups both count, in rule order, and are announced", async () => {
  const { t, user, group } = await setup("roles");
  const hook = await ok(await admin("POST", "/tenants/roles/webhooks", { url: `http://127.0.0.1:${port}/roles`, types: ["user.roles_changed"] }), 201);
  const admins = await group("Admins", "okta-admins");
  const sales = await group("Sales", "okta-sales");
  await ok(await admin("PUT", "/tenants/roles/role-mappings", {
    mappings: [{ group: { externalId: "okta-admins" }, role: "admin" }, { group: { displayName: "SALES" }, role: "sales" }],
    defaultRole: "member",
  }));
  const bob = await user("bob@example.com");
  assert.deepEqual((await ok(await admin("GET", `/tenants/roles/users/${bob}`))).roles, ["member"]);

  // Okta pushes both groups at once: each batch computes Bob's roles from
  // what D1 holds when it runs, so neither overwrites the other.
  const [a, b] = await Promise.all([
    w.scim(t, "PATCH", `/Groups/${admins}`, addMember(bob)),
    w.scim(t, "PATCH", `/Groups/${sales}`, addMember(bob)),
  ]);
  assert.equal(a.status, 204, a.text);
  assert.equal(b.status, 204, b.text);
  const shown = await ok(await admin("GET", `/tenants/roles/users/${bob}`));
  assert.deepEqual(shown.roles, ["admin", "sales"]);
  const filtered = await ok(await admin("GET", "/tenants/roles/users?role=sales"));
  assert.deepEqual(filtered.users.map((u) => u.id), [bob]);

  // The feed says how the roles went, each event with the roles before it.
  const feed = (await ok(await admin("GET", "/tenants/roles/events?types=user.roles_changed"))).events;
  assert.deepEqual(feed.map((e) => e.previous.roles), [[], ["member"], feed[2].previous.roles]);
  assert.deepEqual(feed.at(-1).data.roles, ["admin", "sales"]);
  assert.equal(feed[0].resource.userName, "bob@example.com");
  // ...and the webhook got them, signed.
  const got = await pollUntil("three deliveries", () => received.filter((r) => r.url === "/roles").length >= 3 && received, 15000, logs);
  const verified = got.filter((r) => r.url === "/roles").map((r) => new Webhook(hook.secret).verify(r.body, r.headers));
  assert.deepEqual(verified.map((e) => e.type), ["user.roles_changed", "user.roles_changed", "user.roles_changed"]);
  assert.deepEqual(new Set(verified.map((e) => e.id)), new Set(feed.map((e) => e.id)));
});

test("a rule change recomputes every user in one batch, and a group's deletion takes its role", async () => {
  const { t, user, group } = await setup("bulkroles");
  const ids = [];
  for (let i = 0; i < 60; i++) ids.push(await user(`u${i}@example.com`));
  const admins = await group("Admins", "a");
  for (const id of ids.slice(0, 10)) await ok(await w.scim(t, "PATCH", `/Groups/${admins}`, addMember(id)), 204);
  const put = await ok(await admin("PUT", "/tenants/bulkroles/role-mappings", {
    mappings: [{ group: { id: admins }, role: "admin" }],
    defaultRole: "member",
  }));
  assert.equal(put.usersChanged, 60);
  assert.deepEqual(put.mappings[0].groups, [{ id: admins, displayName: "Admins" }]);
  const roles = await ok(await admin("GET", "/tenants/bulkroles/roles"));
  assert.deepEqual(roles.roles.map((r) => [r.name, r.users]), [["admin", 10], ["member", 50], ["sales", 0]]);
  const events = await ok(await admin("GET", "/tenants/bulkroles/events?types=user.roles_changed&limit=1000"));
  assert.equal(events.events.length, 60);
  // A role a rule names cannot go.
  assert.equal((await admin("DELETE", "/tenants/bulkroles/roles/admin")).status, 409);

  assert.equal((await w.scim(t, "DELETE", `/Groups/${admins}`)).status, 204);
  const after = await ok(await admin("GET", "/tenants/bulkroles/users?role=member&count=100"));
  assert.equal(after.totalResults, 60);
  const scratch = await w.db.prepare("SELECT count(*) AS n FROM role_candidates").first();
  assert.equal(scratch.n, 0);
});

test("roles are the tenant's own: another tenant's admin token gets 403, a setup link reads them", async () => {
  await setup("mine");
  await w.tenant("theirs");
  const theirs = mintJwt(ADMIN_JWT_SECRET, "theirs", 1);
  for (const [method, path] of [["GET", "/tenants/mine/roles"], ["PUT", "/tenants/mine/roles/x"], ["GET", "/tenants/mine/role-mappings"], ["PUT", "/tenants/mine/role-mappings"]]) {
    const r = await w.admin(theirs, method, path, method === "GET" ? undefined : { mappings: [] });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
  }
  const link = await ok(await admin("POST", "/tenants/mine/setup-links", {}), 201);
  const credential = link.url.split("#token=")[1];
  const seen = await ok(await w.admin(credential, "GET", "/tenants/mine/roles"));
  assert.deepEqual(seen.roles.map((r) => r.name), ["admin", "member", "sales"]);
});
