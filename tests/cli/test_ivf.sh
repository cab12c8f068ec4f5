#!/usr/bin/env bash
# The IVF-PQ index from the CLI: imported vectors past the (lowered) index
# threshold, --optimize builds the index, --vector-status and the MCP status
# show it, --exact and the index agree on stored vectors, the indexing
# pipeline builds an index by itself, and a corrupt index file falls back to
# the exact scan with a note on stderr.
. "$(dirname "$0")/lib.sh"
need_test_hooks # AE_FAULT & co. exist in test builds only

# Tables get an index from this many rows (AE_TABLE_INDEX_ENV) instead of the default (AE_IVFPQ_EXACT_BELOW_ROWS).
export AETHER_INDEX_MIN_ROWS=500
N=1200

W="$TMP/ws"
mkdir -p "$W/src" "$W/.aether"
python3 - "$W/src/gen.c" "$N" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"int gen_fn_{i:05d}(int x) {{ return x + {i}; }}\n")
PY
printf '[embeddings]\nprovider = "hash"\nvector_backend = "lancedb"\n' >"$W/.aether/config.toml"

# 1. Below the threshold: no index.
AETHER_INDEX_MIN_ROWS=100000 expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$W" --vector-status --output json || true
python3 - "$OUT" "$N" <<'PY' && ok "indexed $N symbols, no index below the threshold" || fail "status: $OUT"
import json, sys
t = json.loads(sys.argv[1])["tables"]
assert len(t) == 1 and t[0]["rows"] >= int(sys.argv[2]) and t[0]["index"] == "none", t
PY

# 2. Import clustered 64-d vectors of our own for every symbol (provider "byo").
expect_exit 0 "$AETHERD" --workspace "$W" --export-embeddings "$TMP/hash.jsonl" || true
python3 - "$TMP/hash.jsonl" "$TMP/byo.jsonl" <<'PY'
import json, random, sys
rnd = random.Random(7)
cent = [[rnd.gauss(0, 1) for _ in range(64)] for _ in range(30)]
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        d = json.loads(line)
        c = cent[rnd.randrange(30)]
        v = [x + 0.4 * rnd.gauss(0, 1) for x in c]
        out.write(json.dumps({"symbol_id": d["symbol_id"], "sir_hash": d["sir_hash"],
                              "provider": "byo", "model": "clustered", "embedding": v}) + "\n")
PY
expect_exit 0 "$AETHERD" --workspace "$W" --import-embeddings "$TMP/byo.jsonl" || true
expect_exit 0 "$AETHERD" --workspace "$W" --vector-status --output json || true
python3 - "$OUT" <<'PY' && ok "import alone builds no index" || fail "status after import: $OUT"
import json, sys
t = {x["provider"]: x for x in json.loads(sys.argv[1])["tables"]}
assert t["byo"]["index"] == "none" and t["byo"]["rows"] >= 1200, t
PY

