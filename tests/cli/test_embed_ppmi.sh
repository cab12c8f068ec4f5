#!/usr/bin/env bash
# The learned embedder end to end: indexing trains a model, two processes on
# two copies train the same model byte for byte, an unchanged workspace
# re-embeds nothing, a model change re-embeds every symbol and drops the old
# model's vector table and file, a corrupt model is retrained, search without
# a model falls back to lexical with the reason.
. "$(dirname "$0")/lib.sh"

conf() { mkdir -p "$1/.aether"; printf '%b' "$2" >"$1/.aether/config.toml"; }
tables() { ls "$1/.aether/vectors" | grep -c "^d256-ppmi-" || true; }

WS=$(new_workspace a ws_small)
conf "$WS" '[embeddings]\nprovider = "ppmi"\n'
n_sym=$(true)
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
n_sym=$(sqlite3 "$WS/.aether/meta.sqlite" "select count(*) from symbols")
contains "$ERR" "trained on $n_sym symbols" && ok "index trains a model on $n_sym symbols" || fail "train: $ERR"
contains "$ERR" "$n_sym embeddings written" && ok "every symbol embedded" || fail "embed: $ERR"
M1=$(cat "$WS/.aether/models/CURRENT")
case "$M1" in ppmi-256-????????) ok "model name $M1" ;; *) fail "model name: $M1" ;; esac
[ -f "$WS/.aether/models/$M1.bin" ] && ok "model file in .aether/models" || fail "no model file"
[ "$(tables "$WS")" = 1 ] && ok "one ppmi vector table" || fail "tables: $(ls "$WS/.aether/vectors")"

# Another process, another copy, other BLAS thread counts: the same bytes.
WS2=$(new_workspace b ws_small)
conf "$WS2" '[embeddings]\nprovider = "ppmi"\n'
expect_exit 0 env OPENBLAS_NUM_THREADS=2 "$AETHERD" --workspace "$WS2" --index-once || true
[ "$(cat "$WS2/.aether/models/CURRENT")" = "$M1" ] && ok "same model in another process" || fail "model differs: $(cat "$WS2/.aether/models/CURRENT") vs $M1"
cmp -s "$WS/.aether/models/$M1.bin" "$WS2/.aether/models/$M1.bin" && ok "model files identical" || fail "model bytes differ"
for ws in "$WS" "$WS2"; do
  expect_exit 0 "$AETHERD" --workspace "$ws" --search "oauth refresh token" --search-mode semantic --output json || true
  echo "$OUT" >"$TMP/search_$(basename "$ws")"
done
cmp -s "$TMP/search_a" "$TMP/search_b" && ok "same results and scores in both" || fail "results differ"
python3 - "$(cat "$TMP/search_a")" <<'PY' && ok "semantic search answers with the model" || fail "search: $(cat "$TMP/search_a")"
import json, sys
d = json.loads(sys.argv[1])
assert d["mode_used"] == "semantic" and d["fallback_reason"] is None, d
assert d["matches"] and all(m["semantic_score"] is not None for m in d["matches"]), d
PY

# Unchanged: no training, nothing embedded.
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "0 embeddings written" && ! contains "$ERR" "trained" && ok "unchanged: nothing retrained or re-embedded" || fail "unchanged: $ERR"
# An edit re-embeds that symbol with the same (frozen) model.
sed -i 's|Look up a key in the memory cache.|Look up a key in the memory cache, or a default.|' "$WS/pkg/auth.py"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "1 embeddings written" && [ "$(cat "$WS/.aether/models/CURRENT")" = "$M1" ] && ok "edit: one re-embedded, model frozen" || fail "edit: $ERR"

