#!/usr/bin/env bash
# The Debian packages, end to end on this machine (make deb-check): build them
# (scripts/build-deb.sh, lintian must report no error), install all three with
# dpkg, run /usr/bin/aetherd --version, build examples/search.c against the
# installed libaether-dev with pkg-config and run it, check that man finds the
# pages, then remove the packages and check that their files are gone.
# Installs into the machine itself (as root): not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
#
#   bash scripts/check-deb.sh [OUTDIR] [--no-build]   (--no-build: the .debs already in OUTDIR)
out=${1:-build-deb}
t0=$EPOCHREALTIME
[ "${2:-}" = --no-build ] || bash scripts/build-deb.sh "$out"
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
okk() { echo "ok: $*"; }
for p in aether libaether0 libaether-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "check-deb: $p is already installed; it is replaced by the built one and removed at the end" >&2
  fi
done
# OpenBLAS and libcurl are opened with dlopen (src/util/blas.c, http.c), so
# dpkg-shlibdeps cannot see them: the control file must name them.
for deb in aether libaether0; do
  dep=$(dpkg-deb -f "$out/${deb}_"*.deb Depends)
  for need in libopenblas0 libcurl4; do
    case ", $dep," in *", $need"[,\ ]*) ;; *) bad "$deb does not depend on $need (dlopened): $dep" ;; esac
  done
done
dpkg -i "$out"/aether_*.deb "$out"/libaether0_*.deb "$out"/libaether-dev_*.deb >"$out/dpkg-i.log" 2>&1 ||
  { cat "$out/dpkg-i.log" >&2; exit 1; }
okk "dpkg -i aether libaether0 libaether-dev"
v=$(/usr/bin/aetherd --version) && okk "/usr/bin/aetherd --version: $v" || bad "/usr/bin/aetherd --version"
/usr/bin/aether-mcp --version >/dev/null && okk "/usr/bin/aether-mcp --version" || bad "aether-mcp --version"
[ "$(man -w aetherd 2>/dev/null)" = /usr/share/man/man1/aetherd.1.gz ] && okk "man -w aetherd" || bad "man -w aetherd: $(man -w aetherd 2>&1)"
man -w 5 aether.conf >/dev/null 2>&1 && okk "man 5 aether.conf" || bad "man 5 aether.conf"
[ -f /usr/lib/systemd/user/aetherd@.service ] && grep -q '^ExecStart=/usr/bin/aetherd --workspace %f$' /usr/lib/systemd/user/aetherd@.service &&
  okk "unit in /usr/lib/systemd/user" || bad "systemd unit"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror examples/search.c $(pkg-config --cflags --libs aether) -o "$tmp/search" &&
  okk "examples/search.c against the installed libaether-dev" || bad "example build"
ldd "$tmp/search" | grep -E "libaether.so.0 => (/usr)?/lib/[^ ]*/libaether.so.0 " >/dev/null && okk "the example loads the packaged libaether.so.0" || bad "ldd: $(ldd "$tmp/search")"
cp -R tests/fixtures/ws_small "$tmp/ws"
"$tmp/search" "$tmp/ws" "oauth refresh token" >"$tmp/out" 2>&1 && grep -q "SessionStore::refresh_token" "$tmp/out" &&
  okk "the example indexes and searches" || bad "example run: $(cat "$tmp/out")"
files=$(dpkg -L aether libaether0 libaether-dev | sort -u)
dpkg --purge libaether-dev aether libaether0 >"$out/dpkg-r.log" 2>&1 || { cat "$out/dpkg-r.log" >&2; exit 1; }
okk "dpkg --purge"
left=""
for f in $files; do [ -f "$f" ] || [ -L "$f" ] && left+="$f "; done
[ -z "$left" ] && okk "no file of the packages is left" || bad "left after removal: $left"
[ ! -e /usr/bin/aetherd ] || bad "/usr/bin/aetherd still there"
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "check-deb: %.0f s in all\n", b - a}'
[ $fail -eq 0 ] && echo "check-deb: all checks passed"
exit $fail
