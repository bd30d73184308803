#!/usr/bin/env python3
"""Fails when a module of the runtime imports one below it in ARCHITECTURE.md's layer list.

The list is the numbered list under "## Which module may depend on which": each item
names its modules in backticks (outside parentheses); a module's code may use modules
of its own item or of items above it. A use is `crate::<module>` in code (comments,
`$crate::` in macro bodies and `#[cfg(test)]` modules are not counted: tests may reach
anywhere). Exceptions are listed in the same section, one per line, as
"`from` names `to::...`".
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "pillar" / "src"
ARCH = (ROOT / "ARCHITECTURE.md").read_text()

section = ARCH.split("## Which module may depend on which", 1)[1].split("\n## ", 1)[0]
layer = {}
for line in section.splitlines():
    m = re.match(r"(\d+)\. (.*)", line)
    if not m:
        continue
    names = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", m.group(2)))
    for name in names:
        layer[name] = int(m.group(1))
exceptions = set(re.findall(r"`(\w+)` names `(\w+)::", section))

modules = {p.stem if p.is_file() else p.name for p in SRC.iterdir()} - {"lib", "mod"}
missing = sorted(m for m in modules if m not in layer)
failed = False
if missing:
    print(f"ARCHITECTURE.md's layer list does not name: {', '.join(missing)}")
    failed = True


def code_of(text):
    """The code of a file without comments and `#[cfg(test)] mod name { ... }` blocks."""
    lines = text.splitlines()
    out, skip = [], False
    for i, line in enumerate(lines):
        if skip:
            if line.startswith("}"):
                skip = False
            continue
        if line.strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(
            r"\s*mod \w+ \{", lines[i + 1]
        ):
            skip = True
            continue
        out.append(line.split("//", 1)[0])
    return "\n".join(out)


for path in sorted(SRC.rglob("*.rs")):
    rel = path.relative_to(SRC)
    top = rel.parts[0].removesuffix(".rs")
    if top == "lib" or top not in layer:
        continue
    for n, line in enumerate(code_of(path.read_text()).splitlines(), 1):
        for m in re.finditer(r"(?<![\w$])crate::(\w+)", line):
            to = m.group(1)
            if to == top or to not in layer or (top, to) in exceptions:
                continue
            if layer[to] > layer[top]:
                print(
                    f"{rel}: `{top}` (layer {layer[top]}) uses `{to}` (layer {layer[to]}), "
                    f"a layer below it: {line.strip()}"
                )
                failed = True

if failed:
    sys.exit(1)
print(f"{len(layer)} modules in {max(layer.values())} layers; no import runs back up the list")
