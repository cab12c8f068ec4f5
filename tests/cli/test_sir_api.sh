#!/usr/bin/env bash
# The SIR status and history API (include/aether/sir.h) with nothing but the public headers:
# build examples/sir_history.c against libaether.a, run it on a workspace outside and inside
# git, and check what it reports against meta.sqlite and `git rev-parse HEAD`.
. "$(dirname "$0")/lib.sh"
flags=""
grep -q "AE_SANITIZE:BOOL=ON" "$AE_BUILD_DIR/CMakeCache.txt" && flags="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $flags -I"$AE_SOURCE_DIR/include" "$AE_SOURCE_DIR/examples/sir_history.c" \
  "$AE_BUILD_DIR/libaether.a" $(pkg-config --libs sqlite3 jansson libcurl openblas) -lm -lpthread \
  -o "$TMP/sir_history" && ok "example builds with the public headers only" || fail "example build"
sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$WS/.aether/meta.sqlite" "$1"; }

WS=$(new_workspace ws ws_small)
expect_exit 0 "$TMP/sir_history" "$WS" "parseConfig" || true
ID=$(head -1 <<<"$OUT" | awk '{print $2}' | tr -d ':')
[ "$(sql "SELECT name FROM symbols WHERE id='$ID'")" = parseConfig ] && ok "the match's id" || fail "id $ID: $OUT"
HASH=$(sql "SELECT sir_hash FROM sir WHERE id='$ID'")
contains "$OUT" "$ID: has a SIR, status fresh, last error none" && ok "info: fresh SIR" || fail "output: $OUT"
contains "$OUT" "version 1 by static/static-v1" && ok "info: version, provider, model" || fail "output: $OUT"
[ "$(grep -c '^v' <<<"$OUT")" -eq 1 ] && contains "$OUT" "v1 $HASH static/static-v1" && contains "$OUT" "commit null" \
  && ok "history: one version, no commit outside git" || fail "output: $OUT"

WS=$(new_workspace gitws ws_small)
git -C "$WS" init -q -b main && git -C "$WS" -c user.email=t@e -c user.name=t add -A \
  && git -C "$WS" -c user.email=t@e -c user.name=t commit -qm one
expect_exit 0 "$TMP/sir_history" "$WS" "parseConfig" || true
contains "$OUT" "commit $(git -C "$WS" rev-parse HEAD)" && ok "history: commit_hash is git HEAD" || fail "output: $OUT"
expect_exit 1 "$TMP/sir_history" "$WS" "zzzznothing" || true
contains "$ERR" "no symbol matches" && ok "no match" || fail "stderr: $ERR"
finish
