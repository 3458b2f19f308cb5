// Tenants across D1 databases on the built worker (issue 18), with three
// real D1 bindings: DB (the registry and first shard), DB_2 and DB_3 (labelled
// "eu" by DB_3_REGION). Placement by fewest tenants and by region, every
// statement on the tenant's own database, events delivered from it, and a
// tenant moved to the EU shard by a streamed export and a resumable import.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
before(async () => {
  w = await startWorker({ shards: { DB_2: null, DB_3: "eu" } });
});
after(async () => w?.dispose());

async function create(body) {
  const r = await w.admin(platform, "POST", "/tenants", body);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function token(tenant) {
  const r = await w.admin(platform, "POST", `/tenants/${tenant}/tokens`, { label: "idp" });
  assert.equal(r.status, 201, r.text);
  return { baseUrl: `${w.origin}/scim/v2/${tenant}`, token: r.body.token };
}

async function count(binding, sql, ...args) {
  return (await w.dbs[binding].prepare(sql).bind(...args).first()).n;
}

test("tenants go to the shard with the fewest, or the one their region names", async () => {
  const placed = [];
  for (const id of ["p1", "p2", "p3"]) placed.push((await create({ id })).shard);
  assert.deepEqual(placed, ["DB", "DB_2", "DB"]);
  const eu = await create({ id: "p-eu", region: "eu" });
  assert.deepEqual([eu.shard, eu.region], ["DB_3", "eu"]);
  const refused = await w.admin(platform, "POST", "/tenants", { id: "p-apac", region: "apac" });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.body.detail, /DB_3 \(eu\)/);
  // The registry on DB has every tenant; each shard only its own rows.
  assert.equal(await count("DB", "SELECT count(*) AS n FROM tenants WHERE id LIKE 'p%'"), 4);
  assert.equal(await count("DB_3", "SELECT count(*) AS n FROM tenants"), 1);
  const list = await w.admin(platform, "GET", "/tenants");
  assert.deepEqual(
    list.body.tenants.filter((t) => t.id.startsWith("p")).map((t) => [t.id, t.shard]),
    [["p-eu", "DB_3"], ["p1", "DB"], ["p2", "DB_2"], ["p3", "DB"]],
  );
});

test("a tenant's SCIM writes, reads and events stay on its shard", async () => {
  await create({ id: "iso-a", shard: "DB" });
  await create({ id: "iso-b", shard: "DB_2" });
  const a = await token("iso-a");
  const b = await token("iso-b");
  for (const c of [a, b]) {
    const r = await w.scim(c, "POST", "/Users", { schemas: [USER], userName: "same@example.com" });
    assert.equal(r.status, 201, r.text);
  }
  assert.equal(await count("DB", "SELECT count(*) AS n FROM users WHERE tenant_id = 'iso-b'"), 0);
  assert.equal(await count("DB_2", "SELECT count(*) AS n FROM users WHERE tenant_id = 'iso-b'"), 1);
  assert.equal(await count("DB_2", "SELECT count(*) AS n FROM events WHERE tenant_id = 'iso-b'"), 1);
  assert.equal(await count("DB_2", "SELECT count(*) AS n FROM users WHERE tenant_id = 'iso-a'"), 0);
  const found = await w.scim(b, "GET", '/Users?filter=userName eq "same@example.com"');
  assert.equal(found.body.totalResults, 1);
  const ev = await w.admin(platform, "GET", "/tenants/iso-b/events");
  assert.deepEqual(ev.body.events.map((e) => e.type), ["user.created"]);
  // Deleting it removes its rows on DB_2 and its registry row on DB.
  assert.equal((await w.admin(platform, "DELETE", "/tenants/iso-b")).status, 204);
  assert.equal(await count("DB_2", "SELECT count(*) AS n FROM users WHERE tenant_id = 'iso-b'"), 0);
  assert.equal(await count("DB", "SELECT count(*) AS n FROM tenants WHERE id = 'iso-b'"), 0);
});

