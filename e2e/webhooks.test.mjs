// Webhooks on the built worker (issue 14): Miniflare's real queues carry the
// dispatch and delivery messages, a real HTTP server on 127.0.0.1 receives
// the POSTs, and the `standardwebhooks` package (npm, an implementation of
// the Standard Webhooks specification that is not ours) verifies every
// signature.
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
const script = []; // statuses to answer, in order; then 200
// Per receiver path (req.url): what to answer instead of `script`, as an
// async function of the request (a status, or nothing for 200).
const answers = new Map();

before(async () => {
  const r = await startReceiver(async (req) => {
    const answer = answers.get(req.url);
    return answer ? await answer(req) : script.length ? script.shift() : 200;
  });
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


/** POST /Users as an IdP would; the user's id. */
async function createUser(t, userName) {
  const r = await w.scim(t, "POST", "/Users", { schemas: [USER], userName });
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

/** GET /tenants/{tenant}/webhooks/{id}/deliveries: the list, newest first. */
async function deliveriesOf(tenant, id) {
  const r = await admin("GET", `/tenants/${tenant}/webhooks/${id}/deliveries`);
  assert.equal(r.status, 200, r.text);
  return r.body.deliveries;
}

/** Waits until the endpoint's newest delivery is in `state`; that delivery. */
function settled(tenant, id, state, ms) {
  return until(
    `a ${state} delivery of ${tenant}`,
    async () => {
      const [d] = await deliveriesOf(tenant, id);
      return d?.state === state ? d : null;
    },
    ms,
  );
}

const at = (path) => received.filter((r) => r.url === path);

// Issue 14 (README "Provisioning events and webhooks"): anything but a 2xx
// or 410 is retried on the schedule, WEBHOOK_RETRY_DELAYS "1,1" here (three
// attempts in all), then the delivery is `failed`; POST .../retry starts it
// over. Standard Webhooks: every retry is the same message (same webhook-id,
// the receiver's idempotency key), signed afresh.
test("a receiver that keeps answering 500 fails the delivery after the last attempt; an operator's retry then delivers it", async () => {
  const t = await w.tenant("giveup");
  const hook = await admin("POST", "/tenants/giveup/webhooks", { url: `http://127.0.0.1:${port}/giveup` });
  assert.equal(hook.status, 201, hook.text);
  let status = 500;
  answers.set("/giveup", () => status);
  await createUser(t, "erin@example.com");

  const failed = await settled("giveup", hook.body.id, "failed");
  assert.equal(failed.attempts, 3);
  assert.equal(failed.lastStatus, 500);
  assert.equal(failed.lastError, "HTTP 500; gave up after 3 attempts");
  assert.equal(failed.nextAttempt, null);
  assert.equal(failed.event.type, "user.created");
  const tries = at("/giveup");
  assert.equal(tries.length, 3);
  assert.equal(new Set(tries.map((r) => r.headers["webhook-id"])).size, 1);
  assert.equal(tries[0].headers["webhook-id"], failed.event.id);
  for (const r of tries) new Webhook(hook.body.secret).verify(r.body, r.headers);
  // Each retry waited its delay (1 s, no jitter at that size).
  for (let i = 1; i < tries.length; i++) assert.ok(tries[i].at - tries[i - 1].at >= 900, `${tries[i].at - tries[i - 1].at} ms`);

  status = 200;
  const retry = await admin("POST", `/tenants/giveup/webhooks/${hook.body.id}/deliveries/${failed.id}/retry`);
  assert.equal(retry.status, 202, retry.text);
  assert.equal(retry.body.id, failed.id);
  assert.equal(retry.body.attempts, 0);
  const done = await settled("giveup", hook.body.id, "delivered");
  assert.equal(done.id, failed.id);
  assert.equal(done.attempts, 1);
  assert.equal(done.lastStatus, 200);
  assert.equal(done.lastError, null);
  const all = at("/giveup");
  assert.equal(all.length, 4);
  assert.equal(all[3].headers["webhook-id"], failed.event.id);
  assert.equal(new Webhook(hook.body.secret).verify(all[3].body, all[3].headers).resource.userName, "erin@example.com");
});

// Issue 14 (README; wrangler.toml's queue section): a message the consumer
// cannot handle at all (storage failing) is retried by the queue itself
// (max_retries, 2 in e2e/worker.mjs: three attempts) and then moves to the
// dead-letter queue `scim-events-dlq`, whose consumer marks its delivery
// failed. To get there for real: the receiver's first answer is a 500, and
// before it answers it breaks the table the consumer reads an endpoint from,
// so the retry's `deliver` message finds storage failing every time.
// Its length is the code's: a storage failure asks the queue to offer the
// message again after 30 s (webhooks::consume, Verdict::Retry(30)), so the
// three attempts take a minute.
test("a delivery whose queue message keeps failing on storage is dead-lettered and marked failed by the DLQ consumer", { timeout: 150_000 }, async () => {
  const t = await w.tenant("dlq");
  const hook = await admin("POST", "/tenants/dlq/webhooks", { url: `http://127.0.0.1:${port}/dlq` });
  assert.equal(hook.status, 201, hook.text);
  let broken = false;
  let status = 500;
  answers.set("/dlq", async () => {
    if (!broken) {
      await w.db.exec("ALTER TABLE webhooks RENAME TO webhooks_broken");
      broken = true;
    }
    return status;
  });
  const row = () =>
    w.db
      .prepare("SELECT id, state, attempts, last_status, last_error, next_attempt FROM deliveries WHERE tenant_id = 'dlq'")
      .first();
  let dead;
  try {
    await createUser(t, "frank@example.com");
    // The admin API needs the broken table too: read the row itself.
    dead = await until("the dead-letter consumer to fail the delivery", async () => {
      const d = await row();
      return d?.state === "failed" ? d : null;
    }, 120_000);
  } finally {
    if (broken) await w.db.exec("ALTER TABLE webhooks_broken RENAME TO webhooks");
  }
  assert.equal(dead.last_error, "dead-lettered: the queue consumer failed on every attempt");
  assert.equal(dead.attempts, 1); // the one POST; the dead-lettered attempts never reached the receiver
  assert.equal(dead.last_status, 500);
  assert.equal(dead.next_attempt, null);
  assert.equal(at("/dlq").length, 1);
  // Miniflare's queue really moved it after three failed attempts...
  assert.ok(
    logs.some((l) => /Moving message .* on queue "scim-events" to dead letter queue "scim-events-dlq" after 3 failed attempts/.test(l)),
    logs.filter((l) => /queue|dead/i.test(l)).slice(-10).join("\n"),
  );
  // ...each one a storage failure the worker logged.
  const failures = logs.filter((l) => l.includes('"queue message failed"') && l.includes('"tenant":"dlq"'));
  assert.equal(failures.length, 3, failures.join("\n"));
  assert.match(failures[0], /webhooks/);

  // With storage back, the operator sees it and can send it again.
  const [shown] = await deliveriesOf("dlq", hook.body.id);
  assert.equal(shown.id, dead.id);
  assert.equal(shown.state, "failed");
  assert.equal(shown.lastError, dead.last_error);
  status = 200;
  const retry = await admin("POST", `/tenants/dlq/webhooks/${hook.body.id}/deliveries/${dead.id}/retry`);
  assert.equal(retry.status, 202, retry.text);
  const done = await settled("dlq", hook.body.id, "delivered");
  assert.equal(done.lastStatus, 200);
  const last = at("/dlq").at(-1);
  assert.equal(new Webhook(hook.body.secret).verify(last.body, last.headers).resource.userName, "frank@example.com");
});

// Issue 14 (README: "the old secret signs too for 24 h: two signatures in
// the header"); Standard Webhooks: the signature header is a space-separated
// list of `v1,<base64>` signatures, and a receiver accepts a message when any
// one matches its secret, which is what lets a secret rotate without a gap.
test("after rotate-secret a delivery carries two v1 signatures that the old and the new secret each verify; webhook.test verifies too", async () => {
  const t = await w.tenant("rotate");
  const hook = await admin("POST", "/tenants/rotate/webhooks", { url: `http://127.0.0.1:${port}/rotate` });
  assert.equal(hook.status, 201, hook.text);
  const old = hook.body.secret;
  assert.equal(hook.body.previousSecretExpires, null);

  const before = Date.now();
  const r = await admin("POST", `/tenants/rotate/webhooks/${hook.body.id}/rotate-secret`);
  assert.equal(r.status, 200, r.text);
  const fresh = r.body.secret;
  assert.match(fresh, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.notEqual(fresh, old);
  const expires = Date.parse(r.body.previousSecretExpires);
  const day = 24 * 3600 * 1000;
  assert.ok(expires >= before + day - 5000 && expires <= Date.now() + day + 5000, r.body.previousSecretExpires);
  // Shown once: neither secret is readable afterwards.
  const shown = await admin("GET", `/tenants/rotate/webhooks/${hook.body.id}`);
  assert.equal(shown.body.secret, undefined);
  assert.ok(!shown.text.includes(old.slice(6)) && !shown.text.includes(fresh.slice(6)));
  assert.equal(shown.body.previousSecretExpires, r.body.previousSecretExpires);

  await createUser(t, "grace@example.com");
  const got = await until("the delivery", () => at("/rotate")[0]);
  const sigs = got.headers["webhook-signature"].split(" ");
  assert.equal(sigs.length, 2, got.headers["webhook-signature"]);
  for (const s of sigs) assert.match(s, /^v1,[A-Za-z0-9+/]+=*$/);
  // Exactly the signatures the package computes with each secret.
  const ts = new Date(Number(got.headers["webhook-timestamp"]) * 1000);
  const id = got.headers["webhook-id"];
  assert.deepEqual(
    new Set(sigs),
    new Set([new Webhook(old).sign(id, ts, got.body), new Webhook(fresh).sign(id, ts, got.body)]),
  );
  const byOld = new Webhook(old).verify(got.body, got.headers);
  const byNew = new Webhook(fresh).verify(got.body, got.headers);
  assert.equal(byOld.type, "user.created");
  assert.equal(byOld.resource.userName, "grace@example.com");
  assert.deepEqual(byNew, byOld);
  assert.throws(() => new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(got.body, got.headers));

  // webhook.test goes now, on the admin request, and says how it went.
  const sent = await admin("POST", `/tenants/rotate/webhooks/${hook.body.id}/test`);
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.body.delivered, true);
  assert.equal(sent.body.status, 200);
  assert.equal(sent.body.event.type, "webhook.test");
  const probe = at("/rotate").find((p) => p.headers["webhook-id"] === sent.body.event.id);
  assert.ok(probe, "the receiver got webhook.test before the answer");
  const tested = new Webhook(fresh).verify(probe.body, probe.headers);
  assert.deepEqual(tested, sent.body.event);
  assert.equal(tested.data.webhook, hook.body.id);
  assert.equal(probe.headers["webhook-signature"].split(" ").length, 2);
  new Webhook(old).verify(probe.body, probe.headers); // still inside the 24 h overlap
  // A test event is not provisioning: the feed does not hold it.
  const feed = await admin("GET", "/tenants/rotate/events");
  assert.deepEqual(feed.body.events.map((e) => e.type), ["user.created"]);
});

// Issue 14 (README: "URLs must be `https` to a public host"): anything else
// is a 400 that stores nothing, on create and on change.
test("a webhook URL that is not https to a public host is refused with 400 and nothing is created", async () => {
  await w.tenant("urls");
  for (const url of [
    "ftp://hooks.example.com/x",
    "https://10.0.0.1/x",
    "https://192.168.1.20/x",
    "https://169.254.169.254/latest/meta-data",
    "https://[fd00::1]:8443/x",
    "http://hooks.example.com/x",
    "https://user:pw@hooks.example.com/x",
  ]) {
    const r = await admin("POST", "/tenants/urls/webhooks", { url });
    assert.equal(r.status, 400, `${url}: ${r.text}`);
    assert.equal(typeof r.body.detail, "string", r.text);
    assert.equal(r.body.secret, undefined);
  }
  const listed = await admin("GET", "/tenants/urls/webhooks");
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.webhooks, []);
  const rows = await w.db.prepare("SELECT count(*) AS n FROM webhooks WHERE tenant_id = 'urls'").first();
  assert.equal(rows.n, 0);

  // Changing a good endpoint's URL to a private one is refused the same way.
  const good = await admin("POST", "/tenants/urls/webhooks", { url: "https://hooks.example.com/scim" });
  assert.equal(good.status, 201, good.text);
  const change = await admin("PATCH", `/tenants/urls/webhooks/${good.body.id}`, { url: "https://10.0.0.1/x" });
  assert.equal(change.status, 400, change.text);
  const after = await admin("GET", `/tenants/urls/webhooks/${good.body.id}`);
  assert.equal(after.body.url, "https://hooks.example.com/scim");
  assert.equal(after.body.updated, good.body.updated);
});
