#!/usr/bin/env bash
# --sir-concurrency against a slow model: aetherd --index-once on a fresh copy of a workspace of
# FILES one-function Python files, SIRs from tests/http_stub/stub.js answering every chat request
# after DELAY_MS, embeddings off.  Median wall time of RUNS runs per N; the ratio is against
# N=1 measured in the same run.
#   usage: bench/sir_concurrency.sh [BUILD_DIR] ; env FILES=64 DELAY_MS=200 RUNS=3 NS="1 2 4 8"
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
FILES=${FILES:-64} DELAY_MS=${DELAY_MS:-200} RUNS=${RUNS:-3} NS=${NS:-"1 2 4 8"}
tmp=$(mktemp -d)
node tests/http_stub/stub.js "$tmp/port" &
stub=$!
trap 'kill $stub 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")"
curl -s --noproxy '*' -X POST -d "{\"chat_delay_ms\": $DELAY_MS}" "$url/__control" >/dev/null
mkdir -p "$tmp/ws/.aether" "$tmp/ws/pkg"
for i in $(seq 1 "$FILES"); do printf 'def task_%d(x):\n    return x + %d\n' "$i" "$i" >"$tmp/ws/pkg/t$i.py"; done
printf '[inference]\nprovider = "ollama"\nmodel = "stub"\nendpoint = "%s"\n\n[embeddings]\nenabled = false\n' "$url" >"$tmp/ws/.aether/config.toml"
echo "sir-concurrency: $FILES symbols, stub reply delay ${DELAY_MS} ms, median of $RUNS runs"
printf '%-4s %10s %8s %12s\n' N seconds speedup "ideal (s)"
base=""
for n in $NS; do
  times=()
  for r in $(seq "$RUNS"); do
    rm -rf "$tmp/run" && cp -R "$tmp/ws" "$tmp/run"
    t0=$(date +%s.%N)
    AE_HTTP_RETRIES=0 "$build/aetherd" --workspace "$tmp/run" --index-once --sir-concurrency "$n" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    t1=$(date +%s.%N)
    times+=("$(python3 -c "print($t1 - $t0)")")
  done
  med=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (RUNS + 1) / 2 ))p")
  [ -z "$base" ] && base=$med
  printf '%-4s %10.2f %7.2fx %12.2f\n' "$n" "$med" "$(python3 -c "print($base / $med)")" \
    "$(python3 -c "import math; print(math.ceil($FILES / $n) * $DELAY_MS / 1000)")"
done
