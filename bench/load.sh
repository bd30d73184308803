#!/usr/bin/env bash
# Throughput, latency and memory of `serve()` against the baseline and the Python
# reference, in one run (issue items 2 to 5). See BENCHMARKS.md.
#
#   bench/load.sh                 # 32 connections, 10 s each, after a 2 s warm-up
#   DURATION=5s CONNS=16 bench/load.sh
#   SERVERS='baseline serve' bench/load.sh   # a subset
#   ROUNDS=3 bench/load.sh        # the Rust servers loaded in turn 3 times (default 2)
#
# Servers, each loaded in turn with signed ~200-byte tool_calls for the same small tool
# (`lookup_customer`), every one with its own call_id (the SDK runs a call id at most once
# and answers a repeat with the recorded answer, so one body sent again and again would
# measure only that replay). The bodies are signed beforehand, with a timestamp of now, by
# this script (never by wrk): POOL of them per server, and wrk sends each once (`wrapped`
# in the output says if it ran out and started over).
#   baseline      bench/src/bin/baseline.rs: axum + hmac/sha2 + a typed serde parse
#   serve         bench/src/bin/bench_server.rs: `pillar::serve()`, the defaults
#   serve-noidem  the same with `.idempotency(false)` (no record of calls)
#   serve-record1k  the same with a record of 1,000 calls instead of 100,000 (full and
#                 evicting like the default, but small enough to stay in the CPU's caches);
#                 not in the default list
#   baseline-redis  `baseline` with BASELINE_REDIS_URL: also claims each call id with
#                 `SET NX PX` and stores the answer with `SET PX`, one multiplexed connection
#   serve-redis   `serve()` with PILLAR_REDIS_URL: the record of calls in Redis (RedisStore)
#                 The two Redis servers share one local redis-server (no persistence),
#                 started by this script on LOAD_CPU (with wrk), emptied before each run;
#                 its INFO commandstats and byte counters over the measured run are
#                 written to target/bench-load/<server>.redis (round trips and bytes per
#                 call). Not in the default list: SERVERS='baseline-redis serve-redis'.
#   serve-1w      serve with TOKIO_WORKER_THREADS=1: one worker, for SERVER_CPU=0,1
#   serve-b, serve-redis-b  the same as serve and serve-redis with another build of
#                 bench-server, SERVE_B=<path> (another commit's target/release/bench-server),
#                 for an A/B of two versions in one run
#   ref-fastapi   pillar-ai-server 0.2.4 behind FastAPI on uvicorn (uvloop, httptools)
#   ref-serve     pillar-ai-server 0.2.4's own `pillar.serve()` (http.server)
# The Rust servers are loaded ROUNDS times, in turn (baseline, serve, serve-noidem,
# baseline, ...), and each ratio is the median over rounds of the ratio within a round: the
# machine's speed drifts by 10-15 % over a minute, and servers loaded seconds apart share
# the drift. The reference servers are loaded once, after.
# Every server runs pinned to CPU 0 (one core: one tokio worker, one uvicorn worker);
# wrk runs pinned to CPU 1 with one thread. SERVER_CPU=0,1 gives the Rust servers both
# cores (two tokio workers; wrk and redis-server then share CPU 1 with one of them). An answer whose body lacks `"success":true`
# (or a socket error) counts as an error: a failing server does not look fast.
#
# Columns: req/s, p50 and p99 latency (wrk), errors, the server's CPU use during the
# measured run (near 100 %: the server, not wrk, sets req/s), CPU time per request
# (independent of whether wrk or the server is the bottleneck), and for the Rust servers the memory (VmRSS/VmHWM from /proc/<pid>/status):
# idle (started, one request answered) and peak under load.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-32}
POOL=${POOL:-1000000}
WARMUP_POOL=${WARMUP_POOL:-200000}
# Which servers to load, in this order (a subset for a quick look).
SERVERS=${SERVERS:-baseline serve serve-noidem ref-fastapi ref-serve}
ROUNDS=${ROUNDS:-2}
SECRET=plr_bench_secret
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
# Servers and wrk run at this niceness (root only), ahead of niced builds and fuzzers that
# share the machine; NICE=0 to turn off.
NICE=${NICE:--10}
[[ $(id -u) == 0 ]] || NICE=0
OUT=$ROOT/target/bench-load
mkdir -p "$OUT"

