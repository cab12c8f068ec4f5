#!/usr/bin/env bash
# Watch mode with the default learned embedder ("ppmi", trained on full passes).  Policy
# (docs/ARCHITECTURE.md, "Watching"): watch batches embed with the current model and retrain
# under the same `retrain` rule as a full pass (drift); a fresh store trained on today's tree
# learns its own model, so the equality holds given the same model: the fresh --index-once
# gets a copy of .aether/models with retrain = "never".  Outside git (the directory walk).
. "$(dirname "$0")/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"

WS="$TMP/ws"
mkdir -p "$WS/lib" "$WS/.aether"
printf '[embeddings]\nprovider = "ppmi"\n' >"$WS/.aether/config.toml"
gen() {
  local base; base=$(basename "$1" .py)
  for ((i = 0; i < $2; i++)); do
    printf 'def %s_parse_%d(text):\n    """Parse the %s token stream, pass %d, revision %s."""\n    return text.split()[%d:] + ["%s"]\n\n' \
      "$base" "$i" "$base" "$i" "$3" "$i" "$3"
  done >"$1"
}
for i in $(seq 0 14); do gen "$WS/lib/p$i.py" 4 0; done
start_watch "$WS" "$TMP/w" --debounce-ms 100 || { finish; exit 1; }
[ -f "$WS/.aether/models/CURRENT" ] && ok "the initial pass trained a model" || fail "no model after the initial pass"
converge "$WS" "initial pass (ppmi)" models
gen "$WS/lib/p3.py" 5 1
converge "$WS" "save (ppmi)" models
gen "$WS/lib/new.py" 3 2
rm "$WS/lib/p4.py"
mkdir -p "$WS/lib/sub" && gen "$WS/lib/sub/q.py" 2 3
converge "$WS" "create, delete, new directory (ppmi)" models
# skipped outside git: node_modules is never indexed, in the watcher as in the indexer
# (a save in the same debounce window shows the batch that saw both ran)
mkdir -p "$WS/node_modules/dep" && gen "$WS/node_modules/dep/x.py" 2 4
gen "$WS/lib/p5.py" 4 4
converge "$WS" "node_modules ignored (ppmi)" models
stop_watch

# The polling fallback (what runs where inotify cannot be had): the same equality.
start_watch "$WS" "$TMP/p" --debounce-ms 100 --poll-ms 200 || { finish; exit 1; }
grep -q '"message":"watching .* (polling, debounce 100 ms)"' "$TMP/p.err" && ok "--poll-ms watches by polling" || fail "log: $(head -2 "$TMP/p.err")"
gen "$WS/lib/p6.py" 2 5
rm "$WS/lib/p7.py"
mv "$WS/lib/sub" "$WS/lib/sub2"
converge "$WS" "polling: save, delete, directory moved (ppmi)" models
stop_watch
finish
