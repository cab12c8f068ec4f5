#!/usr/bin/env bash
# The C library is usable with nothing but include/aether/: build the example
# against libaether.a and run it on a workspace.
. "$(dirname "$0")/lib.sh"
flags=""
grep -q "AE_SANITIZE:BOOL=ON" "$AE_BUILD_DIR/CMakeCache.txt" && flags="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $flags -I"$AE_SOURCE_DIR/include" "$AE_SOURCE_DIR/examples/search.c" \
  "$AE_BUILD_DIR/libaether.a" $(pkg-config --libs sqlite3 jansson libcurl openblas) -lm -lpthread \
  -o "$TMP/search" && ok "example builds with the public headers only" || fail "example build"
WS=$(new_workspace ws ws_small)
expect_exit 0 "$TMP/search" "$WS" "oauth refresh token" || true
contains "$OUT" "mode hybrid" && contains "$OUT" "SessionStore::refresh_token" && ok "example indexes and searches" || fail "example output: $OUT"
expect_exit 0 "$TMP/search" "$WS" "parseConfig" || true
contains "$OUT" "(0 files changed)" && ok "second run is incremental" || fail "second run: $OUT"
expect_exit 1 "$TMP/search" "$TMP/nope" "x" || true
contains "$ERR" "nope" && ok "errors name the path" || fail "error: $ERR"

# The admin API (include/aether/admin.h) is as usable: status, fsck, export.
cc -std=c11 -Wall -Wextra -Werror $flags -I"$AE_SOURCE_DIR/include" "$AE_SOURCE_DIR/examples/admin.c" \
  "$AE_BUILD_DIR/libaether.a" $(pkg-config --libs sqlite3 jansson libcurl openblas) -lm -lpthread \
  -o "$TMP/admin" && ok "admin example builds with the public headers only" || fail "admin example build"
expect_exit 0 "$TMP/admin" "$WS" || true
contains "$OUT" "backend lancedb, 1 tables" && contains "$OUT" "fsck: 0 problems" &&
  contains "$OUT" "export: " && ! contains "$OUT" "export: 0 embeddings" && ok "admin example: status, fsck, export" || fail "admin example: $OUT $ERR"

# The symbol listing (include/aether/symbols.h): every symbol once, in file and
# line order, with its SIR; the filters as in search.
cc -std=c11 -Wall -Wextra -Werror $flags -I"$AE_SOURCE_DIR/include" "$AE_SOURCE_DIR/examples/symbols.c" \
  "$AE_BUILD_DIR/libaether.a" $(pkg-config --libs sqlite3 jansson libcurl openblas) -lm -lpthread \
  -o "$TMP/symbols" && ok "symbols example builds with the public headers only" || fail "symbols example build"
expect_exit 0 "$TMP/symbols" "$WS" || true
total=$(sqlite3 "$WS/.aether/meta.sqlite" "SELECT COUNT(*) FROM symbols" 2>/dev/null || python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM symbols').fetchone()[0])" "$WS/.aether/meta.sqlite")
contains "$OUT" "$total symbols, $total with a SIR" && ok "listing: all $total symbols, each with its SIR" || fail "listing: $OUT"
printf '%s\n' "$OUT" | sed '$d' | cut -d' ' -f1 | python3 -c "
import sys
keys = [(l.split(':')[0], int(l.split(':')[1].split('-')[0])) for l in sys.stdin.read().split()]
assert keys == sorted(keys), keys
" && ok "listing in file and line order" || fail "listing order: $OUT"
expect_exit 0 "$TMP/symbols" "$WS" python pkg/ || true
contains "$OUT" "pkg/auth.py:" && contains "$OUT" "SessionStore::refresh_token" && ! contains "$OUT" ".rs:" && ! contains "$OUT" ".ts:" &&
  ok "language and path filters" || fail "filtered listing: $OUT"
expect_exit 0 "$TMP/symbols" "$WS" cobol || true
contains "$OUT" "0 symbols" && ok "a filter matching nothing lists nothing" || fail "empty filter: $OUT"
finish
