#!/usr/bin/env bash
# Builds rreport_<version>-1_<arch>.deb in target/debian/: the release binary, the
# man page and completions generated from the clap definition (examples/assets.rs),
# the unit with the package's paths, then `cargo deb` (installed here when missing).
# Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet
cargo build --release --quiet
cargo run --release --quiet --example assets -- target/assets
# The shipped unit names /usr/local (a source install); the package's binary and
# documentation are under /usr.
sed -e 's|/usr/local/bin/rreport|/usr/bin/rreport|' \
    -e 's|file:///usr/local/share/doc/rreport/README.md|file:///usr/share/doc/rreport/README.md|' \
    systemd/rreport.service > target/assets/rreport.service
cargo deb --no-build --quiet 2>&1 | tail -n 1
