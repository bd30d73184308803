#!/usr/bin/env python3
"""Fails when a file under pillar/src has more than 600 lines outside `#[cfg(test)]` code.

Test code is a `#[cfg(test)] mod name { ... }` block (up to its closing `}` in column 0)
or a whole file mounted with `#[cfg(test)] mod name;`.
"""
import pathlib
import re
import sys

LIMIT = 600
ROOT = pathlib.Path(__file__).resolve().parent.parent / "pillar" / "src"

files = sorted(ROOT.rglob("*.rs"))
test_files = set()
for path in files:
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines[:-1]):
        m = re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", lines[i + 1])
        if line.strip() == "#[cfg(test)]" and m:
            base = path.parent if path.name in ("mod.rs", "lib.rs") else path.with_suffix("")
            test_files.add(base / f"{m.group(1)}.rs")
            test_files.add(base / m.group(1) / "mod.rs")

failed = False
for path in files:
    if path in test_files:
        continue
    lines = path.read_text().splitlines()
    count, i = 0, 0
    while i < len(lines):
        if (
            lines[i].strip() == "#[cfg(test)]"
            and i + 1 < len(lines)
            and re.match(r"(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", lines[i + 1])
        ):
            i += 2
            while i < len(lines) and lines[i] != "}":
                i += 1
            i += 1
            continue
        count += 1
        i += 1
    if count > LIMIT:
        failed = True
        print(f"{path.relative_to(ROOT.parent.parent)}: {count} lines outside tests (limit {LIMIT})")

if failed:
    print("split these files: one concept per file (see ARCHITECTURE.md)")
    sys.exit(1)
print(f"file sizes: every file under pillar/src is within {LIMIT} lines outside tests")
