#!/usr/bin/env bash
# Reports of a fixed workspace (tests/fixtures/ws_small, default config: static
# SIRs, ppmi embeddings) compared whole with tests/cli/expected/: the vector
# status table and JSON, and the store check.  (Search results stay field
# checks elsewhere while their ranking is being tuned.)  A change to extraction
# changes these on purpose: regenerate with AE_UPDATE_EXPECTED=1 and review the
# diff (docs/TESTING.md).
. "$(dirname "$0")/lib.sh"
WS=$(new_workspace ws ws_small)
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once && ok "index" || fail "index: $ERR"
expect_exit 0 "$AETHERD" --workspace "$WS" --vector-status && same_as small_vector_status && ok "vector status table" || fail "vector status table"
expect_exit 0 "$AETHERD" --workspace "$WS" --vector-status --output json && same_as small_vector_status_json && ok "vector status json" || fail "vector status json"
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck && same_as small_fsck && ok "fsck" || fail "fsck"
expect_exit 2 "$AETHERD" --workspace "$WS" --repair --index-once && same_as usage_repair_index_once && ok "mode conflict names both flags" || fail "mode conflict"
finish
