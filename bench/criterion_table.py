#!/usr/bin/env python3
"""Prints the last `cargo bench -p pillar --bench handle` run as a Markdown table.

    python3 bench/criterion_table.py [target/criterion]

Median and its 95 % confidence interval, from criterion's `new/estimates.json`.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
ORDER = ["small", "ping", "body_64KiB", "body_1MiB"]


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3f} µs"
    return f"{ns:.1f} ns"


rows = []
for est in root.glob("**/new/estimates.json"):
    group = est.relative_to(root).parts[0]
    bench = "/".join(est.relative_to(root).parts[1:-2])
    if group not in ORDER:
        continue
    bench_json = json.loads((est.parent / "benchmark.json").read_text())
    m = json.loads(est.read_text())["median"]
    rows.append((ORDER.index(group), bench_json.get("full_id", f"{group}/{bench}"), m))
print("| bench | median | 95 % CI |")
print("|---|---:|---|")
for _, name, m in sorted(rows, key=lambda r: (r[0], r[1])):
    ci = m["confidence_interval"]
    print(f"| {name} | {fmt(m['point_estimate'])} | {fmt(ci['lower_bound'])} – {fmt(ci['upper_bound'])} |")
