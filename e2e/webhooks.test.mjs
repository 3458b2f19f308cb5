// Webhooks on the built worker (issue 14): Miniflare's real queues carry the
// dispatch and delivery messages, a real HTTP server on 127.0.0.1 receives
// the POSTs, and the `standardwebhooks` package (npm, an implementation of
// the Standard Webhooks specification that is not ours) verifies every
// signature.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Webhook } from "standardwebhooks";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
let w, receiver, port;
const received = [];
const logs = [];
const script = []; // statuses to answer, in order; then 200

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), url: req.url });
      res.statusCode = script.length ? script.shift() : 200;
      res.end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  port = receiver.address().port;
  w = await startWorker({ logs });
});

after(async () => {
  await w?.mf.dispose();
  receiver?.close();
});

async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${logs.slice(-15).join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);

test("a user created over SCIM reaches the receiver through the queue, signed per Standard Webhooks", async () => {
  const t = await w.tenant("hooks");
  const hook = await admin("POST", "/tenants/hooks/webhooks", { url: `http://127.0.0.1:${port}/receive` });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  const res = await w.mf.dispatchFetch(`${t.baseUrl}/Users`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.token}`, "content-type": "application/scim+json" },
    body: JSON.stringify({ schemas: [USER], userName: "bob@example.com" }),
  });
  assert.equal(res.status, 201);
  const got = await until("the delivery", () => received.find((r) => r.url === "/receive"));
  const verified = new Webhook(hook.body.secret).verify(got.body, got.headers);
  assert.equal(verified.type, "user.created");
  assert.equal(verified.resource.userName, "bob@example.com");
  // A wrong secret does not verify.
  assert.throws(() => new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(got.body, got.headers));
  const feed = await admin("GET", "/tenants/hooks/events");
  assert.deepEqual(feed.body.events[0], verified);
});

test("a 500 is retried after its delay and then delivered; 410 disables the endpoint", async () => {
  await w.tenant("retry");
  const hook = await admin("POST", "/tenants/retry/webhooks", { url: `http://127.0.0.1:${port}/retry` });
  assert.equal(hook.status, 201);
  script.push(500);
  const t = await w.tenant("retry");
  await w.mf.dispatchFetch(`${t.baseUrl}/Users`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.token}`, "content-type": "application/scim+json" },
    body: JSON.stringify({ schemas: [USER], userName: "carol@example.com" }),
  });
  const deliveries = async () =>
    (await admin("GET", `/tenants/retry/webhooks/${hook.body.id}/deliveries`)).body.deliveries;
  const done = await until("the retry", async () => {
    const d = await deliveries();
    return d[0]?.state === "delivered" ? d[0] : null;
  });
  assert.equal(done.attempts, 2);
  const mine = received.filter((r) => r.url === "/retry");
  assert.equal(mine.length, 2);
  assert.equal(mine[0].headers["webhook-id"], mine[1].headers["webhook-id"]);
  for (const m of mine) new Webhook(hook.body.secret).verify(m.body, m.headers);

  script.push(410);
  await w.mf.dispatchFetch(`${t.baseUrl}/Users`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.token}`, "content-type": "application/scim+json" },
    body: JSON.stringify({ schemas: [USER], userName: "dave@example.com" }),
  });
  await until("the endpoint to be disabled", async () => {
    const h = await admin("GET", `/tenants/retry/webhooks/${hook.body.id}`);
    return h.body.enabled === false;
  });
});