# 3. --optimize builds the index over the compacted table.
expect_exit 0 "$AETHERD" --workspace "$W" --optimize || true
expect_exit 0 "$AETHERD" --workspace "$W" --vector-status --output json || true
python3 - "$OUT" <<'PY' && ok "--optimize built the index; --vector-status shows it" || fail "status after optimize: $OUT"
import json, sys
t = {x["provider"]: x for x in json.loads(sys.argv[1])["tables"]}
b = t["byo"]
assert b["index"] == "ivfpq" and b["index_rows"] == b["rows"] and b["unindexed_rows"] == 0, b
PY
expect_exit 0 "$AETHERD" --workspace "$W" --vector-status || true
contains "$OUT" "ivfpq" && ok "table output names the index" || fail "table status: $OUT"
ls "$W"/.aether/vectors/*/index/*.ivfpq >/dev/null 2>&1 && ok "index file under index/" || fail "no index file"

# 3b. A search process loads neither OpenBLAS nor libcurl (src/util/blas.c,
#     http.c open them on first use); an index build opens OpenBLAS, and a
#     missing OpenBLAS fails the build with a message naming it.
loaded() { { LD_DEBUG=files "$@" 2>&1 >/dev/null || true; } | { grep -oE 'file=lib(openblas|curl)[^ ]*' || true; } | sort -u | tr '\n' ' '; }
libs=$(loaded "$AETHERD" --workspace "$W" --search gen_fn_00042 --search-mode semantic)
[ -z "$libs" ] && ok "a semantic search loads no BLAS or HTTP library" || fail "search loaded: $libs"
# (copies whose index file is damaged: --optimize must build a new one)
for c in blas noblas; do
  cp -r "$W" "$TMP/ws-$c"
  for f in "$TMP/ws-$c"/.aether/vectors/*/index/*.ivfpq; do
    printf '\xa5' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") / 2)) conv=notrunc 2>/dev/null
  done
done
libs=$(loaded "$AETHERD" --workspace "$TMP/ws-blas" --optimize)
contains "$libs" "libopenblas" && ok "an index build opens OpenBLAS ($libs)" || fail "optimize loaded: '$libs'"
AETHER_BLAS_LIBRARY=/nonexistent/libopenblas.so.0 expect_exit 1 "$AETHERD" --workspace "$TMP/ws-noblas" --optimize || true
contains "$ERR$OUT" "cannot load /nonexistent/libopenblas.so.0" && ok "missing OpenBLAS: the build says which library" \
  || fail "missing OpenBLAS message: $OUT $ERR"

# 4. --exact and the index agree on top-1 for queries equal to stored vectors.
search_top() { # search_top VEC [flags...] -> symbol_id of the top hit
  local v=$1; shift
  "$AETHERD" --workspace "$W" --search-vector "$v" --search-provider byo --search-model clustered \
    --search-limit 5 --output json "$@" 2>"$TMP/serr" |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["matches"]; print(m[0]["symbol_id"], m[0]["semantic_score"])'
}
agree=0
checked=0
while read -r sid vec; do
  a=$(search_top "$vec" --exact)
  b=$(search_top "$vec")
  checked=$((checked + 1))
  [ "${a%% *}" = "$sid" ] && [ "${b%% *}" = "$sid" ] && agree=$((agree + 1))
done < <(python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    if i % 97 == 0:
        d = json.loads(line); print(d["symbol_id"], json.dumps(d["embedding"]))' "$TMP/byo.jsonl")
[ "$checked" -ge 10 ] && [ "$agree" -eq "$checked" ] && ok "--exact and the index agree on top-1 ($agree/$checked)" \
  || fail "top-1 agreement $agree/$checked"
# An exhaustive probe gives the exact scan's list.
read -r vec < <(python3 -c 'import json,sys; print(json.dumps(json.loads(open(sys.argv[1]).readline())["embedding"]))' "$TMP/byo.jsonl")
ex=$("$AETHERD" --workspace "$W" --search-vector "$vec" --search-provider byo --search-model clustered --search-limit 10 --output json --exact)
ap=$("$AETHERD" --workspace "$W" --search-vector "$vec" --search-provider byo --search-model clustered --search-limit 10 --output json --nprobe 65536 --refine 1000)
python3 - "$ex" "$ap" <<'PY' && ok "nprobe = nlist with a full re-rank returns the exact list" || fail "exhaustive differs"
import json, sys
a, b = (json.loads(x)["matches"] for x in sys.argv[1:3])
assert [m["symbol_id"] for m in a] == [m["symbol_id"] for m in b] and len(a) == 10, (a, b)
PY

# 5. The MCP status reports the index state.
if [ -x "$AE_BUILD_DIR/aether-mcp" ]; then
  st=$(python3 - "$AE_BUILD_DIR/aether-mcp" "$W" <<'PY'
import json, subprocess, sys
p = subprocess.Popen([sys.argv[1], "--workspace", sys.argv[2]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
def call(i, method, params):
    p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n")
    p.stdin.flush()
    return json.loads(p.stdout.readline())
call(1, "initialize", {"protocolVersion": "2024-11-05", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "0"}})
p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
r = call(2, "tools/call", {"name": "aether_status", "arguments": {}})
p.stdin.close(); p.wait()
res = r["result"]
s = res.get("structuredContent") or json.loads(res["content"][0]["text"])
print(s["index_state"])
PY
  ) || true
  contains "$st" "ivfpq nlist=" && ok "MCP status: $st" || fail "MCP index_state: $st"
fi

# 6. A corrupt index file: exact answers and a note, then --optimize repairs.
for f in "$W"/.aether/vectors/*/index/*.ivfpq; do
  size=$(stat -c %s "$f")
  printf '\xa5' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
done
while read -r sid vec; do
  b=$(search_top "$vec")
  [ "${b%% *}" = "$sid" ] || fail "corrupt index: top-1 ${b%% *}, wanted $sid"
done < <(python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    if i % 301 == 0:
        d = json.loads(line); print(d["symbol_id"], json.dumps(d["embedding"]))' "$TMP/byo.jsonl")
contains "$(cat "$TMP/serr")" "exact scan used" && ok "corrupt index: exact answers, note on stderr" \
  || fail "no note for the corrupt index: $(cat "$TMP/serr")"
expect_exit 0 "$AETHERD" --workspace "$W" --optimize || true
read -r vec < <(python3 -c 'import json,sys; print(json.dumps(json.loads(open(sys.argv[1]).readline())["embedding"]))' "$TMP/byo.jsonl")
search_top "$vec" >/dev/null
! contains "$(cat "$TMP/serr")" "exact scan used" && ok "--optimize replaced the corrupt index" \
  || fail "still corrupt after optimize: $(cat "$TMP/serr")"
# 7. The pipeline builds an index by itself: the next run re-embeds every
#    symbol with the configured provider (hash), past the threshold.
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$W" --vector-status --output json || true
python3 - "$OUT" <<'PY' && ok "--index-once built the hash table's index" || fail "pipeline index: $OUT"
import json, sys
t = {x["provider"]: x for x in json.loads(sys.argv[1])["tables"]}
h = t["hash"]
assert h["rows"] >= 1200 and h["index"] == "ivfpq" and h["unindexed_rows"] == 0, h
PY
ex=$("$AETHERD" --workspace "$W" --search "gen_fn_00042 return" --search-mode semantic --output json --exact)
ap=$("$AETHERD" --workspace "$W" --search "gen_fn_00042 return" --search-mode semantic --output json --nprobe 65536 --refine 1000)
python3 - "$ex" "$ap" <<'PY' && ok "semantic search through the index matches --exact" || fail "semantic exhaustive differs"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
assert a["mode_used"] == "semantic" and b["mode_used"] == "semantic"
assert [m["symbol_id"] for m in a["matches"]] == [m["symbol_id"] for m in b["matches"]]
PY
# A few new symbols later the index is still used; the new rows are found at once.
echo "int gen_fn_brand_new(int x) { return x * 99; }" >>"$W/src/gen.c"
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
expect_exit 0 "$AETHERD" --workspace "$W" --vector-status --output json || true
python3 - "$OUT" <<'PY' && ok "a small change leaves the index in place" || fail "after a small change: $OUT"
import json, sys
h = {x["provider"]: x for x in json.loads(sys.argv[1])["tables"]}["hash"]
assert h["index"] == "ivfpq" and h["unindexed_rows"] >= 1, h
PY
expect_exit 0 "$AETHERD" --workspace "$W" --search "gen_fn_brand_new" --search-mode semantic --output json || true
python3 - "$OUT" <<'PY' && ok "a symbol added after the build is found" || fail "new symbol: $OUT"
import json, sys
m = json.loads(sys.argv[1])["matches"]
assert any(x["qualified_name"].endswith("gen_fn_brand_new") for x in m[:3]), m
PY

# 8. [search] nprobe / refine_factor in the config apply when no flag is given.
sem() { "$AETHERD" --workspace "$W" --search "$1" --search-mode semantic --search-limit 10 --output json "${@:2}" |
  python3 -c 'import json,sys; print(" ".join(m["symbol_id"][:12] for m in json.load(sys.stdin)["matches"]))'; }
picked=""
for q in "gen_fn_00042 return" "return x plus" "int gen fn" "gen_fn_01100" "x + 7" "function gen"; do
  [ "$(sem "$q" --nprobe 1 --refine 1)" != "$(sem "$q" --exact)" ] && { picked=$q; break; }
done
if [ -z "$picked" ]; then
  fail "nprobe 1 / refine 1 never differed from --exact: the knobs do nothing"
else
  want=$(sem "$picked" --nprobe 1 --refine 1)
  cp "$W/.aether/config.toml" "$TMP/config.bak"
  printf '\n[search]\nnprobe = 1\nrefine_factor = 1\n' >>"$W/.aether/config.toml"
  [ "$(sem "$picked")" = "$want" ] && ok "[search] nprobe/refine_factor from the config are used" \
    || fail "config knobs ignored for '$picked'"
  [ "$(sem "$picked" --exact)" != "$want" ] && ok "--exact still overrides the config" || fail "--exact with config"
  cp "$TMP/config.bak" "$W/.aether/config.toml"
fi

# 9. [search] target_recall reaches the builds: the next index pass re-measures an index tuned
#    for another target (no rebuild: same file) and records the new target and setting, which
#    --vector-status shows from a fresh process; a bad value is refused naming key and file.
tuned() { "$AETHERD" --workspace "$W" --vector-status --output json | python3 -c '
import json, sys
b = {x["provider"]: x for x in json.load(sys.stdin)["tables"]}["hash"]
print(b.get("index_target_recall"), b.get("index_nprobe"), b.get("index_refine"), b.get("index_recall"))'; }
ixfile() { ls "$W"/.aether/vectors/*/index/*.ivfpq | sort | tr "\n" " "; }
cp "$W/.aether/config.toml" "$TMP/config.bak"
read -r t0 np0 rf0 r0 < <(tuned)
f0=$(ixfile)
[ "$t0" = "0.95" ] && ok "default target 0.95 recorded (nprobe $np0, refine $rf0, recall $r0)" || fail "default target: $t0"
for tr in 0.5 0.999; do
  v=lo
  [ "$tr" = 0.999 ] && v=hi
  cp "$TMP/config.bak" "$W/.aether/config.toml"
  printf '\n[search]\ntarget_recall = %s\n' "$tr" >>"$W/.aether/config.toml"
  expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
  read -r t np rf r < <(tuned)
  [ "$t" = "$tr" ] && [ "$(ixfile)" = "$f0" ] && ok "target_recall $tr recorded, same index files: nprobe $np refine $rf recall $r" \
    || fail "target_recall $tr: recorded '$t', file $(ixfile) (was $f0)"
  eval "np_$v=\$np rf_$v=\$rf r_$v=\$r"
done
python3 - "${np_lo}" "${rf_lo}" "${np_hi}" "${rf_hi}" "${r_lo}" "${r_hi}" <<'PY' &&
import sys
a, b, c, d = (int(x) for x in sys.argv[1:5])
assert c * d >= a * b and float(sys.argv[6]) >= float(sys.argv[5]), sys.argv
PY
  ok "a higher target_recall never buys a cheaper setting (${np_lo}x${rf_lo} -> ${np_hi}x${rf_hi}; strictly costlier on hard data: test_table_tune)" ||
  fail "target_recall 0.5 -> 0.999 lowered the setting: ${np_lo}x${rf_lo} -> ${np_hi}x${rf_hi}"
for bad in 1.5 0 nan '"high"'; do
  cp "$TMP/config.bak" "$W/.aether/config.toml"
  printf '\n[search]\ntarget_recall = %s\n' "$bad" >>"$W/.aether/config.toml"
  expect_exit 1 "$AETHERD" --workspace "$W" --index-once || true
  contains "$ERR" "config.toml:" && contains "$ERR" "[search] target_recall" &&
    ok "target_recall = $bad refused: $(echo "$ERR" | head -1)" || fail "target_recall = $bad: $OUT $ERR"
done
cp "$TMP/config.bak" "$W/.aether/config.toml"

# 10. [search] index_build_memory_mb: a budget the build fits in is accepted (the index stays);
#     a bad value is refused naming key and file (a build over budget is refused: test_build_budget).
printf '\n[search]\nindex_build_memory_mb = 64\n' >>"$W/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$W" --index-once || true
read -r t np rf r < <(tuned)
[ "$(ixfile)" = "$f0" ] && ok "index_build_memory_mb = 64 accepted, index kept" || fail "budget 64: $(ixfile) $ERR"
for bad in 8 2097152 1.5 '"2G"'; do
  cp "$TMP/config.bak" "$W/.aether/config.toml"
  printf '\n[search]\nindex_build_memory_mb = %s\n' "$bad" >>"$W/.aether/config.toml"
  expect_exit 1 "$AETHERD" --workspace "$W" --index-once || true
  contains "$ERR" "config.toml:" && contains "$ERR" "[search] index_build_memory_mb" &&
    ok "index_build_memory_mb = $bad refused: $(echo "$ERR" | head -1)" || fail "index_build_memory_mb = $bad: $OUT $ERR"
done
cp "$TMP/config.bak" "$W/.aether/config.toml"
finish
