#!/usr/bin/env bash
# How tests/golden/v1-store.tar.xz and v1-answers.txt were made (2026-12-02, the
# format-1 build of that day).  Kept for the record: do NOT re-run it to "fix"
# the golden test -- the point of the files is that they were written by an old
# build.  A new frozen store (v2, ...) gets its own script and files.
#   tests/golden/make_v1.sh BUILD_DIR OUT_DIR
set -euo pipefail
AETHERD=$1/aetherd
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
W="$WORK/ws"
mkdir -p "$W/src" "$W/.aether"
printf '[embeddings]\nprovider = "mock"\nvector_backend = "lancedb"\n' >"$W/.aether/config.toml"
python3 - "$W/src" <<'PY'
import sys
words = ["parse","render","load","store","merge","split","hash","sort","scan","emit","fetch","index","probe","route","cache","flush","queue"]
for f in range(16):
    with open("%s/m%02d.py" % (sys.argv[1], f), "w") as fp:
        for i in range(17):
            w = words[(f + i) % len(words)]
            fp.write('def %s_%s_%d(x, n=%d):\n    """%s the %s item %d."""\n    return x * %d + n\n\n'
                     % (w, words[f], i, i, w.capitalize(), words[f], i, i + f))
PY
export AETHER_INDEX_MIN_ROWS=256 # 272 rows: an IVF-PQ index
"$AETHERD" --workspace "$W" --index-once
sed -i 's/return x \* 3 + n/return x * 3 - n/; s/Parse the/Parse each/' "$W/src/m01.py"
"$AETHERD" --workspace "$W" --index-once # a second fragment, a deletion file, version 3
python3 - "$W/src/m15.py" <<'PY'
import sys
p = sys.argv[1]; blocks = open(p).read().split("\n\n")
open(p, "w").write("\n\n".join(blocks[:12] + blocks[14:]))
PY
"$AETHERD" --workspace "$W" --index-once # 2 rows deleted: version 4, 270 live rows (index used)
sed -i 's/"lancedb"/"sqlite"/' "$W/.aether/config.toml"
"$AETHERD" --workspace "$W" --index-once # the sqlite backend gets every row
sed -i 's/"sqlite"/"lancedb"/' "$W/.aether/config.toml"
"$AETHERD" --workspace "$W" --index-once # and back: both backends hold the store
"$AETHERD" --workspace "$W" --fsck
rm -f "$W/.aether/meta.sqlite-wal" "$W/.aether/meta.sqlite-shm"
mkdir -p "$OUT"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-12-02 00:00Z' \
  -cJf "$OUT/v1-store.tar.xz" -C "$W" .
bash "$HERE/answers_v1.sh" "$AETHERD" "$W" >"$OUT/v1-answers.txt"
