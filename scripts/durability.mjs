// Used by scripts/durability against a server started by scripts/dev.
//   node scripts/durability.mjs write <credentials.json>
//     creates a user and a group holding it; prints {userId, groupId, user, group}
//   node scripts/durability.mjs read <credentials.json> <first credentials.json> <printed JSON>
//     reads both back and compares them; the first start's token must be refused
//   node scripts/durability.mjs raw <credentials.json> <printed JSON>
//     filters by userName with raw `"` in the request line, as Microsoft's
//     SCIM validator sends it (workerd alone answers 400 "invalid URI";
//     scripts/dev-front.mjs encodes them)
import { readFileSync } from "node:fs";
import net from "node:net";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

const [mode, credsPath, firstPath, printed] = process.argv.slice(2);
const creds = JSON.parse(readFileSync(credsPath, "utf8"));

async function scim(c, method, path, body) {
  const res = await fetch(c.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${c.token}`, "content-type": "application/scim+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function check(cond, what) {
  if (!cond) {
    console.error(`durability: ${what}`);
    process.exit(1);
  }
}

if (mode === "write") {
  const name = `durable-${Date.now()}@example.com`;
  const u = await scim(creds, "POST", "/Users", {
    schemas: [USER],
    userName: name,
    name: { givenName: "Dura", familyName: "Ble" },
    emails: [{ value: name, type: "work", primary: true }],
  });
  check(u.status === 201, `POST /Users answered ${u.status}`);
  const g = await scim(creds, "POST", "/Groups", {
    schemas: [GROUP],
    displayName: `Durable ${Date.now()}`,
    members: [{ value: u.body.id }],
  });
  check(g.status === 201, `POST /Groups answered ${g.status}`);
  const user = (await scim(creds, "GET", `/Users/${u.body.id}`)).body;
  const group = (await scim(creds, "GET", `/Groups/${g.body.id}`)).body;
  console.log(JSON.stringify({ userId: u.body.id, groupId: g.body.id, user, group }));
} else if (mode === "read") {
  const first = JSON.parse(readFileSync(firstPath, "utf8"));
  const want = JSON.parse(printed);
  const user = await scim(creds, "GET", `/Users/${want.userId}`);
  check(user.status === 200, `GET /Users/{id} after the restart answered ${user.status}`);
  check(JSON.stringify(user.body) === JSON.stringify(want.user), "the user read back differs");
  const group = await scim(creds, "GET", `/Groups/${want.groupId}`);
  check(group.status === 200, `GET /Groups/{id} after the restart answered ${group.status}`);
  check(JSON.stringify(group.body) === JSON.stringify(want.group), "the group read back differs");
  const byName = await scim(
    creds,
    "GET",
    `/Users?filter=${encodeURIComponent(`userName eq "${want.user.userName.toUpperCase()}"`)}`,
  );
  check(byName.body?.totalResults === 1, "the user is not found by userName after the restart");
  const old = await scim(first, "GET", "/Users");
  check(old.status === 401, `the revoked token of the first start answered ${old.status}`);
  console.log(`durability: user ${want.userId} and group ${want.groupId} read back unchanged`);
} else if (mode === "raw") {
  const want = JSON.parse(firstPath);
  const url = new URL(creds.baseUrl);
  const target = `${url.pathname}/Users?filter=userName%20eq%20"${want.user.userName}"`;
  const reply = await new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () =>
      socket.end(
        `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${creds.token}\r\n\r\n`,
      ),
    );
    const chunks = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", reject);
  });
  const [head, body = ""] = reply.split("\r\n\r\n");
  check(head.startsWith("HTTP/1.1 200"), `a raw " in the query string answered ${head.split("\r\n")[0]}`);
  const found = JSON.parse(body);
  check(found.totalResults === 1 && found.Resources[0].id === want.userId, "the raw-quote filter found the wrong users");
  console.log('durability: a filter with raw " in the request line found the user');
} else {
  console.error("usage: durability.mjs write|read|raw ...");
  process.exit(2);
}
