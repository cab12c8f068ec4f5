#!/usr/bin/env bash
# Lexical search over the full-text index: the reference's LIKE matches are
# all still returned, a sentence finds a documented function, the index
# follows edits, deletes and renames of real files, an old store is
# backfilled, and --language / --path-prefix / --kind filter every mode.
. "$(dirname "$0")/lib.sh"
WS=$(new_workspace ws ws_small)
DB="$WS/.aether/meta.sqlite"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true

fts_count() { sqlite3 "$DB" "select count(*) from fts_doc"; }
sym_count() { sqlite3 "$DB" "select count(*) from symbols"; }
[ "$(fts_count)" -eq "$(sym_count)" ] && ok "one document per symbol ($(fts_count))" || fail "fts $(fts_count) vs symbols $(sym_count)"

# ids of a JSON search result, one per line
ids() { python3 -c 'import json,sys; [print(m["symbol_id"]) for m in json.load(sys.stdin)["matches"]]'; }
names() { python3 -c 'import json,sys; [print(m["qualified_name"]) for m in json.load(sys.stdin)["matches"][:int(sys.argv[1]) if len(sys.argv) > 1 else None]]' "$@"; }
search() { "$AETHERD" --workspace "$WS" --search "$@" --output json; }

# --- the reference's LIKE %q% rows are all returned (limit 100 > rows) ----
like_ids() {
  local q=${1//\'/\'\'}
  q=${q//\\/\\\\}; q=${q//%/\\%}; q=${q//_/\\_}
  sqlite3 "$DB" "select id from symbols where id like '%$q%' escape '\\' or qualified_name like '%$q%' escape '\\' or file_path like '%$q%' escape '\\' or language like '%$q%' escape '\\' or kind like '%$q%' escape '\\'" | sort
}
for q in parse onfig Store STORE py c go src/ function ::from auth.py e6c6 issue ytho unctio rc/ser Conf; do
  want=$(like_ids "$q")
  got=$(search "$q" --search-limit 100 | ids | sort)
  missing=$(comm -23 <(echo "$want") <(echo "$got"))
  [ -z "$missing" ] && ok "LIKE rows of '$q' all returned ($(echo "$want" | grep -c . || true))" || fail "'$q' misses LIKE rows: $missing"
done
first=$(search parse_config_file | names 1)
[ "$first" = "parse_config_file" ] && ok "exact name first" || fail "exact name first: $first"

# --- a sentence finds a documented function (by its SIR words and name) ----
# The LIKE search returns nothing for a sentence; the index ranks it.
first=$(search "look up a key in the memory cache" | names 1)
[ "$first" = "cache_lookup" ] && ok "sentence -> cache_lookup" || fail "sentence: $first"
top3=$(search "refresh an oauth session token" | names 3)
contains "$top3" "SessionStore::refresh_token" && ok "sentence -> refresh_token" || fail "sentence 2: $top3"

# --- edits: a new function, a changed docstring ---------------------------
cat >>"$WS/pkg/auth.py" <<'EOF'


def rotate_session_token(token):
    """Reverse the token so the zebrafish protocol accepts it."""
    return token[::-1]
EOF
sed -i 's/Look up a key in the memory cache./Find a value in the kingfisher table./' "$WS/pkg/auth.py"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
first=$(search rotate_session_token | names 1)
[ "$first" = "rotate_session_token" ] && ok "edit: new function found" || fail "new function: $first"
first=$(search "zebrafish protocol" | names 1)
[ "$first" = "rotate_session_token" ] && ok "edit: new docstring words found" || fail "new docstring: $first"
first=$(search kingfisher | names 1)
[ "$first" = "cache_lookup" ] && ok "edit: changed docstring indexed" || fail "changed docstring: $first"
out=$(search memory | names)
! contains "$out" cache_lookup && contains "$out" SessionStore && ok "edit: old docstring words gone" || fail "stale SIR words: $out"
[ "$(fts_count)" -eq "$(sym_count)" ] && ok "documents follow edits" || fail "fts $(fts_count) vs symbols $(sym_count)"

# --- delete a file ----------------------------------------------------------
rm "$WS/src/server.go"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
out=$(search Server --search-limit 100)
! contains "$out" "server.go" && ok "delete: symbols gone from search" || fail "deleted symbols: $out"
[ "$(sqlite3 "$DB" "select count(*) from fts_paths where path = 'src/server.go'")" -eq 0 ] && ok "delete: path gone" || fail "path left"
[ "$(fts_count)" -eq "$(sym_count)" ] && ok "documents follow deletes" || fail "fts $(fts_count) vs symbols $(sym_count)"
orphans=$(sqlite3 "$DB" "select count(*) from fts_words where rowid not in (select rowid from fts_doc)")
[ "$orphans" -eq 0 ] && ok "no orphan rows" || fail "$orphans orphan fts rows"

# --- rename a file ------------------------------------------------------------
mv "$WS/src/vec.c" "$WS/src/vector_math.c"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
path=$(search cosine_similarity | python3 -c 'import json,sys; print(json.load(sys.stdin)["matches"][0]["file_path"])')
[ "$path" = "src/vector_math.c" ] && ok "rename: new path" || fail "rename: $path"
n=$(search vector_math --search-limit 100 | ids | wc -l)
[ "$n" -ge 2 ] && ok "rename: found by new path ($n)" || fail "rename by path: $n"
[ "$(sqlite3 "$DB" "select count(*) from fts_path_doc where path = 'src/vec.c'")" -eq 0 ] && ok "rename: old path gone" || fail "old path left"
[ "$(fts_count)" -eq "$(sym_count)" ] && ok "documents follow renames" || fail "fts $(fts_count) vs symbols $(sym_count)"

# --- rename a function: the old name leaves the index, the new one is found
sed -i 's/def cache_lookup(/def cache_fetch(/' "$WS/pkg/auth.py"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
out=$(search cache_lookup --search-limit 100 | names)
! contains "$out" cache_lookup && ok "symbol rename: old name gone" || fail "old name still found: $out"
first=$(search cache_fetch | names 1)
[ "$first" = "cache_fetch" ] && ok "symbol rename: new name first" || fail "new name: $first"
first=$(search kingfisher | names 1)
[ "$first" = "cache_fetch" ] && ok "symbol rename: its SIR words follow it" || fail "renamed SIR: $first"
[ "$(fts_count)" -eq "$(sym_count)" ] && ok "documents follow symbol renames" || fail "fts $(fts_count) vs symbols $(sym_count)"

# --- a store from before the index: LIKE until a writer backfills it -------
sqlite3 "$DB" "drop table fts_words; drop table fts_names; drop table fts_doc; drop table fts_paths; drop table fts_path_doc; delete from aether_c_meta where key = 'fts_version'"
first=$(search parseConfig | names 1)
[ "$first" = "parseConfig" ] && ok "no index: LIKE search" || fail "no index: $first"
n=$(search "look up a key" | ids | wc -l)
[ "$n" -eq 0 ] && ok "no index: a sentence finds nothing (the reference's behaviour)" || fail "no index sentence: $n"
expect_exit 0 "$AETHERD" --workspace "$WS" --index-once || true
[ "$(sqlite3 "$DB" "select value from aether_c_meta where key = 'fts_version'")" = 1 ] && ok "backfill recorded" || fail "no fts_version"
[ "$(fts_count)" -eq "$(sym_count)" ] && ok "backfill: every symbol ($(fts_count))" || fail "backfill fts $(fts_count) vs $(sym_count)"
first=$(search kingfisher | names 1)
[ "$first" = "cache_fetch" ] && ok "backfill: SIR text indexed" || fail "backfill SIR: $first"

# --- filters, every mode ----------------------------------------------------
for mode in lexical semantic hybrid; do
  # (a word, not "c": a one-letter query has no token for the ppmi embedder)
  out=$(search cache --search-mode "$mode" --language python --search-limit 100)
  python3 - "$out" "$mode" <<'PY' && ok "--language python ($mode)" || fail "--language $mode: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["mode_used"] == sys.argv[2], d["mode_used"]
assert d["matches"] and all(m["language"] == "python" for m in d["matches"]), d
PY
  out=$(search config --search-mode "$mode" --path-prefix src/ --kind function --search-limit 100)
  python3 - "$out" <<'PY' && ok "--path-prefix src/ --kind function ($mode)" || fail "--path-prefix $mode: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["matches"], d
assert all(m["file_path"].startswith("src/") and m["kind"] == "function" for m in d["matches"]), d
PY
  out=$(search config --search-mode "$mode" --language cobol)
  contains "$out" '"matches":[]' && ok "a filter nothing passes: no matches ($mode)" || fail "cobol $mode: $out"
done
# semantic with a filter still fills the limit when enough rows pass
n_py=$(sqlite3 "$DB" "select count(*) from symbols where language = 'python'")
n=$(search "anything at all" --search-mode semantic --language python --search-limit 100 | ids | wc -l)
[ "$n" -eq "$n_py" ] && ok "semantic filter returns every passing row ($n)" || fail "semantic filter: $n of $n_py"
expect_exit 2 "$AETHERD" --workspace "$WS" --index-once --language python || true
finish
