#!/usr/bin/env python3
"""Bytes per user and per membership in a loaded D1 file, and what a 10 GB
shard holds (the README's capacity plan).

Usage: python3 bench/capacity.py [DIR]   (DIR: a bench data directory, default
bench/.data/d1-10000, as `scripts/bench` loads it; or a .sqlite file)

Sizes come from SQLite's dbstat: the pages of each table and of its indexes.
"""
import sqlite3
import sys
from pathlib import Path

GB10 = 10 * 1000**3


def sqlite_file(arg):
    p = Path(arg)
    if p.is_file():
        return p
    files = [f for f in p.rglob("*.sqlite") if f.name != "metadata.sqlite" and "D1" in str(f)]
    if not files:
        sys.exit(f"no D1 file under {p}: run scripts/bench first")
    return max(files, key=lambda f: f.stat().st_size)


def main():
    db = sqlite_file(sys.argv[1] if len(sys.argv) > 1 else "bench/.data/d1-10000")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    owner = dict(c.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    size = {}
    for name, pages in c.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        size[owner.get(name, name)] = size.get(owner.get(name, name), 0) + pages
    n = lambda sql: c.execute(sql).fetchone()[0]
    users, members = n("SELECT count(*) FROM users"), n("SELECT count(*) FROM group_members")
    doc = n("SELECT avg(length(doc)) FROM users")
    per_user = (size.get("users", 0) + size.get("user_emails", 0)) / users
    per_member = size.get("group_members", 0) / max(members, 1)
    print(f"file: {db}")
    print(f"users: {users}, average document {doc:.0f} B; memberships: {members}")
    print(f"bytes per user (row, indexes, email index rows): {per_user:.0f}")
    print(f"bytes per membership (row and both indexes): {per_member:.0f}")
    for label, extra_doc, groups in [("as loaded", 0, 0), ("1 KB documents, 5 groups each", 1024 - doc, 5)]:
        per = per_user + extra_doc + groups * per_member
        print(f"users per 10 GB shard, {label}: {GB10 / per / 1e6:.1f} M ({per:.0f} B each)")


main()
