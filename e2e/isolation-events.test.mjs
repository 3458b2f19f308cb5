// Tenant isolation of the issue-14 admin endpoints on the built worker: an
// admin JWT scoped to one tenant is refused (403) on every events, webhooks,
// deliveries and request-log endpoint of another, and changes nothing there
// (README "Admin API": "a valid token outside its scope is 403"; "SCIM request
// log": "another tenant's admin token gets 403"). Real D1, KV and queues in
// Miniflare, a real receiver on 127.0.0.1, signatures checked with the
// `standardwebhooks` package.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { startReceiver, until as pollUntil } from "./receiver.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
let w, receiver, port;
let received = [];
const logs = [];

before(async () => {
  const r = await startReceiver();
  ({ server: receiver, port } = r);
  received = r.received;
  w = await startWorker({ logs });
});

after(async () => {
  await w?.mf.dispose();
  receiver?.close();
});

const until = (what, check, ms = 15000) => pollUntil(what, check, ms, logs);

const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const mine = mintJwt(ADMIN_JWT_SECRET, "mine", 1);
const other = mintJwt(ADMIN_JWT_SECRET, "other", 1);

test("a JWT scoped to tenant other gets 403 on every issue-14 endpoint of tenant mine, and nothing there changes", async () => {
  const t = await w.tenant("mine");
  await w.tenant("other");
  const url = `http://127.0.0.1:${port}/mine`;
  const hook = await w.admin(platform, "POST", "/tenants/mine/webhooks", { url, types: ["user.*"], description: "crm" });
  assert.equal(hook.status, 201, hook.text);
  const id = hook.body.id;
  const first = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "bob@example.com" });
  assert.equal(first.status, 201, first.text);
  const deliveries = async () => (await w.admin(mine, "GET", `/tenants/mine/webhooks/${id}/deliveries`)).body.deliveries;
  const [delivered] = await until("the first delivery", async () => {
    const d = await deliveries();
    return d[0]?.state === "delivered" ? d : null;
  });
  const events = (await w.admin(mine, "GET", "/tenants/mine/events")).body.events;
  const requests = (await w.admin(mine, "GET", "/tenants/mine/requests")).body.requests;
  assert.equal(events.length, 1);
  assert.equal(requests.length, 1);
  const webhook = (await w.admin(mine, "GET", `/tenants/mine/webhooks/${id}`)).body;

  const calls = [
    ["GET", "/tenants/mine/events"],
    ["GET", "/tenants/mine/webhooks"],
    ["POST", "/tenants/mine/webhooks", { url: "https://evil.example.com/steal" }],
    ["GET", `/tenants/mine/webhooks/${id}`],
    ["PATCH", `/tenants/mine/webhooks/${id}`, { url: "https://evil.example.com/steal", enabled: false }],
    ["DELETE", `/tenants/mine/webhooks/${id}`],
    ["POST", `/tenants/mine/webhooks/${id}/rotate-secret`],
    ["POST", `/tenants/mine/webhooks/${id}/test`],
    ["GET", `/tenants/mine/webhooks/${id}/deliveries`],
    ["POST", `/tenants/mine/webhooks/${id}/deliveries/${delivered.id}/retry`],
    ["GET", "/tenants/mine/requests"],
  ];
  for (const [method, path, body] of calls) {
    const r = await w.admin(other, method, path, body);
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
    // The refusal shows nothing of tenant mine.
    for (const leak of ["bob@example.com", url, "whsec_", delivered.id]) {
      assert.ok(!r.text.includes(leak), `${method} ${path} shows ${leak}: ${r.text}`);
    }
  }
  // Its own tenant is all it sees.
  assert.deepEqual((await w.admin(other, "GET", "/tenants/other/webhooks")).body.webhooks, []);
  assert.deepEqual((await w.admin(other, "GET", "/tenants/other/events")).body.events, []);
  assert.deepEqual((await w.admin(other, "GET", "/tenants/other/requests")).body.requests, []);

  // Nothing changed: the endpoint is there with its URL, on, not rotated...
  const list = await w.admin(mine, "GET", "/tenants/mine/webhooks");
  assert.deepEqual(list.body.webhooks, [webhook]);
  assert.equal(webhook.url, url);
  assert.equal(webhook.enabled, true);
  assert.equal(webhook.previousSecretExpires, null);
  assert.deepEqual((await w.admin(mine, "GET", "/tenants/mine/events")).body.events, events);
  assert.deepEqual(await deliveries(), [delivered]);
  assert.deepEqual((await w.admin(mine, "GET", "/tenants/mine/requests")).body.requests, requests);
  // ...and nothing was sent: the next write's delivery is the receiver's
  // second POST (no retry, no webhook.test before it), signed once, with
  // the secret shown at creation.
  const second = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "carol@example.com" });
  assert.equal(second.status, 201);
  await until("the second delivery", () => received.some((r) => r.body.includes("carol@example.com")));
  const got = received.filter((r) => r.url === "/mine");
  assert.equal(got.length, 2, got.map((r) => r.body).join("\n"));
  assert.equal(got[0].headers["webhook-id"], delivered.event.id);
  assert.equal(got[1].headers["webhook-signature"].split(" ").length, 1);
  const event = new Webhook(hook.body.secret).verify(got[1].body, got[1].headers);
  assert.equal(event.type, "user.created");
  assert.equal(event.resource.userName, "carol@example.com");
});
