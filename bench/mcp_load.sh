#!/usr/bin/env bash
# MCP `tools/call` over Streamable HTTP: the `pillar::mcp` bridge (`bench-server` with
# PILLAR_MCP=1, the tool a `#[pillar::tool]`) against rmcp's own server with the same tool
# written by hand (`mcp-baseline`), same HTTP stack and rmcp configuration. Two measures:
#
# 1. instructions per call (callgrind; counts do not move with the machine's noise):
#    each server under valgrind, a warm-up, counters zeroed, COUNT_DURATION of load,
#    counters dumped, divided by the answered calls;
# 2. throughput and p99 under load, interleaved: ROUNDS rounds of (baseline, bridge) in
#    alternating order, each server alone on CPU 0 (one tokio worker), wrk on CPU 1 with
#    CONNS connections, 2 s warm-up then DURATION measured; the ratio is the median over
#    rounds of the ratio within a round.
#
# Every answer must be 200 with the tool's `structuredContent`; a bad answer fails the
# script. MODE=stateless (default) sends protocol 2026-07-28 requests, each complete in
# itself (no session); MODE=session makes one 2025-11-25 session first and sends every
# call in it.
#
#   bench/mcp_load.sh                     # ROUNDS=4 DURATION=8s CONNS=16 COUNT_DURATION=6s
#   KEEP=1 ROUNDS=0 bench/mcp_load.sh     # counts only, profiles kept in target/bench-mcp
#                                         # (callgrind_annotate target/bench-mcp/bridge.callgrind.1)
#   CACHE_SIM=yes ROUNDS=0 bench/mcp_load.sh  # callgrind also simulates the caches and
#                                         # branch predictor: misses per call as well
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/bench-mcp
mkdir -p "$OUT"
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-16}
COUNT_DURATION=${COUNT_DURATION:-6s}
MODE=${MODE:-stateless}
PORT=9173
for tool in valgrind wrk curl; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind wrk curl >/dev/null; }
done
cargo build --release -q -p pillar-bench --bin bench-server --bin mcp-baseline

# shellcheck source=bench/requests.sh
source "$ROOT/bench/requests.sh"

ARGS='"name":"lookup_customer","arguments":{"email":"sarah@acme.com"}'
case $MODE in
  stateless)
    export MCP_VERSION=2026-07-28
    export MCP_BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{'"$ARGS"',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
    ;;
  session)
    export MCP_VERSION=2025-11-25
    export MCP_BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{'"$ARGS"'}}'
    ;;
  *) echo "MODE is stateless or session" >&2; exit 2 ;;
esac

# A session for MODE=session: initialize, then `notifications/initialized`.
open_session() {
  export MCP_SESSION=
  [[ $MODE == session ]] || return 0
  local headers
  headers=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/mcp" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-load","version":"1"}}}')
  MCP_SESSION=$(tr -d '\r' <<<"$headers" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
  [[ -n $MCP_SESSION ]] || { echo "no session id in: $headers" >&2; exit 1; }
  curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $MCP_SESSION" \
    -H 'MCP-Protocol-Version: 2025-11-25' -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
}

load() { # duration
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$1" --timeout 30s -s "$ROOT/bench/mcp_call.lua" \
    "http://127.0.0.1:$PORT/mcp" | sed -n 's/^RESULT //p'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
check() { # name result
  local ok bad
  ok=$(field ok "$2")
  bad=$(field bad "$2")
  [[ ${bad:-1} == 0 && ${ok:-0} -gt 0 ]] || { echo "$1: ok=$ok bad=$bad: not every answer was the tool's result" >&2; exit 1; }
}

# The command of each server (its environment, then its binary).
server_cmd() {
  case $1 in
    baseline) echo "env MCP_BASELINE_ADDR=127.0.0.1:$PORT target/release/mcp-baseline" ;;
    bridge) echo "env PILLAR_SECRET=plr_bench PILLAR_ADDR=127.0.0.1:$PORT PILLAR_AUTO_REGISTER=false PILLAR_MCP=1 PILLAR_MCP_AUTH=none RUST_LOG=warn target/release/bench-server" ;;
  esac
}
stop() {
  kill -INT "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# 1. Instructions per call.
declare -A IR EVENTS
for name in baseline bridge; do
  read -ra cmd <<<"$(server_cmd $name)"
  taskset -c 0 valgrind --tool=callgrind --trace-children=yes --cache-sim="${CACHE_SIM:-no}" --branch-sim="${CACHE_SIM:-no}" --callgrind-out-file="$OUT/$name.callgrind" "${cmd[@]}" \
    >"$OUT/$name.callgrind.log" 2>&1 &
  pid=$!
  wait_listening "$PORT" "$pid"
  open_session
  load 3s >/dev/null
  callgrind_control -z "$pid" >/dev/null
  result=$(load "$COUNT_DURATION")
  callgrind_control -d "$pid" >/dev/null
  stop "$pid"
  check "$name (callgrind)" "$result"
  ok=$(field ok "$result")
  EVENTS[$name]=$(python3 "$ROOT/bench/callgrind_per_call.py" "$OUT/$name.callgrind.1" "$ok")
  IR[$name]=$(sed 's/ instructions.*//; s/,//g' <<<"${EVENTS[$name]}")
  [[ -n ${KEEP:-} ]] || rm -f "$OUT/$name.callgrind"*
done

# 2. Interleaved load rounds.
ROWS=()
RATIOS=()
P99S=()
for round in $(seq 1 "$ROUNDS"); do
  order=(baseline bridge)
  ((round % 2 == 0)) && order=(bridge baseline)
  declare -A RPS P99
  for name in "${order[@]}"; do
    read -ra cmd <<<"$(server_cmd $name)"
    nice -n -10 taskset -c 0 "${cmd[@]}" >"$OUT/$name.log" 2>&1 &
    pid=$!
    wait_listening "$PORT" "$pid"
    open_session
    load 2s >/dev/null
    result=$(load "$DURATION")
    stop "$pid"
    check "$name (round $round)" "$result"
    RPS[$name]=$(field rps "$result")
    P99[$name]=$(field p99_us "$result")
    ROWS+=("| $round | $name | ${RPS[$name]} | $(field p50_us "$result") | ${P99[$name]} |")
  done
  RATIOS+=("$(python3 -c "print(${RPS[bridge]} / ${RPS[baseline]})")")
  P99S+=("$(python3 -c "print(${P99[bridge]} / max(${P99[baseline]}, 1))")")
done

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.3f}")' "$@"; }
echo
echo "measured: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), MODE=$MODE, $CONNS connections, $DURATION per run, server on CPU 0, wrk on CPU 1"
echo
echo "| server | instructions per call (callgrind) |"
echo "|---|---:|"
echo "| rmcp by hand | ${IR[baseline]} |"
echo "| pillar::mcp bridge | ${IR[bridge]} |"
echo "| bridge / by hand | $(python3 -c "print(f'{${IR[bridge]} / ${IR[baseline]}:.3f}')") |"
if [[ ${CACHE_SIM:-no} == yes ]]; then
  echo
  echo "| server | per call (callgrind, simulated caches and branch predictor) |"
  echo "|---|---|"
  echo "| rmcp by hand | ${EVENTS[baseline]} |"
  echo "| pillar::mcp bridge | ${EVENTS[bridge]} |"
fi
((ROUNDS > 0)) || exit 0
echo
echo "| round | server | req/s | p50 µs | p99 µs |"
echo "|---:|---|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "bridge / by hand, median over rounds: throughput $(median "${RATIOS[@]}")x, p99 $(median "${P99S[@]}")x"
