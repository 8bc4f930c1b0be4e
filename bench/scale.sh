#!/usr/bin/env bash
# How cost grows with the work: the disk collector with 0, 100 and 1000 extra mounts.
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
