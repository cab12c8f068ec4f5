#!/usr/bin/env bash
# A writer indexing in a loop (edits, added and deleted files, --index-once)
# while readers query: CLI semantic searches and an aether-mcp server driven
# over raw stdio JSON lines.  No reader may see an error, a fallback, invalid
# JSON, unsorted or duplicate results, or a match whose symbol row is torn
# (name and file must belong together).  AE_CONC_SECONDS sets the duration.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
. "$AE_SOURCE_DIR/tests/fault/lib_fault.sh"
MCP="$AE_BUILD_DIR/aether-mcp"
[ -x "$MCP" ] || { echo "FAIL: $MCP was not built" >&2; exit 1; }
DURATION=${AE_CONC_SECONDS:-25}

WS="$TMP/ws"
gen_workspace "$WS" 30 8
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || { finish; exit 1; }

# Checks one search result document (stdin); exit 1 with the reason.
cat >"$TMP/check.py" <<'PY'
import json, sys
d = json.loads(sys.stdin.read())
assert d["mode_used"] == "semantic" and d["fallback_reason"] is None, ("fallback", d["fallback_reason"])
m = d["matches"]
assert m, "no matches"
s = [x["semantic_score"] for x in m]
assert s == sorted(s, reverse=True), ("unsorted", s)
ids = [x["symbol_id"] for x in m]
assert len(ids) == len(set(ids)), ("duplicate ids", ids)
for x in m:
    base = x["file_path"].rsplit("/", 1)[-1][:-3]
    assert x["qualified_name"].startswith(base + "_fn_"), ("torn row", x)
PY

STOP="$TMP/stop"
writer() {
  local salt=0 next=30 runs=0 errs=0
  while [ ! -e "$STOP" ]; do
    salt=$((salt + 1))
    gen_file "$WS/src/mod_$((salt % 30)).py" 8 "$salt"
    if [ $((salt % 4)) -eq 0 ]; then gen_file "$WS/src/mod_$next.py" 8 "$salt"; next=$((next + 1)); fi
    if [ $((salt % 6)) -eq 0 ]; then rm -f "$WS/src/mod_$((next - 2)).py"; fi
    "$AETHERD" --workspace "$WS" --index-once >/dev/null 2>"$TMP/w.err" || { errs=$((errs + 1)); cat "$TMP/w.err" >>"$TMP/writer.errors"; }
    runs=$((runs + 1))
  done
  echo "$runs $errs" >"$TMP/writer.stats"
}

cli_reader() {
  local n=0 bad=0 q
  while [ ! -e "$STOP" ]; do
    q="compute mod_$((n % 30)) step $((n % 8))"
    if "$AETHERD" --workspace "$WS" --search "$q" --search-mode semantic --search-limit 10 --output json \
      >"$TMP/r$1.out" 2>"$TMP/r$1.err" && python3 "$TMP/check.py" <"$TMP/r$1.out" 2>>"$TMP/r$1.why"; then :; else
      bad=$((bad + 1)); { echo "--- query $q"; cat "$TMP/r$1.out" "$TMP/r$1.err"; } >>"$TMP/reader.errors"
    fi
    n=$((n + 1))
  done
  echo "$n $bad" >"$TMP/r$1.stats"
}

cat >"$TMP/mcp_reader.py" <<'PY'
import json, os, subprocess, sys, time
mcp, ws, stop, check = sys.argv[1:5]
p = subprocess.Popen([mcp, "--workspace", ws], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
def call(i, method, params=None):
    msg = {"jsonrpc": "2.0", "id": i, "method": method}
    if params is not None: msg["params"] = params
    p.stdin.write(json.dumps(msg) + "\n"); p.stdin.flush()
    line = p.stdout.readline()
    r = json.loads(line)
    assert r.get("id") == i and "error" not in r, r
    return r["result"]
call(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "conc", "version": "0"}})
p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"); p.stdin.flush()
n = bad = 0
while not os.path.exists(stop):
    n += 1
    try:
        r = call(n, "tools/call", {"name": "aether_search", "arguments": {
            "query": "compute mod_%d step %d" % (n % 30, n % 8), "mode": "semantic", "limit": 10}})
        assert not r.get("isError"), r
        out = subprocess.run([sys.executable, check], input=json.dumps(r["structuredContent"]),
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-500:]
    except Exception as e:
        bad += 1
        print("mcp read %d: %r" % (n, e), file=sys.stderr)
p.stdin.close(); p.wait(timeout=10)
print(n, bad)
sys.exit(0 if p.returncode == 0 else 1)
PY

writer & wpid=$!
cli_reader 1 & r1=$!
cli_reader 2 & r2=$!
python3 "$TMP/mcp_reader.py" "$MCP" "$WS" "$STOP" "$TMP/check.py" >"$TMP/mcp.stats" 2>"$TMP/mcp.errors" & mpid=$!
sleep "$DURATION"
touch "$STOP"
wait $wpid $r1 $r2 || true
mrc=0; wait $mpid || mrc=$?

read -r wruns werrs <"$TMP/writer.stats"
read -r n1 b1 <"$TMP/r1.stats"; read -r n2 b2 <"$TMP/r2.stats"
read -r nm bm <"$TMP/mcp.stats" || { nm=0; bm=1; }
echo "writer: $wruns index runs; CLI reads: $((n1 + n2)); MCP reads: $nm"
[ "$werrs" = 0 ] && [ "$wruns" -ge 3 ] && ok "writer: $wruns index runs, no errors" || fail "writer errors $werrs: $(head -c 2000 "$TMP/writer.errors" 2>/dev/null)"
[ $((b1 + b2)) = 0 ] && [ $((n1 + n2)) -ge 10 ] && ok "CLI readers: $((n1 + n2)) semantic searches, all valid" ||
  fail "CLI readers: $((b1 + b2)) bad of $((n1 + n2)): $(head -c 3000 "$TMP/reader.errors" 2>/dev/null)"
[ "$bm" = 0 ] && [ "$mrc" = 0 ] && [ "$nm" -ge 10 ] && ok "MCP reader: $nm searches, all valid" ||
  fail "MCP reader: $bm bad of $nm (exit $mrc): $(head -c 3000 "$TMP/mcp.errors")"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
verify_json "$WS" && converged "$VJ" && ok "after the race: verify passes, converged" || fail "after: $VJ"
[ -n "${AE_FAULT_STATS:-}" ] && echo "concurrency writer_runs=$wruns cli_reads=$((n1 + n2)) mcp_reads=$nm" >>"$AE_FAULT_STATS"
finish
