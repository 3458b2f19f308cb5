// Faults of the built worker on Miniflare (issue 12): a D1 failure is
// answered 500 with a generic SCIM error naming the request id and none of
// D1's text, and logged once to the Workers console (what Workers Logs
// keeps) as one JSON line; every response carries x-request-id, which is
// Cloudflare's cf-ray when the request has one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";

const logs = [];
let w;
before(async () => {
  w = await startWorker({ logs });
});
after(async () => w?.dispose());

/** The worker's JSON log lines about request `id`. */
function linesOf(id) {
  return logs
    .filter((l) => l.includes(id))
    .map((l) => {
      try {
        return JSON.parse(l.slice(l.indexOf("{")));
      } catch {
        return null;
      }
    })
    .filter((l) => l && l.requestId === id);
}

test("a D1 failure is a generic 500 with the request id, logged once as a JSON line", async () => {
  const c = await w.tenant("faulty");
  await w.db.prepare("DROP TABLE user_emails").run();
  const r = await w.scim(c, "POST", "/Users", {
    schemas: [USER],
    userName: "bjensen",
    password: "s3cret-Pa55",
    emails: [{ value: "bjensen@example.com", type: "work" }],
  });
  assert.equal(r.status, 500, r.text);
  assert.equal(r.body.status, "500");
  const id = r.headers.get("x-request-id");
  assert.ok(id, "x-request-id");
  assert.ok(r.body.detail.includes(id), r.body.detail);
  assert.ok(!/user_emails|no such table|D1_ERROR|SQLITE/i.test(r.text), r.text);
  // Console output reaches the log asynchronously.
  for (let i = 0; i < 50 && linesOf(id).length === 0; i++) await new Promise((s) => setTimeout(s, 20));
  const lines = linesOf(id);
  assert.equal(lines.length, 1, JSON.stringify(logs.slice(-10)));
  const [line] = lines;
  assert.equal(line.level, "error");
  assert.equal(line.status, 500);
  assert.equal(line.kind, "storage");
  assert.equal(line.tenant, "faulty");
  assert.equal(line.method, "POST");
  assert.equal(line.path, "/scim/v2/faulty/Users");
  assert.match(line.error, /user_emails/);
  assert.equal(typeof line.durationMs, "number");
  const all = logs.join("\n");
  for (const secret of [c.token, "s3cret-Pa55", "bjensen@example.com"]) {
    assert.ok(!all.includes(secret), `${secret} was logged`);
  }
  const { n } = await w.db.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = 'faulty'").first();
  assert.equal(n, 0, "the write rolled back");
});

test("every response carries x-request-id; cf-ray when given", async () => {
  const c = await w.tenant("ids");
  const a = await w.scim(c, "GET", "/Users");
  const b = await w.scim(c, "GET", "/Users");
  assert.equal(a.status, 200);
  assert.ok(a.headers.get("x-request-id"));
  assert.notEqual(a.headers.get("x-request-id"), b.headers.get("x-request-id"));
  const ray = "8f1a2b3c4d5e6f70-AMS";
  const r = await w.scim(c, "GET", "/Users/nope", undefined, { "cf-ray": ray });
  assert.equal(r.status, 404);
  assert.equal(r.headers.get("x-request-id"), ray);
  const bad = await w.scim({ ...c, token: "wrong" }, "GET", "/Users");
  assert.equal(bad.status, 401);
  assert.ok(bad.headers.get("x-request-id"));
});
