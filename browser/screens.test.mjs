// Every screen of the console in a real browser (Debian's Chromium,
// headless, playwright-core) against the built worker in Miniflare with
// wrangler.toml's [assets]: attributes, users and groups provisioned over
// SCIM, the other credential modes, activity (request log and live event
// feed), webhooks to a local receiver, roles, settings, and the setup page
// at phone width. Screenshots of each screen go to artefacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, shot } from "./lib.mjs";
import { Webhook } from "standardwebhooks";
import { startWorker, ADMIN_JWT_SECRET } from "../e2e/worker.mjs";
import { startReceiver, until } from "../e2e/receiver.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const OKTA_AGENT = "Okta SCIM Client 1.0.0";
const T = "initech";
let w, browser, receiver, token, urn;
const platform = () => mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform(), method, path, body);

before(async () => {
  receiver = await startReceiver();
  w = await startWorker({ port: 0, assets: true });
  browser = await launch();
  const t = await admin("POST", "/tenants", { id: T, name: "Initech" });
  assert.equal(t.status, 201, t.text);
  urn = t.body.schemaUrn;
  token = (await admin("POST", `/tenants/${T}/tokens`, { label: "okta" })).body.token;
});
after(async () => {
  await browser?.close();
  await w?.dispose();
  receiver?.server.close();
});

