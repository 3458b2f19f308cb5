// End-to-end: the built wasm worker on Miniflare with real D1 and KV.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

let w;
let acme;
before(async () => {
  w = await startWorker();
  acme = await w.tenant("acme");
});
after(async () => w?.dispose());

const SCIM_JSON = /^application\/scim\+json/;

test("POST /Users creates a user in D1 and answers 201 with Location (RFC 7644 §3.3)", async () => {
  const res = await w.scim(acme, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "Barbara.Jensen@Example.com",
    externalId: "ext-1",
    name: { givenName: "Barbara", familyName: "Jensen" },
    emails: [{ value: "bjensen@example.com", type: "work", primary: true }],
    password: "t1meMa$heen",
  });
  assert.equal(res.status, 201);
  assert.match(res.headers.get("content-type"), SCIM_JSON);
  assert.equal(res.body.userName, "Barbara.Jensen@Example.com");
  assert.equal(res.body.password, undefined, "password is never returned");
  assert.equal(res.headers.get("location"), res.body.meta.location);
  assert.equal(res.headers.get("etag"), res.body.meta.version);
  const row = await w.db
    .prepare("SELECT user_name, user_name_key, external_id, doc FROM users WHERE tenant_id = 'acme' AND id = ?")
    .bind(res.body.id)
    .first();
  assert.equal(row.user_name, "Barbara.Jensen@Example.com");
  assert.equal(row.user_name_key, "barbara.jensen@example.com");
  assert.ok(!row.doc.includes("t1meMa$heen"), "the password is not stored");
});

test("GET /Users/{id} reads the user back; unknown ids are 404 SCIM errors", async () => {
  const created = await w.scim(acme, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "reader",
  });
  const res = await w.scim(acme, "GET", `/Users/${created.body.id}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.id, created.body.id);
  assert.equal(res.body.userName, "reader");
  const missing = await w.scim(acme, "GET", "/Users/does-not-exist");
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get("content-type"), SCIM_JSON);
  assert.deepEqual(missing.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
  assert.equal(missing.body.status, "404");
});

test("filter userName eq matches case-insensitively and returns a ListResponse (RFC 7644 §3.4.2)", async () => {
  await w.scim(acme, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "Case.Mixed@Example.com",
  });
  const q = encodeURIComponent('userName eq "case.mixed@EXAMPLE.COM"');
  const res = await w.scim(acme, "GET", `/Users?filter=${q}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
  assert.equal(res.body.totalResults, 1);
  assert.equal(res.body.itemsPerPage, 1);
  assert.equal(res.body.Resources[0].userName, "Case.Mixed@Example.com");
  // Entra's Test Connection: a random userName, no Accept header: 200, empty list.
  const none = await w.scim(acme, "GET", "/Users?filter=userName+eq+%22b7f0c3a2-0000-4000-8000-000000000000%22");
  assert.equal(none.status, 200);
  assert.equal(none.body.totalResults, 0);
  assert.deepEqual(none.body.Resources, []);
});

test("a duplicate userName (any case) is 409 uniqueness", async () => {
  const body = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "dup@example.com" };
  assert.equal((await w.scim(acme, "POST", "/Users", body)).status, 201);
  const again = await w.scim(acme, "POST", "/Users", { ...body, userName: "DUP@example.com" });
  assert.equal(again.status, 409);
  assert.equal(again.body.scimType, "uniqueness");
});

test("DELETE /Users/{id} answers 204, then the user is 404", async () => {
  const created = await w.scim(acme, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "leaver",
  });
  const del = await w.scim(acme, "DELETE", `/Users/${created.body.id}`);
  assert.equal(del.status, 204);
  assert.equal((await w.scim(acme, "GET", `/Users/${created.body.id}`)).status, 404);
  assert.equal((await w.scim(acme, "DELETE", `/Users/${created.body.id}`)).status, 404);
});

test("a wrong or missing token is 401 with a SCIM error and WWW-Authenticate: Bearer", async () => {
  for (const token of ["wrong", ""]) {
    const res = await w.scim({ ...acme, token }, "GET", "/Users");
    assert.equal(res.status, 401);
    assert.match(res.headers.get("content-type"), SCIM_JSON);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    assert.equal(res.body.status, "401");
  }
});

test("a token of another tenant cannot read this tenant", async () => {
  const other = await w.tenant("other-co");
  const created = await w.scim(acme, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "private",
  });
  const crossed = { baseUrl: acme.baseUrl, token: other.token };
  assert.equal((await w.scim(crossed, "GET", `/Users/${created.body.id}`)).status, 401);
  // Its own base URL does not see acme's users either.
  assert.equal((await w.scim(other, "GET", `/Users/${created.body.id}`)).status, 404);
  const list = await w.scim(other, "GET", "/Users");
  assert.equal(list.body.totalResults, 0);
});
