// The SCIM request log on the built worker (issue 14; README "SCIM request
// log"): what an operator sees at GET /admin/v1/tenants/{t}/requests after an
// identity provider's requests, with real D1 in Miniflare. An entry is written
// after the response (ctx.waitUntil), so every read of the log polls.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { until as pollUntil } from "./receiver.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
// What Okta's SCIM client sends as its User-Agent.
const OKTA_AGENT = "Okta SCIM Client 1.0.0";
// src/server/request_log.rs REDACTED: what a secret's value becomes.
const REDACTED = "[redacted]";

let w;
const logs = [];

before(async () => {
  w = await startWorker({ logs });
});

after(async () => {
  await w?.mf.dispose();
});

const until = (what, check, ms = 15000) => pollUntil(what, check, ms, logs);

const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);

/** GET /tenants/{tenant}/requests?{query}, which must answer 200. */
async function page(tenant, query = "") {
  const r = await admin("GET", `/tenants/${tenant}/requests?${query}`);
  assert.equal(r.status, 200, `${query}: ${r.text}`);
  return r;
}

/** Every entry of the tenant's log, newest first. */
async function entries(tenant) {
  return (await page(tenant, "limit=1000")).body.requests;
}

/** Waits for the entry of the request whose response carried `res`'s x-request-id. */
function entryOf(tenant, res) {
  const id = res.headers.get("x-request-id");
  assert.ok(id, "the response names its request id");
  return until(`the log entry of ${id}`, async () => (await entries(tenant)).find((e) => e.requestId === id));
}

/** The id of a SCIM token, from its KV record (as GET /tokens lists it). */
async function tokenId(creds) {
  const hash = createHash("sha256").update(creds.token).digest("hex");
  return JSON.parse(await w.kv.get(`scim-token:${hash}`)).id;
}

const okta = { "user-agent": OKTA_AGENT };

// README "SCIM request log": method, path, query, status, token id and label,
// user agent, and the body with every secret replaced by "[redacted]"; never
// the Authorization header or a token.
test("a POST /Users is logged with its method, path, status, token, user agent and the body with the password redacted", async () => {
  const t = await w.tenant("rlog");
  const body = {
    schemas: [USER],
    userName: "ann@example.com",
    password: "hunter2-Secret!",
    name: { givenName: "Ann" },
    "urn:example:okta": { apiSecret: "s3cr3t-value" },
  };
  const res = await w.scim(t, "POST", "/Users", body, okta);
  assert.equal(res.status, 201, res.text);
  const e = await entryOf("rlog", res);
  assert.equal(e.method, "POST");
  assert.equal(e.path, "/scim/v2/rlog/Users");
  assert.equal(e.query, null);
  assert.equal(e.status, 201);
  assert.equal(e.scimType, null);
  assert.equal(e.detail, null);
  assert.deepEqual(e.token, { id: await tokenId(t), label: "e2e" });
  assert.equal(e.userAgent, OKTA_AGENT);
  // The extension object no schema defines was let through, and says so.
  assert.deepEqual(e.leniencies, [{ kind: "unknownSchema", name: "urn:example:okta" }]);
  assert.equal(typeof e.durationMs, "number");
  assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(e.at) - Date.now()) < 60_000, e.at);
  const kept = JSON.parse(e.body);
  assert.equal(kept.userName, "ann@example.com");
  assert.equal(kept.password, REDACTED);
  assert.equal(kept["urn:example:okta"].apiSecret, REDACTED);
  assert.deepEqual(kept.name, { givenName: "Ann" });
  // Compact JSON, members in the order sent.
  assert.ok(e.body.startsWith(`{"schemas":["${USER}"],"userName":"ann@example.com","password":"${REDACTED}"`), e.body);
  const all = (await page("rlog", "limit=1000")).text;
  for (const secret of ["hunter2-Secret!", "s3cr3t-value", t.token]) assert.ok(!all.includes(secret), `${secret} in the log`);
});

// README: "for an answer of 400 or more, its scimType and detail as the
// client read them" (RFC 7644 §3.3: a duplicate userName is 409 uniqueness).
test("a failed write records the status, scimType and detail the client got", async () => {
  const t = await w.tenant("rlog");
  const res = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "ann@example.com" }, okta);
  assert.equal(res.status, 409, res.text);
  assert.equal(res.body.scimType, "uniqueness");
  const e = await entryOf("rlog", res);
  assert.equal(e.status, 409);
  assert.equal(e.scimType, "uniqueness");
  assert.equal(e.detail, res.body.detail);
  assert.equal(e.method, "POST");
  assert.equal(e.userAgent, OKTA_AGENT);
  assert.equal(JSON.parse(e.body).userName, "ann@example.com");
});

