#!/usr/bin/env bash
# The package under a real systemd (run by .ci/run, as root). The .deb from deb.sh:
#  1. installed into debootstrapped Debian 11 and 13 roots (chroots), where
#     `rreport --version`, `--check` and `--once --dry-run` must work;
#  2. installed by the README's steps into a Debian 12 booted with
#     `systemd-nspawn --boot --private-network`, mailing an SMTP sink inside it, and
#     proven from the mails the sink receives: READY and the sandbox, the events of
#     a day each in the next report, a systemd check, the clock, reloads good and
#     bad, a delivery longer than WatchdogSec=, kill -9, relays that never answer
#     at start, and stop.
# The roots are made once and kept under target/debian-roots (packaging/debian-root.sh);
# each run works on fresh copies under target/system-test. Where the machine cannot
# boot nspawn, it says so and fails: it never passes silently. Takes about 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
began=$(date +%s)
say() { echo "system-test: $*"; }
fail() {
    echo "system-test: FAIL: $*" >&2
    [ -n "${leader:-}" ] && inside journalctl -u rreport --no-pager -n 60 >&2 2>/dev/null
    exit 1
}
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, systemd-nspawn)"
command -v systemd-nspawn >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd-container >/dev/null
}
work=$PWD/target/system-test
mkdir -p "$work"
deb=$(packaging/deb.sh | tail -n 1)
[ -f "$deb" ] || fail "no package built: $deb"
here=$PWD/packaging/system-test

