#!/usr/bin/env bash
# Watch mode (aetherd with no mode flag) in a real git repository: after each kind of change
# (save, create, delete, rename, a new directory with files, a directory moved and deleted, a
# burst of 1,000 edits, a .gitignore change, a branch switch) the watched store equals what a
# fresh --index-once of the same tree writes: symbols, SIR hashes, exported vectors.  The
# embedder is pinned to "hash" (deterministic per text); test_watch_ppmi.sh covers the learned
# model.  Also: --print-events lines (shape and content) and the JSON log, line by line.
. "$(dirname "$0")/lib.sh"
. "$AE_SOURCE_DIR/tests/cli/lib_watch.sh"

WS="$TMP/ws"
mkdir -p "$WS/src" "$WS/.aether"
printf '[embeddings]\nprovider = "hash"\n' >"$WS/.aether/config.toml"
gen() { # gen PATH N SALT: N Python functions whose bodies depend on SALT
  local base; base=$(basename "$1" .py)
  for ((i = 0; i < $2; i++)); do
    printf 'def %s_f%d(value):\n    """Step %d of %s, revision %s."""\n    return value * %d + %s\n\n' \
      "$base" "$i" "$i" "$base" "$3" "$i" "$3"
  done >"$1"
}
for i in $(seq 0 19); do gen "$WS/src/m$i.py" 4 0; done
git -C "$WS" init -q -b main
echo ".aether/" >"$WS/.git/info/exclude" # as a user's .gitignore would: the store is not source
git -C "$WS" -c user.email=t@t -c user.name=t add src
git -C "$WS" -c user.email=t@t -c user.name=t commit -qm init

start_watch "$WS" "$TMP/w" --debounce-ms 100 --print-events || { finish; exit 1; }
converge "$WS" "initial pass"

# save: one function changed, one added, one removed
printf 'def m0_f0(value):\n    """Changed."""\n    return value - 1\n\ndef m0_new(x):\n    return x\n\ndef m0_f1(value):\n    """Step 1 of m0, revision 0."""\n    return value * 1 + 0\n\ndef m0_f2(value):\n    """Step 2 of m0, revision 0."""\n    return value * 2 + 0\n' >"$WS/src/m0.py"
converge "$WS" "save"
python3 - "$TMP/w.out" <<'PY' && ok "--print-events: shape and content of the save" || fail "--print-events: $(tail -2 "$TMP/w.out")"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sym_keys = ["id", "language", "file_path", "kind", "name", "qualified_name", "signature_fingerprint", "content_hash", "range"]
for e in evs:
    assert list(e) == ["file_path", "language", "added", "removed", "updated"], list(e)
    assert e["added"] or e["removed"] or e["updated"], "empty event"
    for s in e["added"] + e["removed"] + e["updated"]:
        assert list(s) == sym_keys, list(s)
        assert s["file_path"] == e["file_path"] and s["language"] == "python"
        r = s["range"]
        assert r["start"]["line"] >= 1 and r["start"]["column"] >= 1 and r["end"]["line"] >= r["start"]["line"], r
        assert len(s["id"]) == 64 and len(s["content_hash"]) == 64
save = [e for e in evs if e["file_path"] == "src/m0.py"][-1]
names = lambda k: sorted(s["name"] for s in save[k])
assert names("added") == ["m0_new"], save["added"]
assert names("removed") == ["m0_f3"], save["removed"]
assert names("updated") == ["m0_f0"], save["updated"]
assert save["added"][0]["range"]["start"]["line"] == 5, save["added"][0]["range"]
# a removed symbol reports the range it had (end.column stored with it), not column 1
first = {s["id"]: s["range"] for e in evs for s in e["added"]}
gone = save["removed"][0]
assert gone["range"] == first[gone["id"]], (gone["range"], first.get(gone["id"]))
assert gone["range"]["end"]["column"] == len("    return value * 3 + 0") + 1, gone["range"]
PY

gen "$WS/src/created.py" 3 1
converge "$WS" "create"
rm "$WS/src/m1.py"
converge "$WS" "delete"
python3 - "$TMP/w.out" <<'PY' && ok "--print-events: a deleted file's symbols keep their end columns" || fail "--print-events delete: $(tail -1 "$TMP/w.out")"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
d = [e for e in evs if e["file_path"] == "src/m1.py"][-1]
assert len(d["removed"]) == 4 and not d["added"] and not d["updated"], d
for s in d["removed"]:
    i = int(s["name"].rsplit("f", 1)[1])
    assert s["range"]["end"]["column"] == len("    return value * %d + 0" % i) + 1, s
