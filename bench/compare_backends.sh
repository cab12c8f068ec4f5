#!/usr/bin/env bash
# Native vector table vs the legacy SQLite backend, same machine, same run:
# upsert throughput, exact search latency, open + first query, at dim 768.
#   bench/compare_backends.sh [BUILD_DIR] [ROWS...]    (default build, 10000 100000)
set -euo pipefail
build=${1:-build}; shift || true
rows=("${@:-10000 100000}")
[ $# -eq 0 ] && rows=(10000 100000)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${rows[@]}"; do
  "$build/bench_table" "$scratch/table-$n" 768 "$n"
  "$build/bench_sqlite" --dir "$scratch" --n "$n" --dim 768 --queries 20 --limit 10
  rm -rf "$scratch"/*
done
