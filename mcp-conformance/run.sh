#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# package-lock.json with the Node 22 it needs) against the fixture server
# (mcp-conformance/fixture: pillar::serve() with MCP on, no token, on loopback).
# Every scenario not listed in expected-failures.yml must pass, and every listed one
# must fail (the suite fails on a stale entry).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
cargo build -q -p pillar-mcp-fixture
fixture="$here/../target/debug/pillar-mcp-fixture"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$here/../target/mcp-fixture.log"
PILLAR_SECRET=plr_conformance PILLAR_ADDR="127.0.0.1:$port" PILLAR_AUTO_REGISTER=false \
  PILLAR_MCP=1 PILLAR_MCP_AUTH=none RUST_LOG=warn "$fixture" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the fixture exited; its log:"
    cat "$log"
    exit 1
  fi
  sleep 0.1
done
status=0
node_modules/.bin/node node_modules/@modelcontextprotocol/conformance/dist/index.js server \
  --url "http://127.0.0.1:$port/mcp" --suite all --expected-failures expected-failures.yml || status=$?
# The same fixture over stdio: protocol on stdout only (logs go to stderr), no secret.
if [ "$status" -eq 0 ]; then
  stdio_out=$(printf '%s\n' \
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"run.sh","version":"1"}}}' \
    '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}' |
    env -u PILLAR_SECRET RUST_LOG=info timeout 30 "$fixture" --stdio 2>/dev/null) || status=$?
  if [ "$status" -ne 0 ] || [ "$(printf '%s\n' "$stdio_out" | wc -l)" -ne 2 ] ||
    ! printf '%s' "$stdio_out" | grep -q '"text":"This is a simple text response for testing."'; then
    echo "mcp over stdio: unexpected output (exit $status):"
    printf '%s\n' "$stdio_out"
    status=1
  else
    echo "mcp over stdio: initialize and tools/call answered on stdout, nothing else there"
  fi
fi
# The suite's own "Total: N passed, M failed" counts the expected failures too; this is
# the verdict.
if [ "$status" -eq 0 ]; then
  echo "mcp conformance: every required scenario passed; the other failures are the ones expected-failures.yml lists"
else
  echo "mcp conformance: FAILED (the suite exited $status: an unexpected failure or a stale expected-failures.yml entry, above)"
fi
exit "$status"
