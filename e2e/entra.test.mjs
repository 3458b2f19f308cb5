// End-to-end: a Microsoft Entra ID provisioning cycle replayed against the
// built wasm worker (Miniflare, D1, KV), with Entra's dialect.
// Source: shared/docs/idp-behaviour.md, "Both clients" and "Microsoft Entra
// ID" (Microsoft "Develop and plan provisioning for a SCIM endpoint", "Known
// issues and resolutions with SCIM 2.0 protocol compliance", SCIM Validator).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { randomUUID } from "node:crypto";
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
const SCIM_JSON = /^application\/scim\+json/;

let w;
let entra;
before(async () => {
  // Listening on a port, so that requests can be sent exactly as Entra sends
  // them (fetch would add an Accept header).
  w = await startWorker({ port: 0 });
  entra = await w.tenant("entra-e2e");
  // Entra's tenant URL may carry ?aadOptscim062020 on every request.
});
after(async () => w?.dispose());

const ops = (Operations) => ({ schemas: [PATCH], Operations });

/** A raw HTTP request with exactly these headers (no Accept unless given). */
function raw(creds, method, path, headers = {}, body) {
  const url = new URL(creds.baseUrl + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: { authorization: `Bearer ${creds.token}`, ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(typeof body === "string" ? body : JSON.stringify(body));
    req.end();
  });
}

/** Entra's requests: JSON as application/scim+json, no Accept, +-encoded queries. */
function call(method, path, body, creds = entra) {
  const headers = body === undefined ? {} : { "content-type": "application/scim+json; charset=utf-8" };
  return raw(creds, method, path, headers, body);
}

/** An Entra filter, +-encoded as Entra's client does. */
const filter = (f) => encodeURIComponent(f).replace(/%20/g, "+");

async function userRow(id) {
  return w.db.prepare("SELECT user_name, active, deleted_at, doc FROM users WHERE id = ?").bind(id).first();
}

async function memberIds(gid) {
  const { results } = await w.db
    .prepare("SELECT member_id FROM group_members WHERE group_id = ? ORDER BY member_id")
    .bind(gid)
    .all();
  return results.map((r) => r.member_id);
}

function entraUser(userName, objectId) {
  return {
    schemas: [USER, ENT],
    externalId: objectId,
    userName,
    active: true,
    displayName: "Ada Lovelace",
    emails: [{ primary: true, type: "work", value: userName }],
    meta: { resourceType: "User" },
    name: { formatted: "Ada Lovelace", familyName: "Lovelace", givenName: "Ada" },
    title: "Analyst",
    [ENT]: { employeeNumber: "1815", department: "Engines" },
  };
}

