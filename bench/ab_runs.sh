#!/usr/bin/env bash
# Before/after a change, in one run on one machine: two aether-bench binaries
# take turns (A B A B ...) on the same data, each run a fresh process that
# builds the index (--rebuild) and answers the queries, for the matrix path
# (the index over an mmapped matrix) and the table path (vector table +
# VectorStore, as the CLI).  Prints per binary and path the median of each
# figure and the after/before ratio of the medians.
#   bench/ab_runs.sh BEFORE AFTER DATA_PREFIX [RUNS] [SCRATCH]
#   e.g. bench/ab_runs.sh /tmp/aether-bench-before build/aether-bench /work/data/d768_n100k 5
set -euo pipefail
before=$1 after=$2 d=$3 runs=${4:-5} scratch=${5:-$(mktemp -d)}
out="$scratch/runs.jsonl"
: >"$out"
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg), $runs runs each"
for r in $(seq 1 "$runs"); do
  for path in matrix table; do
    for which in before after; do
      bin=$before
      [ "$which" = after ] && bin=$after
      args=(--base "$d.base.fvecs" --query "$d.query.fvecs" --gt "$d.gt.ivecs"
            --dir "$scratch/$which-$path" --rebuild --nprobe 24 --refine 20)
      [ "$path" = table ] && args+=(--store table)
      t0=$(date +%s.%N)
      line=$("$bin" "${args[@]}" 2>/dev/null | grep '^{' | tail -1)
      t1=$(date +%s.%N)
      echo "{\"which\":\"$which\",\"path\":\"$path\",\"run\":$r,\"wall_s\":$(echo "$t1 - $t0" | bc),\"r\":$line}" >>"$out"
    done
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = ["build_s", "ingest_s", "p50_ms", "p95_ms", "recall10", "cold_first_query_ms", "wall_s"]
print("| path | figure | before (median) | after (median) | after/before |")
print("|---|---|---:|---:|---:|")
for path in ["matrix", "table"]:
    for k in keys:
        med = {}
        for w in ["before", "after"]:
            v = [(r["wall_s"] if k == "wall_s" else r["r"].get(k)) for r in rows
                 if r["which"] == w and r["path"] == path]
            v = [x for x in v if x is not None]
            med[w] = statistics.median(v) if v else None
        if med["before"] is None: continue
        ratio = med["after"] / med["before"] if med["before"] else float("nan")
        print(f"| {path} | {k} | {med['before']:.4g} | {med['after']:.4g} | {ratio:.3f} |")
PY
