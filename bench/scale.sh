#!/usr/bin/env bash
# How cost grows with the work: the disk collector with 0, 100 and 1000 extra mounts,
# then the process collector with 0 and 10,000 extra (sleeping) processes, against
# the floor and psutil's process_iter doing the same reads (bench/processes.py).
# The mounts are tmpfs inside a user + mount namespace (unshare -rm), so no root and
# no trace on the host; they are listed in report.filesystems (tmpfs is left out of
# the default discovery). Collectors run in parallel inside the CPU window, so wall
# time hides their cost: the per-mount figure comes from CPU time (user + system).
# Usage: bench/scale.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=15
[ "${1:-}" = "--runs" ] && runs=$2
bench/setup.sh
here=$PWD
unshare -rm --propagation private bash -s "$here" "$runs" <<'INNER'
set -euo pipefail
here=$1 runs=$2
cd "$here"
base=$(mktemp -d)
declare -A median cpu_median
for n in 0 100 1000; do
    list='"/"'
    for i in $(seq 1 "$n"); do
        mkdir -p "$base/m$i" && mount -t tmpfs -o size=1m none "$base/m$i"
        list="$list, \"$base/m$i\""
    done
    printf '[report]\ncpu_sample_ms = 10\nfilesystems = [%s]\n' "$list" > "$base/config-$n.toml"
    walls=() cpus=()
    for _ in $(seq 1 "$runs"); do
        read -r wall cpu _ < <(target/bench/run target/release/rreport -c "$base/config-$n.toml" --once --dry-run --format json)
        walls+=("$wall") cpus+=("$cpu")
    done
    med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    median[$n]=$(med "${walls[@]}")
    cpu_median[$n]=$(med "${cpus[@]}")
    for i in $(seq 1 "$n"); do umount "$base/m$i"; done
done
echo "| extra mounts | wall ms (10 ms window) | CPU ms | CPU over 0 mounts | CPU per mount |"
echo "|---:|---:|---:|---:|---:|"
for n in 0 100 1000; do
    awk -v n="$n" -v w="${median[$n]}" -v c="${cpu_median[$n]}" -v c0="${cpu_median[0]}" 'BEGIN {
        d = c - c0; printf "| %d | %.2f | %.2f | %.2f ms | %s |\n", n, w, c, d, (n ? sprintf("%.1f µs", d * 1000 / n) : "-") }'
done
echo "(medians of $runs runs each)"
INNER

# The process collector: 0 and 10,000 extra sleeping processes, a 200 ms window.
# The report's overhead (wall − window) with only the processes section — on a
# first report (CPU since each process started) and with a previous report's
# counters (CPU since then), one pass each —, with every section, and the floor's
# (bench/floor.c: the same reads on one thread, before its window); then the CPU
# per process against psutil's process_iter.
py=target/bench/venv/bin/python
source bench/sink.sh
trap 'kill $sink 2>/dev/null || true' EXIT
state=$(mktemp -d)
printf '[report]\ncpu_sample_ms = 200\nsections = ["processes"]\n' > target/bench/processes.toml
printf 'state_dir = "%s"\n[report]\ncpu_sample_ms = 200\nsections = ["processes"]\n%s\n' \
    "$state" "$smtp" > target/bench/processes-since.toml
printf '[report]\ncpu_sample_ms = 200\n' > target/bench/every.toml
med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A proc_cpu proc_over since_over since_cpu every_over floor_over py_cpu
extra=10000
for n in 0 $extra; do
    pids=()
    for _ in $(seq 1 "$n"); do sleep 900 & pids+=($!); done
    # A sent report leaves the counters the next one compares with.
    target/release/rreport -c target/bench/processes-since.toml --once >/dev/null
    cpus=() overs=() sinces=() since_cpus=() everys=() floors=()
    for _ in $(seq 1 "$runs"); do
        read -r wall cpu _ < <(target/bench/run target/release/rreport -c target/bench/processes.toml --once --dry-run --format json)
        cpus+=("$cpu") overs+=("$(awk -v w="$wall" 'BEGIN { print w - 200 }')")
        read -r wall cpu _ < <(target/bench/run target/release/rreport -c target/bench/processes-since.toml --once --dry-run --format json)
        since_cpus+=("$cpu") sinces+=("$(awk -v w="$wall" 'BEGIN { print w - 200 }')")
        read -r wall _ < <(target/bench/run target/release/rreport -c target/bench/every.toml --once --dry-run)
        everys+=("$(awk -v w="$wall" 'BEGIN { print w - 200 }')")
        read -r wall _ < <(target/bench/run target/bench/floor 200)
        floors+=("$(awk -v w="$wall" 'BEGIN { print w - 200 }')")
    done
    proc_cpu[$n]=$(med "${cpus[@]}") proc_over[$n]=$(med "${overs[@]}")
    since_cpu[$n]=$(med "${since_cpus[@]}") since_over[$n]=$(med "${sinces[@]}")
    every_over[$n]=$(med "${everys[@]}") floor_over[$n]=$(med "${floors[@]}")
    py_cpu[$n]=$("$py" bench/processes.py "$runs")
    total=$(ls -d /proc/[0-9]* | wc -l)
    [ "$n" -gt 0 ] && kill "${pids[@]}" && wait "${pids[@]}" 2>/dev/null || true
    echo "processes on the machine with $n extra: $total" >&2
done
rm -rf "$state"
echo
echo "| extra processes | overhead ms, processes section, with a previous report (≤ 50) | CPU ms | overhead ms, first report | CPU ms | overhead ms, every section (first report) | floor overhead ms | psutil process_iter CPU ms (the passes alone) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in 0 $extra; do echo "| $n | ${since_over[$n]} | ${since_cpu[$n]} | ${proc_over[$n]} | ${proc_cpu[$n]} | ${every_over[$n]} | ${floor_over[$n]} | ${py_cpu[$n]} |"; done
awk -v n="$extra" -v r0="${proc_cpu[0]}" -v r="${proc_cpu[$extra]}" -v p0="${py_cpu[0]}" -v p="${py_cpu[$extra]}" 'BEGIN {
    printf "per process, first report: rreport %.1f µs, psutil %.1f µs (%.1f×)\n", (r - r0) * 1000 / n, (p - p0) * 1000 / n, (p - p0) / (r - r0) }'
echo "(medians of $runs runs each)"
