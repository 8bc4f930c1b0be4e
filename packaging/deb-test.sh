#!/usr/bin/env bash
# The package as an admin meets it (run by .ci/run, as root): built, installed with
# dpkg -i on this machine, its binary, man page, config check, modes and unit looked
# at, lintian run on it, then removed (state and config stay) and purged (nothing
# stays). Fails at the first thing that is not so.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "deb-test: $*" >&2; exit 1; }

deb=$(packaging/deb.sh | tail -n 1)
[ -f "$deb" ] || fail "no package built: $deb"
size=$(stat -c %s "$deb")
echo "deb-test: $deb, $size bytes"
[ "$size" -le $((4 * 1024 * 1024)) ] || fail "the .deb is over 4 MB"
# What an rreport installed from source keeps here is moved aside and put back at
# the end, pass or fail: the test must not eat a developer's config or outbox.
saved=$(mktemp -d /var/tmp/rreport-deb-test.XXXXXX)
dpkg -s rreport >/dev/null 2>&1 && fail "a package rreport is installed already; remove it first"
for kept in /etc/rreport /var/lib/rreport /var/lib/private/rreport; do
    [ -e "$kept" ] && mkdir -p "$saved$(dirname "$kept")" && mv "$kept" "$saved$kept"
done
restore() {
    dpkg --purge rreport >/dev/null 2>&1 || true
    for kept in /etc/rreport /var/lib/rreport /var/lib/private/rreport; do
        if [ -e "$saved$kept" ]; then rm -rf "$kept"; mv "$saved$kept" "$kept"; fi
    done
    rm -rf "$saved"
}
trap restore EXIT
dpkg -i "$deb" >/dev/null

/usr/bin/rreport --version | grep -q '^rreport ' || fail "rreport --version"
# src/math.rs: the three functions it would take from libm are its own.
! ldd /usr/bin/rreport | grep -q "libm\.so" || fail "the binary links libm.so.6"
man -w rreport >/dev/null || fail "man -w rreport"
man --warnings -E UTF-8 -l "$(man -w rreport)" >/dev/null 2>"$(mktemp)" || fail "the man page does not render"
/usr/bin/rreport --check -c /etc/rreport/config.toml >/dev/null || fail "rreport --check on the installed config"
[ "$(stat -c '%a %U:%G' /etc/rreport/env)" = "600 root:root" ] || fail "/etc/rreport/env is $(stat -c '%a %U:%G' /etc/rreport/env)"
grep -qx 'ExecStart=/usr/bin/rreport' /lib/systemd/system/rreport.service || fail "the unit's ExecStart"
grep -q 'Documentation=file:///usr/share/doc/rreport/README.md' /lib/systemd/system/rreport.service || fail "the unit's Documentation"
[ -f /usr/share/doc/rreport/README.md ] || fail "the unit's Documentation= names a file not shipped"
for f in /usr/share/bash-completion/completions/rreport /usr/share/zsh/vendor-completions/_rreport \
    /usr/share/fish/vendor_completions.d/rreport.fish; do
    [ -s "$f" ] || fail "no $f"
done
# An edited env survives a reinstall: the maintainer script never overwrites it.
echo "RREPORT_SMTP_PASSWORD=kept" >> /etc/rreport/env
dpkg -i "$deb" >/dev/null
grep -q kept /etc/rreport/env || fail "a reinstall overwrote /etc/rreport/env"

lintian --fail-on error,warning "$deb" \
    || fail "lintian (see above)"

# What the service keeps, as it would have: remove keeps it and the config, purge not.
mkdir -p /var/lib/rreport/queue
dpkg --remove rreport >/dev/null
[ -d /var/lib/rreport/queue ] || fail "remove deleted the state directory"
[ -f /etc/rreport/config.toml ] || fail "remove deleted the config"
[ ! -e /usr/bin/rreport ] || fail "remove left the binary"
dpkg --purge rreport >/dev/null
for gone in /etc/rreport /var/lib/rreport /var/lib/private/rreport /lib/systemd/system/rreport.service; do
    [ ! -e "$gone" ] || fail "purge left $gone"
done
dpkg -s rreport >/dev/null 2>&1 && fail "dpkg still knows rreport"
echo "deb-test: installed, checked, lintian clean, removed and purged"
