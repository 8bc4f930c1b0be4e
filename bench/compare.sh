#!/usr/bin/env bash
# Whole-process comparison: rreport --once --dry-run against the Python psutil +
# jinja2 script it replaces and against a C floor, interleaved, medians printed.
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
printf '[report]\ncpu_sample_ms = %s\n' "$window" > "$config"
secs=$(awk "BEGIN { print $window / 1000 }")
cat > target/bench/compare.json <<JSON
[
  {"name": "rreport --once --dry-run", "argv": ["target/release/rreport", "-c", "$config", "--once", "--dry-run"], "window_ms": $window},
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
"$py" - "$json" "$binary" "$check" <<'PY'
import json, sys
r, binary, check = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
ours, py = r["rreport --once --dry-run"], r["python psutil+jinja2, same window"]
ratio = py["overhead"] / max(ours["overhead"], 0.01)
# (what, measured, budget, lower_is_better)
budgets = [
    ("rreport overhead, ms (median)", ours["overhead"], 10.0, True),
    ("Python overhead / rreport overhead", ratio, 10.0, False),
    ("rreport peak RSS, MB", ours["rss"], 8.0, True),
    ("release binary, MB", binary / 2**20, 8.0, True),
]
print("\n| budget | measured | limit | result |\n|---|---:|---:|---|")
failed = False
for what, value, limit, lower in budgets:
    ok = value <= limit if lower else value >= limit
    way_off = value > limit * 1.5 if lower else value < limit / 1.5
    failed |= way_off
    print(f"| {what} | {value:.2f} | {'≤' if lower else '≥'} {limit:g} | {'pass' if ok else ('FAIL' if way_off else 'over, within 50 %')} |")
sys.exit(1 if check and failed else 0)
PY
