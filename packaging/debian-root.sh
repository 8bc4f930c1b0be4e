#!/usr/bin/env bash
# Prints the path of a Debian root file system for SUITE (bullseye, bookworm,
# trixie) with PACKAGES (comma-separated, on top of debootstrap's minbase), made
# once with debootstrap from Debian's archive and kept under target/debian-roots/
# for the next run: the package build (deb.sh, in Debian 11 for its glibc) and the
# system test (system-test.sh) use them. A root whose list changed is made anew; one
# half made (a killed run) is never used.
#   packaging/debian-root.sh SUITE [PACKAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: debian-root.sh SUITE [PACKAGES]}
packages=${2:-}
[ "$(id -u)" = 0 ] || { echo "debian-root: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}
dir=target/debian-roots
root="$dir/$suite"
stamp="$suite minbase $packages"
if [ -f "$root/.rreport-root" ] && [ "$(cat "$root/.rreport-root")" = "$stamp" ]; then
    echo "$PWD/$root"
    exit 0
fi
mkdir -p "$dir"
# Never remove a root something is still mounted in (a run killed before its
# unmount): rm -rf would go through a bind mount into the checkout itself.
if findmnt -rn -o TARGET | grep -q "^$PWD/$root"; then
    echo "debian-root: $root has mounts left by an earlier run; umount them first:" >&2
    findmnt -rn -o TARGET | grep "^$PWD/$root" >&2
    exit 1
fi
rm -rf "$root" "$root.tmp"
started=$(date +%s)
include=()
[ -n "$packages" ] && include=(--include="$packages")
if ! debootstrap --variant=minbase "${include[@]}" "$suite" "$root.tmp" \
    http://deb.debian.org/debian >"$dir/$suite.log" 2>&1; then
    tail -n 20 "$dir/$suite.log" >&2
    echo "debian-root: debootstrap $suite failed (log: $dir/$suite.log)" >&2
    exit 1
fi
echo "$stamp" > "$root.tmp/.rreport-root"
mv "$root.tmp" "$root"
echo "debian-root: $suite made in $(( $(date +%s) - started )) s" >&2
echo "$PWD/$root"
