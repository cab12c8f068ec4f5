#!/usr/bin/env bash
# aetherd --lsp driven by two real clients (docs/LSP.md):
#   tests/lsp/client_test.mjs  the npm vscode-languageserver-protocol client over vscode-jsonrpc
#                              streams, plus raw-byte abuse (malformed frames, huge lengths);
#   tests/lsp/nvim_test.lua    headless Neovim's built-in LSP client.
# The workspace (tests/lsp/fixture) is indexed against the HTTP stub (tests/http_stub) so that
# it holds every hover case: fresh SIRs, a second SIR version (the history hint), a stale SIR
# that kept its previous summary, a stale symbol that never got one, and symbols with no SIR.
# Needs node, npm, nvim, sqlite3 (scripts/install-deps.sh); installs tests/lsp/node_modules
# when missing.
. "$(dirname "$0")/lib.sh"
LSP_DIR="$AE_SOURCE_DIR/tests/lsp"
for tool in node npm nvim sqlite3 curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is required (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
[ -x "$AE_BUILD_DIR/aetherd" ] || { echo "FAIL: $AE_BUILD_DIR/aetherd was not built" >&2; exit 1; }
if [ ! -d "$LSP_DIR/node_modules/vscode-languageserver-protocol" ]; then
  echo "installing the LSP client into $LSP_DIR/node_modules"
  (cd "$LSP_DIR" && npm ci --no-audit --no-fund) || { echo "FAIL: npm ci in $LSP_DIR" >&2; exit 1; }
fi

node "$AE_SOURCE_DIR/tests/http_stub/stub.js" "$TMP/port" &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || { echo "FAIL: stub did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/port")"
control() { curl -s --noproxy '*' -X POST -d "$1" "$URL/__control" >/dev/null; }
export AE_HTTP_RETRIES=0 AE_HTTP_BACKOFF_MS=10

WS="$TMP/ws"
mkdir -p "$WS/.aether"
cp -R "$LSP_DIR/fixture/." "$WS/"
cat >"$WS/.aether/config.toml" <<CFG
[inference]
provider = "ollama"
model = "stub-coder"
endpoint = "$URL"

[embeddings]
enabled = false
CFG

# 1. Every symbol gets a fresh SIR (version 1).
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once && ok "indexed: all fresh" || { finish; exit 1; }
# 2. helper changes and gets a second version with a new intent: its hint names the change.
sed -i 's/total += v/total += v * 1/' "$WS/pkg/shapes.py"
control '{"intent_suffix": " (second version)"}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once && ok "indexed: helper v2" || { finish; exit 1; }
control '{"intent_suffix": ""}'
# 3. other_zz changes and its generation fails: stale, the v1 SIR kept.  doomed_zz is new and
#    fails at once: stale without any SIR.
sed -i 's/return 1/return 1 + 0/' "$WS/pkg/shapes.py"
printf 'def doomed_zz():\n    return None\n' >"$WS/pkg/doomed.py"
control '{"fail_chat_for": "_zz"}'
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once --print-sir || true
[ "$(grep -c '^SIR_STALE ' <<<"$OUT")" -eq 2 ] && ok "two stale symbols" || fail "stdout: $OUT"
control '{"fail_chat_for": null}'
kill $STUB_PID 2>/dev/null || true
# 4. A file written after the last index run: its symbols have no SIR.
printf 'def late_fn(q):\n    return q\n' >"$WS/pkg/late.py"

# A second workspace that was never indexed, for --lsp --index (the static provider).
IDX_WS=$(new_workspace idx ws_small)

export AE_BUILD_DIR AE_LSP_WS="$WS" AE_LSP_INDEX_WS="$IDX_WS"
if (cd "$LSP_DIR" && node --test-reporter=spec client_test.mjs); then ok "vscode-languageserver-protocol client"; else fail "vscode-languageserver-protocol client"; fi
if (cd "$LSP_DIR" && node --test-reporter=spec hostile_test.mjs); then ok "hostile client"; else fail "hostile client"; fi
# The reference hover text per symbol for the Lua client, from the same independent code.
(cd "$LSP_DIR" && node --input-type=module -e "
import { expectedHover, NO_SIR } from './lib.mjs';
const e = { __no_sir: NO_SIR };
for (const q of ['Outer', 'Outer::inner', 'Outer::other_zz', 'helper', 'afterEmoji']) e[q] = expectedHover(q);
process.stdout.write(JSON.stringify(e));") >"$TMP/expected.json" || fail "expected hover text"
if (cd "$LSP_DIR" && AE_LSP_EXPECTED="$TMP/expected.json" AE_LSP_OUT="$TMP/nvim.out" timeout $((120 * ${AE_TEST_TIMEOUT_SCALE:-1})) nvim --headless -u NONE -i NONE -n \
      -c "luafile nvim_test.lua" </dev/null >"$TMP/nvim.log" 2>&1); then
  ok "neovim client: $(tail -1 "$TMP/nvim.out" 2>/dev/null)"
  grep -q '^FAIL' "$TMP/nvim.out" && { fail "neovim checks"; cat "$TMP/nvim.out"; }
else
  fail "neovim client"; cat "$TMP/nvim.log"; cat "$TMP/nvim.out" 2>/dev/null || true
fi
finish
