// End-to-end: the Workers Rate Limiting binding answers 429 with an
// integer-seconds Retry-After per SCIM token (idp-behaviour.md, both clients).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";

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

test("SCIM_MAX_* variables set the worker's limits, advertised and enforced (issue 7)", async () => {
  const v = await startWorker({ vars: { SCIM_MAX_RESULTS: "2", SCIM_MAX_VALUE_BYTES: "64", SCIM_MAX_BULK_OPERATIONS: "bad" } });
  try {
    const a = await v.tenant("configured");
    const spc = (await v.scim(a, "GET", "/ServiceProviderConfig")).body;
    assert.equal(spc.filter.maxResults, 2);
    assert.equal(spc.bulk.maxOperations, 1000, "an invalid value leaves the default");
    for (const name of ["a", "b", "c"]) {
      assert.equal((await v.scim(a, "POST", "/Users", { schemas: [USER], userName: name })).status, 201);
    }
    const page = (await v.scim(a, "GET", "/Users?count=10")).body;
    assert.equal(page.itemsPerPage, 2);
    assert.equal(page.totalResults, 3);
    const long = await v.scim(a, "POST", "/Users", { schemas: [USER], userName: "x".repeat(65) });
    assert.equal(long.status, 400);
    assert.equal(long.body.scimType, "invalidValue");
  } finally {
    await v.dispose();
  }
});
