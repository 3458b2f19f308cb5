#!/usr/bin/env python3
"""Bulk-loads a benchmark tenant straight into a local D1 database file.

Miniflare keeps a D1 database as the SQLite file of a Durable Object
(<d1Persist>/miniflare-D1DatabaseObject/<hash>.sqlite). bench/run.mjs applies
migrations/ to it through Miniflare, stops Miniflare, and runs this script on
the file: one transaction of INSERTs, rows exactly as the server writes them
(users.doc as the normalized JSON, user_emails index rows, folded *_key
columns, timestamps 2026-01-01T00:00:00.000Z, version 1).

Data (deterministic for a given N):
  users     N users; seq = 1..N; userName "User000123@Example.com";
            externalId "00u000000000000000123"; one work email
            "user000123@example.com" (primary); active.
  groups    "Small Group" with users 1..10; "Big Group" with users
            1..min(50000, N // 2); N // 100 empty groups "Group 00001".. .
Prints a JSON manifest (ids by position) to --manifest.
"""

import argparse
import json
import random
import sqlite3
import sys
import time
import uuid

NOW = "2026-01-01T00:00:00.000Z"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


def user_name(i):
    return f"User{i:06d}@Example.com"


def external_id(i):
    return f"00u{i:018d}"


def email(i):
    return f"user{i:06d}@example.com"


def big_group_size(n):
    return min(50000, n // 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, help="the D1 Durable Object SQLite file")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--tenant", default="bench")
    ap.add_argument("--manifest", required=True)
    args = ap.parse_args()
    n, tenant = args.n, args.tenant
    rng = random.Random(n)

    def new_id():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    started = time.monotonic()
    con = sqlite3.connect(args.db, isolation_level=None)
    con.execute("BEGIN")
    con.execute(
        "INSERT OR IGNORE INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (tenant, tenant, NOW, NOW),
    )
    user_ids = [new_id() for _ in range(n)]

    def user_rows():
        for i, uid in enumerate(user_ids, start=1):
            doc = {
                "schemas": [USER_SCHEMA],
                "userName": user_name(i),
                "externalId": external_id(i),
                "emails": [{"value": email(i), "type": "work", "primary": True}],
                "active": True,
            }
            yield (
                i, tenant, uid, user_name(i), user_name(i).lower(), external_id(i),
                None, 1, None, NOW, NOW, 1, json.dumps(doc, separators=(",", ":")),
            )

    con.executemany(
        "INSERT INTO users (seq, tenant_id, id, user_name, user_name_key, external_id, "
        "display_name, active, deleted_at, created_at, last_modified, version, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        user_rows(),
    )
    con.executemany(
        "INSERT INTO user_emails (tenant_id, user_id, value_key, type, is_primary) "
        "VALUES (?, ?, ?, 'work', 1)",
        ((tenant, uid, email(i)) for i, uid in enumerate(user_ids, start=1)),
    )

    groups = [("Small Group", 10), ("Big Group", big_group_size(n))]
    groups += [(f"Group {k:05d}", 0) for k in range(1, n // 100 + 1)]
    group_ids = []
    for seq, (name, size) in enumerate(groups, start=1):
        gid = new_id()
        group_ids.append(gid)
        doc = {"schemas": [GROUP_SCHEMA], "displayName": name}
        con.execute(
            "INSERT INTO groups (seq, tenant_id, id, display_name, display_name_key, "
            "external_id, created_at, last_modified, version, doc) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 1, ?)",
            (seq, tenant, gid, name, name.lower(), NOW, NOW, json.dumps(doc, separators=(",", ":"))),
        )
        con.executemany(
            "INSERT INTO group_members (tenant_id, group_id, member_id, member_type) "
            "VALUES (?, ?, ?, 'User')",
            ((tenant, gid, user_ids[k]) for k in range(size)),
        )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()

    manifest = {
        "n": n,
        "tenant": tenant,
        "users": user_ids,
        "groups": [{"id": gid, "displayName": name, "members": size}
                   for gid, (name, size) in zip(group_ids, groups)],
    }
    with open(args.manifest, "w") as f:
        json.dump(manifest, f)
    print(f"loaded {n} users, {len(groups)} groups, "
          f"{sum(s for _, s in groups)} memberships in {time.monotonic() - started:.1f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
