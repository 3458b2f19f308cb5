// The outbound Okta connector on the built worker (issue 17): Miniflare's
// real D1 and outbound fetch against a stand-in of Okta's Users API on
// 127.0.0.1 (e2e/okta-standin.mjs, built from developer.okta.com's
// reference: SSWS tokens, user objects, error bodies, rate-limit headers).
// WEBHOOK_ALLOW_LOCAL lets the org URL be http://127.0.0.1 here, as
// scripts/dev does for local stand-ins.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { startOkta } from "./okta-standin.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const TOKEN = "00Qk7s2v-connector-e2e-token-9f3b1c";
const READ_ONLY = "00ReadOnly-token-without-user-admin-77";
let w, okta;
const logs = [];
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);
const base = "/tenants/oktaco/connectors/okta";

before(async () => {
  okta = await startOkta({ token: TOKEN, readOnlyToken: READ_ONLY });
  // Outbound calls time out after 1.5 s here (WEBHOOK_TIMEOUT_MS).
  w = await startWorker({ logs, vars: { WEBHOOK_TIMEOUT_MS: "1500" } });
  await w.tenant("oktaco");
  const put = await admin("PUT", base, { orgUrl: okta.url, apiToken: TOKEN });
  assert.equal(put.status, 200, put.text);
});
after(async () => {
  await w?.dispose();
  okta?.close();
});

const profile = (first, last) => {
  const login = `${first}.${last}@acme.example`.toLowerCase();
  return { firstName: first, lastName: last, email: login, login };
};

test("the API token is sealed in D1, never shown, and the test names its owner", async () => {
  const shown = await admin("GET", base);
  assert.equal(shown.body.tokenLast4, TOKEN.slice(-4));
  assert.ok(!shown.text.includes(TOKEN));
  const row = await w.db.prepare("SELECT * FROM connectors WHERE tenant_id = 'oktaco'").first();
  assert.ok(!JSON.stringify(row).includes(TOKEN.slice(0, 12)), "D1 holds the token in clear");
  const t = await admin("POST", `${base}/test`);
  assert.equal(t.status, 200, t.text);
  assert.equal(t.body.user.login, "it-admin@acme.example");
  assert.equal(okta.calls.at(-1).authorization, `SSWS ${TOKEN}`);
  assert.ok(!logs.join("\n").includes(TOKEN.slice(0, 12)), "a log line holds the token");
  // Another tenant's admin token gets 403.
  await w.tenant("other");
  const r = await w.admin(mintJwt(ADMIN_JWT_SECRET, "other", 1), "GET", base);
  assert.equal(r.status, 403);
});

test("create (active and staged), a taken login, get by id and login, search by name and email", async () => {
  const bob = await admin("POST", `${base}/users`, { profile: profile("Bob", "Ross") });
  assert.equal(bob.status, 201, bob.text);
  assert.equal(bob.body.status, "ACTIVE");
  assert.match(bob.body.id, /^00u/);
  const eve = await admin("POST", `${base}/users`, { profile: profile("Eve", "Stone"), activate: false });
  assert.equal(eve.body.status, "STAGED");
  assert.equal(okta.calls.at(-1).url, "/api/v1/users?activate=false");
  const taken = await admin("POST", `${base}/users`, { profile: profile("Bob", "Ross") });
  assert.equal(taken.status, 400);
  assert.match(taken.body.detail, /already exists/);
  assert.equal(taken.body.okta.errorCode, "E0000001");
  assert.match(taken.body.okta.errorId, /^oae/);

  assert.equal((await admin("GET", `${base}/users/${bob.body.id}`)).body.login, "bob.ross@acme.example");
  assert.equal((await admin("GET", `${base}/users/${encodeURIComponent("bob.ross@acme.example")}`)).body.id, bob.body.id);
  const missing = await admin("GET", `${base}/users/00unobody`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.okta.errorCode, "E0000007");
  const logins = async (q) => (await admin("GET", `${base}/users?search=${encodeURIComponent(q)}`)).body.users.map((u) => u.login);
  assert.deepEqual(await logins("bob"), ["bob.ross@acme.example"]);
  assert.deepEqual(await logins("Eve Stone"), ["eve.stone@acme.example"]);
  assert.deepEqual(await logins("eve.stone@acme"), ["eve.stone@acme.example"]);
});

