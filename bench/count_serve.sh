#!/usr/bin/env bash
# What a server does per request under load, counted rather than timed: system calls
# (strace -c) and user-space instructions (callgrind), per answered request. Counts do not
# move with the machine's noise, so two builds (or serve() and the baseline) can be told
# apart on a busy machine where bench/load.sh's req/s cannot.
#
#   bench/count_serve.sh                          # baseline and bench-server (this build)
#   bench/count_serve.sh serve=target/release/bench-server old=target/ab/2039c08-bench-server
#   bench/count_serve.sh noidem="BENCH_IDEMPOTENCY=off target/release/bench-server"
#   TOOLS=strace bench/count_serve.sh ...         # only the system calls
#   CACHE_SIM=yes bench/count_serve.sh ...        # callgrind also simulates the caches and
#                                                 # branch predictor (misses per request)
#
# Each server runs pinned to CPU 0 (one tokio worker, as in bench/load.sh) and gets a
# warm-up, then the measured run; wrk (CPU 1, 32 connections) sends pre-signed distinct
# calls, as bench/load.sh does. strace is attached to the server's threads after the
# warm-up and detached after the run (COUNT_DURATION); callgrind's counters are zeroed
# after the warm-up (callgrind_control -z) and dumped after the run. The strace figure
# includes the second between attaching and the load (an idle server makes no calls). Results in target/bench-count/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/bench-count
mkdir -p "$OUT"
SECRET=plr_bench_secret
CONNS=${CONNS:-32}
DURATION=${COUNT_DURATION:-8s}
TOOLS=${TOOLS:-strace callgrind}
for tool in strace valgrind wrk; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq strace valgrind wrk >/dev/null; }
done
if [[ $# -eq 0 ]]; then
  cargo build --release -q -p pillar-bench --bin bench-server --bin baseline
  set -- baseline=target/release/baseline serve=target/release/bench-server
fi

# shellcheck source=bench/requests.sh
source "$ROOT/bench/requests.sh"

PORT=9171
load() { # pool duration
  POOL_FILE=$1 taskset -c 1 wrk -t1 -c"$CONNS" -d"$2" --timeout 30s -s "$ROOT/bench/call.lua" \
    "http://127.0.0.1:$PORT/" | sed -n 's/^RESULT //p'
}
ok_of() { sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$1"; }
bad_of() { sed -n 's/.*bad=\([0-9]*\).*/\1/p' <<<"$1"; }

ROWS=()
first=1
for spec in "$@"; do
  name=${spec%%=*}
  # "VAR=value ... path": the server's own environment, then its binary.
  read -ra words <<<"${spec#*=}"
  bin=${words[-1]}
  extra=("${words[@]:0:${#words[@]}-1}")
  for tool in $TOOLS; do
    sign_pool "$OUT/warmup.pool" "$first" 20000
    sign_pool "$OUT/run.pool" $((first + 20000)) 400000
    first=$((first + 420000))
    env_run=(env PILLAR_SECRET=$SECRET PILLAR_ADDR=127.0.0.1:$PORT PORT=$PORT PILLAR_AUTO_REGISTER=false "${extra[@]}")
    case $tool in
      strace)
        # Attached after the warm-up (all threads), detached after the run: the calls of
        # the measured run only.
        "${env_run[@]}" taskset -c 0 "$bin" >"$OUT/$name.strace.log" 2>&1 &
        pid=$!
        wait_listening "$PORT" "$pid"
        load "$OUT/warmup.pool" 1s >/dev/null
        strace -f -c -o "$OUT/$name.strace" -p "$pid" 2>/dev/null &
        tracer=$!
        sleep 1
        result=$(load "$OUT/run.pool" "$DURATION")
        kill -INT "$tracer"
        wait "$tracer" || true
        ;;
      callgrind)
        "${env_run[@]}" taskset -c 0 valgrind --tool=callgrind --cache-sim="${CACHE_SIM:-no}" --branch-sim="${CACHE_SIM:-no}" --callgrind-out-file="$OUT/$name.callgrind" \
          "$bin" >"$OUT/$name.callgrind.log" 2>&1 &
        pid=$!
        wait_listening "$PORT" "$pid"
        load "$OUT/warmup.pool" 3s >/dev/null
        callgrind_control -z "$pid" >/dev/null
        result=$(load "$OUT/run.pool" "$DURATION")
        callgrind_control -d "$pid" >/dev/null
        ;;
    esac
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ok=$(ok_of "$result")
    bad=$(bad_of "$result")
    [[ ${bad:-1} == 0 && ${ok:-0} -gt 0 ]] || { echo "$name ($tool): ok=$ok bad=$bad: not every answer succeeded" >&2; exit 1; }
    case $tool in
      strace)
        row=$(python3 - "$OUT/$name.strace" "$ok" <<'PY'
import sys
path, ok = sys.argv[1], int(sys.argv[2])
counts = {}
for line in open(path):
    parts = line.split()
    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
        calls = int(parts[3])
        counts[parts[-1]] = calls
total = sum(counts.values())
top = sorted(counts.items(), key=lambda kv: -kv[1])[:6]
print(f"{total / ok:.2f} | " + ", ".join(f"{k} {v / ok:.2f}" for k, v in top))
PY
)
        ROWS+=("| $name | strace | $ok | $row |")
        ;;
      callgrind)
        # The dump taken right after the measured run (callgrind_control -d writes
        # <file>.1; the file without a suffix holds the shutdown).
        totals=$(python3 "$ROOT/bench/callgrind_per_call.py" "$OUT/$name.callgrind.1" "$ok")
        ROWS+=("| $name | callgrind | $ok | $totals |")
        mv "$OUT/$name.callgrind.1" "$OUT/$name.run.callgrind"
        rm -f "$OUT/$name.callgrind"*
        ;;
    esac
  done
done

echo
echo "counted: $(date -u +%FT%TZ), $CONNS connections, $DURATION per run, server on CPU 0 (one worker), wrk on CPU 1"
echo
echo "| server | count | requests answered | per request |"
echo "|---|---|---:|---|"
printf '%s\n' "${ROWS[@]}"
