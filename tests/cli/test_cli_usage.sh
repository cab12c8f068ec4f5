#!/usr/bin/env bash
# Usage errors exit 2 with one clear line on stderr; --help and --version exit 0.
. "$(dirname "$0")/lib.sh"

# Deterministic output is compared whole with tests/cli/expected/NAME.out/.err
# (same_as in lib.sh; AE_UPDATE_EXPECTED=1 rewrites them).
expect_exit 0 "$AETHERD" --help && same_as help && ok "--help" || fail "--help text"
expect_exit 0 "$AETHERD" -h && same_as help && ok "-h" || fail "-h text"
expect_exit 0 "$AETHERD" --version && contains "$OUT" "aetherd " && ok "--version" || fail "--version"
# No mode flag is watch mode (tests/cli/test_watch.sh): a missing workspace is a runtime error.
expect_exit 1 "$AETHERD" --workspace "$TMP/does-not-exist" && contains "$ERR" "does-not-exist" && ok "no mode flag: watch mode" || fail "no mode flag"
expect_exit 2 "$AETHERD" --bogus && same_as usage_unknown && ok "unknown flag" || fail "unknown flag"
expect_exit 2 "$AETHERD" --search x --search-mode fuzzy && same_as usage_bad_search_mode && ok "bad mode" || fail "bad mode"
expect_exit 2 "$AETHERD" --search x --search-limit ten && same_as usage_bad_limit && ok "bad limit" || fail "bad limit"
expect_exit 2 "$AETHERD" --search x --output yaml && same_as usage_bad_output && ok "bad output" || fail "bad output"
expect_exit 2 "$AETHERD" --search && same_as usage_missing_value && ok "missing value" || fail "missing value"
expect_exit 2 "$AETHERD" --print-sir --search x && same_as usage_print_sir && ok "print-sir alone" || fail "print-sir alone"
expect_exit 1 "$AETHERD" --workspace "$TMP/does-not-exist" --index-once && same_as missing_workspace && ok "missing workspace" || fail "missing workspace"
# Searching a workspace that was never indexed: no store, empty result, not an error.
mkdir -p "$TMP/empty"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --search foo --output json && same_as search_no_store && ok "uninitialised search" || fail "uninitialised search"
[ ! -e "$TMP/empty/.aether" ] && ok "search does not create .aether" || fail "search created .aether"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --search foo --search-mode semantic --output json && same_as search_semantic_no_store && ok "semantic fallback: no store" || fail "semantic fallback: no store"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --vector-status --output json && same_as vector_status_no_store && ok "vector status: no store" || fail "vector status: no store"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --vector-status && same_as vector_status_no_store_table && ok "vector status table: no store" || fail "vector status table: no store"
expect_exit 0 "$AETHERD" --workspace "$TMP/empty" --fsck && same_as fsck_no_store && ok "fsck: no store" || fail "fsck: no store"
# Modes: one per run.  The mode flags are read from --help's "modes" section (the
# flag table), so a new mode is covered by adding its row.
"$AETHERD" --help | awk '/^modes/{m=1; next} /^$/{m=0} m && /^  --/{print $1, ($2 ~ /^[A-Z]+$/ ? $2 : "")}' >"$TMP/modes"
[ "$(wc -l <"$TMP/modes")" -ge 10 ] && ok "help lists the modes" || fail "modes in --help: $(cat "$TMP/modes")"
mode_args() { if [ -n "$2" ]; then echo "$1 x"; else echo "$1"; fi; }
pairs=0
while read -r fa va; do
  while read -r fb vb; do
    [ "$fa" = "$fb" ] && continue
    case "$fa $fb" in "--fsck --repair" | "--repair --fsck") continue ;; esac
    # shellcheck disable=SC2046
    expect_exit 2 "$AETHERD" $(mode_args "$fa" "$va") $(mode_args "$fb" "$vb") &&
      contains "$ERR" "$fa and $fb cannot be combined (one mode per run)" || fail "mode pair $fa $fb: $ERR"
    pairs=$((pairs + 1))
  done <"$TMP/modes"
done <"$TMP/modes"
ok "$pairs mode pairs rejected"
# Every row of the flag table (read from --help): a flag with a value says so
# when it is missing, a switch refuses one.
"$AETHERD" --help | sed -n 's/^  \(-h, \)\{0,1\}\(--[a-z-]*\)\( [A-Z]*\)\{0,1\}.*/\2\3/p' >"$TMP/flags"
rows=0
while read -r flag metavar; do
  case "$flag" in --help | --version) continue ;; esac
  if [ -n "$metavar" ]; then
    expect_exit 2 "$AETHERD" "$flag" && contains "$ERR" "aetherd: $flag needs a value" || fail "flag row $flag: $ERR"
  else
    expect_exit 2 "$AETHERD" "$flag=1" && contains "$ERR" "aetherd: $flag takes no value" || fail "flag row $flag: $ERR"
  fi
  rows=$((rows + 1))
done <"$TMP/flags"
[ "$rows" -ge 19 ] && ok "$rows flag rows checked" || fail "only $rows flag rows in --help"
# The reference's own rejections, by name.
expect_exit 2 "$AETHERD" --search x --index-once && same_as usage_search_index_once && ok "--search with --index-once" || fail "--search --index-once"
expect_exit 2 "$AETHERD" --index-once --search=x && contains "$ERR" "--index-once and --search cannot be combined" && ok "--index-once with --search=" || fail "--index-once --search="
# --lsp: the reference rejects it with --search and --index-once (the pairs above); --index
# belongs to it; --print-sir would write into the protocol stream.
expect_exit 2 "$AETHERD" --index && { contains "$ERR" "--index needs --lsp" || contains "$ERR" "nothing to do"; } && ok "--index alone" || fail "--index alone: $ERR"
expect_exit 2 "$AETHERD" --index-once --index && contains "$ERR" "--index needs --lsp" && ok "--index with --index-once" || fail "--index --index-once: $ERR"
expect_exit 2 "$AETHERD" --lsp --print-sir && contains "$ERR" "--print-sir needs" && ok "--lsp refuses --print-sir" || fail "--lsp --print-sir: $ERR"
# --verify is the reference's check-command runner (tests/cli/test_verify.sh); the store check
# is --fsck.  With no [verify] allow-list it says how to configure one.
mkdir -p "$TMP/noverify"
expect_exit 1 "$AETHERD" --workspace "$TMP/noverify" --verify &&
  contains "$ERR" "no verification commands are configured" && [ ! -e "$TMP/noverify/.aether" ] &&
  ok "--verify is the check runner, not the store check" || fail "--verify: $ERR"
expect_exit 2 "$AETHERD" --index-once --exact=1 && same_as usage_switch_value && ok "switch with a value" || fail "switch with a value"
expect_exit 2 "$AETHERD" --index-once --output json && same_as usage_option_mode && ok "option outside its modes" || fail "option outside its modes"
expect_exit 2 "$AETHERD" --search-vector '[1]' && same_as usage_search_vector && ok "mode check" || fail "mode check"
mkdir -p "$TMP/fr"
expect_exit 0 "$AETHERD" --workspace "$TMP/fr" --fsck --repair --output json && contains "$OUT" '"before"' && ok "--fsck --repair is a repair" || fail "--fsck --repair"
finish
