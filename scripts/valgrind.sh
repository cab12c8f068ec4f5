#!/usr/bin/env bash
# Runs the CLI and MCP integration tests with every aetherd / aether-mcp
# process under valgrind memcheck.  Passes only with zero errors and zero
# definite leaks in every process.  Usage: scripts/valgrind.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/install-deps.sh installs it)"; exit 1; }
vg=$(mktemp -d)
logs="$vg/logs"; mkdir -p "$logs"
trap 'rm -rf "$vg"' EXIT
# A build directory whose programs are valgrind wrappers around the real ones.
for prog in aetherd aether-mcp; do
  cat >"$vg/$prog" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=definite --log-file="$logs/$prog.%p.log" "$build/$prog" "\$@"
WRAP
  chmod +x "$vg/$prog"
done
ln -s "$build/CMakeCache.txt" "$vg/CMakeCache.txt" 2>/dev/null || true
ln -s "$build/libaether.a" "$vg/libaether.a" 2>/dev/null || true
status=0
jobs=${VALGRIND_JOBS:-$(nproc)}
for t in tests/cli/test_cli_usage.sh tests/cli/test_index_search.sh tests/cli/test_semantic.sh \
         tests/fault/test_fsck_repair.sh tests/cli/test_reports.sh \
         tests/cli/test_vectors.sh tests/cli/test_mcp.sh tests/cli/test_lexical_fts.sh \
         tests/cli/test_embed_ppmi.sh tests/cli/test_sir_status.sh tests/cli/test_sir_concurrency.sh \
         tests/cli/test_verify.sh tests/cli/test_lsp.sh tests/cli/test_watch_sir.sh \
         tests/cli/test_watch_ppmi.sh; do
  [ -f "$t" ] || continue
  # As many tests at once as there are cores; each writes its own result file.
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  out="$vg/out.$(basename "$t")"
  ( if AE_SOURCE_DIR=$PWD AE_BUILD_DIR=$vg AE_HTTP_MAX_RETRIES=0 AE_TEST_TIMEOUT_SCALE=10 bash "$t" >"$out" 2>&1; then
      echo "valgrind: $t: passed" >"$out.result"
    else
      { echo "valgrind: $t: FAILED"; tail -20 "$out"; } >"$out.result"
    fi ) &
done
wait
for r in "$vg"/out.*.result; do
  cat "$r"
  grep -q ": FAILED" "$r" && status=1
done
procs=$(ls "$logs" | wc -l)
bad=$(grep -l . "$logs"/* 2>/dev/null || true)
if [ -n "$bad" ]; then
  echo "valgrind: reports in $(echo "$bad" | wc -l) of $procs processes:"
  for f in $bad; do echo "--- $f"; head -40 "$f"; done
  status=1
else
  echo "valgrind: $procs processes, 0 errors, 0 definite leaks"
fi
exit $status
