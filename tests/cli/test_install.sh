#!/usr/bin/env bash
# make install's result, used as a user would: install the build into a
# temporary DESTDIR, build examples/search.c with `pkg-config --cflags --libs
# aether` against the installed files only, run it on an indexed workspace,
# and check that libaether.so exports exactly the functions declared in the
# installed headers (both directions), found two ways (scripts/public-symbols.py,
# which makes the link's version script, and gcc -aux-info).
. "$(dirname "$0")/lib.sh"
B=$AE_BUILD_DIR
ROOT=$TMP/root
PREFIX=/usr/local
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
major=${version%%.*}
san=""
grep -q "AE_SANITIZE:BOOL=ON" "$B/CMakeCache.txt" && san="-fsanitize=address,undefined"

# The extractor itself, on a header with every kind of thing that is not an
# exported symbol next to two that are.
cat >"$TMP/fake.h" <<'H'
#ifndef FAKE_H
#define FAKE_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
#define ae_macro(x) (x)            /* a macro */
typedef int (*ae_fn_type)(void *ctx); /* a function-pointer type */
typedef struct ae_thing {
    int (*ae_member)(int);         /* a member */
    const char *name;
} ae_thing;
/* ae_in_comment(int x); */
int ae_declared(const ae_thing *t,
                size_t n);
static inline int ae_inline_helper(int x) { return x + 1; }
extern const char *const ae_table[];
const char *ae_after_inline(void);
#ifdef __cplusplus
}
#endif
#endif
H
got=$(python3 "$AE_SOURCE_DIR/scripts/public-symbols.py" "$TMP/fake.h" | tr '\n' ' ')
[ "$got" = "ae_after_inline ae_declared ae_table " ] && ok "public-symbols.py: declarations only" ||
  fail "public-symbols.py on a fake header: '$got'"

# 1. Install.
t0=$EPOCHREALTIME
if DESTDIR=$ROOT cmake --install "$B" --prefix "$PREFIX" >"$TMP/install.log" 2>&1; then
  ok "cmake --install into DESTDIR"
else
  fail "install: $(tail -5 "$TMP/install.log")"
  finish
fi
cp "$B/install_manifest.txt" "$TMP/manifest.destdir"
P=$ROOT$PREFIX
for f in bin/aetherd bin/aether-mcp lib/libaether.a "lib/libaether.so.$version" lib/pkgconfig/aether.pc \
  share/man/man1/aetherd.1 share/man/man1/aether-mcp.1 share/man/man5/aether.conf.5 \
  share/bash-completion/completions/aetherd lib/systemd/user/aetherd@.service; do
  [ -f "$P/$f" ] && ok "installed $f" || fail "missing $PREFIX/$f"
done
[ "$(readlink "$P/lib/libaether.so.$major")" = "libaether.so.$version" ] &&
  [ "$(readlink "$P/lib/libaether.so")" = "libaether.so.$major" ] && ok "soname and dev symlinks" ||
  fail "symlinks: $(ls -l "$P"/lib/libaether.so*)"
