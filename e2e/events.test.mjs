// Provisioning events end to end (issue 14), on the built worker in
// Miniflare with real D1, KV and Queues: every event type a SCIM client or
// the admin API causes, pushed through the `scim-events` queue to a real
// HTTP receiver on 127.0.0.1 and checked against the pull feed
// (`GET /admin/v1/tenants/{t}/events`); the feed's paging, filters and
// retention (the daily cron); and recovery after a worker stops between a
// commit and its queue send (the minute cron). Every delivery's signature is
// verified by the `standardwebhooks` npm package, an implementation of the
// Standard Webhooks specification (standardwebhooks.com) that is not ours.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { startReceiver, until as pollUntil } from "./receiver.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ops = (...Operations) => ({ schemas: [PATCH_OP], Operations });

// Passwords sent in SCIM bodies; no event may carry them (issue 14: "never a
// password"; RFC 7643 §4.1: a password is never returned).
const PASSWORDS = ["Sup3r-Secret-Passw0rd!", "An0ther-Secret-Passw0rd!"];

// RFC 3339, UTC, with milliseconds (issue 14: `occurredAt`).
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let w, receiver, port;
let received = []; // every POST the receiver got: {url, headers, body, at}
const logs = [];

before(async () => {
  const r = await startReceiver();
  ({ server: receiver, port } = r);
  received = r.received;
  w = await startWorker({ logs });
});

after(async () => {
  await w?.dispose();
  receiver?.close();
});

const until = (what, check, ms = 15000, lines = logs) => pollUntil(what, check, ms, lines);

const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
// A platform-scope JWT has no `sub`: the actor is named by its scope (README).
const ADMIN_ACTOR = { type: "admin", id: "platform", label: "platform" };

/** The whole feed of `tenant` on worker `wk`, read page by page. */
async function feed(wk, tenant, query = "") {
  const r = await wk.admin(platform, "GET", `/tenants/${tenant}/events?limit=1000${query}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.next, null);
  return r.body.events;
}

/** Creates a webhook on `tenant` that posts to the receiver's `path`. */
async function webhook(wk, tenant, path, types) {
  const r = await wk.admin(platform, "POST", `/tenants/${tenant}/webhooks`, {
    url: `http://127.0.0.1:${port}${path}`,
    ...(types ? { types } : {}),
  });
  assert.equal(r.status, 201, r.text);
  assert.match(r.body.secret, /^whsec_/);
  return r.body;
}

/**
 * The deliveries the receiver got at `path`, grouped by `webhook-id`, each
 * verified with `secret` (Standard Webhooks: the signature over
 * "id.timestamp.body", a fresh timestamp) and checked to carry its event's
 * id. Returns a Map from event id to the list of parsed bodies delivered.
 */
function deliveredAt(path, secret) {
  const verifier = new Webhook(secret);
  const byId = new Map();
  for (const r of received.filter((x) => x.url === path)) {
    const event = verifier.verify(r.body, r.headers); // throws if forged or stale
    // Standard Webhooks: `webhook-id` is the message id, the dedup key;
    // issue 14: it is the event id.
    assert.equal(r.headers["webhook-id"], event.id);
    assert.equal(r.headers["content-type"], "application/json");
    byId.set(event.id, [...(byId.get(event.id) ?? []), event]);
  }
  return byId;
}

/** Fires a cron trigger (Miniflare's `unsafeTriggerHandlers`); it answers once the handler ran. */
async function cron(wk, expr) {
  const r = await wk.mf.dispatchFetch(`http://x/cdn-cgi/handler/scheduled?cron=${expr}`);
  assert.equal(r.status, 200, await r.text());
}

/** Every key of every object in `v`, recursively. */
function keys(v, out = []) {
  if (Array.isArray(v)) v.forEach((x) => keys(x, out));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      keys(x, out);
    }
  return out;
}

