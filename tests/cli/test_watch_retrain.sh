#!/usr/bin/env bash
# The learned embedder ("ppmi") is retrained in a background child process, never inside a
# watch batch (docs/ARCHITECTURE.md, "Watching"; src/workspace/model_retrain.h), with real
# processes:
# 1. a storm past the drift threshold starts a retrain child; while it stages (held by
#    AE_RETRAIN_STAGE_DELAY_MS) a save is processed and searchable, the old model stays
#    CURRENT; when the child publishes, the store equals a fresh --index-once with the same
#    model, one vector table is left, --fsck passes;
# 2. SIGKILL of the daemon while the child stages: the child dies with it, the next start
#    removes the staging leftovers, retrains again and converges;
# 3. SIGKILL while the child publishes (after CURRENT, before the re-key:
#    AE_RETRAIN_PUBLISH_DELAY_MS): the next start finishes the roll-out from the table
#    (no re-embedding of every symbol) and converges;
# 4. SIGTERM while the child stages: exit 0 at once, nothing committed lost, converges.
. "$AE_SOURCE_DIR/tests/cli/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"
need_test_hooks

WS="$TMP/ws"
mkdir -p "$WS/lib" "$WS/.aether"
printf '[embeddings]\nprovider = "ppmi"\n' >"$WS/.aether/config.toml"
gen() { # gen FILE N REV
  local base; base=$(basename "$1" .py)
  for ((i = 0; i < $2; i++)); do
    printf 'def %s_parse_%d(text):\n    """Parse the %s %s token %sstream, pass %d."""\n    return text.split()[%d:] + ["%s_%s"]\n\n' \
      "$base" "$i" "$base" "$3" "$3" "$i" "$i" "$3" "$base"
  done >"$1"
}
storm() { for i in $(seq 0 11); do gen "$WS/lib/p$i.py" 30 "$1"; done; } # 360 symbols changed
storm alpha
"$AETHERD" --workspace "$WS" --index-once >/dev/null 2>"$TMP/once.err" || fail "index-once: $(cat "$TMP/once.err")"
current() { cat "$WS/.aether/models/CURRENT" 2>/dev/null; }
log_has() { grep -q "\"event\":\"$2\"" "$1.err" 2>/dev/null; }
wait_log() { # wait_log LOG EVENT SECONDS [COUNT]
  local t0=$SECONDS n=${4:-1}
  until [ "$(grep -c "\"event\":\"$2\"" "$1.err" 2>/dev/null)" -ge "$n" ]; do
    [ $((SECONDS - t0)) -ge "$3" ] && return 1
    sleep 0.05
  done
}
child_pid() { grep '"event":"retrain"' "$1.err" | tail -1 | sed -n 's/.*(pid \([0-9]*\)).*/\1/p'; }
tables() { find "$WS/.aether/vectors" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l; }
fsck_ok() {
  if "$AETHERD" --workspace "$WS" --fsck >"$TMP/fsck.out" 2>&1; then ok "$1: --fsck passes"
  else fail "$1: --fsck: $(cat "$TMP/fsck.out")"; fi
}
m0=$(current)

# --- 1. a storm's retrain in the background; a save meanwhile ---------------------------------
AE_RETRAIN_STAGE_DELAY_MS=6000 start_watch "$WS" "$TMP/w1" --debounce-ms 100 || { finish; exit 1; }
storm bravo
if wait_log "$TMP/w1" retrain 60; then ok "the storm past the drift threshold started a background retrain"
else fail "no retrain notice: $(tail -5 "$TMP/w1.err")"; fi
child=$(child_pid "$TMP/w1")
[ -n "$child" ] && kill -0 "$child" 2>/dev/null && ok "the retrain runs in a child process ($child)" \
  || fail "no retrain child running (pid '$child')"
printf 'def fresh_probe_fn(x):\n    """Probe saved during the retrain."""\n    return x + 41\n' >>"$WS/lib/p3.py"
t0=$(date +%s%N); found=
for _ in $(seq 1 100); do
  if "$AETHERD" --workspace "$WS" --search fresh_probe_fn --output json 2>/dev/null | grep -q '"qualified_name":"fresh_probe_fn"'; then found=1; break; fi
  sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
if [ -n "$found" ] && kill -0 "$child" 2>/dev/null && [ "$(current)" = "$m0" ]; then
  ok "the save was searchable after ${ms} ms while the retrain still ran (model $m0 still current)"
