//! The binary: logging, the command line, `rreport::run`, and the exit status.

use std::process::ExitCode;

use clap::Parser;
use rreport::cli::Cli;
use rreport::exit::Exit;
use tracing::level_filters::LevelFilter;

fn main() -> ExitCode {
    // First of all: a process of the same user (a check's program, anything the
    // service runs) must not read our environment or memory, where the SMTP password
    // is, through /proc/<pid>/environ or ptrace; and no core dump may hold it.
    let _ = nix::sys::prctl::set_dumpable(false);
    one_malloc_arena();
    let cli = Cli::parse();
    let one_shot = cli.once || cli.check || cli.outbox;
    let default = if one_shot {
        LevelFilter::WARN
    } else {
        LevelFilter::INFO
    };
    rreport::logging::init(cli.verbose, default);
    match rreport::run(&cli) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            eprintln!("rreport: {e}");
            e.exit().into()
        }
    }
}

/// One malloc arena for every thread. glibc gives each thread that allocates an
/// arena of its own, and what a thread frees stays in its arena for it alone: a
/// report's threads (the collectors, the templates' compilation, the renders, the
/// history read back for the charts) each left pages touched that no other reused:
/// 0.2 MiB of a preview's peak RSS, 2.9 MiB of the daemon's after its reports. They
/// allocate little, and seldom at the same moment, so one lock costs nothing that
/// bench/compare.sh can see.
#[allow(unsafe_code)]
fn one_malloc_arena() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt takes no pointer and changes a setting of glibc's own; called
    // first thing, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
