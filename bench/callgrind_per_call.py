#!/usr/bin/env python3
"""Per-call figures of a callgrind dump: `callgrind_per_call.py DUMP CALLS`.

Prints the dump's program totals divided by CALLS, one comma-separated line
(instructions, and with --cache-sim/--branch-sim the cache misses and mispredictions).
Used by bench/count_serve.sh and bench/mcp_load.sh.
"""
import re
import subprocess
import sys

NAMES = {
    "Ir": "instructions",
    "I1mr": "I1 misses",
    "D1mr": "D1 read misses",
    "D1mw": "D1 write misses",
    "ILmr": "LL instr misses",
    "DLmr": "LL read misses",
    "DLmw": "LL write misses",
    "Bcm": "cond. branch mispredicts",
    "Bim": "indirect mispredicts",
}


def main() -> None:
    dump, calls = sys.argv[1], int(sys.argv[2])
    text = subprocess.run(
        ["callgrind_annotate", dump], check=True, capture_output=True, text=True
    ).stdout
    events = re.search(r"Events shown:\s+(.*)", text).group(1).split()
    line = next(l for l in text.splitlines() if "PROGRAM TOTALS" in l)
    values = [int(v.replace(",", "")) for v in re.findall(r"[\d,]+(?= )", line.split("PROGRAM")[0] + " ")]
    print(
        ", ".join(
            f"{v / calls:,.0f} {NAMES[e]}" if e == "Ir" else f"{NAMES[e]} {v / calls:,.1f}"
            for e, v in zip(events, values)
            if e in NAMES
        )
    )


if __name__ == "__main__":
    main()
