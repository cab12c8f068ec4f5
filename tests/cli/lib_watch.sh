# Helpers for the watch-mode tests (sourced after tests/cli/lib.sh).
#
# The invariant they check: the store a watcher keeps equals the store a fresh
# `--index-once` of the same tree writes: symbols (ids, spans, hashes), files, SIR
# hashes and status, the legacy embedding table's ids and every exported vector.

# store_dump WS OUT: the comparable content of WS's store, one sorted line per row.
store_dump() {
  local ws=$1 out=$2
  "$AETHERD" --workspace "$ws" --export-embeddings - 2>/dev/null >"$out.vec" || true
  python3 - "$ws/.aether/meta.sqlite" "$out.vec" >"$out" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
rows = []
for r in db.execute("SELECT id, file_path, language, kind, qualified_name, signature_fingerprint,"
                    " content_hash, start_line, end_line, name FROM symbols"):
    rows.append("symbol " + "|".join(map(str, r)))
for r in db.execute("SELECT id, sir_hash, sir_status, provider, model FROM sir"):
    rows.append("sir " + "|".join(map(str, r)))
for r in db.execute("SELECT path, size FROM files"):
    rows.append("file %s|%s" % r)
for r in db.execute("SELECT symbol_id, sir_hash FROM sir_embeddings"):
    rows.append("legacy %s|%s" % r)
for line in open(sys.argv[2]):
    if line.strip():
        d = json.loads(line)
        rows.append("vector %s|%s|%s|%s|%s" % (d["symbol_id"], d["sir_hash"], d["provider"],
                                              d["model"], json.dumps(d["embedding"])))
for r in sorted(rows):
    print(r)
PY
}

# fresh_dump WS OUT [models]: copies WS's tree (with .git, without .aether) and its
# config, runs one --index-once there and dumps it.  With "models" the learned
# embedding model of WS is copied too and never retrained (docs/ARCHITECTURE.md,
# "Watching": a fresh store agrees given the same model).
fresh_dump() {
  local ws=$1 out=$2 models=${3:-} f="$TMP/fresh.$RANDOM"
  rm -rf "$f"; mkdir -p "$f"
  (cd "$ws" && tar --exclude=./.aether -cf - .) | (cd "$f" && tar -xf -)
  mkdir -p "$f/.aether"
  cp "$ws/.aether/config.toml" "$f/.aether/config.toml"
  if [ "$models" = models ] && [ -d "$ws/.aether/models" ]; then
    cp -R "$ws/.aether/models" "$f/.aether/models"
    python3 - "$f/.aether/config.toml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
s = re.sub(r'(?m)^retrain\s*=.*$', '', s)
s = s.replace("[embeddings]", '[embeddings]\nretrain = "never"', 1)
open(p, "w").write(s)
PY
  fi
  "$AETHERD" --workspace "$f" --index-once >/dev/null 2>"$f.err" || { echo "fresh index failed: $(cat "$f.err")" >&2; return 1; }
  store_dump "$f" "$out"
  rm -rf "$f" "$f.err"
}

# converge WS WHAT [models] [timeout]: waits until WS's store equals a fresh index of
# its tree; a failure shows the difference.
converge() {
  local ws=$1 what=$2 models=${3:-} limit=${4:-60} t0=$SECONDS
  fresh_dump "$ws" "$TMP/want" "$models" || { fail "$what: fresh index"; return 1; }
  while :; do
    store_dump "$ws" "$TMP/got"
    if cmp -s "$TMP/want" "$TMP/got"; then ok "$what: store equals a fresh --index-once ($(grep -c '^symbol' "$TMP/got") symbols, $(grep -c '^vector' "$TMP/got") vectors, $((SECONDS - t0))s)"; return 0; fi
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      fail "$what: the watched store differs from a fresh --index-once after ${limit}s"
      diff "$TMP/want" "$TMP/got" | cut -c1-200 | head -20
      return 1
    fi
    sleep 0.3
  done
}

# start_watch WS LOG ARGS...: starts `aetherd --workspace WS ARGS` in the background
# (stdout LOG.out, stderr LOG.err) and waits for its initial pass; sets WATCH_PID.
start_watch() {
  local ws=$1 log=$2; shift 2
  "$AETHERD" --workspace "$ws" --log-format json "$@" >"$log.out" 2>"$log.err" &
  WATCH_PID=$!
  # never leave a daemon behind, whatever happens to the test
  trap 'kill -KILL "$WATCH_PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
  local t0=$SECONDS
  until grep -q '"kind":"full"' "$log.err" 2>/dev/null; do
    if ! kill -0 "$WATCH_PID" 2>/dev/null; then fail "watcher exited: $(cat "$log.err")"; return 1; fi
    if [ $((SECONDS - t0)) -ge 120 ]; then fail "no initial pass after 120s"; return 1; fi
    sleep 0.1
  done
}

# stop_watch: SIGTERM, and the watcher must exit 0.
stop_watch() {
  kill -TERM "$WATCH_PID" 2>/dev/null || true
  local rc=0
  wait "$WATCH_PID" || rc=$?
  [ "$rc" -eq 0 ] && ok "watcher exited 0 on SIGTERM" || fail "watcher exited $rc on SIGTERM"
}
