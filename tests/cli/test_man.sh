#!/usr/bin/env bash
# The man pages and the bash completion keep up with the programs:
#  - man -l renders man/aetherd.1, man/aether-mcp.1 and man/aether.conf.5 with
#    no groff warning;
#  - every flag `aetherd --help` lists (the table in src/cli/args.c) has a
#    tagged paragraph in aetherd.1, and every flag documented there is still in
#    --help; the same for aether-mcp;
#  - every key of the table in src/config/config.c is documented under its
#    section in aether.conf.5, and nothing else is;
#  - completion/aetherd.bash completes exactly --help's flags, and the values
#    it offers for --search-mode, --output, --verify-mode and --retrain are the ones the
#    program's usage errors accept.
. "$(dirname "$0")/lib.sh"
MAN=$AE_SOURCE_DIR/man
MCP=$AE_BUILD_DIR/aether-mcp

if ! command -v man >/dev/null; then
  fail "man is not installed (scripts/install-deps.sh installs man-db)"
else
  for page in aetherd.1 aether-mcp.1 aether.conf.5; do
    if MANWIDTH=100 man --warnings -l "$MAN/$page" >"$TMP/$page.txt" 2>"$TMP/$page.err" && [ ! -s "$TMP/$page.err" ] &&
      grep -q "^NAME" "$TMP/$page.txt"; then
      ok "man -l renders $page ($(wc -l <"$TMP/$page.txt") lines)"
    else
      fail "man -l $page: $(head -5 "$TMP/$page.err")"
    fi
  done
  contains "$(cat "$TMP/aetherd.1.txt")" "--index-once" && ok "rendered aetherd.1 shows --index-once" ||
    fail "rendered aetherd.1 lacks --index-once"
fi

# help_flags PROGRAM: the flags of PROGRAM --help, one per line ("-h, --help": both)
help_flags() {
  "$1" --help | sed -n 's/^  \(-[a-zA-Z]\), \(--[a-z][a-z-]*\).*/\1\n\2/p; s/^  \(--[a-z][a-z-]*\).*/\1/p' | sort -u
}
# man_flags PAGE: the flags in the tag lines of PAGE's tagged paragraphs
man_flags() {
  awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }' "$1" | sed 's/\\-/-/g' |
    grep -o -- '\(^\|[ "]\)--\{0,1\}[a-zA-Z][a-z-]*' | sed 's/^[ "]//' | grep '^-' | sort -u
}
compare_flags() { # NAME HELPFILE MANFILE
  local missing extra
  missing=$(comm -23 "$2" "$3" | tr '\n' ' ')
  extra=$(comm -13 "$2" "$3" | tr '\n' ' ')
  [ -z "$missing" ] && ok "$1: every --help flag is in the man page ($(wc -l <"$2") flags)" ||
    fail "man/$1 lacks $missing(add a .TP paragraph for each, as the others)"
  [ -z "$extra" ] && ok "$1: the man page documents no flag --help lacks" ||
    fail "man/$1 documents $extra which --help does not list"
}
help_flags "$AETHERD" >"$TMP/help.aetherd"
man_flags "$MAN/aetherd.1" >"$TMP/man.aetherd"
[ "$(wc -l <"$TMP/help.aetherd")" -gt 20 ] || fail "too few flags read from aetherd --help: $(cat "$TMP/help.aetherd")"
compare_flags aetherd.1 "$TMP/help.aetherd" "$TMP/man.aetherd"
if [ -x "$MCP" ]; then
  # aether-mcp's help lists "--workspace DIR  ..."; -h and -V are aliases it accepts
  { "$MCP" --help | grep -o -- '^  --[a-z-]*' | tr -d ' '; echo -h; echo -V; } | sort -u >"$TMP/help.mcp"
  expect_exit 0 "$MCP" -h && expect_exit 0 "$MCP" -V || fail "aether-mcp -h / -V"
  man_flags "$MAN/aether-mcp.1" >"$TMP/man.mcp"
  compare_flags aether-mcp.1 "$TMP/help.mcp" "$TMP/man.mcp"
fi

