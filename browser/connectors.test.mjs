// The Connectors screen in a real browser (Debian's Chromium, headless,
// playwright-core) against the built worker in Miniflare with
// wrangler.toml's [assets], and a stand-in of Okta's Users API on
// 127.0.0.1 (e2e/okta-standin.mjs; WEBHOOK_ALLOW_LOCAL lets the org URL be
// local): connect with a wrong token and the right one, test, add, find,
// look up and deactivate users, the deactivate rule, disconnect; and the
// same screen on the setup page at phone width. Screenshots go to artefacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, shot } from "./lib.mjs";
import { startWorker, ADMIN_JWT_SECRET } from "../e2e/worker.mjs";
import { startOkta } from "../e2e/okta-standin.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const T = "oktaco";
const TOKEN = "00Qk7s2v-browser-connector-token-4e1d";
const WRONG = "00Wrong-browser-connector-token-x9z8";
const READ_ONLY = "00ReadOnly-browser-token-without-users-55";
let w, browser, okta;
const platform = () => mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform(), method, path, body);
const base = `/tenants/${T}/connectors/okta`;

before(async () => {
  okta = await startOkta({ token: TOKEN, readOnlyToken: READ_ONLY });
  w = await startWorker({ port: 0, assets: true });
  browser = await launch();
  const t = await admin("POST", "/tenants", { id: T, name: "Okta Co" });
  assert.equal(t.status, 201, t.text);
});
after(async () => {
  await browser?.close();
  await w?.dispose();
  okta?.close();
});

/** A page that records script errors and accepts confirm() dialogs (counting them). */
async function open(viewport) {
  const page = await openPage(browser, {
    viewport,
    onDialog: (d, p) => {
      p.dialogs.push(d.message());
      return d.accept();
    },
  });
  page.dialogs = [];
  return page;
}

async function signedIn(path) {
  const page = await open();
  await page.goto(`${w.url}/console/`);
  await page.getByLabel("Admin token").fill(platform());
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  await page.goto(`${w.url}${path}`);
  return page;
}

/** Script errors; the browser's own lines for API answers a test provoked on purpose are not. */
const scriptErrors = (page) => page.errors.filter((e) => !/Failed to load resource: the server responded with a status of (400|404|409|502)/.test(e));

