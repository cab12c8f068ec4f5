#!/usr/bin/env bash
# The vector store from the CLI: both backends agree, JSONL import/export,
# --search-vector, --vector-status, --optimize, --fsck catching corruption.
. "$(dirname "$0")/lib.sh"

mkws() { # mkws NAME BACKEND
  local ws; ws=$(new_workspace "$1" ws_small)
  mkdir -p "$ws/.aether"
  printf '[embeddings]\nprovider = "hash"\nvector_backend = "%s"\n' "$2" >"$ws/.aether/config.toml"
  "$AETHERD" --workspace "$ws" --index-once 2>/dev/null
  echo "$ws"
}
WL=$(mkws lance lancedb)
WS=$(mkws sqlite sqlite)
[ -d "$WL/.aether/vectors" ] && ok "lancedb backend wrote .aether/vectors" || fail "no vectors dir"

# Same ids, same order, same scores (1e-5) from both backends.
for q in "oauth refresh token" "parse config" "cosine similarity vectors" "start server"; do
  a=$("$AETHERD" --workspace "$WL" --search "$q" --search-mode semantic --output json)
  b=$("$AETHERD" --workspace "$WS" --search "$q" --search-mode semantic --output json)
  python3 - "$a" "$b" <<'PY' && ok "backends agree: $q" || fail "backends differ for '$q'"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
assert a["mode_used"] == "semantic" and b["mode_used"] == "semantic", (a, b)
assert [m["symbol_id"] for m in a["matches"]] == [m["symbol_id"] for m in b["matches"]]
assert all(abs(x["semantic_score"] - y["semantic_score"]) < 1e-5 for x, y in zip(a["matches"], b["matches"]))
PY
done

# Export: one line per symbol, lossless round trip through import into the other backend.
expect_exit 0 "$AETHERD" --workspace "$WL" --export-embeddings "$TMP/l.jsonl" || true
n_sym=$(sqlite3 "$WL/.aether/meta.sqlite" "select count(*) from symbols")
[ "$(wc -l <"$TMP/l.jsonl")" -eq "$n_sym" ] && ok "export has $n_sym rows" || fail "export rows $(wc -l <"$TMP/l.jsonl") vs $n_sym"
expect_exit 0 "$AETHERD" --workspace "$WS" --export-embeddings "$TMP/s.jsonl" || true
python3 - "$TMP/l.jsonl" "$TMP/s.jsonl" <<'PY' && ok "exports of both backends are identical" || fail "exports differ"
import json, sys
def load(p):
    return {d["symbol_id"]: (d["sir_hash"], d["provider"], d["model"], d["embedding"]) for d in map(json.loads, open(p))}
assert load(sys.argv[1]) == load(sys.argv[2])
PY

# --search-vector: a stored vector finds its own symbol first, score 1.
read -r sid vec < <(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["symbol_id"], json.dumps(d["embedding"]))' "$TMP/l.jsonl")
expect_exit 0 "$AETHERD" --workspace "$WL" --search-vector "$vec" --search-provider hash --search-model hash-v1 --search-limit 3 --output json || true
python3 - "$OUT" "$sid" <<'PY' && ok "--search-vector finds the row" || fail "--search-vector: $OUT"
import json, sys
d = json.loads(sys.argv[1]); m = d["matches"]
assert m[0]["symbol_id"] == sys.argv[2] and abs(m[0]["semantic_score"] - 1) < 1e-5, m
PY
expect_exit 1 "$AETHERD" --workspace "$WL" --search-vector "[1,2,3]" --search-provider hash --search-model hash-v1 || true
contains "$ERR" "dim 3" && ok "--search-vector with no such table names provider/model/dim" || fail "search-vector wrong dim: $ERR"
expect_exit 2 "$AETHERD" --workspace "$WL" --search-vector "[1,\"x\"]" --search-provider hash --search-model hash-v1 || true
expect_exit 2 "$AETHERD" --workspace "$WL" --search-vector "[1]" || true

# Import: bad lines reported by number, the rest imported; nothing stored is damaged.
W2=$(new_workspace imp ws_small); mkdir -p "$W2/.aether"
printf '[embeddings]\nprovider = "hash"\n' >"$W2/.aether/config.toml"
"$AETHERD" --workspace "$W2" --index-once 2>/dev/null
{
  head -3 "$TMP/l.jsonl" | sed 's/"provider":"hash"/"provider":"byo"/'
  echo '{"symbol_id":"x","sir_hash":"h","provider":"byo","model":"hash-v1","embedding":[1,"a"]}'
  echo 'not json'
  echo '{"symbol_id":"","sir_hash":"h","provider":"byo","model":"hash-v1","embedding":[1,2]}'
  echo '{"symbol_id":"y","sir_hash":"h","provider":"byo","model":"hash-v1","embedding":[1e39]}'
} >"$TMP/in.jsonl"
expect_exit 1 "$AETHERD" --workspace "$W2" --import-embeddings "$TMP/in.jsonl" || true
contains "$ERR" "in.jsonl:4: embedding[1] is not a number" && contains "$ERR" "in.jsonl:5: invalid JSON" \
  && contains "$ERR" "in.jsonl:6:" && contains "$ERR" "in.jsonl:7:" && contains "$ERR" "imported 3 embeddings" \
  && ok "bad import lines reported, good ones imported" || fail "import report: $ERR"
expect_exit 0 "$AETHERD" --workspace "$W2" --vector-status --output json || true
# One embedding per symbol (as in the legacy table): the 3 imported rows replaced theirs.
python3 - "$OUT" "$n_sym" <<'PY' && ok "vector-status lists both tables" || fail "vector-status: $OUT"
import json, sys
d = json.loads(sys.argv[1]); t = {x["provider"]: x for x in d["tables"]}
assert t["byo"]["rows"] == 3 and t["hash"]["rows"] == int(sys.argv[2]) - 3, t
assert d["vector_backend"] == "lancedb"
PY

# The next index run re-embeds those 3 with the configured provider.
expect_exit 0 "$AETHERD" --workspace "$W2" --index-once || true
contains "$ERR" "3 embeddings written" && ok "index run restores configured-provider embeddings" || fail "re-embed after import: $ERR"

# Optimize keeps every row and search results.
before=$("$AETHERD" --workspace "$WL" --search "parse config" --search-mode semantic --output json)
for i in 1 2 3; do echo "// touch $i" >>"$WL/src/vec.c"; "$AETHERD" --workspace "$WL" --index-once 2>/dev/null; done
expect_exit 0 "$AETHERD" --workspace "$WL" --optimize || true
after=$("$AETHERD" --workspace "$WL" --search "parse config" --search-mode semantic --output json)
[ "$before" = "$after" ] && ok "optimize keeps results" || fail "optimize changed results"
expect_exit 0 "$AETHERD" --workspace "$WL" --fsck || true
contains "$OUT" "fsck: ok" && ok "verify passes on a healthy store" || fail "verify: $OUT"

# Corrupt one byte in the middle of a fragment: verify names the file and fails.
frag=$(ls "$WL"/.aether/vectors/*/data/* | head -1)
size=$(stat -c %s "$frag")
printf '\xff' | dd of="$frag" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 1 "$AETHERD" --workspace "$WL" --fsck || true
contains "$OUT" "$(basename "$frag")" && ok "verify names the corrupt fragment" || fail "verify corrupt: $OUT"
finish