// README: by default (requestLog "writes-and-errors") every request but a GET,
// and every request answered 400 or more; "all" keeps successful GETs too.
test("successful GETs are not logged by default and are once the tenant's requestLog setting is all", async () => {
  const t = await w.tenant("reads");
  const created = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "bob@example.com" });
  assert.equal(created.status, 201);
  const id = created.body.id;
  const tenant = await admin("GET", "/tenants/reads");
  assert.equal(tenant.body.settings.requestLog, "writes-and-errors");

  assert.equal((await w.scim(t, "GET", `/Users/${id}`)).status, 200);
  const query = "/Users?filter=userName%20eq%20%22bob%40example.com%22";
  assert.equal((await w.scim(t, "GET", query)).status, 200);
  // A failed GET is logged: once it is there, the successful GETs sent before
  // it have had their (empty) INSERT too.
  const miss = await w.scim(t, "GET", "/Users/nobody");
  assert.equal(miss.status, 404);
  await entryOf("reads", miss);
  let list = await entries("reads");
  assert.deepEqual(list.map((e) => [e.method, e.status]), [["GET", 404], ["POST", 201]]);

  const set = await admin("PATCH", "/tenants/reads", { settings: { requestLog: "all" } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.settings.requestLog, "all");
  const read = await w.scim(t, "GET", query, undefined, okta);
  assert.equal(read.status, 200);
  const e = await entryOf("reads", read);
  assert.equal(e.method, "GET");
  assert.equal(e.status, 200);
  assert.equal(e.path, "/scim/v2/reads/Users");
  assert.equal(e.query, "filter=userName%20eq%20%22bob%40example.com%22");
  assert.equal(e.body, null);
  assert.equal(e.userAgent, OKTA_AGENT);
  list = await entries("reads");
  assert.deepEqual(list.map((e) => [e.method, e.status]), [["GET", 200], ["GET", 404], ["POST", 201]]);
  // The admin API's own requests are never in it.
  assert.ok(list.every((e) => e.path.startsWith("/scim/v2/reads")));
});

