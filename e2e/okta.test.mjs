// End-to-end: a full Okta provisioning lifecycle replayed against the built
// wasm worker (Miniflare, D1, KV), in the order Okta sends it.
// Source: shared/docs/idp-behaviour.md, "Both clients" and "Okta" (Okta "SCIM
// 2.0 protocol reference", "Build your SCIM API service", OIN SCIM test plan).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./worker.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCIM_JSON = /^application\/scim\+json/;

let w;
let okta;
before(async () => {
  w = await startWorker();
  okta = await w.tenant("okta-e2e");
});
after(async () => w?.dispose());

const q = (s) => encodeURIComponent(s);
const ops = (Operations) => ({ schemas: [PATCH], Operations });

/** Okta's requests carry JSON bodies as application/scim+json; charset=utf-8. */
function call(method, path, body) {
  const headers = body === undefined ? {} : { "content-type": "application/scim+json; charset=utf-8" };
  return w.scim(okta, method, path, body, headers);
}

/** A ListResponse: integers, itemsPerPage equal to what was returned. */
function assertList(r, total, startIndex = 1) {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.headers.get("content-type"), SCIM_JSON);
  assert.deepEqual(r.body.schemas, [LIST]);
  for (const k of ["totalResults", "itemsPerPage", "startIndex"]) {
    assert.ok(Number.isInteger(r.body[k]), `${k} is an integer: ${JSON.stringify(r.body)}`);
  }
  assert.equal(r.body.totalResults, total);
  assert.equal(r.body.startIndex, startIndex);
  const resources = r.body.Resources ?? [];
  assert.equal(r.body.itemsPerPage, resources.length);
  return resources;
}

function oktaUser(login, externalId, password) {
  return {
    schemas: [USER],
    userName: login,
    name: { givenName: "Test", familyName: "User" },
    emails: [{ primary: true, value: login, type: "work", display: login }],
    displayName: "Test User",
    locale: "en-US",
    externalId,
    groups: [],
    password,
    active: true,
  };
}

async function userRow(id) {
  return w.db
    .prepare("SELECT user_name, external_id, active, version, deleted_at, doc FROM users WHERE id = ?")
    .bind(id)
    .first();
}

async function memberIds(gid) {
  const { results } = await w.db
    .prepare("SELECT member_id FROM group_members WHERE group_id = ? ORDER BY member_id")
    .bind(gid)
    .all();
  return results.map((r) => r.member_id);
}

