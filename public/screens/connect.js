// Connect your identity provider: the base URL, the credentials of each
// allowed mode (SCIM tokens, Basic, OAuth clients, Okta's connect code),
// a live connection status, setup links (console only) and the Okta and
// Entra steps.
import { el, api, go, hasPath, refused, alertBox, act, button, copyButton, downloadJson, field, table, stamp, when, ago, once, secret, say } from "../lib.js";

/** The identity provider a User-Agent names, if it is one we know. */
export function idpOf(ua) {
  if (!ua) return null;
  const known = [[/okta/i, "Okta"], [/azure|microsoft|entra|aad/i, "Microsoft Entra ID"], [/onelogin/i, "OneLogin"], [/jumpcloud/i, "JumpCloud"], [/google/i, "Google Workspace"], [/rippling/i, "Rippling"], [/ping/i, "PingOne"]];
  return known.find(([re]) => re.test(ua))?.[1] ?? null;
}

/** GET /tenants/{t}/connection, or null where the deployment has no such endpoint. */
async function connectionOf(tid) {
  try {
    if (!(await hasPath("/tenants/{tenant}/connection"))) return null;
    const c = await api("GET", `/tenants/${tid}/connection`);
    return Array.isArray(c?.credentials) ? c : null;
  } catch {
    return null;
  }
}

const latest = (...isos) => isos.flat().filter(Boolean).sort().at(-1) ?? null;

