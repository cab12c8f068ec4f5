#!/usr/bin/env bash
# New directories that git ignores get no inotify watch (the indexer's rules, docs/ARCHITECTURE.md
# "Watching"): a created ignored directory, an ignored directory inside a new tree, one moved in,
# and one named like the skip list that git does not ignore (watched: inside git, git decides).
# The watches are read from the kernel (/proc/PID/fdinfo of the inotify descriptor: one line
# per watch with its directory's inode), so the test sees what the daemon really watches.
. "$(dirname "$0")/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"

WS="$TMP/ws"
mkdir -p "$WS/src" "$WS/.aether"
printf '[embeddings]\nprovider = "hash"\n' >"$WS/.aether/config.toml"
printf 'def base_fn(x):\n    return x\n' >"$WS/src/base.py"
printf '.aether/\ndist/\n*.cache/\n' >"$WS/.gitignore"
git -C "$WS" init -q -b main
git -C "$WS" -c user.email=t@t -c user.name=t add -A
git -C "$WS" -c user.email=t@t -c user.name=t commit -qm init

start_watch "$WS" "$TMP/w" --debounce-ms 100 || { finish; exit 1; }

# the inodes (hex, as fdinfo prints them) of every directory the daemon watches
watched_inodes() {
  local fd
  for fd in /proc/"$WATCH_PID"/fd/*; do
    [ "$(readlink "$fd")" = "anon_inode:inotify" ] || continue
    sed -n 's/^inotify wd:[0-9a-f]* ino:\([0-9a-f]*\) .*/\1/p' /proc/"$WATCH_PID"/fdinfo/"${fd##*/}"
  done | sort -u
}
ino() { printf '%x\n' "$(stat -c %i "$1")"; }
is_watched() { watched_inodes | grep -qx "$(ino "$1")"; }
# waits until the daemon handled the events made so far: a marker file's symbol is searchable
sync_daemon() {
  printf 'def %s(x):\n    return x\n' "$1" >"$WS/src/$1.py"
  for _ in $(seq 1 300); do
    "$AETHERD" --workspace "$WS" --search "$1" --output json 2>/dev/null | grep -q "\"qualified_name\":\"$1\"" && return 0
    sleep 0.05
  done
  fail "the daemon did not index $1"
}

is_watched "$WS/src" && ok "src is watched" || fail "src has no watch: $(watched_inodes | tr '\n' ' ')"

mkdir "$WS/dist"                                       # ignored, created empty
mkdir -p "$WS/pkg/sub" "$WS/pkg/dist" "$WS/pkg/x.cache" # a new tree holding two ignored ones
mkdir -p "$TMP/outside/lib.cache/deep"                 # ignored, moved in whole
mv "$TMP/outside/lib.cache" "$WS/src/lib.cache"
mkdir -p "$WS/node_modules_like/node_modules"          # skip-list name, not ignored by git
sync_daemon marker_one

for d in dist pkg/dist pkg/x.cache src/lib.cache src/lib.cache/deep; do
  is_watched "$WS/$d" && fail "$d is ignored by git but watched" || ok "$d (ignored by git) has no watch"
done
for d in pkg pkg/sub node_modules_like node_modules_like/node_modules; do
  is_watched "$WS/$d" && ok "$d (not ignored) is watched" || fail "$d is not ignored but has no watch"
done

# a file written into an ignored directory is not indexed; one in a watched new directory is
printf 'def ignored_fn(x):\n    return x\n' >"$WS/pkg/dist/gen.py"
printf 'def kept_fn(x):\n    return x\n' >"$WS/pkg/sub/kept.py"
sync_daemon marker_two
"$AETHERD" --workspace "$WS" --search kept_fn --output json 2>/dev/null | grep -q '"qualified_name":"kept_fn"' \
  && ok "a file in a new watched directory is indexed" || fail "kept_fn not indexed"
"$AETHERD" --workspace "$WS" --search ignored_fn --output json 2>/dev/null | grep -q '"qualified_name":"ignored_fn"' \
  && fail "a file in an ignored directory was indexed" || ok "a file in an ignored directory is not indexed"
converge "$WS" "after the new directories"
stop_watch
finish
