#!/usr/bin/env bash
# Semantic and hybrid search end to end: mock-provider ranking, every fallback
# reason, and re-embedding only what changed.
. "$(dirname "$0")/lib.sh"

conf() { mkdir -p "$1/.aether"; printf '%b' "$2" >"$1/.aether/config.toml"; }
reason() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["mode_used"], "|", d["fallback_reason"])' "$1"; }

WS=$(new_workspace ws ws_small)
conf "$WS" '[embeddings]\nprovider = "mock"\n'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "embeddings written" && ok "indexed with mock embeddings" || fail "index: $ERR"

# The oauth symbol beats the cache one for "oauth refresh token", in both modes.
for mode in semantic hybrid; do
  expect_exit 0 "$AETHERD" --workspace "$WS" --search "oauth refresh token" --search-mode $mode --output json || true
  python3 - "$OUT" "$mode" <<'PY' && ok "$mode: oauth symbol ranks first" || fail "$mode ranking: $OUT"
import json, sys
d = json.loads(sys.argv[1]); names = [m["qualified_name"] for m in d["matches"]]
assert d["mode_used"] == sys.argv[2] and d["fallback_reason"] is None, d
assert names[0] == "SessionStore::refresh_token", names
assert names.index("SessionStore::refresh_token") < names.index("cache_lookup"), names
if sys.argv[2] == "semantic":
    s = [m["semantic_score"] for m in d["matches"]]
    assert s == sorted(s, reverse=True) and all(-1.0001 <= x <= 1.0001 for x in s), s
PY
done
# Limits are clamped to 1..100.
expect_exit 0 "$AETHERD" --workspace "$WS" --search "token" --search-mode semantic --search-limit 0 --output json || true
[ "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["matches"]))' "$OUT")" = 1 ] && ok "limit 0 clamps to 1" || fail "limit clamp: $OUT"

# Fallback: a query with no tokens embeds to zeros.
expect_exit 0 "$AETHERD" --workspace "$WS" --search "!!!" --search-mode semantic --output json || true
[ "$(reason "$OUT")" = "lexical | embedding provider returned an empty query vector" ] && ok "fallback: empty query vector" || fail "empty vector: $OUT"
contains "$ERR" "fell back to lexical" && ok "fallback notice on stderr" || fail "no notice: $ERR"

# Fallback: vectors exist only for another provider/model.
conf "$WS" '[embeddings]\nprovider = "hash"\n'
expect_exit 0 "$AETHERD" --workspace "$WS" --search "oauth" --search-mode hybrid --output json || true
[ "$(reason "$OUT")" = "lexical | semantic index not ready for this embedding provider/model" ] && ok "fallback: index not ready" || fail "not ready: $OUT"

# Fallback: embeddings disabled.
conf "$WS" '[embeddings]\nenabled = false\nprovider = "mock"\n'
expect_exit 0 "$AETHERD" --workspace "$WS" --search "oauth" --search-mode semantic --output json || true
[ "$(reason "$OUT")" = "lexical | embeddings are disabled in .aether/config.toml" ] && ok "fallback: disabled" || fail "disabled: $OUT"

# Fallback: the provider fails (an HTTP provider pointed at a closed local port).
conf "$WS" '[embeddings]\nprovider = "openai_compat"\nmodel = "m"\nendpoint = "http://127.0.0.1:9"\n'
expect_exit 0 env AE_HTTP_MAX_RETRIES=0 "$AETHERD" --workspace "$WS" --search "oauth" --search-mode semantic --output json || true
r=$(reason "$OUT")
case "$r" in "lexical | embedding provider error: "*) ok "fallback: provider error" ;; *) fail "provider error: $OUT" ;; esac

# Only changed SIRs are re-embedded.
conf "$WS" '[embeddings]\nprovider = "mock"\n'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "0 embeddings written" && ok "unchanged: nothing re-embedded" || fail "unchanged re-embed: $ERR"
sed -i 's|Look up a key in the memory cache.|Look up a key in the memory cache, or a default.|' "$WS/pkg/auth.py"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "1 embeddings written" && ok "edit: exactly one re-embedded" || fail "edit re-embed: $ERR"
# Switching the embedding provider re-embeds everything for the new one.
conf "$WS" '[embeddings]\nprovider = "hash"\n'
n_sym=$(sqlite3 "$WS/.aether/meta.sqlite" "select count(*) from symbols")
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "$n_sym embeddings written" && ok "provider switch re-embeds all $n_sym" || fail "provider switch: $ERR"
finish