# A model change (--retrain always after the edit; the config says "auto"): a new
# name, everything re-embedded into the new table, the old table and file dropped.
expect_exit 2 "$AETHERD" --workspace "$WS" --index-once --retrain sometimes || true
contains "$ERR" '--retrain: [embeddings] retrain = "sometimes" is not supported; accepted: "auto", "never", "always"' && ok "--retrain: bad value named" || fail "--retrain bad: $ERR"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --retrain always || true
M2=$(cat "$WS/.aether/models/CURRENT")
[ "$M2" != "$M1" ] && ok "retrained: $M2" || fail "same model after retrain"
contains "$ERR" "$n_sym embeddings written" && ok "model change re-embeds all $n_sym" || fail "re-embed: $ERR"
contains "$ERR" "dropped the vectors of 1 replaced embedding model" && ok "old table dropped" || fail "drop notice: $ERR"
[ "$(tables "$WS")" = 1 ] && ok "one ppmi table left" || fail "tables: $(ls "$WS/.aether/vectors")"
[ ! -e "$WS/.aether/models/$M1.bin" ] && [ -e "$WS/.aether/models/$M2.bin" ] && ok "old model file removed" || fail "model files: $(ls "$WS/.aether/models")"
# Retraining unchanged data gives the same model: nothing re-embedded (the
# config's retrain = "always" this time).
conf "$WS" '[embeddings]\nprovider = "ppmi"\nretrain = "always"\n'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
[ "$(cat "$WS/.aether/models/CURRENT")" = "$M2" ] && contains "$ERR" "0 embeddings written" && ok "retrain of unchanged data: same model" || fail "retrain unchanged: $ERR"

# A corrupt model is retrained (same data: same name, file rewritten).
conf "$WS" '[embeddings]\nprovider = "ppmi"\n'
printf 'XXXX' | dd of="$WS/.aether/models/$M2.bin" bs=1 seek=600 conv=notrunc 2>/dev/null
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "cannot be used" && contains "$ERR" "retraining" && ok "corrupt model: retrained with a notice" || fail "corrupt: $ERR"
expect_exit 0 "$AETHERD" --workspace "$WS" --search "oauth" --search-mode semantic --output json || true
contains "$OUT" '"mode_used": "semantic"' || contains "$OUT" '"mode_used":"semantic"' && ok "search works after repair" || fail "after repair: $OUT"

# Search in a workspace that never trained one: lexical, and why.
WS3=$(new_workspace c ws_small)
conf "$WS3" '[embeddings]\nprovider = "hash"\n'
expect_exit 0 "$AETHERD" --workspace "$WS3" --index-once || true
conf "$WS3" '[embeddings]\nprovider = "ppmi"\n'
expect_exit 0 "$AETHERD" --workspace "$WS3" --search "oauth" --search-mode semantic --output json || true
python3 - "$OUT" <<'PY' && ok "no model: lexical fallback with the reason" || fail "no model: $OUT"
import json, sys
d = json.loads(sys.argv[1])
assert d["mode_used"] == "lexical", d
assert d["fallback_reason"].startswith("embedding provider error: no embedding model"), d
PY
# A switch of provider re-embeds every symbol; the old provider's table, left
# without a live row, is dropped.
expect_exit 0 "$AETHERD" --workspace "$WS3" --index-once || fail "index after switch: $ERR"
contains "$ERR" "dropped 1 vector table left empty by a change of embedding provider" && ok "switch notice" || fail "switch notice: $ERR"
left=$(ls "$WS3/.aether/vectors" | grep '^d' | sed 's/-[0-9a-f]*-[0-9a-f]*$//' | tr '\n' ' ')
[ "$left" = "d256-ppmi-ppmi-256 " ] && ok "the hash table is dropped" || fail "tables after switch: $left"

# The model's name does not depend on the CPU: OpenBLAS's kernels for two CPU
# generations (both run on any x86-64) round the SVD differently, so the model
# files differ; the name, and so the vector table, stays.
for ct in Prescott Nehalem; do
  W=$(new_workspace "cpu-$ct" ws_small)
  OPENBLAS_CORETYPE=$ct "$AETHERD" --workspace "$W" --index-once >/dev/null 2>&1 || fail "index with $ct"
done
A="$TMP/cpu-Prescott/.aether/models" B="$TMP/cpu-Nehalem/.aether/models"
[ "$(cat "$A/CURRENT")" = "$(cat "$B/CURRENT")" ] && ok "same model name on two BLAS kernels: $(cat "$A/CURRENT")" ||
  fail "model name differs by CPU kernel: $(cat "$A/CURRENT") vs $(cat "$B/CURRENT")"
finish
