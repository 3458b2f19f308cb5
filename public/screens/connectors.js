// Connectors: the application acting on the customer's own Okta org
// through Okta's Users API. Connect (org URL and an API token, never shown
// again: its last four characters only), test the token, disconnect; the
// rule that deactivates the matching Okta user when the application
// deactivates one; and the actions on the org's users: add, find, look up,
// deactivate, each with Okta's answer as JSON.
import { el, api, alertBox, act, button, field, check, table, stamp, when, say } from "../lib.js";

/** An alert that also names Okta's error id, which Okta support asks for. */
function oktaAlert() {
  const a = alertBox();
  const fail = a.fail;
  a.fail = (err) => {
    fail(err);
    const id = err?.body?.okta?.errorId;
    if (id) a.append(el("br"), el("span", { class: "error-id" }, `Okta error id: ${id}, for Okta support.`));
  };
  return a;
}

/** Where an action's answer shows: a busy note, then its JSON in a <pre>. */
function resultBox(id, label) {
  const note = el("p", { class: "loading", hidden: true });
  const pre = el("pre", { id, hidden: true, tabindex: "0", "aria-label": label });
  const box = el("div", {}, note, pre);
  box.busy = (text) => {
    note.textContent = text;
    note.hidden = false;
    pre.hidden = true;
  };
  box.show = (x) => {
    note.hidden = true;
    pre.textContent = JSON.stringify(x, null, 2);
    pre.hidden = false;
  };
  box.clear = () => {
    note.hidden = true;
    pre.hidden = true;
    pre.textContent = "";
  };
  /** Runs `fn` with `text` as the busy note, showing its answer; a failure clears the box (the alert says it). */
  box.run = async (text, fn) => {
    box.busy(text);
    try {
      const x = await fn();
      box.show(x);
      return x;
    } catch (err) {
      box.clear();
      throw err;
    }
  };
  return box;
}

const badgeClass = { ACTIVE: "active", DEPROVISIONED: "deleted", SUSPENDED: "inactive", STAGED: "inactive", PROVISIONED: "inactive", LOCKED_OUT: "inactive", PASSWORD_EXPIRED: "inactive", RECOVERY: "inactive" };
const statusBadge = (s) => el("span", { class: `badge ${badgeClass[s] ?? "inactive"}` }, s ?? "unknown");
const nameOf = (u) => [u.profile?.firstName, u.profile?.lastName].filter(Boolean).join(" ");
const whoOf = (user) => (user?.name ? `${user.name} (${user.login})` : user?.login ?? user?.id ?? "an unknown user");

