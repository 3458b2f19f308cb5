// Serves Ory Polis's directory sync (SCIM 2.0) over HTTP for bench/cycles.mjs.
//
// Polis ships as the npm library `@boxyhq/saml-jackson`; its own server is a
// Next.js app whose SCIM route (/api/scim/v2.0/<directoryId>/<Users|Groups>[/<id>])
// hands each request to the library's directory-sync request handler. This
// shim does the same from node:http: it initialises the library
// (`controllers(opts)`), creates one directory, prints one JSON line on
// stdout ({baseUrl, secret, directoryId, engine}), and then answers
// every request with `directorySyncController.requests.handle(request,
// callback)`, where request is {method, body, directoryId, resourceType,
// resourceId, apiSecret, query: {count, startIndex, filter}} as the
// Next.js route builds it (count and startIndex as integers).
//
// Events go to a no-op callback, as in an application that embeds the
// library and handles events itself; no webhook is configured. One route
// is the bench's own, not SCIM: GET /_bench/groups/<id>/members answers
// {count}, the members the library stored for a group.
//
// POLIS_SERVE_STDIN=1: exit when stdin ends (the parent's pipe: it died).
//
// usage: node bench/polis_serve.mjs <polis install dir> <port> <mem|postgres> [postgres url] [directory type]
//   <polis install dir>: where `npm install @boxyhq/saml-jackson` put
//   node_modules (bench/.data/polis); directory type: okta-scim-v2
//   (default), azure-scim-v2, generic-scim-v2.
import http from "node:http";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const [dir, portArg, engine, pgUrl, type = "okta-scim-v2"] = process.argv.slice(2);
if (!dir || !portArg || !["mem", "postgres"].includes(engine) || (engine === "postgres" && !pgUrl)) {
  console.error("usage: polis_serve.mjs <polis install dir> <port> <mem|postgres> [postgres url] [directory type]");
  process.exit(2);
}
const port = Number(portArg);
const require = createRequire(join(resolve(dir), "package.json"));
const jackson = require("@boxyhq/saml-jackson");
const controllers = jackson.controllers ?? jackson.default;

const SCIM_PATH = "/api/scim/v2.0";
const quiet = () => {};
const opts = {
  externalUrl: `http://127.0.0.1:${port}`,
  samlPath: "/api/oauth/saml",
  scimPath: SCIM_PATH,
  noAnalytics: true,
  // Polis logs every request's webhook skip and its start-up at info.
  logger: { info: quiet, warn: (...a) => console.error(...a), error: (...a) => console.error(...a) },
  db: engine === "mem"
    ? { engine: "mem" }
    // Its production setup: PostgreSQL through TypeORM (tables synchronised
    // at start), records encrypted with DB_ENCRYPTION_KEY as its docs advise.
    : { engine: "sql", type: "postgres", url: pgUrl, encryptionKey: "bench-polis-encryption-key-32byt" },
  dsync: { callback: async () => {} },
};

const { directorySyncController: dsync } = await controllers(opts);
const created = await dsync.directories.create({
  name: "bench", tenant: "bench", product: "scim-bench", type,
});
if (created.error) {
  console.error("directories.create:", created.error);
  process.exit(1);
}
const directory = created.data;

const server = http.createServer({ keepAlive: true }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const send = (status, data) => {
      const body = status === 204 || data === undefined ? "" : JSON.stringify(data);
      res.writeHead(status, { "content-type": "application/scim+json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    try {
      const url = new URL(req.url, "http://x");
      // Bench-only, not SCIM: how many members the library stored for a
      // group (its SCIM GET /Groups/{id} always answers members: []), so that
      // the read-back can tell a member PATCH it dropped from one it stored.
      const probe = url.pathname.match(/^\/_bench\/groups\/([^/]+)\/members$/);
      if (probe) {
        dsync.groups.setTenantAndProduct(directory.tenant, directory.product);
        let count = 0;
        for (let offset = 0; ; offset += 50) {
          const { data, error } = await dsync.groups.getGroupMembers({ groupId: decodeURIComponent(probe[1]), pageOffset: offset, pageLimit: 50 });
          if (error) return send(500, { detail: error.message });
          count += data.length;
          if (data.length < 50) break;
        }
        return send(200, { count });
      }
      const parts = url.pathname.startsWith(`${SCIM_PATH}/`)
        ? url.pathname.slice(SCIM_PATH.length + 1).split("/").filter(Boolean).map(decodeURIComponent)
        : [];
      const [directoryId, path, resourceId] = parts;
      if (!directoryId || !["Users", "Groups"].includes(path)) return send(404, { detail: "not found" });
      const text = Buffer.concat(chunks).toString("utf8");
      const auth = req.headers.authorization ?? "";
      const q = url.searchParams;
      const int = (v) => (v ? parseInt(v, 10) : undefined);
      const { status, data } = await dsync.requests.handle({
        method: req.method,
        body: text ? JSON.parse(text) : undefined,
        directoryId,
        resourceType: path === "Users" ? "users" : "groups",
        resourceId,
        apiSecret: auth.startsWith("Bearer ") ? auth.slice(7) : null,
        query: { count: int(q.get("count")), startIndex: int(q.get("startIndex")), filter: q.get("filter") ?? undefined },
      });
      send(status, data);
    } catch (e) {
      send(500, { detail: String(e?.stack ?? e) });
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({
    baseUrl: `http://127.0.0.1:${port}${directory.scim.path.replace(/\/?\?.*$/, "")}`,
    secret: directory.scim.secret,
    directoryId: directory.id,
    engine,
    type,
  }) + "\n");
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
// POLIS_SERVE_STDIN=1 (bench/cycles.mjs sets it): stdin is a pipe from the
// parent; its end means the parent is gone, whatever killed it.
if (process.env.POLIS_SERVE_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
