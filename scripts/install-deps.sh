#!/usr/bin/env bash
# Installs every Debian package aether needs to build, test and demo.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  cmake ninja-build pkg-config gcc clang clang-format
  libsqlite3-dev libjansson-dev libcurl4-openssl-dev libopenblas-dev
  libcmocka-dev universal-ctags b3sum git python3 valgrind sqlite3 curl libclang-rt-14-dev jq
  man-db make ca-certificates
  neovim
)

# Node.js runs the test-only clients (apache-arrow reader, MCP SDK client).
# Machines that already ship a node binary keep theirs.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update" >&2
$SUDO apt-get update -qq
# progress: the download count, then one line per package as it is set up
$SUDO apt-get install -y -q -o Dpkg::Progress-Fancy=0 --no-install-recommends "${missing[@]}" 2>&1 | awk '
  / newly installed/ { n = $3; printf "install-deps: %d packages to install (with dependencies)\n", n > "/dev/stderr" }
  /^Get:/ { g++; if (g % 25 == 1) printf "install-deps: downloading %d/%d\n", g, n > "/dev/stderr" }
  /^Setting up / { s++; printf "install-deps: [%d/%d] %s\n", s, n, $3 > "/dev/stderr" }
  /^(E|W): / { print > "/dev/stderr" }'
