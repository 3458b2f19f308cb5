// How identity providers authenticate (issue 15), on the built worker in
// Miniflare with real KV: Okta's "HTTP Header" mode (the token with no
// scheme) and "Bearer" mode (Okta OIN SCIM protocol properties), Basic as
// Okta's "SCIM 2.0 Test App (Basic Auth)" sends it (RFC 7617), the tenant's
// authentication setting in its ServiceProviderConfig (RFC 7643 §5), and a
// token rotated with a grace period.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);

before(async () => {
  w = await startWorker();
});
after(async () => w?.dispose());

/** GET /Users of `tenant` with this Authorization header. */
async function users(tenant, authorization) {
  const res = await w.mf.dispatchFetch(`${w.origin}/scim/v2/${tenant}/Users`, { headers: { authorization } });
  await res.text();
  return res.status;
}

const basic = (u, p) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

test("Okta header mode (the token alone), bearer mode, and Basic once the tenant allows it", async () => {
  assert.equal((await admin("POST", "/tenants", { id: "auth-a" })).status, 201);
  assert.equal((await admin("POST", "/tenants", { id: "auth-b" })).status, 201);
  const issued = await admin("POST", "/tenants/auth-a/tokens", { label: "okta" });
  const token = issued.body.token;
  assert.equal(await users("auth-a", token), 200);
  assert.equal(await users("auth-a", `Bearer ${token}`), 200);
  assert.equal(await users("auth-b", token), 401);

  const off = await admin("POST", "/tenants/auth-a/basic-credentials", { label: "okta basic" });
  assert.equal(off.status, 409, off.text);
  const set = await admin("PATCH", "/tenants/auth-a", { settings: { authentication: ["token", "basic"] } });
  assert.equal(set.status, 200, set.text);
  const cred = await admin("POST", "/tenants/auth-a/basic-credentials", { label: "okta basic" });
  assert.equal(cred.status, 201, cred.text);
  const { username, password, id } = cred.body;
  assert.equal(await users("auth-a", basic(username, password)), 200);
  assert.equal(await users("auth-a", basic(username, "wrong")), 401);
  assert.equal(await users("auth-b", basic(username, password)), 401);
  assert.equal(await users("auth-a", `Bearer ${password}`), 401);

  const spc = await w.mf.dispatchFetch(`${w.origin}/scim/v2/auth-a/ServiceProviderConfig`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const schemes = (await spc.json()).authenticationSchemes.map((s) => [s.type, s.primary]);
  assert.deepEqual(schemes, [["oauthbearertoken", true], ["httpbasic", false]]);

  const listed = await admin("GET", "/tenants/auth-a/basic-credentials");
  assert.equal(listed.body.basicCredentials[0].username, username);
  assert.ok(!listed.text.includes(password));
  assert.equal((await admin("DELETE", `/tenants/auth-a/basic-credentials/${id}`)).status, 204);
  assert.equal(await users("auth-a", basic(username, password)), 401);
});

test("a token rotated with graceHours keeps working beside the new one; without, it stops at once", async () => {
  assert.equal((await admin("POST", "/tenants", { id: "auth-r" })).status, 201);
  const first = await admin("POST", "/tenants/auth-r/tokens", { label: "entra" });
  const rotated = await admin("POST", `/tenants/auth-r/tokens/${first.body.id}/rotate`, { graceHours: 24 });
  assert.equal(rotated.status, 201, rotated.text);
  assert.equal(rotated.body.previous.id, first.body.id);
  const hours = (Date.parse(rotated.body.previous.expires) - Date.now()) / 3600e3;
  assert.ok(hours > 23.9 && hours <= 24, `${hours}`);
  assert.equal(await users("auth-r", `Bearer ${first.body.token}`), 200);
  assert.equal(await users("auth-r", `Bearer ${rotated.body.token}`), 200);
  const again = await admin("POST", `/tenants/auth-r/tokens/${rotated.body.id}/rotate`);
  assert.equal(again.status, 201);
  assert.equal(await users("auth-r", `Bearer ${rotated.body.token}`), 401);
  assert.equal(await users("auth-r", `Bearer ${again.body.token}`), 200);
  assert.equal((await admin("POST", `/tenants/auth-r/tokens/${again.body.id}/rotate`, { graceHours: 1000 })).status, 400);
});
