// OAuth 2.0 client credentials (RFC 6749 §4.4) on the built worker, as
// Microsoft Entra uses it (issue 15): the token is fetched by
// `simple-oauth2`, an independent RFC 6749 client from npm, with both client
// authentication methods it implements (HTTP Basic and the request body,
// §2.3.1), then used on SCIM.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ClientCredentials } from "simple-oauth2";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

let w;
const platform = mintJwt(ADMIN_JWT_SECRET, undefined, 1);
const admin = (method, path, body) => w.admin(platform, method, path, body);

before(async () => {
  w = await startWorker({ port: 0 });
});
after(async () => w?.dispose());

const client = (id, secret, authorizationMethod) =>
  new ClientCredentials({
    client: { id, secret },
    auth: { tokenHost: w.url, tokenPath: "/oauth/token" },
    options: { authorizationMethod },
  });

async function users(tenant, accessToken) {
  const res = await fetch(`${w.url}/scim/v2/${tenant}/Users`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.text();
  return res.status;
}

test("an RFC 6749 client gets tokens with Basic and body authentication and provisions with them", async () => {
  assert.equal((await admin("POST", "/tenants", { id: "entra-a", settings: { authentication: ["token", "oauth"] } })).status, 201);
  assert.equal((await admin("POST", "/tenants", { id: "entra-b" })).status, 201);
  const c = await admin("POST", "/tenants/entra-a/oauth-clients", { label: "entra" });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.body.tokenEndpoint, `${w.url}/oauth/token`);
  assert.equal(c.body.baseUrl, `${w.url}/scim/v2/entra-a`);

  for (const method of ["header", "body"]) {
    const token = await client(c.body.clientId, c.body.clientSecret, method).getToken({});
    assert.equal(token.token.token_type, "Bearer", method);
    assert.equal(token.token.expires_in, 3600);
    assert.ok(!token.expired(), method);
    assert.equal(await users("entra-a", token.token.access_token), 200, method);
    assert.equal(await users("entra-b", token.token.access_token), 401, method);
  }

  // A wrong secret: invalid_client, 401.
  await assert.rejects(client(c.body.clientId, "swcs_wrong", "header").getToken({}), (e) => {
    assert.equal(e.output?.statusCode, 401);
    assert.equal(e.data?.payload?.error, "invalid_client");
    return true;
  });

  // Deleting the client revokes the tokens it was given.
  const token = await client(c.body.clientId, c.body.clientSecret, "header").getToken({});
  assert.equal((await admin("DELETE", `/tenants/entra-a/oauth-clients/${c.body.clientId}`)).status, 204);
  assert.equal(await users("entra-a", token.token.access_token), 401);
});

test("the RFC 8414 metadata names the token endpoint", async () => {
  const res = await fetch(`${w.url}/.well-known/oauth-authorization-server`);
  const doc = await res.json();
  assert.equal(doc.token_endpoint, `${w.url}/oauth/token`);
  assert.deepEqual(doc.grant_types_supported, ["client_credentials"]);
});