# The checker itself: a page without one flag, and with a stale one, fails.
grep -v '^\.B \\-\\-optimize$' "$MAN/aetherd.1" | sed 's/^\.B \\-\\-exact$/.B \\-\\-exactly/' >"$TMP/bad.1"
man_flags "$TMP/bad.1" >"$TMP/man.bad"
[ "$(comm -23 "$TMP/man.aetherd" "$TMP/man.bad" | tr '\n' ' ')" = "--exact --optimize " ] &&
  [ "$(comm -13 "$TMP/man.aetherd" "$TMP/man.bad")" = "--exactly" ] && ok "the flag check sees a missing and a stale flag" ||
  fail "flag check on a damaged page: $(comm -3 "$TMP/man.aetherd" "$TMP/man.bad" | tr '\n' ' ')"

# aether.conf.5: "section key" pairs from the config table vs the page
grep -o '^ *{"[a-z.]*", "[a-z_]*"' "$AE_SOURCE_DIR/src/config/config.c" | sed 's/[{",]/ /g' | awk '{print $1, $2}' |
  sort -u >"$TMP/keys.code"
awk '/^\.SH \[/ { sec = substr($2, 2, length($2) - 2) } /^\.SH [^[]/ { sec = "" }
     tag { if (sec != "" && $1 == ".B") print sec, $2; tag = 0 } /^\.TP/ { tag = 1 }' "$MAN/aether.conf.5" |
  sort -u >"$TMP/keys.man"
[ "$(wc -l <"$TMP/keys.code")" -gt 20 ] || fail "too few keys read from src/config/config.c"
missing=$(comm -23 "$TMP/keys.code" "$TMP/keys.man" | tr '\n' ';')
extra=$(comm -13 "$TMP/keys.code" "$TMP/keys.man" | tr '\n' ';')
[ -z "$missing" ] && ok "aether.conf.5 documents every config key ($(wc -l <"$TMP/keys.code"))" ||
  fail "man/aether.conf.5 lacks $missing"
[ -z "$extra" ] && ok "aether.conf.5 documents no key the config table lacks" || fail "man/aether.conf.5 has unknown $extra"

# bash completion
comp() { # WORDS...: COMPREPLY of completing the last word, one per line, sorted
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aetherd; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$AE_SOURCE_DIR/completion/aetherd.bash" "$@" | sort -u
}
comp "$AETHERD" -- | grep . >"$TMP/comp.flags" || true
grep -- '^--' "$TMP/help.aetherd" >"$TMP/help.long"
diff "$TMP/help.long" "$TMP/comp.flags" >"$TMP/d" && ok "completion offers exactly --help's flags" ||
  fail "completion vs --help: $(cat "$TMP/d")"
[ "$(comp "$AETHERD" --sea | tr '\n' ' ')" = "--search --search-limit --search-mode --search-model --search-provider --search-vector " ] &&
  ok "completion of a prefix" || fail "completion of --sea: $(comp "$AETHERD" --sea | tr '\n' ' ')"
for flag in search-mode output verify-mode retrain; do
  case $flag in search-mode | output) mode=(--search x) ;; verify-mode) mode=(--verify) ;; retrain) mode=(--index-once) ;; esac
  expect_exit 2 "$AETHERD" "${mode[@]}" "--$flag" bogus-value || true
  # "--F expects a, b or c, not 'bogus-value'" or "...; accepted: "a", "b", "c""
  want=$(printf '%s\n' "$ERR" | sed -n "s/.*--$flag expects \(.*\), not 'bogus-value'.*/\1/p; s/.*bogus-value.*accepted: \(.*\)/\1/p" |
    sed 's/ or /, /' | tr -d ',"' | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
  got=$(comp "$AETHERD" "--$flag" "" | tr '\n' ' ')
  [ -n "$want" ] && [ "$got" = "$want" ] && ok "completion of --$flag: $got" || fail "completion of --$flag: '$got', program accepts '$want'"
  got=$(comp "$AETHERD" "--$flag=" | tr '\n' ' ')
  [ "$got" = "$want" ] && ok "completion of --$flag=" || fail "completion of --$flag=: '$got'"
done
mkdir -p "$TMP/wsdir/sub"
got=$(cd "$TMP" && comp "$AETHERD" --workspace ws | tr '\n' ' ')
[ "$got" = "wsdir " ] && ok "completion of --workspace offers directories" || fail "--workspace completion: '$got'"
finish
