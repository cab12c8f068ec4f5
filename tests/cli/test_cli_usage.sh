#!/usr/bin/env bash
# Usage errors exit 2 with one clear line on stderr; --help and --version exit 0.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$AETHERD" --help && contains "$OUT" "--search-mode" && ok "--help" || fail "--help text"
expect_exit 0 "$AETHERD" --version && contains "$OUT" "aetherd " && ok "--version" || fail "--version"
expect_exit 2 "$AETHERD" && contains "$ERR" "nothing to do" && ok "no action" || fail "no action"
expect_exit 2 "$AETHERD" --bogus && contains "$ERR" "unknown argument '--bogus'" && ok "unknown flag" || fail "unknown flag"
expect_exit 2 "$AETHERD" --search x --search-mode fuzzy && contains "$ERR" "not 'fuzzy'" && ok "bad mode" || fail "bad mode"
expect_exit 2 "$AETHERD" --search x --search-limit ten && contains "$ERR" "not 'ten'" && ok "bad limit" || fail "bad limit"
expect_exit 2 "$AETHERD" --search x --output yaml && contains "$ERR" "table or json" && ok "bad output" || fail "bad output"
expect_exit 2 "$AETHERD" --search && contains "$ERR" "needs a value" && ok "missing value" || fail "missing value"
expect_exit 2 "$AETHERD" --print-sir --search x && contains "$ERR" "--print-sir needs --index-once" && ok "print-sir alone" || fail "print-sir alone"
expect_exit 1 "$AETHERD" --workspace "$TMP/does-not-exist" --index-once && contains "$ERR" "does-not-exist" && ok "missing workspace" || fail "missing workspace"
# Searching a workspace that was never indexed: no store, empty result, not an error.
mkdir -p "$TMP/empty"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --search foo --output json && contains "$OUT" '"matches":[]' && ok "uninitialised search" || fail "uninitialised search"
[ ! -e "$TMP/empty/.aether" ] && ok "search does not create .aether" || fail "search created .aether"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --search foo --search-mode semantic --output json && contains "$OUT" '"fallback_reason":"local store not initialized"' && ok "semantic fallback: no store" || fail "semantic fallback: no store"
finish
