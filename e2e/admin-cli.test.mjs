// scripts/admin against the built worker listening on a local port (issue 14:
// "scripts/dev prints how to watch events (scripts/admin events <tenant>
// --follow)"): the follower prints the events already recorded, then each
// new one as the IdP's writes commit, and the other issue-14 commands answer
// the admin API's JSON.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";
import { startOkta } from "./okta-standin.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
let w, env;

before(async () => {
  w = await startWorker({ port: 0 });
  env = { ...process.env, ADMIN_URL: `${w.url}/admin/v1`, ADMIN_TOKEN: mintJwt(ADMIN_JWT_SECRET, undefined, 1) };
});
after(async () => w?.dispose());

const admin = async (...args) => {
  const { stdout } = await promisify(execFile)("node", [join(root, "scripts/admin.mjs"), ...args], { env });
  return JSON.parse(stdout);
};
const adminWith = async (extra, ...args) => {
  const { stdout } = await promisify(execFile)("node", [join(root, "scripts/admin.mjs"), ...args], { env: { ...env, ...extra } });
  return JSON.parse(stdout);
};

async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("events --follow prints the recorded events, then each new one as it commits", async () => {
  const t = await w.tenant("cli");
  for (const name of ["old1@example.com", "old2@example.com"]) {
    assert.equal((await w.scim(t, "POST", "/Users", { schemas: [USER], userName: name })).status, 201);
  }
  const child = spawn("node", [join(root, "scripts/admin.mjs"), "events", "cli", "--follow", "--interval", "0.2"], { env });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  try {
    await until("the recorded events", () => out.includes("old2@example.com") && err.includes("following"));
    assert.match(out, /^#1 \S+ user\.created +User old1@example\.com \(scim: e2e\)$/m);
    const created = await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "new@example.com" });
    await w.scim(t, "PATCH", `/Users/${created.body.id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    await until("the new events", () => out.includes("user.deactivated"));
    const lines = out.trim().split("\n");
    assert.deepEqual(lines.map((l) => l.split(" ")[0]), ["#1", "#2", "#3", "#4"]);
    assert.match(lines[3], /user\.deactivated +User new@example\.com \[active\] \(scim: e2e\)/);
  } finally {
    child.kill();
  }
});

test("events, requests, webhooks and deliveries print the admin API's JSON", async () => {
  const t = await w.tenant("cli2");
  await w.scim(t, "POST", "/Users", { schemas: [USER], userName: "x@example.com", password: "hunter2-secret" });
  const page = await admin("events", "cli2", "--types", "user.*");
  assert.deepEqual(page.events.map((e) => e.type), ["user.created"]);
  assert.equal(page.next, null);
  const none = await admin("events", "cli2", "--types", "group.*");
  assert.deepEqual(none.events, []);
  const logged = await admin("requests", "cli2", "--method", "POST");
  assert.equal(logged.requests.length, 1);
  assert.ok(!JSON.stringify(logged).includes("hunter2-secret"), "the password is redacted");
  const hook = await admin("add-webhook", "cli2", "http://127.0.0.1:9/hook", "user.created");
  assert.match(hook.secret, /^whsec_/);
  assert.deepEqual(hook.types, ["user.created"]);
  const hooks = await admin("webhooks", "cli2");
  assert.deepEqual(hooks.webhooks.map((h) => h.id), [hook.id]);
  assert.ok(!JSON.stringify(hooks).includes(hook.secret), "the secret is shown once");
  const deliveries = await admin("deliveries", "cli2", hook.id);
  assert.ok(Array.isArray(deliveries.deliveries));
});

test("roles and role mappings from the command line (issue 16)", async () => {
  const t = await w.tenant("cliroles");
  await w.scim(t, "POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Sales" });
  await admin("role", "cliroles", "sales", "Sells", "things");
  await admin("role", "cliroles", "member");
  const mapped = await admin("role-mappings", "cliroles", "displayName:Sales=sales", "--default", "member");
  assert.deepEqual(mapped.mappings.map((m) => [m.group, m.role]), [[{ displayName: "Sales" }, "sales"]]);
  assert.equal(mapped.defaultRole, "member");
  const roles = await admin("roles", "cliroles");
  assert.deepEqual(roles.roles.map((r) => [r.name, r.description]), [["member", null], ["sales", "Sells things"]]);
  assert.deepEqual((await admin("role-mappings", "cliroles")).mappings.length, 1);
});

test("the Okta connector from the command line, the token from the environment (issue 17)", async () => {
  const okta = await startOkta({ token: "00cli-connector-token-123" });
  try {
    await w.tenant("clokta");
    const put = await adminWith({ OKTA_API_TOKEN: "00cli-connector-token-123" }, "okta-connect", "clokta", okta.url);
    assert.equal(put.tokenLast4, "-123");
    assert.equal((await admin("okta-test", "clokta")).user.login, "it-admin@acme.example");
    const u = await admin("okta-add-user", "clokta", "Cli", "User", "cli.user@acme.example", "--staged");
    assert.equal(u.status, "STAGED");
    assert.equal((await admin("okta-user", "clokta", "cli.user@acme.example")).id, u.id);
    assert.deepEqual((await admin("okta-find", "clokta", "Cli", "User")).users.map((x) => x.id), [u.id]);
    assert.equal((await admin("okta-deactivate", "clokta", u.id)).status, "DEPROVISIONED");
    assert.deepEqual((await admin("okta-rules", "clokta", "on")).rules, { deactivateUsers: true });
  } finally {
    okta.close();
  }
});

test("export streams a tenant to a file; import loads it into a new tenant and resumes where it stopped", async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "scim-export-"));
  const t = await w.tenant("cli-src");
  for (let i = 0; i < 5; i++) {
    assert.equal((await w.scim(t, "POST", "/Users", { schemas: [USER], userName: `e${i}@example.com` })).status, 201);
  }
  const file = join(dir, "cli-src.ndjson");
  const exported = await admin("export", "cli-src", file);
  assert.equal(exported.counts.user, 5);
  const lines = readFileSync(file, "utf8").trim().split("\n");
  assert.equal(JSON.parse(lines.at(-1)).type, "end");
  await admin("create-tenant", "cli-dst");
  // A first part already loaded (as by a run that stopped): the command
  // asks the server where the import is and sends only the rest.
  const head = join(dir, "head.ndjson");
  writeFileSync(head, lines.slice(0, 4).join("\n") + "\n");
  const r = await w.mf.dispatchFetch(`${w.url}/admin/v1/tenants/cli-dst/import?line=0`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/x-ndjson" },
    body: readFileSync(head, "utf8"),
  });
  assert.equal(r.status, 200, await r.text());
  const done = await admin("import", "cli-dst", file);
  assert.equal(done.complete, true);
  assert.equal(done.counts.user, 5);
  const users = await admin("users", "cli-dst");
  assert.deepEqual(users.users.map((u) => u.userName).sort(), [0, 1, 2, 3, 4].map((i) => `e${i}@example.com`));
});
