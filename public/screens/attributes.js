// Custom attributes: the tenant's extension URN, the definitions (define,
// edit, remove), and for each the exact strings to paste into Okta's
// Profile Editor and Entra's customappsso attribute list.
import { el, api, alertBox, act, button, copyButton, field, check, table, say } from "../lib.js";

/** The ten field types, with what each holds. */
export const TYPES = [
  ["string", "Text"],
  ["integer", "Whole number"],
  ["number", "Decimal number"],
  ["boolean", "Yes or no"],
  ["date", "Date (YYYY-MM-DD)"],
  ["dateTime", "Date and time"],
  ["dropdown", "One of a list of values"],
  ["currency", "Amount and currency code"],
  ["uniqueNumber", "Whole number unique among users"],
  ["userReference", "Reference to a user (like manager)"],
];
const COMPLEX = { currency: ["amount", "currency"], userReference: ["value"] };
/** The data type to pick in Okta's Profile Editor for a simple type. */
const OKTA_TYPE = { string: "string", integer: "integer", number: "number", boolean: "boolean", date: "string", dateTime: "string", dropdown: "string (enum)", uniqueNumber: "integer" };

/** What to paste into Okta and Entra for attribute `a` of extension `urn`. */
export const idpStrings = (urn, a) => ({ oktaName: a.name, oktaNamespace: urn, entra: `${urn}:${a.name}` });

