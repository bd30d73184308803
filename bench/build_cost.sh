#!/usr/bin/env bash
# Build cost of 50 tools with `#[pillar::tool]` against the same 50 tools written by hand
# with `Tool::builder` (issue item 7). See BENCHMARKS.md.
#
#   bench/build_cost.sh            # crate-only clean builds and incremental rebuilds
#   FULL=1 bench/build_cost.sh     # also a clean build from nothing (all dependencies)
#   RUNS=5 bench/build_cost.sh
#   INCREMENTAL_ONLY=1 RUNS=7 bench/build_cost.sh   # only the incremental dev rebuild,
#       the crates alternated run by run (macro50, builder50, derive50, macro50, ...), each
#       run's seconds listed, median and spread (min-max) reported
#
# The crates, bench/buildcost/{macro50,builder50,derive50}, are outside the workspace and share
# one target directory (target/buildcost), so their dependencies are built once and only
# the crate itself is timed:
#   clean        `cargo clean -p <crate>` then `cargo build` (dev and release)
#   incremental  one line of one tool changed, then `cargo build` (dev)
# The macro's extra cost per tool is (macro50 - builder50) / 50. builder50 shares one
# arguments struct and one hand-written schema among its 50 tools; derive50 is what the
# macro stands for when written by hand: each tool with its own arguments struct
# deriving `Deserialize` and `JsonSchema`, and `typed_handler`. (macro50 - derive50) / 50
# is the macro's own cost over that.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=$ROOT/target/buildcost
export CARGO_TERM_COLOR=never
CRATES=(macro50 builder50)

[[ ${INCREMENTAL_ONLY:-0} == 1 ]] && CRATES+=(derive50)
for c in "${CRATES[@]}"; do
  # Same dependency versions as the workspace.
  cp "$ROOT/Cargo.lock" "$ROOT/bench/buildcost/$c/Cargo.lock"
done

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

build() { # crate profile-flag...
  local c=$1
  shift
  (cd "$ROOT/bench/buildcost/$c" && cargo build -q "$@")
}

timed() { # crate profile-flag...: seconds
  local start end
  start=$(now)
  build "$@"
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f\n", b - a}'
}

if [[ ${INCREMENTAL_ONLY:-0} == 1 ]]; then
  echo "== dependencies (dev)" >&2
  for c in "${CRATES[@]}"; do build "$c"; cp "bench/buildcost/$c/src/main.rs" "bench/buildcost/$c/src/main.rs.orig"; done
  declare -A RUNS_OF
  for i in $(seq "$RUNS"); do
    for c in "${CRATES[@]}"; do
      file=bench/buildcost/$c/src/main.rs
      sed -i "s/unwrap_or([0-9]*); *\/\/ EDIT-MARK/unwrap_or($((10 + i))); \/\/ EDIT-MARK/" "$file"
      RUNS_OF[$c]+="$(timed "$c") "
    done
  done
  for c in "${CRATES[@]}"; do
    mv "bench/buildcost/$c/src/main.rs.orig" "bench/buildcost/$c/src/main.rs"
    build "$c"
  done
  stats() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {printf "%s (%s-%s)", a[int((NR + 1) / 2)], a[1], a[NR]}'; }
  echo
  echo "rustc: $(rustc -V); incremental dev rebuild after a one-line edit, $RUNS alternating runs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| crate | runs (s) | median (min-max) |"
  echo "|---|---|---:|"
  for c in "${CRATES[@]}"; do
    echo "| $c | ${RUNS_OF[$c]}| $(stats <<<"${RUNS_OF[$c]}") |"
  done
  m=$(stats <<<"${RUNS_OF[macro50]}" | cut -d' ' -f1)
  b=$(stats <<<"${RUNS_OF[builder50]}" | cut -d' ' -f1)
  echo
  d=$(stats <<<"${RUNS_OF[derive50]}" | cut -d' ' -f1)
  echo "macro's extra per tool over builder50 (median difference / 50): $(awk -v a="$m" -v b="$b" 'BEGIN {printf "%+.1f ms", 1000 * (a - b) / 50}')"
  echo "derive50's extra per tool over builder50: $(awk -v a="$d" -v b="$b" 'BEGIN {printf "%+.1f ms", 1000 * (a - b) / 50}')"
  echo "macro's extra per tool over derive50: $(awk -v a="$m" -v b="$d" 'BEGIN {printf "%+.1f ms", 1000 * (a - b) / 50}')"
  exit 0
fi

declare -A T
if [[ ${FULL:-0} == 1 ]]; then
  echo "== clean build from nothing (dependencies included)" >&2
  rm -rf "$CARGO_TARGET_DIR"
  T[full_macro50]=$(timed macro50)
  T[full_builder50]=$(timed builder50)
fi

echo "== dependencies" >&2
for c in "${CRATES[@]}"; do
  build "$c"
  build "$c" --release
done

for c in "${CRATES[@]}"; do
  pkg=buildcost-$c
  for profile in dev release; do
    flag=()
    [[ $profile == release ]] && flag=(--release)
    echo "== $c: clean, $profile" >&2
    T[clean_${profile}_$c]=$(for _ in $(seq "$RUNS"); do
      (cd "bench/buildcost/$c" && cargo clean -q -p "$pkg" ${flag[@]+"${flag[@]}"})
      timed "$c" ${flag[@]+"${flag[@]}"}
    done | median)
  done
  echo "== $c: incremental, dev" >&2
  file=bench/buildcost/$c/src/main.rs
  cp "$file" "$file.orig"
  T[incr_$c]=$(for i in $(seq "$RUNS"); do
    sed -i "s/unwrap_or([0-9]*); *\/\/ EDIT-MARK/unwrap_or($((10 + i))); \/\/ EDIT-MARK/" "$file"
    timed "$c"
  done | median)
  mv "$file.orig" "$file"
  T[size_$c]=$(stat -c %s "$CARGO_TARGET_DIR/release/$pkg")
done
# Leave the dev build matching the committed sources.
for c in "${CRATES[@]}"; do build "$c"; done

per_tool() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.0f ms", 1000 * (a - b) / 50}'; }

echo
echo "rustc: $(rustc -V); $RUNS runs, median; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| build (seconds) | macro50 | builder50 | macro's extra per tool |"
echo "|---|---:|---:|---:|"
if [[ ${FULL:-0} == 1 ]]; then
  echo "| clean, from nothing (dev, all dependencies) | ${T[full_macro50]} | ${T[full_builder50]} (deps already built) | |"
fi
echo "| clean crate, dev | ${T[clean_dev_macro50]} | ${T[clean_dev_builder50]} | $(per_tool "${T[clean_dev_macro50]}" "${T[clean_dev_builder50]}") |"
echo "| clean crate, release | ${T[clean_release_macro50]} | ${T[clean_release_builder50]} | $(per_tool "${T[clean_release_macro50]}" "${T[clean_release_builder50]}") |"
echo "| incremental (one line of one tool), dev | ${T[incr_macro50]} | ${T[incr_builder50]} | $(per_tool "${T[incr_macro50]}" "${T[incr_builder50]}") |"
echo "| release binary size (bytes) | ${T[size_macro50]} | ${T[size_builder50]} | $(awk -v a="${T[size_macro50]}" -v b="${T[size_builder50]}" 'BEGIN {printf "%+.0f B", (a - b) / 50}') |"