# --- tools ------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
VENV=$ROOT/target/bench-venv
REQS=$ROOT/bench/reference/requirements.txt
if ! cmp -s "$REQS" "$VENV/.installed" 2>/dev/null; then
  echo "== creating $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  cp "$REQS" "$VENV/.installed"
fi
echo "== cargo build --release -p pillar-bench" >&2
cargo build --release -q -p pillar-bench --bin bench-server --bin baseline
BIN=$ROOT/target/release

# --- redis-server, for baseline-redis and serve-redis ----------------------------------------
REDIS_PORT=${REDIS_PORT:-6390}
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/
REDIS_PID=
if [[ " ${SERVERS:-} " == *-redis* ]]; then
  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
  nice -n "$NICE" taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save '' --appendonly no --daemonize no --logfile "$OUT/redis-server.log" &
  REDIS_PID=$!
  for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
fi
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
# What the measured run asked of Redis, per call: commands (round trips from the server:
# EVALSHA counts once, the GET/SET inside a script are listed apart), bytes in and out.
redis_report() { # name requests
  local file=$OUT/$1.redis
  {
    echo "# $1: $2 requests"
    rcli info commandstats | tr -d '\r' | grep '^cmdstat_' |
      awk -F'[:=,]' -v n="$2" '{printf "%s calls=%d per_request=%.3f usec_per_call=%s\n", $1, $3, n ? $3 / n : 0, $7}'
    rcli info stats | tr -d '\r' | grep -E '^total_(net_input_bytes|net_output_bytes|commands_processed):' |
      awk -F: -v n="$2" '{printf "%s=%d per_request=%.1f\n", $1, $2, n ? $2 / n : 0}'
  } >"$file"
}

# --- the requests ---------------------------------------------------------------------------
# shellcheck source=bench/requests.sh
source "$ROOT/bench/requests.sh"


