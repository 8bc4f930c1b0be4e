#!/usr/bin/env bash
# Builds rreport_<version>-<revision>_<arch>.deb in target/debian/: the release
# binary, built inside a Debian 11 root against its glibc 2.31 (the package's floor:
# it then runs on Debian 11, 12 and 13, Ubuntu 20.04 and later), the man page and
# completions generated from the clap definition (examples/assets.rs), the unit with
# the package's paths, then `cargo deb` (installed here when missing), whose
# Depends: come from dpkg-shlibdeps on that binary. Prints the .deb's path last.
# Needs root (debootstrap, chroot, bind mounts); the root is kept under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet
root=$(packaging/debian-root.sh bullseye "$(cat packaging/bullseye-packages)" | tail -n 1)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
toolchain=$(rustup show active-toolchain | cut -d' ' -f1)
# The checkout, cargo's crates and rustup's toolchain at the same paths inside, so
# the build is the same command; the crates were fetched by the host's builds.
mounted=()
unmount() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap unmount EXIT
bind() {
    mkdir -p "$root$2"
    mount --bind "$1" "$root$2"
    mounted+=("$root$2")
}
bind "$PWD" "$PWD"
bind "$cargo_home" "$cargo_home"
bind "$rustup_home" "$rustup_home"
bind /dev /dev
mkdir -p "$root/proc" && mount -t proc proc "$root/proc" && mounted+=("$root/proc")
chroot "$root" /usr/bin/env -i HOME="$HOME" PATH="$cargo_home/bin:/usr/bin:/bin" \
    CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" RUSTUP_TOOLCHAIN="$toolchain" \
    CARGO_TARGET_DIR="$PWD/target/glibc-2.31" \
    sh -c "cd '$PWD' && cargo build --release --locked --offline --quiet"
# What the binary needs, asked of Debian 11's libraries: on a newer host,
# dpkg-shlibdeps would answer libc6 (>= 2.34) for any binary that links
# libpthread.so.0, which glibc 2.34 emptied into libc.so.6.
shlibs=$(mktemp -d "$root/tmp/shlibs.XXXXXX")
mkdir -p "$shlibs/debian"
printf 'Source: rreport\n\nPackage: rreport\nArchitecture: any\n' > "$shlibs/debian/control"
depends=$(chroot "$root" sh -c "cd '${shlibs#"$root"}' && dpkg-shlibdeps -O '$PWD/target/glibc-2.31/release/rreport' 2>/dev/null" |
    sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlibs"
[ -n "$depends" ] || { echo "deb.sh: dpkg-shlibdeps said nothing" >&2; exit 1; }
unmount
mounted=()
# The man page and completions: the debug build the tests made serves.
cargo run --quiet --example assets -- target/assets
# The shipped unit names /usr/local (a source install); the package's binary and
# documentation are under /usr.
sed -e 's|/usr/local/bin/rreport|/usr/bin/rreport|' \
    -e 's|file:///usr/local/share/doc/rreport/README.md|file:///usr/share/doc/rreport/README.md|' \
    systemd/rreport.service > target/assets/rreport.service
# cargo-deb takes the binary from that build (its target/release is the target
# directory's), then the Depends: are set to dpkg-shlibdeps' answer above.
deb=$(CARGO_TARGET_DIR=target/glibc-2.31 cargo deb --no-build --quiet --output target/debian/ 2>&1 | tail -n 1)
tree=$(mktemp -d)
dpkg-deb -R "$deb" "$tree"
# The postinst makes the user with systemd-sysusers: as Debian's packages that
# ship a sysusers.d file, depend on what provides it.
depends="$depends, systemd | systemd-standalone-sysusers | systemd-sysusers"
sed -i "s/^Depends: .*/Depends: $depends/" "$tree/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz -b "$tree" "$deb" >/dev/null
rm -rf "$tree"
echo "$deb"
