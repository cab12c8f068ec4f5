#!/usr/bin/env bash
# Every numbered step of every writer, through the CLI: abort (AE_FAULT) at
# step N of a table commit, of a compaction, of an index publish; SIGKILL
# inside an index build; SIGKILL after each migration batch.  After each
# abort the workspace opens, --fsck passes, and exactly the committed rows
# are present (the old version's or the new one's, nothing in between).
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
need_test_hooks # AE_FAULT & co. exist in test builds only
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"

export AETHER_INDEX_MIN_ROWS=256 # the table below is big enough for an IVF-PQ index
rows() { "$AETHERD" --workspace "$1" --export-embeddings - 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l); print(d["symbol_id"], d["sir_hash"])' | sort; }
# quietly CMD...: runs CMD without bash's "Aborted"/"Killed" job notices; its exit code.
quietly() { "$@" & { wait $!; } 2>/dev/null; }
aborted() { [ "$1" -ne 0 ] && [ "$1" -ne 1 ]; } # killed by a signal, not a clean error
checked=0

WS="$TMP/ws"
gen_workspace "$WS" 40 8
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
verify_json "$WS" && converged "$VJ" && ok "baseline: $(jget "$VJ" '["cross_store"]["store_rows"]') rows" || fail "baseline: $VJ"

# --- commit: abort at step N of the index run's table commits -------------------
salt=0 n=1
while [ $n -le 80 ]; do
  before=$(rows "$WS")
  salt=$((salt + 1)); gen_file "$WS/src/mod_$((n % 40)).py" 8 "$salt"
  set +e; quietly env AE_FAULT=commit:$n "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>&1; rc=$?; set -e
  after=$(rows "$WS")
  verify_json "$WS" || fail "commit:$n: verify: $VJ"
  expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
  final=$(rows "$WS")
  { [ "$after" = "$before" ] || [ "$after" = "$final" ]; } || fail "commit:$n: rows neither the old nor the new version"
  verify_json "$WS" && converged "$VJ" || fail "commit:$n: no convergence: $VJ"
  checked=$((checked + $(echo "$after" | wc -l)))
  aborted $rc || break
  n=$((n + 1))
done
[ $n -gt 3 ] && ok "commit: aborted at each of $((n - 1)) steps, old or new version, verify passes" || fail "commit: only $n steps"

# --- compact: abort at step N of --optimize's compaction ---------------------------
n=1
while [ $n -le 80 ]; do
  for k in 1; do salt=$((salt + 1)); gen_file "$WS/src/mod_$k.py" 8 "$salt"; "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>&1; done
  before=$(rows "$WS")
  set +e; quietly env AE_FAULT=compact:$n "$AETHERD" --workspace "$WS" --optimize >/dev/null 2>&1; rc=$?; set -e
  verify_json "$WS" || fail "compact:$n: verify: $VJ"
  [ "$(rows "$WS")" = "$before" ] || fail "compact:$n: rows changed"
  checked=$((checked + $(echo "$before" | wc -l)))
  aborted $rc || break
  n=$((n + 1))
done
[ $n -gt 3 ] && ok "compact: aborted at each of $((n - 1)) steps, rows unchanged, verify passes" || fail "compact: only $n steps"

