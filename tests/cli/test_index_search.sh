#!/usr/bin/env bash
# Index a small multi-language workspace, search it, and re-index incrementally.
. "$(dirname "$0")/lib.sh"
WS=$(new_workspace ws ws_small)

expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
contains "$ERR" "symbols" && ok "summary line on stderr" || fail "summary line: $ERR"
n_sir=$(grep -c '^SIR_STORED symbol_id=[0-9a-f]\{64\} sir_hash=[0-9a-f]\{64\} provider=static$' <<<"$OUT" || true)
[ "$n_sir" -ge 10 ] && ok "SIR_STORED lines ($n_sir)" || fail "SIR_STORED lines: $n_sir"
[ -f "$WS/.aether/config.toml" ] && [ -f "$WS/.aether/meta.sqlite" ] && ok "store created" || fail "store files"
n_mirror=$(ls "$WS/.aether/sir" | wc -l)
[ "$n_mirror" -eq "$n_sir" ] && ok "SIR mirrors ($n_mirror)" || fail "mirrors $n_mirror vs $n_sir"

# Languages and kinds.
for lang in rust python go c typescript; do
  expect_exit 0 "$AETHERD" --workspace "$WS" --search "$lang" --search-limit 100 || true
  contains "$OUT" "	$lang	" && ok "language $lang indexed" || fail "no $lang symbol: $OUT"
done

# Lexical ordering: exact name, then prefix, then substring; ties by qualified name.
expect_exit 0 "$AETHERD" --workspace "$WS" --search parseConfig --output table || true
first=$(sed -n 2p <<<"$OUT" | cut -f2)
[ "$first" = "parseConfig" ] && ok "exact name first" || fail "exact name first: $OUT"
[ "$(head -1 <<<"$OUT")" = "symbol_id	qualified_name	file_path	language	kind" ] && ok "table header" || fail "table header"
expect_exit 0 "$AETHERD" --workspace "$WS" --search parse --output json || true
python3 - "$OUT" <<'PY' && ok "json envelope + order" || fail "json envelope: $OUT"
import json, sys
d = json.loads(sys.argv[1])
assert d["mode_requested"] == "lexical" and d["mode_used"] == "lexical" and d["fallback_reason"] is None
names = [m["qualified_name"] for m in d["matches"]]
assert names, names
assert all(set(m) == {"symbol_id", "qualified_name", "file_path", "language", "kind", "semantic_score"} for m in d["matches"])
assert all(m["semantic_score"] is None for m in d["matches"])
# every name-prefix match comes before every match that is only a substring
short = [n.split("::")[-1].lower() for n in names]
pre = [s.startswith("parse") for s in short]
assert pre == sorted(pre, reverse=True), names
PY
# LIKE metacharacters are literal.
expect_exit 0 "$AETHERD" --workspace "$WS" --search "%" --output json || true
contains "$OUT" '"matches":[]' && ok "% is literal" || fail "% matched: $OUT"
expect_exit 0 "$AETHERD" --workspace "$WS" --search "" --output json || true
contains "$OUT" '"matches":[]' && ok "empty query" || fail "empty query: $OUT"

# Second pass on an unchanged workspace writes nothing.
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
[ -z "$OUT" ] && contains "$ERR" "0 changed" && ok "unchanged: no writes" || fail "unchanged pass: $OUT / $ERR"

# Edit one function body: exactly that SIR changes, its id stays.
id_before=$("$AETHERD" --workspace "$WS" --search cache_lookup --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["matches"][0]["symbol_id"])')
sed -i 's/return table.get(key)/value = table.get(key)\n    if value is None:\n        raise KeyError(key)\n    return value/' "$WS/pkg/auth.py"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
[ "$(grep -c SIR_STORED <<<"$OUT")" -eq 1 ] && contains "$OUT" "symbol_id=$id_before" && ok "edit: one SIR changed, same id" || fail "edit pass: $OUT"

# Delete a file: its symbols disappear (and their mirrors).
rm "$WS/src/server.go"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "1 removed" && ok "delete reported" || fail "delete: $ERR"
expect_exit 0 "$AETHERD" --workspace "$WS" --search Server --output json || true
! contains "$OUT" "server.go" && ok "deleted symbols gone" || fail "deleted symbols remain: $OUT"
n_sym=$(sqlite3 "$WS/.aether/meta.sqlite" "select count(*) from symbols")
n_mirror=$(ls "$WS/.aether/sir" | wc -l)
[ "$n_sym" -eq "$n_mirror" ] && ok "mirrors follow deletes ($n_mirror)" || fail "mirrors $n_mirror vs symbols $n_sym"
finish