test("deactivate once; a deprovisioned user is 409 without a second deactivate call", async () => {
  const u = await admin("POST", `${base}/users`, { profile: profile("Dan", "Gone") });
  const d = await admin("POST", `${base}/users/${u.body.id}/deactivate`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.body.status, "DEPROVISIONED");
  const before = okta.calls.length;
  const again = await admin("POST", `${base}/users/${u.body.id}/deactivate`);
  assert.equal(again.status, 409);
  assert.match(again.body.detail, /deprovisioned/);
  assert.ok(okta.calls.slice(before).every((c) => !c.url.includes("lifecycle")));
});

test("401, 403, 429 retried after a near reset, a far reset answered 429, a timeout", async () => {
  // Rate limit: reset 2 s away, waited for and retried once.
  okta.state.next = [429];
  okta.state.resetIn = 2;
  const started = Date.now();
  const r = await admin("GET", `${base}/users/00unobody`);
  assert.equal(r.status, 404, r.text);
  assert.ok(Date.now() - started >= 1000, "it waited for the reset");
  // A reset a minute away is not waited for.
  okta.state.next = [429];
  okta.state.resetIn = 60;
  const limited = await admin("GET", `${base}/users/00unobody`);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get("retry-after")) > 5);
  // ...and the next call does not even reach Okta while it lasts.
  const calls = okta.calls.length;
  assert.equal((await admin("GET", `${base}/users/00unobody`)).status, 429);
  assert.equal(okta.calls.length, calls);
  // A new token forgets the limit.
  assert.equal((await admin("PUT", base, { orgUrl: okta.url, apiToken: READ_ONLY })).status, 200);
  const forbidden = await admin("POST", `${base}/users`, { profile: profile("No", "Rights") });
  assert.equal(forbidden.status, 502);
  assert.match(forbidden.body.detail, /admin role/);
  assert.equal((await admin("PUT", base, { orgUrl: okta.url, apiToken: "00wrong-token-value" })).status, 200);
  const bad = await admin("POST", `${base}/test`);
  assert.equal(bad.status, 502);
  assert.match(bad.body.detail, /Security > API > Tokens/);
  assert.equal((await admin("GET", base)).body.lastTest.ok, false);
  // Timeout.
  assert.equal((await admin("PUT", base, { orgUrl: okta.url, apiToken: TOKEN })).status, 200);
  okta.state.delayMs = 3000;
  const slow = await admin("POST", `${base}/test`);
  okta.state.delayMs = 0;
  assert.equal(slow.status, 504, slow.text);
  assert.match(slow.body.detail, /did not answer within 1.5 s/);
});

test("the rule deactivates the Okta user the application deactivates, recorded as events and in the request log", async () => {
  assert.equal((await admin("PUT", base, { orgUrl: okta.url, apiToken: TOKEN })).status, 200);
  const t = await w.tenant("oktaco");
  const o = await admin("POST", `${base}/users`, { profile: profile("Rule", "Target") });
  const created = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "rule.target@acme.example", externalId: o.body.id });
  assert.equal(created.status, 201);
  assert.equal((await admin("PUT", `${base}/rules`, { deactivateUsers: true })).status, 200);
  const d = await admin("POST", `/tenants/oktaco/users/${created.body.id}/deactivate`);
  assert.equal(d.status, 200, d.text);
  assert.equal(okta.users.find((u) => u.id === o.body.id).status, "DEPROVISIONED");
  const events = await admin("GET", "/tenants/oktaco/events?types=connector.okta.*");
  assert.deepEqual(events.body.events.map((e) => e.type), ["connector.okta.user_deactivated"]);
  assert.equal(events.body.events[0].data.matchedBy, "externalId");
  const log = await admin("GET", "/tenants/oktaco/requests");
  assert.ok(log.body.requests.some((e) => e.path.startsWith(okta.url) && e.path.endsWith("/lifecycle/deactivate")), log.text);
});
