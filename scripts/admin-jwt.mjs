// Mints admin API tokens: HS256 JWTs signed with ADMIN_JWT_SECRET, whose
// claims carry scope "platform", or scope "tenant" with a tenant id.
import { createHmac } from "node:crypto";

const b64url = (x) => Buffer.from(x).toString("base64url");

/** An admin JWT valid for `hours`; `tenant` undefined means platform scope. */
export function mintJwt(secret, tenant, hours = 24) {
  const now = Math.floor(Date.now() / 1000);
  const claims = tenant ? { scope: "tenant", tenant } : { scope: "platform" };
  const payload = { ...claims, iat: now, nbf: now, exp: now + Math.round(hours * 3600) };
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}
