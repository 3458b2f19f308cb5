// What every screen of the console shares: the tiny DOM helper, the admin
// API client (the credential is read from sessionStorage on each call and
// never kept anywhere else), the status line, alerts for API errors, and
// the view lifecycle (polls stop when a screen is left).
export const KEY = "scim-worker-admin-token";
const main = document.getElementById("main");
const statusLine = document.getElementById("status");

/** An element with attributes (on* are listeners) and children (text is text, never HTML). */
export const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== "" && c !== false) e.append(c instanceof Node ? c : document.createTextNode(c));
  return e;
};

/** Says `text` in the polite live region at the bottom of the page. */
export const say = (text) => (statusLine.textContent = text);

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail ?? `The server answered ${status}.`);
    this.status = status;
    this.body = body;
  }
}

/** An admin API call with the session's credential; the parsed JSON answer (null when empty). */
export async function api(method, path, body) {
  const res = await fetch(`/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}
let unauthorized = () => {};
/** What to do when the credential is refused mid-session (expired, revoked). */
export const onUnauthorized = (fn) => (unauthorized = fn);
/** The credential was refused: the app says so and asks again. */
export const refused = () => unauthorized();

/** `?a=1&b=2` of the given parameters, empty ones left out. */
export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
};

// ---- Views: one per navigation; leaving one runs its clean-ups (polls).
let current = null;
let router = () => {};
export const setRouter = (fn) => (router = fn);

/** Starts the view of a new navigation, ending the previous one. */
export function newView() {
  current?.leave();
  const v = {
    alive: true,
    cleanups: [],
    onLeave(fn) {
      this.cleanups.push(fn);
    },
    leave() {
      this.alive = false;
      for (const f of this.cleanups.splice(0)) f();
    },
  };
  current = v;
  return v;
}

/** Replaces the main content and moves the focus there (a navigation). */
export const show = (...nodes) => {
  main.removeAttribute("aria-busy");
  main.replaceChildren(...nodes);
  main.focus();
};

export const loading = (what = "Loading…") => {
  main.setAttribute("aria-busy", "true");
  main.replaceChildren(el("p", { class: "loading" }, what));
};

/** Navigates within the app. */
export function go(path) {
  if (path !== location.pathname + location.search) history.pushState(null, "", path);
  router();
}

/** An in-app link (a real href: it opens in a new tab too). */
export const link = (href, text, attrs = {}) =>
  el("a", { href, ...attrs, onclick: (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    go(href);
  } }, text);

/** A role=alert paragraph, hidden until `fail(err)` shows the API's detail. */
export function alertBox() {
  const p = el("p", { class: "error", role: "alert", hidden: true });
  p.fail = (err) => {
    p.textContent = err?.message ?? String(err);
    p.hidden = false;
  };
  p.clear = () => {
    p.textContent = "";
    p.hidden = true;
  };
  return p;
}

/**
 * A listener that runs `fn`, its button disabled meanwhile, and shows a
 * failure in `alert` (a form's submit event is prevented).
 */
export const act = (alert, fn) => async (e) => {
  if (e?.type === "submit") e.preventDefault();
  const button = e?.submitter ?? (e?.currentTarget instanceof HTMLButtonElement ? e.currentTarget : null);
  alert.clear();
  if (button) button.disabled = true;
  try {
    await fn(e);
  } catch (err) {
    alert.fail(err);
    if (err.status === 401) refused();
  } finally {
    if (button) button.disabled = false;
  }
};

export const button = (text, onclick, attrs = {}) => el("button", { type: "button", ...attrs, onclick }, text);

export const copyButton = (text, what, attrs = {}) =>
  button(attrs.short ? "Copy" : `Copy ${what}`, async () => {
    try {
      await navigator.clipboard.writeText(text);
      say(`${what[0].toUpperCase()}${what.slice(1)} copied.`);
    } catch {
      say(`Could not copy: select the ${what} and copy it yourself.`);
    }
  }, attrs.short ? { ...attrs, short: null, class: "small", "aria-label": `Copy ${what}` } : attrs);

export function downloadJson(doc, name) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A labelled input: the label wraps it (and names it for screen readers). */
export const field = (text, input, hint) => {
  const label = el("label", { for: input.id }, text, input);
  if (!hint) return label;
  input.setAttribute("aria-describedby", `${input.id}-hint`);
  return el("div", { class: "field" }, label, el("small", { id: `${input.id}-hint` }, hint));
};

/** A labelled checkbox or radio, the box first. */
export const check = (text, input) => el("label", { class: "check", for: input.id }, input, " ", text);

/**
 * A table of `heads` and rows (arrays of cells), scrollable sideways on a
 * phone; `fill(rows)` replaces the rows. With `empty`, that sentence shows
 * instead of the table while it has no row.
 */
export function table(caption, heads, rows, { empty, ...attrs } = {}) {
  const body = el("tbody");
  const t = el("table", attrs, el("caption", { class: "sr-only" }, caption), el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))), body);
  const scroll = el("div", { class: "scroll" }, t);
  const none = empty ? el("p", { class: "empty" }, empty) : null;
  const wrap = none ? el("div", {}, none, scroll) : scroll;
  wrap.fill = (list) => {
    body.replaceChildren(...list.map((r) => el("tr", {}, r.map((c, i) => el("td", { "data-label": heads[i] }, c)))));
    if (none) {
      none.hidden = list.length > 0;
      scroll.hidden = list.length === 0;
    }
  };
  wrap.fill(rows);
  return wrap;
}

/** A short form of a timestamp: `2026-12-01 17:40 UTC`. */
export const stamp = (iso) => (iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "");

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
/** `3 minutes ago`, `in 2 hours`, `just now`. */
export function ago(iso, now = Date.now()) {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (Math.abs(s) < 45) return "just now";
  for (const [unit, secs] of [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(s) >= secs * 0.75 || unit === "minute") return rtf.format(Math.round(s / secs), unit);
  }
  return iso;
}

/** A <time> saying how long ago, with the exact time as its title; `never` when there is none. */
export const when = (iso, none = "never") => (iso ? el("time", { datetime: iso, title: stamp(iso) }, ago(iso)) : none);

/** A box for something shown once (a token, a secret). */
export const once = (...children) => el("div", { class: "once" }, el("p", {}, el("strong", {}, "Copy this now: it is shown once.")), ...children);

/** A value to copy: the value in <output>, then its copy button. */
export const secret = (labelText, value, id) =>
  el("p", { class: "secret" }, el("span", { class: "what" }, `${labelText}: `), el("output", { id }, value), " ", copyButton(value, labelText.toLowerCase()));

/** The deployment's admin API description (/admin/v1/openapi.json, no credential), once per page load. */
let docCache;
export const apiDoc = () =>
  (docCache ??= fetch("/admin/v1/openapi.json").then((r) => r.json()).catch(() => ({ paths: {}, components: { schemas: {} } })));

/** Whether the deployment's admin API has this path (as the OpenAPI document spells it). */
export const hasPath = async (path) => path in ((await apiDoc()).paths ?? {});

const KNOWN_EVENTS = ["user.created", "user.updated", "user.deactivated", "user.reactivated", "user.deleted", "user.restored", "group.created", "group.updated", "group.deleted", "group.member_added", "group.member_removed"];
/** The event types and webhook type patterns the deployment knows, from its OpenAPI document. */
export async function eventTypes() {
  const s = (await apiDoc()).components?.schemas ?? {};
  const events = s.Event?.properties?.type?.enum ?? KNOWN_EVENTS;
  return { events, webhook: s.Webhook?.properties?.types?.items?.enum ?? [...events, "user.*", "group.*", "*"] };
}