/** A SCIM request as Okta would send it, with the tenant's token. */
async function scim(method, path, body, headers = {}) {
  const res = await fetch(`${w.url}/scim/v2/${T}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json", "user-agent": OKTA_AGENT, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A page that records script errors and accepts confirm() dialogs. */
const open = (viewport) =>
  openPage(browser, { viewport, onDialog: (d) => (d.type() === "prompt" ? d.accept(T) : d.accept()) });

async function signedIn(path, viewport) {
  const page = await open(viewport);
  await page.goto(`${w.url}/console/`);
  await page.getByLabel("Admin token").fill(platform());
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  if (path) {
    await page.goto(`${w.url}${path}`);
  }
  return page;
}

/** Script errors; the browser's own lines for API answers a test provoked on purpose are not. */
const scriptErrors = (page) => page.errors.filter((e) => !/Failed to load resource: the server responded with a status of (400|401|404|409)/.test(e));
const focusedId = (page) => page.evaluate(() => document.activeElement?.id);

test("attributes: define all kinds, edit, remove, with the exact strings for Okta and Entra", async () => {
  const page = await signedIn(`/console/tenants/${T}/attributes`);
  await page.getByRole("heading", { name: "Attributes: Initech" }).waitFor();
  await page.getByText("No custom attribute yet").waitFor();
  // The section nav marks where we are.
  assert.equal(await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Attributes" }).getAttribute("aria-current"), "page");

  await page.locator("#attr-name").fill("costCenter");
  await page.locator("#attr-type").selectOption("string");
  await page.getByRole("button", { name: "Define attribute" }).click();
  await page.getByRole("cell", { name: "costCenter", exact: true }).waitFor();
  const row = page.getByRole("row").filter({ has: page.getByRole("cell", { name: "costCenter", exact: true }) });
  assert.equal(await row.locator(".okta-name").textContent(), "costCenter");
  assert.equal(await row.locator(".okta-namespace").textContent(), urn);
  assert.equal(await row.locator(".entra-name").textContent(), `${urn}:costCenter`);

  // A dropdown: its values, multi-valued; then edited to add one.
  await page.locator("#attr-name").fill("level");
  await page.locator("#attr-type").selectOption("dropdown");
  await page.getByLabel("Dropdown values").fill("junior\nsenior");
  await page.getByLabel("Multi-valued").check();
  await page.getByRole("button", { name: "Define attribute" }).click();
  const level = page.getByRole("row").filter({ has: page.getByRole("cell", { name: "level", exact: true }) });
  await level.getByText("values: junior, senior").waitFor();
  assert.match(await level.textContent(), /multi-valued/);
  await page.getByRole("button", { name: "Edit level" }).click();
  await page.getByRole("heading", { name: "Edit level" }).waitFor();
  assert.equal(await page.locator("#attr-name").inputValue(), "level");
  await page.getByLabel("Dropdown values").fill("junior\nsenior\nlead");
  await page.getByRole("button", { name: "Save attribute" }).click();
  await level.getByText("values: junior, senior, lead").waitFor();
  const defs = (await admin("GET", `/tenants/${T}/schema`)).body.attributes;
  assert.deepEqual(defs.find((d) => d.name === "level").values, ["junior", "senior", "lead"]);

  // The API's refusal shows as an alert with its detail: names differ only in case.
  await page.locator("#attr-name").fill("CostCenter");
  await page.locator("#attr-type").selectOption("integer");
  await page.getByRole("button", { name: "Define attribute" }).click();
  const refused = page.getByRole("alert").filter({ hasText: /costCenter|case/i });
  await refused.waitFor();

  // Every type can be defined; one is removed again.
  for (const type of ["integer", "number", "boolean", "date", "dateTime", "currency", "uniqueNumber", "userReference"]) {
    await page.locator("#attr-name").fill(`x${type}`);
    await page.locator("#attr-type").selectOption(type);
    await page.getByRole("button", { name: "Define attribute" }).click();
    await page.getByRole("cell", { name: `x${type}`, exact: true }).waitFor();
  }
  await page.getByRole("button", { name: "Remove xboolean" }).click();
  await page.getByRole("cell", { name: "xboolean", exact: true }).waitFor({ state: "detached" });
  const currency = page.getByRole("row").filter({ has: page.getByRole("cell", { name: "xcurrency", exact: true }) });
  assert.match(await currency.textContent(), /sub-attributes amount, currency/);
  await shot(page, "04-attributes");

  // The URN: set one, the strings follow; back to the default.
  await page.getByLabel("Extension URN").fill("urn:example:initech:2:User");
  await page.getByRole("button", { name: "Save URN" }).click();
  await row.locator(".entra-name").filter({ hasText: "urn:example:initech:2:User:costCenter" }).waitFor();
  await page.getByRole("button", { name: "Use the default URN" }).click();
  await row.locator(".entra-name").filter({ hasText: `${urn}:costCenter` }).waitFor();
  assert.equal(await page.getByLabel("Extension URN").inputValue(), urn);
  assert.deepEqual(scriptErrors(page), []);
});

let alice, bob;
test("users and groups: a user provisioned over SCIM appears; filter, paging, detail, deactivate, reactivate, restore", async (t) => {
  const a = await scim("POST", "/Users", {
    schemas: [USER, urn], userName: "alice@initech.example", name: { givenName: "Alice", familyName: "Smith" },
    emails: [{ value: "alice@initech.example", type: "work", primary: true }], password: "s3cret-Passw0rd", bogus: 1,
    [urn]: { costCenter: "CC-42", level: ["senior"] },
  });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  alice = a.body.id;
  bob = (await scim("POST", "/Users", { schemas: [USER], userName: "bob@initech.example" })).body.id;
  const g = await scim("POST", "/Groups", { schemas: [GROUP], displayName: "Engineering", externalId: "okta-eng", members: [{ value: alice }] });
  assert.equal(g.status, 201);
  assert.equal((await scim("DELETE", `/Users/${bob}`)).status, 204);
  // A refused write, for the request log.
  assert.equal((await scim("POST", "/Users", { schemas: [USER], userName: "alice@initech.example" })).status, 409);

  const page = await signedIn(`/console/tenants/${T}`);
  await page.getByRole("heading", { name: "Connect your identity provider: Initech" }).waitFor();
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Users" }).click();
  await page.getByRole("heading", { name: "Users: Initech" }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/console/tenants/${T}/users`);
  assert.equal(await focusedId(page), "main");
  const aliceRow = page.getByRole("row").filter({ hasText: "alice@initech.example" });
  await aliceRow.getByText("active", { exact: true }).waitFor();
  assert.match(await aliceRow.textContent(), /Alice Smith/);
  await page.getByRole("row").filter({ hasText: "bob@initech.example" }).getByText("deleted", { exact: true }).waitFor();
  await shot(page, "05-users");

  // The filter goes to the API and into the address bar.
  await page.getByLabel("SCIM filter").fill('userName eq "alice@initech.example"');
  await page.getByRole("button", { name: "Apply filter" }).click();
  await page.waitForURL(/filter=/);
  await page.getByRole("button", { name: "Clear filter" }).waitFor();
  await page.getByText("Showing 1–1 of 1").waitFor();
  await page.getByRole("link", { name: "bob@initech.example" }).waitFor({ state: "detached" });
  // A malformed filter: the API's detail, as an alert.
  await page.getByLabel("SCIM filter").fill('userName eq');
  await page.getByRole("button", { name: "Apply filter" }).click();
  await page.getByRole("alert").filter({ hasText: /filter/i }).waitFor();
  await page.getByRole("heading", { name: "Users: Initech" }).waitFor();
  await page.getByRole("button", { name: "Clear filter" }).click();
  await page.waitForURL((u) => !u.search.includes("filter"));

  // The user's detail: every attribute, groups, roles; status actions.
  await page.getByRole("link", { name: "alice@initech.example" }).click();
  await page.getByRole("heading", { name: "alice@initech.example" }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/console/tenants/${T}/users/${alice}`);
  await page.getByRole("cell", { name: "CC-42" }).waitFor();
  await page.getByRole("cell", { name: "name.givenName" }).waitFor();
  await page.getByRole("heading", { name: urn }).waitFor();
  await page.getByRole("link", { name: "Engineering" }).waitFor();
  await page.getByRole("heading", { name: "Roles" }).waitFor();
  assert.equal(await page.getByText("s3cret").count(), 0);
  await page.getByRole("button", { name: "Deactivate user" }).click();
  await page.locator(".badge.inactive").waitFor();
  assert.equal((await admin("GET", `/tenants/${T}/users/${alice}`)).body.active, false);
  await shot(page, "06-user");
  await page.getByRole("button", { name: "Reactivate user" }).click();
  await page.locator(".badge.active").waitFor();
  // The deep link works on reload.
  await page.reload();
  await page.getByRole("heading", { name: "alice@initech.example" }).waitFor();

  // A tombstone is restored.
  await page.goto(`${w.url}/console/tenants/${T}/users/${bob}`);
  await page.getByRole("heading", { name: "bob@initech.example" }).waitFor();
  await page.locator(".badge.deleted").waitFor();
  await page.getByRole("button", { name: "Restore user" }).click();
  await page.locator(".badge.active").waitFor();
  assert.equal((await admin("GET", `/tenants/${T}/users/${bob}`)).body.deleted, undefined);

  // Paging: 30 users in all, 25 a page.
  await Promise.all(Array.from({ length: 28 }, (_, i) => scim("POST", "/Users", { schemas: [USER], userName: `user${String(i).padStart(2, "0")}@initech.example` })));
  await page.getByRole("link", { name: "← All users" }).click();
  await page.getByText("Showing 1–25 of 30").waitFor();
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByText("Showing 26–30 of 30").waitFor();
  // By cursor where the API gives one, else by startIndex; either way in the address bar.
  assert.match(new URL(page.url()).search, /cursor=|startIndex=26/);
  await page.reload();
  await page.getByText("Showing 26–30 of 30").waitFor();
  assert.equal(await page.getByRole("button", { name: "Next page" }).isDisabled(), true);
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.getByText("Showing 1–25 of 30").waitFor();

  // Groups: the table and a group's members with their names.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Groups" }).click();
  await page.getByRole("heading", { name: "Groups: Initech" }).waitFor();
  await page.getByRole("cell", { name: "okta-eng" }).waitFor();
  await shot(page, "07-groups");
  await page.getByRole("link", { name: "Engineering" }).click();
  await page.getByRole("heading", { name: "Engineering" }).waitFor();
  await page.getByRole("heading", { name: "Members (1)" }).waitFor();
  await page.getByRole("link", { name: "alice@initech.example" }).waitFor();
  await shot(page, "07-group");
  assert.deepEqual(scriptErrors(page), []);
});

test("connect: live connection status, Basic credentials, OAuth clients, Okta connect code, setup links", async () => {
  const page = await signedIn(`/console/tenants/${T}`);
  await page.getByRole("heading", { name: "Connect your identity provider: Initech" }).waitFor();
  // Okta's User-Agent in the request log names the IdP.
  await page.locator("#connection").getByText(/Okta connected (just now|\d+ minutes? ago)/).waitFor();

  await page.getByRole("button", { name: "Allow Basic authentication" }).click();
  await page.getByRole("button", { name: "Issue Basic credential" }).waitFor();
  await page.getByLabel("Credential label").fill("onelogin");
  await page.getByRole("button", { name: "Issue Basic credential" }).click();
  const username = await page.locator("#basic-username").textContent();
  const password = await page.locator("#basic-password").textContent();
  const basic = await fetch(`${w.url}/scim/v2/${T}/Users?count=1`, { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` } });
  assert.equal(basic.status, 200);
  await page.getByRole("cell", { name: "onelogin" }).waitFor();

  await page.getByRole("button", { name: "Allow OAuth" }).click();
  await page.getByRole("button", { name: "Create OAuth client" }).waitFor();
  await page.getByRole("button", { name: "Create OAuth client" }).click();
  const clientId = await page.locator("#client-id").textContent();
  const clientSecret = await page.locator("#client-secret").textContent();
  assert.equal(await page.locator("#token-endpoint").textContent(), `${w.url}/oauth/token`);
  const grant = async (secret) => fetch(`${w.url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}` },
    body: "grant_type=client_credentials",
  });
  const tokenRes = await grant(clientSecret);
  assert.equal(tokenRes.status, 200);
  const { access_token } = await tokenRes.json();
  assert.equal((await fetch(`${w.url}/scim/v2/${T}/Users?count=1`, { headers: { authorization: `Bearer ${access_token}` } })).status, 200);
  await page.getByRole("button", { name: /Rotate the secret of entra/ }).click();
  await page.getByText("The old secret keeps working until").waitFor();
  const rotated = await page.locator("#client-secret").textContent();
  assert.notEqual(rotated, clientSecret);
  assert.equal((await grant(rotated)).status, 200);

  await page.getByRole("button", { name: "Generate connect code" }).click();
  assert.match(await page.locator("#connect-code").textContent(), /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);

  await page.getByRole("button", { name: "Create setup link" }).click();
  assert.match(await page.locator("#setup-link").textContent(), new RegExp(`^${w.url}/setup/#token=ssl_`));
  await page.getByRole("table", { name: "Setup links" }).getByRole("cell", { name: "active" }).waitFor();
  await shot(page, "08-connect-credentials");

  // Revoking the Basic credential and deleting the client stop them.
  await page.getByRole("button", { name: `Revoke Basic credential ${username}` }).click();
  await page.getByText("No Basic credential yet.").waitFor();
  await page.getByRole("button", { name: "Delete OAuth client entra" }).click();
  await page.getByText("No OAuth client yet.").waitFor();
  assert.equal((await grant(rotated)).status, 401);
  assert.deepEqual(scriptErrors(page), []);
});

