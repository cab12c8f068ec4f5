#!/usr/bin/env bash
# meta.sqlite on a full disk and a workspace on read-only media.
#  1. A full disk at every write SQLite makes during an index run
#     (AE_SQLITE_FULL_AT=N: the N-th write and all later ones fail with
#     SQLITE_FULL, as write() with ENOSPC does): the run fails with "disk full"
#     naming meta.sqlite; the workspace is as it was (or, past a committed
#     transaction, consistent: --fsck passes); search still answers; once
#     space is back the next run converges to a fresh index's answers.
#  2. A real full tmpfs (root only): the same message from the real ENOSPC.
#  3. A read-only workspace (a tmpfs remounted read-only, root only; else
#     chmod -w as a non-root user): lexical and semantic search answer as
#     before, --fsck passes, and --index-once / --import-embeddings say that
#     .aether/ cannot be written, for both vector backends.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
need_test_hooks # AE_SQLITE_FULL_AT
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"

digest() {
  python3 - "$1/.aether/meta.sqlite" <<'PY'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); h = hashlib.sha256()
for t in ("symbols", "sir", "embedding_state", "sir_history"):
    for r in c.execute("SELECT * FROM %s ORDER BY 1" % t): h.update(repr(r).encode())
print(h.hexdigest())
PY
}
answers() {
  local q
  for q in "parse config" "mod_1_fn_2" "value limit"; do
    "$AETHERD" --workspace "$1" --search "$q" --search-limit 10 2>/dev/null | cut -f1,2 || echo "failed: $q"
    "$AETHERD" --workspace "$1" --search "$q" --search-mode semantic --search-limit 10 2>/dev/null | cut -f1,2 || echo "failed: $q"
  done
}

# --- 1. injected full disk at every write of an index run ---------------------
BASE="$TMP/base"
gen_workspace "$BASE" 3 4
expect_exit 0 "$AETHERD" --workspace "$BASE" --index-once || true
gen_file "$BASE/src/mod_1.py" 4 7         # changed symbols
gen_file "$BASE/src/mod_9.py" 3 1         # new ones
rm "$BASE/src/mod_2.py"                   # deleted ones
D0=$(digest "$BASE")
A0=$(answers "$BASE")
FRESH="$TMP/fresh"; mkdir -p "$FRESH/.aether"; cp -R "$BASE/src" "$FRESH/"; cp "$BASE/.aether/config.toml" "$FRESH/.aether/"
expect_exit 0 "$AETHERD" --workspace "$FRESH" --index-once || true
WANT=$(answers "$FRESH")
same=0 partial=0 n=0
while :; do
  n=$((n + 1))
  W="$TMP/w"; rm -rf "$W"; cp -a "$BASE" "$W"
  set +e
  AE_SQLITE_FULL_AT=$n "$AETHERD" --workspace "$W" --index-once >/dev/null 2>"$TMP/err"
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    ok "full disk: an index run makes $((n - 1)) SQLite writes; at write $n and later the disk had room"
    break
  fi
  [ $n -gt 2000 ] && { fail "full disk: still failing at write $n"; break; }
  grep -q "disk full: .*meta.sqlite" "$TMP/err" || fail "write $n: message: $(cat "$TMP/err")"
  verify_json "$W" || fail "write $n: --fsck after the failed run: $VJ"
  if [ "$(digest "$W")" = "$D0" ]; then
    same=$((same + 1))
    [ "$(answers "$W")" = "$A0" ] || fail "write $n: the workspace is unchanged but answers differ"
  else
    partial=$((partial + 1)) # a transaction committed before the disk filled
  fi
  expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
  verify_json "$W" && converged "$VJ" || fail "write $n: space back: no convergence: $VJ"
  [ "$(answers "$W")" = "$WANT" ] || fail "write $n: space back: answers differ from a fresh index's"
