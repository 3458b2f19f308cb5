// Prints "<token> <sha256 hex> <KV record JSON>" for a new SCIM token of a
// tenant. The token comes from a CSPRNG (256 bits); only its hash is stored.
import { randomBytes, createHash, randomUUID } from "node:crypto";

const [tenant, label = ""] = process.argv.slice(2);
if (!tenant) {
  console.error("usage: node scripts/new-token.mjs <tenant> [label]");
  process.exit(2);
}
const token = randomBytes(32).toString("base64url");
const hash = createHash("sha256").update(token).digest("hex");
const record = {
  tenant,
  id: randomUUID(),
  label,
  hash,
  created: new Date().toISOString(),
};
process.stdout.write(`${token} ${hash} ${JSON.stringify(record)}\n`);
