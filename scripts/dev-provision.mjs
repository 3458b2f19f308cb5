// Used by scripts/dev once the server answers: through the admin API,
// creates the tenant if absent, revokes the token an earlier run issued,
// issues a fresh one and writes the credentials file.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { mintJwt } from "./admin-jwt.mjs";
import { isAbsolute } from "node:path";

const [origin, tenant, credsPath] = process.argv.slice(2);
const secret = readFileSync(".dev.vars", "utf8")
  .split("\n")
  .find((l) => l.startsWith("ADMIN_JWT_SECRET="))
  .slice("ADMIN_JWT_SECRET=".length)
  .replace(/^"|"$/g, "");
const adminUrl = `${origin}/admin/v1`;
const adminToken = mintJwt(secret, undefined, 24);

async function admin(method, path, body) {
  const res = await fetch(adminUrl + path, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const created = await admin("POST", "/tenants", { id: tenant, name: tenant });
if (created.status !== 201 && created.status !== 409) {
  console.error(`creating tenant ${tenant} failed: ${created.status} ${JSON.stringify(created.body)}`);
  process.exit(1);
}
if (existsSync(credsPath)) {
  const old = JSON.parse(readFileSync(credsPath, "utf8"));
  if (old.tokenId) await admin("DELETE", `/tenants/${tenant}/tokens/${old.tokenId}`);
}
const issued = await admin("POST", `/tenants/${tenant}/tokens`, { label: "scripts/dev" });
if (issued.status !== 201) {
  console.error(`issuing a token failed: ${issued.status} ${JSON.stringify(issued.body)}`);
  process.exit(1);
}
const creds = {
  baseUrl: issued.body.baseUrl,
  token: issued.body.token,
  tokenId: issued.body.id,
  adminUrl,
  adminToken,
};
writeFileSync(credsPath, JSON.stringify(creds, null, 2) + "\n", { mode: 0o600 });
// scripts/admin reads .dev/credentials.json unless CREDS names another file.
const adminPrefix = credsPath === ".dev/credentials.json" ? "" : `CREDS=${credsPath} `;
// A path node's require() resolves as the file itself, whether CREDS is relative or absolute.
const credsRequire = isAbsolute(credsPath) ? credsPath : `./${credsPath}`;
console.error(`
  SCIM base URL: ${creds.baseUrl}
  SCIM token:    ${creds.token}
  Admin API:     ${adminUrl}  (platform admin token, valid 24 h, in ${credsPath})
  Credentials:   ${credsPath}

  Try: curl -H "Authorization: Bearer $(node -p 'require(${JSON.stringify(credsRequire)}).token')" "${creds.baseUrl}/Users"
  Console:       ${origin}/console/  (sign in with the adminToken in ${credsPath})
  Watch the provisioning events: ${adminPrefix}scripts/admin events ${tenant} --follow
  The SCIM request log:          ${adminPrefix}scripts/admin requests ${tenant}
  A local webhook receiver:      ${adminPrefix}scripts/admin add-webhook ${tenant} http://127.0.0.1:<port>/<path>
`);
