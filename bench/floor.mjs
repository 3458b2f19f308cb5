// The floor: the least a worker can do for a SCIM lookup on the same serving
// path. It answers every request with one constant ListResponse (a single
// user, as `userName eq` finds) as application/scim+json, touching no storage.
const BODY = JSON.stringify({
  schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  totalResults: 1,
  startIndex: 1,
  itemsPerPage: 1,
  Resources: [
    {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      id: "2819c223-7f76-453a-919d-413861904646",
      userName: "User000123@Example.com",
      externalId: "00u000000000000000123",
      emails: [{ value: "user000123@example.com", type: "work", primary: true }],
      active: true,
      meta: {
        resourceType: "User",
        created: "2026-01-01T00:00:00.000Z",
        lastModified: "2026-01-01T00:00:00.000Z",
        location: "http://127.0.0.1/scim/v2/bench/Users/2819c223-7f76-453a-919d-413861904646",
        version: 'W/"1"',
      },
    },
  ],
});

export default {
  async fetch() {
    return new Response(BODY, {
      status: 200,
      headers: { "content-type": "application/scim+json" },
    });
  },
};
