//! The binary: logging, the command line, `rreport::run`, and the exit status.

use std::process::ExitCode;

use clap::Parser;
use rreport::cli::Cli;
use rreport::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let one_shot = cli.once || cli.check;
    rreport::logging::init(cli.verbose, if one_shot { "warn" } else { "info" });
    match rreport::run(&cli) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            eprintln!("rreport: {e}");
            e.exit().into()
        }
    }
}
