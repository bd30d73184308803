#!/usr/bin/env bash
# The attacks of issues 14 and 23 against `serve()` at the default limits, with 1,000
# and more hostile clients; not part of `cargo test`. See loadtest/README.md, "Attacks".
#
#   loadtest/run.sh --attack              # every scenario, about 2 minutes
#   loadtest/run.sh --attack --only 1,5   # some; any loadtest-attack option passes through
#
# Builds loadtest-server and loadtest-attack in release and starts four servers on
# 127.0.0.1 (free ports), each logging as serve() does to target/loadtest/attack-*.log:
#
#   A  ServerLimits::default() (header and body timeouts 10 s, idle 60 s, 4,096
#      connections), max_in_flight 1024, the SDK's default call store size (100,000):
#      scenarios 1, 2, 4 and 5;
#   B  the same, but an idle timeout of $IDLE_MS ms (8 s; 60 s would make the run a
#      minute longer) and started with a soft open-files limit of 1,024 under the
#      machine's hard limit, which serve_on must raise: scenario 3a (1,100 then 5,000
#      idle connections), then scenario 6 (600 connections that never finish closing;
#      the close timeout is the default 5 s, $CLOSE_MS when set);
#   C  the same as B, but started with a hard open-files limit of 1,024 (soft 1,024), so
#      the cap must be lowered to fit: scenario 3b (1,100 idle connections);
#   D  ServerLimits::default() (body budget 64 MiB, body limit 1 MiB, body timeout
#      10 s), fresh, so that its memory is the body budget attack's own: scenario 7.
#
# The servers are pinned to CPU $SERVER_CPU, the client to CPU $CLIENT_CPU (taskset, when
# there are two CPUs), all under `nice -n $NICE`. Prints the result and saves it in
# target/loadtest/attack-result.txt. Exits with the client's status: 0 when every check
# passed, 1 when one failed, 2 when the test could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NICE=${NICE:-5}
IDLE_MS=${IDLE_MS:-8000}
CLOSE_MS=${CLOSE_MS:-}
export PILLAR_SECRET=${PILLAR_SECRET:-plr_loadtest_local_secret}

OUT=$ROOT/target/loadtest
mkdir -p "$OUT"

echo "== cargo build --release -p pillar-loadtest" >&2
nice -n "$NICE" cargo build --release -q -p pillar-loadtest --bin loadtest-server --bin loadtest-attack
BIN=$ROOT/target/release

server_pin=()
client_pin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  server_pin=(taskset -c "$SERVER_CPU")
  client_pin=(taskset -c "$CLIENT_CPU")
  pinning="servers on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"
else
  pinning="not pinned (taskset missing or a single CPU)"
fi

HARD_FILES=$(ulimit -H -n)
PIDS=()
stop_servers() {
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_servers EXIT

# start NAME SOFT_FILES HARD_FILES [server options...]: starts a server in a subshell
# whose open-files limits are set first ("-" keeps them), then exec'd into, so its pid
# is the server's.
start() {
  local name=$1 soft=$2 hard=$3
  shift 3
  rm -f "$OUT/attack-$name.addr" "$OUT/attack-$name.addr.partial"
  (
    # The soft limit first: a hard limit below the soft one in force is refused.
    if [ "$soft" != "-" ]; then ulimit -S -n "$soft"; fi
    if [ "$hard" != "-" ]; then ulimit -H -n "$hard"; fi
    exec nice -n "$NICE" ${server_pin[@]+"${server_pin[@]}"} "$BIN/loadtest-server" \
      --addr 127.0.0.1:0 --addr-file "$OUT/attack-$name.addr" \
      --store-capacity 100000 --max-in-flight 1024 --work-us 1000 "$@"
  ) >"$OUT/attack-$name.log" 2>&1 &
  PIDS+=($!)
}

# wait_addr NAME: the address the server wrote once listening.
wait_addr() {
  local name=$1
  for _ in $(seq 1 300); do
    if [ -s "$OUT/attack-$name.addr" ]; then
      cat "$OUT/attack-$name.addr"
      return 0
    fi
    sleep 0.1
  done
  echo "loadtest-server $name did not listen within 30 s:" >&2
  cat "$OUT/attack-$name.log" >&2
  return 1
}

close_args=()
if [ -n "$CLOSE_MS" ]; then close_args=(--close-timeout-ms "$CLOSE_MS"); fi
start a - -
start b 1024 - --idle-timeout-ms "$IDLE_MS" ${close_args[@]+"${close_args[@]}"}
start c 1024 1024 --idle-timeout-ms "$IDLE_MS"
start d - -
ADDR_A=$(wait_addr a)
ADDR_B=$(wait_addr b)
ADDR_C=$(wait_addr c)
ADDR_D=$(wait_addr d)

RESULT=$OUT/attack-result.txt
{
  echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $pinning, nice $NICE"
  echo "== open files of this shell: soft $(ulimit -S -n), hard $HARD_FILES; server B started with soft 1024, server C with soft and hard 1024"
  echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
} | tee "$RESULT"
set +e
nice -n "$NICE" ${client_pin[@]+"${client_pin[@]}"} "$BIN/loadtest-attack" \
  --addr "$ADDR_A" --server-log "$OUT/attack-a.log" \
  --idle-addr "$ADDR_B" --idle-log "$OUT/attack-b.log" \
  --lowfiles-addr "$ADDR_C" --lowfiles-log "$OUT/attack-c.log" \
  --budget-addr "$ADDR_D" \
  "$@" 2>&1 | tee -a "$RESULT"
status=${PIPESTATUS[0]}
set -e

stop_servers
trap - EXIT
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" | tee -a "$RESULT"
# The SDK's per-call event (`tool call answered`) is DEBUG: at the servers' `info` none is
# written; any that are (RUST_LOG=debug) are counted, not shown.
for name in a b c d; do
  log=$OUT/attack-$name.log
  calls=$(grep -c 'tool call answered' "$log" || true)
  echo "== server $name log ($log): $(wc -l <"$log") lines, $(wc -c <"$log") bytes; \
$calls of them 'tool call answered' (DEBUG, one per signed call), not shown:" | tee -a "$RESULT"
  grep -v 'tool call answered' "$log" | tee -a "$RESULT"
done
echo "== result saved to $RESULT (client exit status $status)"
exit "$status"