export async function connectScreen(ctx) {
  const t = ctx.tenant;
  const tid = t.id;
  const modes = t.settings.authentication;
  const canLinks = !ctx.who.setupLink;
  const [{ tokens }, { basicCredentials }, { oauthClients }, { grants }, log, links] = await Promise.all([
    api("GET", `/tenants/${tid}/tokens`),
    api("GET", `/tenants/${tid}/basic-credentials`),
    api("GET", `/tenants/${tid}/oauth-clients`),
    api("GET", `/tenants/${tid}/oauth/grants`),
    api("GET", `/tenants/${tid}/requests?limit=1`),
    canLinks ? api("GET", `/tenants/${tid}/setup-links`) : null,
  ]);
  const base = t.scimBaseUrl;

  // ---- Connection status, refreshed while the screen is open. From GET
  // /tenants/{t}/connection where the deployment has it; else from the
  // credentials' last use and the newest request-log entry.
  const statusBox = el("div", { id: "connection", class: "connection" });
  const state = { tokens, basicCredentials, oauthClients, grants, last: log.requests[0] ?? null, connection: await connectionOf(tid) };
  const renderStatus = () => {
    const c = state.connection;
    const seen = c ? c.credentials.filter((x) => x.lastSeen) : [];
    const last = c ? c.lastRequest : state.last;
    const used = c
      ? latest(seen.map((x) => x.lastSeen), last?.at)
      : latest(state.tokens.map((x) => x.lastUsed), state.basicCredentials.map((x) => x.lastUsed), state.oauthClients.map((x) => x.lastUsed), state.grants.map((x) => x.lastUsed), last?.at);
    if (!used) {
      statusBox.replaceChildren(el("p", { class: "idle" }, el("strong", {}, "No request yet."), " Paste the base URL and a credential into your identity provider, then test the connection there."));
      return;
    }
    const best = seen[0];
    const idp = best?.idp ?? idpOf(best?.userAgent) ?? last?.idp ?? idpOf(last?.userAgent) ?? "Your identity provider";
    const lines = [el("p", { class: "ok" }, el("strong", {}, `${idp} connected ${ago(used)}`), ` (${stamp(used)})`)];
    if (seen.length > 1 || (best && best.label)) {
      const kinds = { token: "SCIM token", basic: "Basic credential", "oauth-client": "OAuth client" };
      lines.push(el("ul", { class: "seen" }, seen.map((x) => el("li", {}, `${kinds[x.kind] ?? x.kind} ${x.label || x.id}: `, x.idp ?? idpOf(x.userAgent) ?? x.userAgent ?? "unknown client", ", ", when(x.lastSeen)))));
    }
    if (last) {
      lines.push(el("p", {}, "Last logged request: ", el("code", {}, `${last.method} ${last.path}`), ` answered ${last.status}`, last.userAgent ? ` (${last.userAgent})` : "", ", ", when(last.at), "."));
      if (last.status >= 400) lines.push(el("p", { class: "error" }, `It failed${last.detail ? `: ${last.detail}` : ` with status ${last.status}`}. See Activity for the request log.`));
    }
    statusBox.replaceChildren(...lines);
  };
  renderStatus();
  let timer;
  const poll = async () => {
    try {
      if (state.connection) {
        state.connection = (await connectionOf(tid)) ?? state.connection;
      } else {
        const [a, b] = await Promise.all([api("GET", `/tenants/${tid}/tokens`), api("GET", `/tenants/${tid}/requests?limit=1`)]);
        state.tokens = a.tokens;
        state.last = b.requests[0] ?? state.last;
      }
      if (ctx.view.alive) renderStatus();
    } catch (err) {
      // The next poll tries again; a refused credential asks to sign in again.
      if (err.status === 401) return refused();
    }
    if (ctx.view.alive) timer = setTimeout(poll, 10000);
  };
  timer = setTimeout(poll, 10000);
  ctx.view.onLeave(() => clearTimeout(timer));

  const turnOn = (mode, what) => {
    const alert = alertBox();
    return el("div", { class: "off" },
      el("p", {}, `${what} is off for this tenant.`),
      button(`Allow ${what}`, act(alert, async () => {
        await api("PATCH", `/tenants/${tid}`, { settings: { authentication: [...modes, mode] } });
        say(`${what} allowed.`);
        go(location.pathname);
      })),
      alert);
  };

  // ---- SCIM tokens.
  const tokenAlert = alertBox();
  const tokenOnce = el("div", { "aria-live": "polite" });
  const label = el("input", { id: "token-label", value: "okta", autocomplete: "off" });
  const days = el("input", { id: "token-days", type: "number", min: "1", placeholder: "never" });
  const issued = (x) => tokenOnce.replaceChildren(once(
    el("p", {}, el("output", { id: "new-token" }, x.token), " ", copyButton(x.token, "token"), " ",
      button("Download JSON", () => downloadJson({ baseUrl: x.baseUrl, token: x.token }, `scim-${tid}.json`))),
    x.previous ? el("p", {}, `The old token keeps working until ${stamp(x.previous.expires)}.`) : ""));
  const tokenTable = table("SCIM tokens", ["Label", "Created", "Last used", "Expires", "Fingerprint", "Actions"], [], { empty: "No token yet." });
  const refreshTokens = async () => {
    state.tokens = (await api("GET", `/tenants/${tid}/tokens`)).tokens;
    tokenTable.fill(state.tokens.map(tokenRow));
    renderStatus();
  };
  const tokenRow = (x) => [x.label, stamp(x.created), when(x.lastUsed), x.expires ? stamp(x.expires) : "never", el("code", {}, x.fingerprint),
    el("span", { class: "actions" },
      button("Rotate", act(tokenAlert, async () => {
        issued(await api("POST", `/tenants/${tid}/tokens/${x.id}/rotate`, { graceHours: 24 }));
        await refreshTokens();
        say("Rotated: the old token works 24 more hours.");
      }), { "aria-label": `Rotate token ${x.label || x.fingerprint}` }), " ",
      button("Revoke", act(tokenAlert, async () => {
        if (!confirm(`Revoke the token ${x.label || x.fingerprint}? The IdP using it stops at once.`)) return;
        await api("DELETE", `/tenants/${tid}/tokens/${x.id}`);
        say("Revoked.");
        await refreshTokens();
      }), { "aria-label": `Revoke token ${x.label || x.fingerprint}` }))];
  tokenTable.fill(tokens.map(tokenRow));
  const tokenSection = modes.includes("token") ? [
    el("form", { class: "inline", onsubmit: act(tokenAlert, async () => {
      const body = { label: label.value };
      if (days.value) body.expiresInDays = Number(days.value);
      issued(await api("POST", `/tenants/${tid}/tokens`, body));
      await refreshTokens();
      say("Token issued.");
    }) }, field("Token label", label), field("Expires in days", days), el("button", { class: "primary" }, "Generate token")),
    tokenAlert, tokenOnce, tokenTable] : [turnOn("token", "SCIM tokens")];

  // ---- Basic credentials.
  const basicAlert = alertBox();
  const basicOnce = el("div", { "aria-live": "polite" });
  const basicLabel = el("input", { id: "basic-label", autocomplete: "off" });
  const basicTable = table("Basic credentials", ["Label", "Username", "Created", "Last used", "Fingerprint", "Actions"], [], { empty: "No Basic credential yet." });
  const basicRow = (x) => [x.label, el("code", {}, x.username), stamp(x.created), when(x.lastUsed), el("code", {}, x.fingerprint),
    button("Revoke", act(basicAlert, async () => {
      if (!confirm(`Revoke the Basic credential ${x.username}?`)) return;
      await api("DELETE", `/tenants/${tid}/basic-credentials/${x.id}`);
      say("Revoked.");
      await refreshBasic();
    }), { "aria-label": `Revoke Basic credential ${x.username}` })];
  const refreshBasic = async () => {
    state.basicCredentials = (await api("GET", `/tenants/${tid}/basic-credentials`)).basicCredentials;
    basicTable.fill(state.basicCredentials.map(basicRow));
  };
  basicTable.fill(basicCredentials.map(basicRow));
  const basicSection = modes.includes("basic") ? [
    el("form", { class: "inline", onsubmit: act(basicAlert, async () => {
      const x = await api("POST", `/tenants/${tid}/basic-credentials`, { label: basicLabel.value });
      basicOnce.replaceChildren(once(secret("Username", x.username, "basic-username"), secret("Password", x.password, "basic-password")));
      await refreshBasic();
      say("Basic credential issued.");
    }) }, field("Credential label", basicLabel), el("button", { class: "primary" }, "Issue Basic credential")),
    basicAlert, basicOnce, basicTable] : [turnOn("basic", "Basic authentication")];

  // ---- OAuth clients (client credentials grant, e.g. Entra).
  const oauthAlert = alertBox();
  const oauthOnce = el("div", { "aria-live": "polite" });
  const clientLabel = el("input", { id: "client-label", value: "entra", autocomplete: "off" });
  const clientDays = el("input", { id: "client-days", type: "number", min: "1", max: "1095", placeholder: "never" });
  const shownClient = (x) => oauthOnce.replaceChildren(once(
    secret("Client ID", x.clientId, "client-id"), secret("Client secret", x.clientSecret, "client-secret"),
    secret("Token endpoint", x.tokenEndpoint, "token-endpoint"), secret("Tenant URL", x.baseUrl, "client-base-url"),
    el("p", {}, button("Download client JSON", () => downloadJson({ baseUrl: x.baseUrl, tokenEndpoint: x.tokenEndpoint, clientId: x.clientId, clientSecret: x.clientSecret }, `scim-${tid}-oauth.json`))),
    x.previousSecretExpires ? el("p", {}, `The old secret keeps working until ${stamp(x.previousSecretExpires)}.`) : ""));
  const clientTable = table("OAuth clients", ["Label", "Client ID", "Created", "Secret expires", "Last used", "Actions"], [], { empty: "No OAuth client yet." });
  const clientRow = (x) => [x.label, el("code", {}, x.clientId), stamp(x.created), x.secretExpires ? stamp(x.secretExpires) : "never", when(x.lastUsed),
    el("span", { class: "actions" },
      button("Rotate secret", act(oauthAlert, async () => {
        shownClient(await api("POST", `/tenants/${tid}/oauth-clients/${x.clientId}/rotate-secret`, { graceHours: 24 }));
        await refreshClients();
        say("Secret rotated: the old one works 24 more hours.");
      }), { "aria-label": `Rotate the secret of ${x.label || x.clientId}` }), " ",
      button("Delete", act(oauthAlert, async () => {
        if (!confirm(`Delete the OAuth client ${x.label || x.clientId}? Its access tokens stop at once.`)) return;
        await api("DELETE", `/tenants/${tid}/oauth-clients/${x.clientId}`);
        say("Client deleted.");
        await refreshClients();
      }), { "aria-label": `Delete OAuth client ${x.label || x.clientId}` }))];
  const refreshClients = async () => {
    state.oauthClients = (await api("GET", `/tenants/${tid}/oauth-clients`)).oauthClients;
    clientTable.fill(state.oauthClients.map(clientRow));
  };
  clientTable.fill(oauthClients.map(clientRow));

  // ---- Okta's OAuth connection: a one-time connect code, and the grants made.
  const codeAlert = alertBox();
  const codeOnce = el("div", { "aria-live": "polite" });
  const grantTable = table("Okta connections", ["Client", "How", "Created", "Last used", "State", "Actions"], [], { empty: "Okta has not connected with a code yet." });
  const grantRow = (g) => [el("code", {}, g.client), g.how, stamp(g.created), when(g.lastUsed), g.revoked ? `revoked ${stamp(g.revoked)}${g.revokedReason ? ` (${g.revokedReason})` : ""}` : "active",
    g.revoked ? "" : button("Revoke", act(codeAlert, async () => {
      if (!confirm("Revoke this connection? Okta's access stops at once.")) return;
      await api("DELETE", `/tenants/${tid}/oauth/grants/${g.id}`);
      state.grants = (await api("GET", `/tenants/${tid}/oauth/grants`)).grants;
      grantTable.fill(state.grants.map(grantRow));
      say("Connection revoked.");
    }), { "aria-label": `Revoke the connection of ${g.client}` })];
  grantTable.fill(grants.map(grantRow));
  const oauthSection = modes.includes("oauth") ? [
    el("h3", {}, "Client credentials (Microsoft Entra ID)"),
    el("form", { class: "inline", onsubmit: act(oauthAlert, async () => {
      const body = { label: clientLabel.value };
      if (clientDays.value) body.secretExpiresInDays = Number(clientDays.value);
      shownClient(await api("POST", `/tenants/${tid}/oauth-clients`, body));
      await refreshClients();
      say("OAuth client created.");
    }) }, field("Client label", clientLabel), field("Secret expires in days", clientDays), el("button", { class: "primary" }, "Create OAuth client")),
    oauthAlert, oauthOnce, clientTable,
    el("h3", {}, "Okta connect code"),
    el("p", {}, "When Okta's OAuth consent page asks for a connect code, generate one here and type it there. It works once, for 60 minutes."),
    el("p", {}, button("Generate connect code", act(codeAlert, async () => {
      const c = await api("POST", `/tenants/${tid}/oauth/connect-codes`);
      codeOnce.replaceChildren(once(secret("Connect code", c.code, "connect-code"), el("p", {}, `It expires ${ago(c.expires)} (${stamp(c.expires)}).`)));
      say("Connect code generated.");
    }))),
    codeAlert, codeOnce, grantTable] : [turnOn("oauth", "OAuth")];

  // ---- Setup links (not for a setup link itself).
  let linkSection = [];
  if (canLinks) {
    const linkAlert = alertBox();
    const linkOnce = el("div", { "aria-live": "polite" });
    const hours = el("input", { id: "link-hours", type: "number", min: "1", max: "720", value: "72" });
    const linkTable = table("Setup links", ["Created", "Expires", "Last used", "State", "Actions"], [], { empty: "No setup link yet." });
    const linkRow = (l) => [stamp(l.created), stamp(l.expires), when(l.lastUsed), l.revoked ? `revoked ${stamp(l.revoked)}` : Date.parse(l.expires) < Date.now() ? "expired" : "active",
      l.revoked ? "" : button("Revoke", act(linkAlert, async () => {
        await api("DELETE", `/tenants/${tid}/setup-links/${l.id}`);
        await refreshLinks();
        say("Setup link revoked.");
      }), { "aria-label": `Revoke the setup link created ${stamp(l.created)}` })];
    const refreshLinks = async () => linkTable.fill((await api("GET", `/tenants/${tid}/setup-links`)).setupLinks.map(linkRow));
    linkTable.fill(links.setupLinks.map(linkRow));
    linkSection = [
      el("h2", {}, "Setup links"),
      el("p", {}, "A setup link lets the customer's IT admin connect their identity provider without an account here: it shows only this tenant's connection, attributes, activity, connectors and roles."),
      el("form", { class: "inline", onsubmit: act(linkAlert, async () => {
        const l = await api("POST", `/tenants/${tid}/setup-links`, { expiresInHours: Number(hours.value) });
        linkOnce.replaceChildren(once(secret("Setup link", l.url, "setup-link"), el("p", {}, `It works until ${stamp(l.expires)}.`)));
        await refreshLinks();
        say("Setup link created.");
      }) }, field("Link expires in hours", hours), el("button", { class: "primary" }, "Create setup link")),
      linkAlert, linkOnce, linkTable,
    ];
  }

  ctx.show(
    el("h1", {}, `Connect your identity provider: ${t.name}`),
    el("h2", {}, "Connection status"),
    statusBox,
    el("h2", {}, "SCIM base URL"),
    el("p", {}, el("code", { id: "base-url" }, base), " ", copyButton(base, "base URL")),
    el("h2", {}, "SCIM tokens"),
    ...tokenSection,
    el("h2", {}, "Basic credentials"),
    ...basicSection,
    el("h2", {}, "OAuth"),
    ...oauthSection,
    ...linkSection,
    el("h2", {}, "Okta"),
    el("ol", {},
      el("li", {}, "Applications → Browse App Catalog → SCIM 2.0 Test App (OAuth Bearer Token) → Add integration."),
      el("li", {}, "Provisioning → Configure API Integration: SCIM 2.0 Base Url ", el("code", {}, base), ", OAuth Bearer Token: a SCIM token above. Test API Credentials, Save."),
      el("li", {}, "To App: enable Create Users, Update User Attributes, Deactivate Users."),
      el("li", {}, "Custom attributes: Profile Editor, External namespace ", el("code", {}, t.schemaUrn), " (each attribute's strings are on the Attributes page).")),
    el("h2", {}, "Microsoft Entra ID"),
    el("ol", {},
      el("li", {}, "Enterprise applications → New application → Create your own application (non-gallery)."),
      el("li", {}, "Provisioning → Automatic; Tenant URL ", el("code", {}, base), ", Secret Token: a SCIM token above (or OAuth2 client credentials grant with an OAuth client above). Test Connection, Save."),
      el("li", {}, "Custom attributes: Edit attribute list for customappsso, ", el("code", {}, `${t.schemaUrn}:<attribute>`), ".")),
  );
}
