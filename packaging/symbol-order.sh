#!/usr/bin/env bash
# Regenerates packaging/symbol-order.txt: the functions a report runs, in tiers (below),
# which build.rs hands to the linker (lld's --symbol-ordering-file)
# for release builds, so they lie together at the front of .text; and
# packaging/rodata-order.ld, the constants the one-shot tiers read, which build.rs
# hands to lld as a linker script that puts them together ahead of .rodata
# (rodata-order.py says why a script). The kernel maps a
# binary's pages 64 KiB around each page touched, so code scattered over the whole
# binary makes most of it resident; packed, a report touches a fraction.
#
# Profiled under valgrind's callgrind (which sees every instruction that ran, where a
# sampling profiler would miss code that runs once; its instruction addresses are
# used, not its functions, which in a stripped binary leave out code reached by a
# jump) on the release build itself,
# in tiers, each adding the functions the tiers before it did not run: a preview of
# the sections that run no program (the core of every report), the default preview
# in HTML and text, --check, and a minute and a half of a daemon's work against a
# local SMTP sink (reports, samples, charts). So the core lies in the first MB,
# and a preview touches little beyond it. The build is stripped, so
# the addresses callgrind saw are named from the linker's map of the same build
# (symbol-order.py); a build with symbols kept would not do, as cargo hashes the
# profile, strip included, into the names. Names that later vanish are ignored
# by the linker, and new code lands after the ordered part: rerun after large
# changes. Needs valgrind (Debian's package) and bench/setup.sh's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || apt-get install -y --no-install-recommends valgrind
bench/setup.sh
work=$(mktemp -d)
RREPORT_LINK_MAP=$work/rreport.map cargo build --release --quiet
bin=$work/rreport
cp target/release/rreport "$bin"  # the build the map describes, whatever builds next
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
grind() { valgrind --tool=callgrind --demangle=no --dump-instr=yes --compress-pos=no -q --callgrind-out-file="$work/cg.$1" "${@:2}" >/dev/null 2>&1 || true; }

printf '[report]\ncpu_sample_ms = 200\nsections = ["attention", "cpu", "memory", "filesystems", "diskio", "network", "processes", "temperatures", "errors"]\n' > "$work/core.toml"
grind 0 "$bin" -c "$work/core.toml" --once --dry-run
printf '[report]\ncpu_sample_ms = 200\n' > "$work/preview.toml"
grind 1 "$bin" -c "$work/preview.toml" --once --dry-run
grind 2 "$bin" -c "$work/preview.toml" --once --dry-run --format text
grind 3 "$bin" -c "$work/preview.toml" --check
# The constants read, from valgrind's lackey (every load; ~20 s a run, the daemon's
# 90 s would take hours): the same one-shot tiers.
trace() {
    { valgrind --tool=lackey --trace-mem=yes -v -v --log-fd=9 "${@:2}" 9>&1 >/dev/null 2>/dev/null || true; } \
        | python3 packaging/rodata-order.py touched rreport > "$work/data.$1"
}
trace 0 "$bin" -c "$work/core.toml" --once --dry-run
trace 1 "$bin" -c "$work/preview.toml" --once --dry-run
trace 2 "$bin" -c "$work/preview.toml" --once --dry-run --format text
trace 3 "$bin" -c "$work/preview.toml" --check

source bench/sink.sh
pids+=($sink)
cargo build --release --quiet --example history_day
target/release/examples/history_day "$work/state" >/dev/null
printf 'schedule = "*/20 * * * * *"\nstate_dir = "%s/state"\n%s\n[history]\nsample_interval_secs = 5\n' \
    "$work" "$smtp" > "$work/daemon.toml"
grind 4 "$bin" -c "$work/daemon.toml" & daemon=$!; pids+=($daemon)
sleep 90
pkill -TERM -f "callgrind-out-file=$work/cg.4" || true
wait "$daemon" 2>/dev/null || true

python3 packaging/symbol-order.py "$work/rreport.map" rreport "$work"/cg.[0-4] > "$work/order.txt"
python3 packaging/rodata-order.py script "$work/rreport.map" "$work"/data.[0-3] > "$work/rodata.ld"
mv "$work/order.txt" packaging/symbol-order.txt
mv "$work/rodata.ld" packaging/rodata-order.ld
echo "packaging/symbol-order.txt: $(wc -l < packaging/symbol-order.txt) functions"
