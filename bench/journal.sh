#!/usr/bin/env bash
# The journal section on a noisy host: N entries (default 1,000,000) since the previous
# report, written as a journal with systemd-journal-remote (an err flood from one
# unit, sshd failures from many addresses, other units' warnings; each entry with the
# twenty-five fields journald gives a syslog line, or with --thin only the seven the
# report reads), then `rreport --once --dry-run --format json` with only the journal
# sections: wall time, CPU time and peak RSS (GNU time), at the default
# journal.timeout_secs (30) and at 10 (a period read in part, said so in `note`).
# Usage: bench/journal.sh [--entries N] [--thin]
set -euo pipefail
cd "$(dirname "$0")/.."
entries=1000000
thin=0
while [ $# -gt 0 ]; do
    case $1 in
        --entries) entries=$2; shift 2 ;;
        --thin) thin=1; shift ;;
        *) echo "usage: bench/journal.sh [--entries N] [--thin]" >&2; exit 2 ;;
    esac
done
[ -x /lib/systemd/systemd-journal-remote ] || { echo "needs systemd-journal-remote" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$entries" "$work/export" "$thin" <<'PY'
import sys, time
n, path, thin = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
start = int((time.time() - 6 * 3600) * 1e6)
booted = start - 86400 * 1000000
step = 6 * 3600 * 1000000 // n
with open(path, "w") as out:
    for i in range(n):
        t = start + i * step
        k = i % 10
        if k < 7:
            fields = f"MESSAGE=upstream timed out (110: Connection timed out) while connecting to 10.0.{i % 250}.{i % 199} port {8000 + i % 1000}\nPRIORITY=3\n_SYSTEMD_UNIT=nginx.service\nSYSLOG_IDENTIFIER=nginx\n"
        elif k < 9:
            fields = f"MESSAGE=Failed password for invalid user u{i % 5000} from 198.51.{i % 250}.{i % 251} port {1024 + i % 60000} ssh2\nPRIORITY=6\nSYSLOG_IDENTIFIER=sshd\n_SYSTEMD_UNIT=ssh.service\n"
        else:
            fields = f"MESSAGE=app{i % 40}: worker {i % 64} slow request {i} took {i % 997} ms\nPRIORITY=4\n_SYSTEMD_UNIT=app{i % 40}.service\nSYSLOG_IDENTIFIER=app\n"
        if not thin:  # what journald adds to a syslog line
            fields += f"_COMM=app\n_EXE=/usr/bin/app\n_CMDLINE=/usr/bin/app --serve\n_PID={1000 + i % 5000}\n_TRANSPORT=syslog\nSYSLOG_FACILITY=3\nSYSLOG_PID={i % 5000}\n_UID=0\n_GID=0\n_CAP_EFFECTIVE=1ffffffffff\n_SELINUX_CONTEXT=unconfined\n_SYSTEMD_CGROUP=/system.slice/app.service\n_SYSTEMD_SLICE=system.slice\n_SYSTEMD_INVOCATION_ID=5d3c1e0a9b8f4e2d8c7b6a5f4e3d2c1b\n_MACHINE_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web-1\n_SOURCE_REALTIME_TIMESTAMP={t - 3}\nSYSLOG_TIMESTAMP=Nov 26 06:00:00\n"
        out.write(f"__REALTIME_TIMESTAMP={t}\n__MONOTONIC_TIMESTAMP={t - booted}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n{fields}\n")
PY
mkdir "$work/journal"
s=$(date +%s.%N)
/lib/systemd/systemd-journal-remote --output="$work/journal/noisy.journal" "$work/export" 2>/dev/null
echo "wrote $entries entries in $(echo "$(date +%s.%N) - $s" | bc) s: $(du -sh "$work/journal" | cut -f1)"
rm "$work/export"
for timeout in 30 10; do
    printf '[report]\ncpu_sample_ms = 10\nsections = ["journal", "oom", "logins"]\n[journal]\ndirectory = "%s/journal"\ntimeout_secs = %s\n' "$work" "$timeout" > "$work/config.toml"
    for run in 1 2; do
        /usr/bin/time -f "journal.timeout_secs = $timeout, run $run: %e s wall, %U s user + %S s system, peak RSS %M KB (the larger of rreport and journalctl, whose mapped journal files count)" \
            target/release/rreport --once --dry-run --format json -c "$work/config.toml" > "$work/out.json"
    done
    python3 -c "
import json; j = json.load(open('$work/out.json'))['journal']
print('  read', j['entries'], 'entries;', j['counts'], '; note:', j['note'])"
done