// README: parameters `status` (a code or a class), `method` (any case),
// `limit` (1 to 1000) and `after` (the `next` of the page before); anything
// else is 400.
test("status and method filters, and limit/next paging, over the worker's log", async () => {
  const t = await w.tenant("pages");
  const created = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "cy@example.com" });
  assert.equal(created.status, 201);
  const sent = [
    ["POST", "/Users", { schemas: [USER], userName: "cy@example.com" }, 409],
    ["GET", "/Users/nobody", undefined, 404],
    ["PATCH", `/Users/${created.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "Boss" }] }, 200],
    ["DELETE", "/Users/nobody", undefined, 404],
    ["POST", "/Users", { schemas: [USER] }, 400],
  ];
  let last;
  for (const [method, path, body, status] of sent) {
    last = await w.scim(t, method, path, body);
    assert.equal(last.status, status, `${method} ${path}: ${last.text}`);
  }
  await entryOf("pages", last);
  const all = await until("all six entries", async () => {
    const l = await entries("pages");
    return l.length === 6 ? l : null;
  });
  const shape = (l) => l.map((e) => `${e.method} ${e.status}`);
  assert.deepEqual(shape(all), ["POST 400", "DELETE 404", "PATCH 200", "GET 404", "POST 409", "POST 201"]);

  assert.deepEqual(shape((await page("pages", "status=4xx")).body.requests), ["POST 400", "DELETE 404", "GET 404", "POST 409"]);
  assert.deepEqual(shape((await page("pages", "status=409")).body.requests), ["POST 409"]);
  assert.deepEqual(shape((await page("pages", "status=2XX")).body.requests), ["PATCH 200", "POST 201"]);
  assert.deepEqual(shape((await page("pages", "method=post")).body.requests), ["POST 400", "POST 409", "POST 201"]);
  assert.deepEqual(shape((await page("pages", "method=POST&status=4xx")).body.requests), ["POST 400", "POST 409"]);
  assert.deepEqual(shape((await page("pages", "method=PUT")).body.requests), []);

  // Two at a time, newest first, until `next` is null.
  const paged = [];
  let cursor = "";
  let pages = 0;
  for (;;) {
    const p = await page("pages", `limit=2&after=${cursor}`);
    pages++;
    assert.ok(p.body.requests.length <= 2);
    paged.push(...p.body.requests);
    if (p.body.next === null) break;
    assert.equal(typeof p.body.next, "string");
    cursor = p.body.next;
  }
  assert.equal(pages, 3);
  assert.deepEqual(paged, all);
  // Filters and the cursor together.
  const first = await page("pages", "status=4xx&limit=3");
  assert.equal(first.body.requests.length, 3);
  const rest = await page("pages", `status=4xx&limit=3&after=${first.body.next}`);
  assert.deepEqual(shape(rest.body.requests), ["POST 409"]);
  assert.equal(rest.body.next, null);

  for (const bad of ["limit=0", "limit=1001", "status=4x", "status=600", "method=FETCH", "after=x", "after=0"]) {
    const r = await admin("GET", `/tenants/pages/requests?${bad}`);
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
  }
});

// README: entries older than requestLogRetentionDays (default 7) are deleted
// by the daily cron (17 3 * * *), per tenant.
test("the daily cron deletes entries older than each tenant's requestLogRetentionDays and keeps the rest", async () => {
  const seven = await w.tenant("ret-default");
  const three = await w.tenant("ret-short");
  const set = await admin("PATCH", "/tenants/ret-short", { settings: { requestLogRetentionDays: 3 } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.settings.requestLogRetentionDays, 3);
  const day = 24 * 3600 * 1000;
  const ages = { old: 10, mid: 5, now: 0 }; // days
  for (const [creds, tenant] of [[seven, "ret-default"], [three, "ret-short"]]) {
    for (const name of Object.keys(ages)) {
      const r = await w.scim(creds, "POST", "/Users", { schemas: [USER], userName: `${name}@example.com` });
      assert.equal(r.status, 201, r.text);
      await entryOf(tenant, r);
    }
    // Backdate each entry by the age its body names.
    for (const e of await entries(tenant)) {
      const name = JSON.parse(e.body).userName.split("@")[0];
      const at = new Date(Date.now() - ages[name] * day).toISOString();
      await w.db.prepare("UPDATE request_log SET at = ? WHERE tenant_id = ? AND request_id = ?").bind(at, tenant, e.requestId).run();
    }
  }
  const names = async (tenant) => (await entries(tenant)).map((e) => JSON.parse(e.body).userName);
  const untouched = (await entries("rlog")).length;

  const cron = await w.mf.dispatchFetch("http://x/cdn-cgi/handler/scheduled?cron=17+3+*+*+*");
  assert.equal(cron.status, 200, await cron.text());
  assert.deepEqual(await names("ret-default"), ["now@example.com", "mid@example.com"]);
  assert.deepEqual(await names("ret-short"), ["now@example.com"]);
  assert.equal((await entries("rlog")).length, untouched);
  // Running it again deletes nothing more; the minute cron is not retention.
  await (await w.mf.dispatchFetch("http://x/cdn-cgi/handler/scheduled?cron=17+3+*+*+*")).text();
  await (await w.mf.dispatchFetch("http://x/cdn-cgi/handler/scheduled?cron=*+*+*+*+*")).text();
  assert.deepEqual(await names("ret-default"), ["now@example.com", "mid@example.com"]);
  assert.deepEqual(await names("ret-short"), ["now@example.com"]);
});

// README / src/server/mod.rs After::run: the entry is written after the
// response, "never delaying or failing the request", and "a log that cannot
// be written is logged as a server line".
test("a request log that cannot be written changes nothing the IdP sees", async () => {
  const t = await w.tenant("nolog");
  await w.db.exec("ALTER TABLE request_log RENAME TO request_log_away");
  let res;
  try {
    res = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "dee@example.com", password: "pw-dee-1" }, okta);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.userName, "dee@example.com");
    assert.equal(res.body.password, undefined);
    const rid = res.headers.get("x-request-id");
    const line = await until("the server line of the unwritten entry", () =>
      logs.find((l) => l.includes("request log entry not written") && l.includes(rid)),
    );
    const json = JSON.parse(line.slice(line.indexOf("{")));
    assert.equal(json.tenant, "nolog");
    assert.equal(json.status, 201);
    assert.equal(json.method, "POST");
    assert.ok(!line.includes("pw-dee-1"), line);
  } finally {
    await w.db.exec("ALTER TABLE request_log_away RENAME TO request_log");
  }
  // The user was created all the same, and the lost entry stays lost.
  const got = await w.scim(t, "GET", `/Users/${res.body.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.userName, "dee@example.com");
  const next = await w.scim(t, "GET", "/Users/nobody");
  await entryOf("nolog", next);
  assert.deepEqual((await entries("nolog")).map((e) => e.status), [404]);
});
