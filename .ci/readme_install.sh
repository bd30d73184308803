#!/usr/bin/env bash
# The README's "Install" section, done as a newcomer would: a new crate with exactly the
# README's [dependencies] and src/main.rs, built against this checkout (a [patch] points
# the published name at ./pillar), then run as the README says, checking that the first
# run says where it listens and how many tools it serves. Then the two-terminal flow of
# "Call your tools from the browser: `pillar dev`": `pillar dev` in the background, its
# printed exports evaluated as a user pastes them, the crate started with exactly that
# environment, one of its tools called with `pillar call` and through the console's API.
# What the README shows of it is checked against what happens: the export lines pillar dev
# prints, its registration line, and the `pillar call` line, run as written.
# A port-mismatch warning (or any WARN/ERROR line) from the server fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/readme-install"
crate="$work/my-tools"
rm -rf "$crate"
mkdir -p "$crate/src"

python3 - "$root/README.md" "$crate" <<'PY'
import pathlib, re, sys
readme, crate = pathlib.Path(sys.argv[1]).read_text(), pathlib.Path(sys.argv[2])
section = readme.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
# A fence's info string may carry rustdoc attributes (```rust,no_run): the language is
# its first word.
blocks = re.findall(r"```([\w,]+)\n(.*?)```", section, re.S)
toml = next(body for info, body in blocks if info.split(",")[0] == "toml")
rust = next(body for info, body in blocks if info.split(",")[0] == "rust")
manifest = (
    '[package]\nname = "my-tools"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
    + toml
    + '\n[patch.crates-io]\npillar-ai-server = { path = "%s/pillar" }\n\n[workspace]\n'
    % crate.parent.parent.parent
)
(crate / "Cargo.toml").write_text(manifest)
(crate / "src" / "main.rs").write_text(rust)
PY

# The workspace's target directory: the dependencies the tests compiled are reused.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --manifest-path "$crate/Cargo.toml"

# Every process started here is stopped on the way out, whatever happens; on a failure
# the logs are printed.
pids=()
logs=()
stop_all() {
  local status=$? pid log
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in "${logs[@]}"; do
      if [ -f "$log" ]; then
        echo "---- $log"
        cat "$log"
      fi
    done
  fi
  exit "$status"
}
trap stop_all EXIT
fail() {
  echo "README install: $*" >&2
  exit 1
}
# Waits up to $2 tenths of a second for the regex $3 in file $1, while process $4 lives.
wait_for() {
  local file=$1 tenths=$2 pattern=$3 pid=$4
  for _ in $(seq 1 "$tenths"); do
    grep -Eq -- "$pattern" "$file" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -Eq -- "$pattern" "$file"
      return
    fi
    sleep 0.1
  done
  return 1
}
# The server's warning when its loopback endpoint URL names another port than its own.
port_mismatch='names port [0-9]+, but this server listens'
# A tracing line at WARN or ERROR (with or without colours).
warn_or_error='(^|[^A-Za-z_])(WARN|ERROR)([^A-Za-z_]|$)'

# 1. The first run, as the Install section says (no Pillar Cloud: it does not register).
out="$work/first-run.log"
logs+=("$out")
env -u RUST_LOG PILLAR_SECRET=plr_local PILLAR_ADDR=127.0.0.1:0 \
  "$CARGO_TARGET_DIR/debug/my-tools" >"$out" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$out" 100 "NOT be registered" "$pid" || true
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
cat "$out"
grep -q "pillar listening on http://127.0.0.1:" "$out" || fail "the first run did not say where it listens"
grep -q "tools=1" "$out" || fail "the first run did not say it serves 1 tool"
grep -q "NOT be registered" "$out" || fail "the first run did not say it does not register"
echo "README install: the crate builds as written and its first run talks"