test("connectors: connect Okta (a wrong token, then the right one), test, add, find, look up, deactivate, the rule, disconnect", async () => {
  const page = await signedIn(`/console/tenants/${T}/connectors`);
  await page.getByRole("heading", { name: "Connectors: Okta Co" }).waitFor();
  const nav = page.getByRole("navigation", { name: "Sections" });
  assert.equal(await nav.getByRole("link", { name: "Connectors" }).getAttribute("aria-current"), "page");
  await page.locator("#okta-how").getByText("Security > API > Tokens").waitFor();
  await page.locator("#okta-connection").getByText("Not connected.").waitFor();
  // Nothing to act on before a connection.
  assert.equal(await page.getByRole("button", { name: "Test connection" }).isVisible(), false);
  assert.equal(await page.getByRole("button", { name: "Add user" }).isVisible(), false);
  const tokenInput = page.getByLabel("API token");
  assert.equal(await tokenInput.getAttribute("type"), "password");
  assert.equal(await tokenInput.getAttribute("autocomplete"), "off");

  // A URL the API refuses: its detail as an alert, the token kept to correct the URL beside it.
  await page.getByLabel("Okta org URL").fill("https://acme.okta.com/api/v1");
  await tokenInput.fill(WRONG);
  await page.getByRole("button", { name: "Connect Okta" }).click();
  await page.getByRole("alert").filter({ hasText: "no path" }).waitFor();
  assert.equal(await tokenInput.inputValue(), WRONG);

  // A wrong token: saved (Okta is not asked), then the test says what to do.
  await page.getByLabel("Okta org URL").fill(okta.url);
  await page.getByRole("button", { name: "Connect Okta" }).click();
  await page.locator("#okta-connection").getByText(`Token ending in …${WRONG.slice(-4)}`).waitFor();
  assert.equal(await tokenInput.inputValue(), "");
  await page.getByRole("button", { name: "Test connection" }).click();
  const refused = page.getByRole("alert").filter({ hasText: "Security > API > Tokens" });
  await refused.waitFor();
  assert.match(await refused.textContent(), /Okta refused the API token.*Okta error id: oae[0-9a-f]+, for Okta support\./);
  await page.locator("#okta-connection").getByText("Last test failed").waitFor();

  // The right token.
  await tokenInput.fill(TOKEN);
  await page.getByRole("button", { name: "Save connection" }).click();
  await page.locator("#okta-connection").getByText(`Token ending in …${TOKEN.slice(-4)}`).waitFor();
  assert.equal(await tokenInput.inputValue(), "");
  assert.ok(!(await page.content()).includes(TOKEN), "the token is in the page");
  await page.getByRole("button", { name: "Test connection" }).click();
  await page.locator("#okta-test-result").getByText("it-admin@acme.example").waitFor();
  assert.equal(await refused.isVisible(), false);
  await page.locator("#okta-connection").getByText(/Last test passed.*it-admin@acme\.example/).waitFor();
  assert.equal(okta.calls.at(-1).authorization, `SSWS ${TOKEN}`);

  // Add a user; the same login again is refused with Okta's reason and error id.
  await page.getByLabel("First name").fill("Bob");
  await page.getByLabel("Last name").fill("Ross");
  await page.getByLabel("Email", { exact: true }).fill("bob.ross@acme.example");
  assert.equal(await page.getByLabel("Activate now (else").isChecked(), true);
  await page.getByRole("button", { name: "Add user" }).click();
  await page.locator("#okta-add-result").getByText('"status": "ACTIVE"').waitFor();
  const bob = JSON.parse(await page.locator("#okta-add-result").textContent());
  assert.equal(bob.login, "bob.ross@acme.example");
  assert.match(bob.id, /^00u/);
  await page.getByRole("button", { name: "Add user" }).click();
  const taken = page.getByRole("alert").filter({ hasText: "already exists" });
  await taken.waitFor();
  assert.match(await taken.textContent(), /Okta error id: oae/);
  assert.equal(await page.locator("#okta-add-result").isVisible(), false);
  // A staged one, with its own login.
  await page.getByLabel("First name").fill("Eve");
  await page.getByLabel("Last name").fill("Stone");
  await page.getByLabel("Email", { exact: true }).fill("eve@acme.example");
  await page.getByLabel("Login", { exact: true }).fill("eve.stone@acme.example");
  await page.getByLabel("Activate now (else").uncheck();
  await page.getByRole("button", { name: "Add user" }).click();
  await page.locator("#okta-add-result").getByText('"status": "STAGED"').waitFor();
  assert.equal(okta.users.find((u) => u.profile.login === "eve.stone@acme.example").profile.email, "eve@acme.example");

  // Find "Bob": a row with a Look up and a Deactivate button.
  await page.getByLabel("Name or email").fill("Bob");
  await page.getByRole("button", { name: "Find users" }).click();
  const row = page.getByRole("table", { name: "Okta users found" }).getByRole("row").filter({ hasText: "bob.ross@acme.example" });
  await row.getByText("ACTIVE", { exact: true }).waitFor();
  assert.equal(await page.getByRole("table", { name: "Okta users found" }).getByRole("row").count(), 2);
  await row.getByRole("button", { name: "Look up bob.ross@acme.example" }).click();
  await page.locator("#okta-row-result").getByText(`"id": "${bob.id}"`).waitFor();
  await shot(page, "14-connectors");
  await row.getByRole("button", { name: "Deactivate bob.ross@acme.example" }).click();
  await row.getByText("DEPROVISIONED", { exact: true }).waitFor();
  await page.locator("#okta-row-result").getByText('"status": "DEPROVISIONED"').waitFor();
  assert.match(page.dialogs.at(-1), /Deactivate bob\.ross@acme\.example in Okta/);
  assert.equal(okta.users.find((u) => u.id === bob.id).status, "DEPROVISIONED");
  // A deprovisioned row offers no Deactivate.
  assert.equal(await row.getByRole("button", { name: /^Deactivate/ }).count(), 0);
  // One word leaves deactivated users out (Okta's q); a full name finds them (Okta's search).
  await page.getByLabel("Name or email").fill("Bob Ross");
  await page.getByRole("button", { name: "Find users" }).click();
  await page.getByText("1 Okta user found.").waitFor();
  await row.getByText("DEPROVISIONED", { exact: true }).waitFor();
  // Nobody by that name: the table says so.
  await page.getByLabel("Name or email").fill("Zed");
  await page.getByRole("button", { name: "Find users" }).click();
  await page.getByText("No user found.").waitFor();

  // Deactivate again, by login: the API's 409 as an alert.
  await page.getByLabel("User to deactivate (Okta id or login)").fill("bob.ross@acme.example");
  await page.getByRole("button", { name: "Deactivate", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: /deprovisioned (\(deactivated\) )?already/ }).waitFor();
  assert.equal(await page.locator("#okta-deactivate-result").isVisible(), false);
  // Deactivate Eve by login: her JSON.
  await page.getByLabel("User to deactivate (Okta id or login)").fill("eve.stone@acme.example");
  await page.getByRole("button", { name: "Deactivate", exact: true }).click();
  await page.locator("#okta-deactivate-result").getByText('"status": "DEPROVISIONED"').waitFor();

  // Look up by id, and someone Okta does not know (404 with Okta's error id).
  await page.getByLabel("User to look up (Okta id or login)").fill(bob.id);
  await page.getByRole("button", { name: "Look up", exact: true }).click();
  await page.locator("#okta-lookup-result").getByText('"login": "bob.ross@acme.example"').waitFor();
  await page.getByLabel("User to look up (Okta id or login)").fill("nobody@acme.example");
  await page.getByRole("button", { name: "Look up", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: /Okta has no such user.*Okta error id: oae/ }).waitFor();

  // The rule: on, kept on reload.
  const rule = page.getByLabel("When the application deactivates a user, deactivate them in Okta too");
  assert.equal(await rule.isChecked(), false);
  await rule.check();
  await page.getByRole("button", { name: "Save rule" }).click();
  await page.getByText("Rule saved: on.").first().waitFor();
  assert.equal((await admin("GET", base)).body.rules.deactivateUsers, true);
  await page.reload();
  await page.getByRole("heading", { name: "Connectors: Okta Co" }).waitFor();
  assert.equal(await rule.isChecked(), true);
  await page.locator("#okta-connection").getByText(/Last test passed/).waitFor();
  assert.ok(!(await page.content()).includes(TOKEN), "the token is in the page");
  assert.deepEqual(scriptErrors(page), []);
});

