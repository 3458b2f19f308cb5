// A stand-in of Okta's Users API (developer.okta.com, Management API:
// Users, User Lifecycle; "Error codes"; "Rate limits"), on 127.0.0.1, for
// the connector's end-to-end tests. What it does as Okta does:
// - `Authorization: SSWS <token>`: a wrong token is 401 E0000011 "Invalid
//   token provided"; a token without user permissions is 403 E0000006.
// - POST /api/v1/users?activate=true|false creates an ACTIVE or STAGED
//   user; a login that exists is 400 E0000001 "Api validation failed:
//   login" with errorCauses.
// - GET /api/v1/users/{id or login}, /api/v1/users/me; 404 E0000007.
// - GET /api/v1/users?q= (startsWith on firstName, lastName, email; not
//   DEPROVISIONED users), ?search=profile.firstName sw "A" and
//   profile.lastName sw "B", &limit=.
// - POST /api/v1/users/{id}/lifecycle/deactivate: 200, empty body; the user
//   becomes DEPROVISIONED.
// - Every answer carries X-Rate-Limit-Limit, -Remaining, -Reset (Unix
//   seconds); past the limit, 429 E0000047.
// Every error body has errorCode, errorSummary, errorLink, errorId and
// errorCauses.
import http from "node:http";
import { randomBytes } from "node:crypto";

export async function startOkta({ token, readOnlyToken }) {
  const users = [];
  const calls = []; // {method, url, authorization}
  const state = { limit: 600, remaining: 600, reset: 0, delayMs: 0, next: [] };
  const err = (res, status, code, summary, causes = []) => {
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ errorCode: code, errorSummary: summary, errorLink: code, errorId: `oae${randomBytes(8).toString("hex")}`, errorCauses: causes }));
  };
  const json = (res, status, body) => {
    res.statusCode = status;
    if (body === undefined) return res.end();
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(body));
  };
  const find = (key) => users.find((u) => u.id === key || u.profile.login.toLowerCase() === key.toLowerCase());
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      calls.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      const now = Math.floor(Date.now() / 1000);
      if (state.reset <= now) Object.assign(state, { remaining: state.limit, reset: now + 60 });
      const scripted = state.next.shift();
      if (scripted === 429 || state.remaining <= 0) {
        res.setHeader("x-rate-limit-limit", state.limit);
        res.setHeader("x-rate-limit-remaining", 0);
        res.setHeader("x-rate-limit-reset", scripted === 429 ? now + (state.resetIn ?? 2) : state.reset);
        return err(res, 429, "E0000047", "API call exceeded rate limit due to too many requests.");
      }
      state.remaining -= 1;
      res.setHeader("x-rate-limit-limit", state.limit);
      res.setHeader("x-rate-limit-remaining", state.remaining);
      res.setHeader("x-rate-limit-reset", state.reset);
      const auth = req.headers.authorization ?? "";
      if (auth !== `SSWS ${token}` && auth !== `SSWS ${readOnlyToken}`) return err(res, 401, "E0000011", "Invalid token provided");
      const url = new URL(req.url, "http://okta");
      const path = decodeURIComponent(url.pathname);
      const writes = req.method !== "GET";
      if (writes && auth === `SSWS ${readOnlyToken}`) return err(res, 403, "E0000006", "You do not have permission to perform the requested action");
      if (req.method === "GET" && path === "/api/v1/users/me") {
        return json(res, 200, { id: "00uadmin0000000000", status: "ACTIVE", profile: { login: "it-admin@acme.example", firstName: "Ada", lastName: "Admin", email: "it-admin@acme.example" } });
      }
      if (req.method === "POST" && path === "/api/v1/users") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (find(body.profile.login)) {
          return err(res, 400, "E0000001", "Api validation failed: login", [{ errorSummary: "login: An object with this field already exists in the current organization" }]);
        }
        const activate = url.searchParams.get("activate") !== "false";
        const at = new Date().toISOString();
        const user = { id: `00u${randomBytes(7).toString("hex")}`, status: activate ? "ACTIVE" : "STAGED", created: at, activated: activate ? at : null, statusChanged: at, lastLogin: null, lastUpdated: at, profile: body.profile, credentials: { provider: { type: "OKTA", name: "OKTA" } } };
        users.push(user);
        return json(res, 200, user);
      }
      if (req.method === "GET" && path === "/api/v1/users") {
        const q = url.searchParams.get("q");
        const search = url.searchParams.get("search");
        const limit = Number(url.searchParams.get("limit") ?? 200);
        const sw = (v, p) => (v ?? "").toLowerCase().startsWith(p.toLowerCase());
        let found = users.filter((u) => u.status !== "DEPROVISIONED");
        if (q !== null) found = found.filter((u) => sw(u.profile.firstName, q) || sw(u.profile.lastName, q) || sw(u.profile.email, q));
        if (search !== null) {
          const m = search.match(/^profile\.firstName sw "((?:[^"\\]|\\.)*)" and profile\.lastName sw "((?:[^"\\]|\\.)*)"$/);
          if (!m) return err(res, 400, "E0000031", "Invalid search criteria.");
          found = users.filter((u) => sw(u.profile.firstName, m[1]) && sw(u.profile.lastName, m[2]));
        }
        return json(res, 200, found.slice(0, limit));
      }
      const lifecycle = path.match(/^\/api\/v1\/users\/([^/]+)\/lifecycle\/deactivate$/);
      if (req.method === "POST" && lifecycle) {
        const u = find(lifecycle[1]);
        if (!u) return err(res, 404, "E0000007", `Not found: Resource not found: ${lifecycle[1]} (User)`);
        u.status = "DEPROVISIONED";
        u.statusChanged = new Date().toISOString();
        return json(res, 200);
      }
      const one = path.match(/^\/api\/v1\/users\/([^/]+)$/);
      if (req.method === "GET" && one) {
        const u = find(one[1]);
        return u ? json(res, 200, u) : err(res, 404, "E0000007", `Not found: Resource not found: ${one[1]} (User)`);
      }
      return err(res, 404, "E0000022", "The endpoint does not support the provided HTTP method");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, users, calls, state, close: () => server.close() };
}