# The check below must notice a mismatch: the same crate with an endpoint URL on another
# port than its own prints the warning this script looks for (its registration goes to a
# closed loopback port, never off the machine).
out="$work/mismatch.log"
logs+=("$out")
env -u RUST_LOG PILLAR_SECRET=plr_local PILLAR_ADDR=127.0.0.1:0 \
  PILLAR_ENDPOINT_URL=http://127.0.0.1:9/ PILLAR_API_URL=http://127.0.0.1:9 \
  "$CARGO_TARGET_DIR/debug/my-tools" >"$out" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$out" 100 "$port_mismatch" "$pid" ||
  fail "a server whose endpoint URL names port 9 did not warn ('$port_mismatch')"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# 2. "Call your tools from the browser". Terminal 1 runs `pillar dev`, here on a free port
# and with a free port for the server, so that parallel runs do not collide.
pillar="$CARGO_TARGET_DIR/debug/pillar"
# Built (or found up to date) from this checkout: a binary left from an older build would
# test another `pillar dev` than the one the README describes.
cargo build --quiet --manifest-path "$root/Cargo.toml" -p pillar-ai-server-cli --bin pillar
server_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dev_log="$work/pillar-dev.log"
logs+=("$dev_log")
env -u RUST_LOG "$pillar" dev --port 0 --server-port "$server_port" >"$dev_log" 2>&1 &
dev_pid=$!
pids+=("$dev_pid")
wait_for "$dev_log" 100 "^Waiting for a registration" "$dev_pid" || fail "pillar dev did not print its banner"

# Terminal 2 pastes the export lines, exactly as printed, into a shell with no other Pillar
# setting, and starts the server.
exports=$(grep -E '^ *export PILLAR_[A-Z_]+=' "$dev_log" | sed 's/^ *//')
[ "$(printf '%s\n' "$exports" | wc -l)" -eq 4 ] || fail "pillar dev did not print four export lines"
# The README shows the same export lines (the same variables, in the same order) as
# pillar dev prints.
readme_names=$(python3 - "$root/README.md" <<'PY'
import pathlib, re, sys
readme = pathlib.Path(sys.argv[1]).read_text()
section = readme.split("\n## Call your tools from the browser: `pillar dev`\n", 1)[1].split("\n## ", 1)[0]
print(" ".join(re.findall(r"^#\s+export (PILLAR_[A-Z_]+)=", section, re.M)))
PY
)
printed_names=$(printf '%s\n' "$exports" | sed -E 's/^export ([A-Z_]+)=.*/\1/' | paste -sd' ' -)
[ "$readme_names" = "$printed_names" ] ||
  fail "the README's pillar dev shows the exports '$readme_names', pillar dev prints '$printed_names'"
if printf '%s\n' "$exports" | grep -Evq '^export PILLAR_[A-Z_]+=[A-Za-z0-9_.:/-]+$'; then
  fail "an export line of pillar dev is not a plain assignment"
fi
while IFS='=' read -r name _; do
  unset "$name"
done < <(env | grep -E '^(PILLAR_[A-Z_]*|PORT)=' || true)
eval "$exports"
for name in PILLAR_API_URL PILLAR_ENDPOINT_URL PILLAR_ADDR PILLAR_SECRET; do
  [ -n "${!name:-}" ] || fail "pillar dev printed no $name"
done
[ "$PILLAR_ADDR" = "127.0.0.1:$server_port" ] || fail "PILLAR_ADDR is $PILLAR_ADDR, not 127.0.0.1:$server_port"
[ "$PILLAR_ENDPOINT_URL" = "http://127.0.0.1:$server_port/" ] ||
  fail "PILLAR_ENDPOINT_URL is $PILLAR_ENDPOINT_URL, not http://127.0.0.1:$server_port/"
console_re='^Console: (http://127\.0\.0\.1:[0-9]+)/#token=([0-9a-f]+)$'
console_line=$(grep -E "$console_re" "$dev_log") || fail "pillar dev printed no Console line"
[[ $console_line =~ $console_re ]]
console=${BASH_REMATCH[1]}
token=${BASH_REMATCH[2]}

