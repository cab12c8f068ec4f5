#!/usr/bin/env bash
# Builds the Debian packages (debian/: aether, libaether0, libaether-dev) with
# `dpkg-buildpackage -us -uc -b` from a copy of the tree, and runs lintian on
# them.  The packaging tools are installed here, only for this target.
#
#   bash scripts/build-deb.sh [OUTDIR]     (make deb; OUTDIR default build-deb)
#
# Prints the .deb paths and lintian's verdict; exits 1 when lintian reports an
# error (warnings are listed in docs/INSTALL.md "Debian packages").
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build-deb}" && cd "${1:-build-deb}" && pwd)
bash scripts/install-deps.sh
need=(dpkg-dev debhelper lintian)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-deb: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" |
    grep -E '^(Setting up|Unpacking) ' >&2 || true
fi

version=$(dpkg-parsechangelog -S Version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/aether-$version
mkdir -p "$src"
# the tracked and new files of this tree, without build folders or node_modules
git ls-files -co --exclude-standard -z | grep -zv '^tests/.*/node_modules/' |
  tar --null -T - -cf - | tar -xf - -C "$src"
t0=$EPOCHREALTIME
(cd "$src" && dpkg-buildpackage -us -uc -b -j"${JOBS:-2}") >"$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
  exit 1
}
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "build-deb: dpkg-buildpackage %.0f s\n", b - a}'
ls "$out"/*.deb
set +e
lintian --info --display-info --pedantic "$out"/*.changes >"$out/lintian.txt" 2>&1
set -e
errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$out/lintian.txt" || true)
echo "build-deb: lintian: $errors errors, $warnings warnings ($out/lintian.txt)"
grep -E '^(E|W): ' "$out/lintian.txt" || true
[ "$errors" -eq 0 ]
