// Roles: define and delete the tenant's roles; edit the ordered list of
// group → role mappings (group by id, externalId or displayName), the
// default role, and save them (the answer says how many users changed).
import { el, api, alertBox, act, button, field, table, stamp, say } from "../lib.js";

const MATCH = [["displayName", "Display name"], ["externalId", "External id"], ["id", "Group id"]];

export async function rolesScreen(ctx) {
  const tid = ctx.tenant.id;
  let [{ roles }, mappingsAnswer] = await Promise.all([api("GET", `/tenants/${tid}/roles`), api("GET", `/tenants/${tid}/role-mappings`)]);
  // Group names to suggest (the setup page's credential may read them too).
  const groups = await api("GET", `/tenants/${tid}/groups?count=200`).then((a) => a.groups).catch(() => []);

  // ---- Roles.
  const roleAlert = alertBox();
  const roleTable = table("Roles", ["Name", "Description", "Users", "Updated", "Actions"], []);
  const noRole = el("p", {}, "No role yet: define one below.");
  const fillRoles = () => {
    noRole.hidden = roles.length > 0;
    roleTable.hidden = roles.length === 0;
    roleTable.fill(roles.map((r) => [el("code", {}, r.name), r.description ?? "", r.users == null ? "" : String(r.users), stamp(r.updated ?? r.created),
      el("span", { class: "actions" },
        button("Edit", () => {
          roleName.value = r.name;
          roleDescription.value = r.description ?? "";
          roleDescription.focus();
        }, { "aria-label": `Edit role ${r.name}` }), " ",
        button("Delete", act(roleAlert, async () => {
          if (!confirm(`Delete the role ${r.name}?`)) return;
          await api("DELETE", `/tenants/${tid}/roles/${encodeURIComponent(r.name)}`);
          roles = (await api("GET", `/tenants/${tid}/roles`)).roles;
          fillRoles();
          syncRoleOptions();
          say(`Role ${r.name} deleted.`);
        }), { "aria-label": `Delete role ${r.name}` }))]));
  };
  const roleName = el("input", { id: "role-name", required: true, autocomplete: "off", spellcheck: "false" });
  const roleDescription = el("input", { id: "role-description", autocomplete: "off", class: "wide" });
  const roleForm = el("form", { class: "inline", onsubmit: act(roleAlert, async () => {
    const body = roleDescription.value.trim() ? { description: roleDescription.value.trim() } : {};
    const n = roleName.value.trim();
    const existed = roles.some((r) => r.name === n);
    await api("PUT", `/tenants/${tid}/roles/${encodeURIComponent(n)}`, body);
    roles = (await api("GET", `/tenants/${tid}/roles`)).roles;
    fillRoles();
    syncRoleOptions();
    roleForm.reset();
    say(existed ? `Role ${n} saved.` : `Role ${n} defined.`);
  }) }, field("Role name", roleName), field("Role description", roleDescription), el("button", { class: "primary" }, "Save role"));
  fillRoles();

  // ---- Mappings: an ordered list edited in place, saved at once.
  const mapAlert = alertBox();
  const saved = el("p", { id: "mappings-saved", "aria-live": "polite" });
  let rows = mappingsAnswer.mappings.map((m) => ({ ...m }));
  let defaultRole = mappingsAnswer.defaultRole ?? null;
  const list = el("ol", { class: "mappings" });
  const defaultSelect = el("select", { id: "default-role" });
  const datalist = el("datalist", { id: "group-names" }, groups.map((g) => el("option", { value: g.displayName })));
  const roleOptions = (chosen) => [el("option", { value: "" }, "Choose a role"), ...roles.map((r) => el("option", { value: r.name, selected: r.name === chosen }, r.name)),
    // A mapping may name a role deleted meanwhile: keep it visible.
    ...(chosen && !roles.some((r) => r.name === chosen) ? [el("option", { value: chosen, selected: true }, `${chosen} (not defined)`)] : [])];
  const syncRoleOptions = () => {
    defaultSelect.replaceChildren(el("option", { value: "" }, "No default role"), ...roles.map((r) => el("option", { value: r.name, selected: r.name === defaultRole }, r.name)),
      ...(defaultRole && !roles.some((r) => r.name === defaultRole) ? [el("option", { value: defaultRole, selected: true }, `${defaultRole} (not defined)`)] : []));
    renderMappings();
  };
  defaultSelect.addEventListener("change", () => (defaultRole = defaultSelect.value || null));
  const keyOf = (group) => MATCH.find(([k]) => k in (group ?? {}))?.[0] ?? "displayName";
  const renderMappings = (focus) => {
    list.replaceChildren(...rows.map((m, i) => {
      const n = i + 1;
      const by = el("select", { id: `map-${n}-by` }, MATCH.map(([k, d]) => el("option", { value: k, selected: k === keyOf(m.group) }, d)));
      const value = el("input", { id: `map-${n}-group`, required: true, value: m.group?.[keyOf(m.group)] ?? "", autocomplete: "off", list: "group-names" });
      const role = el("select", { id: `map-${n}-role`, required: true }, roleOptions(m.role));
      const update = () => {
        m.group = { [by.value]: value.value };
        m.role = role.value;
      };
      by.addEventListener("change", update);
      value.addEventListener("input", update);
      role.addEventListener("change", update);
      const move = (to) => () => {
        const [x] = rows.splice(i, 1);
        rows.splice(to, 0, x);
        const which = to < i ? (to === 0 ? "down" : "up") : to === rows.length - 1 ? "up" : "down";
        renderMappings(`map-${to + 1}-${which}`);
        say(`Mapping ${n} moved to position ${to + 1}.`);
      };
      const matches = m.groups;
      return el("li", {}, el("fieldset", {},
        el("legend", {}, `Mapping ${n}`),
        el("div", { class: "inline" },
          field("Match group by", by),
          field("Group", value),
          field("Role", role),
          el("span", { class: "actions" },
            button("Move up", move(i - 1), { id: `map-${n}-up`, disabled: i === 0, "aria-label": `Move mapping ${n} up` }), " ",
            button("Move down", move(i + 1), { id: `map-${n}-down`, disabled: i === rows.length - 1, "aria-label": `Move mapping ${n} down` }), " ",
            button("Remove", () => {
              rows.splice(i, 1);
              renderMappings();
              say(`Mapping ${n} removed: save to apply.`);
              addButton.focus();
            }, { "aria-label": `Remove mapping ${n}` }))),
        matches ? el("p", { class: "muted" }, matches.length ? `Matches: ${matches.map((g) => g.displayName ?? g.id).join(", ")}` : "Matches no group now.") : ""));
    }));
    if (!rows.length) list.replaceChildren(el("li", { class: "none" }, "No mapping: users get the default role only."));
    if (focus) document.getElementById(focus)?.focus();
  };
  const addButton = button("Add mapping", () => {
    rows.push({ group: { displayName: "" }, role: "" });
    renderMappings(`map-${rows.length}-group`);
  });
  syncRoleOptions();
  const mapForm = el("form", { class: "stack", onsubmit: act(mapAlert, async () => {
    const body = { mappings: rows.map((m) => ({ group: m.group, role: m.role })), defaultRole: defaultRole || null };
    const a = await api("PUT", `/tenants/${tid}/role-mappings`, body);
    rows = a.mappings.map((m) => ({ ...m }));
    defaultRole = a.defaultRole ?? null;
    syncRoleOptions();
    const n = a.usersChanged ?? 0;
    saved.textContent = `Mappings saved: ${n} user${n === 1 ? "'s roles" : "s' roles"} changed.`;
    say(saved.textContent);
  }) },
  list, datalist,
  el("p", {}, addButton),
  field("Default role (users no mapping matches)", defaultSelect),
  el("p", {}, el("button", { class: "primary" }, "Save mappings")));

  ctx.show(
    el("h1", {}, `Roles: ${ctx.tenant.name}`),
    el("p", {}, "A user's roles come from the groups they are in, through the mappings below; the admin API shows them on each user."),
    el("h2", {}, "Roles"),
    noRole, roleTable,
    roleForm, roleAlert,
    el("h2", {}, "Group mappings"),
    el("p", {}, "Mappings apply in this order. Match a group by its display name, external id or id."),
    mapForm, mapAlert, saved,
  );
}