server_log="$work/server.log"
logs+=("$server_log")
env -u RUST_LOG "$CARGO_TARGET_DIR/debug/my-tools" >"$server_log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for "$dev_log" 300 "^registered 1 tool from ${PILLAR_ENDPOINT_URL//./\\.} " "$dev_pid" ||
  fail "pillar dev did not print 'registered 1 tool from $PILLAR_ENDPOINT_URL'"
wait_for "$server_log" 100 "with Pillar Cloud" "$server_pid" || fail "the server did not say it registered"
grep -q "^Terminal 1 then prints \`registered 1 tool from " "$root/README.md" ||
  fail "the README does not show the line pillar dev prints for the README's crate"
if grep -Eq "$port_mismatch" "$server_log"; then fail "the server warns of a port mismatch"; fi
grep -q "pillar listening on http://$PILLAR_ADDR" "$server_log" || fail "the server does not listen on $PILLAR_ADDR"
if grep -Eq "$warn_or_error" "$server_log"; then fail "the server printed a WARN or ERROR line"; fi
if grep -Eq '^ *warning:|^refused' "$dev_log"; then fail "pillar dev warned about the registration"; fi

# A call with `pillar call`, exactly as the README's pillar dev section writes it for a
# shell with the exports (PILLAR_SECRET and PILLAR_ENDPOINT_URL), with `pillar` on the PATH.
readme_call=$(python3 - "$root/README.md" <<'PY'
import pathlib, re, sys
readme = pathlib.Path(sys.argv[1]).read_text()
section = readme.split("\n## Call your tools from the browser: `pillar dev`\n", 1)[1].split("\n## ", 1)[0]
calls = re.findall(r"`(pillar call [^`\n]+)`", section)
print(calls[0] if calls else "")
PY
)
[ -n "$readme_call" ] || fail "the README's pillar dev section shows no pillar call"
echo "README call: $readme_call"
answer="$work/pillar-call.json"
logs+=("$answer")
call_status=0
PATH="$(dirname "$pillar"):$PATH" bash -c "$readme_call --timeout 30" >"$answer" || call_status=$?
[ "$call_status" -eq 0 ] || fail "pillar call exited with $call_status"
python3 - "$answer" <<'PY' || fail "pillar call's answer is not the customer"
import json, sys
answer = json.load(open(sys.argv[1]))
assert answer["success"] is True, answer
assert answer["result"] == {"email": "sarah@acme.com", "plan": "pro"}, answer
PY

# The same call through the console's API, as its page sends it: the console's own host
# and origin, the token from the printed URL.
python3 - "$console" "$token" "$PILLAR_ENDPOINT_URL" <<'PY' || fail "the console's call did not answer the customer"
import json, sys, urllib.request
console, token, endpoint = sys.argv[1:]
body = {"endpoint_url": endpoint, "tool_name": "lookup_customer",
        "arguments": {"email": "sarah@acme.com"}}
request = urllib.request.Request(
    f"{console}/console/api/call", data=json.dumps(body).encode(), method="POST",
    headers={"Content-Type": "application/json", "Origin": console,
             "X-Pillar-Console-Token": token})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(request, timeout=30) as response:
    entry = json.load(response)
assert entry["status"] == 200 and entry["error"] is None, entry
assert entry["answer"]["success"] is True, entry
assert entry["answer"]["result"] == {"email": "sarah@acme.com", "plan": "pro"}, entry
print(f"console call: {entry['tool_name']} -> {json.dumps(entry['answer']['result'])} "
      f"(HTTP {entry['status']}, {entry['latency_ms']} ms)")
PY
# Nothing to warn about after the calls either.
if grep -Eq "$warn_or_error" "$server_log"; then fail "the server printed a WARN or ERROR line"; fi
echo "---- pillar dev"
grep -Ev '#token=|PILLAR_SECRET=' "$dev_log"
echo "---- the server"
cat "$server_log"
echo "---- pillar call"
cat "$answer"
echo "README install: pillar dev, its exports, the server, pillar call and the console agree"
