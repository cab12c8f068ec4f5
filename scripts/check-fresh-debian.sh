#!/usr/bin/env bash
# The README's promise, checked as a new user would meet it: a fresh Debian 12
# chroot (debootstrap --variant=minbase bookworm), git installed (the one thing
# the README says a machine needs before cloning), a clean clone of this
# repository's committed HEAD, then the README's two Quick start commands, read
# from README.md, as the only commands.  Run as root (make check-fresh-debian).
#
#   bash scripts/check-fresh-debian.sh [--keep]
#
# CHROOT_DIR (default /var/tmp/aether-fresh-debian) is created anew; --keep
# leaves it for inspection.  MIRROR defaults to this machine's Debian mirror.
# Prints the time of each step; the last run's numbers are in docs/INSTALL.md.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = --keep ] && keep=1
[ "$(id -u)" -eq 0 ] || { echo "check-fresh-debian: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
root=${CHROOT_DIR:-/var/tmp/aether-fresh-debian}
mirror=${MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
branch=$(git rev-parse --abbrev-ref HEAD)
commit=$(git rev-parse --short HEAD)

# The README's two commands: the first two lines of the Quick start block.
mapfile -t cmds < <(awk '/^## Quick start/ {q = 1} q && /^```sh/ {b = 1; next} b && /^```/ {exit} b' README.md |
  sed 's/[[:space:]]*#.*//' | grep -v '^[[:space:]]*$' | head -2)
[ ${#cmds[@]} -eq 2 ] || { echo "check-fresh-debian: README.md has no two-command Quick start block" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t_start=$EPOCHREALTIME
lap() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}'; }
declare -a report

if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  [ $keep -eq 1 ] || rm -rf "$root"
}
trap cleanup EXIT
rm -rf "$root"
mkdir -p "$root"

step "debootstrap --variant=minbase bookworm $root $mirror"
t=$EPOCHREALTIME
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log" >&2; exit 1; }
report+=("debootstrap --variant=minbase bookworm: $(lap "$t") s")
for m in proc sys dev dev/pts; do
  mkdir -p "$root/$m"
  case $m in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sys "$root/sys" ;;
    dev) mount --bind /dev "$root/dev" ;;
    dev/pts) mount -t devpts devpts "$root/dev/pts" ;;
  esac
  mounted+=("$root/$m")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The network, not the project: where this machine reaches HTTPS through a
# TLS-inspecting proxy, its local CA certificates go into the chroot too (the
# ca-certificates package adds them to the system store when it is installed)
# and Node.js is pointed at that store, as on any machine of this network.
chroot_env=(HOME=/root TERM="${TERM:-dumb}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  echo "check-fresh-debian: note: copied this machine's local CA certificates ($(ls /usr/local/share/ca-certificates | tr '\n' ' '))"
  [ -z "${NODE_EXTRA_CA_CERTS:-}" ] || chroot_env+=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi
in_chroot() { chroot "$root" /usr/bin/env -i "${chroot_env[@]}" bash -c "$1"; }
for c in make cmake gcc node git; do
  in_chroot "command -v $c" >/dev/null && echo "check-fresh-debian: note: $c is already in the bare system"
done

step "what the README asks for before cloning: git"
t=$EPOCHREALTIME
in_chroot "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git >/dev/null"
report+=("apt-get install git: $(lap "$t") s")

step "git clone ($branch at $commit)"
rm -rf "$root/srv/aether.git"
git clone -q --bare --no-local --branch "$branch" --single-branch . "$root/srv/aether.git"
in_chroot "git clone -q /srv/aether.git /root/aether"

rc=0
for c in "${cmds[@]}"; do
  step "$c"
  t=$EPOCHREALTIME
  if in_chroot "cd /root/aether && $c"; then
    report+=("$c: $(lap "$t") s, passed")
  else
    rc=$?
    report+=("$c: $(lap "$t") s, FAILED (exit $rc)")
    break
  fi
done

step "summary (commit $commit)"
printf '%s\n' "${report[@]}"
echo "total: $(lap "$t_start") s"
exit $rc