done
[ $failures = 0 ] && ok "full disk at each of the $((n - 1)) writes: 'disk full' naming meta.sqlite, --fsck passes; $same left the workspace exactly as it was, $partial after a committed transaction (consistent); every one converged once space was back"

# --- 2. a real full tmpfs --------------------------------------------------------
MNT="$TMP/mnt"
mkdir -p "$MNT"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
  trap 'umount "$MNT" 2>/dev/null || true; umount "$TMP/ro" 2>/dev/null || true; rm -rf "$TMP"' EXIT
  W2="$MNT/ws"
  gen_workspace "$W2" 3 4
  expect_exit 0 "$AETHERD" --workspace "$W2" --index-once || true
  A2=$(answers "$W2")
  for f in 10 11 12 13 14 15; do gen_file "$W2/src/mod_$f.py" 30 1; done
  dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null || true
  set +e
  "$AETHERD" --workspace "$W2" --index-once >/dev/null 2>"$TMP/err"
  rc=$?
  set -e
  [ $rc -ne 0 ] && grep -qi "disk full" "$TMP/err" && ok "real full tmpfs: the run fails: $(head -c 200 "$TMP/err")" ||
    fail "real full tmpfs: rc=$rc $(cat "$TMP/err")"
  verify_json "$W2" && ok "real full tmpfs: --fsck passes on the full disk" || fail "real full tmpfs fsck: $VJ"
  rm -f "$MNT/filler"
  expect_exit 0 "$AETHERD" --workspace "$W2" --index-once || true
  verify_json "$W2" && converged "$VJ" && ok "real full tmpfs: space back, the next run converges" || fail "tmpfs converge: $VJ"
  umount "$MNT"
else
  echo "skipped: real full tmpfs (needs root and mount)"
fi

# --- 3. read-only media -----------------------------------------------------------
RO="$TMP/ro"
mkdir -p "$RO"
ro_mode=""
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=16m tmpfs "$RO" 2>/dev/null; then
  ro_mode=mount
elif [ "$(id -u)" != 0 ]; then
  ro_mode=chmod
fi
if [ -n "$ro_mode" ]; then
  for backend in lancedb sqlite; do
    W3="$RO/ws-$backend"
    gen_workspace "$W3" 3 4
    printf '[embeddings]\nprovider = "mock"\nvector_backend = "%s"\n' $backend >"$W3/.aether/config.toml"
    expect_exit 0 "$AETHERD" --workspace "$W3" --index-once || true
  done
  declare -A BEFORE
  for backend in lancedb sqlite; do BEFORE[$backend]=$(answers "$RO/ws-$backend"); done
  if [ $ro_mode = mount ]; then mount -o remount,ro "$RO"; else chmod -R a-w "$RO"; fi
  for backend in lancedb sqlite; do
    W3="$RO/ws-$backend"
    a=$(answers "$W3")
    [ "$a" = "${BEFORE[$backend]}" ] && ! contains "$a" "failed:" &&
      ok "read-only ($ro_mode, $backend): lexical and semantic search answer as before" || fail "read-only $backend search: $a"
    expect_exit 0 "$AETHERD" --workspace "$W3" --fsck || true
    expect_exit 1 "$AETHERD" --workspace "$W3" --index-once || true
    contains "$ERR" "cannot write to $W3/.aether" && contains "$ERR" "searched but not indexed" &&
      ok "read-only ($backend): --index-once says why: $ERR" || fail "read-only $backend index: $ERR"
    printf '' >"$TMP/empty.jsonl"
    expect_exit 1 "$AETHERD" --workspace "$W3" --import-embeddings "$TMP/empty.jsonl" || true
    contains "$ERR" "cannot write to" && ok "read-only ($backend): --import-embeddings says why" || fail "read-only import: $ERR"
  done
  if [ $ro_mode = mount ]; then umount "$RO"; else chmod -R u+w "$RO"; fi
else
  echo "skipped: read-only media (root without mount)"
fi
finish
