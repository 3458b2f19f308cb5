// Webhooks: the tenant's endpoints (add: the signing secret is shown once),
// and per endpoint: edit url/types/description, enable or disable, rotate
// the secret, send a test event, and its deliveries with retry.
import { el, api, go, refused, link, alertBox, act, button, field, check, table, stamp, when, once, secret, say, eventTypes } from "../lib.js";

/** A fieldset of checkboxes, one per type or pattern; `value()` is the checked ones. */
function typesPicker(prefix, all, chosen = ["*"]) {
  const boxes = all.map((ty) => {
    const input = el("input", { type: "checkbox", id: `${prefix}-${ty.replace(/[^a-z_]/g, (c) => (c === "*" ? "all" : "-"))}`, value: ty, checked: chosen.includes(ty) });
    return [ty, input];
  });
  const describe = (ty) => (ty === "*" ? "every event (*)" : ty.endsWith(".*") ? `${ty} (every ${ty.slice(0, -2)} event)` : ty);
  const order = (ty) => (ty === "*" ? 0 : ty.endsWith(".*") ? 1 : 2);
  const set = el("fieldset", { class: "types" }, el("legend", {}, "Event types"),
    boxes.sort((a, b) => order(a[0]) - order(b[0])).map(([ty, input]) => check(describe(ty), input)));
  set.value = () => boxes.filter(([, i]) => i.checked).map(([ty]) => ty);
  return set;
}

const stateOf = (w) => (w.enabled ? "enabled" : `disabled${w.disabledReason ? `: ${w.disabledReason}` : ""}`);

export async function webhooksScreen(ctx) {
  const tid = ctx.tenant.id;
  const [{ webhooks }, types] = await Promise.all([api("GET", `/tenants/${tid}/webhooks`), eventTypes()]);
  const alert = alertBox();
  const created = el("div", { "aria-live": "polite" });
  const url = el("input", { id: "hook-url", type: "url", required: true, placeholder: "https://app.example.com/hooks/scim", class: "wide", autocomplete: "off" });
  const description = el("input", { id: "hook-description", autocomplete: "off" });
  const picker = typesPicker("new", types.webhook);
  const list = table("Webhooks", ["Endpoint", "Types", "State", "Created"], []);
  const none = el("p", {}, "No webhook yet.");
  const fill = (hooks) => {
    none.hidden = hooks.length > 0;
    list.hidden = hooks.length === 0;
    list.fill(hooks.map((w) => [[link(ctx.href("webhooks", w.id), w.url), w.description ? [el("br"), el("small", {}, w.description)] : ""], w.types.join(", "), el("span", { class: `badge ${w.enabled ? "active" : "inactive"}` }, stateOf(w)), stamp(w.created)]));
  };
  fill(webhooks);
  ctx.show(
    el("h1", {}, `Webhooks: ${ctx.tenant.name}`),
    el("p", {}, "Each endpoint gets the tenant's provisioning events as Standard Webhooks POSTs, signed with its secret."),
    none,
    list,
    el("h2", {}, "Add a webhook"),
    el("form", { class: "stack", onsubmit: act(alert, async () => {
      const body = { url: url.value.trim(), types: picker.value() };
      if (description.value.trim()) body.description = description.value.trim();
      const w = await api("POST", `/tenants/${tid}/webhooks`, body);
      created.replaceChildren(once(secret("Signing secret", w.secret, "hook-secret"), el("p", {}, link(ctx.href("webhooks", w.id), `Open ${w.url}`), ": send a test event, see its deliveries.")));
      url.value = "";
      description.value = "";
      fill((await api("GET", `/tenants/${tid}/webhooks`)).webhooks);
      say("Webhook added.");
    }) }, field("Endpoint URL", url), field("Description", description), picker, el("p", {}, el("button", { class: "primary" }, "Add webhook"))),
    alert,
    created,
  );
}

