#!/usr/bin/env python3
"""Loads the peer (scim2-server, in memory) with the same tenant data as
bench/load_d1.py, over HTTP: its only bulk path is SCIM Bulk (RFC 7644 §3.7),
which it caps at 1000 operations and 1 MiB per request. Users go in Bulk
requests of 1000 POSTs, sent one at a time (a bounded client: one connection,
sequential); groups are POSTed with their members (a plain POST has no size
cap). Writes a manifest of the peer's ids, in the same shape as load_d1.py's.

usage: peer_load.py <base url, e.g. http://127.0.0.1:8090/v2> <token> <n> <manifest>
"""

import json
import sys
import time
import urllib.request

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from load_d1 import big_group_size, email, external_id, user_name  # noqa: E402

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
BULK_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
CHUNK = 1000


def call(base, token, method, path, body):
    req = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
    )
    with urllib.request.urlopen(req, timeout=600) as res:
        return res.status, json.loads(res.read() or b"null")


def main():
    base, token, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    started = time.monotonic()
    ids = [None] * n
    for lo in range(0, n, CHUNK):
        ops = []
        for i in range(lo + 1, min(n, lo + CHUNK) + 1):
            ops.append({
                "method": "POST", "path": "/Users", "bulkId": f"u{i}",
                "data": {
                    "schemas": [USER_SCHEMA], "userName": user_name(i), "externalId": external_id(i),
                    "emails": [{"value": email(i), "type": "work", "primary": True}], "active": True,
                },
            })
        status, res = call(base, token, "POST", "/Bulk", {"schemas": [BULK_SCHEMA], "Operations": ops})
        if status != 200:
            sys.exit(f"Bulk answered {status}: {res}")
        for op in res["Operations"]:
            if not str(op.get("status", "")).startswith("201"):
                sys.exit(f"Bulk operation failed: {op}")
            ids[int(op["bulkId"][1:]) - 1] = op["location"].rstrip("/").rsplit("/", 1)[-1]
    groups = [("Small Group", 10), ("Big Group", big_group_size(n))]
    groups += [(f"Group {k:05d}", 0) for k in range(1, n // 100 + 1)]
    group_out = []
    for name, size in groups:
        body = {"schemas": [GROUP_SCHEMA], "displayName": name}
        if size:
            body["members"] = [{"value": ids[k], "type": "User"} for k in range(size)]
        status, res = call(base, token, "POST", "/Groups", body)
        if status != 201:
            sys.exit(f"POST /Groups answered {status}: {res}")
        group_out.append({"id": res["id"], "displayName": name, "members": size})
    with open(out, "w") as f:
        json.dump({"n": n, "tenant": None, "users": ids, "groups": group_out}, f)
    print(f"peer: loaded {n} users and {len(groups)} groups over SCIM Bulk in "
          f"{time.monotonic() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
