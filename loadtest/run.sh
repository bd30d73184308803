#!/usr/bin/env bash
# The on-demand load test of `serve()` (issue 4, "Limits and load"); not part of
# `cargo test`. See loadtest/README.md.
#
#   loadtest/run.sh            # 100,000 distinct calls + a storm of 50,000 calls sent twice
#   loadtest/run.sh --quick    # 2,000 + 1,000: a smoke test
#   loadtest/run.sh --calls 200000 --storm 100000   # any loadtest option passes through
#   loadtest/run.sh --attack   # the attacks of issues 14 and 23 at the default limits (about 2 min)
#   loadtest/run.sh --attack --only 1,5   # some of them; any loadtest-attack option passes
#
# Builds both binaries in release, starts loadtest-server in the background on
# 127.0.0.1 (a free port the kernel picks; pinned to CPU $SERVER_CPU with taskset when
# there is more than one CPU), runs the client (pinned to CPU $CLIENT_CPU) with 64
# HTTP/1.1 keep-alive connections, stops the server with SIGTERM and prints the result.
# Both run under `nice -n $NICE` (default 5): the machine is shared. Exits with the
# client's status: 0 when every check passed.
#
# Environment: SERVER_CPU (0), CLIENT_CPU (1), NICE (5), STORE_CAPACITY (400000),
# MAX_IN_FLIGHT (1024), WORK_US (1000), PILLAR_SECRET (a local test secret), RUST_LOG
# (the server's log filter, default warn), SERVER_ARGS
# (more loadtest-server options: SERVER_ARGS=--no-idempotency is the negative control,
# under which the duplicate-storm checks must fail).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${1:-}" = "--attack" ]; then
  shift
  exec "$ROOT/loadtest/attack.sh" "$@"
fi

# A run with other server settings (the negative control, another store size) keeps
# its own result file.
custom=${SERVER_ARGS:-}${STORE_CAPACITY:-}${MAX_IN_FLIGHT:-}${WORK_US:-}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NICE=${NICE:-5}
STORE_CAPACITY=${STORE_CAPACITY:-400000}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-1024}
WORK_US=${WORK_US:-1000}
export PILLAR_SECRET=${PILLAR_SECRET:-plr_loadtest_local_secret}

OUT=$ROOT/target/loadtest
mkdir -p "$OUT"
MODE=full
for arg in "$@"; do
  if [ "$arg" = "--quick" ]; then MODE=quick; fi
done

echo "== cargo build --release -p pillar-loadtest" >&2
nice -n "$NICE" cargo build --release -q -p pillar-loadtest --bin loadtest-server --bin loadtest
BIN=$ROOT/target/release

# Pin the two sides to different CPUs when there are at least two and taskset exists.
server_pin=()
client_pin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  server_pin=(taskset -c "$SERVER_CPU")
  client_pin=(taskset -c "$CLIENT_CPU")
  pinning="server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"
else
  pinning="not pinned (taskset missing or a single CPU)"
fi

read -r -a server_args <<<"${SERVER_ARGS:-}"
if [ -n "$custom" ]; then MODE=$MODE-custom; fi

ADDR_FILE=$OUT/addr
SERVER_LOG=$OUT/server-$MODE.log
RESULT=$OUT/result-$MODE.txt
rm -f "$ADDR_FILE" "$ADDR_FILE.partial"

# The server logs as serve() does, but at `warn` unless RUST_LOG says otherwise: at `info`
# a log line per call would be written.
RUST_LOG=${RUST_LOG:-warn} nice -n "$NICE" ${server_pin[@]+"${server_pin[@]}"} "$BIN/loadtest-server" \
  --addr 127.0.0.1:0 --addr-file "$ADDR_FILE" \
  --store-capacity "$STORE_CAPACITY" --max-in-flight "$MAX_IN_FLIGHT" --work-us "$WORK_US" \
  ${server_args[@]+"${server_args[@]}"} >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT

# The server writes its address once it listens.
for _ in $(seq 1 300); do
  [ -s "$ADDR_FILE" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "loadtest-server exited before listening:" >&2
    cat "$SERVER_LOG" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$ADDR_FILE" ]; then
  echo "loadtest-server did not listen within 30 s" >&2
  exit 1
fi
ADDR=$(cat "$ADDR_FILE")

{
  echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $pinning, nice $NICE"
  echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
} | tee "$RESULT"
set +e
nice -n "$NICE" ${client_pin[@]+"${client_pin[@]}"} "$BIN/loadtest" --addr "$ADDR" "$@" 2>&1 | tee -a "$RESULT"
status=${PIPESTATUS[0]}
set -e

stop_server
trap - EXIT
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" | tee -a "$RESULT"
echo "== server log ($SERVER_LOG):" | tee -a "$RESULT"
tee -a "$RESULT" <"$SERVER_LOG"
echo "== result saved to $RESULT (client exit status $status)"
exit "$status"
