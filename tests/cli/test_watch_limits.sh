#!/usr/bin/env bash
# The watcher's fallbacks, driven by test hooks (docs/TESTING.md): the inotify watch limit
# (AE_WATCH_MAX_WATCHES) switches to polling with a notice, an inotify queue overflow
# (AE_WATCH_OVERFLOW_EVERY) makes a full incremental rescan due with a notice; after either,
# the store still equals a fresh --index-once.
. "$(dirname "$0")/lib.sh"
need_test_hooks
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"

gen() {
  local base; base=$(basename "$1" .py)
  for ((i = 0; i < $2; i++)); do
    printf 'def %s_f%d(v):\n    """Step %d, revision %s."""\n    return v * %d + %s\n\n' "$base" "$i" "$i" "$3" "$i" "$3"
  done >"$1"
}
setup() {
  WS="$TMP/$1"
  mkdir -p "$WS/.aether" "$WS/a/b" "$WS/c"
  printf '[embeddings]\nprovider = "hash"\n' >"$WS/.aether/config.toml"
  for d in a a/b c; do for i in 0 1 2; do gen "$WS/$d/m$i.py" 3 0; done; done
}

# 1. Watch limit: two watches allowed, the tree has four directories.
setup limit
AE_WATCH_MAX_WATCHES=2 start_watch "$WS" "$TMP/l" --debounce-ms 100 || { finish; exit 1; }
grep -q '"level":"warn".*watch limit.*polling every 1000 ms.*"event":"watch_limit"' "$TMP/l.err" \
  && ok "watch limit: a warning, then polling" || fail "log: $(cat "$TMP/l.err")"
gen "$WS/a/b/m1.py" 4 1
gen "$WS/c/new.py" 2 1
rm "$WS/a/m0.py"
converge "$WS" "after the watch limit (polling)"
stop_watch

# 2. Overflow: every 20th event overflows the queue; a burst of edits.
setup overflow
AE_WATCH_OVERFLOW_EVERY=20 start_watch "$WS" "$TMP/o" --debounce-ms 100 || { finish; exit 1; }
for k in $(seq 1 60); do gen "$WS/a/b/m$((k % 3)).py" 3 "$k"; done
mkdir -p "$WS/d/e" && gen "$WS/d/e/late.py" 2 2
converge "$WS" "after inotify overflows"
grep -q '"level":"warn","message":"the inotify event queue overflowed: rescanning the workspace","fields":{"event":"overflow"}' "$TMP/o.err" \
  && ok "overflow: a warning" || fail "no overflow notice: $(head -5 "$TMP/o.err")"
[ "$(grep -c '"kind":"full"' "$TMP/o.err")" -ge 2 ] && ok "overflow: a full rescan ran after the initial pass" || fail "no rescan: $(grep -c '"kind":"full"' "$TMP/o.err") full passes"
# the directory made during the overflows is watched: a save in it is seen
gen "$WS/d/e/late.py" 3 3
converge "$WS" "a directory made during overflows is watched"
stop_watch
finish
