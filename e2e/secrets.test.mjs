// End-to-end hardening (issue 7): secrets never leave the worker. Through a
// series of requests with valid, wrong, revoked and foreign SCIM tokens,
// valid and forged admin JWTs, users carrying a password, and failing
// requests, no SCIM token, admin JWT, admin secret or password appears in
// any response (body or header) or in anything logged: Miniflare's own log
// (request lines included) and workerd's stdout/stderr, where the worker's
// console output goes. Every response carries Cache-Control: no-store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

const logs = [];
let w;
before(async () => {
  w = await startWorker({ logs });
});
after(async () => w?.dispose());

test("no token, JWT, admin secret or password in any response or log line; Cache-Control: no-store everywhere", async () => {
  /** Every exchange: {label, status, headers (entries), text, shownOnce}. */
  const seen = [];
  const record = (label, r, shownOnce = []) => {
    seen.push({ label, status: r.status, headers: [...r.headers.entries()], text: r.text ?? "", shownOnce });
    return r;
  };
  const scim = async (label, creds, method, path, body, headers) =>
    record(label, await w.scim(creds, method, path, body, headers));
  const admin = async (label, jwt, method, path, body) => record(label, await w.admin(jwt, method, path, body));
  /** A raw request (no JSON parsing), e.g. a malformed body or the root. */
  const raw = async (label, url, init) => {
    const res = await w.mf.dispatchFetch(url, init);
    return record(label, { status: res.status, headers: res.headers, text: await res.text() });
  };

  const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
  const tenantJwt = mintJwt(ADMIN_JWT_SECRET, "vault", 1);
  const forgedSecret = "forged-secret-0123456789abcdef0123456789";
  const forged = mintJwt(forgedSecret, undefined, 1);
  const expired = mintJwt(ADMIN_JWT_SECRET, undefined, -1);
  const wrongToken = randomBytes(32).toString("base64url");
  const passwords = ["t1meMa$heen-Secret!", "Sup3r-S3cret-Pa55", "R3placed-Pa55word", "Bulk-Pa55word-9"];

  // Provisioning through the admin API: the issue response is the one place
  // a token is shown, once (and is exempt from the check for that token).
  await admin("create tenant", platform, "POST", "/tenants", { id: "vault" });
  const issued = await w.admin(platform, "POST", "/tenants/vault/tokens", { label: "okta" });
  assert.equal(issued.status, 201);
  record("issue token", issued, [issued.body.token]);
  const doomed = await w.admin(platform, "POST", "/tenants/vault/tokens", { label: "doomed" });
  record("issue token to revoke", doomed, [doomed.body.token]);
  await admin("revoke token", platform, "DELETE", `/tenants/vault/tokens/${doomed.body.id}`);
  const other = await w.tenant("elsewhere");
  const vault = { baseUrl: `${w.origin}/scim/v2/vault`, token: issued.body.token };

  // SCIM requests: valid, wrong, revoked, foreign, missing tokens.
  const created = await scim("POST user with password", vault, "POST", "/Users", {
    schemas: [USER],
    userName: "secretive@example.com",
    emails: [{ value: "secretive@example.com", type: "work" }],
    password: passwords[0],
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.id;
  assert.equal((await scim("wrong token", { ...vault, token: wrongToken }, "GET", "/Users")).status, 401);
  assert.equal((await scim("revoked token", { ...vault, token: doomed.body.token }, "GET", `/Users/${id}`)).status, 401);
  assert.equal((await scim("other tenant's token", { ...vault, token: other.token }, "GET", "/Users")).status, 401);
  assert.equal((await scim("admin JWT as SCIM token", { ...vault, token: platform }, "GET", "/Users")).status, 401);
  assert.equal((await raw("no token", `${vault.baseUrl}/Users`, { method: "GET" })).status, 401);

  // RFC 7643 §4.1: password is returned "never", whatever is asked for.
  for (const [label, path] of [
    ["GET user", `/Users/${id}`],
    ["GET user attributes=password", `/Users/${id}?attributes=password`],
    ["GET user attributes=password,userName", `/Users/${id}?attributes=password,userName`],
    ["list users", "/Users"],
    ["filter users", `/Users?filter=${encodeURIComponent('userName eq "secretive@example.com"')}`],
  ]) {
    const r = await scim(label, vault, "GET", path);
    assert.equal(r.status, 200, `${label}: ${r.text}`);
    assert.ok(!/"password"/i.test(r.text), `${label}: ${r.text}`);
  }
  const patched = await scim("PATCH password", vault, "PATCH", `/Users/${id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: "replace", path: "password", value: passwords[1] }],
  });
  assert.equal(patched.status, 200, patched.text);
  const put = await scim("PUT with password", vault, "PUT", `/Users/${id}`, {
    schemas: [USER],
    userName: "secretive@example.com",
    password: passwords[2],
  });
  assert.equal(put.status, 200, put.text);
  for (const r of [created, patched, put]) assert.equal(r.body.password, undefined);

  // Failing requests that carry a password: 400, 404, 409, 412, 405.
  const failing = [
    [400, "POST password + bad type", "POST", "/Users", { schemas: [USER], userName: "x@example.com", active: "maybe", password: passwords[0] }],
    [400, "POST password of bad type", "POST", "/Users", { schemas: [USER], userName: "y@example.com", password: [passwords[0]] }],
    [409, "POST duplicate with password", "POST", "/Users", { schemas: [USER], userName: "SECRETIVE@example.com", password: passwords[0] }],
    [404, "PATCH unknown user with password", "PATCH", "/Users/no-such-user", { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "password", value: passwords[1] }] }],
    [400, "PATCH password then invalid op", "PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "password", value: passwords[1] }, { op: "replace", path: "noSuchAttribute", value: passwords[1] }] }],
    [400, "PATCH password value object", "PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { password: passwords[1], active: "perhaps" } }] }],
    [400, "PUT password + bad type", "PUT", `/Users/${id}`, { schemas: [USER], userName: "secretive@example.com", name: { givenName: 1 }, password: passwords[2] }],
    [404, "GET unknown", "GET", "/Users/no-such-user", undefined],
    [404, "GET unknown group", "GET", "/Groups/no-such-group", undefined],
    [400, "invalid filter", "GET", `/Users?filter=${encodeURIComponent("userName xx")}`, undefined],
    [405, "PUT on /Users", "PUT", "/Users", { schemas: [USER], userName: "z", password: passwords[0] }],
    [400, "group with a member of a bad type", "POST", "/Groups", { schemas: [GROUP], displayName: "G", members: [{ value: 7 }] }],
  ];
  for (const [status, label, method, path, body] of failing) {
    const r = await scim(label, vault, method, path, body);
    assert.equal(r.status, status, `${label}: ${r.text}`);
  }
  const stale = await scim("PUT with stale If-Match", vault, "PUT", `/Users/${id}`, { schemas: [USER], userName: "secretive@example.com", password: passwords[2] }, { "if-match": 'W/"1"' });
  assert.equal(stale.status, 412);
  const fresh = await scim("GET If-None-Match", vault, "GET", `/Users/${id}`, undefined, { "if-none-match": put.headers.get("etag") });
  assert.equal(fresh.status, 304);
  const malformed = await raw("malformed JSON with password", `${vault.baseUrl}/Users`, {
    method: "POST",
    headers: { authorization: `Bearer ${vault.token}`, "content-type": "application/scim+json" },
    body: `{"schemas": ["${USER}"], "userName": "m", "password": "${passwords[0]}",`,
  });
  assert.equal(malformed.status, 400);
  const bulk = await scim("Bulk with passwords", vault, "POST", "/Bulk", {
    schemas: [BULK],
    Operations: [
      { method: "POST", path: "/Users", bulkId: "ok", data: { schemas: [USER], userName: "bulk@example.com", password: passwords[3] } },
      { method: "POST", path: "/Users", bulkId: "dup", data: { schemas: [USER], userName: "bulk@example.com", password: passwords[3] } },
      { method: "PATCH", path: "/Users/bulkId:ok", data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "password", value: passwords[3] }, { op: "bogus" }] } },
    ],
  });
  assert.equal(bulk.status, 200);
  assert.deepEqual(bulk.body.Operations.map((o) => o.status), ["201", "409", "400"]);
  assert.equal((await scim("DELETE user", vault, "DELETE", `/Users/${id}`)).status, 204);
  await raw("root", `${w.origin}/`, { method: "GET" });
  await raw("unknown path", `${w.origin}/nowhere`, { method: "GET" });

  // Admin API: valid, tenant-scoped, forged, expired, SCIM token as JWT.
  assert.equal((await admin("admin list", platform, "GET", "/tenants")).status, 200);
  assert.equal((await admin("admin tenant scope", tenantJwt, "GET", "/tenants/vault/tokens")).status, 200);
  assert.equal((await admin("admin forbidden", tenantJwt, "GET", "/tenants/elsewhere")).status, 403);
  assert.equal((await admin("admin forged JWT", forged, "GET", "/tenants")).status, 401);
  assert.equal((await admin("admin expired JWT", expired, "GET", "/tenants")).status, 401);
  assert.equal((await admin("admin with SCIM token", vault.token, "GET", "/tenants")).status, 401);
  assert.equal((await admin("admin unknown", platform, "GET", "/nothing-here")).status, 404);
  assert.equal((await admin("admin bad body", platform, "POST", "/tenants", { id: "Bad_Id", extra: platform })).status, 400);
  assert.equal((await admin("admin users", platform, "GET", "/tenants/vault/users")).status, 200);

  // Let workerd's output drain, then stop it so its streams end.
  await new Promise((r) => setTimeout(r, 200));
  await w.dispose();
  w = undefined;

  // The capture works: Miniflare logged a line per request.
  assert.ok(
    logs.some((l) => l.includes("/scim/v2/vault/Users")),
    `request lines are captured: ${JSON.stringify(logs.slice(0, 5))}`,
  );

  const secrets = {
    "SCIM token (issued)": issued.body.token,
    "SCIM token (revoked)": doomed.body.token,
    "SCIM token (other tenant)": other.token,
    "wrong SCIM token": wrongToken,
    "platform admin JWT": platform,
    "tenant admin JWT": tenantJwt,
    "forged admin JWT": forged,
    "expired admin JWT": expired,
    // The signature alone would identify a JWT as well.
    "platform JWT signature": platform.split(".")[2],
    "admin secret": ADMIN_JWT_SECRET,
    "forging secret": forgedSecret,
    ...Object.fromEntries(passwords.map((p, i) => [`password ${i}`, p])),
  };
  const leaks = [];
  for (const ex of seen) {
    const where = [ex.text, ...ex.headers.map(([k, v]) => `${k}: ${v}`)];
    for (const [name, secret] of Object.entries(secrets)) {
      if (ex.shownOnce.includes(secret)) continue;
      if (where.some((s) => s.includes(secret))) leaks.push(`${name} in response to "${ex.label}"`);
    }
  }
  for (const line of logs) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (line.includes(secret)) leaks.push(`${name} in log line ${JSON.stringify(line)}`);
    }
  }
  assert.deepEqual(leaks, []);

  // RFC 9111 §5.2.2.5 no-store on every response: SCIM, errors, admin, 204, 304.
  const cacheable = seen
    .filter((ex) => !ex.headers.some(([k, v]) => k === "cache-control" && /(^|,)\s*no-store\s*(,|$)/.test(v)))
    .map((ex) => `${ex.label} (${ex.status})`);
  assert.deepEqual(cacheable, []);
  const statuses = new Set(seen.map((ex) => ex.status));
  for (const s of [200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412]) assert.ok(statuses.has(s), `a ${s} was checked`);
});

test("the password is stored nowhere: not in any D1 table nor in KV (RFC 7643 §4.1 writeOnly, returned never)", async () => {
  const store = await startWorker();
  try {
    const c = await store.tenant("pw");
    const password = `Pw-${randomBytes(12).toString("hex")}`;
    const r = await store.scim(c, "POST", "/Users", { schemas: [USER], userName: "pw@example.com", password });
    assert.equal(r.status, 201);
    const patched = await store.scim(c, "PATCH", `/Users/${r.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "add", path: "password", value: `${password}-2` }],
    });
    assert.equal(patched.status, 200);
    const tables = await store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    assert.ok(tables.results.length >= 8);
    for (const { name } of tables.results) {
      if (name.startsWith("_cf_") || name.startsWith("sqlite_")) continue;
      const dump = JSON.stringify((await store.db.prepare(`SELECT * FROM "${name}"`).all()).results);
      assert.ok(!dump.includes(password), `password in table ${name}`);
    }
    const keys = (await store.kv.list()).keys.map((k) => k.name);
    const hash = createHash("sha256").update(c.token).digest("hex");
    assert.ok(keys.includes(`scim-token:${hash}`), "KV holds the token's hash");
    for (const k of keys) {
      const v = (await store.kv.get(k)) ?? "";
      assert.ok(!k.includes(c.token) && !v.includes(c.token), `the token itself in KV ${k}`);
      assert.ok(!v.includes(password), `password in KV ${k}`);
    }
  } finally {
    await store.dispose();
  }
});