export async function attributesScreen(ctx) {
  const tid = ctx.tenant.id;
  let schema = await api("GET", `/tenants/${tid}/schema`);
  const alert = alertBox();

  // ---- The URN.
  const urnAlert = alertBox();
  const urn = el("input", { id: "urn", value: schema.urn, required: true, spellcheck: "false", autocomplete: "off", class: "wide" });
  const urnForm = el("form", { class: "inline", onsubmit: act(urnAlert, async () => {
    schema = await api("PUT", `/tenants/${tid}/schema`, { urn: urn.value.trim() });
    urn.value = schema.urn;
    fill();
    say("Extension URN saved: users' values moved with it.");
  }) }, field("Extension URN", urn), el("button", { class: "primary" }, "Save URN"),
  button("Use the default URN", act(urnAlert, async () => {
    schema = await api("PUT", `/tenants/${tid}/schema`, { urn: null });
    urn.value = schema.urn;
    fill();
    say("Back to the default extension URN.");
  })));

  // ---- The definitions.
  const list = table("Custom attributes", ["Name", "Type", "Options", "Okta", "Microsoft Entra ID", "Actions"], []);
  const none = el("p", {}, "No custom attribute yet: define one below.");
  const fill = () => {
    none.hidden = schema.attributes.length > 0;
    list.hidden = schema.attributes.length === 0;
    list.fill(schema.attributes.map((a) => {
      const s = idpStrings(schema.urn, a);
      const options = [a.multiValued && "multi-valued", a.required && "required", a.unique && "unique", a.caseExact && "case exact"].filter(Boolean).join(", ");
      const sub = COMPLEX[a.type];
      return [
        el("code", {}, a.name),
        [TYPES.find(([k]) => k === a.type)?.[1] ?? a.type, a.values?.length ? el("span", { class: "values" }, ` (values: ${a.values.join(", ")})`) : ""],
        options || "none",
        el("dl", { class: "paste" },
          el("dt", {}, "External name"), el("dd", {}, el("code", { class: "okta-name" }, s.oktaName), " ", copyButton(s.oktaName, `Okta external name of ${a.name}`, { short: true })),
          el("dt", {}, "External namespace"), el("dd", {}, el("code", { class: "okta-namespace" }, s.oktaNamespace), " ", copyButton(s.oktaNamespace, `Okta external namespace of ${a.name}`, { short: true })),
          el("dt", {}, "Data type"), el("dd", {}, sub ? `complex: map its sub-attributes ${sub.join(", ")}` : `${OKTA_TYPE[a.type]}${a.multiValued ? " array" : ""}`)),
        el("dl", { class: "paste" },
          el("dt", {}, "Attribute name (customappsso)"), el("dd", {}, el("code", { class: "entra-name" }, s.entra), " ", copyButton(s.entra, `Entra customappsso name of ${a.name}`, { short: true }))),
        el("span", { class: "actions" },
          button("Edit", () => edit(a), { "aria-label": `Edit ${a.name}` }), " ",
          button("Remove", act(alert, async () => {
            if (!confirm(`Remove the attribute ${a.name}? Stored values are hidden, not deleted: defining it again shows them.`)) return;
            await api("DELETE", `/tenants/${tid}/schema/attributes/${encodeURIComponent(a.name)}`);
            schema = await api("GET", `/tenants/${tid}/schema`);
            fill();
            say(`${a.name} removed.`);
          }), { "aria-label": `Remove ${a.name}` })),
      ];
    }));
  };
  fill();

  // ---- The form: define a new one, or edit one.
  const formAlert = alertBox();
  const formTitle = el("h2", { id: "attr-form-title" }, "Define an attribute");
  const name = el("input", { id: "attr-name", required: true, pattern: "[A-Za-z][A-Za-z0-9_\\-]{0,127}", autocomplete: "off", spellcheck: "false" });
  const type = el("select", { id: "attr-type" }, TYPES.map(([k, d]) => el("option", { value: k }, `${k}: ${d}`)));
  const values = el("textarea", { id: "attr-values", rows: "4", spellcheck: "false" });
  const valuesField = field("Dropdown values (one per line)", values);
  const description = el("input", { id: "attr-description", autocomplete: "off", class: "wide" });
  const multi = el("input", { id: "attr-multi", type: "checkbox" });
  const required = el("input", { id: "attr-required", type: "checkbox" });
  const caseExact = el("input", { id: "attr-case-exact", type: "checkbox" });
  const unique = el("input", { id: "attr-unique", type: "checkbox" });
  const cancel = button("Cancel editing", () => reset(), { hidden: true });
  const submit = el("button", { class: "primary" }, "Define attribute");
  const syncType = () => {
    valuesField.hidden = type.value !== "dropdown";
    values.required = type.value === "dropdown";
  };
  type.addEventListener("change", syncType);
  const reset = () => {
    form.reset();
    name.readOnly = false;
    formTitle.textContent = "Define an attribute";
    submit.textContent = "Define attribute";
    cancel.hidden = true;
    syncType();
  };
  const edit = (a) => {
    name.value = a.name;
    name.readOnly = true;
    type.value = a.type;
    values.value = (a.values ?? []).join("\n");
    description.value = a.description ?? "";
    multi.checked = !!a.multiValued;
    required.checked = !!a.required;
    caseExact.checked = !!a.caseExact;
    unique.checked = !!a.unique;
    formTitle.textContent = `Edit ${a.name}`;
    submit.textContent = "Save attribute";
    cancel.hidden = false;
    syncType();
    formTitle.scrollIntoView?.({ block: "start" });
    type.focus();
  };
  const form = el("form", { class: "stack", "aria-labelledby": "attr-form-title", onsubmit: act(formAlert, async () => {
    const def = { type: type.value, multiValued: multi.checked, required: required.checked, caseExact: caseExact.checked, unique: unique.checked };
    if (description.value.trim()) def.description = description.value.trim();
    if (type.value === "dropdown") def.values = values.value.split("\n").map((v) => v.trim()).filter(Boolean);
    const n = name.value.trim();
    const editing = name.readOnly;
    await api("PUT", `/tenants/${tid}/schema/attributes/${encodeURIComponent(n)}`, def);
    schema = await api("GET", `/tenants/${tid}/schema`);
    fill();
    reset();
    say(editing ? `${n} saved.` : `${n} defined.`);
  }) },
  field("Attribute name", name, "The application's field id: a letter, then letters, digits, _ or -."),
  field("Type", type),
  valuesField,
  field("Description", description),
  el("fieldset", {}, el("legend", {}, "Options"),
    check("Multi-valued", multi), check("Required", required), check("Case exact (text)", caseExact), check("Unique among users", unique)),
  el("p", {}, submit, " ", cancel));
  syncType();

  ctx.show(
    el("h1", {}, `Attributes: ${ctx.tenant.name}`),
    el("p", {}, "Custom user attributes live in the tenant's own extension schema. Define one here before the identity provider sends it: until then its values are ignored (or refused, with the unknown attributes setting on reject)."),
    el("h2", {}, "Extension URN"),
    urnForm,
    urnAlert,
    el("h2", {}, "Custom attributes"),
    alert,
    none,
    list,
    formTitle,
    form,
    formAlert,
  );
}
