#!/usr/bin/env bash
# The README's "Install" section, done as a newcomer would: a new crate with exactly the
# README's [dependencies] and src/main.rs, built against this checkout (a [patch] points
# the published name at ./pillar), then run as the README says, checking that the first
# run says where it listens and how many tools it serves.
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
blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
toml = next(body for lang, body in blocks if lang == "toml")
rust = next(body for lang, body in blocks if lang == "rust")
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

out="$work/first-run.log"
env -u RUST_LOG PILLAR_SECRET=plr_local PILLAR_ADDR=127.0.0.1:0 \
  "$CARGO_TARGET_DIR/debug/my-tools" >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  grep -q "NOT be registered" "$out" && break
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
cat "$out"
grep -q "pillar listening on http://127.0.0.1:" "$out" || { echo "the first run did not say where it listens"; exit 1; }
grep -q "tools=1" "$out" || { echo "the first run did not say it serves 1 tool"; exit 1; }
grep -q "NOT be registered" "$out" || { echo "the first run did not say it does not register"; exit 1; }
echo "README install: the crate builds as written and its first run talks"
