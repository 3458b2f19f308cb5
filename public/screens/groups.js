// Groups: a paged table, and a detail view with the members' names.
import { el, api, link, table, stamp, query } from "../lib.js";
import { pager, attributeTables } from "./users.js";

export async function groupsScreen(ctx) {
  const tid = ctx.tenant.id;
  const p = ctx.params;
  const cursor = p.get("cursor");
  const answer = await api("GET", `/tenants/${tid}/groups${query({ startIndex: cursor == null ? p.get("startIndex") : null, cursor, count: 25 })}`);
  const groups = answer.groups;
  ctx.show(
    el("h1", {}, `Groups: ${ctx.tenant.name}`),
    groups.length
      ? table("Groups", ["Display name", "External id", "Created", "Updated"], groups.map((g) => [link(ctx.href("groups", g.id), g.displayName), g.externalId ?? "", stamp(g.meta?.created), stamp(g.meta?.lastModified)]))
      : el("p", {}, "No group yet: push one from the identity provider."),
    pager(answer, "groups", p, ctx.href("groups")),
  );
}

export async function groupScreen(ctx, id) {
  const tid = ctx.tenant.id;
  const g = await api("GET", `/tenants/${tid}/groups/${encodeURIComponent(id)}`);
  const members = g.members ?? [];
  ctx.show(
    el("p", {}, link(ctx.href("groups"), "← All groups")),
    el("h1", {}, g.displayName),
    el("h2", {}, `Members (${members.length})`),
    members.length
      ? table("Members", ["Name", "Type", "Id"], members.map((m) => [
        m.type === "Group" ? link(ctx.href("groups", m.value), m.display ?? m.value) : link(ctx.href("users", m.value), m.display ?? m.value),
        m.type ?? "User",
        el("code", {}, m.value)]))
      : el("p", {}, "No members."),
    ...attributeTables(g, ["members"]),
  );
}