test("a tenant moves to the EU shard by a streamed export and a resumable import", async () => {
  await create({ id: "mover", shard: "DB" });
  const c = await token("mover");
  // More users than one read of the export takes (500), through Bulk.
  const ops = Array.from({ length: 620 }, (_, i) => ({
    method: "POST", path: "/Users", bulkId: `u${i}`,
    data: { schemas: [USER], userName: `m${i}@example.com`, emails: [{ value: `m${i}@example.com`, primary: true }] },
  }));
  const bulk = await w.scim(c, "POST", "/Bulk", { schemas: [BULK], Operations: ops });
  assert.equal(bulk.status, 200, bulk.text);
  const ids = bulk.body.Operations.map((o) => o.location.split("/").pop());
  const g = await w.scim(c, "POST", "/Groups", {
    schemas: [GROUP], displayName: "Movers", members: ids.slice(0, 30).map((value) => ({ value })),
  });
  assert.equal(g.status, 201, g.text);
  assert.equal((await w.scim(c, "DELETE", `/Users/${ids[7]}`)).status, 204);

  const exp = await w.mf.dispatchFetch(`${w.origin}/admin/v1/tenants/mover/export`, {
    headers: { authorization: `Bearer ${platform}` },
  });
  assert.equal(exp.status, 200);
  assert.match(exp.headers.get("content-type"), /^application\/x-ndjson/);
  const lines = (await exp.text()).split("\n").filter(Boolean);
  const end = JSON.parse(lines.at(-1));
  assert.equal(end.type, "end");
  assert.deepEqual([end.counts.user, end.counts.group, end.counts.member], [620, 1, 29], "the deleted user left the group");

  const eu = await create({ id: "mover-eu", region: "eu" });
  assert.equal(eu.shard, "DB_3");
  const post = (line, part) =>
    w.mf.dispatchFetch(`${w.origin}/admin/v1/tenants/mover-eu/import?line=${line}`, {
      method: "POST",
      headers: { authorization: `Bearer ${platform}`, "content-type": "application/x-ndjson" },
      body: part.join("\n") + "\n",
    });
  let r = await post(0, lines.slice(0, 300));
  assert.equal(r.status, 200, await r.clone().text());
  // A part sent twice is refused with where to resume, nothing doubled.
  r = await post(0, lines.slice(0, 300));
  assert.equal(r.status, 409);
  r = await post(300, lines.slice(300));
  const done = await r.json();
  assert.equal(r.status, 200, JSON.stringify(done));
  assert.equal(done.complete, true);

  assert.equal(await count("DB_3", "SELECT count(*) AS n FROM users WHERE tenant_id = 'mover-eu'"), 620);
  assert.equal(await count("DB", "SELECT count(*) AS n FROM users WHERE tenant_id = 'mover-eu'"), 0);
  const moved = await token("mover-eu");
  const neutral = (body, t) => JSON.stringify(body).replaceAll(`/scim/v2/${t}/`, "/");
  for (const id of [ids[0], ids[1], ids[619]]) {
    const [x, y] = [await w.scim(c, "GET", `/Users/${id}`), await w.scim(moved, "GET", `/Users/${id}`)];
    assert.equal(y.status, 200, y.text);
    assert.equal(neutral(y.body, "mover-eu"), neutral(x.body, "mover"));
  }
  const [gx, gy] = [await w.scim(c, "GET", `/Groups/${g.body.id}`), await w.scim(moved, "GET", `/Groups/${g.body.id}`)];
  assert.equal(neutral(gy.body, "mover-eu"), neutral(gx.body, "mover"));
  assert.equal((await w.scim(moved, "GET", `/Users/${ids[7]}`)).status, 404, "the tombstone stays one");
  const list = await w.scim(moved, "GET", "/Users?count=1");
  assert.equal(list.body.totalResults, 619);
  // The move is one event on the new tenant, none per user.
  const ev = await w.admin(platform, "GET", "/tenants/mover-eu/events");
  assert.deepEqual(ev.body.events.map((e) => e.type), ["tenant.imported"]);
});
