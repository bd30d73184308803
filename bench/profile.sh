#!/usr/bin/env bash
# Where `Pillar::handle`'s time goes: callgrind over the criterion bench, one bench item.
#
#   bench/profile.sh                      # small/handle
#   bench/profile.sh 'ping/handle/17'     # any criterion filter (a regex)
#   TOGGLE='*CoreGuard*block_on*' bench/profile.sh 'small/handle$'
#       count only inside the runtime's block_on (small/handle signs its bodies in the timed
#       closure's untimed part, which the default toggle would count)
#
# Builds the bench (DEBUG=1: with line info, no Cargo.toml change), runs the item for a few
# seconds under `valgrind --tool=callgrind` (criterion's --profile-time: no analysis),
# and prints the inclusive cost of the functions that matter, as a share of `handle`.
set -euo pipefail
cd "$(dirname "$0")/.."
FILTER=${1:-small/handle\$}
OUT=target/bench-profile
mkdir -p "$OUT"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }

# Function symbols are enough for the split; DEBUG=1 adds line info (rebuilds every crate).
[[ ${DEBUG:-0} == 1 ]] && export CARGO_PROFILE_BENCH_DEBUG=true
bin=$(cargo bench -q -p pillar-ai-server --bench handle --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "handle" and m.get("executable"):
        print(m["executable"])')
rm -f "$OUT"/callgrind.out.*
# Only the measured loop is counted (not the fixtures' set-up of the other groups).
taskset -c "${CPU:-0}" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p" \
  --toggle-collect="${TOGGLE:-*Bencher*iter*}" \
  "$bin" --bench --profile-time "${SECONDS_:-3}" "$FILTER" >/dev/null 2>"$OUT/valgrind.log"
file=$(ls -S "$OUT"/callgrind.out.* | head -1)
callgrind_annotate --inclusive=yes --threshold=100 "$file" >"$OUT/inclusive.txt"
callgrind_annotate --threshold=99 "$file" >"$OUT/self.txt"
callgrind_annotate --inclusive=yes --tree=calling --threshold=100 "$file" >"$OUT/tree.txt"
# Iterations: the calls of a function that runs once per iteration (ANCHOR).
calls=$(python3 bench/callgrind_calls.py "$file" "${ANCHOR:-pillar::call::envelope::probe_action}")
echo "callgrind output: $file (inclusive: $OUT/inclusive.txt, self: $OUT/self.txt)"
total=$(grep -m1 'PROGRAM TOTALS' "$OUT/inclusive.txt" | awk '{gsub(",", "", $1); print $1}')
echo "iterations (calls of ${ANCHOR:-pillar::call::envelope::probe_action}): ${calls:-?}; instructions per iteration: $(awk -v t="$total" -v c="${calls:-0}" 'BEGIN {if (c > 0) printf "%.0f", t / c; else print "?"}')"
# Per-iteration inclusive instructions of the pieces that matter.
grep -E '^ *[0-9,]+ \(' "$OUT/inclusive.txt" | sed 's/ \[.*//' |
  grep -E "${PIECES:-verify_headers|verify_at|compress256|probe_action|parse_envelope|parse_args|serde_path_to_error::de::deserialize$|fingerprint|MemoryStore|DetachOnDrop|answer_call|__pillar_call|Answer|to_bytes|Instrumented|timeout|malloc|free$|memcpy}" |
  awk -v c="${calls:-0}" '{n = $1; gsub(",", "", n); $1 = ""; $2 = ""; if (c > 0) printf "%10.0f /iter  %s\n", n / c, $0}' >"$OUT/per_iter.txt"
echo
echo "Per iteration (inclusive instructions):"
cat "$OUT/per_iter.txt"
echo
echo "Inclusive instructions (Ir), top entries:"
grep -E '^ *[0-9,]+ \(' "$OUT/inclusive.txt" | head -60
echo
echo "Self instructions (Ir), top entries:"
grep -E '^ *[0-9,]+ \(' "$OUT/self.txt" | head -30
