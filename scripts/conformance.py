"""Runs the scim2-tester conformance checks against a SCIM server.

    .venv/bin/python scripts/conformance.py --base-url URL --token TOKEN

scim2-tester reads the server's /ServiceProviderConfig, /ResourceTypes and
/Schemas, then creates, reads, replaces, patches and deletes resources of
every resource type published there (PATCH checks are skipped when the
ServiceProviderConfig says PATCH is unsupported). If discovery fails, only the
discovery checks run.

Prints one line per check result, then `conformance: N passed, M failed[, K
skipped]`. Exits 1 if any check failed.
"""

import argparse
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
SKIPPED = {Status.SKIPPED}
# Anything else fails: ERROR and CRITICAL (MUST violated), DEVIATION (SHOULD).


def one_line(text) -> str:
    return " | ".join(line.strip() for line in str(text).splitlines() if line.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--tag", action="append", help="run only checks with this tag")
    parser.add_argument("--exclude-tag", action="append", help="skip checks with this tag")
    parser.add_argument("--resource-type", action="append", help="e.g. User, Group")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the data of failed checks")
    args = parser.parse_args()

    http = Client(
        base_url=args.base_url.rstrip("/"),
        headers={"Authorization": f"Bearer {args.token}"},
        timeout=30,
    )
    results = check_server(
        SyncSCIMClient(http),
        include_tags=set(args.tag or []) or None,
        exclude_tags=set(args.exclude_tag or []) or None,
        resource_types=args.resource_type,
    )

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for r in results:
        name = f"{r.resource_type}: {r.title}" if r.resource_type else r.title
        if r.status in PASSED:
            counts["passed"] += 1
            print(f"ok    {name}")
        elif r.status in SKIPPED:
            counts["skipped"] += 1
            print(f"skip  {name}: {one_line(r.reason)}")
        else:
            counts["failed"] += 1
            print(f"FAIL  {name} ({r.status.name}): {one_line(r.reason)}")
            if args.verbose and r.data is not None:
                print(f"      data: {one_line(r.data)}")
    if not args.tag and not any(r.resource_type for r in results):
        print("note  no resource type was checked: discovery did not describe the server")

    summary = f"conformance: {counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        summary += f", {counts['skipped']} skipped"
    print(summary)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