# --- helpers --------------------------------------------------------------------------------
PIDS=()
cleanup() {
  local pid
  [[ -n ${REDIS_PID:-} ]] && PIDS+=("$REDIS_PID")
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

cpu_ticks() { # pid: utime + stime of the whole process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

mem_kb() { # pid field (VmRSS, VmHWM)
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

TICKS=$(getconf CLK_TCK)
ROWS=()
declare -A RPS P99 CPUREQ

ROUND=1
run() { # name port command...
  local name=$1 port=$2 label=$1
  [[ $ROUNDS -gt 1 && $name != ref-* ]] && label="$name ($ROUND)"
  shift 2
  echo "== $name" >&2
  PILLAR_SECRET=$SECRET PILLAR_ADDR=127.0.0.1:$port PILLAR_AUTO_REGISTER=false PORT=$port \
    nice -n "$NICE" taskset -c "$SERVER_CPU" "$@" >"$OUT/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  [[ $name == *-redis* ]] && rcli flushall >/dev/null
  wait_listening "$port" "$pid"
  # Pools: one request to check, the warm-up's and the measured run's, all distinct.
  sign_pool "$OUT/check.pool" 0 1
  sign_pool "$OUT/warmup.pool" 1 "$WARMUP_POOL"
  sign_pool "$OUT/run.pool" $((1 + WARMUP_POOL)) "$POOL"
  local first
  first=$(curl -s -X POST "http://127.0.0.1:$port/" -H "Content-Type: application/json" \
    -H "X-Pillar-Signature: $(cut -f1 "$OUT/check.pool")" --data-binary "$(cut -f2 "$OUT/check.pool")" || true)
  case $first in
    *'"success":true'* | *'"success": true'*) ;;
    *) echo "$name answered: $first" >&2 ;;
  esac
  local idle_rss idle_hwm
  idle_rss=$(mem_kb "$pid" VmRSS)
  idle_hwm=$(mem_kb "$pid" VmHWM)
  POOL_FILE=$OUT/warmup.pool nice -n "$NICE" taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$CONNS" -d"$WARMUP" -s "$ROOT/bench/call.lua" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
  [[ $name == *-redis* ]] && rcli config resetstat >/dev/null
  local before after
  before=$(cpu_ticks "$pid")
  POOL_FILE=$OUT/run.pool nice -n "$NICE" taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$CONNS" -d"$DURATION" --latency --timeout 5s -s "$ROOT/bench/call.lua" \
    "http://127.0.0.1:$port/" >"$OUT/$name.wrk" 2>&1 || true
  after=$(cpu_ticks "$pid")
  local load_rss load_hwm
  load_rss=$(mem_kb "$pid" VmRSS)
  load_hwm=$(mem_kb "$pid" VmHWM)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true

  local line
  line=$(grep '^RESULT' "$OUT/$name.wrk" || true)
  [[ $name == *-redis* && -n $line ]] && redis_report "$name" "$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")"
  if [[ -z $line ]]; then
    echo "wrk failed against $name:" >&2
    cat "$OUT/$name.wrk" >&2
    ROWS+=("| $label | failed | | | | | | | |")
    return
  fi
  local requests seconds rps p50_us p99_us ok bad sock wrapped
  eval "$(sed 's/^RESULT //' <<<"$line")"
  local cpu_s cpu_pct cpu_req errors mem
  cpu_s=$(awk -v a="$before" -v b="$after" -v t="$TICKS" 'BEGIN {printf "%.2f", (b - a) / t}')
  cpu_pct=$(awk -v c="$cpu_s" -v s="$seconds" 'BEGIN {printf "%.0f", 100 * c / s}')
  cpu_req=$(awk -v c="$cpu_s" -v r="$requests" 'BEGIN {printf "%.1f", r ? 1e6 * c / r : 0}')
  errors=$((bad + sock))
  [[ $wrapped -gt 0 ]] && echo "$name: the pool of $POOL requests ran out $wrapped times (repeats)" >&2
  mem=$(awk -v a="$idle_rss" -v b="$idle_hwm" -v c="$load_rss" -v d="$load_hwm" \
    'BEGIN {printf "%.1f / %.1f | %.1f / %.1f", a / 1024, b / 1024, c / 1024, d / 1024}')
  RPS[$name#$ROUND]=$rps
  P99[$name#$ROUND]=$p99_us
  CPUREQ[$name#$ROUND]=$cpu_req
  ROWS+=("| $label | $(printf '%.0f' "$rps") | $(awk -v v="$p50_us" 'BEGIN {printf "%.0f", v}') | $(awk -v v="$p99_us" 'BEGIN {printf "%.0f", v}') | $errors of $((requests)) | $cpu_pct % | $cpu_req | $mem |")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

# The median over rounds of METRIC[a#r] / METRIC[b#r]; a server loaded once (a reference)
# is compared with the median of the other's rounds.
median_ratio() { # metric a b
  local -n metric=$1
  local r values=()
  for r in $(seq 1 "$ROUNDS"); do
    local x=${metric[$2#$r]:-${metric[$2#1]:-0}} y=${metric[$3#$r]:-${metric[$3#1]:-0}}
    values+=("$(ratio "$x" "$y")")
  done
  printf '%s\n' "${values[@]}" | grep -v n/a | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# --- the run --------------------------------------------------------------------------------
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $(date -u +%FT%TZ), load: $LOADAVG, $CONNS connections, $DURATION" >&2
want() { [[ " $SERVERS " == *" $1 "* ]]; }
for ROUND in $(seq 1 "$ROUNDS"); do
  want baseline && run baseline 9101 "$BIN/baseline"
  want serve && run serve 9102 "$BIN/bench-server"
  want serve-noidem && BENCH_IDEMPOTENCY=off run serve-noidem 9105 "$BIN/bench-server"
  want serve-record1k && BENCH_RECORD_CAPACITY=1000 run serve-record1k 9106 "$BIN/bench-server"
  want baseline-redis && BASELINE_REDIS_URL=$REDIS_URL run baseline-redis 9107 "$BIN/baseline"
  want serve-redis && PILLAR_REDIS_URL=$REDIS_URL run serve-redis 9108 "$BIN/bench-server"
  want serve-1w && TOKIO_WORKER_THREADS=1 run serve-1w 9111 "$BIN/bench-server"
  want serve-b && run serve-b 9109 "$SERVE_B"
  want serve-redis-b && PILLAR_REDIS_URL=$REDIS_URL run serve-redis-b 9110 "$SERVE_B"
done
ROUND=1
want ref-fastapi && run ref-fastapi 9103 env -C "$ROOT/bench/reference" "$VENV/bin/uvicorn" fastapi_app:app \
  --host 127.0.0.1 --port 9103 --log-level warning --no-access-log --loop uvloop --http httptools
want ref-serve && run ref-serve 9104 env -C "$ROOT/bench/reference" "$VENV/bin/python" standalone.py

echo
echo "load: $ROUNDS rounds, $CONNS connections, $DURATION after a $WARMUP warm-up, wrk -t1 on CPU $LOAD_CPU, server on CPU $SERVER_CPU, nice $NICE, RUST_LOG=${RUST_LOG:-unset}; $(date -u +%FT%TZ); loadavg at start: $LOADAVG"
echo
echo "| server | req/s | p50 µs | p99 µs | errors | server CPU | server CPU µs/req | RSS/HWM idle MB | RSS/HWM after load MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "| ratio | value |"
echo "|---|---:|"
echo "| serve / baseline, req/s (target >= 0.9) | $(median_ratio RPS serve baseline) |"
echo "| serve / baseline, p99 (target <= 1.2) | $(median_ratio P99 serve baseline) |"
echo "| serve / baseline, CPU µs per request | $(median_ratio CPUREQ serve baseline) |"
echo "| serve-noidem / baseline, req/s | $(median_ratio RPS serve-noidem baseline) |"
echo "| serve-noidem / baseline, p99 | $(median_ratio P99 serve-noidem baseline) |"
want serve-record1k && echo "| serve / serve-record1k, CPU µs per request | $(median_ratio CPUREQ serve serve-record1k) |"
if want serve-redis; then
  echo "| serve-redis / baseline-redis, req/s (target >= 0.85) | $(median_ratio RPS serve-redis baseline-redis) |"
  echo "| serve-redis / baseline-redis, p99 (target <= 1.3) | $(median_ratio P99 serve-redis baseline-redis) |"
  echo "| serve-redis / baseline-redis, CPU µs per request | $(median_ratio CPUREQ serve-redis baseline-redis) |"
  echo
  want serve-redis-b && echo "| serve-redis / serve-redis-b (SERVE_B), req/s | $(median_ratio RPS serve-redis serve-redis-b) |"
  want serve-redis-b && echo "| serve-redis / serve-redis-b (SERVE_B), CPU µs per request | $(median_ratio CPUREQ serve-redis serve-redis-b) |"
  echo
  echo "Redis per call, last round (target/bench-load/*.redis):"
  cat "$OUT"/baseline-redis.redis "$OUT"/serve-redis.redis 2>/dev/null || true
  want serve-redis-b && cat "$OUT"/serve-redis-b.redis
fi
if want serve-1w; then
  echo "| serve / serve-1w, req/s | $(median_ratio RPS serve serve-1w) |"
  echo "| serve-1w / baseline, req/s | $(median_ratio RPS serve-1w baseline) |"
fi
if want serve-b; then
  echo "| serve / serve-b (SERVE_B), req/s | $(median_ratio RPS serve serve-b) |"
  echo "| serve-b / baseline, req/s | $(median_ratio RPS serve-b baseline) |"
fi
want serve-record1k && echo "| serve-record1k / baseline, req/s | $(median_ratio RPS serve-record1k baseline) |"
echo "| serve / ref-fastapi, req/s | $(median_ratio RPS serve ref-fastapi) |"
echo "| serve / ref-serve, req/s | $(median_ratio RPS serve ref-serve) |"
