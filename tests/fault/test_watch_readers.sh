#!/usr/bin/env bash
# Readers beside the watcher: while `aetherd` watches and a change storm runs, `aetherd
# --search` (lexical and semantic) and aether-mcp through the official SDK client
# (tests/mcp/watch_reader.mjs) query without pause, with no restart.  No reader may see an
# error, a fallback, invalid JSON, unsorted or duplicate results, or a torn row (name and
# file must belong together); a symbol created during the storm becomes searchable without
# restarting either reader; one-shot writers (--index-once, --import-embeddings, --optimize)
# run beside the daemon and wait for its batch instead of failing.  AE_WATCH_READ_SECONDS sets
# the storm's length.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"
MCP_DIR="$AE_SOURCE_DIR/tests/mcp"
DURATION=${AE_WATCH_READ_SECONDS:-20}
command -v node >/dev/null 2>&1 || { echo "FAIL: node is required (tests/mcp)" >&2; exit 1; }
if [ ! -d "$MCP_DIR/node_modules/@modelcontextprotocol/sdk" ]; then
  (cd "$MCP_DIR" && npm install --no-audit --no-fund) || { echo "FAIL: npm install in $MCP_DIR" >&2; exit 1; }
fi

WS="$TMP/ws"
mkdir -p "$WS/src" "$WS/.aether"
printf '[embeddings]\nprovider = "hash"\n' >"$WS/.aether/config.toml"
gen() {
  local base; base=$(basename "$1" .py)
  for ((i = 0; i < $2; i++)); do
    printf 'def %s_f%d(v):\n    """Step %d of %s, revision %s."""\n    return v * %d + %s\n\n' "$base" "$i" "$i" "$base" "$3" "$i" "$3"
  done >"$1"
}
for i in $(seq 0 19); do gen "$WS/src/m$i.py" 4 0; done
start_watch "$WS" "$TMP/w" --debounce-ms 50 || { finish; exit 1; }

cat >"$TMP/check.py" <<'PY'
import json, sys
mode = sys.argv[1]
d = json.loads(sys.stdin.read())
if mode == "semantic":
    assert d["mode_used"] == "semantic" and d["fallback_reason"] is None, ("fallback", d["fallback_reason"])
m = d["matches"]
s = [x["semantic_score"] for x in m if x["semantic_score"] is not None]
assert s == sorted(s, reverse=True), ("unsorted", s)
ids = [x["symbol_id"] for x in m]
assert len(ids) == len(set(ids)), ("duplicate ids", ids)
for x in m:
    base = x["file_path"].rsplit("/", 1)[-1][:-3]
    assert x["qualified_name"].startswith(base + "_"), ("torn row", x)
PY

STOP="$TMP/stop"
storm() {
  local n=0
  while [ ! -e "$STOP" ]; do
    n=$((n + 1))
    gen "$WS/src/m$((n % 20)).py" 4 "$n"
    [ $((n % 5)) -eq 0 ] && gen "$WS/src/x$((n % 7)).py" 3 "$n"
    [ $((n % 9)) -eq 0 ] && rm -f "$WS/src/x$(((n + 3) % 7)).py"
    sleep 0.02
  done
}
cli_reader() {
  local n=0 bad=0 mode
  while [ ! -e "$STOP" ]; do
    if [ $((n % 2)) -eq 0 ]; then mode=lexical; q="m$((n % 20))_f$((n % 4))"; else mode=semantic; q="step $((n % 4)) revision"; fi
    if "$AETHERD" --workspace "$WS" --search "$q" --search-mode $mode --search-limit 10 --output json \
      >"$TMP/r$1.out" 2>"$TMP/r$1.err" && python3 "$TMP/check.py" $mode <"$TMP/r$1.out" 2>>"$TMP/r$1.why"; then :; else
      bad=$((bad + 1)); { echo "--- $mode $q"; cat "$TMP/r$1.out" "$TMP/r$1.err" "$TMP/r$1.why"; } >>"$TMP/reader.errors"
    fi
    n=$((n + 1))
  done
  echo "$n $bad" >"$TMP/r$1.stats"
}
storm & storm_pid=$!
cli_reader 1 & r1=$!
(cd "$MCP_DIR" && AE_BUILD_DIR="$AE_BUILD_DIR" AE_MCP_WS="$WS" AE_STOP_FILE="$STOP" node watch_reader.mjs) >"$TMP/mcp.out" 2>&1 & mcp_pid=$!
sleep 2
# a symbol made now is found by both readers without a restart (polled; they are running)
gen "$WS/src/fresh_marker.py" 1 0
t0=$SECONDS found=0
until [ $((SECONDS - t0)) -ge 30 ]; do
  if "$AETHERD" --workspace "$WS" --search fresh_marker_f0 --output json 2>/dev/null | grep -q '"qualified_name":"fresh_marker_f0"'; then found=1; break; fi
  sleep 0.2
done
[ $found -eq 1 ] && ok "a new symbol is searchable while the daemon runs ($((SECONDS - t0))s)" || fail "new symbol not found"
# one-shot writers beside the daemon wait for its batch instead of failing
"$AETHERD" --workspace "$WS" --export-embeddings "$TMP/emb.jsonl" 2>/dev/null
for cmd in "--index-once" "--import-embeddings $TMP/emb.jsonl" "--optimize"; do
  # shellcheck disable=SC2086
  if "$AETHERD" --workspace "$WS" $cmd >/dev/null 2>"$TMP/one.err"; then ok "one-shot $cmd beside the daemon"; else fail "one-shot $cmd: $(cat "$TMP/one.err")"; fi
done
sleep "$DURATION"
touch "$STOP"
wait "$storm_pid" "$r1" || true
mcp_rc=0; wait "$mcp_pid" || mcp_rc=$?
read -r n1 b1 <"$TMP/r1.stats"
[ "$b1" -eq 0 ] && [ "$n1" -gt 5 ] && ok "aetherd --search: $n1 queries, no bad answer" || { fail "cli reader: $b1 bad of $n1"; head -30 "$TMP/reader.errors"; }
[ $mcp_rc -eq 0 ] && ok "aether-mcp (SDK client): $(cat "$TMP/mcp.out")" || fail "mcp reader: $(tail -5 "$TMP/mcp.out")"
kill -0 "$WATCH_PID" 2>/dev/null && ok "the daemon is still running" || fail "the daemon died: $(tail -3 "$TMP/w.err")"
converge "$WS" "after the storm and the one-shot writers"
stop_watch
grep -q '"level":"error"' "$TMP/w.err" && fail "daemon logged errors: $(grep '"level":"error"' "$TMP/w.err" | head -3)" || ok "no error in the daemon's log"
finish
