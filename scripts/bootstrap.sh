#!/usr/bin/env bash
# The README's first command on a bare Debian 12: needs nothing but bash (and
# root or sudo).  Installs make and every package the build, the tests and the
# demo need (scripts/install-deps.sh, with progress), then runs `make demo`.
# Afterwards `make test` works as the README says.
#
#   bash scripts/bootstrap.sh            # packages + make demo
#   bash scripts/bootstrap.sh --deps     # packages only
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
  echo "bootstrap: this script installs Debian packages (Debian 12 or later); on another system install" >&2
  echo "bootstrap: the packages listed in scripts/install-deps.sh by hand, then run make demo" >&2
  exit 1
fi
echo "bootstrap: installing the build tools and libraries (scripts/install-deps.sh)" >&2
bash scripts/install-deps.sh
[ "${1:-}" = --deps ] && exit 0
echo "bootstrap: make demo" >&2
exec make demo