else fail "save during the retrain: found=${found:-no} after ${ms} ms, child alive: $(kill -0 "$child" 2>/dev/null && echo yes || echo no), CURRENT $(current)"; fi
if wait_log "$TMP/w1" retrained 120; then ok "the child published: $(grep '"event":"retrained"' "$TMP/w1.err" | tail -1 | sed 's/.*"message":"\([^"]*\)".*/\1/' | cut -c1-150)"
else fail "no retrained notice: $(tail -5 "$TMP/w1.err")"; fi
m1=$(current)
[ -n "$m1" ] && [ "$m1" != "$m0" ] && ok "a new model is current ($m0 -> $m1)" || fail "model not replaced: $m0 -> $m1"
converge "$WS" "after the background retrain" models
[ "$(tables)" -eq 1 ] && ok "the old model's table was dropped" || fail "tables: $(ls "$WS/.aether/vectors")"
[ ! -e "$WS/.aether/retrain/models" ] && [ ! -e "$WS/.aether/retrain/vectors" ] && ok "no staging left" \
  || fail "staging left: $(ls -R "$WS/.aether/retrain" | head)"
stop_watch
fsck_ok "after the retrain"

# --- 2. SIGKILL of the daemon while the child stages ---------------------------------------------
AE_RETRAIN_STAGE_DELAY_MS=30000 start_watch "$WS" "$TMP/w2" --debounce-ms 100 || { finish; exit 1; }
storm charlie
wait_log "$TMP/w2" retrain 60 || fail "no retrain notice (2): $(tail -5 "$TMP/w2.err")"
child=$(child_pid "$TMP/w2")
for _ in $(seq 1 100); do [ -d "$WS/.aether/retrain/vectors" ] && break; sleep 0.1; done
kill -KILL "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
kill -0 "$child" 2>/dev/null && fail "the retrain child $child outlived its SIGKILLed daemon" || ok "the retrain child died with its daemon"
[ -d "$WS/.aether/retrain/vectors" ] && ok "the killed retrain left its staging table" || fail "no staging table left to clean"
[ "$(current)" = "$m1" ] && ok "CURRENT still names the model in use" || fail "CURRENT $(current), want $m1"
start_watch "$WS" "$TMP/w3" --debounce-ms 100 || { finish; exit 1; }
grep -q 'removed what an interrupted background retrain left' "$TMP/w3.err" && ok "the next start removed the staging leftovers" \
  || fail "no cleanup notice: $(head -5 "$TMP/w3.err")"
if wait_log "$TMP/w3" retrained 120; then ok "the next start retrained again"; else fail "no retrain after the restart: $(tail -5 "$TMP/w3.err")"; fi
converge "$WS" "after a SIGKILL during staging" models
stop_watch
fsck_ok "after the SIGKILL during staging"

# --- 3. SIGKILL while the child publishes (CURRENT switched, embedding_state not re-keyed) -------
m2=$(current)
AE_RETRAIN_PUBLISH_DELAY_MS=30000 start_watch "$WS" "$TMP/w4" --debounce-ms 100 || { finish; exit 1; }
storm delta
wait_log "$TMP/w4" retrain 60 || fail "no retrain notice (3): $(tail -5 "$TMP/w4.err")"
t0=$SECONDS
until [ "$(current)" != "$m2" ] || [ $((SECONDS - t0)) -ge 120 ]; do sleep 0.05; done
m3=$(current)
[ "$m3" != "$m2" ] && ok "the child switched CURRENT ($m2 -> $m3) and is held before the re-key" || fail "CURRENT never switched"
[ -f "$WS/.aether/retrain/PUBLISHING" ] && ok "PUBLISHING names the model being rolled out" || fail "no PUBLISHING marker"
kill -KILL "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true
sleep 0.3
start_watch "$WS" "$TMP/w5" --debounce-ms 100 || { finish; exit 1; }
grep -q "finished its interrupted roll-out" "$TMP/w5.err" && ok "the next start finished the roll-out" \
  || fail "no recovery notice: $(head -5 "$TMP/w5.err")"
emb=$(grep '"kind":"full"' "$TMP/w5.err" | head -1 | sed -n 's/.*"embeddings_written":\([0-9]*\).*/\1/p')
[ -n "$emb" ] && [ "$emb" -lt 100 ] && ok "the initial pass re-embedded $emb symbols, not all of them" \
  || fail "the initial pass re-embedded ${emb:-?} symbols"
converge "$WS" "after a SIGKILL during the publish" models
[ "$(tables)" -eq 1 ] && ok "one vector table after the recovery" || fail "tables: $(ls "$WS/.aether/vectors")"
[ ! -e "$WS/.aether/retrain/PUBLISHING" ] && ok "the marker is gone" || fail "PUBLISHING left"
stop_watch
fsck_ok "after the SIGKILL during the publish"

# --- 4. SIGTERM while the child stages -----------------------------------------------------------
AE_RETRAIN_STAGE_DELAY_MS=90000 start_watch "$WS" "$TMP/w6" --debounce-ms 100 || { finish; exit 1; }
storm echo
wait_log "$TMP/w6" retrain 60 || fail "no retrain notice (4): $(tail -5 "$TMP/w6.err")"
child=$(child_pid "$TMP/w6")
converge "$WS" "the storm processed while the retrain stages (the old model)" models
t0=$(date +%s%N)
stop_watch
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 10000 ] && ok "SIGTERM during a retrain ended the daemon in ${ms} ms" || fail "SIGTERM took ${ms} ms"
kill -0 "$child" 2>/dev/null && fail "the retrain child $child outlived the daemon" || ok "the retrain child is gone"
converge "$WS" "after a SIGTERM during staging, before any restart (nothing lost)" models 5
start_watch "$WS" "$TMP/w7" --debounce-ms 100 || { finish; exit 1; }
wait_log "$TMP/w7" retrained 120 || fail "no retrain after the SIGTERM restart: $(tail -5 "$TMP/w7.err")"
converge "$WS" "after a SIGTERM during staging" models
stop_watch
fsck_ok "after the SIGTERM"
finish
