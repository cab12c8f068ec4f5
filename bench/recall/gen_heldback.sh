#!/bin/sh
# Held-back data sets for the recall table of docs/BENCHMARKS.md ("Recall on
# held-back sets"): the anchors' generator (../shared/anchors/gen_data.py) at
# seeds, dimensions and a noise level the defaults were never tuned on (they
# were chosen on the published seed 20240601 at dim 768).
#
#   bench/recall/gen_heldback.sh [OUT_DIR] [GEN_DATA_PY]      (default /work/data)
#
# The "loose" set is the same model with GEN_NOISE=2.0 instead of 1.3: every
# point sits farther from its cluster centre, so clusters overlap more (less
# clustered; the IVF partitions cut through more neighbourhoods).  The
# generator's meta.json does not record GEN_* variables, so this script writes
# NAME.env beside it.  Runs one set at a time (each holds its base in RAM:
# 1M x 768 is ~3 GB plus ~1 GB of temporaries).
set -eu
out=${1:-/work/data}
gen=${2:-$(dirname "$0")/../../../shared/anchors/gen_data.py}
[ -f "$gen" ] || gen=/work/shared/anchors/gen_data.py
py=/usr/bin/python3
one() { # NAME ENV ARGS...
    name=$1 env=$2
    shift 2
    if [ -f "$out/$name.meta.json" ]; then echo "have $name"; return; fi
    echo "${env:-(published knobs)}" >"$out/$name.env"
    env $env nice -n 10 "$py" "$gen" --out "$out" --name "$name" "$@"
}
one d768_s2_n100k "" --dim 768 --n 100000 --seed 2
one d384_s3_n100k "" --dim 384 --n 100000 --seed 3
one d1024_s4_n100k "" --dim 1024 --n 100000 --seed 4
one d768_s5loose_n100k "GEN_NOISE=2.0" --dim 768 --n 100000 --seed 5
one d768_s1_n1m "" --dim 768 --n 1000000 --seed 1 --also-prefix 100000:d768_s1_n100k
