// Users as the application sees them (tombstones included): a table with a
// SCIM filter and paging, and a detail view with every attribute, the
// user's roles and groups, and deactivate / reactivate / restore.
import { el, api, go, link, alertBox, act, button, field, table, stamp, query, say, hasPath } from "../lib.js";

const PAGE = 25;

export const statusOf = (u) => (u.deleted ? "deleted" : u.active === false ? "inactive" : "active");
export const statusBadge = (u) => el("span", { class: `badge ${statusOf(u)}` }, statusOf(u));
const nameOf = (u) => u.displayName || [u.name?.givenName, u.name?.familyName].filter(Boolean).join(" ") || u.name?.formatted || "";
const emailOf = (u) => (u.emails ?? []).find((e) => e.primary)?.value ?? u.emails?.[0]?.value ?? "";

/**
 * Paging controls for a list answer. By cursor when the API gives `next`
 * (the cursor of the page after): the address bar keeps the page's cursor
 * and the cursors of the pages before it (`prev`), so Previous works after
 * a reload too. Else by startIndex and totalResults.
 */
export function pager(answer, key, params, path) {
  const items = answer[key];
  const total = answer.totalResults ?? items.length;
  const at = (changes) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) v == null ? p.delete(k) : p.set(k, v);
    const s = p.toString();
    return `${path}${s ? `?${s}` : ""}`;
  };
  let start, prev = null, next = null;
  if ("next" in answer) {
    const trail = params.has("prev") ? params.get("prev").split(",") : [];
    const here = params.get("cursor");
    start = here ? trail.length * PAGE + 1 : 1;
    if (here) {
      const before = trail.slice(0, -1);
      const back = trail.at(-1);
      prev = at({ cursor: back || null, prev: before.length ? before.join(",") : back ? "" : null, startIndex: null });
      if (!back) prev = at({ cursor: null, prev: null, startIndex: null });
    }
    if (answer.next) next = at({ cursor: answer.next, prev: here ? [...trail, here].join(",") : "", startIndex: null });
  } else {
    start = answer.startIndex ?? 1;
    if (start > 1) prev = at({ startIndex: start - PAGE > 1 ? start - PAGE : null });
    if (start - 1 + items.length < total) next = at({ startIndex: start + items.length });
  }
  const summary = items.length ? `${start}–${start - 1 + items.length} of ${total}` : `0 of ${total}`;
  const nav = (href, text) => el("button", { type: "button", disabled: !href, onclick: () => go(href) }, text);
  return el("nav", { class: "pager", "aria-label": "Pages" },
    el("span", {}, `Showing ${summary}`), " ", nav(prev, "Previous page"), " ", nav(next, "Next page"));
}

export async function usersScreen(ctx) {
  const tid = ctx.tenant.id;
  const p = ctx.params;
  const filter = p.get("filter") ?? "";
  const role = p.get("role") ?? "";
  const cursor = p.get("cursor");
  // A refused list (a malformed filter) still shows the form, to fix it.
  let failure = null;
  const [answer, roles] = await Promise.all([
    api("GET", `/tenants/${tid}/users${query({ filter, role, startIndex: cursor == null ? p.get("startIndex") : null, cursor, count: PAGE })}`).catch((err) => {
      if (err.status === 401) throw err;
      failure = err;
      return { users: [], totalResults: 0 };
    }),
    hasPath("/tenants/{tenant}/roles").then((has) => (has ? api("GET", `/tenants/${tid}/roles`).then((r) => r.roles) : null)).catch(() => null),
  ]);
  const users = answer.users;
  const anyRoles = roles !== null || users.some((u) => Array.isArray(u.roles));
  const box = el("input", { id: "user-filter", type: "search", value: filter, placeholder: 'userName sw "a" and active eq true', spellcheck: "false", autocomplete: "off", class: "wide" });
  const roleSelect = roles ? el("select", { id: "user-role" }, el("option", { value: "" }, "Any role"), roles.map((r) => el("option", { value: r.name, selected: r.name === role }, r.name))) : null;
  const alert = alertBox();
  const heads = ["User name", "Name", "Email", "Status", ...(anyRoles ? ["Roles"] : []), "Created"];
  const list = table("Users", heads, users.map((u) => [
    link(ctx.href("users", u.id), u.userName),
    nameOf(u),
    emailOf(u),
    statusBadge(u),
    ...(anyRoles ? [(u.roles ?? []).join(", ")] : []),
    stamp(u.meta?.created),
  ]));
  ctx.show(
    el("h1", {}, `Users: ${ctx.tenant.name}`),
    el("form", { class: "inline", role: "search", onsubmit: (e) => {
      e.preventDefault();
      go(`${ctx.href("users")}${query({ filter: box.value.trim(), role: roleSelect?.value })}`);
    } },
    field("SCIM filter", box),
    roleSelect ? field("Role", roleSelect) : "",
    el("button", { class: "primary" }, "Apply filter"),
    filter || role ? button("Clear filter", () => go(ctx.href("users"))) : ""),
    alert,
    failure ? "" : users.length ? list : el("p", {}, filter || role ? "No user matches." : "No user yet: provision one from the identity provider."),
    failure ? "" : pager(answer, "users", p, ctx.href("users")),
  );
  if (failure) {
    alert.fail(failure.body?.scimType === "invalidFilter" ? new Error(`The filter was refused: ${failure.message}`) : failure);
    box.focus();
  }
}

