#!/usr/bin/env bash
# Renders a report that has an attention list of every level, the template-error
# banner and a day of history (charts, period figures, a forecast), and screenshots it in headless Chromium in both colour schemes:
# docs/report-light.png and docs/report-dark.png (prefers-color-scheme emulated), and
# the template tests' golden report, every section filled, as docs/sections-*.png.
# Run it after changing templates/report.html or digest.html, and look at the pictures: mail
# clients in dark mode (Apple Mail, Outlook for Mac and iOS) apply the template's
# dark styles, and nothing may end up light on light or dark on dark.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
cargo build --release --quiet --bin rreport --example history_day

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/templates"
# An admin template that fails: the built-in one is used, with the banner on top.
printf '{{ memroy.total }}\n' > "$work/templates/report.html"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/config.toml" <<TOML
hostname = "db-3.example.net"
state_dir = "$work/state"
[report]
template_dir = "$work/templates"
cpu_sample_ms = 100
[thresholds]
memory = [1, 2, 99]
filesystem = [1, 99, 100]
[[checks]]
name = "postgres"
tcp = "127.0.0.1:$closed"
timeout_secs = 1
TOML
# A day of samples, as the daemon would have taken: period figures, charts, a forecast.
target/release/examples/history_day "$work/state" >/dev/null
target/release/rreport --once --dry-run --format html -c "$work/config.toml" -o "$work/report.html" 2>/dev/null

shoot() {
    local scheme=$1 out=$2 page=${3:-$work/report.html} height=${4:-2600}
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/chrome-$scheme" --hide-scrollbars \
        --blink-settings="preferredColorScheme=$([ "$scheme" = dark ] && echo 0 || echo 1)" \
        --window-size=720,"$height" --screenshot="$out" "file://$page" 2>/dev/null
}
shoot light docs/report-light.png
shoot dark docs/report-dark.png
# Every section filled (updates, failed units, disk health, RAID, certificates,
# temperatures): the golden file the template tests render from their fixture.
shoot light docs/sections-light.png "$PWD/tests/fixtures/report.html" 6000
shoot dark docs/sections-dark.png "$PWD/tests/fixtures/report.html" 6000
# The fleet digest (`rreport --digest`), from the template tests' golden digest.
shoot light docs/digest-light.png "$PWD/tests/fixtures/digest.html" 1500
shoot dark docs/digest-dark.png "$PWD/tests/fixtures/digest.html" 1500
echo "wrote docs/{report,sections,digest}-{light,dark}.png"