test("every event type reaches the receiver through the queue, signed, and equals the feed", { timeout: 30000 }, async () => {
  const T = "evts";
  const t = await w.tenant(T);
  // Issue 14: an event is delivered to the endpoints that exist when it is
  // dispatched; create them first. One takes everything, one group.* only.
  const all = await webhook(w, T, "/evts/all");
  const groupsOnly = await webhook(w, T, "/evts/groups", ["group.*"]);
  const expect = []; // [type, check(event)] in sequence order

  // --- users over SCIM ---
  let r = await w.scim(t, "POST", "/Users", {
    schemas: [USER],
    userName: "alice@example.com",
    externalId: "ext-alice",
    password: PASSWORDS[0],
    name: { givenName: "Alice" },
  });
  assert.equal(r.status, 201, r.text);
  const alice = r.body.id;
  expect.push(["user.created", (e) => {
    assert.deepEqual(e.resource, { type: "User", id: alice, externalId: "ext-alice", userName: "alice@example.com" });
    assert.equal(e.data.name.givenName, "Alice");
    assert.equal(e.data.meta.version, 'W/"1"');
  }]);

  // Issue 14: a PATCH that changes the document is user.updated with the
  // changed paths and their old values.
  r = await w.scim(t, "PATCH", `/Users/${alice}`, ops({ op: "replace", path: "name.givenName", value: "Alicia" }));
  assert.equal(r.status, 200, r.text);
  expect.push(["user.updated", (e) => {
    assert.deepEqual(e.changed, ["name.givenName"]);
    assert.deepEqual(e.previous, { "name.givenName": "Alice" });
    assert.equal(e.data.name.givenName, "Alicia");
  }]);

  // A PUT (with a password, which no event may show) that adds a familyName.
  r = await w.scim(t, "PUT", `/Users/${alice}`, {
    schemas: [USER],
    userName: "alice@example.com",
    externalId: "ext-alice",
    password: PASSWORDS[1],
    name: { givenName: "Alicia", familyName: "Liddell" },
  });
  assert.equal(r.status, 200, r.text);
  expect.push(["user.updated", (e) => {
    assert.ok(e.changed.includes("name.familyName"), JSON.stringify(e.changed));
    assert.equal(e.previous["name.familyName"], null);
  }]);

  // Okta deactivates with a path-less replace (README sample; issue 14:
  // turning `active` off is user.deactivated whatever else changes).
  r = await w.scim(t, "PATCH", `/Users/${alice}`, ops({ op: "replace", value: { active: false } }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.active, false);
  expect.push(["user.deactivated", (e) => {
    assert.deepEqual(e.changed, ["active"]);
    assert.deepEqual(e.previous, { active: true });
    assert.equal(e.data.active, false);
  }]);
  r = await w.scim(t, "PATCH", `/Users/${alice}`, ops({ op: "replace", path: "active", value: true }));
  assert.equal(r.status, 200, r.text);
  expect.push(["user.reactivated", (e) => {
    assert.deepEqual(e.changed, ["active"]);
    assert.deepEqual(e.previous, { active: false });
    assert.equal(e.data.active, true);
  }]);

  r = await w.scim(t, "POST", "/Users", {
    schemas: [USER],
    userName: "bob@example.com",
    externalId: "ext-bob",
    password: PASSWORDS[0],
  });
  assert.equal(r.status, 201, r.text);
  const bob = r.body.id;
  expect.push(["user.created", (e) => assert.equal(e.resource.id, bob)]);

  // --- groups and membership over SCIM ---
  const memberIs = (e, id, userName) => {
    // Issue 14: membership events name both the group and the member.
    assert.equal(e.resource.type, "Group");
    assert.equal(e.resource.id, gid);
    assert.equal(e.data.group.id, gid);
    assert.equal(e.data.member.type, "User");
    assert.equal(e.data.member.id, id);
    assert.equal(e.data.member.userName, userName);
  };
  r = await w.scim(t, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: "Eng",
    members: [{ value: alice }, { value: bob }],
  });
  assert.equal(r.status, 201, r.text);
  const gid = r.body.id;
  expect.push(["group.created", (e) => {
    assert.deepEqual(e.resource, { type: "Group", id: gid, displayName: "Eng" });
    // Issue 14: `data` is without `members` (membership has its own events).
    assert.equal(e.data.members, undefined);
  }]);
  // One group.member_added per member, in the order the request named them.
  expect.push(["group.member_added", (e) => {
    memberIs(e, alice, "alice@example.com");
    assert.equal(e.data.group.displayName, "Eng");
  }]);
  expect.push(["group.member_added", (e) => memberIs(e, bob, "bob@example.com")]);

  r = await w.scim(t, "PATCH", `/Groups/${gid}`, ops({ op: "replace", path: "displayName", value: "Engineering" }));
  assert.ok([200, 204].includes(r.status), r.text);
  expect.push(["group.updated", (e) => {
    assert.deepEqual(e.changed, ["displayName"]);
    assert.deepEqual(e.previous, { displayName: "Eng" });
    assert.equal(e.resource.displayName, "Engineering");
  }]);

  // Two members leave in one request: one group.member_removed each (in no
  // particular order between them).
  r = await w.scim(
    t,
    "PATCH",
    `/Groups/${gid}`,
    ops(
      { op: "remove", path: `members[value eq "${alice}"]` },
      { op: "remove", path: `members[value eq "${bob}"]` },
    ),
  );
  assert.equal(r.status, 204, r.text);
  const removed = new Set();
  const removedCheck = (e) => {
    assert.equal(e.data.group.displayName, "Engineering");
    const name = e.data.member.id === alice ? "alice@example.com" : "bob@example.com";
    memberIs(e, e.data.member.id, name);
    removed.add(e.data.member.id);
  };
  expect.push(["group.member_removed", removedCheck], ["group.member_removed", removedCheck]);

  r = await w.scim(t, "PATCH", `/Groups/${gid}`, ops({ op: "add", path: "members", value: [{ value: alice }] }));
  assert.equal(r.status, 204, r.text);
  expect.push(["group.member_added", (e) => memberIs(e, alice, "alice@example.com")]);

  // Issue 14: deleting a group is one event, not one per member.
  r = await w.scim(t, "DELETE", `/Groups/${gid}`);
  assert.equal(r.status, 204, r.text);
  expect.push(["group.deleted", (e) => {
    assert.equal(e.resource.id, gid);
    assert.equal(e.data.displayName, "Engineering");
    assert.equal(e.retained, undefined);
  }]);

  // --- the admin API acts on users (actor: the admin token) ---
  r = await w.admin(platform, "POST", `/tenants/${T}/users/${bob}/deactivate`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.active, false);
  expect.push(["user.deactivated", (e) => {
    assert.deepEqual(e.actor, ADMIN_ACTOR);
    assert.deepEqual(e.previous, { active: true });
    assert.equal(e.resource.id, bob);
  }]);
  r = await w.admin(platform, "POST", `/tenants/${T}/users/${bob}/reactivate`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.active, true);
  expect.push(["user.reactivated", (e) => {
    assert.deepEqual(e.actor, ADMIN_ACTOR);
    assert.deepEqual(e.previous, { active: false });
  }]);

  // --- deletes under each deletePolicy, and a restore ---
  // README: deletePolicy defaults to retain (a tombstone stays).
  r = await w.scim(t, "DELETE", `/Users/${alice}`);
  assert.equal(r.status, 204, r.text);
  assert.equal((await w.scim(t, "GET", `/Users/${alice}`)).status, 404);
  expect.push(["user.deleted", (e) => {
    assert.equal(e.retained, true);
    assert.equal(e.resource.id, alice);
    assert.equal(e.data.userName, "alice@example.com");
    assert.equal(e.data.name.familyName, "Liddell"); // its last state
  }]);
  r = await w.admin(platform, "POST", `/tenants/${T}/users/${alice}/restore`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.active, true);
  assert.equal((await w.scim(t, "GET", `/Users/${alice}`)).status, 200);
  expect.push(["user.restored", (e) => {
    assert.deepEqual(e.actor, ADMIN_ACTOR);
    assert.equal(e.data.active, true);
    assert.equal(e.resource.id, alice);
  }]);

  r = await w.admin(platform, "PATCH", `/tenants/${T}`, { settings: { deletePolicy: "remove" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.settings.deletePolicy, "remove");
  r = await w.scim(t, "DELETE", `/Users/${bob}`);
  assert.equal(r.status, 204, r.text);
  assert.equal((await w.admin(platform, "GET", `/tenants/${T}/users/${bob}`)).status, 404);
  expect.push(["user.deleted", (e) => {
    assert.equal(e.retained, false);
    assert.equal(e.resource.id, bob);
  }]);

  // --- the feed: what was recorded, in order ---
  const events = await feed(w, T);
  assert.deepEqual(events.map((e) => e.type), expect.map(([type]) => type));
  for (const [i, e] of events.entries()) {
    // Issue 14: sequence is per tenant, strictly increasing, no gaps.
    assert.equal(e.sequence, i + 1);
    assert.equal(e.tenant, T);
    assert.match(e.id, /^evt_[0-9a-f]+$/);
    assert.match(e.occurredAt, RFC3339_MS);
    assert.ok(!Number.isNaN(Date.parse(e.occurredAt)));
    assert.ok(typeof e.requestId === "string" && e.requestId.length >= 16, e.requestId);
    if (e.actor.type !== "admin") assert.deepEqual([e.actor.type, e.actor.label], ["scim", "e2e"]);
    assert.ok(e.actor.id);
    // Issue 14: `data` is without `groups`/`members` and never a password.
    assert.equal(e.data.groups, undefined);
    assert.ok(!keys(e.data).some((k) => k.toLowerCase() === "password"), JSON.stringify(e.data));
    expect[i][1](e);
  }
  assert.deepEqual(removed, new Set([alice, bob]));
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, "event ids are unique");
  const feedText = JSON.stringify(events);
  for (const p of PASSWORDS) assert.ok(!feedText.includes(p), "no password in the feed");

  // --- push: every event delivered, verified, equal to the feed's ---
  const delivered = await until("all events at the receiver", () => {
    const d = deliveredAt("/evts/all", all.secret);
    return d.size === events.length ? d : null;
  });
  for (const e of events) {
    const copies = delivered.get(e.id);
    assert.ok(copies, `event ${e.sequence} ${e.type} was not delivered`);
    // At least once; every copy is the same event.
    for (const c of copies) assert.deepEqual(c, e);
  }
  for (const r of received.filter((x) => x.url.startsWith("/evts/")))
    for (const p of PASSWORDS) assert.ok(!r.body.includes(p), "no password in a delivery");

  // The group.* endpoint got exactly the group events, signed with its own secret.
  const groupEvents = events.filter((e) => e.type.startsWith("group."));
  const toGroups = await until("the group events", () => {
    const d = deliveredAt("/evts/groups", groupsOnly.secret);
    return d.size === groupEvents.length ? d : null;
  });
  assert.deepEqual([...toGroups.keys()].sort(), groupEvents.map((e) => e.id).sort());
  const one = received.find((x) => x.url === "/evts/groups");
  assert.throws(() => new Webhook(all.secret).verify(one.body, one.headers), "another endpoint's secret does not verify");

  // Issue 14: the deliveries API shows each delivered (any 2xx is success, Standard Webhooks).
  await until("every delivery recorded as delivered", async () => {
    const d = (await w.admin(platform, "GET", `/tenants/${T}/webhooks/${all.id}/deliveries?limit=1000`)).body.deliveries;
    return d.length === events.length && d.every((x) => x.state === "delivered");
  });
});

test("the feed pages by cursor, filters by type and resource, and drops events past eventRetentionDays", { timeout: 20000 }, async () => {
  const T = "feed";
  const t = await w.tenant(T);
  assert.deepEqual((await w.admin(platform, "GET", `/tenants/${T}/events`)).body, { events: [], next: null });
  const ids = [];
  for (const name of ["u1", "u2", "u3"]) {
    const r = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: `${name}@example.com` });
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  const [u1, u2, u3] = ids;
  let r = await w.scim(t, "POST", "/Groups", { schemas: [GROUP], displayName: "G", members: [{ value: u1 }] });
  assert.equal(r.status, 201, r.text);
  const gid = r.body.id;
  r = await w.scim(t, "PATCH", `/Users/${u2}`, ops({ op: "add", path: "title", value: "Engineer" }));
  assert.equal(r.status, 200, r.text);
  // 1-3 user.created, 4 group.created, 5 group.member_added (u1), 6 user.updated (u2)
  const events = await feed(w, T);
  assert.deepEqual(
    events.map((e) => [e.sequence, e.type]),
    [[1, "user.created"], [2, "user.created"], [3, "user.created"], [4, "group.created"], [5, "group.member_added"], [6, "user.updated"]],
  );

  const get = async (q) => {
    const res = await w.admin(platform, "GET", `/tenants/${T}/events${q}`);
    assert.equal(res.status, 200, `${q}: ${res.text}`);
    return res.body;
  };
  const seqs = (page) => page.events.map((e) => e.sequence);

  // Issue 14 / README "Pull": `next` is the cursor of the page's last event
  // when more follow, else null; `after=<sequence>` continues after it.
  let page = await get("?limit=4");
  assert.deepEqual(seqs(page), [1, 2, 3, 4]);
  assert.equal(page.next, "4");
  page = await get(`?limit=4&after=${page.next}`);
  assert.deepEqual(seqs(page), [5, 6]);
  assert.equal(page.next, null);
  // Following `next` with limit=2 reads the whole feed, unchanged.
  const followed = [];
  let cursor = "0";
  for (let i = 0; i < 10 && cursor !== null; i++) {
    page = await get(`?limit=2&after=${cursor}`);
    followed.push(...page.events);
    cursor = page.next;
  }
  assert.equal(cursor, null);
  assert.deepEqual(followed, events);
  // Past the end: empty, next null (a follower polls again with the same cursor).
  assert.deepEqual(await get("?after=6"), { events: [], next: null });

  // Issue 14: `types` takes a prefix wildcard, a comma list, and both mixed.
  assert.deepEqual(seqs(await get("?types=user.*")), [1, 2, 3, 6]);
  assert.deepEqual(seqs(await get("?types=group.created,group.member_added")), [4, 5]);
  assert.deepEqual(seqs(await get("?types=user.updated,group.*")), [4, 5, 6]);
  assert.deepEqual(seqs(await get("?types=user.*&limit=2")), [1, 2]);
  assert.equal((await get("?types=user.*&limit=2")).next, "2");
  assert.deepEqual(seqs(await get("?types=user.*&limit=2&after=2")), [3, 6]);
  // Issue 14: `resource` selects events about that user or group, or with it as the member.
  assert.deepEqual(seqs(await get(`?resource=${u1}`)), [1, 5]);
  assert.deepEqual(seqs(await get(`?resource=${gid}`)), [4, 5]);
  assert.deepEqual(seqs(await get(`?resource=${u1}&types=user.*`)), [1]);
  assert.deepEqual(seqs(await get(`?resource=${u3}`)), [3]);

  // Issue 14 (README "Pull"): `limit` is 1 to 1000; outside (or not a number) is 400 with a reason.
  for (const bad of ["?limit=0", "?limit=1001", "?limit=-1", "?limit=ten"]) {
    const res = await w.admin(platform, "GET", `/tenants/${T}/events${bad}`);
    assert.equal(res.status, 400, `${bad}: ${res.text}`);
    assert.match(res.body.detail, /limit/);
  }
  assert.equal(seqs(await get("?limit=1000")).length, 6);
  assert.equal(seqs(await get("?limit=1")).length, 1);

  // --- retention (issue 14; README: tenant setting eventRetentionDays, 1 to 365; the daily cron 17 3 * * *) ---
  r = await w.admin(platform, "PATCH", `/tenants/${T}`, { settings: { eventRetentionDays: 1 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.settings.eventRetentionDays, 1);
  // Another tenant keeps the default 30 days: its 2-day-old events stay.
  const other = await w.tenant("feed-default");
  r = await w.scim(other, "POST", "/Users", { schemas: [USER], userName: "keep@example.com" });
  assert.equal(r.status, 201, r.text);
  // A tenant whose every event is past retention: its feed empties.
  const emptied = await w.tenant("feed-all");
  r = await w.admin(platform, "PATCH", `/tenants/feed-all`, { settings: { eventRetentionDays: 1 } });
  assert.equal(r.status, 200, r.text);
  for (const name of ["a", "b"]) {
    r = await w.scim(emptied, "POST", "/Users", { schemas: [USER], userName: `${name}@example.com` });
    assert.equal(r.status, 201, r.text);
  }
  const twoDaysAgo = new Date(Date.now() - 2 * 86400_000).toISOString();
  await w.db
    .prepare("UPDATE events SET occurred_at = ? WHERE (tenant_id = ? AND sequence <= 3) OR tenant_id IN (?, ?)")
    .bind(twoDaysAgo, T, "feed-default", "feed-all")
    .run();
  await cron(w, "17+3+*+*+*");
  assert.deepEqual(await feed(w, "feed-all"), []);
  // Its next event is 3, not 1 again: a follower holding cursor 2 sees it.
  r = await w.scim(emptied, "POST", "/Users", { schemas: [USER], userName: "c@example.com" });
  assert.equal(r.status, 201, r.text);
  const resumed = await w.admin(platform, "GET", `/tenants/feed-all/events?after=2`);
  assert.deepEqual(resumed.body.events.map((e) => [e.sequence, e.type]), [[3, "user.created"]]);
  const kept = await feed(w, T);
  assert.deepEqual(kept.map((e) => e.sequence), [4, 5, 6]);
  assert.deepEqual(kept, events.slice(3), "the recent events stay as they were");
  assert.equal((await feed(w, "feed-default")).length, 1);
  // An older cursor continues at the oldest event left.
  assert.deepEqual(seqs(await get("?after=1&limit=2")), [4, 5]);
  // The next event continues the sequence: no number is reused.
  r = await w.scim(t, "DELETE", `/Users/${u3}`);
  assert.equal(r.status, 204, r.text);
  const continued = await feed(w, T);
  assert.deepEqual(continued.map((e) => [e.sequence, e.type]), [[4, "group.created"], [5, "group.member_added"], [6, "user.updated"], [7, "user.deleted"]]);
  // Running retention again changes nothing more.
  await cron(w, "17+3+*+*+*");
  assert.deepEqual(await feed(w, T), continued);
});

test("a worker stopped between commit and queue send loses no event: the minute cron delivers each once", { timeout: 30000 }, async () => {
  const T = "restart";
  const dir = mkdtempSync(join(tmpdir(), "scim-events-e2e-"));
  const firstLogs = [];
  const secondLogs = [];
  let first, second;
  try {
    // The first worker's queue has no consumer: each write commits its
    // events, and its dispatch message is never handled (it is gone when
    // the worker is disposed), as when a worker stops right after a commit.
    first = await startWorker({ persist: dir, consumeQueues: false, logs: firstLogs });
    const t = await first.tenant(T);
    const hook = await webhook(first, T, "/restart");
    const ids = [];
    for (const name of ["r1", "r2", "r3"]) {
      const r = await first.scim(t, "POST", "/Users", { schemas: [USER], userName: `${name}@example.com`, password: PASSWORDS[0] });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
    let r = await first.scim(t, "PATCH", `/Users/${ids[0]}`, ops({ op: "replace", value: { active: false } }));
    assert.equal(r.status, 200, r.text);
    r = await first.scim(t, "POST", "/Groups", { schemas: [GROUP], displayName: "R", members: [{ value: ids[1] }, { value: ids[2] }] });
    assert.equal(r.status, 201, r.text);
    const events = await feed(first, T);
    assert.deepEqual(events.map((e) => e.type), [
      "user.created", "user.created", "user.created", "user.deactivated",
      "group.created", "group.member_added", "group.member_added",
    ]);
    // Committed, never dispatched: no delivery exists, nothing was sent.
    const undispatched = async (wk) =>
      (await wk.db.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND dispatched = 0").bind(T).first()).n;
    assert.equal(await undispatched(first), events.length);
    assert.equal((await first.db.prepare("SELECT count(*) AS n FROM deliveries WHERE tenant_id = ?").bind(T).first()).n, 0);
    await first.dispose();
    first = undefined;
    assert.equal(received.filter((x) => x.url === "/restart").length, 0);

    // A normal worker on the same data.
    second = await startWorker({ persist: dir, logs: secondLogs });
    assert.deepEqual(await feed(second, T), events, "the events survived the restart");
    // src/server/cron.rs: the minute cron re-dispatches a tenant whose
    // events are undispatched more than 60 s after they were recorded. A
    // sentinel tenant's delivery (queued after the cron ran) shows the cron
    // left these recent events alone.
    const sentinel = await second.tenant("restart-sentinel");
    const sentinelHook = await webhook(second, "restart-sentinel", "/restart-sentinel");
    await cron(second, "*+*+*+*+*");
    r = await second.scim(sentinel, "POST", "/Users", { schemas: [USER], userName: "s1@example.com" });
    assert.equal(r.status, 201, r.text);
    await until("the sentinel delivery", () => deliveredAt("/restart-sentinel", sentinelHook.secret).size === 1, 15000, secondLogs);
    assert.equal(await undispatched(second), events.length, "not stalled yet: left alone");
    assert.equal(received.filter((x) => x.url === "/restart").length, 0);

    // Now they are older than a minute: the cron dispatches them.
    const twoMinutesAgo = new Date(Date.now() - 120_000).toISOString();
    await second.db.prepare("UPDATE events SET occurred_at = ? WHERE tenant_id = ? AND dispatched = 0").bind(twoMinutesAgo, T).run();
    const backdated = await feed(second, T);
    await cron(second, "*+*+*+*+*");
    const delivered = await until(
      "every recovered event at the receiver",
      () => {
        const d = deliveredAt("/restart", hook.secret); // the secret shown by the first worker
        return d.size === events.length ? d : null;
      },
      15000,
      secondLogs,
    );
    for (const e of backdated) {
      assert.deepEqual(delivered.get(e.id), [e], `event ${e.sequence} delivered exactly once, as the feed has it`);
    }
    await until("all deliveries recorded as delivered", async () => {
      const d = (await second.admin(platform, "GET", `/tenants/${T}/webhooks/${hook.id}/deliveries?limit=1000`)).body.deliveries;
      return d.length === events.length && d.every((x) => x.state === "delivered");
    }, 15000, secondLogs);
    assert.equal(await undispatched(second), 0);

    // The cron again finds nothing to do. A new write (its dispatch queued
    // after the cron ran) is delivered, and nothing else arrives again.
    await cron(second, "*+*+*+*+*");
    r = await second.scim(t, "PATCH", `/Users/${ids[0]}`, ops({ op: "replace", path: "active", value: true }));
    assert.equal(r.status, 200, r.text);
    const [latest] = (await feed(second, T)).slice(-1);
    assert.equal(latest.type, "user.reactivated");
    assert.equal(latest.sequence, events.length + 1, "the sequence continues across the restart");
    const final = await until("the new event at the receiver", () => {
      const d = deliveredAt("/restart", hook.secret);
      return d.has(latest.id) ? d : null;
    }, 15000, secondLogs);
    assert.equal(final.size, events.length + 1);
    for (const [id, copies] of final) assert.equal(copies.length, 1, `${id} delivered once`);
    assert.equal((await second.db.prepare("SELECT count(*) AS n FROM deliveries WHERE tenant_id = ?").bind(T).first()).n, events.length + 1);
    for (const x of received.filter((x) => x.url === "/restart"))
      for (const p of PASSWORDS) assert.ok(!x.body.includes(p), "no password in a delivery");
  } finally {
    await first?.dispose();
    await second?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
