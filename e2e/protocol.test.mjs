// End-to-end: RFC 7644 features on the built wasm worker (Miniflare, D1, KV).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

let w;
let t;
before(async () => {
  w = await startWorker();
  t = await w.tenant("protocol");
});
after(async () => w?.dispose());

async function user(userName, extra = {}) {
  const r = await w.scim(t, "POST", "/Users", { schemas: [USER], userName, ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

test("discovery: ServiceProviderConfig, Schemas, ResourceTypes; writes are 405 (RFC 7644 §4)", async () => {
  const spc = await w.scim(t, "GET", "/ServiceProviderConfig");
  assert.equal(spc.status, 200);
  assert.equal(spc.body.bulk.supported, true);
  const schemas = await w.scim(t, "GET", "/Schemas");
  assert.deepEqual(
    schemas.body.Resources.map((s) => s.id),
    [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", GROUP],
  );
  const one = await w.scim(t, "GET", `/Schemas/${encodeURIComponent(USER)}`);
  assert.equal(one.body.id, USER);
  const rt = await w.scim(t, "GET", "/ResourceTypes/Group");
  assert.equal(rt.body.endpoint, "/Groups");
  const post = await w.scim(t, "POST", "/Schemas", {});
  assert.equal(post.status, 405);
  assert.equal(post.body.status, "405");
});

test("groups: members through D1, excludedAttributes=members, user.groups", async () => {
  const a = await user("grace");
  const g = await w.scim(t, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: "Ops",
    members: [{ value: a.id }],
  });
  assert.equal(g.status, 201, JSON.stringify(g.body));
  assert.equal(g.body.members[0].value, a.id);
  assert.equal(g.body.members[0].type, "User");
  const found = await w.scim(t, "GET", `/Groups?filter=${encodeURIComponent('displayName eq "ops"')}&excludedAttributes=members`);
  assert.equal(found.body.totalResults, 1);
  assert.equal(found.body.Resources[0].members, undefined);
  const u = await w.scim(t, "GET", `/Users/${a.id}`);
  assert.equal(u.body.groups[0].value, g.body.id);
  const ghost = await w.scim(t, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: "Ghosts",
    members: [{ value: "no-such-user" }],
  });
  // Skipped by default (unknownMembers: skip): the group has no members.
  assert.equal(ghost.status, 201, JSON.stringify(ghost.body));
  assert.equal(ghost.body.members, undefined);
});

test("ETag, If-None-Match 304 and If-Match 412 (RFC 7644 §3.14)", async () => {
  const u = await user("etag-user");
  const get = await w.scim(t, "GET", `/Users/${u.id}`);
  const tag = get.headers.get("etag");
  assert.equal(tag, 'W/"1"');
  const cached = await w.scim(t, "GET", `/Users/${u.id}`, undefined, { "if-none-match": tag });
  assert.equal(cached.status, 304);
  const stale = await w.scim(t, "PUT", `/Users/${u.id}`, { schemas: [USER], userName: "etag-user", title: "x" }, { "if-match": 'W/"7"' });
  assert.equal(stale.status, 412);
  const ok = await w.scim(t, "PUT", `/Users/${u.id}`, { schemas: [USER], userName: "etag-user", title: "x" }, { "if-match": tag });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("etag"), 'W/"2"');
});

test("cursor pagination walks every user once (RFC 9865)", async () => {
  for (let i = 0; i < 5; i++) await user(`cursor-${i}`);
  const seen = [];
  let cursor = "";
  const filter = encodeURIComponent('userName sw "cursor-"');
  for (let pages = 0; pages < 10 && cursor !== undefined; pages++) {
    const r = await w.scim(t, "GET", `/Users?filter=${filter}&count=2&cursor=${encodeURIComponent(cursor)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    seen.push(...r.body.Resources.map((x) => x.userName));
    cursor = r.body.nextCursor;
  }
  assert.deepEqual(seen, ["cursor-0", "cursor-1", "cursor-2", "cursor-3", "cursor-4"]);
});

test("bulk with a forward bulkId reference (RFC 7644 §3.7)", async () => {
  const r = await w.scim(t, "POST", "/Bulk", {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
    Operations: [
      { method: "POST", path: "/Groups", bulkId: "g", data: { schemas: [GROUP], displayName: "Bulk G", members: [{ value: "bulkId:u" }] } },
      { method: "POST", path: "/Users", bulkId: "u", data: { schemas: [USER], userName: "bulk-user" } },
    ],
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.Operations.map((o) => o.status), ["201", "201"]);
});

test("sortBy and POST /.search (RFC 7644 §3.4.2.3, §3.4.3)", async () => {
  await user("sort-b");
  await user("Sort-A");
  const r = await w.scim(t, "POST", "/Users/.search", {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
    filter: 'userName sw "sort-"',
    sortBy: "userName",
    sortOrder: "descending",
    attributes: ["userName"],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.Resources.map((x) => x.userName), ["sort-b", "Sort-A"]);
});