export async function connectorsScreen(ctx) {
  const tid = ctx.tenant.id;
  const path = `/tenants/${tid}/connectors/okta`;
  // 404: not connected; "No admin endpoint": a deployment without connectors (the screen says so).
  const load = () => api("GET", path).catch((err) => {
    if (err.status === 404 && !/No admin endpoint/.test(err.message)) return null;
    throw err;
  });
  const state = { c: await load() };

  // ---- The connection: its state, the form, test and disconnect.
  const statusBox = el("div", { id: "okta-connection", class: "connection" });
  const orgUrl = el("input", { id: "okta-org", type: "url", required: true, class: "wide", placeholder: "https://acme.okta.com", autocomplete: "off", spellcheck: "false" });
  const apiToken = el("input", { id: "okta-token", type: "password", required: true, class: "wide", autocomplete: "off", spellcheck: "false" });
  const tokenHint = el("small", { id: "okta-token-hint" });
  apiToken.setAttribute("aria-describedby", "okta-token-hint");
  const connAlert = oktaAlert();
  const note = el("p", { class: "loading", "aria-live": "polite" });
  const connHeading = el("h3", {});
  const saveButton = el("button", { class: "primary" }, "Connect Okta");
  const connForm = el("form", { class: "stack", onsubmit: act(connAlert, async () => {
    const was = state.c;
    note.textContent = "Saving…";
    try {
      state.c = await api("PUT", path, { orgUrl: orgUrl.value.trim(), apiToken: apiToken.value.trim() });
    } finally {
      note.textContent = "";
    }
    // Saved: the token leaves the page (a refused one stays, to correct the URL beside it).
    apiToken.value = "";
    testResult.replaceChildren();
    render();
    say(was ? "Okta connection saved. Test it to check the new token." : "Okta connected. Test it to check the token.");
  }) },
  field("Okta org URL", orgUrl, "Your Okta org's address, like https://acme.okta.com (no path; not the -admin address)."),
  el("div", { class: "field" }, el("label", { for: "okta-token" }, "API token", apiToken), tokenHint),
  el("p", {}, saveButton));

  const testAlert = oktaAlert();
  const testResult = el("div", { id: "okta-test-result", "aria-live": "polite" });
  const testButton = button("Test connection", act(testAlert, async () => {
    testResult.replaceChildren(el("p", { class: "loading" }, "Testing: asking Okta whose token this is…"));
    try {
      const r = await api("POST", `${path}/test`);
      testResult.replaceChildren(el("p", { class: "ok" }, el("strong", {}, "The token works."), ` It acts as ${whoOf(r.user)}, Okta user ${r.user?.id ?? "?"}: the actions below act with that admin's role.`));
      say("Okta connection tested: it works.");
    } catch (err) {
      testResult.replaceChildren();
      throw err;
    } finally {
      // The test is kept as the connector's last test.
      state.c = (await load().catch(() => state.c)) ?? state.c;
      render();
    }
  }), { class: "primary" });
  const discAlert = oktaAlert();
  const disconnectButton = button("Disconnect", act(discAlert, async () => {
    if (!confirm(`Disconnect Okta (${state.c.orgUrl})? The API token is deleted here and the rule stops; revoke the token in Okta too (Security > API > Tokens).`)) return;
    await api("DELETE", path);
    state.c = null;
    testResult.replaceChildren();
    testAlert.clear();
    render();
    say("Okta disconnected.");
  }), { class: "danger" });

  // ---- The rule.
  const ruleAlert = oktaAlert();
  const ruleBox = el("input", { type: "checkbox", id: "okta-rule-deactivate" });
  const ruleSaved = el("p", { class: "ok", "aria-live": "polite" });
  const ruleForm = el("form", { class: "stack", onsubmit: act(ruleAlert, async () => {
    ruleSaved.textContent = "";
    state.c = await api("PUT", `${path}/rules`, { deactivateUsers: ruleBox.checked });
    render();
    ruleSaved.textContent = state.c.rules?.deactivateUsers ? "Rule saved: on." : "Rule saved: off.";
    say(ruleSaved.textContent);
  }) },
  el("div", { class: "field" }, check("When the application deactivates a user, deactivate them in Okta too", ruleBox),
    el("small", { id: "okta-rule-hint" }, "The Okta user is the one whose id is the user's externalId (as Okta's own provisioning sets it), else the one whose login is the userName. Each outcome is an event (connector.okta.user_deactivated or connector.okta.failed) and a line of the request log.")),
  el("p", {}, el("button", { class: "primary" }, "Save rule")));
  ruleBox.setAttribute("aria-describedby", "okta-rule-hint");
  ruleBox.addEventListener("change", () => (ruleSaved.textContent = ""));

  // ---- Add a user.
  const addAlert = oktaAlert();
  const addResult = resultBox("okta-add-result", "The user Okta created, as JSON");
  const first = el("input", { id: "okta-first", required: true, autocomplete: "off" });
  const last = el("input", { id: "okta-last", required: true, autocomplete: "off" });
  const email = el("input", { id: "okta-email", type: "email", required: true, autocomplete: "off", spellcheck: "false" });
  const login = el("input", { id: "okta-login", autocomplete: "off", spellcheck: "false" });
  const activate = el("input", { type: "checkbox", id: "okta-activate", checked: true });
  email.addEventListener("input", () => (login.placeholder = email.value.trim()));
  const addForm = el("form", { class: "stack", onsubmit: act(addAlert, async () => {
    const profile = { firstName: first.value.trim(), lastName: last.value.trim(), email: email.value.trim(), login: login.value.trim() || email.value.trim() };
    const u = await addResult.run("Adding the user in Okta…", () => api("POST", `${path}/users`, { profile, activate: activate.checked }));
    say(`Okta user ${u.login} added (${u.status}).`);
  }) },
  el("div", { class: "inline" }, field("First name", first), field("Last name", last), field("Email", email)),
  field("Login", login, "Okta's username, in the form of an email address; empty: the email."),
  check("Activate now (else the user is staged: no activation email, no sign-in yet)", activate),
  el("p", {}, el("button", { class: "primary" }, "Add user")));

  // ---- Find users.
  const findAlert = oktaAlert();
  const rowResult = resultBox("okta-row-result", "The Okta user, as JSON");
  const search = el("input", { id: "okta-search", type: "search", required: true, autocomplete: "off", spellcheck: "false" });
  let found = [];
  let searched = false;
  const foundTable = table("Okta users found", ["Login", "Name", "Status", "Id", "Actions"], [], { empty: "No user found." });
  const replace = (u) => {
    found = found.map((x) => (x.id === u.id ? u : x));
    fillFound();
  };
  const fillFound = () => {
    foundTable.hidden = !searched;
    foundTable.fill(found.map((u) => [el("code", {}, u.login ?? ""), nameOf(u), statusBadge(u.status), el("code", {}, u.id ?? ""),
      el("span", { class: "actions" },
        button("Look up", act(findAlert, async () => {
          replace(await rowResult.run(`Looking up ${u.login}…`, () => api("GET", `${path}/users/${encodeURIComponent(u.id)}`)));
          say(`Okta user ${u.login}: ${found.find((x) => x.id === u.id)?.status}.`);
        }), { "aria-label": `Look up ${u.login}` }), " ",
        u.status === "DEPROVISIONED" ? "" : button("Deactivate", act(findAlert, async () => {
          if (!confirm(`Deactivate ${u.login} in Okta? They lose access to everything Okta signs them into.`)) return;
          try {
            replace(await rowResult.run(`Deactivating ${u.login}…`, () => api("POST", `${path}/users/${encodeURIComponent(u.id)}/deactivate`)));
          } catch (err) {
            if (err.status === 409 && err.body?.user) replace(err.body.user);
            throw err;
          }
          say(`Okta user ${u.login} deactivated.`);
        }), { class: "danger", "aria-label": `Deactivate ${u.login}` }))]));
  };
  fillFound();
  const findNote = el("p", { class: "loading", "aria-live": "polite" });
  const findForm = el("form", { class: "inline", role: "search", "aria-label": "Find Okta users", onsubmit: act(findAlert, async () => {
    findNote.textContent = "Searching Okta…";
    rowResult.clear();
    try {
      found = (await api("GET", `${path}/users?search=${encodeURIComponent(search.value.trim())}&limit=50`)).users;
    } finally {
      findNote.textContent = "";
    }
    searched = true;
    fillFound();
    say(`${found.length} Okta user${found.length === 1 ? "" : "s"} found.`);
  }) }, field("Name or email", search, "One word: the start of a first name, last name or email (deactivated users left out, as Okta does). A full name such as Bob Ross: the starts of first and last name (deactivated users included)."),
  el("button", { class: "primary" }, "Find users"));

  // ---- Look up one user.
  const lookAlert = oktaAlert();
  const lookResult = resultBox("okta-lookup-result", "The Okta user, as JSON");
  const lookKey = el("input", { id: "okta-lookup", required: true, autocomplete: "off", spellcheck: "false" });
  const lookForm = el("form", { class: "inline", onsubmit: act(lookAlert, async () => {
    const u = await lookResult.run("Looking the user up in Okta…", () => api("GET", `${path}/users/${encodeURIComponent(lookKey.value.trim())}`));
    say(`Okta user ${u.login}: ${u.status}.`);
  }) }, field("User to look up (Okta id or login)", lookKey), el("button", { class: "primary" }, "Look up"));

  // ---- Deactivate one user.
  const deacAlert = oktaAlert();
  const deacResult = resultBox("okta-deactivate-result", "The deactivated Okta user, as JSON");
  const deacKey = el("input", { id: "okta-deactivate", required: true, autocomplete: "off", spellcheck: "false" });
  const deacForm = el("form", { class: "inline", onsubmit: act(deacAlert, async () => {
    const key = deacKey.value.trim();
    if (!confirm(`Deactivate ${key} in Okta? They lose access to everything Okta signs them into.`)) return;
    const u = await deacResult.run("Deactivating the user in Okta…", () => api("POST", `${path}/users/${encodeURIComponent(key)}/deactivate`));
    say(`Okta user ${u.login} deactivated.`);
  }) }, field("User to deactivate (Okta id or login)", deacKey), el("button", { class: "danger" }, "Deactivate"));

  const connectedActions = el("div", {},
    el("p", { class: "actions" }, testButton, " ", disconnectButton),
    testAlert, discAlert, testResult);
  const connected = el("div", {},
    el("h3", {}, "Rule"),
    ruleForm, ruleAlert, ruleSaved,
    el("h2", {}, "Okta users"),
    el("p", {}, "These act on the Okta org itself, with the token's admin role. Okta's answer shows as JSON."),
    el("h3", {}, "Add a user"),
    addForm, addAlert, addResult,
    el("h3", {}, "Find users"),
    findForm, findNote, findAlert, foundTable, rowResult,
    el("h3", {}, "Look up a user"),
    lookForm, lookAlert, lookResult,
    el("h3", {}, "Deactivate a user"),
    deacForm, deacAlert, deacResult);

  const lastTestLine = (t) => {
    if (!t) return el("p", {}, "Not tested yet: test the connection once it is saved.");
    const at = [" ", when(t.at), ` (${stamp(t.at)})`];
    if (t.ok) return el("p", { class: "ok" }, "Last test passed", at, `: the token acts as ${whoOf(t.user)}.`);
    return el("p", { class: "error" }, "Last test failed", at, `: ${t.detail ?? `Okta answered ${t.status}`}`,
      t.okta?.errorId ? [el("br"), el("span", { class: "error-id" }, `Okta error id: ${t.okta.errorId}, for Okta support.`)] : "");
  };
  function render() {
    const c = state.c;
    if (c) {
      statusBox.replaceChildren(
        el("p", {}, el("strong", {}, "Connected to "), el("code", {}, c.orgUrl), `. Token ending in …${c.tokenLast4}.`, ` Saved ${stamp(c.updated ?? c.created)}.`),
        lastTestLine(c.lastTest));
      if (!orgUrl.value) orgUrl.value = c.orgUrl;
      tokenHint.textContent = `The saved token ends in …${c.tokenLast4}; it is never shown again. To change the org URL or the token, paste a token (a new one, or the same).`;
      saveButton.textContent = "Save connection";
      connHeading.textContent = "Change the connection";
      ruleBox.checked = c.rules?.deactivateUsers === true;
    } else {
      statusBox.replaceChildren(el("p", { class: "idle" }, el("strong", {}, "Not connected."), " Paste your Okta org URL and an API token below."));
      tokenHint.textContent = "As Okta showed it once; it is kept encrypted and never shown again.";
      saveButton.textContent = "Connect Okta";
      connHeading.textContent = "Connect";
    }
    connected.hidden = !c;
    connectedActions.hidden = !c;
  }
  render();

  ctx.show(
    el("h1", {}, `Connectors: ${ctx.tenant.name}`),
    el("p", {}, "A connector lets the application act on your own identity provider: here, add, find, look up and deactivate users in your Okta org, and deactivate them there when the application does."),
    el("h2", {}, "Okta"),
    el("p", { id: "okta-how" }, "To create the API token: in the Okta Admin Console, go to Security > API > Tokens and choose Create token, signed in as an admin who can manage users (Super Admin, Org Admin, or a custom admin role with user permissions): the token acts with its creator's role. Name it (for example scim-worker), then copy the token value: Okta shows it once. Okta expires a token that goes unused for 30 days, and revokes it when its creator is deactivated."),
    statusBox,
    connectedActions,
    connHeading,
    connForm, note, connAlert,
    connected,
  );
}
