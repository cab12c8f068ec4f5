#!/usr/bin/env bash
# Issue 14's headline table in one run: aether's vector table at 1M x 768 and
# LanceDB on the same data, one after the other (docs/BENCHMARKS.md, "Session 24").
#
#   bench/engine_vs_lancedb.sh DATA SCRATCH [ANCHORS]
#
# DATA     directory with d768_n1m.{base,query}.fvecs and .gt.ivecs (the anchors'
#          gen_data.py --dim 768 --n 1000000 --name d768_n1m --out DATA)
# SCRATCH  where the table is built (SCRATCH/t1m) and the fresh ingest tables go
# ANCHORS  a directory holding ../shared/anchors/*.mjs and package.json after
#          `npm install`, whose ../data is DATA; omitted: LanceDB is not run
#
# aether: one ingest + build + search (when SCRATCH/t1m is missing), 3 index
# rebuilds (--reindex: build time and peak RSS), 3 paired runs (table path and
# bare index query by query), the cold child under no / fadvise / drop_caches
# eviction (5 runs each; drop needs root), 3 ingests into fresh tables.
# LanceDB: ingest, IVF_PQ with 1,000 partitions, a search sweep, its cold child
# under the same three evictions.  Every figure is a JSON line on stdout;
# the load average is printed before each step.
set -euo pipefail
DATA=${1:?DATA}
SCRATCH=${2:?SCRATCH}
ANCHORS=${3:-}
HERE=$(cd "$(dirname "$0")/.." && pwd)
B=$HERE/build/aether-bench
D=$DATA/d768_n1m
T=$SCRATCH/t1m
A=(--base "$D.base.fvecs" --query "$D.query.fvecs" --gt "$D.gt.ivecs")
step() { echo "== $* $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2; }

if [ ! -d "$T/table-vectors" ]; then
    step "first build"
    "$B" "${A[@]}" --store table --dir "$T" --passes 3
fi
for r in 1 2 3; do
    step "reindex $r"
    /usr/bin/time -f "time wall=%e user=%U sys=%S maxrss=%MKB" \
        "$B" "${A[@]}" --store table --dir "$T" --reindex --passes 3
done
for r in 1 2 3; do
    step "paired $r"
    "$B" "${A[@]}" --store table --dir "$T" --passes 3 --paired
done
evictions="none fadvise"
[ "$(id -u)" = 0 ] && evictions="$evictions drop"
for ev in $evictions; do
    step "cold $ev"
    "$B" --cold-bench "$T/table-vectors" --query "$D.query.fvecs" --evict "$ev" --runs 5
done
for r in 1 2 3; do
    step "ingest $r"
    rm -rf "$SCRATCH/ing"
    "$B" "${A[@]}" --store table --dir "$SCRATCH/ing" --ingest-only
done
rm -rf "$SCRATCH/ing"

[ -n "$ANCHORS" ] || exit 0
cd "$ANCHORS"
step "lancedb ingest"
node bench_lancedb.mjs --data d768_n1m --phase ingest
step "lancedb index"
node bench_lancedb.mjs --data d768_n1m --phase index --parts 1000 --tag parts1000
step "lancedb search"
node bench_lancedb.mjs --data d768_n1m --phase search --nprobes 20,32,48,64 --refine 20
for ev in $evictions; do
    step "lancedb cold $ev"
    "$B" --cold-bench "$DATA/lancedb/d768_n1m.lance" --evict "$ev" --runs 5 \
        --cmd node "$ANCHORS/coldopen_lancedb.mjs" --data d768_n1m --table d768_n1m \
        --nprobes 32 --refine 20
done
step "end"
