// The storage floor: what the worker's `userName eq` lookup costs in storage
// calls alone, on the same bindings (local KV and D1). A plain JS worker does
// the same I/O as scim-worker for `GET /Users?filter=userName eq "..."`:
// hash the bearer token and read its KV record, then one D1 batch of the two
// statements scim-worker sends in one round trip (the tenant's attribute
// definitions and the page; a page shorter than its limit tells the total,
// so no count runs), and answers the ListResponse. The gap to scim-worker is
// the Rust/wasm worker's own cost.
//
// With the var FLOOR_CACHED=1 it makes the storage calls scim-worker makes in
// steady state instead: the token record and the attribute definitions are
// kept in the isolate (as scim-worker's credential and profile caches keep
// them), so a lookup is the page statement alone. bench/profile.mjs uses it
// as the reference for the isolate time a request costs the runtime itself.
const records = new Map();
const COLUMNS =
  "r.seq, r.id, r.created_at, r.last_modified, r.version, r.doc, " +
  "(SELECT json_group_array(json_array(g.id, g.display_name)) FROM group_members m " +
  "JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id " +
  "WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id) AS groups";
const WHERE = "r.tenant_id = ? AND r.deleted_at IS NULL AND (r.user_name_key = ?)";

function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const tenant = url.pathname.split("/")[3];
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /i, "");
    const hash = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
    const cached = env.FLOOR_CACHED === "1";
    let record = cached ? records.get(hash) : undefined;
    if (record === undefined) {
      record = await env.TOKENS.get(`scim-token:${hash}`);
      if (cached) records.set(hash, record);
    }
    if (!record || JSON.parse(record).tenant !== tenant) return new Response("unauthorized", { status: 401 });
    const m = /^userName eq "(.*)"$/.exec(url.searchParams.get("filter") ?? "");
    if (!m) return new Response("only userName eq", { status: 400 });
    const key = m[1].toLowerCase();
    const pageStmt = env.DB.prepare(`SELECT ${COLUMNS} FROM users r WHERE ${WHERE} ORDER BY r.seq LIMIT ? OFFSET ?`)
      .bind(tenant, key, 100, 0);
    let page;
    if (cached) {
      page = await pageStmt.all();
    } else {
      const [defs, p] = await env.DB.batch([
        env.DB.prepare("SELECT definition FROM tenant_attributes WHERE tenant_id = ? ORDER BY created_at, name").bind(tenant),
        pageStmt,
      ]);
      if (defs.results.length > 0) return new Response("the floor has no custom attributes", { status: 500 });
      page = p;
    }
    const results = page.results;
    const n = results.length;
    const base = `${url.origin}/scim/v2/${tenant}`;
    const resources = results.map((r) => {
      const doc = JSON.parse(r.doc);
      const groups = JSON.parse(r.groups).map(([id, display]) => ({
        value: id, $ref: `${base}/Groups/${id}`, display, type: "direct",
      }));
      return {
        schemas: doc.schemas, id: r.id, ...doc, ...(groups.length ? { groups } : {}),
        meta: { resourceType: "User", created: r.created_at, lastModified: r.last_modified,
          location: `${base}/Users/${r.id}`, version: `W/"${r.version}"` },
      };
    });
    return new Response(JSON.stringify({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
      totalResults: n, startIndex: 1, itemsPerPage: resources.length, Resources: resources,
    }), { headers: { "content-type": "application/scim+json" } });
  },
};
