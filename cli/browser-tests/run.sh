#!/usr/bin/env bash
# The `pillar dev` console's tests. First the unit tests of its pure modules (schema.js,
# editors.js: Node alone, no browser); then installs playwright-core from the lockfile
# and runs the browser tests, console.test.mjs, with Node's own test runner. Build the
# binaries first:
#   cargo build -p pillar-ai-server-cli --bin pillar -p pillar-integration-tests \
#     --bin console_fixture -p pillar-examples --example quickstart
set -euo pipefail
cd "$(dirname "$0")"
node --test --test-reporter=spec unit/*.test.mjs
npm ci --no-audit --no-fund
node --test --test-reporter=spec console.test.mjs
