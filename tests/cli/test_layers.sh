#!/usr/bin/env bash
# The layering of src/ (scripts/check-layers.py, `make check-layers`): the real
# tree passes; small fake trees with each kind of violation fail, naming the
# file, line and rule.
. "$(dirname "$0")/lib.sh"
CHECK="$AE_SOURCE_DIR/scripts/check-layers.py"

expect_exit 0 python3 "$CHECK" && contains "$OUT" "no cycle" && ok "the tree follows the layer order" || fail "check-layers on the tree: $ERR"

# fake_tree NAME: an empty tree with src/util/ and include/aether/
fake_tree() {
  local t="$TMP/$1"
  mkdir -p "$t/src/util" "$t/include/aether"
  echo '#include <stddef.h>' >"$t/src/util/mem.h"
  echo '#include <stddef.h>' >"$t/include/aether/aether.h"
  echo "$t"
}
put() { mkdir -p "$(dirname "$1")"; printf '%s\n' "${@:2}" >"$1"; }

t=$(fake_tree ok)
put "$t/src/store/vs.c" '#include "vectors/table.h"' '#include "util/mem.h"' '#include <aether/aether.h>'
put "$t/src/vectors/table.h" '#include "util/mem.h"'
put "$t/src/cli/main.c" '#include <aether/aether.h>' '#include "util/mem.h"' '#include "cli/cli.h"'
put "$t/src/cli/cli.h" '#include <stdio.h>'
expect_exit 0 python3 "$CHECK" --root "$t" && ok "a clean fake tree passes" || fail "clean fake tree: $ERR"

t=$(fake_tree cycle)
put "$t/src/vectors/table.c" '#include "store/topk.h"'
put "$t/src/store/topk.h" '#include "vectors/table.h"'
put "$t/src/vectors/table.h" ''
expect_exit 1 python3 "$CHECK" --root "$t" && contains "$ERR" "folder cycle: store, vectors" &&
  contains "$ERR" "src/vectors/table.c:1: #include store/topk.h: src/vectors/ (layer 3) includes src/store/, a higher layer" &&
  ok "a folder cycle fails, naming the includes" || fail "cycle: $ERR"

t=$(fake_tree upward)
put "$t/src/meta/meta.c" '#include <stdio.h>' '#include "workspace/workspace.h"'
put "$t/src/workspace/workspace.h" ''
expect_exit 1 python3 "$CHECK" --root "$t" && contains "$ERR" "src/meta/meta.c:2: #include workspace/workspace.h: src/meta/ (layer 3) includes src/workspace/" &&
  ! contains "$ERR" "folder cycle" && ok "an upward include fails without a cycle" || fail "upward: $ERR"

t=$(fake_tree sideways)
put "$t/src/meta/meta.c" '#include "sir/sir.h"'
put "$t/src/sir/sir.h" ''
expect_exit 1 python3 "$CHECK" --root "$t" && contains "$ERR" "the same layer as it" && ok "a same-layer include fails" || fail "same layer: $ERR"

t=$(fake_tree frontend)
put "$t/src/mcp/tools.c" '#include <aether/aether.h>' '#include "util/mem.h"' '#include "store/migrate.h"'
put "$t/src/store/migrate.h" ''
expect_exit 1 python3 "$CHECK" --root "$t" && contains "$ERR" "src/mcp/tools.c:3: #include store/migrate.h: front end src/mcp/ includes the internal src/store/" &&
  ok "a front end including an internal header fails" || fail "front end: $ERR"

t=$(fake_tree public)
put "$t/include/aether/admin.h" '#include "util/mem.h"'
expect_exit 1 python3 "$CHECK" --root "$t" && contains "$ERR" "include/aether/admin.h:1: #include util/mem.h: a public header includes src/util/" &&
  ok "a public header including src/ fails" || fail "public header: $ERR"

t=$(fake_tree unknown)
put "$t/src/newmod/x.c" '#include "util/mem.h"'
expect_exit 1 python3 "$CHECK" --root "$t" && contains "$ERR" "src/newmod/: folder not in the layer table" && ok "an unplaced folder fails" || fail "unknown folder: $ERR"
finish
