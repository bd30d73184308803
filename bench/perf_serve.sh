#!/usr/bin/env bash
# Where a server's time goes under load: `perf record` (cpu-clock, DWARF call graphs) of
# one server from bench/load.sh while wrk sends it signed calls, then the share of each
# part of the request path.
#
#   bench/perf_serve.sh                 # bench-server (pillar::serve(), the defaults)
#   bench/perf_serve.sh baseline        # the baseline
#   BENCH_IDEMPOTENCY=off bench/perf_serve.sh
#
# Needs the pools that bench/load.sh signed (target/bench-load/*.pool, signed less than
# 5 minutes before: the signature window) and its release binaries. perf samples the
# server it starts (attaching to a running process gets no samples in this VM).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${1:-bench-server}
OUT=$ROOT/target/bench-perf
LOAD=$ROOT/target/bench-load
mkdir -p "$OUT"
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
[[ -s $LOAD/run.pool && -s $LOAD/warmup.pool ]] || { echo "run bench/load.sh first (it signs the pools)" >&2; exit 1; }

PORT=9156
PILLAR_SECRET=plr_bench_secret PILLAR_ADDR=127.0.0.1:$PORT PILLAR_AUTO_REGISTER=false PORT=$PORT \
  taskset -c 0 perf record -q -e cpu-clock -F "${FREQ:-1000}" --call-graph dwarf,32768 \
  -o "$OUT/$BIN.perf" -- "$ROOT/target/release/$BIN" >"$OUT/$BIN.log" 2>&1 &
sleep 1
POOL_FILE=$LOAD/warmup.pool taskset -c 1 wrk -t1 -c32 -d2s -s "$ROOT/bench/call.lua" "http://127.0.0.1:$PORT/" >/dev/null 2>&1
POOL_FILE=$LOAD/run.pool taskset -c 1 wrk -t1 -c32 -d"${DURATION:-5s}" -s "$ROOT/bench/call.lua" \
  "http://127.0.0.1:$PORT/" | grep '^RESULT' || true
pkill -INT -f "target/release/$BIN" || true
wait
perf script -i "$OUT/$BIN.perf" -F ip,sym 2>/dev/null >"$OUT/$BIN.stacks"

# Share of all samples under each frame of interest (inclusive), and the direct callees of
# the request handler.
python3 - "$OUT/$BIN.stacks" <<'PY'
import collections, re, sys
samples, cur = [], []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        if cur:
            samples.append(cur)
        cur = []
        continue
    parts = line.split(" ", 1)
    cur.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1] if len(parts) > 1 else "?"))
if cur:
    samples.append(cur)
total = len(samples)
FRAMES = [
    ("the whole connection task (hyper)", "Dispatcher<D,Bs,I,T>::poll_catch"),
    ("writing the response (writev, kernel TCP)", "__GI___writev"),
    ("reading the request (recv, kernel TCP)", "Buffered<T,B>::poll_read_from_io"),
    ("hyper's request parsing", "Http1Transaction>::parse"),
    ("the request handler", "Handler<"),
    ("  signature (pillar verify_headers)", "Verifier::verify_headers"),
    ("  envelope parse (pillar parse_call)", "pillar::call::envelope::parse_call"),
    ("  record: claim", "MemoryStore::claim_now"),
    ("  record: answer", "MemoryStore::complete_encoded"),
    ("  the tool and its answer (pillar answer_call)", "Pillar::answer_call"),
    ("  serialising the answer (pillar)", "Answer::to_bytes"),
    ("  baseline: JSON parse", "serde_json::de::from_slice"),
    ("  baseline: HMAC", "sha2::sha256"),
    ("malloc", "malloc"),
    ("free", "free"),
]
print(f"{total} samples")
print("| part | share of server CPU |")
print("|---|---:|")
for label, needle in FRAMES:
    n = sum(1 for s in samples if any(needle in f for f in s))
    if n:
        print(f"| {label} | {100 * n / total:.1f} % |")
PY
