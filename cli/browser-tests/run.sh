#!/usr/bin/env bash
# The `pillar dev` console's browser tests: installs playwright-core from the lockfile,
# then runs console.test.mjs with Node's own test runner. Build the binaries first:
#   cargo build -p pillar-ai-server-cli --bin pillar -p pillar-integration-tests \
#     --bin console_fixture -p pillar-examples --example quickstart
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node --test --test-reporter=spec console.test.mjs
