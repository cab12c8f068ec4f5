# Shared helpers for CLI tests (sourced).  Each test runs in its own temp dir.
set -euo pipefail
: "${AE_SOURCE_DIR:?set by ctest}" "${AE_BUILD_DIR:?set by ctest}"
AETHERD="$AE_BUILD_DIR/aetherd"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# new_workspace NAME FIXTURE -> path of a fresh copy of tests/fixtures/FIXTURE
new_workspace() {
  local ws="$TMP/$1"
  mkdir -p "$ws"
  cp -R "$AE_SOURCE_DIR/tests/fixtures/$2/." "$ws/"
  echo "$ws"
}

# expect_exit CODE CMD... : runs CMD, captures stdout/stderr into $OUT/$ERR
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  set -e
  OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
  if [ "$got" -ne "$want" ]; then
    fail "exit $got, wanted $want: $*"; echo "--- stdout"; echo "$OUT"; echo "--- stderr"; echo "$ERR"
    return 1
  fi
  return 0
}

# need_test_hooks: AE_FAULT, AE_MIGRATE_KILL_AFTER_BATCH, AETHER_INDEX_MIN_ROWS
# are read only by test builds (AE_TESTING); elsewhere the test is skipped.
need_test_hooks() {
  if ! grep -Eq '^(AE_SANITIZE|AE_TEST_HOOKS):BOOL=ON' "$AE_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    echo "skipped: needs a test build (-DAE_SANITIZE=ON or -DAE_TEST_HOOKS=ON) for its hooks"
    exit 77
  fi
}

contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

# same_as NAME: $OUT and $ERR (from expect_exit) equal tests/cli/expected/NAME.out
# and NAME.err exactly; a missing file means that stream must be empty.  Paths
# under $TMP read as @TMP@.  AE_UPDATE_EXPECTED=1 rewrites the files from this
# run instead (review the diff before committing it).
same_as() {
  local name=$1 dir="$AE_SOURCE_DIR/tests/cli/expected" s got want f rc=0
  for s in out err; do
    if [ "$s" = out ]; then got=$OUT; else got=$ERR; fi
    got=${got//"$TMP"/@TMP@}
    f="$dir/$name.$s"
    if [ "${AE_UPDATE_EXPECTED:-}" = 1 ]; then
      mkdir -p "$dir"
      if [ -n "$got" ]; then printf '%s\n' "$got" >"$f"; else rm -f "$f"; fi
      continue
    fi
    want=""
    [ -f "$f" ] && want=$(cat "$f")
    if [ "$got" != "$want" ]; then
      echo "--- tests/cli/expected/$name.$s differs (< expected, > got):"
      diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -40 || true
      rc=1
    fi
  done
  return $rc
}

finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
}