# --- index publish: --optimize compacts (phase compact), then the index build
# publishes with a commit (phase commit): abort at each of its steps ----------------
has_index() { "$AETHERD" --workspace "$WS" --vector-status --output json | python3 -c '
import json, sys; print(sum(t["index"] == "ivfpq" for t in json.load(sys.stdin)["tables"]))'; }
n=1 published=0
while [ $n -le 40 ]; do
  salt=$((salt + 1)); gen_file "$WS/src/mod_5.py" 8 "$salt"; "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>&1
  before=$(rows "$WS")
  set +e; quietly env AE_FAULT=commit:$n "$AETHERD" --workspace "$WS" --optimize >/dev/null 2>&1; rc=$?; set -e
  verify_json "$WS" || fail "index publish commit:$n: verify: $VJ"
  [ "$(rows "$WS")" = "$before" ] || fail "index publish commit:$n: rows changed"
  expect_exit 0 "$AETHERD" --workspace "$WS" --search "compute step" --search-mode semantic --exact --output json ||
    fail "index publish commit:$n: exact search fails"
  aborted $rc || { published=$(has_index); break; }
  n=$((n + 1))
done
[ "$published" -ge 1 ] && ok "index publish: aborted at each of $((n - 1)) steps; exact search and verify hold; then published" ||
  fail "index publish: steps $n, index tables $published"

# --- SIGKILL inside the index build (no step counter there: random delays) -----
for i in $(seq 1 8); do
  salt=$((salt + 1)); gen_file "$WS/src/mod_6.py" 8 "$salt"; "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>&1
  before=$(rows "$WS")
  "$AETHERD" --workspace "$WS" --optimize >/dev/null 2>&1 &
  pid=$!
  (sleep "0.0$((RANDOM % 90 + 5))"; kill -KILL $pid 2>/dev/null) & killer=$!
  { wait $pid; } 2>/dev/null || true
  kill $killer 2>/dev/null || true; wait $killer 2>/dev/null || true
  verify_json "$WS" || fail "kill in index build $i: verify: $VJ"
  [ "$(rows "$WS")" = "$before" ] || fail "kill in index build $i: rows changed"
done
expect_exit 0 "$AETHERD" --workspace "$WS" --search "compute step" --search-mode semantic --output json &&
  ok "index build killed 8 times: verify passes, rows unchanged, search works" || true
expect_exit 0 "$AETHERD" --workspace "$WS" --optimize || true
verify_json "$WS" && [ "$(jget "$VJ" '["tables"][0]["index"]')" = ivfpq ] && [ "$(jget "$VJ" '["tables"][0]["recall_queries"]')" -gt 0 ] &&
  ok "clean optimize: index rebuilt, recall@10 $(jget "$VJ" '["tables"][0]["recall"]') over $(jget "$VJ" '["tables"][0]["recall_queries"]') queries" ||
  fail "recall: $VJ"

# --- migration: SIGKILL after each batch -------------------------------------------
M="$TMP/mig"
gen_workspace "$M" 6 5
printf '[embeddings]\nprovider = "mock"\nvector_backend = "sqlite"\n' >"$M/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$M" --index-once || true
total=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from sir_embeddings").fetchone()[0])' "$M/.aether/meta.sqlite")
printf '[embeddings]\nprovider = "mock"\nvector_backend = "lancedb"\n' >"$M/.aether/config.toml"
cp -R "$M" "$TMP/mig0"
B=4 k=1
while [ $k -le $(((total + B - 1) / B)) ]; do
  rm -rf "$M"; cp -R "$TMP/mig0" "$M"
  set +e; quietly env AE_MIGRATE_BATCH_ROWS=$B AE_MIGRATE_KILL_AFTER_BATCH=$k "$AETHERD" --workspace "$M" --index-once >/dev/null 2>&1; rc=$?; set -e
  [ $rc -eq 137 ] || { [ $k -eq $(((total + B - 1) / B)) ] && [ $rc -eq 0 ]; } || fail "migrate kill $k: exit $rc"
  verify_json "$M" || fail "migrate kill after batch $k: verify: $VJ"
  got=$("$AETHERD" --workspace "$M" --vector-status --output json | python3 -c '
import json, sys; print(sum(t["rows"] for t in json.load(sys.stdin)["tables"]))')
  want=$((k * B < total ? k * B : total))
  [ "$got" = "$want" ] || fail "migrate kill after batch $k: $got rows in the tables, committed $want"
  checked=$((checked + got))
  expect_exit 0 "$AETHERD" --workspace "$M" --index-once || true
  verify_json "$M" && converged "$VJ" || fail "migrate kill $k: no convergence: $VJ"
  k=$((k + 1))
done
ok "migration: killed after each of $((k - 1)) batches: exactly the committed rows, verify passes, rerun converges"
echo "rows checked: $checked"
[ -n "${AE_FAULT_STATS:-}" ] && echo "fault_steps rows_checked=$checked" >>"$AE_FAULT_STATS"
finish
