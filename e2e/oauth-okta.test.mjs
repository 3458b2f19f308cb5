// The OAuth 2.0 authorization code grant with refresh tokens on the built
// worker (issue 15), acting as Okta's OIN SCIM integration does (one client
// for the deployment, redirect URIs https://system-admin.okta.com/admin/app/cpc/<app>/oauth/callback,
// RFC 6749 §4.1 and §6) and as the customer's admin with a connect code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const CLIENT = "okta-e2e-client";
const SECRET = "okta-e2e-secret-0123456789abcdef";
const CALLBACK = "https://system-admin.okta.com/admin/app/cpc/scimworker_e2e/oauth/callback";
let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);

before(async () => {
  w = await startWorker({
    vars: { OKTA_OAUTH_CLIENT_ID: CLIENT, OKTA_OAUTH_CLIENT_SECRET: SECRET, OKTA_APP_NAME: "scimworker_e2e" },
  });
});
after(async () => w?.dispose());

const form = (o) => new URLSearchParams(o).toString();
async function post(path, body, headers = {}) {
  const res = await w.mf.dispatchFetch(`${w.origin}${path}`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body,
  });
  return { status: res.status, location: res.headers.get("location"), text: await res.text(), headers: res.headers };
}
const basic = `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString("base64")}`;
async function users(tenant, access) {
  const res = await w.mf.dispatchFetch(`${w.origin}/scim/v2/${tenant}/Users`, { headers: { authorization: `Bearer ${access}` } });
  await res.text();
  return res.status;
}

test("Okta: authorize, connect code, allow, code for tokens, SCIM, rotating refresh, reuse revokes the family", async () => {
  assert.equal((await admin("POST", "/tenants", { id: "okta-a", name: "Okta A", settings: { authentication: ["token", "oauth"] } })).status, 201);
  const q = { response_type: "code", client_id: CLIENT, redirect_uri: CALLBACK, state: "s-1" };
  const page = await w.mf.dispatchFetch(`${w.origin}/oauth/authorize?${form(q)}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy"), /default-src 'none'/);
  assert.match(await page.text(), /name="connect_code"/);

  const cc = await admin("POST", "/tenants/okta-a/oauth/connect-codes");
  assert.equal(cc.status, 201, cc.text);
  const confirm = await post("/oauth/authorize", form({ ...q, connect_code: cc.body.code }));
  assert.equal(confirm.status, 200, confirm.text);
  assert.match(confirm.text, /Okta A/);
  const ticket = confirm.text.match(/name="ticket" value="([^"]+)"/)[1];
  const allowed = await post("/oauth/authorize/consent", form({ ticket, decision: "allow" }));
  assert.equal(allowed.status, 302);
  const to = new URL(allowed.location);
  assert.equal(`${to.origin}${to.pathname}`, CALLBACK);
  assert.equal(to.searchParams.get("state"), "s-1");
  const code = to.searchParams.get("code");

  const t1 = await post("/oauth/token", form({ grant_type: "authorization_code", code, redirect_uri: CALLBACK }), { authorization: basic });
  assert.equal(t1.status, 200, t1.text);
  assert.equal(t1.headers.get("cache-control"), "no-store");
  const tok1 = JSON.parse(t1.text);
  assert.equal(await users("okta-a", tok1.access_token), 200);
  const t2 = JSON.parse((await post("/oauth/token", form({ grant_type: "refresh_token", refresh_token: tok1.refresh_token }), { authorization: basic })).text);
  assert.notEqual(t2.refresh_token, tok1.refresh_token);
  assert.equal(await users("okta-a", t2.access_token), 200);
  // The used refresh token again: invalid_grant, and everything stops.
  const reused = await post("/oauth/token", form({ grant_type: "refresh_token", refresh_token: tok1.refresh_token }), { authorization: basic });
  assert.equal(reused.status, 400);
  assert.equal(JSON.parse(reused.text).error, "invalid_grant");
  assert.equal(await users("okta-a", t2.access_token), 401);
  // And the code cannot be used again.
  const again = await post("/oauth/token", form({ grant_type: "authorization_code", code, redirect_uri: CALLBACK }), { authorization: basic });
  assert.equal(JSON.parse(again.text).error, "invalid_grant");
});

test("a foreign redirect_uri gets a page, never a redirect", async () => {
  const q = { response_type: "code", client_id: CLIENT, redirect_uri: "https://evil.example.com/cb", state: "x" };
  const res = await w.mf.dispatchFetch(`${w.origin}/oauth/authorize?${form(q)}`, { redirect: "manual" });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("location"), null);
  await res.text();
});
