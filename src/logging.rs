//! Logging to stderr with tracing. Under systemd (JOURNAL_STREAM set) the journal
//! stamps each line, so no timestamp of our own and no colour.
//!
//! `RUST_LOG` is read as a level (`debug`, or `rreport=debug`: the last level named
//! wins). tracing-subscriber's full filter language would bring its regex engine,
//! 0.4 MB of a 6 MB binary (and so of the daemon's resident memory), for per-module
//! filters that a one-crate program has no use for.

use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;

/// `RUST_LOG` wins; else `--verbose` means debug; else `default` (info for the
/// daemon, warn for one-shot runs so cron mails nothing when all is well).
pub fn init(verbose: bool, default: LevelFilter) {
    let from_env = std::env::var("RUST_LOG").ok().and_then(|v| level(&v));
    let level = from_env.unwrap_or(if verbose { LevelFilter::DEBUG } else { default });
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .with_ansi(!journal && std::io::stderr().is_terminal());
    if journal {
        builder.without_time().init();
    } else {
        builder.init();
    }
}

/// The level a `RUST_LOG` value names: the last directive's, any `target=` ignored.
pub fn level(value: &str) -> Option<LevelFilter> {
    let last = value.split(',').map(str::trim).rfind(|d| !d.is_empty())?;
    last.rsplit('=').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_values() {
        assert_eq!(level("debug"), Some(LevelFilter::DEBUG));
        assert_eq!(level("rreport=trace"), Some(LevelFilter::TRACE));
        assert_eq!(level("warn,rreport=info"), Some(LevelFilter::INFO));
        assert_eq!(level("off"), Some(LevelFilter::OFF));
        assert_eq!(level("nonsense"), None);
        assert_eq!(level(""), None);
    }
}
