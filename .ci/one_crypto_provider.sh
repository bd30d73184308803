#!/usr/bin/env bash
# One rustls crypto provider in the dependency tree: ring, the one reqwest's `rustls-tls`
# brings (registration with Pillar Cloud) and the one the runtime names for `rediss://`
# (pillar/Cargo.toml). With two (ring and aws-lc-rs) rustls cannot choose, and the first
# TLS connection panics unless the program installs one by hand; with none it panics too.
#
# Checks, with `cargo tree`:
# 1. the whole workspace with every feature, on every target: each rustls has exactly one
#    provider feature, the same one, and the other provider's crates are not in the tree;
# 2. each feature set of the runtime that uses TLS on its own (serve, redis without
#    serve): its rustls has that provider.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNTIME=pillar-ai-server
EXPECTED=ring
# rustls 0.23's provider features (`aws-lc-rs` is an alias of `aws_lc_rs`; `fips` is
# aws-lc-rs too).
PROVIDER_FEATURES='ring|aws_lc_rs|aws-lc-rs|fips'

fail() {
  echo "one_crypto_provider: $*" >&2
  exit 1
}

# `<package> v<version> [<features>]`, one line per package (duplicates removed).
packages() {
  cargo tree "$@" -e normal,build,dev --prefix none -f '{p} [{f}]' | sed 's/ (\*)$//' | sort -u
}

# The provider features of each rustls in the tree of `cargo tree "$@"`, one line per
# rustls version: `rustls v0.23.x: ring`.
rustls_providers() {
  packages "$@" | awk -v re="^(${PROVIDER_FEATURES})$" '
    $1 == "rustls" {
      features = $0
      sub(/^[^[]*\[/, "", features)
      sub(/\].*$/, "", features)
      n = split(features, list, ",")
      found = ""
      for (i = 1; i <= n; i++) {
        if (list[i] ~ re) found = found (found == "" ? "" : " ") list[i]
      }
      print "rustls " $2 ": " (found == "" ? "none" : found)
    }'
}

# 1. The whole workspace, every feature, every target.
all=$(packages --workspace --all-features --target all)
providers=$(rustls_providers --workspace --all-features --target all)
[ -n "$providers" ] || fail "no rustls in the workspace's tree: is \`cargo tree\` working?"
echo "$providers"
while IFS= read -r line; do
  [ "${line##*: }" = "$EXPECTED" ] ||
    fail "$line; expected exactly one provider, $EXPECTED (see \`cargo tree --workspace --all-features -e features -i rustls\`)"
done <<<"$providers"
other=$(grep -E '^(aws-lc-rs|aws-lc-sys|aws-lc-fips-sys) v' <<<"$all" || true)
if [ -n "$other" ]; then
  fail "a second crypto provider is in the tree beside $EXPECTED:
$other
(find who brings it with \`cargo tree --workspace --all-features --target all -i aws-lc-rs\`)"
fi

# 2. The runtime's feature sets that use TLS on their own.
for features in "serve" "redis"; do
  providers=$(rustls_providers -p "$RUNTIME" --no-default-features --features "$features")
  [ -n "$providers" ] || fail "$RUNTIME with only \`$features\` has no rustls: this check is out of date"
  while IFS= read -r line; do
    [ "${line##*: }" = "$EXPECTED" ] ||
      fail "$RUNTIME with only \`$features\`: $line; expected $EXPECTED"
  done <<<"$providers"
done

echo "one rustls crypto provider: $EXPECTED (whole workspace, every feature and target; $RUNTIME's serve and redis on their own)"
