#!/usr/bin/env bash
# The frozen v1 store (tests/golden/v1-store.tar.xz, written on 2026-12-02 by
# that day's build, tests/golden/make_v1.sh): 270 symbols, both vector
# backends, an IVF-PQ index, deletion files, four retained table versions.
# Every later build must open it, answer the recorded questions exactly as
# recorded (tests/golden/v1-answers.txt), pass --fsck, and take updates.  A
# format change keeps this passing by reading the old files or by migrating
# them (docs/FORMAT.md, "Compatibility"); never by re-recording the answers.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
need_test_hooks # AETHER_INDEX_MIN_ROWS: 270 rows go through the index, as recorded
export AETHER_INDEX_MIN_ROWS=256
G="$AE_SOURCE_DIR/tests/golden"
W="$TMP/ws"
mkdir -p "$W"
tar -xJf "$G/v1-store.tar.xz" -C "$W"

got=$(bash "$G/answers_v1.sh" "$AETHERD" "$W")
if [ "$got" = "$(cat "$G/v1-answers.txt")" ]; then
  ok "v1 store: $(grep -c '^== ' "$G/v1-answers.txt") recorded questions answered exactly as recorded"
else
  fail "v1 store answers differ (< recorded, > this build):"
  diff <(cat "$G/v1-answers.txt") <(echo "$got") | head -30
fi
expect_exit 0 "$AETHERD" --workspace "$W" --fsck || true
contains "$OUT" "fsck: ok" && ok "v1 store: --fsck passes" || fail "v1 fsck: $OUT"

# The sqlite backend of the same store answers the exact semantic question alike.
exact_block() { awk '/^== --search Render the cache item 3 --search-mode semantic --search-limit 10 --exact$/{f=1;next} /^== /{f=0} f' "$1"; }
want=$(exact_block "$G/v1-answers.txt")
sed -i 's/"lancedb"/"sqlite"/' "$W/.aether/config.toml"
got=$("$AETHERD" --workspace "$W" --search "Render the cache item 3" --search-mode semantic --search-limit 10 --exact 2>/dev/null | cut -f1,2)
[ -n "$want" ] && [ "$got" = "$want" ] && ok "v1 store, sqlite backend: the same exact semantic answers" ||
  fail "v1 sqlite answers: $got"
sed -i 's/"sqlite"/"lancedb"/' "$W/.aether/config.toml"

# Updates on top of the old files: new, changed and deleted code, a compaction.
printf 'def golden_new_function(x):\n    """A function added after the freeze."""\n    return x\n' >"$W/src/new.py"
sed -i 's/Render the/Draw the/' "$W/src/m03.py"
rm "$W/src/m07.py"
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$W" --fsck --output json || true
python3 - "$OUT" <<'PY' && ok "v1 store updated: --fsck passes, every current SIR embedded" || fail "v1 update fsck: $OUT"
import json, sys
d = json.loads(sys.argv[1]); c = d["cross_store"]
sys.exit(0 if d["ok"] and c["sirs_pending"] == 0 and c["sirs_embedded"] == c["sirs_current"] == c["store_rows"] else 1)
PY
expect_exit 0 "$AETHERD" --workspace "$W" --search golden_new_function || true
contains "$OUT" "golden_new_function" && ok "v1 store updated: the new function is found" || fail "v1 new function: $OUT"
expect_exit 0 "$AETHERD" --workspace "$W" --search "function added after the freeze" --search-mode semantic --exact || true
contains "$OUT" "golden_new_function" && ok "v1 store updated: semantic search finds it too" || fail "v1 semantic new: $OUT"
expect_exit 0 "$AETHERD" --workspace "$W" --optimize || true
expect_exit 0 "$AETHERD" --workspace "$W" --fsck || true
contains "$OUT" "fsck: ok" && ok "v1 store compacted: --fsck passes" || fail "v1 optimize fsck: $OUT"
sed -i 's/"lancedb"/"sqlite"/' "$W/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$W" --fsck || true
contains "$OUT" "fsck: ok" && ok "v1 store switched to sqlite after the update: --fsck passes" || fail "v1 sqlite fsck: $OUT"
finish
