// The console in a real browser (issue 16): Debian's Chromium, headless,
// driven by playwright-core against the built worker in Miniflare with
// wrangler.toml's [assets]. Screenshots of each screen go to artefacts/
// (git-ignored). scripts/test installs Chromium with apt when it is missing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launch, openPage, shot } from "./lib.mjs";
import { startWorker, ADMIN_JWT_SECRET } from "../e2e/worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

let w, browser;
const platform = () => mintJwt(ADMIN_JWT_SECRET, undefined, 1);

before(async () => {
  w = await startWorker({ port: 0, assets: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await w?.dispose();
});

/** A page that records every script error, to assert there were none. */
const open = (viewport) => openPage(browser, { viewport });


test("the operator signs in, creates a tenant, generates and downloads a token", async () => {
  const page = await open();
  await page.goto(`${w.url}/console/`);
  // A wrong token is refused with a message, and nothing is kept.
  await page.getByLabel("Admin token").fill("not-a-jwt");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  await page.getByLabel("Admin token").fill(platform());
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  await shot(page, "01-tenants");
  await page.getByLabel("Tenant id").fill("acme");
  await page.getByLabel("Name").fill("Acme Inc");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await page.getByRole("heading", { name: "Connect your identity provider: Acme Inc" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/console/tenants/acme");
  assert.equal(await page.locator("#base-url").textContent(), `${w.url}/scim/v2/acme`);

  await page.getByLabel("Token label").fill("okta");
  await page.getByRole("button", { name: "Generate token" }).click();
  const token = await page.locator("#new-token").textContent();
  assert.match(token, /^swt_[0-9a-f]{64}$/);
  await page.getByRole("cell", { name: "okta", exact: true }).waitFor();
  await shot(page, "02-connect");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download JSON" }).click()]);
  assert.equal(download.suggestedFilename(), "scim-acme.json");
  const doc = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.deepEqual(doc, { baseUrl: `${w.url}/scim/v2/acme`, token });
  // The token works over SCIM, and the credential is in session storage only.
  const res = await fetch(`${w.url}/scim/v2/acme/Users`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  // A deep link opens straight on its screen.
  await page.goto(`${w.url}/console/tenants/acme`);
  await page.getByRole("heading", { name: /Acme Inc/ }).waitFor();
  // (The refused sign-in's 401 is the browser's own resource log line.)
  assert.deepEqual(page.errors.filter((e) => !e.includes("status of 401")), []);
});

test("a setup link opens only its tenant, at phone width, and stops when revoked", async () => {
  await w.admin(platform(), "POST", "/tenants", { id: "globex", name: "Globex" });
  const link = await w.admin(platform(), "POST", "/tenants/globex/setup-links", {});
  assert.equal(link.status, 201);
  const page = await open({ width: 390, height: 844 });
  await page.goto(link.body.url);
  await page.getByRole("heading", { name: "Connect your identity provider: Globex" }).waitFor();
  // The credential left the address bar for session storage.
  assert.equal(new URL(page.url()).hash, "");
  assert.equal(await page.evaluate(() => sessionStorage.length), 1);
  await page.getByText("account globex").waitFor();
  await shot(page, "03-setup-phone");
  // It is that tenant's scope only.
  const credential = link.body.url.split("#token=")[1];
  const other = await fetch(`${w.url}/admin/v1/tenants/acme`, { headers: { authorization: `Bearer ${credential}` } });
  assert.equal(other.status, 403);
  // Revoked: the page says so on the next load.
  const revoked = await w.admin(platform(), "DELETE", `/tenants/globex/setup-links/${link.body.id}`);
  assert.equal(revoked.status, 204);
  await page.reload();
  await page.getByRole("heading", { name: /expired or was revoked/ }).waitFor();
  assert.deepEqual(page.errors.filter((e) => !e.includes("status of 401")), []);
});