mounted=()
leader=
nspawn=
cleanup() {
    # The container's init dies with its PID namespace's every process; nspawn then exits.
    [ -n "$leader" ] && kill -9 "$leader" 2>/dev/null || true
    [ -n "$nspawn" ] && { kill "$nspawn" 2>/dev/null || true; wait "$nspawn" 2>/dev/null || true; }
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
    for c in /sys/fs/cgroup/*/rreport-test; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
}
trap cleanup EXIT

# A fresh copy of a kept root, with the package in it.
fresh() {
    local root=$work/$1
    if findmnt -rn -o TARGET | grep -q "^$root"; then fail "mounts left in $root"; fi
    rm -rf "$root"
    cp -a "$2" "$root"
    cp "$deb" "$root/root/rreport.deb"
    echo "$root"
}

# 1. Debian 11 (glibc 2.31, the floor) and 13, as chroots.
for suite in bullseye trixie; do
    # Debian 11's is the build's root (deb.sh), reused; each has systemd, whose
    # systemd-sysusers the package's postinst runs.
    packages=systemd
    [ "$suite" = bullseye ] && packages=$(cat packaging/bullseye-packages)
    root=$(fresh "$suite" "$(packaging/debian-root.sh "$suite" "$packages" | tail -n 1)")
    mount -t proc proc "$root/proc" && mounted+=("$root/proc")
    mount --bind /dev "$root/dev" && mounted+=("$root/dev")
    mount -t sysfs sysfs "$root/sys" && mounted+=("$root/sys")
    chroot "$root" dpkg -i /root/rreport.deb >/dev/null || fail "$suite: dpkg -i"
    version=$(chroot "$root" rreport --version) || fail "$suite: rreport --version"
    chroot "$root" rreport --check -c /etc/rreport/config.toml >/dev/null || fail "$suite: rreport --check"
    chroot "$root" rreport --once --dry-run --format text | grep -q "^FILESYSTEMS" \
        || fail "$suite: rreport --once --dry-run"
    say "$suite: installed, $version, --check and --once --dry-run pass"
    umount -l "$root/sys" "$root/dev" "$root/proc"
    mounted=()
    rm -rf "$root"
done

# 2. Debian 12, booted. In cgroups of its own (this machine's systemd is not PID 1,
# so nothing else would make them); CAP_SYSLOG and /dev/kmsg so that its journald
# reads the kernel's log (an OOM kill is the kernel's line).
root=$(fresh bookworm "$(packaging/debian-root.sh bookworm \
    systemd,systemd-sysv,dbus,sudo,python3-minimal,libpam-systemd,libnss-systemd,procps | tail -n 1)")
cp "$here/smtp-sink.py" "$root/usr/local/bin/smtp-sink"
for c in /sys/fs/cgroup/*/; do mkdir -p "$c/rreport-test" 2>/dev/null || true; done
(
    for c in /sys/fs/cgroup/*/rreport-test; do echo "$BASHPID" > "$c/cgroup.procs" 2>/dev/null || true; done
    exec systemd-nspawn --boot --private-network --register=no --keep-unit \
        --capability=CAP_SYSLOG -D "$root" -M rrtest </dev/null >"$work/console.log" 2>&1
) &
nspawn=$!
for _ in $(seq 60); do
    leader=$(pgrep -P "$nspawn" -x systemd 2>/dev/null | head -n 1) || true
    [ -n "$leader" ] && break
    sleep 1
done
[ -n "$leader" ] || { tail -n 20 "$work/console.log" >&2; fail "systemd-nspawn --boot did not boot here (see above)"; }
inside() { nsenter -t "$leader" -m -u -i -n -p -C -- "$@"; }
for _ in $(seq 60); do
    state=$(inside systemctl is-system-running 2>/dev/null) || true
    case $state in running | degraded) break ;; esac
    sleep 1
done
case $state in running | degraded) ;; *) fail "the booted Debian is '$state'" ;; esac
say "Debian 12 booted ($state), systemd $(inside systemctl --version | head -n 1 | cut -d' ' -f2)"
inside mknod -m 600 /dev/kmsg c 1 11
inside systemctl restart systemd-journald
# On a host with v1 (hybrid) cgroups nspawn mounts the memory controller read-only;
# MemoryMax= needs it writable, and systemd to look again.
if inside findmnt -n -o OPTIONS /sys/fs/cgroup/memory 2>/dev/null | grep -q "^ro"; then
    inside mount -o remount,bind,rw /sys/fs/cgroup/memory || fail "cannot make the memory controller writable"
    inside systemctl daemon-reexec
fi
inside systemd-run -q --unit=sink /usr/bin/python3 /usr/local/bin/smtp-sink 2525 /var/spool/sink
spool=$root/var/spool/sink

# The README's steps, literally: install, edit the config, --check as root, enable.
inside apt-get install -y -qq /root/rreport.deb >/dev/null 2>&1 || fail "apt install ./rreport.deb"
conf=$root/etc/rreport/config.toml
python3 "$here/config.py" "$conf" 2525 >"$conf.new" && mv "$conf.new" "$conf"
inside rreport --check >/dev/null || fail "rreport --check as root"
inside systemctl enable --now rreport || fail "systemctl enable --now rreport"
pid=$(inside systemctl show -P MainPID rreport)
status=$(inside cat "/proc/$pid/status")
uid=$(inside id -u rreport)
groups=$(echo "$status" | sed -n 's/^Groups:\s*//p')
for g in systemd-journal adm; do
    echo " $groups " | grep -q " $(inside getent group "$g" | cut -d: -f3) " || fail "not in group $g: $groups"
done
echo "$status" | grep -q "^Uid:\s*$uid\s" || fail "not running as rreport ($uid): $(echo "$status" | grep ^Uid)"
echo "$status" | grep -q "^CapEff:\s*0000000000000000" || fail "has capabilities"
echo "$status" | grep -q "^NoNewPrivs:\s*1" || fail "NoNewPrivs"
say "READY: active as rreport ($uid) in systemd-journal and adm, no capabilities"

# Waits for the first report dated at or after $1 (Unix seconds); its text part.
report_after() {
    local text
    for _ in $(seq 150); do
        text=$(python3 "$here/mail.py" first-after "$1" "$spool" 2>/dev/null) || true
        [ -n "$text" ] && { echo "$text"; return; }
        sleep 1
    done
    fail "no report dated after $(date -d "@$1") reached the sink"
}
first=$(report_after "$began")
echo "$first" | grep -q "^COLLECTOR ERRORS" && fail "the first report has collector errors:
$(echo "$first" | sed -n '/^COLLECTOR ERRORS/,$p')"
say "first report: no collector errors under the shipped unit"

# The events of a day, each to be in the next report.
source "$here/events.sh"
make_events
# The first report begun after the last event covers them all.
mark=$(date +%s)
report=$(report_after "$mark")
expect() { echo "$report" | grep -qE "$1" || fail "the report after the events lacks /$1/: $2
$report"; }
expect "^FAILED UNITS" "the failed unit (D-Bus works under the static user)"
expect "acc-fail\.service" "the failed unit"
expect "sudo by alice failed" "alice's failed sudo, from her login session"
expect "sudo: alice ran /usr/bin/true" "alice's sudo"
expect "200x +accflood: acc flood" "the flood, one group"
expect "acc-crit: the disk array is on fire" "the crit line"
expect "^OOM KILLS \([0-9]+\)" "the OOM kill"
expect "tail \(pid [0-9]+.*\) in acc-oom\.service" "the OOM kill, in its unit"
expect "install +rr-probe" "the package installed"
expect "^REBOOT REQUIRED" "/run/reboot-required"
expect "ok +journald \(systemd" "the systemd check"
expect "^CLOCK: (NOT )?synchronized \(systemd" "the clock read from timedatectl"
echo "$report" | grep -q "Got notification message" && fail "children's notifications in the journal"
say "events: each in the next report"

source "$here/lifecycle.sh"
lifecycle

say "passed in $(($(date +%s) - began)) s"
