// End-to-end hardening (issue 7): concurrent writes on the built wasm worker
// (Miniflare, real D1 and KV). Requests are sent together with Promise.all;
// inside workerd every D1 call of a request is awaited, so requests
// interleave and read-then-write races are real here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

let w;
let acme;
before(async () => {
  // Listening on a real socket too: the creates below go over HTTP.
  w = await startWorker({ port: 0 });
  acme = await w.tenant("acme");
});
after(async () => w?.dispose());

/** The same request as w.scim, but over a real TCP connection to workerd. */
async function overSocket(creds, method, path, body) {
  const res = await fetch(creds.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/scim+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** {status: count} of a list of responses. */
function tally(responses) {
  const counts = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Creates `n` users in one Bulk request; returns their ids. */
async function bulkUsers(creds, prefix, n) {
  const r = await w.scim(creds, "POST", "/Bulk", {
    schemas: [BULK],
    Operations: Array.from({ length: n }, (_, i) => ({
      method: "POST",
      path: "/Users",
      bulkId: `${prefix}${i}`,
      data: { schemas: [USER], userName: `${prefix}${i}@example.com` },
    })),
  });
  assert.equal(r.status, 200);
  assert.ok(r.body.Operations.every((o) => o.status === "201"), JSON.stringify(r.body).slice(0, 500));
  return r.body.Operations.map((o) => o.location.split("/").pop());
}

test("50 concurrent POST /Users of one userName: one 201, 49 409 uniqueness, one stored user (RFC 7644 §3.3, §3.12)", async (t) => {
  const body = { schemas: [USER], userName: "Race.Winner@example.com", emails: [{ value: "race@example.com" }] };
  // Any case: userName uniqueness is case-insensitive (RFC 7643 §4.1.1, caseExact false).
  const variants = Array.from({ length: 50 }, (_, i) => ({
    ...body,
    userName: i % 2 ? body.userName : body.userName.toLowerCase(),
  }));
  const started = Date.now();
  const responses = await Promise.all(variants.map((b) => overSocket(acme, "POST", "/Users", b)));
  const counts = tally(responses);
  t.diagnostic(`statuses ${JSON.stringify(counts)} in ${Date.now() - started} ms`);
  assert.deepEqual(counts, { 201: 1, 409: 49 });
  for (const r of responses.filter((r) => r.status === 409)) {
    assert.equal(r.body.scimType, "uniqueness");
    assert.equal(r.body.status, "409");
  }
  const winner = responses.find((r) => r.status === 201).body;
  const rows = await w.db
    .prepare("SELECT id FROM users WHERE tenant_id = 'acme' AND user_name_key = 'race.winner@example.com'")
    .all();
  assert.deepEqual(rows.results.map((r) => r.id), [winner.id]);
  const emails = await w.db
    .prepare("SELECT user_id FROM user_emails WHERE tenant_id = 'acme' AND value_key = 'race@example.com'")
    .all();
  assert.deepEqual(emails.results.map((r) => r.user_id), [winner.id], "no email rows of losers");
});

test("50 concurrent POST /Users of distinct userNames all succeed (no spurious conflicts)", async (t) => {
  const started = Date.now();
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      w.scim(acme, "POST", "/Users", { schemas: [USER], userName: `distinct-${i}@example.com` }),
    ),
  );
  t.diagnostic(`statuses ${JSON.stringify(tally(responses))} in ${Date.now() - started} ms`);
  assert.deepEqual(tally(responses), { 201: 50 });
  const n = await w.db
    .prepare("SELECT count(*) AS n FROM users WHERE tenant_id = 'acme' AND user_name LIKE 'distinct-%'")
    .first();
  assert.equal(n.n, 50);
});

test("100 concurrent PATCH add members (one new member each, Okta and Entra style) keep all 100", async (t) => {
  const ids = await bulkUsers(acme, "member-", 100);
  const g = await w.scim(acme, "POST", "/Groups", { schemas: [GROUP], displayName: "Concurrent Adds" });
  assert.equal(g.status, 201);
  // Okta: op "add" with value [{value, display}]; Entra: op "Add" with
  // value [{value}]. Neither sends If-Match, and both push members of one
  // group in parallel requests (idp-behaviour.md).
  const requests = ids.map((id, i) =>
    w.scim(acme, "PATCH", `/Groups/${g.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        i % 2
          ? { op: "add", path: "members", value: [{ value: id, display: `member-${i}@example.com` }] }
          : { op: "Add", path: "members", value: [{ value: id }] },
      ],
    }),
  );
  const started = Date.now();
  const responses = await Promise.all(requests);
  const counts = tally(responses);
  t.diagnostic(`statuses ${JSON.stringify(counts)} in ${Date.now() - started} ms`);
  const failed = responses.find((r) => r.status >= 300);
  assert.deepEqual(counts, { 204: 100 }, failed && JSON.stringify(failed.body));
  const stored = await w.db
    .prepare("SELECT member_id FROM group_members WHERE tenant_id = 'acme' AND group_id = ?")
    .bind(g.body.id)
    .all();
  assert.deepEqual(stored.results.map((r) => r.member_id).sort(), [...ids].sort());
  const read = await w.scim(acme, "GET", `/Groups/${g.body.id}`);
  assert.equal(read.body.members.length, 100);
  // Every change bumped the version: 1 + 100 writes.
  assert.equal(read.headers.get("etag"), 'W/"101"');

  // Then 50 concurrent removals (Entra: op "Remove", path members[value eq ...];
  // Okta: op "remove", path "members", value [{value}]) leave exactly the other 50.
  const gone = ids.slice(0, 50);
  const removals = await Promise.all(
    gone.map((id, i) =>
      w.scim(acme, "PATCH", `/Groups/${g.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [
          i % 2
            ? { op: "Remove", path: `members[value eq "${id}"]` }
            : { op: "remove", path: "members", value: [{ value: id }] },
        ],
      }),
    ),
  );
  t.diagnostic(`removal statuses ${JSON.stringify(tally(removals))}`);
  assert.deepEqual(tally(removals), { 204: 50 });
  const left = await w.db
    .prepare("SELECT member_id FROM group_members WHERE tenant_id = 'acme' AND group_id = ?")
    .bind(g.body.id)
    .all();
  assert.deepEqual(left.results.map((r) => r.member_id).sort(), ids.slice(50).sort());
});

