#!/usr/bin/env bash
# Index through HTTP providers (Ollama embeddings + chat) served by tests/http_stub/stub.js on
# loopback, then resume after a provider failure:
#   1. 300 one-function files; the chat model fails after 280 SIRs.  Five failures in a row
#      stop the run (docs/PROVIDERS.md, failure policy): it fails naming the endpoint and
#      status; the 280 SIRs and the stale rows of the failed symbols are committed, the files
#      never attempted are not recorded.
#   2. The next run asks the model only for the symbols without a SIR, embeds everything.
#   3. A third run asks nothing of the chat model and embeds nothing new.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { echo "FAIL: node is required (scripts/install-deps.sh installs it)"; exit 1; }

node "$AE_SOURCE_DIR/tests/http_stub/stub.js" "$TMP/port" &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || { echo "FAIL: stub did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/port")"
control() { curl -s --noproxy '*' -X POST -d "$1" "$URL/__control" >/dev/null; }
stat_of() { curl -s --noproxy '*' "$URL/__stats" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$WS/.aether/meta.sqlite" "$1"; }
sir_rows() { sql "SELECT count(*) FROM sir WHERE provider='ollama' AND sir_json IS NOT NULL"; }

WS="$TMP/ws"
mkdir -p "$WS/.aether" "$WS/pkg"
for i in $(seq -w 1 300); do
  printf 'def handler_%s(x):\n    """Handle case %s."""\n    return x + %d\n' "$i" "$i" "$((10#$i))" >"$WS/pkg/m$i.py"
done
cat >"$WS/.aether/config.toml" <<EOF
[inference]
provider = "ollama"
model = "stub-coder"
endpoint = "$URL"

[embeddings]
provider = "ollama"
model = "stub-embed"
endpoint = "$URL"
batch_size = 64
EOF
export AE_HTTP_RETRIES=1 AE_HTTP_BACKOFF_MS=10

control '{"fail_chat_after": 280, "reset_counts": true}'

# 1. Failure midway: 5 in a row stop the run (with 2 in flight, 5 or 6 failures, 2 requests each).
expect_exit 1 "$AETHERD" --workspace "$WS" --index-once || true
contains "$ERR" "$URL/api/chat: HTTP 500" && ok "failure names endpoint and status" || fail "error: $ERR"
contains "$ERR" "symbols in a row, stopping" && ok "failure says the provider keeps failing" || fail "error: $ERR"
chat=$(stat_of /api/chat)
[ "$chat" -ge 290 ] && [ "$chat" -le 292 ] && ok "280 SIRs, then 5-6 failures x (1 + 1 retry)" || fail "chat requests: $chat"
kept=$(sir_rows)
[ "$kept" -eq 280 ] && ok "every SIR made before the stop kept ($kept SIRs)" || fail "SIRs kept after failure: $kept"
stale=$(sql "SELECT count(*) FROM sir WHERE sir_status='stale' AND sir_json IS NULL AND last_error LIKE '%HTTP 500%'")
[ "$stale" -ge 5 ] && [ "$stale" -le 6 ] && ok "failed symbols recorded stale with the error ($stale)" || fail "stale rows: $stale"
recorded=$(sql "SELECT count(*) FROM files")
[ "$recorded" -eq $((280 + stale)) ] && ok "files never attempted are not recorded" || fail "files recorded: $recorded (stale $stale)"
mirrors=$(ls "$WS/.aether/sir" 2>/dev/null | wc -l)
[ "$mirrors" -eq "$kept" ] && ok "SIR mirrors only for committed SIRs ($mirrors)" || fail "mirrors $mirrors vs committed $kept"

# 2. Resume: only the missing SIRs are generated; all symbols get embedded.
control '{"fail_chat_after": null, "reset_counts": true}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
chat=$(stat_of /api/chat)
[ "$chat" -eq $((300 - kept)) ] && ok "resume asked for $chat SIRs" || fail "resume chat requests: $chat (kept $kept)"
[ "$(sql "SELECT count(*) FROM sir WHERE sir_status='fresh' AND last_error IS NULL")" -eq 300 ] && ok "all fresh after resume" || fail "fresh rows: $(sql "SELECT count(*) FROM sir WHERE sir_status='fresh'")"
[ "$(sir_rows)" -eq 300 ] && ok "300 SIRs" || fail "SIRs after resume: $(sir_rows)"
[ "$(grep -c '^SIR_STORED .*provider=ollama$' <<<"$OUT")" -eq "$chat" ] && ok "SIR_STORED lines" || fail "SIR_STORED: $OUT"
embed=$(stat_of /api/embed)
[ "$embed" -eq 6 ] && ok "probe + 5 embedding batches of <= 64" || fail "embed requests: $embed"
mirrors=("$WS"/.aether/sir/*.json)
grep -q '"intent":"Stub summary of handler_' "${mirrors[0]}" && ok "stored SIR is the model's" || fail "SIR mirror: $(cat "${mirrors[0]}")"

# Semantic search goes through the same embedder.
expect_exit 0 "$AETHERD" --workspace "$WS" --search "Stub summary of handler_042" --search-mode semantic --output json || true
contains "$OUT" '"mode_used":"semantic"' && ok "semantic search over HTTP embeddings" || fail "semantic: $OUT / $ERR"

# 3. Nothing changed: no chat, no new embeddings (the embedder's dimension probe only).
control '{"reset_counts": true}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
[ "$(stat_of /api/chat)" -eq 0 ] && ok "unchanged: no chat requests" || fail "unchanged chat: $(stat_of /api/chat)"
[ "$(stat_of /api/embed)" -le 1 ] && ok "unchanged: no embedding batches" || fail "unchanged embed: $(stat_of /api/embed)"

finish
