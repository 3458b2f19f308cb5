#!/usr/bin/env python3
"""Prints a table of the criterion results under target/criterion (mean and
its 95% interval, per benchmark), for scripts/bench --micro."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


rows = []
for est in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    mean = json.loads(est.read_text())["mean"]
    ci = mean["confidence_interval"]
    rows.append((bench["full_id"], fmt(mean["point_estimate"]),
                 f"{fmt(ci['lower_bound'])} .. {fmt(ci['upper_bound'])}"))
w = max((len(r[0]) for r in rows), default=10)
print(f"{'benchmark'.ljust(w)} | {'mean':>10} | 95% interval")
print(f"{'-' * w}-|-{'-' * 10}-|-------------")
for name, mean, ci in rows:
    print(f"{name.ljust(w)} | {mean:>10} | {ci}")
