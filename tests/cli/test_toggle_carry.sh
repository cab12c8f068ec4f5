#!/usr/bin/env bash
# The vector_backend toggle carries every row, both ways: pipeline-written
# rows, rows imported with --import-embeddings (for ids that are symbols and
# for ids that are not), and deletions made while the other backend was
# active.  After each switch the new backend's export equals the old one's.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"

W=$(new_workspace w ws_small)
mkdir -p "$W/.aether"
backend() { printf '[embeddings]\nprovider = "mock"\nvector_backend = "%s"\n' "$1" >"$W/.aether/config.toml"; }
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(map(str,x)) for x in r))' "$W/.aether/meta.sqlite" "$1"; }

# rows: the export as sorted "id hash provider model v0 v1 ..." lines (6 decimals).
rows() {
  "$AETHERD" --workspace "$W" --export-embeddings - 2>/dev/null | python3 -c '
import json, sys
out = []
for line in sys.stdin:
    d = json.loads(line)
    out.append(" ".join([d["symbol_id"], d["sir_hash"], d["provider"], d["model"]] + ["%.6f" % x for x in d["embedding"]]))
print("\n".join(sorted(out)))'
}
ids() { rows | cut -d" " -f1; }

# imp FILE ID HASH SEED...: JSON lines of 64-dimensional mock vectors.
imp() {
  local f=$1; shift
  python3 - "$@" >"$f" <<'PY'
import json, random, sys
a = sys.argv[1:]
for i in range(0, len(a), 3):
    r = random.Random(int(a[i + 2]))
    print(json.dumps({"symbol_id": a[i], "sir_hash": a[i + 1], "provider": "mock", "model": "mock-64d",
                      "embedding": [r.uniform(-1, 1) for _ in range(64)]}))
PY
}
: >"$TMP/empty.jsonl"

# --- lancedb: index, then import rows for two non-symbols and one symbol -----
backend lancedb
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
n0=$(ids | wc -l)
SYM=$(sql "SELECT id FROM sir ORDER BY id LIMIT 1")
SYMHASH=$(sql "SELECT sir_hash FROM sir WHERE id='$SYM'")
A=$(printf 'a%.0s' {1..64}); B=$(printf 'b%.0s' {1..64})
imp "$TMP/l.jsonl" "$A" h-aaaa 1 "$B" h-bbbb 2 "$SYM" "$SYMHASH" 3
expect_exit 0 "$AETHERD" --workspace "$W" --import-embeddings "$TMP/l.jsonl" || true
L1=$(rows)
[ "$(echo "$L1" | wc -l)" = $((n0 + 2)) ] && contains "$L1" "$A h-aaaa" && contains "$L1" "$B h-bbbb" &&
  ok "lancedb: $n0 pipeline rows + 2 imported non-symbols + 1 imported over a symbol's row" || fail "lancedb rows: $L1"

# --- switch to sqlite (a read-write open that does not index) ----------------
backend sqlite
expect_exit 0 "$AETHERD" --workspace "$W" --import-embeddings "$TMP/empty.jsonl" || true
contains "$ERR" "backend sync" && ok "lancedb -> sqlite: the switch says it synced: $(echo "$ERR" | grep -m1 'backend sync')" || fail "sync notice: $ERR"
S1=$(rows)
[ "$S1" = "$L1" ] && ok "lancedb -> sqlite: every row carried, the imported ones and their vectors included" ||
  fail "lancedb -> sqlite differs: $(diff <(echo "$L1" | cut -c1-150) <(echo "$S1" | cut -c1-150) | head)"

# --- on sqlite: pipeline writes and deletions, then imports -------------------
printf '\n// touched\nint vec_touched(int x) { return x + 1; }\n' >>"$W/src/vec.c" # new + changed rows
GONE=$(sql "SELECT id FROM symbols WHERE file_path = 'src/server.go'")
rm "$W/src/server.go" # its symbols are deleted
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
S2=$(ids)
gone_left=0
for g in $GONE; do contains "$S2" "$g" && gone_left=$((gone_left + 1)); done
[ -n "$GONE" ] && [ $gone_left = 0 ] && ok "sqlite: the deleted file's $(echo "$GONE" | wc -l) symbols left the store" ||
  fail "sqlite deletions: GONE=$GONE left=$gone_left"
C=$(printf 'c%.0s' {1..64}); D=$(printf 'd%.0s' {1..64})
imp "$TMP/s.jsonl" "$C" h-cccc 4 "$D" h-dddd 5
expect_exit 0 "$AETHERD" --workspace "$W" --import-embeddings "$TMP/s.jsonl" || true
S3=$(rows)
contains "$S3" "$C h-cccc" && contains "$S3" "$D h-dddd" && ok "sqlite: 2 more imported non-symbols" || fail "sqlite import: $S3"

# --- back to lancedb ---------------------------------------------------------
backend lancedb
expect_exit 0 "$AETHERD" --workspace "$W" --import-embeddings "$TMP/empty.jsonl" || true
L2=$(rows)
[ "$L2" = "$S3" ] && ok "sqlite -> lancedb: every row carried (imports, pipeline rows) and every deletion mirrored" ||
  fail "sqlite -> lancedb differs: $(diff <(echo "$S3" | cut -c1-150) <(echo "$L2" | cut -c1-150) | head)"
for g in $GONE; do contains "$L2" "$g" && fail "sqlite -> lancedb: deleted symbol $g is back"; done
expect_exit 0 "$AETHERD" --workspace "$W" --fsck || true
ok "lancedb after the round trip: --fsck passes"

# --- and once more to sqlite, through an index run ---------------------------
backend sqlite
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$W" --fsck || true
S4=$(rows)
# The index run prunes rows no symbol owns (imported non-symbols): the rest
# is what lancedb held.
want=$(echo "$L2" | grep -v "^$C \|^$D ")
[ "$S4" = "$want" ] && ok "lancedb -> sqlite through --index-once: every symbol's row carried, fsck passes" ||
  fail "second switch differs: $(diff <(echo "$want" | cut -c1-150) <(echo "$S4" | cut -c1-150) | head)"
finish
