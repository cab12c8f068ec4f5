#!/usr/bin/env bash
# Randomized SIGKILL loop over a real ingest: edit the sources, start
# `aetherd --index-once`, SIGKILL it after a random fractional delay, then
# `--fsck` must pass (every invariant holds at every kill point).  At the end
# one clean run must converge: verify passes and every current SIR has its
# embedding.  AE_KILL_SECONDS sets the time budget (default 75).
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"

BUDGET=${AE_KILL_SECONDS:-75}
WS="$TMP/ws"
gen_workspace "$WS" 30 8
RANDOM=${AE_KILL_SEED:-$$}
echo "seed $RANDOM budget ${BUDGET}s"

kills=0 completed=0 runs=0 salt=0 next_file=30 deleted=0
end=$((SECONDS + BUDGET))
while [ $SECONDS -lt $end ]; do
  # Edits between runs: rewrite a few files, sometimes add or delete one.
  for ((e = 0; e < 1 + RANDOM % 3; e++)); do
    salt=$((salt + 1))
    f=$(ls "$WS/src" | sed -n "$((1 + RANDOM % $(ls "$WS/src" | wc -l)))p")
    gen_file "$WS/src/$f" 8 "$salt"
  done
  if [ $((RANDOM % 5)) -eq 0 ]; then gen_file "$WS/src/mod_$next_file.py" 8 "$salt"; next_file=$((next_file + 1)); fi
  if [ $((RANDOM % 7)) -eq 0 ] && [ "$(ls "$WS/src" | wc -l)" -gt 5 ]; then
    rm -f "$WS/src/$(ls "$WS/src" | sed -n "$((1 + RANDOM % 5))p")"; deleted=$((deleted + 1))
  fi
  # Mostly short delays (runs after an edit are short), some long ones, so
  # kills land in every phase: scan, SIR writes, embedding, table commit.
  if [ $((RANDOM % 4)) -eq 0 ]; then delay=$(printf '0.%03d' $((1 + RANDOM % 400)));
  else delay=$(printf '0.%03d' $((1 + RANDOM % 90))); fi
  "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>"$TMP/index.err" &
  pid=$!
  (sleep "$delay"; kill -KILL $pid 2>/dev/null) &
  killer=$!
  set +e
  { wait $pid; } 2>/dev/null
  rc=$?
  kill $killer 2>/dev/null; wait $killer 2>/dev/null
  set -e
  runs=$((runs + 1))
  if [ $rc -eq 137 ]; then
    kills=$((kills + 1))
  elif [ $rc -eq 0 ]; then
    completed=$((completed + 1))
  else
    fail "run $runs exited $rc: $(cat "$TMP/index.err")"; break
  fi
  # Verify after every kill (and every 10th completed run).
  [ $rc -eq 137 ] || [ $((completed % 10)) -eq 0 ] || continue
  if ! verify_json "$WS"; then
    fail "verify after run $runs (killed after ${delay}s: $([ $rc -eq 137 ] && echo yes || echo no)): $VJ $(cat "$TMP/verify.err")"
    cp -R "$WS" "$TMP/../kill-loop-failed-ws" 2>/dev/null || true
    break
  fi
done
echo "runs $runs, kills $kills, completed $completed, files deleted $deleted"

expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
if verify_json "$WS" && converged "$VJ"; then
  ok "converged after $kills kills: $(jget "$VJ" '["cross_store"]["sirs_current"]') SIRs, all embedded"
else
  fail "no convergence after the clean run: $VJ"
fi
[ "$kills" -ge 20 ] && ok "kills survived: $kills" || fail "only $kills kills landed in ${BUDGET}s"
[ -n "${AE_FAULT_STATS:-}" ] && echo "kill_loop kills=$kills runs=$runs rows=$(jget "$VJ" '["cross_store"]["store_rows"]')" >>"$AE_FAULT_STATS"
finish