test("Okta lifecycle: test connector, create, PUT, deactivate, reactivate, group push, import", async (t) => {
  let user;
  let second;
  let group;

  await t.test("test connector: GET /Users?startIndex=1&count=2 (idp-behaviour.md, Okta)", async () => {
    const r = await call("GET", "/Users?startIndex=1&count=2");
    assert.deepEqual(assertList(r, 0), []);
  });

  await t.test("create: lookup by userName with paging, then POST with Okta's body (201, full user)", async () => {
    const lookup = `/Users?filter=${q('userName eq "test.user@okta.local"')}&startIndex=1&count=100`;
    assert.deepEqual(assertList(await call("GET", lookup), 0), []);
    const r = await call("POST", "/Users", oktaUser("Test.User@okta.local", "00ujl29u0le5T6Aj10h7", "1mz050nq!"));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(r.headers.get("content-type"), SCIM_JSON);
    user = r.body;
    assert.ok(user.id);
    assert.equal(user.userName, "Test.User@okta.local");
    assert.deepEqual(user.name, { familyName: "User", givenName: "Test" });
    assert.equal(user.emails[0].display, "Test.User@okta.local");
    assert.equal(user.locale, "en-US");
    assert.equal(user.displayName, "Test User");
    assert.equal(user.externalId, "00ujl29u0le5T6Aj10h7");
    assert.equal(user.active, true);
    assert.equal(user.password, undefined, "password is never returned");
    assert.equal(r.headers.get("location"), user.meta.location);
    const row = await userRow(user.id);
    assert.ok(!row.doc.includes("1mz050nq!"), "the password is stored nowhere");
    assert.ok(!row.doc.includes("password"));
    // The lookup in another case now finds the user as sent.
    const found = assertList(await call("GET", lookup), 1);
    assert.equal(found[0].id, user.id);
    assert.equal(found[0].userName, "Test.User@okta.local");
    // A second create of the same userName in another case is 409 uniqueness.
    const dup = await call("POST", "/Users", oktaUser("TEST.USER@OKTA.LOCAL", "00uOther", "x"));
    assert.equal(dup.status, 409);
    assert.equal(dup.body.scimType, "uniqueness");
    assert.equal(dup.body.status, "409");
    const other = await call("POST", "/Users", oktaUser("second@okta.local", "00uSecond", "pw-2"));
    assert.equal(other.status, 201);
    second = other.body;
  });

  await t.test("update: full PUT with read-only id, meta, groups and a password", async () => {
    const body = {
      ...oktaUser("Test.User@okta.local", "00ujl29u0le5T6Aj10h7", "new-Passw0rd"),
      id: user.id,
      name: { givenName: "Another", familyName: "User" },
      displayName: "Another User",
      groups: [{ value: "not-a-real-group", display: "Fake" }],
      meta: { resourceType: "User", created: "2001-01-01T00:00:00Z", lastModified: "2001-01-01T00:00:00Z" },
    };
    const r = await call("PUT", `/Users/${user.id}`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.id, user.id);
    assert.equal(r.body.name.givenName, "Another");
    assert.equal(r.body.displayName, "Another User");
    assert.equal(r.body.meta.created, user.meta.created);
    assert.equal(r.body.meta.version, 'W/"2"');
    assert.equal(r.body.password, undefined);
    assert.equal(r.body.groups, undefined, "groups come from memberships only");
    const row = await userRow(user.id);
    for (const needle of ["new-Passw0rd", "password", "not-a-real-group", "2001-01-01"]) {
      assert.ok(!row.doc.includes(needle), `${needle} not stored`);
    }
  });

  await t.test("deactivate: PATCH replace {active:false} without a path; still visible", async () => {
    const r = await call("PATCH", `/Users/${user.id}`, ops([{ op: "replace", value: { active: false } }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.active, false);
    assert.equal((await userRow(user.id)).active, 0);
    const g = await call("GET", `/Users/${user.id}`);
    assert.equal(g.status, 200);
    assert.equal(g.body.active, false);
    const f = assertList(await call("GET", `/Users?filter=${q('userName eq "test.user@okta.local"')}&startIndex=1&count=100`), 1);
    assert.equal(f[0].active, false);
  });

  await t.test("reactivate and password sync by PATCH: same id and attributes", async () => {
    const r = await call("PATCH", `/Users/${user.id}`, ops([{ op: "replace", value: { active: true } }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.active, true);
    assert.equal(r.body.id, user.id);
    assert.equal(r.body.name.givenName, "Another");
    assert.equal(r.body.externalId, "00ujl29u0le5T6Aj10h7");
    assert.equal((await userRow(user.id)).active, 1);
    const p = await call("PATCH", `/Users/${user.id}`, ops([{ op: "replace", value: { password: "Synced-9" } }]));
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.password, undefined);
    assert.ok(!(await userRow(user.id)).doc.includes("Synced-9"));
  });

  await t.test("group push: lookup by displayName, POST with members: [], PATCH add/remove, rename with own id", async () => {
    const lookup = `/Groups?filter=${q('displayName eq "Okta Pushed"')}&startIndex=1&count=100`;
    assert.deepEqual(assertList(await call("GET", lookup), 0), []);
    const r = await call("POST", "/Groups", { schemas: [GROUP], displayName: "Okta Pushed", members: [] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    group = r.body;
    assert.equal(group.displayName, "Okta Pushed");
    assert.deepEqual(group.members ?? [], []);
    assert.equal(assertList(await call("GET", lookup), 1)[0].id, group.id);

    const add = await call(
      "PATCH",
      `/Groups/${group.id}`,
      ops([
        { op: "replace", value: { id: group.id, displayName: "Okta Pushed" } },
        {
          op: "add",
          path: "members",
          value: [
            { value: user.id, display: "Test.User@okta.local" },
            { value: second.id, display: "second@okta.local" },
          ],
        },
      ]),
    );
    assert.ok([200, 204].includes(add.status), JSON.stringify(add.body));
    assert.deepEqual(await memberIds(group.id), [user.id, second.id].sort());

    const remove = await call(
      "PATCH",
      `/Groups/${group.id}`,
      ops([
        { op: "replace", value: { id: group.id, displayName: "Okta Pushed" } },
        { op: "remove", path: `members[value eq "${second.id}"]` },
      ]),
    );
    assert.ok([200, 204].includes(remove.status), JSON.stringify(remove.body));
    assert.deepEqual(await memberIds(group.id), [user.id]);

    const ghost = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "add", path: "members", value: [{ value: "00u-not-here" }] }]));
    // Skipped (the default unknownMembers: skip): only existing users
    // become members.
    assert.equal(ghost.status, 204, JSON.stringify(ghost.body));
    assert.deepEqual(await memberIds(group.id), [user.id]);

    const rename = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "replace", value: { id: group.id, displayName: "Okta Renamed" } }]));
    assert.ok([200, 204].includes(rename.status), JSON.stringify(rename.body));
    const g = await call("GET", `/Groups/${group.id}`);
    assert.equal(g.body.displayName, "Okta Renamed");
    assert.deepEqual(g.body.members.map((m) => m.value), [user.id]);
    const u = await call("GET", `/Users/${user.id}`);
    assert.equal(u.body.groups[0].value, group.id);
    assert.equal(u.body.groups[0].display, "Okta Renamed");

    // Membership by a full PUT.
    const put = await call("PUT", `/Groups/${group.id}`, {
      schemas: [GROUP],
      id: group.id,
      displayName: "Okta Renamed",
      members: [{ value: second.id, display: "second@okta.local" }],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(await memberIds(group.id), [second.id]);
  });

  await t.test("import: GET /Users?startIndex=1&count=100 paging until totalResults", async () => {
    for (let i = 0; i < 8; i++) {
      const r = await call("POST", "/Users", oktaUser(`import-${i}@okta.local`, `00uImp${i}`, "x"));
      assert.equal(r.status, 201);
    }
    const total = 10;
    // Page size 3 exercises the same loop Okta runs with 100.
    const seen = [];
    let start = 1;
    for (let pages = 0; pages < 10; pages++) {
      const page = assertList(await call("GET", `/Users?startIndex=${start}&count=3`), total, start);
      seen.push(...page.map((u) => u.id));
      start += page.length;
      if (page.length === 0 || start > total) break;
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total, "every user once");
    assert.equal(seen[0], user.id, "stable insertion order");
    const all = assertList(await call("GET", "/Users?startIndex=1&count=100"), total);
    assert.deepEqual(all.map((u) => u.id), seen);
  });

  // On D1, a statement's meta.changes counts the group_members rows removed
  // by ON DELETE CASCADE (native SQLite does not): this step guards the fix
  // that asks SQLite's own changes() instead.
  await t.test(
    "unlink the pushed group: DELETE /Groups/{id} of a group with members is 204",
    async () => {
      assert.deepEqual(await memberIds(group.id), [second.id]);
      const r = await call("DELETE", `/Groups/${group.id}`);
      assert.equal(r.status, 204, JSON.stringify(r.body));
    },
  );

  await t.test("after the unlink the group is gone; its users stay", async () => {
    assert.equal((await call("GET", `/Groups/${group.id}`)).status, 404);
    assert.equal((await call("GET", `/Users/${second.id}`)).status, 200);
    assert.deepEqual(await memberIds(group.id), []);
    // An empty pushed group unlinks with 204.
    const empty = await call("POST", "/Groups", { schemas: [GROUP], displayName: "Okta Empty", members: [] });
    assert.equal(empty.status, 201);
    assert.equal((await call("DELETE", `/Groups/${empty.body.id}`)).status, 204);
    assert.equal((await call("GET", `/Groups/${empty.body.id}`)).status, 404);
  });
});