/** Rows of [path, value] for every attribute of a resource, nested ones dotted. */
export function flatten(v, path = "", out = []) {
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== "object")) out.push([path, v.join(", ")]);
    else v.forEach((x, i) => flatten(x, `${path}[${i}]`, out));
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) flatten(x, path ? `${path}.${k}` : k, out);
  } else out.push([path, v === null ? "null" : String(v)]);
  return out;
}

/** Attribute tables of a resource: the core ones, then one per extension schema. */
export function attributeTables(doc, skip = []) {
  const core = {};
  const ext = [];
  for (const [k, v] of Object.entries(doc)) {
    if (skip.includes(k) || k === "schemas") continue;
    if (k.startsWith("urn:")) ext.push([k, v]);
    else core[k] = v;
  }
  const rows = (o) => flatten(o).map(([k, v]) => [el("code", {}, k), v]);
  return [
    el("h2", {}, "Attributes"),
    table("Attributes", ["Attribute", "Value"], rows(core), { class: "kv" }),
    ...ext.flatMap(([urn, v]) => [el("h3", {}, el("code", {}, urn)), table(`Attributes of ${urn}`, ["Attribute", "Value"], rows(v), { class: "kv" })]),
  ];
}

export async function userScreen(ctx, id) {
  const tid = ctx.tenant.id;
  const u = await api("GET", `/tenants/${tid}/users/${encodeURIComponent(id)}`);
  const alert = alertBox();
  const action = (verb, text, done) => button(text, act(alert, async () => {
    await api("POST", `/tenants/${tid}/users/${encodeURIComponent(id)}/${verb}`);
    say(done);
    go(location.pathname);
  }), verb === "deactivate" ? { class: "danger" } : { class: "primary" });
  const s = statusOf(u);
  const actions = s === "deleted"
    ? [action("restore", "Restore user", "User restored.")]
    : s === "inactive" ? [action("reactivate", "Reactivate user", "User reactivated.")] : [action("deactivate", "Deactivate user", "User deactivated.")];
  const groups = u.groups ?? [];
  ctx.show(
    el("p", {}, link(ctx.href("users"), "← All users")),
    el("h1", {}, u.userName),
    el("p", {}, "Status: ", statusBadge(u), u.deleted ? ` (deleted ${stamp(u.deleted)}: the identity provider no longer sees it; restore brings it back)` : ""),
    el("p", { class: "actions" }, actions),
    alert,
    el("h2", {}, "Roles"),
    "roles" in u
      ? u.roles.length ? el("ul", { class: "roles" }, u.roles.map((r) => el("li", {}, r))) : el("p", {}, "No roles.")
      : el("p", {}, "Roles are not computed on this deployment."),
    el("h2", {}, "Groups"),
    groups.length ? el("ul", {}, groups.map((g) => el("li", {}, link(ctx.href("groups", g.value), g.display ?? g.value), g.type && g.type !== "direct" ? ` (${g.type})` : ""))) : el("p", {}, "In no group."),
    ...attributeTables(u, ["groups", "roles", "deleted"]),
  );
}
