#!/usr/bin/env bash
# SIGKILL loop over the watcher: a change storm (rewrites, creates, deletes, a directory moved)
# runs while `aetherd` watches; the daemon is SIGKILLed at a random moment of it.  After each
# kill the store check passes (--fsck), the daemon restarts (a second watcher is refused while
# one runs, and never after a kill: the lock dies with its holder), and the store converges to
# exactly what a fresh --index-once of the tree writes: nothing committed is lost, nothing
# half-written stays.  AE_WATCH_KILLS sets the number of kills (default 12 in CI; the recorded
# run in docs/RELIABILITY.md used 220), AE_WATCH_KILL_SEED the seed.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"

KILLS=${AE_WATCH_KILLS:-12}
SEED=${AE_WATCH_KILL_SEED:-$$}
RANDOM=$SEED
echo "seed $SEED kills $KILLS"
WS="$TMP/ws"
mkdir -p "$WS/src" "$WS/.aether"
printf '[embeddings]\nprovider = "hash"\n' >"$WS/.aether/config.toml"
gen() {
  local base; base=$(basename "$1" .py)
  for ((i = 0; i < $2; i++)); do
    printf 'def %s_f%d(v):\n    """Step %d, revision %s."""\n    return v * %d + %s\n\n' "$base" "$i" "$i" "$3" "$i" "$3"
  done >"$1"
}
for i in $(seq 0 19); do gen "$WS/src/m$i.py" 4 0; done

STORM_STOP="$TMP/storm.stop"
storm() { # rewrites, creates, deletes and a directory move, as fast as it can, until told
  local salt=$1 n=0
  while [ ! -e "$STORM_STOP" ]; do
    n=$((n + 1))
    gen "$WS/src/m$((RANDOM % 20)).py" 4 "$salt.$n"
    case $((RANDOM % 12)) in
      0) gen "$WS/src/x$((RANDOM % 10)).py" 3 "$salt.$n" ;;
      1) rm -f "$WS/src/x$((RANDOM % 10)).py" ;;
      2) mkdir -p "$WS/d$((RANDOM % 3))/s" && gen "$WS/d$((RANDOM % 3))/s/y.py" 2 "$salt.$n" 2>/dev/null || true ;;
      3) [ -d "$WS/d0" ] && rm -rf "$WS/d9" && mv "$WS/d0" "$WS/d9" 2>/dev/null || true ;;
      4) rm -rf "$WS/d9" ;;
    esac
  done
}

kills=0 refused=0
start_watch "$WS" "$TMP/w" --debounce-ms 50 || { finish; exit 1; }
for ((k = 1; k <= KILLS; k++)); do
  rm -f "$STORM_STOP"
  storm "$k" &
  storm_pid=$!
  sleep "$(printf '0.%03d' $((20 + RANDOM % 900)))"
  # a second watcher is refused while this one runs
  if [ $((k % 4)) -eq 1 ]; then
    set +e
    "$AETHERD" --workspace "$WS" >/dev/null 2>"$TMP/second.err"
    rc=$?
    set -e
    if [ $rc -eq 1 ] && grep -q "already watched by pid $WATCH_PID" "$TMP/second.err"; then refused=$((refused + 1));
    else fail "second watcher: exit $rc: $(cat "$TMP/second.err")"; fi
  fi
  kill -KILL "$WATCH_PID"
  wait "$WATCH_PID" 2>/dev/null || true
  kills=$((kills + 1))
  touch "$STORM_STOP"
  wait "$storm_pid" || true
  if ! out=$("$AETHERD" --workspace "$WS" --fsck --output json 2>&1); then
    fail "fsck after kill $k: $out"; cp -R "$WS" "$TMP/../watch-kill-failed-ws" 2>/dev/null || true; break
  fi
  start_watch "$WS" "$TMP/w" --debounce-ms 50 || break
  converge "$WS" "kill $k: restart converges" "" 90 >"$TMP/conv" || { cat "$TMP/conv"; break; }
done
stop_watch
echo "kills $kills, second watchers refused $refused"
[ "$kills" -ge "$KILLS" ] && ok "$kills kills, each followed by fsck ok and convergence" || fail "only $kills of $KILLS kills"
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck && ok "final fsck" || fail "final fsck: $OUT"
finish
