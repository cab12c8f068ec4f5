#!/usr/bin/env bash
# libaether.a before/after its objects became position-independent with hidden
# visibility (the shared library is linked from the same objects; docs/INSTALL.md):
# callgrind instruction counts (exact, unaffected by the loaded machine) and
# wall-time medians of the same commands, both builds in one run.
#
#   bench/pic_static.sh BASE_BUILD NEW_BUILD [RUNS]
#
# BASE_BUILD: this tree configured with -DAE_PIC_OBJECTS=OFF (the objects as
# before: not PIC, default visibility); NEW_BUILD: the default configuration.
#   cmake -S . -B /tmp/pb-base -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAE_TESTS=OFF -DAE_PIC_OBJECTS=OFF
#   cmake -S . -B /tmp/pb-new  -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAE_TESTS=OFF
#   cmake --build /tmp/pb-base --target aetherd && cmake --build /tmp/pb-new --target aetherd
#
# Workload: a copy of this repository's src/{search,util,config} and include/
# as a workspace (about 40 files);
#   index   aetherd --index-once on a fresh copy (symbols, static SIRs, ppmi
#           training and embeddings, vector table)
#   search  aetherd --search "parse config" --search-mode hybrid on it
# Results go to docs/BENCHMARKS.md "Position-independent libaether.a".
set -euo pipefail
base=${1:?base build}
new=${2:?new build}
runs=${3:-5}
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkws() { rm -rf "$1"; mkdir -p "$1/src"; cp -R "$src/src/search" "$src/src/util" "$src/src/config" "$1/src/"; cp -R "$src/include" "$1/"; }
ir() { # OUT CMD... -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$1" "${@:2}" >/dev/null 2>&1
  callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); v = $1} END {print v}'
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
wall() { local t0=$EPOCHREALTIME; "$@" >/dev/null 2>&1; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f\n", b - a}'; }

declare -A IR
for b in base new; do
  dir=${!b}
  mkws "$tmp/ws-$b"
  IR[$b.index]=$(ir "$tmp/cg.$b.index" "$dir/aetherd" --workspace "$tmp/ws-$b" --index-once)
  IR[$b.search]=$(ir "$tmp/cg.$b.search" "$dir/aetherd" --workspace "$tmp/ws-$b" --search "parse config" --search-mode hybrid)
done
for k in index search; do
  awk -v k=$k -v a="${IR[base.$k]}" -v b="${IR[new.$k]}" 'BEGIN {printf "callgrind %-6s base %.0f  new %.0f  new/base %.4f\n", k, a, b, b / a}'
done
# wall time, interleaved run by run
for ((i = 0; i < runs; i++)); do
  for b in base new; do
    dir=${!b}
    mkws "$tmp/w-$b"
    wall "$dir/aetherd" --workspace "$tmp/w-$b" --index-once >>"$tmp/t.$b.index"
    for q in 1 2 3; do wall "$dir/aetherd" --workspace "$tmp/w-$b" --search "parse config" --search-mode hybrid; done |
      median >>"$tmp/t.$b.search"
  done
done
for k in index search; do
  a=$(median <"$tmp/t.base.$k"); b=$(median <"$tmp/t.new.$k")
  awk -v k=$k -v a="$a" -v b="$b" -v n="$runs" 'BEGIN {printf "wall %-6s base %.3f s  new %.3f s  new/base %.3f  (medians of %d)\n", k, a, b, b / a, n}'
done
