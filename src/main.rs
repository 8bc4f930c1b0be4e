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
