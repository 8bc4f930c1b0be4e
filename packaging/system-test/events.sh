# The events of a day, made in the booted Debian (sourced by system-test.sh, which
# defines `in`, `root` and `fail`): each must be in the next report.
make_events() {
    # A user with a password and sudo, who logs in (su -l under systemd-run opens a
    # PAM session, so her sudo runs in session-N.scope, as over SSH).
    inside useradd -m -s /bin/bash -G sudo alice
    echo 'alice:alice-pw' | inside chpasswd
    echo "127.0.1.1 $(inside hostname)" >> "$root/etc/hosts"
    inside systemd-run -q --wait --unit=acc-fail /bin/false || true
    inside systemd-run -q --wait /bin/su - alice -c 'echo wrong | sudo -S ls /root; true' \
        || fail "alice's su"
    inside systemd-run -q --wait /bin/su - alice -c 'echo alice-pw | sudo -S /usr/bin/true' \
        || fail "alice's sudo"
    inside systemd-run -q --wait --unit=acc-flood /bin/sh -c \
        'for i in $(seq 200); do logger -p user.err -t accflood "acc flood: request $i failed with status 500"; done'
    inside systemd-run -q --wait --unit=acc-crit /bin/sh -c 'echo "<2>acc-crit: the disk array is on fire"'
    # tail keeps the last lines, and 200 MB of zeros are one line: it outgrows
    # MemoryMax= and is killed. Bounded, should the limit not hold.
    kills() { inside journalctl -k --no-pager -q | grep -c "out of memory: Killed process .*(tail)" || true; }
    local before; before=$(kills)
    inside systemd-run -q --wait --unit=acc-oom -p MemoryMax=20M /bin/sh -c \
        'head -c 200M /dev/zero | tail >/dev/null' || true
    # journald reads the kernel's log as it comes: give it a moment.
    local seen=
    for _ in $(seq 20); do
        [ "$(kills)" -gt "$before" ] && { seen=1; break; }
        sleep 1
    done
    [ -n "$seen" ] || fail "the OOM kill never reached the journal (/dev/kmsg, the memory controller)"
    # A package installed: a tiny one, built here.
    local pkg=$root/root/rr-probe
    mkdir -p "$pkg/DEBIAN"
    printf 'Package: rr-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@rr.test>\nDescription: probe\n' > "$pkg/DEBIAN/control"
    dpkg-deb -b "$pkg" "$root/root/rr-probe.deb" >/dev/null
    inside dpkg -i /root/rr-probe.deb >/dev/null
    inside touch /run/reboot-required
}
