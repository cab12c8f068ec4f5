#!/usr/bin/env bash
# aether-mcp through the official MCP TypeScript SDK client (tests/mcp/client_test.mjs)
# and raw stdio abuse (tests/mcp/malformed_test.mjs), on an indexed copy of ws_small.
# Needs node and npm (CI installs them); installs tests/mcp/node_modules when missing.
. "$(dirname "$0")/lib.sh"
MCP_DIR="$AE_SOURCE_DIR/tests/mcp"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "FAIL: node and npm are required for the MCP client tests (install Node.js 18+)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "FAIL: node $(node --version) is too old for @modelcontextprotocol/sdk; need 18+" >&2
  exit 1
fi
[ -x "$AE_BUILD_DIR/aether-mcp" ] || { echo "FAIL: $AE_BUILD_DIR/aether-mcp was not built" >&2; exit 1; }

if [ ! -d "$MCP_DIR/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "installing the MCP SDK into $MCP_DIR/node_modules"
  (cd "$MCP_DIR" && npm install --no-audit --no-fund) || { echo "FAIL: npm install in $MCP_DIR" >&2; exit 1; }
fi

WS=$(new_workspace ws ws_small)
EMPTY_WS=$(new_workspace empty ws_small)
HIST_WS=$(new_workspace hist ws_small)
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once && ok "indexed fixture" || { finish; exit 1; }
expect_exit 0 "$AETHERD" --workspace "$HIST_WS" --index-once && ok "indexed history fixture" || { finish; exit 1; }
[ ! -e "$EMPTY_WS/.aether" ] || fail "fresh copy already has .aether"

export AE_BUILD_DIR AE_MCP_WS="$WS" AE_MCP_EMPTY_WS="$EMPTY_WS" AE_MCP_HIST_WS="$HIST_WS"
# node resolves @modelcontextprotocol/sdk from the test files' own directory.
if (cd "$MCP_DIR" && node --test-reporter=spec client_test.mjs); then ok "SDK client test"; else fail "SDK client test"; fi
if (cd "$MCP_DIR" && node --test-reporter=spec history_test.mjs); then ok "explain/history test"; else fail "explain/history test"; fi
if (cd "$MCP_DIR" && node --test-reporter=spec malformed_test.mjs); then ok "malformed input test"; else fail "malformed input test"; fi
finish
