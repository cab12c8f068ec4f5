#!/usr/bin/env bash
# SIGKILL during the very first index run of a new workspace, when meta.sqlite
# is being created (meta.c note 3).  Before the fix a kill inside the first
# open left a half-made meta.sqlite with a hot rollback journal that no
# read-only opener could roll back ("attempt to write a readonly database").
# After every kill the store check must pass or find no store, and the next
# run must index normally.  AE_KILL_CREATE_RUNS sets the count (default 40).
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"

RUNS=${AE_KILL_CREATE_RUNS:-40}
RANDOM=${AE_KILL_SEED:-$$}
echo "seed $RANDOM runs $RUNS"
SRC="$TMP/src"
gen_workspace "$SRC" 3 4
kills=0
for ((r = 0; r < RUNS; r++)); do
  WS="$TMP/ws$r"
  cp -R "$SRC" "$WS"
  # Delays from 1 ms to 60 ms: the first open, the schema, the first SIRs.
  delay=$(printf '0.%03d' $((1 + RANDOM % 60)))
  "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>"$TMP/index.err" &
  pid=$!
  (sleep "$delay"; kill -KILL $pid 2>/dev/null) &
  killer=$!
  set +e
  { wait $pid; } 2>/dev/null
  rc=$?
  kill $killer 2>/dev/null; wait $killer 2>/dev/null
  set -e
  [ $rc -eq 137 ] && kills=$((kills + 1))
  if [ -e "$WS/.aether/meta.sqlite" ]; then
    verify_json "$WS" || { fail "run $r (killed after ${delay}s): fsck failed: $VJ $(cat "$TMP/verify.err")"; break; }
  fi
  # A search never fails on what the kill left.
  "$AETHERD" --workspace "$WS" --search fn >/dev/null 2>"$TMP/search.err" ||
    { fail "run $r: search failed: $(cat "$TMP/search.err")"; break; }
  "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>"$TMP/index.err" ||
    { fail "run $r: re-index failed: $(cat "$TMP/index.err")"; break; }
  verify_json "$WS" || { fail "run $r: fsck after re-index: $VJ"; break; }
  rm -rf "$WS"
done
echo "runs $RUNS, kills $kills"
[ $kills -gt 0 ] && ok "kills during creation survived: $kills" || fail "no run was killed: the delays are too long for this machine"
finish
