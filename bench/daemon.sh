#!/usr/bin/env bash
# Daemon footprint. Phase 1: with a day of history of a host with 20 filesystems,
# 10 interfaces and 4 disks, a schedule firing every 10 s for --duration seconds
# (default 300) against a local SMTP sink; then RSS (VmHWM, VmRSS) and CPU time
# (utime + stime) per report. Phase 2: the same daemon config with a schedule that
# does not fire, for --idle seconds (default 120): wake-ups (voluntary context
# switches, all threads) per minute while idle, the minute's sample among them.
# Phase 3: the same with a sample an hour, so nothing is due for --idle seconds:
# the wake-ups between events (the budget: none).
# Usage: bench/daemon.sh [--duration S] [--idle S]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=300 idle=120
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=$2; shift ;;
        --idle) idle=$2; shift ;;
        *) echo "usage: $0 [--duration S] [--idle S]" >&2; exit 2 ;;
    esac
    shift
done
bench/setup.sh
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
source bench/sink.sh
pids+=($sink)

config() {  # $1: schedule, $2: seconds between samples
    printf 'schedule = "%s"\nstate_dir = "%s/state"\n%s\n[history]\nsample_interval_secs = %s\n' \
        "$1" "$work" "$smtp" "${2:-60}" > "$work/config.toml"
}
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wakeups() { cat /proc/"$1"/task/*/status | awk '$1 == "voluntary_ctxt_switches:" { n += $2 } END { print n }'; }
hz=$(getconf CLK_TCK)

# Every report reads a day of a wide host's history (79 series) and draws its charts.
cargo build --release --quiet --example history_day
target/release/examples/history_day "$work/state" --wide >/dev/null
config "*/10 * * * * *"
target/release/rreport -c "$work/config.toml" 2> "$work/busy.log" & daemon=$!; pids+=($daemon)
sleep "$duration"
reports=$(grep -c "report sent" "$work/busy.log" || true)
hwm=$(field VmHWM $daemon) rss=$(field VmRSS $daemon) cpu=$(ticks $daemon)
kill $daemon; wait $daemon 2>/dev/null || true

# An idle daemon for --idle seconds: sets $woke (wake-ups, counted after 5 s) and
# $resident (VmRSS, kB).
idle_run() {  # $1: seconds between samples
    config "0 0 1 1 *" "$1"
    target/release/rreport -c "$work/config.toml" 2> "$work/idle-$1.log" & daemon=$!; pids+=($daemon)
    sleep 5
    local w0 w1
    w0=$(wakeups $daemon)
    sleep "$idle"
    w1=$(wakeups $daemon)
    woke=$((w1 - w0)) resident=$(field VmRSS $daemon)
    kill $daemon; wait $daemon 2>/dev/null || true
}
idle_run 60
idle_wakeups=$woke idle_rss=$resident
idle_run 3600
quiet_wakeups=$woke quiet_rss=$resident

mib() { awk -v k="$1" 'BEGIN { printf "%.2f MiB", k / 1024 }'; }  # from kB (KiB)
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
echo "| measure | value |"
echo "|---|---:|"
echo "| reports sent in ${duration} s (every 10 s) | $reports |"
echo "| peak RSS (VmHWM) after ${duration} s | $(mib $hwm) |"
echo "| RSS (VmRSS) after ${duration} s | $(mib $rss) |"
awk -v t="$cpu" -v hz="$hz" -v n="$reports" 'BEGIN { printf "| CPU time in total | %.0f ms |\n| CPU time per report (the sample window is a sleep, not CPU) | %.1f ms |\n", t * 1000 / hz, (n > 0 ? t * 1000 / hz / n : 0) }'
echo "| idle RSS (VmRSS) | $(mib $idle_rss) |"
awk -v d="$idle_wakeups" -v s="$idle" 'BEGIN { printf "| wake-ups per minute while idle, a sample a minute (%d in %d s) | %.1f |\n", d, s, d * 60 / s }'
awk -v d="$quiet_wakeups" -v s="$idle" 'BEGIN { printf "| wake-ups per minute between events, a sample an hour (%d in %d s; budget 0) | %.1f |\n", d, s, d * 60 / s }'
echo "| idle RSS (VmRSS), a sample an hour (budget ≤ 6 MiB) | $(mib $quiet_rss) |"
