#!/usr/bin/env bash
# Migration and backend toggle (issue 6), end to end through aetherd:
#   legacy workspace on sqlite -> first run on lancedb migrates every row,
#   searches before/after are identical; SIGKILL mid-migration then rerun gives
#   exactly N rows; lancedb -> sqlite -> lancedb with edits and index runs in
#   between loses nothing; --migrate-vectors reports tables and malformed ids.
. "$(dirname "$0")/lib.sh"
need_test_hooks # AE_FAULT & co. exist in test builds only

WS=$(new_workspace ws ws_small)
CFG="$WS/.aether/config.toml"
DB="$WS/.aether/meta.sqlite"

sql() { python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
c.commit()
PY
}

set_backend() {
  sed -i "s/^vector_backend = .*/vector_backend = \"$1\"/" "$CFG"
  grep -q "^vector_backend = \"$1\"" "$CFG" || fail "config not switched to $1"
}

# Ids and rounded scores of a semantic search, one line each.
semantic() {
  "$AETHERD" --workspace "$WS" --search "$1" --search-mode semantic --search-limit 15 \
    --output json 2>"$TMP/search_err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["mode_used"] == "semantic", d
for m in d["matches"]:
    print(m["symbol_id"], "%.4f" % m["semantic_score"])'
}

search_all() { for q in "parse config" "cache lookup" "server handler" "user"; do echo "# $q"; semantic "$q"; done; }

# same_results A B: per query the same ids with the same scores (1e-4), in the
# same order except among scores equal to that tolerance.
same_results() { python3 - "$1" "$2" <<'PY'
import sys
def load(p):
    out, cur = {}, None
    for line in open(p):
        if line.startswith("# "): cur = out.setdefault(line[2:].strip(), [])
        else:
            i, s = line.split(); cur.append((i, float(s)))
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys() and a, (a.keys(), b.keys())
for q in a:
    x, y = a[q], b[q]
    assert len(x) == len(y) and x, (q, x, y)
    assert all(abs(p[1] - r[1]) <= 1e-4 for p, r in zip(x, y)), (q, x, y)
    sx, sy = dict(x), dict(y)
    assert sx.keys() == sy.keys(), (q, x, y)
    assert all(abs(sx[k] - sy[k]) <= 1e-4 for k in sx), (q, x, y)
PY
}

# Every current SIR has its embedding in the backend ($1): counted from the
# backend's own rows for sqlite, from embedding_state (written after the
# vector table committed) for lancedb.
current_in() {
  if [ "$1" = sqlite ]; then
    sql "SELECT COUNT(*) FROM sir s JOIN sir_embeddings e ON e.symbol_id = s.id AND e.sir_hash = s.sir_hash"
  else
    sql "SELECT COUNT(*) FROM sir s JOIN embedding_state e ON e.symbol_id = s.id AND e.sir_hash = s.sir_hash AND e.backend = 'lancedb'"
  fi
}

# --- a legacy workspace: embeddings only in sir_embeddings -----------------
"$AETHERD" --workspace "$WS" --index-once >/dev/null 2>&1 || true # writes the default config
rm -rf "$WS/.aether/meta.sqlite"* "$WS/.aether/vectors" "$WS/.aether/sir"
set_backend sqlite
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
N=$(sql "SELECT COUNT(*) FROM sir_embeddings")
[ "$N" -ge 10 ] && ok "legacy workspace: $N rows in sir_embeddings" || fail "legacy rows: $N"
[ ! -d "$WS/.aether/vectors" ] && ok "no vectors dir on sqlite" || fail "vectors dir exists"
search_all >"$TMP/s_sqlite"
[ -s "$TMP/s_sqlite" ] && ok "semantic search on sqlite" || fail "no semantic results: $(cat "$TMP/search_err")"

# --- switch to lancedb: a reader before the first run falls back -------------
set_backend lancedb
search_all >"$TMP/s_ro"
contains "$(cat "$TMP/search_err")" "not been migrated" && ok "reader notice: not migrated" || fail "reader notice: $(cat "$TMP/search_err")"
same_results "$TMP/s_sqlite" "$TMP/s_ro" && ok "reader falls back to sqlite, same results" || fail "reader results differ"
[ ! -e "$WS/.aether/vectors/.sqlite_migrated_v1" ] && ok "reader wrote no marker" || fail "reader wrote the marker"

# --- first run killed mid-migration, then rerun -------------------------------
set +e
AE_MIGRATE_BATCH_ROWS=3 AE_MIGRATE_KILL_AFTER_BATCH=2 "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 137 ] && ok "killed during migration" || fail "kill hook: exit $rc"
[ ! -e "$WS/.aether/vectors/.sqlite_migrated_v1" ] && ok "no marker after kill" || fail "marker after kill"
part=$(sql "SELECT COUNT(*) FROM embedding_state WHERE backend = 'lancedb'")
[ "$part" -eq 6 ] && ok "two batches committed before the kill" || fail "committed before kill: $part"
search_all >"$TMP/s_half"
same_results "$TMP/s_sqlite" "$TMP/s_half" && ok "half-migrated table not used by readers" || fail "half-migrated results differ"

expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "migration: copied $N embeddings from sqlite to lancedb" && ok "rerun migrates all $N" || fail "rerun: $ERR"
contains "$ERR" "0 embeddings written" && ok "nothing re-embedded after migration" || fail "re-embedded: $ERR"
[ -e "$WS/.aether/vectors/.sqlite_migrated_v1" ] && ok "marker written" || fail "no marker"
search_all >"$TMP/s_lance"
same_results "$TMP/s_sqlite" "$TMP/s_lance" && ok "search identical before and after migration" || { fail "search differs"; diff "$TMP/s_sqlite" "$TMP/s_lance" | head; }
[ "$(sql "SELECT COUNT(*) FROM sir_embeddings")" -eq "$N" ] && ok "sqlite rows kept" || fail "sqlite rows changed"

# --- toggle lancedb -> sqlite -> lancedb with edits ----------------------------
sed -i 's/return table.get(key)/value = table.get(key)\n    if value is None:\n        raise KeyError(key)\n    return value/' "$WS/pkg/auth.py"
cat >>"$WS/pkg/auth.py" <<'EOF'


def rotate_session_token(session, clock):
    """Issue a fresh token and expire the old one."""
    session.token = clock.now().isoformat()
    return session.token
EOF
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "2 embeddings written" && ok "lancedb: edit + new symbol embedded" || fail "lancedb edit: $ERR"
S=$(sql "SELECT COUNT(*) FROM sir")
[ "$(current_in lancedb)" -eq "$S" ] && ok "lancedb holds all $S current embeddings" || fail "lancedb current: $(current_in lancedb)/$S"
search_all >"$TMP/s_l2"

set_backend sqlite
search_all >"$TMP/s_ro2"
contains "$(cat "$TMP/search_err")" "not been synced" && ok "reader notice: sync pending" || fail "sync notice: $(cat "$TMP/search_err")"
same_results "$TMP/s_l2" "$TMP/s_ro2" && ok "reader uses the complete backend" || fail "reader results differ after switch"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "backend sync: copied 2 embeddings from lancedb to sqlite" && ok "switch to sqlite copies 2" || fail "sync to sqlite: $ERR"
contains "$ERR" "0 embeddings written" && ok "nothing re-embedded on switch" || fail "re-embedded on switch: $ERR"
[ "$(current_in sqlite)" -eq "$S" ] && ok "sqlite holds all $S current embeddings" || fail "sqlite current: $(current_in sqlite)/$S"
search_all >"$TMP/s_s2"
same_results "$TMP/s_l2" "$TMP/s_s2" && ok "same results on sqlite after switch" || { fail "results differ after switch"; diff "$TMP/s_l2" "$TMP/s_s2" | head; }

# on sqlite: edit a Go function, delete a file
sed -i 's/func /func  /' "$WS/src/server.go" 2>/dev/null || true
printf '\nfunc drainQueue(q chan int) int {\n\tn := 0\n\tfor range q {\n\t\tn++\n\t}\n\treturn n\n}\n' >>"$WS/src/server.go"
rm -f "$WS/pkg/util.py"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
S=$(sql "SELECT COUNT(*) FROM sir")
[ "$(current_in sqlite)" -eq "$S" ] && ok "sqlite: index run keeps all $S current" || fail "sqlite after edit: $(current_in sqlite)/$S"
search_all >"$TMP/s_s3"

set_backend lancedb
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "backend sync: copied" && ok "switch back to lancedb syncs" || fail "sync back: $ERR"
contains "$ERR" "0 embeddings written" && ok "nothing re-embedded switching back" || fail "re-embedded back: $ERR"
[ "$(current_in lancedb)" -eq "$S" ] && ok "lancedb holds all $S current embeddings" || fail "lancedb current: $(current_in lancedb)/$S"
search_all >"$TMP/s_l3"
same_results "$TMP/s_s3" "$TMP/s_l3" && ok "same results on lancedb after round trip" || { fail "round trip differs"; diff "$TMP/s_s3" "$TMP/s_l3" | head; }

# --- explicit command ----------------------------------------------------------
{
  sql "INSERT INTO sir_embeddings VALUES ('deadbeef-bad-json', 'h', 'hash', 'hash-v1', 384, '[1,2', 0)" >/dev/null
  sql "INSERT INTO sir_embeddings VALUES ('deadbeef-short', 'h', 'hash', 'hash-v1', 384, '[1,2,3]', 0)" >/dev/null
  expect_exit 0 "$AETHERD" --workspace "$WS" --migrate-vectors || true
  contains "$OUT" "malformed	deadbeef-bad-json	invalid JSON" && ok "malformed row reported by id" || fail "malformed report: $OUT"
  contains "$OUT" "malformed	deadbeef-short	expected 384 values" && ok "short row reported by id" || fail "short report: $OUT"
  contains "$ERR" "2 malformed skipped" && ok "summary line" || fail "summary: $ERR"
  expect_exit 0 "$AETHERD" --workspace "$WS" --migrate-vectors --output json || true
  python3 - "$OUT" "$(sql "SELECT COUNT(*) FROM sir_embeddings")" <<'PY' && ok "json report: counts per table" || fail "json report: $OUT"
import json, sys
d = json.loads(sys.argv[1]); total = int(sys.argv[2])
assert d["rows_malformed"] == 2, d
assert d["rows_migrated"] + d["rows_malformed"] + d["rows_newer_kept"] == total, d
assert sum(t["rows"] for t in d["tables"]) == d["rows_migrated"], d
assert {b["symbol_id"] for b in d["malformed"]} == {"deadbeef-bad-json", "deadbeef-short"}, d
assert d["marker_written"] is True
PY
}
finish
