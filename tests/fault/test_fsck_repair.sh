#!/usr/bin/env bash
# --fsck finds each kind of damage (and only damage: crash-shaped lag is
# "pending"), --repair fixes it without loss, and the JSON report says so.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"

sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(map(str,x)) for x in r))' "$1/.aether/meta.sqlite" "$2"; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); exec("v=d"+sys.argv[2]); print(v)' "$1" "$2"; }

WS=$(new_workspace ws ws_small)
mkdir -p "$WS/.aether"; printf '[embeddings]\nprovider = "mock"\n' >"$WS/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck && ok "no store yet: verify ok" || true
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck --output json || true
n=$(field "$OUT" '["cross_store"]["sirs_current"]')
[ "$n" -gt 0 ] && [ "$(field "$OUT" '["cross_store"]["sirs_embedded"]')" = "$n" ] &&
  [ "$(field "$OUT" '["cross_store"]["store_rows"]')" = "$n" ] && ok "indexed: $n SIRs all embedded" || fail "verify json: $OUT"

# Crash-shaped lag is pending, not a problem: a missing state row re-embeds next run.
id1=$(sql "$WS" "SELECT id FROM sir ORDER BY id LIMIT 1")
sql "$WS" "DELETE FROM embedding_state WHERE symbol_id='$id1'" >/dev/null
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck --output json && [ "$(field "$OUT" '["cross_store"]["sirs_pending"]')" = 1 ] &&
  ok "state lagging the store: pending, verify passes" || fail "lag: $OUT"

# X2: state and SIR agree on a hash the store does not hold.
id2=$(sql "$WS" "SELECT id FROM sir ORDER BY id LIMIT 1 OFFSET 1")
sql "$WS" "UPDATE sir SET sir_hash='00ff' WHERE id='$id2'" >/dev/null
sql "$WS" "UPDATE embedding_state SET sir_hash='00ff' WHERE symbol_id='$id2'" >/dev/null
# X1: the state names a provider/model the store has no row for.
id3=$(sql "$WS" "SELECT id FROM sir ORDER BY id LIMIT 1 OFFSET 2")
sql "$WS" "UPDATE embedding_state SET model='gone' WHERE symbol_id='$id3'" >/dev/null
# A vector whose symbol is gone and whose state row is gone too (what a crash
# between the pipeline's two prune steps leaves): pending, not a problem.
id4=$(sql "$WS" "SELECT id FROM sir ORDER BY id LIMIT 1 OFFSET 3")
sql "$WS" "DELETE FROM symbols WHERE id='$id4'" >/dev/null
sql "$WS" "DELETE FROM embedding_state WHERE symbol_id='$id4'" >/dev/null
# An unreferenced file in a table directory (a crashed writer's leftover).
tdir=$(ls -d "$WS"/.aether/vectors/*/ | head -1)
mkdir -p "$tdir/data"; echo junk >"$tdir/data/leftover-$$.arrow"; touch -d '2 hours ago' "$tdir/data/leftover-$$.arrow"

expect_exit 1 "$AETHERD" --workspace "$WS" --fsck || true
contains "$OUT" "fsck: problems found" && contains "$OUT" "$id2" && contains "$OUT" "$id3" &&
  ok "verify names the stale and missing embeddings" || fail "verify text: $OUT"
expect_exit 1 "$AETHERD" --workspace "$WS" --fsck --output json || true
[ "$(field "$OUT" '["ok"]')" = False ] && [ "$(field "$OUT" '["cross_store"]["problems"]')" = 2 ] &&
  [ "$(field "$OUT" '["cross_store"]["prune_pending"]')" -ge 1 ] &&
  ok "json: ok false, 2 cross-store problems, the untracked vector pending" || fail "verify json problems: $OUT"

expect_exit 0 "$AETHERD" --workspace "$WS" --repair --output json || true
[ "$(field "$OUT" '["ok"]')" = True ] && [ "$(field "$OUT" '["reembedded"]')" = 2 ] &&
  ok "repair: re-embedded 2; the untracked vector is gone (a read-write open syncs it away)" || fail "repair json: $OUT"
[ "$(field "$OUT" '["orphan_files_removed"]')" -ge 1 ] && [ ! -e "$tdir/data/leftover-$$.arrow" ] &&
  ok "repair removed the unreferenced file" || fail "orphan file: $OUT"
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck --output json || true
[ "$(field "$OUT" '["cross_store"]["sirs_pending"]')" = 0 ] &&
  [ "$(field "$OUT" '["cross_store"]["sirs_embedded"]')" = "$(field "$OUT" '["cross_store"]["sirs_current"]')" ] &&
  ok "after repair: every current SIR has its embedding" || fail "after repair: $OUT"
expect_exit 0 "$AETHERD" --workspace "$WS" --repair || true
contains "$OUT" "repair: nothing to do" && ok "second repair: nothing to do" || fail "second repair: $OUT"

# A corrupt meta.sqlite: verify fails; repair refuses to touch it.
cp "$WS/.aether/meta.sqlite" "$TMP/good.sqlite"
python3 - "$WS/.aether/meta.sqlite" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
for off in range(4096 + 100, min(len(b), 4096 * 3), 7): b[off] ^= 0x5a
open(p, "wb").write(b)
PY
rm -f "$WS/.aether/meta.sqlite-wal" "$WS/.aether/meta.sqlite-shm"
expect_exit 1 "$AETHERD" --workspace "$WS" --fsck || true
ok "corrupt meta.sqlite: verify exits 1"
expect_exit 1 "$AETHERD" --workspace "$WS" --repair || true
finish