export async function webhookScreen(ctx, id) {
  const tid = ctx.tenant.id;
  const path = `/tenants/${tid}/webhooks/${encodeURIComponent(id)}`;
  let [w, types, page] = await Promise.all([api("GET", path), eventTypes(), api("GET", `${path}/deliveries?limit=50`)]);
  const alert = alertBox();
  const result = el("div", { "aria-live": "polite", id: "hook-result" });
  const heading = el("h1", {}, `Webhook ${w.url}`);
  const stateLine = el("p", {});
  const toggle = button("", act(alert, async () => {
    w = await api("PATCH", path, { enabled: !w.enabled });
    render();
    say(w.enabled ? "Webhook enabled." : "Webhook disabled.");
  }));
  const render = () => {
    heading.textContent = `Webhook ${w.url}`;
    stateLine.replaceChildren("State: ", el("span", { class: `badge ${w.enabled ? "active" : "inactive"}` }, stateOf(w)),
      w.previousSecretExpires ? ` · the previous secret also signs until ${stamp(w.previousSecretExpires)}` : "");
    toggle.textContent = w.enabled ? "Disable" : "Enable";
  };
  render();

  // ---- Edit.
  const editAlert = alertBox();
  const url = el("input", { id: "edit-url", type: "url", required: true, value: w.url, class: "wide", autocomplete: "off" });
  const description = el("input", { id: "edit-description", value: w.description ?? "", autocomplete: "off" });
  const picker = typesPicker("edit", types.webhook, w.types);
  const editForm = el("form", { class: "stack", onsubmit: act(editAlert, async () => {
    w = await api("PATCH", path, { url: url.value.trim(), types: picker.value(), description: description.value.trim() });
    render();
    say("Webhook saved.");
  }) }, field("Endpoint URL", url), field("Description", description), picker, el("p", {}, el("button", { class: "primary" }, "Save webhook")));

  // ---- Deliveries, refreshed while open.
  const delAlert = alertBox();
  const deliveries = table("Deliveries", ["Event", "State", "Attempts", "Last status", "Last error", "Next attempt", "Updated", "Actions"], []);
  const none = el("p", {}, "No delivery yet: an event of one of its types makes one.");
  let items = page.deliveries;
  let next = page.next;
  const older = button("Load older deliveries", act(delAlert, async () => {
    const more = await api("GET", `${path}/deliveries?limit=50&after=${encodeURIComponent(next)}`);
    items = [...items, ...more.deliveries];
    next = more.next;
    fillDeliveries();
  }));
  const fillDeliveries = () => {
    none.hidden = items.length > 0;
    deliveries.hidden = items.length === 0;
    older.hidden = !next;
    deliveries.fill(items.map((d) => [
      [el("code", {}, d.event?.type ?? "event"), ` #${d.event?.sequence ?? ""}`],
      el("span", { class: `badge ${d.state}` }, d.state),
      String(d.attempts),
      d.lastStatus == null ? "" : String(d.lastStatus),
      d.lastError ?? "",
      d.nextAttempt ? when(d.nextAttempt) : "",
      stamp(d.updated),
      d.state === "pending" ? "" : button("Retry", act(delAlert, async () => {
        await api("POST", `${path}/deliveries/${encodeURIComponent(d.id)}/retry`);
        say("Delivery queued again.");
        await refresh();
      }), { "aria-label": `Retry the delivery of event ${d.event?.sequence ?? d.id}` }),
    ]));
  };
  const refresh = async () => {
    const fresh = await api("GET", `${path}/deliveries?limit=50`);
    const ids = new Set(fresh.deliveries.map((d) => d.id));
    items = [...fresh.deliveries, ...items.filter((d) => !ids.has(d.id))];
    if (next === null) next = fresh.next;
    fillDeliveries();
  };
  fillDeliveries();
  let timer;
  const tick = async () => {
    if (!ctx.view.alive) return;
    if (!document.hidden) {
      try {
        await refresh();
      } catch (err) {
        if (err.status === 401) return refused();
      }
    }
    if (ctx.view.alive) timer = setTimeout(tick, 3000);
  };
  timer = setTimeout(tick, 3000);
  ctx.view.onLeave(() => clearTimeout(timer));

  ctx.show(
    el("p", {}, link(ctx.href("webhooks"), "← All webhooks")),
    heading,
    stateLine,
    el("p", { class: "actions" },
      button("Send test event", act(alert, async () => {
        result.replaceChildren(el("p", {}, "Sending…"));
        const r = await api("POST", `${path}/test`);
        result.replaceChildren(r.delivered
          ? el("p", { class: "ok" }, `Test event delivered: the endpoint answered ${r.status}.`)
          : el("p", { class: "error" }, `Test event not delivered: ${r.error ?? `the endpoint answered ${r.status}`}.`));
      }), { class: "primary" }), " ",
      toggle, " ",
      button("Rotate secret", act(alert, async () => {
        if (!confirm("Rotate the signing secret? The old one also signs for 24 hours.")) return;
        w = await api("POST", `${path}/rotate-secret`);
        result.replaceChildren(once(secret("Signing secret", w.secret, "hook-secret"), el("p", {}, `The previous secret also signs until ${stamp(w.previousSecretExpires)}: verify with both meanwhile.`)));
        render();
        say("Secret rotated.");
      })), " ",
      button("Delete", act(alert, async () => {
        if (!confirm(`Delete the webhook ${w.url} and its deliveries?`)) return;
        await api("DELETE", path);
        say("Webhook deleted.");
        go(ctx.href("webhooks"));
      }), { class: "danger" })),
    alert,
    result,
    el("h2", {}, "Edit"),
    editForm,
    editAlert,
    el("h2", {}, "Deliveries"),
    delAlert,
    none,
    deliveries,
    el("p", {}, older),
  );
}
