#!/usr/bin/env node
// Operator commands for the scim-worker admin API; every command prints JSON.
//
//   scripts/admin tenants                          list tenants
//   scripts/admin create-tenant <id> [name] [--shard DB_2] [--region eu]   create a tenant (where its data goes)
//   scripts/admin tenant <id>                      show a tenant
//   scripts/admin settings <id> <deletePolicy>     retain | remove
//   scripts/admin issue-token <tenant> [label] [--days N] [--download]
//   scripts/admin tokens <tenant>                  list token metadata
//   scripts/admin revoke-token <tenant> <token id>
//   scripts/admin rotate-token <tenant> <token id> [--grace-hours N]   the old one works N more hours
//   scripts/admin basic-credential <tenant> [label]  a Basic username and password (shown once)
//   scripts/admin oauth-client <tenant> [label] [--days N]  an OAuth client id and secret (shown once)
//   scripts/admin connect-code <tenant>          a one-time code for Okta's OAuth consent page
//   scripts/admin define-attribute <tenant> <name> <type> [value ...] [--multi] [--required] [--unique]
//   scripts/admin schema <tenant>                  the tenant's extension
//   scripts/admin set-urn <tenant> <urn|default>   name the tenant's extension (values move)
//   scripts/admin users <tenant>                   users, deleted ones included
//   scripts/admin user <tenant> <id> [deactivate|reactivate|restore]
//   scripts/admin events <tenant> [--follow] [--types user.*,group.deleted] [--resource id] [--after seq] [--json]
//   scripts/admin requests <tenant> [--status 4xx|409] [--method PATCH] [--limit N]
//   scripts/admin webhooks <tenant>                list webhooks
//   scripts/admin add-webhook <tenant> <url> [type ...]   the secret is shown once
//   scripts/admin deliveries <tenant> <webhook id> delivery attempts, newest first
//   scripts/admin jwt [tenant] [--hours N]         mint an admin JWT from ADMIN_JWT_SECRET
//   scripts/admin export <tenant> <file.ndjson>    the tenant's directory, streamed to a file
//   scripts/admin import <tenant> <file.ndjson>    load an export into an empty tenant, in parts; run it
//                                                  again after a failure: it resumes where the import is
//   scripts/admin roles <tenant>                   roles, with how many users have each
//   scripts/admin role <tenant> <name> [description]   define a role (or describe it)
//   scripts/admin role-mappings <tenant> [displayName:Sales=sales | externalId:00g1=admin | id:<id>=admin ...] [--default member]
//   scripts/admin okta-connect <tenant> <https://org.okta.com>   the API token from $OKTA_API_TOKEN
//   scripts/admin okta-test <tenant>               who the token belongs to, or what is wrong
//   scripts/admin okta-add-user <tenant> <first> <last> <email> [login] [--staged]
//   scripts/admin okta-user <tenant> <id or login>
//   scripts/admin okta-find <tenant> <name or email>
//   scripts/admin okta-deactivate <tenant> <id or login>
//   scripts/admin okta-rules <tenant> <on|off>     deactivate in Okta what the application deactivates
//
// Where: ADMIN_URL and ADMIN_TOKEN, else $CREDS or .dev/credentials.json
// (written by scripts/dev). `jwt` reads ADMIN_JWT_SECRET, else .dev.vars.
// `events --follow` prints the last 10 events (or those after --after),
// then each new one as it is recorded, one line each (--json: the event's
// JSON), until Ctrl-C; it polls the feed every --interval seconds (2).
import { mintJwt } from "./admin-jwt.mjs";
import { readFileSync, existsSync } from "node:fs";

const [cmd, ...rest] = process.argv.slice(2);
const flags = new Set(rest.filter((a) => a.startsWith("--")));
const flagValue = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const VALUED = ["--shard", "--region", "--default", "--days", "--hours", "--grace-hours", "--types", "--resource", "--after", "--interval", "--status", "--method", "--limit"];
const args = rest.filter((a, i) => !a.startsWith("--") && !(i > 0 && VALUED.includes(rest[i - 1])));

function fail(msg) {
  console.error(msg);
  process.exit(2);
}

function devVarsSecret() {
  if (process.env.ADMIN_JWT_SECRET) return process.env.ADMIN_JWT_SECRET;
  if (!existsSync(".dev.vars")) return undefined;
  const line = readFileSync(".dev.vars", "utf8").split("\n").find((l) => l.startsWith("ADMIN_JWT_SECRET="));
  return line?.slice("ADMIN_JWT_SECRET=".length).replace(/^"|"$/g, "");
}

