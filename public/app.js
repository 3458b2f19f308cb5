// The console (/console/, the operator, a platform-scope admin JWT) and the
// setup page (/setup/, the customer's IT admin, a setup link's credential in
// the URL fragment). One single-page app on the admin API, same origin; the
// credential lives in sessionStorage only and leaves the address bar at once.
// This module routes by path; each screen is a module of screens/.
import { KEY, el, api, show, loading, go, link, newView, setRouter, onUnauthorized, say } from "./lib.js";
import { tenantsScreen } from "./screens/tenants.js";
import { connectScreen } from "./screens/connect.js";
import { attributesScreen } from "./screens/attributes.js";
import { usersScreen, userScreen } from "./screens/users.js";
import { groupsScreen, groupScreen } from "./screens/groups.js";
import { activityScreen } from "./screens/activity.js";
import { webhooksScreen, webhookScreen } from "./screens/webhooks.js";
import { connectorsScreen } from "./screens/connectors.js";
import { rolesScreen } from "./screens/roles.js";
import { settingsScreen } from "./screens/settings.js";

/** A tenant's sections: [path segment, name, list screen, detail screen]. */
const SECTIONS = [
  ["connect", "Connect", connectScreen],
  ["attributes", "Attributes", attributesScreen],
  ["users", "Users", usersScreen, userScreen],
  ["groups", "Groups", groupsScreen, groupScreen],
  ["activity", "Activity", activityScreen],
  ["webhooks", "Webhooks", webhooksScreen, webhookScreen],
  ["connectors", "Connectors", connectorsScreen],
  ["roles", "Roles", rolesScreen],
  ["settings", "Settings", settingsScreen],
];
/** What the setup page shows: that tenant's connection, attributes, roles, activity and connectors (the IT admin owns the Okta org). */
const SETUP = ["connect", "attributes", "roles", "activity", "connectors"];

const sectionsNav = document.getElementById("sections");

function signIn(error) {
  const input = el("input", { id: "jwt", name: "jwt", type: "password", required: true, autocomplete: "off" });
  sectionsNav.hidden = true;
  document.title = "Sign in · scim-worker";
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

/** Where a path points: the setup page or the console, and within a tenant its section and item. */
function place(path) {
  if (path === "/setup" || path.startsWith("/setup/")) {
    const [section = "", id] = path.slice("/setup/".length).split("/").map(decodeURIComponent);
    return { setup: true, section: section || "connect", id };
  }
  const m = path.match(/^\/console\/tenants\/([^/]+)(?:\/([^/]*)(?:\/([^/]+))?)?\/?$/);
  if (m) return { setup: false, tenant: decodeURIComponent(m[1]), section: m[2] || "connect", id: m[3] && decodeURIComponent(m[3]) };
  return { setup: false };
}

/** The path of a tenant's section (and item) on this page. */
const hrefOf = (setup, tenant) => (section, id) => {
  const tail = `${section === "connect" ? "" : section}${id ? `/${encodeURIComponent(id)}` : ""}`;
  return setup ? `/setup/${tail}` : `/console/tenants/${tenant}${tail ? `/${tail}` : ""}`;
};

function renderNav(ctx, sections) {
  sectionsNav.replaceChildren(
    el("p", { class: "tenant-name" }, ctx.setup ? `Setup: ${ctx.tenant.name}` : ctx.tenant.name),
    el("ul", {}, sections.map(([s, name]) => el("li", {}, link(ctx.href(s), name, s === ctx.section ? { "aria-current": "page" } : {})))),
    ctx.who.scope === "platform" ? link("/console/", "All tenants", { class: "all" }) : "",
  );
  sectionsNav.hidden = false;
}

async function tenantRoute(view, who, where) {
  const setup = where.setup;
  const tenantId = who.scope === "tenant" ? who.tenant : where.tenant;
  if (who.scope === "tenant" && where.tenant && where.tenant !== who.tenant) {
    sectionsNav.hidden = true;
    return show(el("h1", {}, "Not your tenant"), el("p", { class: "error", role: "alert" }, `This credential is for ${who.tenant} only.`), el("p", {}, link(hrefOf(false, who.tenant)("connect"), "Go to your tenant")));
  }
  const sections = SECTIONS.filter(([s]) => !setup || SETUP.includes(s));
  const ctx = {
    view,
    who,
    setup,
    section: where.section,
    item: where.id,
    params: new URLSearchParams(location.search),
    href: hrefOf(setup, tenantId),
    show: (...nodes) => view.alive && show(...nodes),
    tenant: { id: tenantId, name: tenantId },
  };
  const entry = sections.find(([s]) => s === where.section);
  ctx.tenant = await api("GET", `/tenants/${tenantId}`);
  if (!view.alive) return;
  renderNav(ctx, sections);
  if (!entry || (where.id && !entry[3])) {
    document.title = `Not found · scim-worker`;
    return show(el("h1", {}, "No such page"), el("p", {}, setup ? "The setup page has its connection, attributes, roles, activity and connectors." : "This tenant has no such section."), el("p", {}, link(ctx.href("connect"), "Back to Connect")));
  }
  document.title = `${entry[1]} · ${ctx.tenant.name} · scim-worker`;
  const screen = where.id ? entry[3] : entry[2];
  try {
    await screen(ctx, where.id);
  } catch (err) {
    if (err.status === 401) throw err;
    ctx.show(el("h1", {}, `${entry[1]}: ${ctx.tenant.name}`), el("p", { class: "error", role: "alert" }, err.message));
  }
}

async function route() {
  const view = newView();
  const path = location.pathname;
  // A setup link: its credential moves from the fragment to this session.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    sessionStorage.setItem(KEY, fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const signout = document.getElementById("signout");
  signout.onclick = () => {
    sessionStorage.removeItem(KEY);
    go("/console/");
  };
  const isSetup = path === "/setup" || path.startsWith("/setup/");
  if (!sessionStorage.getItem(KEY)) {
    signout.hidden = true;
    sectionsNav.hidden = true;
    return isSetup ? show(el("h1", {}, "This setup link has no credential"), el("p", {}, "Ask for a new link.")) : signIn();
  }
  loading();
  try {
    say("");
    const who = await api("GET", "/whoami");
    if (!view.alive) return;
    signout.hidden = false;
    document.getElementById("who").textContent = who.scope === "platform" ? "operator" : `account ${who.tenant}`;
    const where = place(path);
    if (who.scope === "platform" && isSetup) return go("/console/");
    if (who.setupLink && !isSetup) return go("/setup/");
    if (who.scope === "tenant" && !isSetup && !where.tenant) return go(hrefOf(false, who.tenant)("connect"));
    if (where.tenant || who.scope === "tenant") return await tenantRoute(view, who, where);
    sectionsNav.hidden = true;
    document.title = "Tenants · scim-worker";
    return await tenantsScreen({ view, show: (...n) => view.alive && show(...n) });
  } catch (err) {
    if (!view.alive) return;
    if (err.status === 401) {
      sessionStorage.removeItem(KEY);
      sectionsNav.hidden = true;
      return isSetup ? show(el("h1", {}, "This setup link has expired or was revoked"), el("p", {}, "Ask for a new link.")) : signIn("That token was refused (expired, revoked or wrongly signed).");
    }
    sectionsNav.hidden = true;
    document.title = "Something went wrong · scim-worker";
    show(el("h1", {}, "Something went wrong"), el("p", { class: "error", role: "alert" }, err.message), el("p", {}, isSetup ? link("/setup/", "Back to the setup page") : link("/console/", "Back to the console")));
  }
}

setRouter(route);
onUnauthorized(() => route());
addEventListener("popstate", route);
route();
