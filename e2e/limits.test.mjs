// End-to-end: the Workers Rate Limiting binding answers 429 with an
// integer-seconds Retry-After per SCIM token (idp-behaviour.md, both clients).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

let w;
before(async () => {
  w = await startWorker({ rateLimit: 3 });
});
after(async () => w?.dispose());

test("the fourth request of a token within the period is 429 with Retry-After", async () => {
  const a = await w.tenant("limited");
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await w.scim(a, "GET", "/Users")).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const r = await w.scim(a, "GET", "/Users");
  assert.equal(r.status, 429);
  assert.match(r.headers.get("retry-after"), /^[1-9][0-9]*$/);
  assert.equal(r.body.status, "429");
  const b = await w.tenant("unlimited");
  assert.equal((await w.scim(b, "GET", "/Users")).status, 200, "limits are per token");
});
