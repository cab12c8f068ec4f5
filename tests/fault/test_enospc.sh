#!/usr/bin/env bash
# A full disk: indexing fails with a clear disk-full error, the previous
# version stays intact, verify passes, and once space is back the next run
# succeeds and converges.  Two ways: the injected ENOSPC (AE_FAULT=enospc:N,
# every step N of the vector table's commit fails) always; a real small tmpfs
# when this runs as root and `mount` works (CI).
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
need_test_hooks # AE_FAULT & co. exist in test builds only
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"

export_sorted() { "$AETHERD" --workspace "$1" --export-embeddings - 2>/dev/null | sort; }

# --- injected ENOSPC at each step of the commit --------------------------------
WS="$TMP/ws"
gen_workspace "$WS" 6 5
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
verify_json "$WS" && converged "$VJ" && ok "baseline indexed and verified" || fail "baseline: $VJ"
salt=0
for n in $(seq 1 60); do
  before=$(export_sorted "$WS")
  salt=$((salt + 1)); gen_file "$WS/src/mod_1.py" 5 "$salt"
  set +e
  AE_FAULT=enospc:$n "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>"$TMP/err"
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    ok "enospc:$n: the commit has fewer than $n steps; run succeeded"
    break
  fi
  grep -q "disk full\|No space left" "$TMP/err" && ok "enospc:$n: fails with a disk-full error" || fail "enospc:$n message: $(cat "$TMP/err")"
  [ "$(export_sorted "$WS")" = "$before" ] && ok "enospc:$n: previous vectors intact" || fail "enospc:$n: vectors changed"
  verify_json "$WS" && ok "enospc:$n: verify passes" || fail "enospc:$n verify: $VJ"
done
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
verify_json "$WS" && converged "$VJ" && ok "space back: the next run succeeds and converges" || fail "after enospc: $VJ"

# --- a real full filesystem ------------------------------------------------------
MNT="$TMP/mnt"
mkdir -p "$MNT"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=3m tmpfs "$MNT" 2>/dev/null; then
  trap 'umount "$MNT" 2>/dev/null || true; rm -rf "$TMP"' EXIT
  W2="$MNT/ws"
  gen_workspace "$W2" 4 4
  expect_exit 0 "$AETHERD" --workspace "$W2" --index-once || true
  before=$(export_sorted "$W2")
  # Fill the disk, then add a lot of new code.
  dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
  for f in 10 11 12 13 14 15 16 17 18 19; do gen_file "$W2/src/mod_$f.py" 40 1 2>/dev/null || true; done
  rm -f "$MNT/filler"; dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null || true
  set +e
  "$AETHERD" --workspace "$W2" --index-once >/dev/null 2>"$TMP/err"
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    grep -qi "disk full\|No space left\|database or disk is full" "$TMP/err" &&
      ok "tmpfs full: indexing fails with a disk-full error" || fail "tmpfs message: $(cat "$TMP/err")"
  else
    fail "tmpfs full: indexing succeeded on a full disk"
  fi
  rm -f "$MNT/filler"
  verify_json "$W2" && ok "tmpfs full: verify passes after the failed run" || fail "tmpfs verify: $VJ"
  now=$(export_sorted "$W2")
  # Whatever committed before the disk filled is whole: old rows unchanged.
  [ -z "$(comm -23 <(echo "$before") <(echo "$now"))" ] && ok "tmpfs full: previous vectors intact" || fail "tmpfs: old vectors lost"
  expect_exit 0 "$AETHERD" --workspace "$W2" --index-once || true
  verify_json "$W2" && converged "$VJ" && ok "tmpfs: space freed, next run succeeds and converges" || fail "tmpfs after: $VJ"
  umount "$MNT"
else
  echo "note: not root or mount unavailable: the tmpfs part is covered by the injected ENOSPC above"
fi
finish
