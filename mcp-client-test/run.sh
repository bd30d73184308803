#!/usr/bin/env bash
# The quickstart's tools over MCP, called by the Python `mcp` client (a second real MCP
# client beside the conformance suite's). Installs the client into a venv under target/
# from the pinned requirements.txt, builds the quickstart with the `mcp` feature and runs
# test_quickstart.py against it over Streamable HTTP and stdio.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/mcp-client-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s mcp-client-test/requirements.txt "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r mcp-client-test/requirements.txt
  cp mcp-client-test/requirements.txt "$venv/requirements.txt"
fi
cargo build -q -p pillar-examples --example quickstart
"$venv/bin/python" mcp-client-test/test_quickstart.py target/debug/examples/quickstart