test("Entra cycle: test connection, create, PATCH dialects, manager, disable, groups, delete", async (t) => {
  let ada;
  let boss;
  let charles;
  let group;

  await t.test("Test Connection: filter on a random GUID, no Accept, ?aadOptscim062020", async () => {
    const r = await raw(entra, "GET", `/Users?aadOptscim062020&filter=${filter(`userName eq "${randomUUID()}"`)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.headers["content-type"], SCIM_JSON);
    assert.deepEqual(r.body.schemas, [LIST]);
    assert.equal(r.body.totalResults, 0);
    assert.ok(Number.isInteger(r.body.itemsPerPage) && r.body.itemsPerPage === 0);
    assert.deepEqual(r.body.Resources ?? [], []);
    // Errors are SCIM JSON too.
    const missing = await raw(entra, "GET", `/Users/${randomUUID()}?aadOptscim062020`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers["content-type"], SCIM_JSON);
    assert.equal(missing.body.status, "404");
  });

  await t.test("create: lookup by externalId and userName, then POST (201)", async () => {
    const lookup = await call("GET", `/Users?aadOptscim062020&filter=${filter('externalId eq "obj-ada"')}`);
    assert.equal(lookup.status, 200);
    assert.equal(lookup.body.totalResults, 0);
    const r = await call("POST", "/Users?aadOptscim062020", entraUser("Ada@Contoso.com", "obj-ada"));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ada = r.body;
    assert.equal(ada.userName, "Ada@Contoso.com");
    assert.equal(ada[ENT].employeeNumber, "1815");
    const b = await call("POST", "/Users", { ...entraUser("boss@contoso.com", "obj-boss"), displayName: "Boss" });
    assert.equal(b.status, 201);
    boss = b.body;
    const c = await call("POST", "/Users", { ...entraUser("charles@contoso.com", "obj-charles"), displayName: "Charles" });
    assert.equal(c.status, 201);
    charles = c.body;
    for (const f of ['externalId eq "obj-ada"', 'userName eq "ada@contoso.com"', 'userName eq "ADA@contoso.com" and externalId eq "obj-ada"']) {
      const found = await call("GET", `/Users?filter=${filter(f)}`);
      assert.equal(found.body.totalResults, 1, f);
      assert.equal(found.body.Resources[0].id, ada.id, f);
      assert.equal(found.body.Resources[0].userName, "Ada@Contoso.com", f);
    }
    const dup = await call("POST", "/Users", entraUser("ADA@contoso.COM", "obj-other"));
    assert.equal(dup.status, 409);
    assert.equal(dup.body.scimType, "uniqueness");
  });

  await t.test("PATCH: capitalised ops, string booleans, path-less dotted and URN keys", async () => {
    const r = await call(
      "PATCH",
      `/Users/${ada.id}?aadOptscim062020`,
      ops([
        { op: "Replace", path: "title", value: "Mathematician" },
        {
          op: "Replace",
          value: {
            "name.givenName": "Augusta Ada",
            [`${ENT}:employeeNumber`]: "1816",
            [`${ENT}:department`]: "Analytical Engines",
            active: "True",
          },
        },
        { op: "Add", path: `${ENT}:costCenter`, value: "CC-1" },
      ]),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.title, "Mathematician");
    assert.equal(r.body.name.givenName, "Augusta Ada");
    assert.equal(r.body.name.familyName, "Lovelace");
    assert.equal(r.body.active, true);
    assert.deepEqual(r.body[ENT], { employeeNumber: "1816", department: "Analytical Engines", costCenter: "CC-1" });
    const doc = JSON.parse((await userRow(ada.id)).doc);
    assert.equal(doc.name.givenName, "Augusta Ada");
    assert.equal(doc["name.givenName"], undefined, "never a literal dotted key");
    assert.equal(doc[`${ENT}:employeeNumber`], undefined, "never a literal URN key");
    assert.equal(doc[ENT].employeeNumber, "1816");
  });

  await t.test("PATCH: value-filter paths update in place and create missing elements", async () => {
    const r = await call(
      "PATCH",
      `/Users/${ada.id}`,
      ops([
        { op: "Replace", path: 'emails[type eq "work"].value', value: "ada.lovelace@contoso.com" },
        { op: "Add", path: 'phoneNumbers[type eq "work"].value', value: "+44 20 0000 0000" },
        { op: "Add", path: 'addresses[type eq "work"].streetAddress', value: "12 St James's Square" },
        { op: "Replace", path: 'addresses[type eq "work"].locality', value: "London" },
      ]),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.emails, [{ value: "ada.lovelace@contoso.com", type: "work", primary: true }]);
    assert.deepEqual(r.body.phoneNumbers, [{ value: "+44 20 0000 0000", type: "work" }]);
    assert.deepEqual(r.body.addresses, [{ type: "work", streetAddress: "12 St James's Square", locality: "London" }]);
    const again = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Replace", path: 'phoneNumbers[type eq "work"].value', value: "+44 20 1111 1111" }]));
    assert.deepEqual(again.body.phoneNumbers, [{ value: "+44 20 1111 1111", type: "work" }]);
    const byMail = await call("GET", `/Users?filter=${filter('emails[type eq "work"].value eq "ADA.LOVELACE@contoso.com"')}`);
    assert.equal(byMail.body.totalResults, 1);
    assert.equal(byMail.body.Resources[0].id, ada.id);
  });

  await t.test("manager: set as a bare id and as a legacy array, removed by remove and by replace to \"\"", async () => {
    const manager = `${ENT}:manager`;
    let r = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Add", path: manager, value: boss.id }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body[ENT].manager.value, boss.id);
    assert.match(r.body[ENT].manager.$ref, new RegExp(`/Users/${boss.id}$`));
    r = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Remove", path: manager }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body[ENT].manager, undefined);
    r = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Replace", value: { [manager]: [{ value: charles.id }] } }]));
    assert.equal(r.body[ENT].manager.value, charles.id);
    r = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Replace", path: manager, value: "" }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body[ENT].manager, undefined);
    r = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Add", path: manager, value: { value: boss.id } }]));
    assert.equal(r.body[ENT].manager.value, boss.id);
    r = await call("PATCH", `/Users/${ada.id}`, ops([{ op: "Remove", path: `manager[value eq "${boss.id}"]` }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body[ENT].manager, undefined);
    assert.equal(JSON.parse((await userRow(ada.id)).doc)[ENT].manager, undefined);
  });

  await t.test("roles: stringified JSON with primary as a string goes out as a JSON boolean", async () => {
    const r = await call(
      "PATCH",
      `/Users/${ada.id}`,
      ops([{ op: "Add", path: "roles", value: '[{"value":"Admin","display":"Admin","primary":"True"}]' }]),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.roles, [{ value: "Admin", display: "Admin", primary: true }]);
  });

  await t.test("disable: active \"False\" is stored as false; the user stays visible", async () => {
    const r = await call("PATCH", `/Users/${charles.id}`, ops([{ op: "Replace", path: "active", value: "False" }]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.active, false);
    assert.equal((await userRow(charles.id)).active, 0);
    assert.equal(JSON.parse((await userRow(charles.id)).doc).active, false);
    const g = await call("GET", `/Users/${charles.id}`);
    assert.equal(g.status, 200);
    assert.equal(g.body.active, false);
    const f = await call("GET", `/Users?filter=${filter('externalId eq "obj-charles"')}`);
    assert.equal(f.body.Resources[0].active, false);
  });

  await t.test("groups: legacy URN on POST, lookup excluding members, member add and removal (204)", async () => {
    const r = await call("POST", "/Groups?aadOptscim062020", {
      schemas: [MS_GROUP],
      externalId: "obj-group",
      displayName: "Analysts",
      members: [],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.schemas, [GROUP]);
    group = r.body;
    const found = await call("GET", `/Groups?excludedAttributes=members&filter=${filter('displayName eq "analysts"')}`);
    assert.equal(found.status, 200);
    assert.equal(found.body.totalResults, 1);
    assert.equal(found.body.Resources[0].id, group.id);
    assert.equal(found.body.Resources[0].members, undefined);

    let p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Add", path: "members", value: [{ value: ada.id }, { value: boss.id }, { value: charles.id }] }]));
    assert.equal(p.status, 204, JSON.stringify(p.body));
    assert.equal(p.body, null, "no member list on PATCH");
    assert.deepEqual(await memberIds(group.id), [ada.id, boss.id, charles.id].sort());
    // Re-adding a member is a no-op success.
    p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Add", path: "members", value: [{ value: ada.id }] }]));
    assert.equal(p.status, 204);
    assert.deepEqual(await memberIds(group.id), [ada.id, boss.id, charles.id].sort());
    // Legacy removal: only the listed members go.
    p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Remove", path: "members", value: [{ value: boss.id }] }]));
    assert.equal(p.status, 204, JSON.stringify(p.body));
    assert.deepEqual(await memberIds(group.id), [ada.id, charles.id].sort());
    // Removing a non-member is a no-op success.
    p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Remove", path: "members", value: [{ value: boss.id }] }]));
    assert.equal(p.status, 204);
    // Filter form.
    p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Remove", path: `members[value eq "${charles.id}"]` }]));
    assert.equal(p.status, 204);
    assert.deepEqual(await memberIds(group.id), [ada.id]);
    // Rename.
    p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Replace", path: "displayName", value: "Analysts EMEA" }]));
    assert.equal(p.status, 204);
    const g = await call("GET", `/Groups/${group.id}`);
    assert.equal(g.body.displayName, "Analysts EMEA");
    assert.deepEqual(g.body.members.map((m) => m.value), [ada.id]);
    const u = await call("GET", `/Users/${ada.id}`);
    assert.equal(u.body.groups[0].value, group.id);
    // remove members without a value empties the group.
    p = await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Remove", path: "members" }]));
    assert.equal(p.status, 204);
    assert.deepEqual(await memberIds(group.id), []);
  });

  await t.test("hard DELETE, default policy: a tombstone, 404 to SCIM, the userName is free again", async () => {
    await call("PATCH", `/Groups/${group.id}`, ops([{ op: "Add", path: "members", value: [{ value: charles.id }] }]));
    const d = await call("DELETE", `/Users/${charles.id}`);
    assert.equal(d.status, 204);
    const row = await userRow(charles.id);
    assert.ok(row, "the row is kept");
    assert.equal(row.active, 0);
    assert.ok(row.deleted_at);
    assert.equal((await call("GET", `/Users/${charles.id}`)).status, 404);
    assert.equal((await call("DELETE", `/Users/${charles.id}`)).status, 404);
    const f = await call("GET", `/Users?filter=${filter('externalId eq "obj-charles"')}`);
    assert.equal(f.body.totalResults, 0);
    assert.deepEqual(await memberIds(group.id), []);
    const again = await call("POST", "/Users", entraUser("Charles@contoso.com", "obj-charles"));
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.notEqual(again.body.id, charles.id);
  });

  await t.test("hard DELETE with the tenant's deletePolicy set to remove: the row goes", async () => {
    // As the operator sets it: through the admin API (the isolate that
    // changes a setting uses it at once; others within 30 s).
    const set = await w.admin(mintJwt(ADMIN_JWT_SECRET, undefined, 1), "PATCH", "/tenants/entra-e2e", {
      settings: { deletePolicy: "remove" },
    });
    assert.equal(set.status, 200, set.text);
    const d = await call("DELETE", `/Users/${boss.id}`);
    assert.equal(d.status, 204);
    assert.equal(await userRow(boss.id), null, "the row is removed");
    const emails = await w.db.prepare("SELECT count(*) AS n FROM user_emails WHERE user_id = ?").bind(boss.id).first();
    assert.equal(emails.n, 0);
    assert.equal((await call("GET", `/Users/${boss.id}`)).status, 404);
    assert.equal((await call("DELETE", `/Users/${boss.id}`)).status, 404);
    const again = await call("POST", "/Users", entraUser("boss@contoso.com", "obj-boss"));
    assert.equal(again.status, 201);
  });
});
