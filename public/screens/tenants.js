// The operator's list of tenants: search, open, create.
import { el, api, go, link, alertBox, act, table, stamp } from "../lib.js";

export async function tenantsScreen(ctx) {
  const { tenants } = await api("GET", "/tenants");
  const search = el("input", { type: "search", id: "search", "aria-label": "Search tenants", placeholder: "Search" });
  const list = table("Tenants", ["Id", "Name", "Created"], []);
  const empty = el("p", { hidden: true }, "No tenant matches.");
  const fill = () => {
    const q = search.value.toLowerCase();
    const shown = tenants.filter((t) => !q || t.id.includes(q) || t.name.toLowerCase().includes(q));
    list.fill(shown.map((t) => [link(`/console/tenants/${t.id}`, t.id), t.name, stamp(t.created)]));
    empty.hidden = shown.length > 0;
    empty.textContent = tenants.length ? "No tenant matches." : "No tenant yet: create the first one above.";
  };
  search.addEventListener("input", fill);
  fill();
  const id = el("input", { id: "new-id", required: true, pattern: "[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?", autocomplete: "off" });
  const name = el("input", { id: "new-name", autocomplete: "off" });
  const alert = alertBox();
  ctx.show(
    el("h1", {}, "Tenants"),
    el("form", { class: "inline", onsubmit: act(alert, async () => {
      await api("POST", "/tenants", { id: id.value, name: name.value || id.value });
      go(`/console/tenants/${id.value}`);
    }) }, el("label", { for: "new-id" }, "Tenant id", id), el("label", { for: "new-name" }, "Name", name), el("button", { class: "primary" }, "Create tenant")),
    alert,
    search,
    list,
    empty,
  );
}