test("the setup page has the Connectors screen too, at phone width; disconnect", async () => {
  const link = await admin("POST", `/tenants/${T}/setup-links`, {});
  assert.equal(link.status, 201, link.text);
  const page = await open({ width: 390, height: 844 });
  await page.goto(link.body.url);
  await page.getByRole("heading", { name: "Connect your identity provider: Okta Co" }).waitFor();
  const nav = page.getByRole("navigation", { name: "Sections" });
  await nav.getByRole("link", { name: "Connectors" }).click();
  await page.getByRole("heading", { name: "Connectors: Okta Co" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/setup/connectors");
  await page.locator("#okta-connection").getByText(`Token ending in …${TOKEN.slice(-4)}`).waitFor();
  await page.getByRole("button", { name: "Test connection" }).click();
  await page.locator("#okta-test-result").getByText("it-admin@acme.example").waitFor();
  await page.getByLabel("Name or email").fill("it");
  await page.getByRole("button", { name: "Find users" }).click();
  await page.getByText("No user found.").waitFor();
  // Nothing on the page is wider than the phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await shot(page, "15-setup-connectors-phone");
  // A deep link opens on it.
  await page.goto(`${w.url}/setup/connectors`);
  await page.getByRole("heading", { name: "Connectors: Okta Co" }).waitFor();

  // Disconnect (confirmed): not connected, the actions gone, the API's 404.
  await page.getByRole("button", { name: "Disconnect" }).click();
  await page.locator("#okta-connection").getByText("Not connected.").waitFor();
  assert.match(page.dialogs.at(-1), /Disconnect Okta/);
  assert.equal(await page.getByRole("button", { name: "Add user" }).isVisible(), false);
  assert.equal((await admin("GET", base)).status, 404);
  await page.reload();
  await page.locator("#okta-connection").getByText("Not connected.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Connect Okta" }).isVisible(), true);
  assert.deepEqual(scriptErrors(page), []);
});
