#!/usr/bin/env bash
# SIR status and history (reference-contract section 3) through a real aetherd against the HTTP
# stub (tests/http_stub/stub.js), in a real git repository:
#   1. a first pass: every SIR fresh, history rows carry the repository's HEAD;
#   2. the model fails for one changed symbol: SIR_STALE with the error, the old SIR and its
#      hash kept, the row stale with last_error and last_attempt_at; the pass itself succeeds;
#   3. a new symbol whose first generation fails: a placeholder row (no SIR, stale), no
#      embedding, no mirror;
#   4. the model recovers: the next pass (no file touched) retries exactly the stale symbols,
#      SIR_STORED, fresh again, a new history version with the new HEAD;
#   5. the same workspace outside git: commit_hash is NULL.
#   6. an existing workspace of the previous schema (no status columns) upgrades in place.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { echo "FAIL: node is required (scripts/install-deps.sh installs it)"; exit 1; }
command -v git >/dev/null || { echo "FAIL: git is required (scripts/install-deps.sh installs it)"; exit 1; }

node "$AE_SOURCE_DIR/tests/http_stub/stub.js" "$TMP/port" &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || { echo "FAIL: stub did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/port")"
control() { curl -s --noproxy '*' -X POST -d "$1" "$URL/__control" >/dev/null; }
stat_of() { curl -s --noproxy '*' "$URL/__stats" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
sql() { python3 -c "
import sqlite3,sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print('' if r is None else '|'.join('NULL' if v is None else str(v) for v in r))" "$WS/.aether/meta.sqlite" "$1"; }
export AE_HTTP_RETRIES=0 AE_HTTP_BACKOFF_MS=10

WS="$TMP/ws"
mkdir -p "$WS/.aether" "$WS/pkg"
for n in alpha beta gamma; do
  printf 'def handler_%s(x):\n    """Handle %s."""\n    return x\n' "$n" "$n" >"$WS/pkg/$n.py"
done
cat >"$WS/.aether/config.toml" <<EOF
[inference]
provider = "ollama"
model = "stub-coder"
endpoint = "$URL"

[embeddings]
provider = "ollama"
model = "stub-embed"
endpoint = "$URL"
EOF
printf '.aether/\n' >"$WS/.gitignore"
git -C "$WS" init -q -b main
git -C "$WS" -c user.email=t@e -c user.name=t add -A
git -C "$WS" -c user.email=t@e -c user.name=t commit -q -m one
HEAD1=$(git -C "$WS" rev-parse HEAD)

# 1. First pass.
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
[ "$(grep -c '^SIR_STORED ' <<<"$OUT")" -eq 3 ] && ok "3 SIR_STORED" || fail "stdout: $OUT"
[ "$(grep -c '^EMBEDDING_STORED .* provider=ollama model=stub-embed$' <<<"$OUT")" -eq 3 ] \
  && ok "3 EMBEDDING_STORED after the vector commit" || fail "stdout: $OUT"
[ "$(sql "SELECT count(*) FROM sir WHERE sir_status='fresh' AND last_error IS NULL AND last_attempt_at >= strftime('%s','now') - 60")" -eq 3 ] \
  && ok "all fresh with last_attempt_at" || fail "status: $(sql "SELECT group_concat(sir_status) FROM sir")"
[ "$(sql "SELECT count(*) FROM sir_history WHERE commit_hash = '$HEAD1'")" -eq 3 ] \
  && ok "history commit_hash = git HEAD ($HEAD1)" || fail "commit_hash: $(sql "SELECT group_concat(commit_hash) FROM sir_history")"
BETA=$(sql "SELECT id FROM symbols WHERE qualified_name='handler_beta'")
OLD_HASH=$(sql "SELECT sir_hash FROM sir WHERE id='$BETA'")
OLD_JSON=$(sql "SELECT sir_json FROM sir WHERE id='$BETA'")

# 2. beta changes and the model fails for it (only for it).
printf 'def handler_beta(x):\n    """Handle beta."""\n    return x * 2\n' >"$WS/pkg/beta.py"
control '{"fail_chat_for": "handler_beta", "reset_counts": true}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
line=$(grep '^SIR_STALE ' <<<"$OUT" || true)
[ "$(grep -c '^SIR_STALE ' <<<"$OUT")" -eq 1 ] && contains "$line" "symbol_id=$BETA error=" \
  && contains "$line" "HTTP 500" && ok "SIR_STALE names the symbol and the error" || fail "stdout: $OUT"
contains "$ERR" "SIR generation failed for 1 symbol" && ok "notice on stderr" || fail "stderr: $ERR"
[ "$(sql "SELECT sir_status FROM sir WHERE id='$BETA'")" = stale ] && ok "row stale" || fail "status"
contains "$(sql "SELECT last_error FROM sir WHERE id='$BETA'")" "model crashed on handler_beta" \
  && ok "last_error is the provider's" || fail "last_error: $(sql "SELECT last_error FROM sir WHERE id='$BETA'")"
[ "$(sql "SELECT sir_hash FROM sir WHERE id='$BETA'")" = "$OLD_HASH" ] \
  && [ "$(sql "SELECT sir_json FROM sir WHERE id='$BETA'")" = "$OLD_JSON" ] && ok "previous SIR kept" || fail "SIR replaced"
[ "$(sql "SELECT count(*) FROM sir WHERE sir_status='fresh'")" -eq 2 ] && ok "others fresh" || fail "fresh count"
[ "$(sql "SELECT mtime_ns FROM files WHERE path='pkg/beta.py'")" = "-1" ] && ok "file marked for retry" || fail "files row"

# 3. A new symbol whose first generation fails.
printf 'def handler_delta(x):\n    return x - 1\n' >"$WS/pkg/delta.py"
control '{"fail_chat_for": "handler_delta", "intent_suffix": " (v2)"}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
DELTA=$(sql "SELECT id FROM symbols WHERE qualified_name='handler_delta'")
contains "$OUT" "SIR_STALE symbol_id=$DELTA error=" && ok "SIR_STALE for a first generation" || fail "stdout: $OUT"
contains "$OUT" "SIR_STORED symbol_id=$BETA " && ok "beta retried (file untouched) and stored" || fail "stdout: $OUT"
[ "$(sql "SELECT sir_status, last_error, sir_version FROM sir WHERE id='$BETA'")" = "fresh|NULL|2" ] \
  && ok "beta fresh again, version 2" || fail "beta: $(sql "SELECT sir_status, last_error, sir_version FROM sir WHERE id='$BETA'")"
[ "$(sql "SELECT sir_status, sir_json, sir_hash, sir_version FROM sir WHERE id='$DELTA'")" = "stale|NULL||0" ] \
  && ok "placeholder row: stale, no SIR, version 0" || fail "row: $(sql "SELECT * FROM sir WHERE id='$DELTA'")"
[ ! -e "$WS/.aether/sir/$DELTA.json" ] && ok "no mirror for a missing SIR" || fail "mirror written"
[ "$(sql "SELECT count(*) FROM embedding_state WHERE symbol_id='$DELTA'")" -eq 0 ] && ok "nothing embedded for it" || fail "embedded a placeholder"
[ "$(sql "SELECT count(*) FROM sir_history WHERE symbol_id='$DELTA'")" -eq 0 ] && ok "no history for it" || fail "history"
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck || true
ok "verify passes with a placeholder row"

# 4. Recovery at a new commit.
git -C "$WS" add -A
git -C "$WS" -c user.email=t@e -c user.name=t commit -qm two
HEAD2=$(git -C "$WS" rev-parse HEAD)
control '{"fail_chat_for": null, "reset_counts": true}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
contains "$OUT" "SIR_STORED symbol_id=$DELTA " && ok "delta stored on retry" || fail "stdout: $OUT"
grep -q '^SIR_STALE' <<<"$OUT" && fail "still stale: $OUT" || ok "no SIR_STALE"
[ "$(sql "SELECT count(*) FROM sir WHERE sir_status='fresh' AND last_error IS NULL")" -eq 4 ] \
  && ok "every row fresh again" || fail "status: $(sql "SELECT group_concat(sir_status) FROM sir")"
[ "$(sql "SELECT version, commit_hash FROM sir_history WHERE symbol_id='$DELTA'")" = "1|$HEAD2" ] \
  && ok "delta version 1 at the new HEAD" || fail "history: $(sql "SELECT version, commit_hash FROM sir_history WHERE symbol_id='$DELTA'")"
[ "$(sql "SELECT group_concat(version || ':' || commit_hash, ' ') FROM sir_history WHERE symbol_id='$BETA'")" = "1:$HEAD1 2:$HEAD1" ] \
  && ok "beta history: 2 versions" || fail "beta history: $(sql "SELECT group_concat(version || ':' || commit_hash, ' ') FROM sir_history WHERE symbol_id='$BETA'")"
[ "$(sql "SELECT count(*) FROM files WHERE mtime_ns = -1")" -eq 0 ] && ok "no file left for retry" || fail "retry marks left"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
[ "$(stat_of /api/chat)" -eq 1 ] && ok "retried only the stale symbol, then nothing" || fail "chat requests: $(stat_of /api/chat)"

# 5. Outside git: commit_hash NULL.
WS2="$TMP/nogit"
mkdir -p "$WS2/.aether"
cp "$WS/pkg/alpha.py" "$WS2/"
cp "$WS/.aether/config.toml" "$WS2/.aether/"
expect_exit 0 "$AETHERD" --workspace "$WS2" --index-once || true
WS_SAVE=$WS WS=$WS2
[ "$(sql "SELECT count(*) FROM sir_history WHERE commit_hash IS NULL")" -eq 1 ] && ok "commit_hash NULL outside git" || fail "commit_hash: $(sql "SELECT group_concat(commit_hash) FROM sir_history")"
WS=$WS_SAVE

# 6. A workspace of the previous schema: drop the status columns as the old build had them.
WS3="$TMP/old"
cp -R "$WS2" "$WS3"
python3 - "$WS3/.aether/meta.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for col in ("sir_status", "last_error", "last_attempt_at", "source_hash"):
    db.execute(f"ALTER TABLE sir DROP COLUMN {col}")
db.execute("DELETE FROM aether_c_meta WHERE key = 'sir_status_columns'")
db.commit()
PY
WS=$WS3
BEFORE=$(sql "SELECT id, sir_hash, sir_version, sir_json FROM sir")
expect_exit 0 "$AETHERD" --workspace "$WS3" --index-once || true
[ "$(sql "SELECT id, sir_hash, sir_version, sir_json FROM sir")" = "$BEFORE" ] && ok "old rows kept" || fail "rows changed"
[ "$(sql "SELECT sir_status FROM sir")" = fresh ] && ok "old rows fresh" || fail "status after upgrade"
[ "$(sql "SELECT value FROM aether_c_meta WHERE key='sir_status_columns'")" = 1 ] && ok "migration recorded" || fail "aether_c_meta"
[ "$(sql "SELECT last_attempt_at > 0 FROM sir")" = 1 ] && ok "last_attempt_at from updated_at" || fail "last_attempt_at"
WS=$WS_SAVE

finish