test("activity: the request log and the event feed, filtered, live while open, polling stops when left", async () => {
  const page = await signedIn(`/console/tenants/${T}/activity`);
  await page.getByRole("heading", { name: "Activity: Initech" }).waitFor();
  const log = page.getByRole("table", { name: "Request log" });
  const created = log.getByRole("row").filter({ hasText: "POST /scim/v2/initech/Users" }).filter({ hasText: "ignored attribute bogus" });
  await created.waitFor();
  assert.match(await created.textContent(), /201/);
  assert.match(await created.textContent(), /token okta/);
  await created.getByText("Show body").click();
  const body = await created.locator("pre").textContent();
  assert.match(body, /alice@initech\.example/);
  assert.match(body, /\[redacted\]/);
  assert.doesNotMatch(body, /s3cret/);
  // The refused write, with its reason; the status filter keeps only it.
  await page.locator("#req-status").selectOption("4xx");
  const conflict = log.getByRole("row").filter({ hasText: "409" });
  await conflict.getByText("uniqueness").waitFor();
  await log.getByRole("row").filter({ hasText: "ignored attribute bogus" }).waitFor({ state: "detached" });
  assert.match(page.url(), /status=4xx/);
  await page.locator("#req-status").selectOption("");

  const feed = page.getByRole("table", { name: "Events" });
  await feed.getByRole("cell", { name: "user.created" }).first().waitFor();
  await feed.getByRole("cell", { name: "group.created" }).waitFor();
  await page.locator("#ev-types").selectOption("group.*");
  await feed.getByRole("cell", { name: "user.created" }).first().waitFor({ state: "detached" });
  await feed.getByRole("cell", { name: "group.created" }).waitFor();
  await page.locator("#ev-types").selectOption("");
  await feed.getByRole("cell", { name: "user.created" }).first().waitFor();
  await shot(page, "09-activity");

  // Live: a user created now appears in both without a reload.
  assert.equal((await scim("POST", "/Users", { schemas: [USER], userName: "carol@initech.example" })).status, 201);
  await feed.getByRole("row").filter({ hasText: "carol@initech.example" }).waitFor({ timeout: 10000 });
  await log.getByRole("row").filter({ hasText: "POST /scim/v2/initech/Users" }).first().waitFor();

  // Leaving the screen stops the polls.
  const polls = [];
  page.on("request", (r) => /\/(events|requests)\?/.test(r.url()) && polls.push(r.url()));
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings: Initech" }).waitFor();
  const before = polls.length;
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal(polls.length, before);
  assert.deepEqual(scriptErrors(page), []);
});

