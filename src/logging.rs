//! Logging to stderr with tracing. Under systemd (JOURNAL_STREAM set) the journal
//! stamps each line, so no timestamp of our own and no colour.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` wins; else `--verbose` means debug; else `default` ("info" for the
/// daemon, "warn" for one-shot runs so cron mails nothing when all is well).
pub fn init(verbose: bool, default: &str) {
    let level = if verbose { "debug" } else { default };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(!journal && std::io::stderr().is_terminal());
    if journal {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
