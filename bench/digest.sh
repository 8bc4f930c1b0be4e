#!/usr/bin/env bash
# The fleet digest at scale: N hosts (default 1,000) backfilled into Debian's
# Prometheus with promtool (3 hours, one sample a minute: node_exporter's series the
# digest reads, rreport's on every tenth host, 1 % of the hosts with a filling disk,
# one dead, one gone), Prometheus started on a free loopback port, then
# `rreport --digest --dry-run` in HTML and JSON: wall time, CPU and peak RSS (GNU
# time) and the HTML's size (Gmail clips past 102 KB).
# Usage: bench/digest.sh [--hosts N]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=1000
[ "${1:-}" = "--hosts" ] && hosts=$2
command -v promtool >/dev/null || { echo "needs Debian's prometheus (promtool)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$hosts" "$work/fleet.om" <<'PY'
import sys, time
n, path = int(sys.argv[1]), sys.argv[2]
end = int(time.time()) - 20
start = end - 3 * 3600
times = range(start, end + 1, 60)
def host(i): return f'job="node",instance="host-{i:04d}:9100"'
families = {
    "up": lambda i, t: [("", 0 if i == 2 and t > end - 1800 else 1)],
    "node_time_seconds": lambda i, t: [("", t)],
    "node_boot_time_seconds": lambda i, t: [("", start - 86400 * 30)],
    "node_cpu_seconds_total": lambda i, t: [(f',cpu="{c}",mode="idle"', (t - start + 86400) * 0.9) for c in range(2)],
    "node_memory_MemTotal_bytes": lambda i, t: [("", 8 << 30)],
    "node_memory_MemAvailable_bytes": lambda i, t: [("", 6 << 30)],
    "node_filesystem_size_bytes": lambda i, t: [(',mountpoint="/",fstype="ext4"', 100e9), (',mountpoint="/var",fstype="ext4"', 100e9)],
    "node_filesystem_avail_bytes": lambda i, t: [(',mountpoint="/",fstype="ext4"', 60e9), (',mountpoint="/var",fstype="ext4"', 20e9 - 10e9 * (t - start) / (end - start) if i % 100 == 1 else 70e9)],
    "node_load5": lambda i, t: [("", 0.2)],
    "rreport_status": lambda i, t: [("", 2 if i % 50 == 0 else 0)] if i % 10 == 0 else [],
    "rreport_attention": lambda i, t: [(',rank="1",text="check nginx failed: connection refused"', 2)] if i % 50 == 0 else [],
    "rreport_updates_pending": lambda i, t: [(',security="true"', 1), (',security="false"', 3)] if i % 10 == 0 else [],
    "rreport_reboot_required": lambda i, t: [("", 0)] if i % 10 == 0 else [],
    "rreport_last_report_timestamp_seconds": lambda i, t: [("", t - t % 3600)] if i % 10 == 0 else [],
}
with open(path, "w") as out:
    for name, f in families.items():
        out.write(f"# TYPE {name} gauge\n")
        for i in range(n):
            for labels, _ in f(i, start):
                for t in times:
                    if i == 3 and t > end - 3600:
                        break
                    v = dict(f(i, t))[labels]
                    out.write(f"{name}{{{host(i)}{labels}}} {v} {t}\n")
    out.write("# EOF\n")
PY
mkdir "$work/data"
s=$(date +%s.%N)
promtool tsdb create-blocks-from openmetrics "$work/fleet.om" "$work/data" >/dev/null
echo "backfilled $hosts hosts in $(echo "$(date +%s.%N) - $s" | bc) s"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'global:\n  scrape_interval: 1h\n' > "$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$port" 2>"$work/prometheus.log" &
for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/-/ready')" 2>/dev/null && break
    sleep 0.2
done
printf '[digest]\nprometheus = "http://127.0.0.1:%s"\nselector = '"'"'{job="node"}'"'"'\nperiod = "3h"\n' "$port" > "$work/config.toml"
for format in html json; do
    for run in 1 2 3; do
        /usr/bin/time -f "--format $format, run $run: %e s wall, %U s user + %S s system, peak RSS %M KB" \
            target/release/rreport --digest --dry-run --format "$format" -c "$work/config.toml" > "$work/out.$format"
    done
done
echo "HTML: $(wc -c < "$work/out.html") bytes"
python3 -c "
import json; d = json.load(open('$work/out.json'))
print('hosts', d['hosts_total'], '; need attention', d['attention_hosts'], '; stopped', len(d['stopped']), '; listed healthy', len(d['healthy']), '+', d['healthy_more'], '; error', d['error'])"