test("webhooks: add (secret shown once), send a test event, deliveries with retry, edit, disable", async () => {
  const page = await signedIn(`/console/tenants/${T}/webhooks`);
  await page.getByRole("heading", { name: "Webhooks: Initech" }).waitFor();
  await page.getByText("No webhook yet.").waitFor();
  const url = `http://127.0.0.1:${receiver.port}/hook`;
  await page.getByLabel("Endpoint URL").fill(url);
  await page.getByLabel("Description").fill("the app");
  await page.getByRole("button", { name: "Add webhook" }).click();
  const secret = await page.locator("#hook-secret").textContent();
  assert.match(secret, /^whsec_/);
  await page.getByRole("link", { name: url }).first().waitFor();
  await shot(page, "10-webhooks");
  await page.getByRole("link", { name: `Open ${url}` }).click();
  await page.getByRole("heading", { name: `Webhook ${url}` }).waitFor();

  await page.getByRole("button", { name: "Send test event" }).click();
  await page.getByText("Test event delivered: the endpoint answered 200.").waitFor();
  const test = receiver.received.find((r) => r.url === "/hook");
  assert.equal(new Webhook(secret).verify(test.body, test.headers).type, "webhook.test");

  // An event makes a delivery; retry sends it again.
  assert.equal((await scim("POST", "/Users", { schemas: [USER], userName: "dave@initech.example" })).status, 201);
  const deliveries = page.getByRole("table", { name: "Deliveries" });
  const row = deliveries.getByRole("row").filter({ hasText: "user.created" });
  await row.getByText("delivered", { exact: true }).waitFor({ timeout: 15000 });
  const daves = () => receiver.received.filter((r) => r.url === "/hook" && r.body.includes("dave@initech.example"));
  assert.equal(daves().length, 1);
  await row.getByRole("button", { name: /Retry/ }).click();
  await until("the retried delivery", () => daves().length === 2);
  await row.getByText("delivered", { exact: true }).waitFor({ timeout: 15000 });
  await shot(page, "10-webhook");

  // Edit the types; disable and enable.
  await page.getByLabel("every event (*)").uncheck();
  await page.locator("#edit-group-all").check();
  await page.getByRole("button", { name: "Save webhook" }).click();
  await until("the change", async () => (await admin("GET", `/tenants/${T}/webhooks`)).body.webhooks[0].types.join() === "group.*");
  await page.getByRole("button", { name: "Disable" }).click();
  await page.getByText("State: disabled").waitFor();
  await page.getByRole("button", { name: "Enable" }).click();
  await page.getByText("State: enabled").waitFor();
  await page.getByRole("button", { name: "Rotate secret" }).click();
  const next = await page.locator("#hook-secret").textContent();
  assert.notEqual(next, secret);
  await page.getByText(/the previous secret also signs until/).waitFor();
  assert.deepEqual(scriptErrors(page), []);
});

