// The console (/console/, the operator, a platform-scope admin JWT) and the
// setup page (/setup/, the customer's IT admin, a setup link's credential in
// the URL fragment). One single-page app on the admin API, same origin; the
// credential lives in sessionStorage only and leaves the address bar at once.
const KEY = "scim-worker-admin-token";
const main = document.getElementById("main");
const statusLine = document.getElementById("status");

const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
};
const say = (text) => (statusLine.textContent = text);
const show = (...nodes) => {
  main.replaceChildren(...nodes);
  main.focus();
};

class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
  }
}

/** An admin API call with the session's credential. */
async function api(method, path, body) {
  const res = await fetch(`/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

const copyButton = (text, what) =>
  el("button", { type: "button", onclick: async () => {
    await navigator.clipboard?.writeText(text);
    say(`${what} copied.`);
  } }, `Copy ${what}`);

function go(path) {
  history.pushState(null, "", path);
  route();
}

function signIn(error) {
  const input = el("input", { id: "jwt", name: "jwt", type: "password", required: true, autocomplete: "off" });
  show(
    el("h1", {}, "Sign in"),
    el("p", {}, "Paste an admin token (a JWT signed with ADMIN_JWT_SECRET, e.g. from scripts/admin jwt)."),
    error ? el("p", { class: "error", role: "alert" }, error) : "",
    el("form", { onsubmit: (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY, input.value.trim());
      route();
    } }, el("label", { for: "jwt" }, "Admin token", input), " ", el("button", { class: "primary" }, "Sign in")),
  );
}

async function tenantsScreen() {
  const { tenants } = await api("GET", "/tenants");
  const search = el("input", { type: "search", id: "search", "aria-label": "Search tenants", placeholder: "Search" });
  const body = el("tbody");
  const fill = () => {
    const q = search.value.toLowerCase();
    body.replaceChildren(...tenants.filter((t) => !q || t.id.includes(q) || t.name.toLowerCase().includes(q)).map((t) =>
      el("tr", {}, el("td", {}, el("a", { href: `/console/tenants/${t.id}`, onclick: (e) => {
        e.preventDefault();
        go(`/console/tenants/${t.id}`);
      } }, t.id)), el("td", {}, t.name), el("td", {}, t.created))));
  };
  search.addEventListener("input", fill);
  fill();
  const id = el("input", { id: "new-id", required: true, pattern: "[a-z0-9\\-]{1,63}" });
  const name = el("input", { id: "new-name" });
  show(
    el("h1", {}, "Tenants"),
    el("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api("POST", "/tenants", { id: id.value, name: name.value || id.value });
        go(`/console/tenants/${id.value}`);
      } catch (err) {
        say(`Could not create it: ${err.message}`);
      }
    } }, el("label", { for: "new-id" }, "Tenant id", id), el("label", { for: "new-name" }, "Name", name), el("button", { class: "primary" }, "Create tenant")),
    search,
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Id"), el("th", {}, "Name"), el("th", {}, "Created"))), body),
  );
}

function downloadJson(doc, name) {
  const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

async function connectScreen(tenantId) {
  const [tenant, { tokens }] = await Promise.all([api("GET", `/tenants/${tenantId}`), api("GET", `/tenants/${tenantId}/tokens`)]);
  const base = tenant.scimBaseUrl;
  const once = el("div", { "aria-live": "polite" });
  const label = el("input", { id: "token-label", value: "okta" });
  const days = el("input", { id: "token-days", type: "number", min: "1", placeholder: "never" });
  const issued = (t) => {
    once.replaceChildren(el("div", { class: "once" },
      el("p", {}, el("strong", {}, "Copy this token now: it is shown once.")),
      el("output", { id: "new-token" }, t.token), " ", copyButton(t.token, "token"), " ",
      el("button", { type: "button", onclick: () => downloadJson({ baseUrl: t.baseUrl, token: t.token }, `scim-${tenantId}.json`) }, "Download JSON")));
  };
  const tbody = el("tbody");
  const refresh = async () => {
    const { tokens: now } = await api("GET", `/tenants/${tenantId}/tokens`);
    tbody.replaceChildren(...now.map(row));
  };
  const row = (t) => el("tr", {},
    el("td", {}, t.label), el("td", {}, t.created), el("td", {}, t.lastUsed ?? "never"), el("td", {}, t.expires ?? "never"), el("td", {}, el("code", {}, t.fingerprint)),
    el("td", {},
      el("button", { type: "button", onclick: async () => {
        const r = await api("POST", `/tenants/${tenantId}/tokens/${t.id}/rotate`, { graceHours: 24 });
        issued(r);
        await refresh();
        say("Rotated: the old token works 24 more hours.");
      } }, "Rotate"), " ",
      el("button", { type: "button", onclick: async () => {
        if (!confirm(`Revoke the token ${t.label || t.fingerprint}? The IdP using it stops at once.`)) return;
        await api("DELETE", `/tenants/${tenantId}/tokens/${t.id}`);
        say("Revoked.");
        await refresh();
      } }, "Revoke")));
  tbody.replaceChildren(...tokens.map(row));
  show(
    el("h1", {}, `Connect your identity provider: ${tenant.name}`),
    el("h2", {}, "SCIM base URL"),
    el("p", {}, el("code", { id: "base-url" }, base), " ", copyButton(base, "base URL")),
    el("h2", {}, "Tokens"),
    el("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      const body = { label: label.value };
      if (days.value) body.expiresInDays = Number(days.value);
      try {
        issued(await api("POST", `/tenants/${tenantId}/tokens`, body));
        await refresh();
        say("Token issued.");
      } catch (err) {
        say(`Could not issue it: ${err.message}`);
      }
    } }, el("label", { for: "token-label" }, "Label", label), el("label", { for: "token-days" }, "Expires in days", days), el("button", { class: "primary" }, "Generate token")),
    once,
    el("table", {}, el("thead", {}, el("tr", {}, ...["Label", "Created", "Last used", "Expires", "Fingerprint", ""].map((h) => el("th", {}, h)))), tbody),
    el("h2", {}, "Okta"),
    el("ol", {},
      el("li", {}, "Applications → Browse App Catalog → SCIM 2.0 Test App (OAuth Bearer Token) → Add integration."),
      el("li", {}, "Provisioning → Configure API Integration: SCIM 2.0 Base Url ", el("code", {}, base), ", OAuth Bearer Token: the token above. Test API Credentials, Save."),
      el("li", {}, "To App: enable Create Users, Update User Attributes, Deactivate Users."),
      el("li", {}, "Custom attributes: Profile Editor, External namespace ", el("code", {}, tenant.schemaUrn), ".")),
    el("h2", {}, "Microsoft Entra ID"),
    el("ol", {},
      el("li", {}, "Enterprise applications → New application → Create your own application (non-gallery)."),
      el("li", {}, "Provisioning → Automatic; Tenant URL ", el("code", {}, base), ", Secret Token: the token above. Test Connection, Save."),
      el("li", {}, "Custom attributes: Edit attribute list for customappsso, ", el("code", {}, `${tenant.schemaUrn}:<attribute>`), ".")),
  );
}

async function route() {
  const path = location.pathname;
  // A setup link: its credential moves from the fragment to this session.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    sessionStorage.setItem(KEY, fragment.get("token"));
    history.replaceState(null, "", location.pathname);
  }
  const signout = document.getElementById("signout");
  signout.onclick = () => {
    sessionStorage.removeItem(KEY);
    go("/console/");
  };
  if (!sessionStorage.getItem(KEY)) {
    signout.hidden = true;
    return path.startsWith("/setup") ? show(el("h1", {}, "This setup link has no credential"), el("p", {}, "Ask for a new link.")) : signIn();
  }
  try {
    say("");
    const who = await api("GET", "/whoami");
    signout.hidden = false;
    document.getElementById("who").textContent = who.scope === "platform" ? "operator" : `account ${who.tenant}`;
    const m = path.match(/^\/console\/tenants\/([a-z0-9-]+)/);
    if (who.scope === "tenant") return connectScreen(who.tenant);
    if (m) return connectScreen(m[1]);
    return tenantsScreen();
  } catch (err) {
    if (err.status === 401) {
      sessionStorage.removeItem(KEY);
      return path.startsWith("/setup") ? show(el("h1", {}, "This setup link has expired or was revoked"), el("p", {}, "Ask for a new link.")) : signIn("That token was refused (expired, revoked or wrongly signed).");
    }
    show(el("h1", {}, "Something went wrong"), el("p", { class: "error", role: "alert" }, err.message));
  }
}

addEventListener("popstate", route);
route();
