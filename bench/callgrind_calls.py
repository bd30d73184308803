#!/usr/bin/env python3
"""How many times a function was called in a callgrind output (all call sites summed).

    python3 bench/callgrind_calls.py target/bench-profile/callgrind.out.NNN 'pillar::call::envelope::probe_action'

bench/profile.sh divides the program's instructions by this count to get instructions per
iteration (the function passed must run exactly once per iteration).
"""
import re
import sys

path, wanted = sys.argv[1], sys.argv[2]
names = {}
total = 0
pending = None
with open(path, errors="replace") as f:
    for line in f:
        if line.startswith("cfn="):
            m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m:
                if m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
                pending = names.get(m.group(1), "")
            else:
                pending = line[4:].strip()
        elif line.startswith("fn="):
            m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m and m.group(2) is not None:
                names[m.group(1)] = m.group(2)
        elif line.startswith("calls=") and pending is not None:
            if wanted in pending:
                total += int(line[6:].split()[0])
            pending = None
print(total)
