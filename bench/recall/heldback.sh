#!/bin/sh
# The held-back recall table of docs/BENCHMARKS.md: for each data set, the
# table path (`aether-bench --store table`, ingest + index build + queries
# through the VectorStore) at the static defaults (nprobe 24, refine 20) and
# at what the build's own tuner recorded (nprobe 0 / refine 0: the setting in
# the manifest's "tuned" record, what a search without options uses).  The
# index_state field carries the tuner's pick and the recall it measured on
# 128 of the table's rows; recall10 is the truth on the set's 1,000 held-back
# queries.
#
#   bench/recall/heldback.sh BUILD_DIR DATA_DIR SCRATCH_DIR SET...   > results.jsonl
set -eu
build=$1 data=$2 scratch=$3
shift 3
for s in "$@"; do
    args="--store table --base $data/$s.base.fvecs --query $data/$s.query.fvecs --gt $data/$s.gt.ivecs --dir $scratch/$s"
    echo "== $s $(cat /proc/loadavg)" >&2
    # shellcheck disable=SC2086
    "$build/aether-bench" $args --rebuild --nprobe 24 --refine 20 | sed "s/^{/{\"set\":\"$s\",/"
    # shellcheck disable=SC2086
    "$build/aether-bench" $args --nprobe 0 --refine 0 | sed "s/^{/{\"set\":\"$s\",\"tuned\":true,/"
done
