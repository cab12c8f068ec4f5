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
# The reference's own rejections, by name.
expect_exit 2 "$AETHERD" --search x --index-once && contains "$ERR" "cannot be combined" && ok "--search with --index-once" || fail "--search --index-once"
expect_exit 2 "$AETHERD" --index-once --search=x && contains "$ERR" "--index-once and --search cannot be combined" && ok "--index-once with --search=" || fail "--index-once --search="
# --verify is the reference's check-command runner (coming); the store check is --fsck.
expect_exit 2 "$AETHERD" --verify && contains "$ERR" "unknown argument '--verify'" && ok "--verify not taken by the store check" || fail "--verify"
expect_exit 2 "$AETHERD" --index-once --exact=1 && contains "$ERR" "--exact takes no value" && ok "switch with a value" || fail "switch with a value"
expect_exit 2 "$AETHERD" --index-once --output json && contains "$ERR" "--output needs one of --search" && ok "option outside its modes" || fail "option outside its modes: $ERR"
expect_exit 2 "$AETHERD" --search-vector '[1]' && contains "$ERR" "--search-vector needs --search-provider and --search-model" && ok "mode check" || fail "mode check"
mkdir -p "$TMP/fr"
expect_exit 0 "$AETHERD" --workspace "$TMP/fr" --fsck --repair --output json && contains "$OUT" '"before"' && ok "--fsck --repair is a repair" || fail "--fsck --repair"
finish
