#!/usr/bin/env bash
# Damaged vector table files, as a user meets them: one flipped byte in a data
# fragment, a deletion file, the newest manifest or the IVF-PQ index file.
# For each: --fsck names the file and exits 1 -> --repair quarantines it,
# rewrites the rows it held and says so by file and row count -> --fsck
# passes -> semantic search answers equal a fresh index's of the same sources.
# Also: a search meeting a fragment whose cheap checks fail says so (an
# error naming the file and what to run), it never answers from it.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
need_test_hooks # AETHER_INDEX_MIN_ROWS
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"
export AETHER_INDEX_MIN_ROWS=256 # 300 symbols: the table gets an IVF-PQ index

QUERIES=("compute mod_3 step 7" "value limit revision" "mod_12_fn_4" "return value times")

# answers WS: semantic search results (ids and names) for every query, exact and default.
answers() {
  local q mode
  for q in "${QUERIES[@]}"; do
    for mode in --exact ""; do
      # shellcheck disable=SC2086
      "$AETHERD" --workspace "$1" --search "$q" --search-mode semantic --search-limit 10 $mode 2>/dev/null |
        cut -f1,2 || echo "search failed: $q $mode"
    done
  done
}

# flip PATH OFFSET: xor one byte (OFFSET < 0 counts from the end; "mid" = the middle).
flip() {
  python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], sys.argv[2]
b = bytearray(open(p, "rb").read())
i = len(b) // 2 if off == "mid" else int(off) % len(b)
b[i] ^= 0x5A
open(p, "wb").write(b)
PY
}

# A workspace with deletions, two fragments and an index; and its fresh twin.
BASE="$TMP/base"
gen_workspace "$BASE" 20 15
expect_exit 0 "$AETHERD" --workspace "$BASE" --index-once || true
gen_file "$BASE/src/mod_3.py" 15 1 # 15 rows replaced: a deletion file and a second fragment
expect_exit 0 "$AETHERD" --workspace "$BASE" --index-once || true
verify_json "$BASE" && converged "$VJ" && ok "base indexed: $(jget "$VJ" '["cross_store"]["store_rows"]') rows" || fail "base: $VJ"
tdir_of() { ls -d "$1"/.aether/vectors/d*/ | head -1; }
T=$(tdir_of "$BASE")
[ -n "$(ls "$T"/deletions/ 2>/dev/null)" ] && [ -n "$(ls "$T"/index/ 2>/dev/null)" ] &&
  ok "base has a deletion file and an index" || fail "base layout: $(find "$T" -type f)"

FRESH="$TMP/fresh"
mkdir -p "$FRESH/.aether"
cp -R "$BASE/src" "$FRESH/src"
cp "$BASE/.aether/config.toml" "$FRESH/.aether/"
expect_exit 0 "$AETHERD" --workspace "$FRESH" --index-once || true
WANT=$(answers "$FRESH")
[ "$(answers "$BASE")" = "$WANT" ] && ok "base answers equal the fresh index's" || fail "base answers differ"
contains "$WANT" "search failed" && fail "fresh search failed: $WANT"

# case NAME FILE OFFSET: damage FILE (relative to the table) in a copy of the base.
run_case() {
  local name=$1 rel=$2 off=$3 ws="$TMP/$1"
  rm -rf "$ws"
  cp -a "$BASE" "$ws"
  local t
  t=$(tdir_of "$ws")
  # shellcheck disable=SC2086
  local f
  f=$(cd "$t" && ls $rel | tail -1)
  [ -f "$t/$f" ] || { fail "$name: no file $rel"; return; }
  flip "$t/$f" "$off"
  expect_exit 1 "$AETHERD" --workspace "$ws" --fsck || true
  contains "$OUT" "$(basename "$f")" && ok "$name: --fsck names $f" || fail "$name: fsck output: $OUT"
  expect_exit 0 "$AETHERD" --workspace "$ws" --repair || true
  REPAIR=$OUT
  printf "%s\n" "$OUT" | sed "s/^/    /"
  contains "$OUT" "$f" && contains "$OUT" "quarantine" && contains "$OUT" "repair: ok" &&
    ok "$name: --repair quarantines $f and ends ok" || fail "$name: repair output: $OUT $ERR"
  [ -f "$t/quarantine/${f//\//_}" ] && [ -f "$t/quarantine/${f//\//_}.note" ] &&
    ok "$name: the damaged bytes are kept in quarantine/ with a note" || fail "$name: quarantine: $(ls "$t/quarantine" 2>&1)"
  verify_json "$ws" && converged "$VJ" && ok "$name: --fsck passes, every SIR embedded" || fail "$name: fsck after repair: $VJ"
  [ "$(answers "$ws")" = "$WANT" ] && ok "$name: search answers equal the fresh index's" ||
    fail "$name: answers differ: $(diff <(answers "$ws") <(echo "$WANT") | head -5)"
  expect_exit 0 "$AETHERD" --workspace "$ws" --repair || true
  contains "$OUT" "repair: nothing to do" && ok "$name: a second repair has nothing to do" || fail "$name: second repair: $OUT"
}

