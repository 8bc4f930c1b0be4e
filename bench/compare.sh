#!/usr/bin/env bash
# Whole-process comparison: rreport --once --dry-run against the Python psutil +
# jinja2 script it replaces and against a C floor doing the same /proc and statvfs
# reads, interleaved in one run, medians printed; the budgets are ratios against
# the floor measured in the same run, so a slower machine moves both.
# Peak RSS is the largest of a process and the programs it waited for (wait4), so
# rreport's own is measured on a second config whose sections run no program
# (journalctl alone is 7 MB).
# Usage: bench/compare.sh [--check] [--runs N] [--window MS]
#   --check  exit 1 when a budget (BENCHMARKS.md) is missed by more than 50 %
set -euo pipefail
cd "$(dirname "$0")/.."
check=0 runs=30 window=200
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1 ;;
        --runs) runs=$2; shift ;;
        --window) window=$2; shift ;;
        *) echo "usage: $0 [--check] [--runs N] [--window MS]" >&2; exit 2 ;;
    esac
    shift
done
bench/setup.sh
py=target/bench/venv/bin/python
config=target/bench/compare.toml
own=target/bench/compare-own.toml
printf '[report]\ncpu_sample_ms = %s\n' "$window" > "$config"
printf '[report]\ncpu_sample_ms = %s\nsections = ["attention", "cpu", "memory", "filesystems", "diskio", "network", "processes", "temperatures", "errors"]\n' "$window" > "$own"
secs=$(awk "BEGIN { print $window / 1000 }")
cat > target/bench/compare.json <<JSON
[
  {"name": "rreport --once --dry-run", "argv": ["target/release/rreport", "-c", "$config", "--once", "--dry-run"], "window_ms": $window},
  {"name": "rreport, sections that run no program", "argv": ["target/release/rreport", "-c", "$own", "--once", "--dry-run"], "window_ms": $window},
  {"name": "python psutil+jinja2, same window", "argv": ["$py", "bench/baseline.py", "$secs"], "window_ms": $window},
  {"name": "python psutil+jinja2, 1 s window", "argv": ["$py", "bench/baseline.py", "1"], "window_ms": 1000},
  {"name": "floor (C, /proc + statvfs)", "argv": ["target/bench/floor", "$window"], "window_ms": $window}
]
JSON
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, window ${window} ms, ${runs} runs each"
out=$("$py" bench/measure.py target/bench/compare.json "$runs")
echo "$out" | sed '$d'
json=$(echo "$out" | tail -n 1)
binary=$(stat -c %s target/release/rreport)
deb=$(stat -c %s target/debian/rreport_*.deb 2>/dev/null | tail -n 1 || true)
"$py" - "$json" "$binary" "${deb:-0}" "$check" <<'PY'
import json, sys
r, binary, deb, check = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
ours, py = r["rreport --once --dry-run"], r["python psutil+jinja2, same window"]
own, floor = r["rreport, sections that run no program"], r["floor (C, /proc + statvfs)"]
ratio = py["overhead"] / max(ours["overhead"], 0.01)
print(f"\nfloor: overhead {floor['overhead']:.2f} ms, peak RSS {floor['rss']:.2f} MiB")
# (what, measured, budget, lower_is_better)
budgets = [
    ("rreport overhead / the floor's overhead", ours["overhead"] / max(floor["overhead"], 0.01), 1.5, True),
    ("Python overhead / rreport overhead", ratio, 10.0, False),
    ("rreport's own peak RSS, MiB (sections that run no program)", own["rss"], 4.0, True),
    ("release binary, MB", binary / 2**20, 8.0, True),
]
if deb:  # packaging/deb.sh has built one
    budgets.append(("the .deb, MB", deb / 2**20, 4.0, True))
print("\n| budget | measured | limit | result |\n|---|---:|---:|---|")
failed = False
for what, value, limit, lower in budgets:
    ok = value <= limit if lower else value >= limit
    way_off = value > limit * 1.5 if lower else value < limit / 1.5
    failed |= way_off
    print(f"| {what} | {value:.2f} | {'≤' if lower else '≥'} {limit:g} | {'pass' if ok else ('FAIL' if way_off else 'over, within 50 %')} |")
sys.exit(1 if check and failed else 0)
PY
