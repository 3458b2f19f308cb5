// The console's files as Workers Static Assets (issue 16), on the built
// worker with wrangler.toml's [assets] in Miniflare: the pages and their
// Content-Security-Policy (public/_headers), deep links of both single-page
// apps, and the APIs still answered by the Worker first (run_worker_first).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

let w;
before(async () => {
  w = await startWorker({ assets: true });
});
after(async () => w?.dispose());

const navigate = (path) => w.mf.dispatchFetch(`${w.origin}${path}`, { headers: { "sec-fetch-mode": "navigate", accept: "text/html" } });

test("the console and the setup page, and their deep links, are the app with a strict CSP", async () => {
  const index = readFileSync(new URL("../public/index.html", import.meta.url), "utf8");
  for (const path of ["/console/", "/console/tenants/acme", "/setup/", "/setup/anything"]) {
    const res = await navigate(path);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), index, path);
    const csp = res.headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self'/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
  }
  const js = await w.mf.dispatchFetch(`${w.origin}/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type"), /javascript/);
  assert.match(await js.text(), /sessionStorage/);
});

test("the APIs and / still reach the Worker, even as navigations", async () => {
  const scim = await navigate("/scim/v2/acme/Users");
  assert.equal(scim.status, 401);
  assert.match(scim.headers.get("content-type"), /scim\+json/);
  await scim.text();
  const adminRes = await navigate("/admin/v1/whoami");
  assert.equal(adminRes.status, 401);
  await adminRes.text();
  const who = await w.admin(mintJwt(ADMIN_JWT_SECRET, undefined, 1), "GET", "/whoami");
  assert.equal(who.body.scope, "platform");
  const meta = await navigate("/.well-known/oauth-authorization-server");
  assert.equal((await meta.json()).token_endpoint, `${w.origin}/oauth/token`);
  const root = await navigate("/");
  assert.equal((await root.json()).service, "scim-worker");
});
