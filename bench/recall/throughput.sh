#!/bin/sh
# Two cores for throughput (docs/BENCHMARKS.md, "Two threads on one table"):
# queries/s and CPU time per query on one table at 1 thread, 2 threads on one
# VectorStore handle, 2 threads with a handle each, and 2 processes (one
# thread each, started together), through `aether-bench --query-threads`.
# The table is the one `aether-bench --store table` left in SCRATCH/SET
# (bench/recall/heldback.sh makes them).  One JSON line per run; the 2-process
# runs are tagged "procs":2 and "proc":0|1.
#
#   bench/recall/throughput.sh BUILD_DIR DATA_DIR SCRATCH_DIR SET [SECONDS] [REPEATS]
set -eu
build=$1 data=$2 scratch=$3 s=$4 secs=${5:-10} reps=${6:-3}
b="$build/aether-bench --store table --base $data/$s.base.fvecs --query $data/$s.query.fvecs --gt $data/$s.gt.ivecs --dir $scratch/$s --seconds $secs"
tag() { sed "s/^{/{\"set\":\"$s\",$1/"; }
r=0
while [ "$r" -lt "$reps" ]; do
    $b --query-threads 1 | tag ""
    $b --query-threads 2 --handles shared | tag ""
    $b --query-threads 2 --handles own | tag ""
    $b --query-threads 1 >"$scratch/tp.0" &
    p0=$!
    $b --query-threads 1 >"$scratch/tp.1" &
    p1=$!
    wait $p0 $p1
    tag '"procs":2,"proc":0,' <"$scratch/tp.0"
    tag '"procs":2,"proc":1,' <"$scratch/tp.1"
    r=$((r + 1))
done
rm -f "$scratch/tp.0" "$scratch/tp.1"
