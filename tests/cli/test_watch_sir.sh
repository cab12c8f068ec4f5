#!/usr/bin/env bash
# SIR status in watch mode, against the HTTP stub (tests/http_stub/stub.js) in a real git repo:
# a save the model fails for prints SIR_STALE with the error, keeps the previous SIR and marks
# the row stale; the daemon retries the file after a backoff without any save, and once the
# model recovers the row is fresh again (SIR_STORED, EMBEDDING_STORED), with a history row
# whose commit_hash is git HEAD.
. "$(dirname "$0")/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"
command -v node >/dev/null || { echo "FAIL: node is required"; exit 1; }

node "$AE_SOURCE_DIR/tests/http_stub/stub.js" "$TMP/port" &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || { echo "FAIL: stub did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/port")"
control() { curl -s --noproxy '*' -X POST -d "$1" "$URL/__control" >/dev/null; }
sql() { python3 -c "
import sqlite3,sys
r = sqlite3.connect(sys.argv[1], timeout=30).execute(sys.argv[2]).fetchone()
print('' if r is None else '|'.join('NULL' if v is None else str(v) for v in r))" "$WS/.aether/meta.sqlite" "$1"; }
export AE_HTTP_RETRIES=0 AE_HTTP_BACKOFF_MS=10
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
  local limit=$1 t0=$SECONDS; shift
  until "$@"; do [ $((SECONDS - t0)) -ge "$limit" ] && return 1; sleep 0.2; done
}

WS="$TMP/ws"
mkdir -p "$WS/.aether" "$WS/pkg"
for n in alpha beta; do printf 'def handler_%s(x):\n    """Handle %s."""\n    return x\n' "$n" "$n" >"$WS/pkg/$n.py"; done
printf '[inference]\nprovider = "ollama"\nmodel = "stub-coder"\nendpoint = "%s"\n\n[embeddings]\nprovider = "ollama"\nmodel = "stub-embed"\nendpoint = "%s"\n' \
  "$URL" "$URL" >"$WS/.aether/config.toml"
printf '.aether/\n' >"$WS/.gitignore"
git -C "$WS" init -q -b main
git -C "$WS" -c user.email=t@e -c user.name=t add -A
git -C "$WS" -c user.email=t@e -c user.name=t commit -q -m one
HEAD1=$(git -C "$WS" rev-parse HEAD)

start_watch "$WS" "$TMP/w" --debounce-ms 100 --print-sir || { finish; exit 1; }
trap 'kill -KILL "$WATCH_PID" $STUB_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
[ "$(grep -c '^SIR_STORED ' "$TMP/w.out")" -eq 2 ] && ok "initial pass: 2 SIR_STORED" || fail "stdout: $(cat "$TMP/w.out")"
BETA=$(sql "SELECT id FROM symbols WHERE qualified_name='handler_beta'")
OLD_HASH=$(sql "SELECT sir_hash FROM sir WHERE id='$BETA'")

control '{"fail_chat_for": "handler_beta"}'
printf 'def handler_beta(x):\n    """Handle beta."""\n    return x * 2\n' >"$WS/pkg/beta.py"
wait_for 30 grep -q "^SIR_STALE symbol_id=$BETA error=" "$TMP/w.out" && ok "SIR_STALE printed for the failing symbol" || fail "no SIR_STALE: $(cat "$TMP/w.out")"
contains "$(grep '^SIR_STALE' "$TMP/w.out" || true)" "HTTP 500" && ok "the line carries the provider's error" || fail "$(grep '^SIR_STALE' "$TMP/w.out" || true)"
[ "$(sql "SELECT sir_status FROM sir WHERE id='$BETA'")" = stale ] && ok "row stale" || fail "status $(sql "SELECT sir_status FROM sir WHERE id='$BETA'")"
contains "$(sql "SELECT last_error FROM sir WHERE id='$BETA'")" "handler_beta" && ok "last_error kept" || fail "last_error"
[ "$(sql "SELECT sir_hash FROM sir WHERE id='$BETA'")" = "$OLD_HASH" ] && ok "previous SIR kept" || fail "SIR replaced"
wait_for 20 grep -q '"event":"sir_retry"' "$TMP/w.err" && ok "retry scheduled" || fail "no retry notice: $(tail -3 "$TMP/w.err")"

# The model recovers; no file is touched: the daemon's retry makes it fresh.
control '{"fail_chat_for": null, "intent_suffix": " (v2)"}' # a new SIR: new hash
count() { grep -c "^$1 symbol_id=$BETA " "$TMP/w.out" || true; }
more_than() { [ "$(count "$1")" -gt "$2" ]; }
sirs0=$(count SIR_STORED) embs0=$(count EMBEDDING_STORED) # the initial pass's lines
wait_for 60 more_than SIR_STORED "$sirs0" && ok "retried without a save: SIR_STORED" || fail "no SIR_STORED after recovery: $(tail -3 "$TMP/w.err")"
wait_for 20 more_than EMBEDDING_STORED "$embs0" && ok "EMBEDDING_STORED" || fail "no EMBEDDING_STORED"
[ "$(sql "SELECT sir_status || '|' || ifnull(last_error, 'NULL') FROM sir WHERE id='$BETA'")" = "fresh|NULL" ] && ok "fresh again" || fail "status $(sql "SELECT sir_status, last_error FROM sir WHERE id='$BETA'")"
[ "$(sql "SELECT commit_hash FROM sir_history WHERE symbol_id='$BETA' ORDER BY version DESC LIMIT 1")" = "$HEAD1" ] && ok "history commit_hash = HEAD" || fail "commit_hash"
stop_watch
finish