test("settings: saved with PATCH and kept on reload; the API's refusal shows as an alert", async () => {
  const page = await signedIn(`/console/tenants/${T}/settings`);
  await page.getByRole("heading", { name: "Settings: Initech" }).waitFor();
  await page.getByLabel("Remove the user (remove)").check();
  await page.getByLabel("Refuse the request with 400 (reject)").first().check();
  await page.getByLabel("Every request (all)").check();
  await page.getByLabel("Keep events for (days)").fill("14");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.locator("main").getByText("Settings saved.").waitFor();
  const s = (await admin("GET", `/tenants/${T}`)).body.settings;
  assert.equal(s.deletePolicy, "remove");
  assert.equal(s.unknownAttributes, "reject");
  assert.equal(s.requestLog, "all");
  assert.equal(s.eventRetentionDays, 14);
  await page.reload();
  await page.getByRole("heading", { name: "Settings: Initech" }).waitFor();
  assert.equal(await page.getByLabel("Remove the user (remove)").isChecked(), true);
  assert.equal(await page.getByLabel("Keep events for (days)").inputValue(), "14");
  await shot(page, "11-settings");
  // No authentication mode at all: the API says why not.
  for (const id of ["#auth-token", "#auth-basic", "#auth-oauth"]) await page.locator(id).uncheck();
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByRole("alert").filter({ hasText: /at least one mode/ }).waitFor();
  // Back to the defaults the other tests expect.
  await admin("PATCH", `/tenants/${T}`, { settings: { deletePolicy: "retain", unknownAttributes: "ignore", requestLog: "writes-and-errors" } });
  assert.deepEqual(scriptErrors(page), []);
});

