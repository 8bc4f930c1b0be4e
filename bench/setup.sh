#!/usr/bin/env bash
# Installs what the benchmark scripts need, idempotently: a Python venv with psutil,
# jinja2 and aiosmtpd (the baseline and the SMTP sink), the C floor program, and the
# release build of rreport.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/bench
venv=target/bench/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import psutil, jinja2, aiosmtpd" 2>/dev/null \
    || "$venv/bin/pip" install -q psutil jinja2 aiosmtpd
for prog in floor run; do
    if [ ! -x "target/bench/$prog" ] || [ "bench/$prog.c" -nt "target/bench/$prog" ]; then
        gcc -O2 -o "target/bench/$prog" "bench/$prog.c"
    fi
done
cargo build --release --quiet
