// Activity: the SCIM request log (status, reason, what was ignored, the
// redacted body) and the provisioning event feed, both filterable and
// updating live while the screen is open (polling stops when it is left).
import { el, api, link, alertBox, act, button, field, table, stamp, query, say, eventTypes, refused } from "../lib.js";
import { idpOf } from "./connect.js";

const POLL_MS = 3000;
/** How many events the feed keeps on screen. */
const SHOWN = 200;

/** What a request was let through with, in words. */
export function leniencyText(l) {
  if (l.kind === "unknownAttribute") return `ignored attribute ${l.name}`;
  if (l.kind === "unknownMembers") return `skipped members ${(l.skipped ?? []).join(", ")}`;
  return [l.kind, l.name, l.skipped?.join(", ")].filter(Boolean).join(": ");
}

const pretty = (body) => {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
};

export async function activityScreen(ctx) {
  const tid = ctx.tenant.id;
  const types = await eventTypes();
  let live = true;
  const liveButton = button("Pause live updates", () => {
    live = !live;
    liveButton.textContent = live ? "Pause live updates" : "Resume live updates";
    liveButton.setAttribute("aria-pressed", String(!live));
    say(live ? "Live updates resumed." : "Live updates paused.");
    if (live) tick();
  }, { "aria-pressed": "false" });
  const updated = el("span", { class: "muted", id: "updated" });

  // ---- The request log, newest first.
  const reqAlert = alertBox();
  const status = el("select", { id: "req-status" }, ["", "2xx", "4xx", "5xx"].map((s) => el("option", { value: s, selected: s === (ctx.params.get("status") ?? "") }, s || "Any status")));
  const method = el("select", { id: "req-method" }, ["", "GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => el("option", { value: m, selected: m === (ctx.params.get("method") ?? "") }, m || "Any method")));
  const reqTable = table("Request log", ["Time", "Request", "Status", "Reason", "Ignored", "Client", "Body"], []);
  const reqEmpty = el("p", {}, "No request logged yet.");
  const older = button("Load older requests", act(reqAlert, async () => {
    const page = await api("GET", `/tenants/${tid}/requests${reqQuery(reqNext)}`);
    requests.push(...page.requests.filter((r) => !seen.has(keyOf(r))));
    page.requests.forEach((r) => seen.add(keyOf(r)));
    reqNext = page.next;
    renderRequests();
  }), { hidden: true });
  let requests = [];
  let reqNext = null;
  const seen = new Set();
  const keyOf = (r) => `${r.requestId}/${r.at}`;
  const reqQuery = (after) => query({ status: status.value, method: method.value, limit: 50, after });
  const requestRow = (r) => [
    el("time", { datetime: r.at }, stamp(r.at)),
    [el("code", {}, `${r.method} ${r.path}${r.query ? `?${r.query}` : ""}`)],
    el("span", { class: `http s${String(r.status)[0]}xx` }, String(r.status)),
    r.status >= 400 ? [r.scimType ? el("code", {}, r.scimType) : "", r.scimType ? " " : "", r.detail ?? ""] : "",
    r.leniencies?.length ? el("ul", { class: "plain" }, r.leniencies.map((l) => el("li", {}, leniencyText(l)))) : "",
    [r.token ? `token ${r.token.label || r.token.id}` : "no credential", r.userAgent ? el("br") : "", r.userAgent ? el("small", {}, idpOf(r.userAgent) ?? r.userAgent) : ""],
    r.body ? el("details", {}, el("summary", {}, "Show body"), el("pre", {}, pretty(r.body))) : "",
  ];
  const renderRequests = () => {
    reqEmpty.hidden = requests.length > 0;
    reqTable.hidden = requests.length === 0;
    reqTable.fill(requests.map(requestRow));
    older.hidden = !reqNext;
  };
  const loadRequests = async () => {
    const page = await api("GET", `/tenants/${tid}/requests${reqQuery()}`);
    requests = page.requests;
    seen.clear();
    requests.forEach((r) => seen.add(keyOf(r)));
    reqNext = page.next;
    renderRequests();
  };
  const pollRequests = async () => {
    const page = await api("GET", `/tenants/${tid}/requests${reqQuery()}`);
    const fresh = page.requests.filter((r) => !seen.has(keyOf(r)));
    fresh.forEach((r) => seen.add(keyOf(r)));
    if (fresh.length) {
      requests = [...fresh, ...requests];
      renderRequests();
    }
    return fresh.length;
  };

  // ---- The event feed: oldest first from the API, shown newest first.
  const evAlert = alertBox();
  const typeSelect = el("select", { id: "ev-types" },
    el("option", { value: "" }, "All types"),
    el("option", { value: "user.*" }, "user.* (every user event)"),
    el("option", { value: "group.*" }, "group.* (every group event)"),
    types.events.map((ty) => el("option", { value: ty }, ty)));
  typeSelect.value = ctx.params.get("types") ?? "";
  const resource = el("input", { id: "ev-resource", value: ctx.params.get("resource") ?? "", spellcheck: "false", autocomplete: "off", placeholder: "a user or group id" });
  const evTable = table("Events", ["Time", "Type", "Resource", "Actor", "Changed", "Details"], []);
  const evEmpty = el("p", {}, "No event yet.");
  let events = [];
  let lastSeq = 0;
  const evQuery = (after) => query({ types: typeSelect.value, resource: resource.value.trim(), after, limit: 1000 });
  const resourceCell = (r) => {
    if (!r) return "";
    const name = r.userName ?? r.displayName ?? r.id;
    const section = r.type === "Group" ? "groups" : "users";
    return ctx.setup ? [name, " ", el("small", {}, r.type)] : [link(ctx.href(section, r.id), name), " ", el("small", {}, r.type)];
  };
  const eventRow = (e) => [
    el("time", { datetime: e.occurredAt }, stamp(e.occurredAt)),
    el("code", {}, e.type),
    resourceCell(e.resource),
    `${e.actor?.type ?? ""}${e.actor?.label ? `: ${e.actor.label}` : ""}`,
    (e.changed ?? []).join(", "),
    el("details", {}, el("summary", {}, "Show event"), el("pre", {}, JSON.stringify(e, null, 2))),
  ];
  const renderEvents = () => {
    evEmpty.hidden = events.length > 0;
    evTable.hidden = events.length === 0;
    evTable.fill(events.map(eventRow));
  };
  const loadEvents = async () => {
    let after = 0;
    let all = [];
    // Page through to the newest (ten pages at most; the oldest drop off).
    for (let i = 0; i < 10; i++) {
      const page = await api("GET", `/tenants/${tid}/events${evQuery(after)}`);
      all = [...all, ...page.events].slice(-SHOWN);
      if (page.events.length) after = page.events.at(-1).sequence;
      if (!page.next) break;
    }
    lastSeq = after;
    events = all.reverse();
    renderEvents();
  };
  const pollEvents = async () => {
    let fresh = [];
    for (let i = 0; i < 5; i++) {
      const page = await api("GET", `/tenants/${tid}/events${evQuery(lastSeq)}`);
      if (page.events.length) lastSeq = page.events.at(-1).sequence;
      fresh = [...fresh, ...page.events];
      if (!page.next) break;
    }
    if (fresh.length) {
      events = [...fresh.reverse(), ...events].slice(0, SHOWN);
      renderEvents();
    }
    return fresh.length;
  };

  // ---- Live updates while the screen is open.
  let timer;
  let polling = false;
  const tick = async () => {
    clearTimeout(timer);
    if (!ctx.view.alive || !live) return;
    if (!document.hidden && !polling) {
      polling = true;
      try {
        const [r, e] = await Promise.all([pollRequests(), pollEvents()]);
        updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
        if (r || e) say([r && `${r} new request${r > 1 ? "s" : ""}`, e && `${e} new event${e > 1 ? "s" : ""}`].filter(Boolean).join(", ") + ".");
      } catch (err) {
        if (err.status === 401) return refused();
        updated.textContent = `Could not update: ${err.message}`;
      } finally {
        polling = false;
      }
    }
    if (ctx.view.alive && live) timer = setTimeout(tick, POLL_MS);
  };
  ctx.view.onLeave(() => clearTimeout(timer));

  /** Keeps the filters in the address bar, so a reload shows the same. */
  const remember = () => {
    const q = query({ status: status.value, method: method.value, types: typeSelect.value, resource: resource.value.trim() });
    history.replaceState(null, "", `${location.pathname}${q}`);
  };
  status.addEventListener("change", act(reqAlert, async () => {
    remember();
    await loadRequests();
  }));
  method.addEventListener("change", act(reqAlert, async () => {
    remember();
    await loadRequests();
  }));
  const evFilter = act(evAlert, async () => {
    remember();
    await loadEvents();
  });
  typeSelect.addEventListener("change", evFilter);

  await Promise.all([loadRequests(), loadEvents()]);
  ctx.show(
    el("h1", {}, `Activity: ${ctx.tenant.name}`),
    el("p", { class: "live" }, liveButton, " ", updated),
    el("h2", {}, "Requests"),
    el("p", {}, ctx.tenant.settings.requestLog === "all" ? "Every SCIM request is logged." : "Writes and failed requests are logged (Settings: request log)."),
    el("div", { class: "inline" }, field("Status", status), field("Method", method)),
    reqAlert, reqEmpty, reqTable, el("p", {}, older),
    el("h2", {}, "Events"),
    el("form", { class: "inline", onsubmit: evFilter }, field("Event type", typeSelect), field("Resource id", resource), el("button", {}, "Filter events")),
    evAlert, evEmpty, evTable,
  );
  timer = setTimeout(tick, POLL_MS);
}
