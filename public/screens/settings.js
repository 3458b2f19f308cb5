// Settings: the tenant's name, delete policy, leniency (unknown attributes
// and members), request log and retentions, allowed authentication modes;
// saved with one PATCH, the API's refusal shown as it says it. Deleting the
// tenant (platform scope).
import { el, api, go, alertBox, act, button, field, check, say } from "../lib.js";

/** A fieldset of radio buttons for one setting. */
function choice(name, legend, options, current) {
  const inputs = options.map(([value, text]) => [value, text, el("input", { type: "radio", name, id: `${name}-${value}`, value, checked: value === current })]);
  const set = el("fieldset", {}, el("legend", {}, legend), inputs.map(([, text, input]) => check(text, input)));
  set.value = () => inputs.find(([, , i]) => i.checked)?.[0];
  return set;
}

const MODES = [["token", "SCIM tokens (Bearer)"], ["basic", "Basic credentials (username and password)"], ["oauth", "OAuth (Entra client credentials, Okta connect)"]];

export async function settingsScreen(ctx) {
  const t = ctx.tenant;
  const s = t.settings;
  const alert = alertBox();
  const name = el("input", { id: "tenant-name", value: t.name, required: true, autocomplete: "off" });
  const deletePolicy = choice("deletePolicy", "When the identity provider deletes a user", [
    ["retain", "Keep a deactivated tombstone (retain): the application can still read and restore it"],
    ["remove", "Remove the user (remove)"],
  ], s.deletePolicy);
  const unknownAttributes = choice("unknownAttributes", "Attributes the schema does not define", [
    ["ignore", "Ignore them and log them (ignore)"],
    ["reject", "Refuse the request with 400 (reject)"],
  ], s.unknownAttributes);
  const unknownMembers = choice("unknownMembers", "Group members that are no users or groups here", [
    ["skip", "Skip them, add the others, log them (skip)"],
    ["reject", "Refuse the request with 400 (reject)"],
  ], s.unknownMembers);
  const requestLog = choice("requestLog", "Which SCIM requests the request log keeps", [
    ["writes-and-errors", "Writes and failed requests (writes-and-errors)"],
    ["all", "Every request (all)"],
  ], s.requestLog);
  const eventDays = el("input", { id: "event-days", type: "number", min: "1", max: "365", required: true, value: String(s.eventRetentionDays) });
  const logDays = el("input", { id: "log-days", type: "number", min: "1", max: "365", required: true, value: String(s.requestLogRetentionDays) });
  const modeBoxes = MODES.map(([m, text]) => [m, text, el("input", { type: "checkbox", id: `auth-${m}`, value: m, checked: s.authentication.includes(m) })]);
  const form = el("form", { class: "stack", onsubmit: act(alert, async () => {
    // The modes kept in their order, the new ones after them.
    const chosen = modeBoxes.filter(([, , i]) => i.checked).map(([m]) => m);
    const authentication = [...s.authentication.filter((m) => chosen.includes(m)), ...chosen.filter((m) => !s.authentication.includes(m))];
    const dropped = s.authentication.filter((m) => !chosen.includes(m));
    if (dropped.length && chosen.length && !confirm(`Turning off ${dropped.join(" and ")} revokes every credential of that mode at once. Go on?`)) return;
    const settings = {
      deletePolicy: deletePolicy.value(),
      unknownAttributes: unknownAttributes.value(),
      unknownMembers: unknownMembers.value(),
      requestLog: requestLog.value(),
      eventRetentionDays: Number(eventDays.value),
      requestLogRetentionDays: Number(logDays.value),
      authentication,
    };
    const updated = await api("PATCH", `/tenants/${t.id}`, { name: name.value.trim(), settings });
    Object.assign(t, updated);
    s.authentication = updated.settings.authentication;
    say("Settings saved.");
    savedNote.textContent = "Settings saved.";
  }) },
  field("Tenant name", name),
  deletePolicy,
  el("h2", {}, "Leniency"),
  unknownAttributes,
  unknownMembers,
  el("h2", {}, "Logs and retention"),
  requestLog,
  field("Keep events for (days)", eventDays, "1 to 365; the feed and webhook redelivery reach back this far."),
  field("Keep the request log for (days)", logDays, "1 to 365."),
  el("h2", {}, "Authentication"),
  el("fieldset", {}, el("legend", {}, "How the identity provider may authenticate"), modeBoxes.map(([, text, input]) => check(text, input)),
    el("p", { class: "muted" }, "The first mode is the one the tenant's ServiceProviderConfig names first. Turning a mode off revokes its credentials.")),
  el("p", {}, el("button", { class: "primary" }, "Save settings")));
  const savedNote = el("p", { class: "ok", "aria-live": "polite" });
  form.addEventListener("input", () => (savedNote.textContent = ""));

  const dangerAlert = alertBox();
  const danger = ctx.who.scope === "platform" ? [
    el("h2", {}, "Delete this tenant"),
    el("p", {}, "Deletes its users, groups, events, webhooks and every credential. It cannot be undone."),
    button(`Delete tenant ${t.id}`, act(dangerAlert, async () => {
      if (prompt(`Type the tenant id (${t.id}) to delete it and all its data.`) !== t.id) return;
      await api("DELETE", `/tenants/${t.id}`);
      say(`Tenant ${t.id} deleted.`);
      go("/console/");
    }), { class: "danger" }),
    dangerAlert,
  ] : [];

  ctx.show(
    el("h1", {}, `Settings: ${t.name}`),
    form,
    alert,
    savedNote,
    ...danger,
  );
}