test("concurrent PUTs with the same If-Match: exactly one 200, the rest 412, the winner's body is stored (RFC 7644 §3.14)", async (t) => {
  const created = await w.scim(acme, "POST", "/Users", {
    schemas: [USER],
    userName: "contended@example.com",
    emails: [{ value: "original@example.com", type: "work" }],
  });
  assert.equal(created.status, 201);
  const id = created.body.id;
  const etag = created.headers.get("etag");
  assert.equal(etag, 'W/"1"');
  const n = 20;
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      w.scim(
        acme,
        "PUT",
        `/Users/${id}`,
        {
          schemas: [USER],
          userName: "contended@example.com",
          displayName: `Writer ${i}`,
          emails: [{ value: `writer-${i}@example.com`, type: "work" }],
        },
        { "if-match": etag },
      ),
    ),
  );
  const counts = tally(responses);
  t.diagnostic(`statuses ${JSON.stringify(counts)}`);
  assert.deepEqual(counts, { 200: 1, 412: n - 1 });
  for (const r of responses.filter((r) => r.status === 412)) assert.equal(r.body.status, "412");
  const winner = responses.find((r) => r.status === 200);
  assert.equal(winner.headers.get("etag"), 'W/"2"');
  const read = await w.scim(acme, "GET", `/Users/${id}`);
  assert.deepEqual(read.body, winner.body, "the stored user is the winner's body");
  const i = Number(winner.body.displayName.replace("Writer ", ""));
  const row = await w.db
    .prepare("SELECT version, display_name, doc FROM users WHERE tenant_id = 'acme' AND id = ?")
    .bind(id)
    .first();
  assert.equal(row.version, 2);
  assert.equal(row.display_name, `Writer ${i}`);
  assert.equal(JSON.parse(row.doc).displayName, `Writer ${i}`);
  const emails = await w.db
    .prepare("SELECT value_key FROM user_emails WHERE tenant_id = 'acme' AND user_id = ?")
    .bind(id)
    .all();
  assert.deepEqual(emails.results.map((r) => r.value_key), [`writer-${i}@example.com`]);
});

test(
  "concurrent PATCHes of one user without If-Match all apply, one after another (RFC 7644 §3.5.2; 412 is for a failed If-Match, §3.14)",
  async (t) => {
    const created = await w.scim(acme, "POST", "/Users", { schemas: [USER], userName: "patched-in-parallel@example.com" });
    const id = created.body.id;
    const n = 10;
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        w.scim(acme, "PATCH", `/Users/${id}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: "replace", path: "displayName", value: `Patcher ${i}` }],
        }),
      ),
    );
    t.diagnostic(`statuses ${JSON.stringify(tally(responses))}`);
    assert.deepEqual(tally(responses), { 200: n });
    const row = await w.db.prepare("SELECT version FROM users WHERE tenant_id = 'acme' AND id = ?").bind(id).first();
    assert.equal(row.version, 1 + n, "every PATCH was applied");
  },
);
