#!/usr/bin/env bash
# The journal section on a noisy host: N entries (default 1,000,000) since the previous
# report, written as a journal with systemd-journal-remote (an err flood from one
# unit, sshd failures from many addresses, kernel messages, other units' warnings),
# then `rreport --once --dry-run --format json` with only the journal sections:
# wall time, CPU time and peak RSS (GNU time), at the default collector timeout (10 s:
# a journal read in part, the rest left for the next report) and at 30 s.
# Usage: bench/journal.sh [--entries N]
set -euo pipefail
cd "$(dirname "$0")/.."
entries=1000000
[ "${1:-}" = "--entries" ] && entries=$2
[ -x /lib/systemd/systemd-journal-remote ] || { echo "needs systemd-journal-remote" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$entries" "$work/export" <<'PY'
import sys, time
n, path = int(sys.argv[1]), sys.argv[2]
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
        out.write(f"__REALTIME_TIMESTAMP={t}\n__MONOTONIC_TIMESTAMP={t - booted}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n{fields}\n")
PY
mkdir "$work/journal"
s=$(date +%s.%N)
/lib/systemd/systemd-journal-remote --output="$work/journal/noisy.journal" "$work/export" 2>/dev/null
echo "wrote $entries entries in $(echo "$(date +%s.%N) - $s" | bc) s: $(du -sh "$work/journal" | cut -f1)"
rm "$work/export"
for timeout in 10 30; do
    printf 'collector_timeout_secs = %s\n[report]\ncpu_sample_ms = 10\nsections = ["journal", "oom", "logins"]\n[journal]\ndirectory = "%s/journal"\n' "$timeout" "$work" > "$work/config.toml"
    for run in 1 2; do
        /usr/bin/time -f "collector_timeout_secs = $timeout, run $run: %e s wall, %U s user + %S s system, peak RSS %M KB (the larger of rreport and journalctl, whose mapped journal files count)" \
            target/release/rreport --once --dry-run --format json -c "$work/config.toml" > "$work/out.json"
    done
    python3 -c "
import json; j = json.load(open('$work/out.json'))['journal']
print('  read', j['entries'], 'entries;', j['counts'], '; note:', j['note'])"
done