PY
mv "$WS/src/m2.py" "$WS/src/renamed.py"
converge "$WS" "rename"
mkdir -p "$WS/pkg/sub"
for i in 0 1 2; do gen "$WS/pkg/sub/n$i.py" 2 2; done
gen "$WS/pkg/top.py" 2 2
converge "$WS" "new directory with files"
mv "$WS/pkg" "$WS/pkg2"
converge "$WS" "directory moved"
gen "$WS/pkg2/sub/n0.py" 3 9
converge "$WS" "save inside the moved directory"
rm -rf "$WS/pkg2"
converge "$WS" "directory deleted"

# A burst of 1,000 edits over 20 files (each file rewritten ~50 times).
for k in $(seq 1 1000); do gen "$WS/src/m$((k % 17 + 3)).py" 4 "$k"; done
converge "$WS" "burst of 1000 edits" "" 120

# .gitignore: an ignored directory's files leave the store, un-ignoring brings them back.
mkdir -p "$WS/gen"; gen "$WS/gen/out.py" 2 3
converge "$WS" "untracked directory"
echo "gen/" >"$WS/.gitignore"
converge "$WS" ".gitignore excludes a directory"
rm "$WS/.gitignore"
converge "$WS" ".gitignore removed"

# Branch switch: a branch that rewrites, adds and deletes files.
git -C "$WS" -c user.email=t@t -c user.name=t add -A
git -C "$WS" -c user.email=t@t -c user.name=t commit -qm state
git -C "$WS" checkout -qb feature
for i in $(seq 3 12); do gen "$WS/src/m$i.py" 5 77; done
for i in $(seq 0 29); do gen "$WS/src/feat$i.py" 2 5; done
git -C "$WS" rm -q src/m13.py src/m14.py
git -C "$WS" -c user.email=t@t -c user.name=t add -A
git -C "$WS" -c user.email=t@t -c user.name=t commit -qm feature
converge "$WS" "feature branch committed"
git -C "$WS" checkout -q main
converge "$WS" "git checkout main"
git -C "$WS" checkout -q feature
converge "$WS" "git checkout feature"

# Idle is idle: no CPU time at all over 5 s with nothing changing (no timer, no polling).
sleep 1
cpu() { awk '{print $14 + $15}' "/proc/$WATCH_PID/stat"; }
c0=$(cpu); sleep 5; c1=$(cpu)
[ $((c1 - c0)) -le 1 ] && ok "idle: $((c1 - c0)) clock ticks of CPU in 5 s" || fail "idle watcher used $((c1 - c0)) ticks in 5 s"

stop_watch
# The log: every stderr line is one JSON object with level, message, fields.
python3 - "$TMP/w.err" <<'PY' && ok "--log-format json: every line parses" || fail "json log: $(head -3 "$TMP/w.err")"
import json, sys
n = batches = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert list(d) == ["level", "message", "fields"], d
    assert d["level"] in ("info", "warn", "error") and isinstance(d["message"], str) and isinstance(d["fields"], dict)
    assert d["level"] != "error", d
    if d["fields"].get("kind") == "paths":
        batches += 1
        for k in ("paths", "files", "added", "removed", "updated", "ms"):
            assert isinstance(d["fields"][k], int), (k, d)
    n += 1
assert n > 5 and batches > 5, (n, batches)
PY
# A watcher left no lock behind: a second start works at once; SIGINT stops it too (exit 0).
start_watch "$WS" "$TMP/w2" --debounce-ms 100 && ok "restart after a clean stop" || fail "restart"
gen "$WS/src/m5.py" 4 4242
kill -INT "$WATCH_PID"
rc=0; wait "$WATCH_PID" || rc=$?
[ $rc -eq 0 ] && grep -q '"message":"stopped"' "$TMP/w2.err" && ok "SIGINT: exit 0 after the batch in progress" || fail "SIGINT: exit $rc: $(tail -2 "$TMP/w2.err")"
expect_exit 0 "$AETHERD" --workspace "$WS" --fsck && ok "fsck after SIGINT" || fail "fsck after SIGINT: $OUT"
finish
