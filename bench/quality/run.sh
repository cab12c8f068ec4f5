#!/usr/bin/env bash
# The retrieval-quality benchmark end to end (docs/QUALITY.md): build each corpus,
# index it with `aetherd --index-once`, run every query in every mode plus the
# BM25 baseline with aether-quality.
#
#   bench/quality/run.sh [--build DIR] [--out DIR] [--corpus all|stdlib|js|lodash|three|PATH]
#                        [--lang python|javascript] [--queries N] [--seed S]
#                        [--subset a,b/c.py] [--config FILE] [--modes lexical,semantic,hybrid]
#                        [--reuse] [--exact] [--nprobe N] [--refine N]
#
#   --build   build directory with aetherd and aether-quality (default: build)
#   --out     where corpora and results go (default: BUILD/quality)
#   --corpus  stdlib (/usr/lib/python3.11), js (the npm packages lodash and
#             three's src/ side by side, installed by npm ci from
#             bench/quality/package-lock.json), all (stdlib and js; the default),
#             lodash or three alone, or a source tree PATH (language from --lang,
#             default python)
#   --queries queries drawn per corpus (default 400); --seed the draw's seed (default 16)
#   --subset  keep only these paths of the corpus (e.g. email,json or lodash,three/math)
#   --reuse   keep an existing corpus built with the same arguments and its index
#             (aetherd --index-once then only does what changed, e.g. re-embeds
#             after an embedding provider or model change)
#   --exact   semantic search by exact scan, bypassing any vector index (also
#             --nprobe N, --refine N: passed to aether-quality as to aetherd)
#   --config  a .aether/config.toml to index and search with (default: the
#             workspace defaults, i.e. static SIRs and hash embeddings); e.g. one
#             that points [embeddings] at an Ollama or OpenAI-compatible server
#
# Prints each corpus's table and a QUALITY_JSON line; OUT/NAME/results.json holds it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/../.." && pwd)
build=build out="" corpus=all lang=python queries=400 seed=16 subset="" config="" reuse=0
modes=lexical,semantic,hybrid qargs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --lang) lang=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --subset) subset=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    --exact) qargs+=(--exact); shift ;;
    --nprobe | --refine) qargs+=("$1" "$2"); shift 2 ;;
    -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$build" in /*) ;; *) build="$src_root/$build" ;; esac
[ -n "$out" ] || out="$build/quality"
mkdir -p "$out"
out=$(cd "$out" && pwd)
for prog in aetherd aether-quality; do
  [ -x "$build/$prog" ] || { echo "run.sh: $build/$prog not found: build first (make all)" >&2; exit 1; }
done
if [ -n "$config" ]; then
  [ -f "$config" ] || { echo "run.sh: config file $config not found" >&2; exit 1; }
  config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
fi

# The npm corpora's sources, installed from the lockfile into bench/quality/node_modules
# (again only when a locked version is missing).
npm_trees() {
  local stale
  stale=$(python3 - "$here" <<'PY'
import json, os, sys
here = sys.argv[1]
lock = json.load(open(os.path.join(here, "package-lock.json")))["packages"]
for key, v in lock.items():
    if not key.startswith("node_modules/"):
        continue
    try:
        have = json.load(open(os.path.join(here, key, "package.json")))["version"]
    except (OSError, ValueError, KeyError):
        have = None
    if have != v["version"]:
        print(key)
PY
)
  if [ -n "$stale" ]; then
    command -v npm >/dev/null 2>&1 || { echo "run.sh: npm not found; it installs the corpora's npm packages (scripts/install-deps.sh)" >&2; return 1; }
    (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 ||
      { echo "run.sh: npm ci in $here failed (no registry access?)" >&2; return 1; }
  fi
}

# run_one NAME LANG [NAME=]SOURCE...
run_one() {
  local name=$1 l=$2 dir="$out/$1"
  shift 2
  local srcargs=() s
  for s in "$@"; do srcargs+=(--source "$s"); done
  local args=(--lang "$l" "${srcargs[@]}" --out "$dir" --n "$queries" --seed "$seed" ${subset:+--subset "$subset"})
  echo "== $name: $l corpus from $*, $queries queries, seed $seed" >&2
  if [ "$reuse" = 1 ] && [ -f "$dir/build-args" ] && [ "$(cat "$dir/build-args")" = "${args[*]}" ] &&
    [ -d "$dir/corpus/.aether" ]; then
    echo "reusing $dir/corpus and its index" >&2
  else
    rm -f "$dir/build-args"
    python3 "$here/build_corpus.py" "${args[@]}"
    echo "${args[*]}" >"$dir/build-args"
    # Its own git work tree: aetherd lists files with git when the corpus sits inside
    # another one (e.g. under this repo's ignored build/), which would list nothing.
    if command -v git >/dev/null 2>&1; then git -C "$dir/corpus" init -q; fi
  fi
  if [ -n "$config" ]; then
    mkdir -p "$dir/corpus/.aether"
    cp "$config" "$dir/corpus/.aether/config.toml"
  fi
  local t0 t1
  t0=$(date +%s.%N)
  "$build/aetherd" --workspace "$dir/corpus" --index-once
  t1=$(date +%s.%N)
  echo "index: $(python3 -c "print(f'{$t1 - $t0:.1f}')") s" >&2
  "$build/aether-quality" --workspace "$dir/corpus" --queries "$dir/queries.jsonl" \
    --label "$name" --modes "$modes" --json-out "$dir/results.json" --per-query "$dir/per-query.jsonl" \
    ${qargs[@]+"${qargs[@]}"}
}

nm="$here/node_modules"
case "$corpus" in
  stdlib) run_one stdlib python /usr/lib/python3.11 ;;
  js) npm_trees; run_one js javascript "lodash=$nm/lodash" "three=$nm/three/src" ;;
  lodash) npm_trees; run_one lodash javascript "$nm/lodash" ;;
  three) npm_trees; run_one three javascript "$nm/three/src" ;;
  all)
    npm_trees
    run_one stdlib python /usr/lib/python3.11
    run_one js javascript "lodash=$nm/lodash" "three=$nm/three/src"
    ;;
  *)
    [ -d "$corpus" ] || { echo "run.sh: --corpus $corpus: not all, stdlib, js, lodash, three or a directory" >&2; exit 2; }
    run_one "$(basename "$corpus")" "$lang" "$corpus"
    ;;
esac
