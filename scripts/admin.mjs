#!/usr/bin/env node
// Operator commands for the scim-worker admin API; every command prints JSON.
//
//   scripts/admin tenants                          list tenants
//   scripts/admin create-tenant <id> [name]        create a tenant
//   scripts/admin tenant <id>                      show a tenant
//   scripts/admin settings <id> <deletePolicy>     retain | remove
//   scripts/admin issue-token <tenant> [label] [--days N] [--download]
//   scripts/admin tokens <tenant>                  list token metadata
//   scripts/admin revoke-token <tenant> <token id>
//   scripts/admin rotate-token <tenant> <token id>
//   scripts/admin define-attribute <tenant> <name> <type> [value ...] [--multi] [--required] [--unique]
//   scripts/admin schema <tenant>                  the tenant's extension
//   scripts/admin set-urn <tenant> <urn|default>   name the tenant's extension (values move)
//   scripts/admin users <tenant>                   users, deleted ones included
//   scripts/admin user <tenant> <id> [deactivate|reactivate|restore]
//   scripts/admin jwt [tenant] [--hours N]         mint an admin JWT from ADMIN_JWT_SECRET
//
// Where: ADMIN_URL and ADMIN_TOKEN, else .dev/credentials.json (written by
// scripts/dev). `jwt` reads ADMIN_JWT_SECRET, else .dev.vars.
import { mintJwt } from "./admin-jwt.mjs";
import { readFileSync, existsSync } from "node:fs";

const [cmd, ...rest] = process.argv.slice(2);
const flags = new Set(rest.filter((a) => a.startsWith("--")));
const flagValue = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const args = rest.filter((a, i) => !a.startsWith("--") && !(i > 0 && ["--days", "--hours"].includes(rest[i - 1])));

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
  if ((!url || !token) && existsSync(".dev/credentials.json")) {
    const c = JSON.parse(readFileSync(".dev/credentials.json", "utf8"));
    url ??= c.adminUrl;
    token ??= c.adminToken;
  }
  if (!url || !token) fail("Set ADMIN_URL and ADMIN_TOKEN, or run scripts/dev first.");
  return { url, token };
}

async function call(method, path, body) {
  const { url, token } = where();
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const out = text ? JSON.parse(text) : { status: res.status };
  console.log(JSON.stringify(out, null, 2));
  if (!res.ok) process.exit(1);
  return out;
}

const need = (n, usage) => {
  if (args.length < n) fail(`usage: scripts/admin ${usage}`);
};

switch (cmd) {
  case "tenants":
    await call("GET", "/tenants");
    break;
  case "create-tenant":
    need(1, "create-tenant <id> [name]");
    await call("POST", "/tenants", { id: args[0], name: args[1] ?? args[0] });
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
  case "rotate-token":
    need(2, "rotate-token <tenant> <token id>");
    await call("POST", `/tenants/${args[0]}/tokens/${args[1]}/rotate`);
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
  case "jwt": {
    const secret = devVarsSecret();
    if (!secret) fail("No ADMIN_JWT_SECRET (environment or .dev.vars).");
    console.log(JSON.stringify({ adminToken: mintJwt(secret, args[0], Number(flagValue("--hours") ?? 24)) }));
    break;
  }
  default:
    fail(readFileSync(new URL(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).slice(0, 19).map((l) => l.slice(3)).join("\n"));
}
