//! Release builds of the binary lay out the functions a report runs together at the
//! front of .text (packaging/symbol-order.txt, made by packaging/symbol-order.sh),
//! and the constants it reads ahead of .rodata (packaging/rodata-order.ld, made by
//! the same script): the kernel maps a binary 64 KiB around each page touched, so
//! the fewer places a report's code and data lie in, the less of the binary is
//! resident.
//!
//! Only where the linker is lld, which alone reads the file: rustc's default for
//! x86_64-unknown-linux-gnu since 1.90, unless a linker is configured.
//!
//! With a glibc that reads them (2.36 on), the relative relocations are packed
//! (DT_RELR): 230 KB of them, which the dynamic loader reads at every start, become
//! a few KB. The binary then needs that glibc, as the package's Depends says.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=packaging/symbol-order.txt");
    println!("cargo:rerun-if-changed=packaging/rodata-order.ld");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    // packaging/symbol-order.sh asks the linker where each function went, so that
    // it can name the addresses it profiled in this very (stripped) build.
    println!("cargo:rerun-if-env-changed=RREPORT_LINK_MAP");
    if let Ok(map) = std::env::var("RREPORT_LINK_MAP") {
        println!("cargo:rustc-link-arg-bins=-Wl,-Map={map}");
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let release = var("PROFILE") == "release";
    let default_lld = var("TARGET") == "x86_64-unknown-linux-gnu"
        && var("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_empty()
        && !var("CARGO_ENCODED_RUSTFLAGS").contains("linker")
        && rustc_minor().is_some_and(|minor| minor >= 90);
    let packaging = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("packaging");
    let order = packaging.join("symbol-order.txt");
    if release && default_lld && order.exists() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Names from an older profile that no longer exist are expected, not news.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    // The same for the constants a report reads, as a linker script that adds an
    // output section (.rodata.hot) to lld's default layout; an input section it
    // names that no longer exists matches nothing.
    let rodata = packaging.join("rodata-order.ld");
    if release && default_lld && rodata.exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", rodata.display());
    }
    if release && default_lld && glibc_minor().is_some_and(|minor| minor >= 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The minor version of the glibc here ("glibc 2.36" → 36), which the binary
/// built here will run with.
fn glibc_minor() -> Option<u32> {
    second_number(Command::new("getconf").arg("GNU_LIBC_VERSION"))
}

/// The minor version of the rustc building this ("rustc 1.95.0 (…)" → 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    second_number(Command::new(rustc).arg("-V"))
}

/// The second number of the version a command prints as its second word.
fn second_number(command: &mut Command) -> Option<u32> {
    let out = command.output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
