#!/usr/bin/env bash
# A release library reads no test hook from the environment (docs/TESTING.md,
# "Test hooks"): none of the hooks' variable names is in libaether.a of a
# release build, and no object but the configuration readers calls getenv.
# Usage: scripts/check-test-hooks.sh [BUILD_DIR]   (a `make all` tree)
set -euo pipefail
cd "$(dirname "$0")/.."
lib="${1:-build}/libaether.a"
[ -f "$lib" ] || { echo "check-test-hooks: $lib not found (run make all)"; exit 1; }
if grep -Eq '^(AE_SANITIZE|AE_TEST_HOOKS):BOOL=ON' "${1:-build}/CMakeCache.txt" 2>/dev/null; then
  echo "check-test-hooks: ${1:-build} is a test build"; exit 1
fi
status=0
for name in AE_FAULT AE_MIGRATE_KILL_AFTER_BATCH AE_MIGRATE_BATCH_ROWS AETHER_INDEX_MIN_ROWS \
            AE_WATCH_MAX_WATCHES AE_WATCH_OVERFLOW_EVERY AE_SQLITE_FULL_AT AE_INDEX_PUBLISH_DELAY_MS \
            AE_RETRAIN_STAGE_DELAY_MS AE_RETRAIN_PUBLISH_DELAY_MS; do
  if strings "$lib" | grep -qx "$name"; then
    echo "check-test-hooks: $name is read by the release library"; status=1
  fi
done
# getenv is for configuration only: HTTP timeouts and proxies, API keys (util/http.c),
# the ctags binary (symbols/extract.c) and PATH, to find the container runtime of
# `--verify` (checks/verify_commands.c), and OpenBLAS's own OPENBLAS_CORETYPE, read so that a
# user's choice of kernels is never overridden (util/blas.c note 4).
allowed='^(http\.c\.o|extract\.c\.o|verify_commands\.c\.o|blas\.c\.o)$'
for obj in $(nm -A "$lib" 2>/dev/null | awk '$NF == "getenv" && $(NF-1) == "U" {print $1}' |
             sed 's/.*:\([^:]*\.o\):$/\1/' | sort -u); do
  if ! [[ "$obj" =~ $allowed ]]; then
    echo "check-test-hooks: $obj calls getenv"; status=1
  fi
done
[ $status -eq 0 ] && echo "check-test-hooks: release library reads no test hook"
exit $status
