#!/usr/bin/env python3
"""EXPLAIN QUERY PLAN for the statements the server runs per benchmarked call,
on the D1 database file of a benchmark run (Python's sqlite3; no sqlite3 CLI
needed). The SQL is what src/store/*.rs and src/query.rs build (filters as
`scim_worker::query::condition` translates them); keep it in step with them.

usage: explain.py <d1 sqlite file> <manifest.json>
Also times each statement (best of 5, in-process SQLite, warm cache).
"""

import json
import sqlite3
import sys
import time

USER_COLUMNS = "r.seq, r.id, r.created_at, r.last_modified, r.version, r.doc"
GROUPS_COLUMN = (", (SELECT json_group_array(json_array(g.id, g.display_name)) "
                 "FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id "
                 "WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id) AS groups")
LIVE = "r.tenant_id = ? AND r.deleted_at IS NULL"


def statements(t, m):
    n = m["n"]
    uid = m["users"][n // 2]
    big = m["groups"][1]["id"]
    outsider = m["users"][-1]
    i = n // 2 + 1
    key = f"user{i:06d}@example.com"
    cols = USER_COLUMNS + GROUPS_COLUMN
    out = []
    for label, cond, params in [
        ("userName eq", "r.user_name_key = ?", [key]),
        ("externalId eq", "r.external_id = ?", [f"00u{i:018d}"]),
        ('emails[type eq "work"].value eq',
         "r.id IN (SELECT e.user_id FROM user_emails e WHERE (e.type = ? AND e.value_key = ?) AND e.tenant_id = ?)",
         ["work", key, t]),
    ]:
        where = f"{LIVE} AND ({cond})"
        out.append((f"{label}: count (runs only after a full page)", f"SELECT count(*) AS n FROM users r WHERE {where}", [t] + params))
        # As src/store/mod.rs: an index-table filter orders by `+r.seq`, so
        # that the lookup, not the seq index, drives the query.
        seq = "+r.seq" if "r.id IN (" in cond else "r.seq"
        out.append((f"{label}: page", f"SELECT {cols} FROM users r WHERE {where} ORDER BY {seq} LIMIT ? OFFSET ?",
                    [t] + params + [100, 0]))
    out += [
        ("GET /Users/{id}", f"SELECT {cols} FROM users r WHERE r.tenant_id = ? AND r.id = ? AND r.deleted_at IS NULL",
         [t, uid]),
        ("list: total (every unfiltered list page, cursor too; kept by triggers)",
         "SELECT user_count AS n FROM tenants WHERE id = ?", [t]),
        ("list: startIndex=1", f"SELECT {cols} FROM users r WHERE {LIVE} ORDER BY r.seq LIMIT ? OFFSET ?", [t, 100, 0]),
        ("list: last page by startIndex",
         f"SELECT {cols} FROM users r WHERE {LIVE} ORDER BY r.seq LIMIT ? OFFSET ?", [t, 100, n - 100]),
        ("list: last page by cursor",
         f"SELECT {cols} FROM users r WHERE {LIVE} AND r.seq > ? ORDER BY r.seq ASC LIMIT ?", [t, n - 100, 101]),
        ("Groups displayName eq: count",
         "SELECT count(*) AS n FROM groups r WHERE r.tenant_id = ? AND (r.display_name_key = ?)", [t, "group 00001"]),
        ("member check (PATCH members)",
         "SELECT id FROM users WHERE tenant_id = ? AND id IN (?) AND deleted_at IS NULL "
         "UNION SELECT id FROM groups WHERE tenant_id = ? AND id IN (?)", [t, outsider, t, outsider]),
        ("member add (big group)",
         "EXPLAIN-ONLY INSERT INTO group_members (tenant_id, group_id, member_id, member_type) VALUES (?, ?, ?, "
         "(SELECT 'User' FROM users WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL)) "
         "ON CONFLICT (tenant_id, group_id, member_id) DO NOTHING", [t, big, outsider, t, outsider]),
        ("member remove (big group)",
         "EXPLAIN-ONLY DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id IN (?)",
         [t, big, outsider]),
        ("user replace (PUT/PATCH)",
         "EXPLAIN-ONLY UPDATE users SET user_name = ?, user_name_key = ?, external_id = ?, display_name = ?, "
         "active = ?, last_modified = ?, version = version + 1, doc = ? "
         "WHERE tenant_id = ? AND id = ? AND version = ? AND deleted_at IS NULL",
         ["a", "a", None, None, 1, "x", "{}", t, uid, 1]),
        ("user_emails rewrite", "EXPLAIN-ONLY DELETE FROM user_emails WHERE tenant_id = ? AND user_id = ?", [t, uid]),
    ]
    return out


def main():
    db, manifest = sys.argv[1], json.load(open(sys.argv[2]))
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    t = manifest["tenant"]
    for label, sql, params in statements(t, manifest):
        explain_only = sql.startswith("EXPLAIN-ONLY ")
        sql = sql.removeprefix("EXPLAIN-ONLY ")
        plan = con.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        timing = ""
        if not explain_only:
            best = float("inf")
            for _ in range(5):
                t0 = time.perf_counter()
                con.execute(sql, params).fetchall()
                best = min(best, time.perf_counter() - t0)
            timing = f"  [{best * 1000:.2f} ms]"
        print(f"-- {label}{timing}")
        for row in plan:
            print(f"   {row[-1]}")
    con.close()


if __name__ == "__main__":
    main()
