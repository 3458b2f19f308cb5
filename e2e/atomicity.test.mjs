// End-to-end hardening (issue 7): a PATCH, PUT or Bulk operation that fails
// part-way leaves no partial write, on the built wasm worker with real D1.
// "Unchanged" is checked byte for byte: the GET response, and the D1 rows
// (users incl. version and doc, user_emails, group_members, groups).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const TENANT = "atom";
// The tenant's custom extension (see e2e/admin.test.mjs).
const URN = `urn:scimworker:scim:schemas:extension:${TENANT}:2:User`;

let w;
let c;
let holder; // a user holding badge 7 and userName "taken@example.com"
before(async () => {
  w = await startWorker();
  c = await w.tenant(TENANT);
  // A "unique number" attribute: its uniqueness is checked by a guard
  // statement that runs LAST in the write's D1 batch, after the users row and
  // the user_emails rows were written, so a duplicate fails the batch
  // part-way: exactly the case where a non-atomic write would leave a
  // half-written user behind.
  const jwt = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
  // Members that do not exist are refused, not skipped (the default): the
  // member cases below fail their write part-way.
  const set = await w.admin(jwt, "PATCH", `/tenants/${TENANT}`, { settings: { unknownMembers: "reject" } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const def = await w.admin(jwt, "PUT", `/tenants/${TENANT}/schema/attributes/badge`, { type: "uniqueNumber" });
  assert.equal(def.status, 201, JSON.stringify(def.body));
  const h = await w.scim(c, "POST", "/Users", {
    schemas: [USER, URN],
    userName: "taken@example.com",
    [URN]: { badge: 7 },
  });
  assert.equal(h.status, 201, JSON.stringify(h.body));
  holder = h.body.id;
});
after(async () => w?.dispose());

async function rows(sql, ...params) {
  return (await w.db.prepare(sql).bind(...params).all()).results;
}

/** Everything stored about a user, and its GET response, for byte-for-byte comparison. */
async function userSnapshot(id) {
  const get = await w.scim(c, "GET", `/Users/${id}`);
  return {
    get: { status: get.status, etag: get.headers.get("etag"), text: get.text },
    user: await rows("SELECT * FROM users WHERE tenant_id = ? AND id = ?", TENANT, id),
    emails: await rows(
      "SELECT * FROM user_emails WHERE tenant_id = ? AND user_id = ? ORDER BY value_key",
      TENANT,
      id,
    ),
    memberships: await rows(
      "SELECT * FROM group_members WHERE tenant_id = ? AND member_id = ? ORDER BY group_id",
      TENANT,
      id,
    ),
  };
}

/** Everything stored about a group, and its GET response. */
async function groupSnapshot(id) {
  const get = await w.scim(c, "GET", `/Groups/${id}`);
  return {
    get: { status: get.status, etag: get.headers.get("etag"), text: get.text },
    group: await rows("SELECT * FROM groups WHERE tenant_id = ? AND id = ?", TENANT, id),
    members: await rows(
      "SELECT * FROM group_members WHERE tenant_id = ? AND group_id = ? ORDER BY member_id",
      TENANT,
      id,
    ),
  };
}

let n = 0;
async function newUser(extra = {}) {
  n += 1;
  const r = await w.scim(c, "POST", "/Users", {
    schemas: [USER, URN],
    userName: `atom-${n}@example.com`,
    displayName: `Atom ${n}`,
    emails: [{ value: `atom-${n}@example.com`, type: "work", primary: true }],
    ...extra,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

async function usersNamed(userName) {
  return rows("SELECT id FROM users WHERE tenant_id = ? AND user_name = ?", TENANT, userName);
}

test("PATCH /Users: valid first op, invalid second op is 400 and changes nothing (RFC 7644 §3.5.2: all or none)", async () => {
  const id = await newUser();
  const before = await userSnapshot(id);
  const cases = [
    // last op: a complex value for a string sub-attribute
    ["invalidValue", [
      { op: "replace", path: "displayName", value: "Changed" },
      { op: "add", path: "emails", value: [{ value: "extra@example.com", type: "home" }] },
      { op: "replace", path: "name.givenName", value: { not: "a string" } },
    ]],
    // second op: an attribute the schema does not define
    ["invalidPath", [
      { op: "add", path: "emails", value: [{ value: "extra@example.com", type: "home" }] },
      { op: "replace", path: "noSuchAttribute", value: "x" },
    ]],
    // second op: remove without a path (RFC 7644 §3.5.2.2: noTarget)
    ["noTarget", [
      { op: "replace", path: "active", value: false },
      { op: "remove" },
    ]],
    // second op: replace of the read-only id (RFC 7643 §3.1: mutability)
    ["mutability", [
      { op: "replace", path: "displayName", value: "Changed" },
      { op: "replace", path: "id", value: "another-id" },
    ]],
  ];
  for (const [scimType, Operations] of cases) {
    const r = await w.scim(c, "PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations });
    assert.equal(r.status, 400, `${JSON.stringify(Operations)} -> ${r.text}`);
    assert.equal(r.body.scimType, scimType, r.text);
    assert.deepEqual(await userSnapshot(id), before, JSON.stringify(Operations));
  }
});

test("PATCH /Users failing inside the D1 batch (duplicate unique number, checked last) rolls back the emails rewrite", async () => {
  const id = await newUser({ [URN]: { badge: 100 } });
  const before = await userSnapshot(id);
  const r = await w.scim(c, "PATCH", `/Users/${id}`, {
    schemas: [PATCH_OP],
    Operations: [
      { op: "replace", path: "emails", value: [{ value: "rewritten@example.com", type: "work" }] },
      { op: "replace", path: "displayName", value: "Rewritten" },
      { op: "replace", path: `${URN}:badge`, value: 7 },
    ],
  });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.body.scimType, "uniqueness");
  assert.deepEqual(await userSnapshot(id), before);
  assert.deepEqual(await rows("SELECT * FROM user_emails WHERE value_key = 'rewritten@example.com'"), []);
});

test("PUT /Users that is invalid or conflicts changes nothing (RFC 7644 §3.5.1)", async () => {
  const id = await newUser({ [URN]: { badge: 200 } });
  const before = await userSnapshot(id);
  const base = {
    schemas: [USER, URN],
    userName: before.user[0].user_name,
    displayName: "Replaced",
    emails: [{ value: "replaced@example.com", type: "work" }],
  };
  const cases = [
    [400, { ...base, active: "sometimes" }, "bad type: active is a boolean"],
    [400, { ...base, name: { givenName: 5 } }, "bad type: name.givenName is a string"],
    [400, { ...base, emails: [{ value: "a@example.com", primary: "yes" }] }, "bad type: emails.primary is a boolean"],
    [409, { ...base, userName: "TAKEN@example.com" }, "userName held by another user (any case)"],
    [409, { ...base, [URN]: { badge: 7 } }, "unique number held by another user (guard runs after the emails rewrite)"],
  ];
  for (const [status, body, why] of cases) {
    const r = await w.scim(c, "PUT", `/Users/${id}`, body);
    assert.equal(r.status, status, `${why}: ${r.text}`);
    if (status === 409) assert.equal(r.body.scimType, "uniqueness", why);
    assert.deepEqual(await userSnapshot(id), before, why);
  }
  assert.deepEqual(await rows("SELECT * FROM user_emails WHERE value_key = 'replaced@example.com'"), []);
  // The holder was not touched either.
  assert.equal((await rows("SELECT version FROM users WHERE id = ?", holder))[0].version, 1);
});

test("POST /Users failing inside the D1 batch leaves no half-written user (no users row, no email rows)", async () => {
  const r = await w.scim(c, "POST", "/Users", {
    schemas: [USER, URN],
    userName: "half@example.com",
    emails: [{ value: "half@example.com", type: "work" }],
    [URN]: { badge: 7 },
  });
  assert.equal(r.status, 409, r.text);
  assert.deepEqual(await usersNamed("half@example.com"), []);
  assert.deepEqual(await rows("SELECT * FROM user_emails WHERE value_key = 'half@example.com'"), []);
  // The userName is free: nothing was left behind to block it.
  const again = await w.scim(c, "POST", "/Users", { schemas: [USER], userName: "half@example.com" });
  assert.equal(again.status, 201);
});

test("unknownMembers reject: PATCH /Groups adding a valid and a non-existent member is 400 and adds neither (RFC 7644 §3.5.2)", async () => {
  const a = await newUser();
  const b = await newUser();
  const g = await w.scim(c, "POST", "/Groups", { schemas: [GROUP], displayName: "Atomic Adds", members: [{ value: a }] });
  assert.equal(g.status, 201);
  const before = await groupSnapshot(g.body.id);
  const cases = [
    // Okta style: one op, two values, the second does not exist.
    [{ op: "add", path: "members", value: [{ value: b }, { value: "00000000-0000-4000-8000-000000000000" }] }],
    // Entra style: two ops; the second adds a member that does not exist.
    [
      { op: "Add", path: "members", value: [{ value: b }] },
      { op: "Add", path: "members", value: [{ value: "no-such-user" }] },
    ],
    // A rename plus a bad member: the rename is not applied either.
    [
      { op: "replace", path: "displayName", value: "Renamed" },
      { op: "add", path: "members", value: [{ value: "no-such-user" }] },
    ],
    // The id exists but as a User, not a Group: no such group exists.
    [{ op: "add", path: "members", value: [{ value: b }, { value: a, type: "Group" }] }],
  ];
  for (const Operations of cases) {
    const r = await w.scim(c, "PATCH", `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations });
    assert.equal(r.status, 400, `${JSON.stringify(Operations)} -> ${r.text}`);
    assert.equal(r.body.scimType, "invalidValue");
    assert.deepEqual(await groupSnapshot(g.body.id), before, JSON.stringify(Operations));
  }
});

test("unknownMembers reject: PUT /Groups with a non-existent member is 400 and leaves members and displayName unchanged", async () => {
  const a = await newUser();
  const b = await newUser();
  const g = await w.scim(c, "POST", "/Groups", { schemas: [GROUP], displayName: "Atomic Put", members: [{ value: a }] });
  const before = await groupSnapshot(g.body.id);
  for (const members of [
    [{ value: b }, { value: "no-such-user" }],
    [{ value: b }, { value: a, type: "Group" }],
  ]) {
    const r = await w.scim(c, "PUT", `/Groups/${g.body.id}`, { schemas: [GROUP], displayName: "Replaced", members });
    assert.equal(r.status, 400, `${JSON.stringify(members)} -> ${r.text}`);
    assert.deepEqual(await groupSnapshot(g.body.id), before, JSON.stringify(members));
  }
});

test("Bulk failOnErrors=1: operations before the failure stay applied, the failing one writes nothing, later ones do not run (RFC 7644 §3.7, §3.7.3)", async () => {
  // RFC 7644 §3.7: Bulk is not a transaction: the service provider performs
  // operations in turn and does not roll back earlier ones; failOnErrors is
  // "the number of errors that the service provider will accept before the
  // operation is terminated", and the BulkResponse lists what was processed.
  // Each single operation must still be all-or-nothing.
  const r = await w.scim(c, "POST", "/Bulk", {
    schemas: [BULK],
    failOnErrors: 1,
    Operations: [
      { method: "POST", path: "/Users", bulkId: "first", data: { schemas: [USER], userName: "bulk-first@example.com" } },
      {
        method: "POST",
        path: "/Users",
        bulkId: "second",
        data: {
          schemas: [USER, URN],
          userName: "bulk-second@example.com",
          emails: [{ value: "bulk-second@example.com", type: "work" }],
          [URN]: { badge: 7 },
        },
      },
      { method: "POST", path: "/Users", bulkId: "third", data: { schemas: [USER], userName: "bulk-third@example.com" } },
    ],
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    r.body.Operations.map((o) => [o.bulkId, o.status]),
    [["first", "201"], ["second", "409"]],
  );
  assert.equal(r.body.Operations[1].response.scimType, "uniqueness");
  assert.equal((await usersNamed("bulk-first@example.com")).length, 1, "the operation before the failure is applied");
  assert.deepEqual(await usersNamed("bulk-second@example.com"), [], "no half-written user");
  assert.deepEqual(await rows("SELECT * FROM user_emails WHERE value_key = 'bulk-second@example.com'"), []);
  assert.deepEqual(await usersNamed("bulk-third@example.com"), [], "not processed after failOnErrors was reached");
});

test("Bulk failOnErrors=1 whose second operation is a partly invalid PATCH: first applied, the user of the second unchanged", async () => {
  const first = await newUser();
  const second = await newUser();
  const third = await newUser();
  const secondBefore = await userSnapshot(second);
  const thirdBefore = await userSnapshot(third);
  const r = await w.scim(c, "POST", "/Bulk", {
    schemas: [BULK],
    failOnErrors: 1,
    Operations: [
      { method: "PATCH", path: `/Users/${first}`, data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "Bulk Patched" }] } },
      {
        method: "PATCH",
        path: `/Users/${second}`,
        data: {
          schemas: [PATCH_OP],
          Operations: [
            { op: "replace", path: "displayName", value: "Must Not Stick" },
            { op: "add", path: "emails", value: [{ value: "must-not-stick@example.com" }] },
            { op: "replace", path: "active", value: "perhaps" },
          ],
        },
      },
      { method: "DELETE", path: `/Users/${third}` },
    ],
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.Operations.map((o) => o.status), ["200", "400"]);
  assert.equal((await w.scim(c, "GET", `/Users/${first}`)).body.displayName, "Bulk Patched");
  assert.deepEqual(await userSnapshot(second), secondBefore);
  assert.deepEqual(await userSnapshot(third), thirdBefore, "the DELETE after the failure did not run");
});