# 1. a data fragment: one byte in the middle of the vectors
run_case fragment 'data/00000000000000000001-*.arrow' mid
contains "$REPAIR" "285 live rows of 300 to rewrite" && contains "$REPAIR" "re-embedding them" &&
  ok "fragment: the repair says how many rows it rewrote" || fail "fragment: row counts: $REPAIR"

# 2. a deletion file: its fragment's live rows are unknown, so it goes too
run_case deletion 'deletions/*.del' 40
contains "$REPAIR" "285 live rows to rewrite" && ok "deletion: the fragment's 285 live rows are rewritten" ||
  fail "deletion: row counts: $REPAIR"

# 3. the newest manifest: readers fall back to the version before; repair says the commit is lost
run_case manifest 'versions/*.manifest' 30
contains "$REPAIR" "is lost" && ok "manifest: the repair reports the lost commit" || fail "manifest: $REPAIR"

# 4. the IVF-PQ index file: rebuilt
run_case index 'index/*.ivfpq' mid
expect_exit 0 "$AETHERD" --workspace "$TMP/index" --vector-status || true
contains "$OUT" "ivfpq" && ok "index: a new index is in place" || fail "index: status: $OUT"

# 5. cheap checks on the read path: a truncated fragment fails the search with
# the file named, instead of answering from it.  A flipped footer byte: the
# manifest records each fragment's layout, so a search never reads the footer
# -- it fails naming the file, or answers exactly as the undamaged store does.
for kind in truncate footer; do
  ws="$TMP/read-$kind"
  rm -rf "$ws"; cp -a "$BASE" "$ws"
  t=$(tdir_of "$ws")
  f=$(cd "$t" && ls data/*.arrow | head -1)
  if [ $kind = truncate ]; then truncate -s -100 "$t/$f"; else flip "$t/$f" -12; fi
  set +e
  out=$("$AETHERD" --workspace "$ws" --search "value limit" --search-mode semantic 2>"$TMP/err")
  rc=$?
  set -e
  err=$(cat "$TMP/err")
  if [ $rc = 1 ]; then
    contains "$err" "$f" && contains "$err" "--repair" && [ -z "$out" ] &&
      ok "read path, $kind fragment: the search fails naming $f and the fix" || fail "read path $kind: out=$out err=$err"
  elif [ $kind = footer ] && [ "$(answers "$ws")" = "$WANT" ]; then
    ok "read path, footer: the search does not read the footer and answers exactly as before"
  else
    fail "read path $kind: rc=$rc out=$out err=$err"
  fi
  expect_exit 1 "$AETHERD" --workspace "$ws" --fsck || true
  contains "$OUT" "$f" && ok "read path, $kind fragment: --fsck names $f" || fail "read path $kind fsck: $OUT"
  expect_exit 0 "$AETHERD" --workspace "$ws" --repair || true
  [ "$(answers "$ws")" = "$WANT" ] && ok "read path, $kind fragment: repaired, answers equal the fresh index's" ||
    fail "read path $kind: answers after repair differ"
done

# 6. rows rewritten from the other backend's copy: after a toggle to sqlite and
# back, sir_embeddings holds the same embeddings; the repair copies them
# instead of re-embedding.
ws="$TMP/copy"
rm -rf "$ws"; cp -a "$BASE" "$ws"
printf '[embeddings]\nprovider = "mock"\nvector_backend = "sqlite"\n' >"$ws/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$ws" --index-once || true
printf '[embeddings]\nprovider = "mock"\nvector_backend = "lancedb"\n' >"$ws/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$ws" --index-once || true
t=$(tdir_of "$ws")
f=$(cd "$t" && ls data/*.arrow | head -1)
flip "$t/$f" mid
expect_exit 0 "$AETHERD" --workspace "$ws" --repair || true
printf "%s\n" "$OUT" | sed "s/^/    /"
contains "$OUT" "rows from the sqlite backend's current copy" && ! contains "$OUT" "re-embedding them" &&
  ok "copy: the damaged fragment's rows come from the sqlite copy, none re-embedded" || fail "copy: $OUT"
verify_json "$ws" && converged "$VJ" && [ "$(answers "$ws")" = "$WANT" ] &&
  ok "copy: fsck passes, answers equal the fresh index's" || fail "copy: after: $VJ"

finish
