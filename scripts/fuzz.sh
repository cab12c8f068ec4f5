#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a
# bounded time over a scratch copy of its seed corpus:
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 30; CI uses a few)
# A crash, leak or sanitizer report fails the run; the reproducer is kept in
# build-fuzz/artifacts/ and becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAE_FUZZ=ON -DAE_TESTS=OFF >/dev/null
# Build output only on failure, so a compile error is visible in the CI log.
if ! out=$(cmake --build build-fuzz -j "$(nproc)" 2>&1); then
  echo "$out" | tail -40; echo "fuzz: build failed"; exit 1
fi
mkdir -p build-fuzz/artifacts
total_execs=0
status=0
for bin in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$bin"); corpus_name=${name#fuzz_}
  # fuzz_ivfpq_file -> corpus/ivfpq, fuzz_ctags_json -> corpus/ctags ...
  seeds=""
  for c in "$corpus_name" "${corpus_name%_*}"; do
    [ -d "tests/fuzz/corpus/$c" ] && { seeds="tests/fuzz/corpus/$c"; break; }
  done
  work=$(mktemp -d)
  [ -n "$seeds" ] && cp -R "$seeds/." "$work/"
  log=build-fuzz/artifacts/$name.log
  if "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="build-fuzz/artifacts/$name-" "$work" >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -z "$execs" ] && execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    echo "fuzz: $name: ${execs:-?} executions in ${seconds}s, no findings"
    total_execs=$((total_execs + ${execs:-0}))
  else
    echo "fuzz: $name: FAILED (see $log)"; tail -30 "$log"; status=1
  fi
  rm -rf "$work"
done
echo "fuzz: $total_execs executions in total"
exit $status