test("roles: define roles, map groups in order with a default, see users' roles", async (t) => {
  const probe = await admin("GET", `/tenants/${T}/roles`);
  const page = await signedIn(`/console/tenants/${T}/roles`);
  await page.getByRole("heading", { name: "Roles: Initech" }).waitFor();
  if (probe.status === 404 && /No admin endpoint/.test(probe.body?.detail ?? "")) {
    // The roles API is not in this build yet: the screen says so, as an alert.
    await page.getByRole("alert").filter({ hasText: "No admin endpoint" }).waitFor();
    t.skip("the roles API (GET /tenants/{t}/roles) is not in the built worker yet");
    return;
  }
  await page.getByText("No role yet").waitFor();
  await page.getByLabel("Role name").fill("admin");
  await page.getByLabel("Role description").fill("Full access");
  await page.getByRole("button", { name: "Save role" }).click();
  await page.getByRole("cell", { name: "admin", exact: true }).waitFor();
  await page.getByLabel("Role name").fill("member");
  await page.getByRole("button", { name: "Save role" }).click();
  await page.getByRole("cell", { name: "member", exact: true }).waitFor();

  // Two mappings, reordered, and a default role.
  await page.getByRole("button", { name: "Add mapping" }).click();
  await page.locator("#map-1-group").fill("okta-eng");
  await page.locator("#map-1-by").selectOption("externalId");
  await page.locator("#map-1-role").selectOption("member");
  await page.getByRole("button", { name: "Add mapping" }).click();
  await page.locator("#map-2-group").fill("Engineering");
  await page.locator("#map-2-role").selectOption("admin");
  await page.getByRole("button", { name: "Move mapping 2 up" }).click();
  assert.equal(await page.locator("#map-1-group").inputValue(), "Engineering");
  assert.equal(await focusedId(page), "map-1-down");
  await page.locator("#default-role").selectOption("member");
  await page.getByRole("button", { name: "Save mappings" }).click();
  await page.locator("#mappings-saved").getByText(/Mappings saved: \d+ users?'s? roles changed\./).waitFor();
  await page.getByText("Matches: Engineering").first().waitFor();
  const saved = (await admin("GET", `/tenants/${T}/role-mappings`)).body;
  assert.deepEqual(saved.mappings.map((m) => [m.group, m.role]), [[{ displayName: "Engineering" }, "admin"], [{ externalId: "okta-eng" }, "member"]]);
  assert.equal(saved.defaultRole, "member");
  await shot(page, "12-roles");

  // The roles table counts each role's users; a role in use is refused deletion, with the API's reason.
  await page.reload();
  const adminRow = page.getByRole("table", { name: "Roles" }).getByRole("row").filter({ has: page.getByRole("cell", { name: "admin", exact: true }) });
  await adminRow.getByRole("cell", { name: "1", exact: true }).waitFor();
  await page.getByRole("button", { name: "Delete role admin" }).click();
  await page.getByRole("alert").filter({ hasText: /in use/ }).waitFor();

  // The user's roles show on the user and filter the users list.
  await page.goto(`${w.url}/console/tenants/${T}/users/${alice}`);
  await page.getByRole("heading", { name: "alice@initech.example" }).waitFor();
  await page.locator("ul.roles").getByText("admin", { exact: true }).waitFor();
  await page.getByRole("link", { name: "← All users" }).click();
  await page.locator("#user-role").selectOption("admin");
  await page.getByRole("button", { name: "Apply filter" }).click();
  await page.waitForURL(/role=admin/);
  await page.getByRole("link", { name: "alice@initech.example" }).waitFor();
  await page.getByText("Showing 1–1 of 1").waitFor();
  await page.getByRole("row").filter({ hasText: "alice@initech.example" }).getByRole("cell", { name: "admin" }).waitFor();
  await page.getByRole("link", { name: "bob@initech.example" }).waitFor({ state: "detached" });
  // The change is an event.
  const events = (await admin("GET", `/tenants/${T}/events?types=user.roles_changed`)).body.events;
  assert.ok(events.length > 0);
  assert.deepEqual(scriptErrors(page), []);
});

test("the setup page shows only its tenant's connection, attributes, roles and activity, with deep links, at phone width", async () => {
  const link = await admin("POST", `/tenants/${T}/setup-links`, {});
  assert.equal(link.status, 201);
  const page = await open({ width: 390, height: 844 });
  await page.goto(link.body.url);
  await page.getByRole("heading", { name: "Connect your identity provider: Initech" }).waitFor();
  const nav = page.getByRole("navigation", { name: "Sections" });
  assert.deepEqual(await nav.getByRole("link").allTextContents(), ["Connect", "Attributes", "Activity", "Connectors", "Roles"]);
  // No setup links of its own, and no operator list of tenants.
  assert.equal(await page.getByRole("heading", { name: "Setup links" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "All tenants" }).count(), 0);

  await nav.getByRole("link", { name: "Attributes" }).click();
  await page.getByRole("heading", { name: "Attributes: Initech" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/setup/attributes");
  // At phone width a table row is a card, each cell labelled with its column.
  await page.getByRole("cell", { name: "Name: costCenter", exact: true }).waitFor();

  await nav.getByRole("link", { name: "Activity" }).click();
  await page.getByRole("heading", { name: "Activity: Initech" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/setup/activity");
  assert.equal(await focusedId(page), "main");
  await page.getByRole("table", { name: "Request log" }).getByRole("row").filter({ hasText: "POST /scim/v2/initech/Users" }).first().waitFor();
  // Nothing on the page is wider than the phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await shot(page, "13-setup-activity-phone");
  await page.reload();
  await page.getByRole("heading", { name: "Activity: Initech" }).waitFor();

  await nav.getByRole("link", { name: "Roles" }).click();
  await page.getByRole("heading", { name: "Roles: Initech" }).waitFor();
  // Users are not on the setup page.
  await page.goto(`${w.url}/setup/users`);
  await page.getByRole("heading", { name: "No such page" }).waitFor();
  // Revoked while the activity screen is open: its next poll says so.
  await nav.getByRole("link", { name: "Activity" }).click();
  await page.getByRole("heading", { name: "Activity: Initech" }).waitFor();
  assert.equal((await admin("DELETE", `/tenants/${T}/setup-links/${link.body.id}`)).status, 204);
  await page.getByRole("heading", { name: /expired or was revoked/ }).waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(scriptErrors(page), []);
});