function where() {
  let url = process.env.ADMIN_URL;
  let token = process.env.ADMIN_TOKEN;
  const creds = process.env.CREDS || ".dev/credentials.json";
  if ((!url || !token) && existsSync(creds)) {
    const c = JSON.parse(readFileSync(creds, "utf8"));
    url ??= c.adminUrl;
    token ??= c.adminToken;
  }
  if (!url || !token) fail("Set ADMIN_URL and ADMIN_TOKEN, or run scripts/dev first.");
  return { url, token };
}

/** One admin API call; answers {ok, status, body}. */
async function request(method, path, body) {
  const { url, token } = where();
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { ok: res.ok, status: res.status, body: text ? JSON.parse(text) : { status: res.status } };
}

/** One admin API call, its answer printed; exits 1 on an error status. */
async function call(method, path, body) {
  const res = await request(method, path, body);
  console.log(JSON.stringify(res.body, null, 2));
  if (!res.ok) process.exit(1);
  return res.body;
}

/** The query string of the given flags that are set (flag name without --). */
function query(names) {
  const q = new URLSearchParams();
  for (const n of names) if (flagValue(`--${n}`) !== undefined) q.set(n, flagValue(`--${n}`));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** One line for a person watching: sequence, time, type, what, who. */
function eventLine(e) {
  const r = e.resource ?? {};
  const what = r.userName ?? r.displayName ?? r.id ?? "";
  const m = e.data?.member;
  const member = m ? ` ${e.type.endsWith("removed") ? "-" : "+"} ${m.userName ?? m.displayName ?? m.id}` : "";
  const changed = e.changed?.length ? ` [${e.changed.join(", ")}]` : "";
  const who = e.actor ? `${e.actor.type}${e.actor.label ? `: ${e.actor.label}` : e.actor.id ? `: ${e.actor.id}` : ""}` : "";
  return `#${e.sequence} ${e.occurredAt} ${e.type.padEnd(20)} ${r.type ?? ""} ${what}${member}${changed} (${who})`;
}

/** `events`: one page, or --follow: the last 10 (or those after --after), then each new one. */
async function events(tenant) {
  const base = `/tenants/${encodeURIComponent(tenant)}/events`;
  const filters = new URLSearchParams();
  if (flagValue("--types")) filters.set("types", flagValue("--types"));
  if (flagValue("--resource")) filters.set("resource", flagValue("--resource"));
  const page = async (after, limit) => {
    const q = new URLSearchParams(filters);
    if (after !== undefined) q.set("after", String(after));
    q.set("limit", String(limit));
    const res = await request("GET", `${base}?${q}`);
    if (!res.ok) {
      console.error(JSON.stringify(res.body, null, 2));
      process.exit(1);
    }
    return res.body;
  };
  if (!flags.has("--follow")) {
    const body = await page(flagValue("--after"), Number(flagValue("--limit") ?? 100));
    console.log(JSON.stringify(body, null, 2));
    return;
  }
  const show = (e) => console.log(flags.has("--json") ? JSON.stringify(e) : eventLine(e));
  let after = flagValue("--after");
  if (after === undefined) {
    // The feed runs forward only: walk it to its end, keeping the last 10.
    let last = [];
    let cursor = 0;
    for (;;) {
      const body = await page(cursor, 1000);
      last = [...last, ...body.events].slice(-10);
      if (body.events.length) cursor = body.events.at(-1).sequence;
      if (!body.next) break;
      cursor = body.next;
    }
    last.forEach(show);
    after = cursor;
  }
  const interval = Math.max(0.2, Number(flagValue("--interval") ?? 2)) * 1000;
  console.error(`(following ${tenant}'s events after #${after}; Ctrl-C stops)`);
  for (;;) {
    let body;
    try {
      body = await page(after, 1000);
    } catch (e) {
      console.error(`(feed unreachable: ${e.message}; retrying)`);
      await new Promise((r) => setTimeout(r, interval));
      continue;
    }
    body.events.forEach(show);
    if (body.events.length) after = body.events.at(-1).sequence;
    if (!body.next) await new Promise((r) => setTimeout(r, interval));
  }
}

const need = (n, usage) => {
  if (args.length < n) fail(`usage: scripts/admin ${usage}`);
};

switch (cmd) {
  case "tenants":
    await call("GET", "/tenants");
    break;
  case "create-tenant":
    need(1, "create-tenant <id> [name] [--shard DB_2] [--region eu]");
    await call("POST", "/tenants", { id: args[0], name: args[1] ?? args[0], shard: flagValue("--shard"), region: flagValue("--region") });
    break;
  case "tenant":
    need(1, "tenant <id>");
    await call("GET", `/tenants/${args[0]}`);
    break;
  case "settings":
    need(2, "settings <id> <retain|remove>");
    await call("PATCH", `/tenants/${args[0]}`, { settings: { deletePolicy: args[1] } });
    break;
  case "issue-token": {
    need(1, "issue-token <tenant> [label] [--days N] [--download]");
    const body = { label: args[1] ?? "" };
    if (flagValue("--days")) body.expiresInDays = Number(flagValue("--days"));
    await call("POST", `/tenants/${args[0]}/tokens${flags.has("--download") ? "?download=true" : ""}`, body);
    break;
  }
  case "tokens":
    need(1, "tokens <tenant>");
    await call("GET", `/tenants/${args[0]}/tokens`);
    break;
  case "revoke-token":
    need(2, "revoke-token <tenant> <token id>");
    await call("DELETE", `/tenants/${args[0]}/tokens/${args[1]}`);
    break;
  case "rotate-token": {
    need(2, "rotate-token <tenant> <token id> [--grace-hours N]");
    const grace = flagValue("--grace-hours");
    await call("POST", `/tenants/${args[0]}/tokens/${args[1]}/rotate`, grace ? { graceHours: Number(grace) } : undefined);
    break;
  }
  case "oauth-client": {
    need(1, "oauth-client <tenant> [label] [--days N]");
    const body = { label: args[1] ?? "" };
    if (flagValue("--days")) body.secretExpiresInDays = Number(flagValue("--days"));
    await call("POST", `/tenants/${args[0]}/oauth-clients`, body);
    break;
  }
  case "connect-code":
    need(1, "connect-code <tenant>");
    await call("POST", `/tenants/${args[0]}/oauth/connect-codes`);
    break;
  case "basic-credential":
    need(1, "basic-credential <tenant> [label]");
    await call("POST", `/tenants/${args[0]}/basic-credentials`, { label: args[1] ?? "" });
    break;
  case "define-attribute": {
    need(3, "define-attribute <tenant> <name> <type> [value ...] [--multi] [--required] [--unique]");
    const [tenant, name, type, ...values] = args;
    const def = { type, multiValued: flags.has("--multi"), required: flags.has("--required") };
    if (flags.has("--unique")) def.unique = true;
    if (values.length) def.values = values;
    await call("PUT", `/tenants/${tenant}/schema/attributes/${name}`, def);
    break;
  }
  case "schema":
    need(1, "schema <tenant>");
    await call("GET", `/tenants/${args[0]}/schema`);
    break;
  case "set-urn":
    need(2, "set-urn <tenant> <urn|default>");
    await call("PUT", `/tenants/${args[0]}/schema`, { urn: args[1] === "default" ? null : args[1] });
    break;
  case "users":
    need(1, "users <tenant>");
    await call("GET", `/tenants/${args[0]}/users`);
    break;
  case "user":
    need(2, "user <tenant> <id> [deactivate|reactivate|restore]");
    if (args[2]) await call("POST", `/tenants/${args[0]}/users/${args[1]}/${args[2]}`);
    else await call("GET", `/tenants/${args[0]}/users/${args[1]}`);
    break;
  case "events":
    need(1, "events <tenant> [--follow] [--types t,...] [--resource id] [--after seq] [--json]");
    await events(args[0]);
    break;
  case "requests":
    need(1, "requests <tenant> [--status 4xx|409] [--method PATCH] [--limit N] [--after cursor]");
    await call("GET", `/tenants/${args[0]}/requests${query(["status", "method", "limit", "after"])}`);
    break;
  case "webhooks":
    need(1, "webhooks <tenant>");
    await call("GET", `/tenants/${args[0]}/webhooks`);
    break;
  case "add-webhook": {
    need(2, "add-webhook <tenant> <url> [type ...]");
    const [tenant, url, ...types] = args;
    await call("POST", `/tenants/${tenant}/webhooks`, types.length ? { url, types } : { url });
    break;
  }
  case "deliveries":
    need(2, "deliveries <tenant> <webhook id>");
    await call("GET", `/tenants/${args[0]}/webhooks/${args[1]}/deliveries`);
    break;
  case "roles":
    need(1, "roles <tenant>");
    await call("GET", `/tenants/${args[0]}/roles`);
    break;
  case "role":
    need(2, "role <tenant> <name> [description]");
    await call("PUT", `/tenants/${args[0]}/roles/${encodeURIComponent(args[1])}`, args[2] ? { description: args.slice(2).join(" ") } : {});
    break;
  case "role-mappings": {
    need(1, "role-mappings <tenant> [displayName:Sales=sales ...] [--default role]");
    const [tenant, ...rules] = args.filter((a) => a !== flagValue("--default"));
    if (!rules.length && !flagValue("--default")) {
      await call("GET", `/tenants/${tenant}/role-mappings`);
      break;
    }
    const mappings = rules.map((r) => {
      const m = r.match(/^(id|externalId|displayName):(.+)=([^=]+)$/);
      if (!m) fail(`A rule is <id|externalId|displayName>:<value>=<role>, not '${r}'.`);
      return { group: { [m[1]]: m[2] }, role: m[3] };
    });
    await call("PUT", `/tenants/${tenant}/role-mappings`, { mappings, defaultRole: flagValue("--default") ?? null });
    break;
  }
  case "okta-connect": {
    need(2, "okta-connect <tenant> <https://org.okta.com>  (token in $OKTA_API_TOKEN)");
    const apiToken = process.env.OKTA_API_TOKEN;
    if (!apiToken) fail("Put the Okta API token in OKTA_API_TOKEN (not on the command line, where shell history keeps it).");
    await call("PUT", `/tenants/${args[0]}/connectors/okta`, { orgUrl: args[1], apiToken });
    break;
  }
  case "okta-test":
    need(1, "okta-test <tenant>");
    await call("POST", `/tenants/${args[0]}/connectors/okta/test`);
    break;
  case "okta-add-user": {
    need(4, "okta-add-user <tenant> <first> <last> <email> [login] [--staged]");
    const [tenant, firstName, lastName, email, login] = args;
    await call("POST", `/tenants/${tenant}/connectors/okta/users`, { profile: { firstName, lastName, email, login: login ?? email }, activate: !flags.has("--staged") });
    break;
  }
  case "okta-user":
    need(2, "okta-user <tenant> <id or login>");
    await call("GET", `/tenants/${args[0]}/connectors/okta/users/${encodeURIComponent(args[1])}`);
    break;
  case "okta-find":
    need(2, "okta-find <tenant> <name or email>");
    await call("GET", `/tenants/${args[0]}/connectors/okta/users?search=${encodeURIComponent(args.slice(1).join(" "))}`);
    break;
  case "okta-deactivate":
    need(2, "okta-deactivate <tenant> <id or login>");
    await call("POST", `/tenants/${args[0]}/connectors/okta/users/${encodeURIComponent(args[1])}/deactivate`);
    break;
  case "okta-rules":
    need(2, "okta-rules <tenant> <on|off>");
    await call("PUT", `/tenants/${args[0]}/connectors/okta/rules`, { deactivateUsers: args[1] === "on" });
    break;
  case "export": {
    need(2, "export <tenant> <file.ndjson>");
    const { url, token } = where();
    const res = await fetch(`${url}/tenants/${args[0]}/export`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) fail(await res.text());
    const { createWriteStream } = await import("node:fs");
    const { Readable } = await import("node:stream");
    const { pipeline } = await import("node:stream/promises");
    await pipeline(Readable.fromWeb(res.body), createWriteStream(args[1]));
    const last = readFileSync(args[1], "utf8").trimEnd().split("\n").at(-1);
    const end = JSON.parse(last);
    if (end.type !== "end") fail("The export stopped before its end line; run it again.");
    console.log(JSON.stringify({ file: args[1], counts: end.counts }, null, 2));
    break;
  }
  case "import": {
    need(2, "import <tenant> <file.ndjson>");
    const lines = readFileSync(args[1], "utf8").split("\n").filter((l) => l.trim());
    const status = await request("GET", `/tenants/${args[0]}/import`);
    if (!status.ok) fail(JSON.stringify(status.body));
    let line = status.body.inProgress ? status.body.resumeAt : 0;
    // Parts well under the request size limit (1 MiB by default).
    const PART_BYTES = 768 * 1024;
    while (line < lines.length) {
      let end = line;
      let bytes = 0;
      while (end < lines.length && (end === line || bytes + lines[end].length + 1 <= PART_BYTES)) {
        bytes += lines[end].length + 1;
        end += 1;
      }
      const { url, token } = where();
      const res = await fetch(`${url}/tenants/${args[0]}/import?line=${line}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
        body: lines.slice(line, end).join("\n") + "\n",
      });
      const body = await res.json().catch(() => ({}));
      if (res.status === 409 && typeof body.resumeAt === "number" && body.resumeAt !== line) {
        line = body.resumeAt;
        continue;
      }
      if (!res.ok) fail(`line ${line}: ${JSON.stringify(body)} (run the command again to resume)`);
      console.error(`loaded lines ${line} to ${end - 1} of ${lines.length}`);
      if (body.complete) {
        console.log(JSON.stringify(body, null, 2));
        break;
      }
      line = body.resumeAt;
    }
    break;
  }
  case "jwt": {
    const secret = devVarsSecret();
    if (!secret) fail("No ADMIN_JWT_SECRET (environment or .dev.vars).");
    console.log(JSON.stringify({ adminToken: mintJwt(secret, args[0], Number(flagValue("--hours") ?? 24)) }));
    break;
  }
  default:
    fail(readFileSync(new URL(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).slice(0, 47).map((l) => l.slice(3)).join("\n"));
}