soname=$(readelf -d "$P/lib/libaether.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libaether.so.$major" ] && ok "SONAME $soname" || fail "SONAME '$soname'"
for h in "$AE_SOURCE_DIR"/include/aether/*.h; do
  cmp -s "$h" "$P/include/aether/$(basename "$h")" || fail "header $(basename "$h") not installed as is"
done
[ "$(ls "$P/include/aether" | wc -l)" = "$(ls "$AE_SOURCE_DIR"/include/aether/*.h | wc -l)" ] &&
  ok "every public header, nothing else" || fail "include/aether: $(ls "$P/include/aether")"
if grep -rq "$B\|$AE_SOURCE_DIR" "$P/lib/pkgconfig/aether.pc"; then fail "aether.pc names the build tree"; fi
expect_exit 0 "$P/bin/aetherd" --version && contains "$OUT" "$version" && ok "installed aetherd runs" || true

# 2. The example, built from the installed files only.
export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$ROOT
flags=$(pkg-config --cflags --libs aether) || fail "pkg-config aether"
for w in $flags; do
  case $w in -I* | -L*) case $w in "-I$ROOT"/* | "-L$ROOT"/*) ;; *) fail "flag outside the install: $w" ;; esac ;; esac
done
[ "$(pkg-config --modversion aether)" = "$version" ] && ok "pkg-config --modversion $version" || fail "modversion"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $san "$AE_SOURCE_DIR/examples/search.c" $flags -o "$TMP/search" &&
  ok "examples/search.c builds with pkg-config --cflags --libs aether" || fail "example build ($flags)"
LD_LIBRARY_PATH=$P/lib ldd "$TMP/search" | grep "libaether.so.$major => $P/lib/libaether.so.$major" >/dev/null &&
  ok "the example loads the installed libaether.so.$major" || fail "ldd: $(LD_LIBRARY_PATH=$P/lib ldd "$TMP/search")"
WS=$(new_workspace ws ws_small)
expect_exit 0 env LD_LIBRARY_PATH="$P/lib" "$TMP/search" "$WS" "oauth refresh token" || true
contains "$OUT" "mode hybrid" && contains "$OUT" "SessionStore::refresh_token" &&
  ok "the dynamically linked example indexes and searches" || fail "example output: $OUT $ERR"
# libaether.a with the .pc's private libraries: no libaether.so needed.
priv=$(pkg-config --static --libs aether | sed 's/-laether\b//')
# shellcheck disable=SC2086
cc -std=c11 $san "$AE_SOURCE_DIR/examples/search.c" $(pkg-config --cflags aether) "$P/lib/libaether.a" $priv \
  -o "$TMP/search-static" && ok "static link with Libs.private/Requires.private" || fail "static link ($priv)"
if readelf -d "$TMP/search-static" | grep libaether >/dev/null; then fail "static example needs libaether.so"; fi
expect_exit 0 "$TMP/search-static" "$WS" "parseConfig" || true
contains "$OUT" "(0 files changed)" && ok "static example runs (incremental)" || fail "static run: $OUT $ERR"

# 3. Exported symbols = the headers' functions, both directions.
nm -D --defined-only "$P/lib/libaether.so.$version" | awk '$2 != "A" {print $3}' >"$TMP/nm.raw"
sed 's/@.*//' "$TMP/nm.raw" | sort -u >"$TMP/exported"
python3 "$AE_SOURCE_DIR/scripts/public-symbols.py" "$P"/include/aether/*.h >"$TMP/declared"
if diff "$TMP/declared" "$TMP/exported" >"$TMP/d1"; then
  ok "exported = declared ($(wc -l <"$TMP/exported") functions)"
else
  fail "exported vs declared (< declared only, > exported only): $(cat "$TMP/d1")"
fi
grep -vq "@@AETHER_$major\$" "$TMP/nm.raw" && fail "unversioned exports: $(grep -v "@@AETHER_$major\$" "$TMP/nm.raw")"
if command -v gcc >/dev/null; then
  for h in "$P"/include/aether/*.h; do echo "#include <aether/$(basename "$h")>"; done >"$TMP/all.c"
  gcc -std=c11 -I"$P/include" -c "$TMP/all.c" -o "$TMP/all.o" -aux-info "$TMP/aux"
  grep "$P/include/aether/" "$TMP/aux" | grep -v '\bstatic\b' | grep -o '\bae_[A-Za-z0-9_]* (' |
    sed 's/ (//' | sort -u >"$TMP/aux.names"
  diff "$TMP/aux.names" "$TMP/exported" >"$TMP/d2" && ok "exported = gcc -aux-info's prototypes" ||
    fail "exported vs gcc -aux-info (< declared only, > exported only): $(cat "$TMP/d2")"
fi
# The first layer alone (without the version script): the objects' default-
# visibility definitions are the same list.
readelf -sW "$P/lib/libaether.a" | awk '$5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" {print $8}' |
  grep -v '^__' | sort -u >"$TMP/default"
diff "$TMP/declared" "$TMP/default" >"$TMP/d3" && ok "default visibility in the objects = declared" ||
  fail "default-visibility symbols in libaether.a vs declared: $(cat "$TMP/d3")"

# 4. The systemd user unit, installed into a real prefix (its ExecStart must
# name an existing program for systemd-analyze verify).
PFX=$TMP/prefix
cmake --install "$B" --prefix "$PFX" >"$TMP/install2.log" 2>&1 || fail "install --prefix: $(tail -3 "$TMP/install2.log")"
UNIT=$PFX/lib/systemd/user/aetherd@.service
exec_line=$(grep '^ExecStart=' "$UNIT" || true)
[ "$exec_line" = "ExecStart=$PFX/bin/aetherd --workspace %f" ] && ok "unit runs exactly: aetherd --workspace %f" ||
  fail "unit ExecStart: '$exec_line'"
grep -q "^libdir=\${prefix}/lib" "$PFX/lib/pkgconfig/aether.pc" && grep -q "^prefix=$PFX\$" "$PFX/lib/pkgconfig/aether.pc" &&
  ok "aether.pc follows --prefix" || fail "aether.pc for --prefix $PFX: $(head -4 "$PFX/lib/pkgconfig/aether.pc")"
WSDIR="$TMP/my ws-1"
mkdir -p "$WSDIR"
inst=$(systemd-escape --path "$WSDIR" 2>/dev/null || true)
if command -v systemd-analyze >/dev/null && [ -n "$inst" ]; then
  mkdir -p "$TMP/units"
  cp "$UNIT" "$TMP/units/aetherd@.service"
  cp "$UNIT" "$TMP/units/aetherd@$inst.service"
  for u in "aetherd@.service" "aetherd@$inst.service"; do
    if systemd-analyze verify --man=no "$TMP/units/$u" >"$TMP/sa.out" 2>&1 && [ ! -s "$TMP/sa.out" ]; then
      ok "systemd-analyze verify $u"
    else
      fail "systemd-analyze verify $u: $(cat "$TMP/sa.out")"
    fi
  done
  [ "$(systemd-escape --unescape --path "$inst")" = "$WSDIR" ] && ok "instance $inst names the workspace" ||
    fail "instance $inst"
  # the checker sees a broken unit
  sed 's/^ExecStart=/ExecStartt=/' "$UNIT" >"$TMP/units/broken@.service"
  if systemd-analyze verify --man=no "$TMP/units/broken@.service" >/dev/null 2>&1; then fail "verify passes a unit without ExecStart"; fi
else
  echo "skipped: systemd-analyze verify (no systemd-analyze / systemd-escape here)"
fi

# The unit's command, with %f as systemd expands it (the unescaped instance),
# is watch mode: it indexes the workspace, follows an edit, stops on SIGTERM.
cp -R "$AE_SOURCE_DIR/tests/fixtures/ws_small/." "$WSDIR/"
read -r -a argv <<<"${exec_line#ExecStart=}"
for i in "${!argv[@]}"; do [ "${argv[i]}" = "%f" ] && argv[i]=$WSDIR; done
"${argv[@]}" >"$TMP/watch.out" 2>"$TMP/watch.err" &
wpid=$!
found() { "$PFX/bin/aetherd" --workspace "$WSDIR" --search "$1" 2>/dev/null | grep -- "$2" >/dev/null; }
waited=0
until found refresh_token SessionStore::refresh_token || [ $waited -ge 120 ]; do sleep 1; waited=$((waited + 1)); done
found refresh_token SessionStore::refresh_token && ok "the unit's command indexed the workspace (${waited} s)" ||
  fail "the unit's command did not index: $(tail -5 "$TMP/watch.err")"
printf 'def brand_new_unit_function():\n    return 1\n' >"$WSDIR/added_by_test.py"
waited=0
until found brand_new_unit_function brand_new_unit_function || [ $waited -ge 60 ]; do sleep 1; waited=$((waited + 1)); done
found brand_new_unit_function brand_new_unit_function && ok "and follows an edit (${waited} s)" ||
  fail "watch mode missed a new file: $(tail -5 "$TMP/watch.err")"
kill -TERM "$wpid" 2>/dev/null || true
set +e
wait "$wpid"
wrc=$?
set -e
[ "$wrc" -eq 0 ] && ok "SIGTERM stops it with exit 0" || fail "watch mode exit $wrc after SIGTERM: $(tail -5 "$TMP/watch.err")"

# 5. make uninstall removes what was installed, from the manifest.
cp "$TMP/manifest.destdir" "$B/install_manifest.txt"
if [ -f "$B/install_manifest.txt" ]; then
  make -s -C "$AE_SOURCE_DIR" uninstall BUILD="$B" DESTDIR="$ROOT" >"$TMP/uninstall.log" 2>&1 || fail "make uninstall: $(cat "$TMP/uninstall.log")"
  left=$(find "$ROOT" -type f -o -type l)
  [ -z "$left" ] && ok "make uninstall removed every installed file" || fail "left after uninstall: $left"
  rm -f "$B/install_manifest.txt"
else
  fail "no install_manifest.txt in $B"
fi
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "install test: %.1f s\n", b - a}'
finish
