//! The command line (clap derive). Doc comments here are the `--help` text.
//!
//! The flag names are a contract with admins' crontabs and unit files: never rename one.

use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};

/// Emails a report of how this server is doing, on a cron schedule.
///
/// Without --once it runs as a daemon in the foreground (systemd supervises it),
/// sending a report at each time the schedule names.
#[derive(Debug, Parser)]
#[command(version, about)]
#[command(group(clap::ArgGroup::new("job").args(["once", "digest"])))]
pub struct Cli {
    /// Config file [default: $RREPORT_CONFIG, else /etc/rreport/config.toml; built-in
    /// defaults when that default file does not exist]
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Collect, render and send one report now, then exit
    #[arg(long)]
    pub once: bool,

    /// Make and send the fleet digest from Prometheus now ([digest] in the config),
    /// then exit
    #[arg(long, conflicts_with_all = ["once", "check", "outbox", "export"])]
    pub digest: bool,

    /// With --once or --digest: print it instead of sending it (needs no SMTP settings)
    #[arg(long, requires = "job")]
    pub dry_run: bool,

    /// With --dry-run: what to print
    #[arg(long, value_enum, default_value_t = Format::Html, requires = "dry_run")]
    pub format: Format,

    /// With --dry-run: write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE", requires = "dry_run")]
    pub output: Option<PathBuf>,

    /// Validate the config and templates, then print the next fire times
    #[arg(long, conflicts_with = "once")]
    pub check: bool,

    /// With --check: how many fire times to print
    #[arg(long, value_name = "N", default_value_t = 5, requires = "check")]
    pub next: usize,

    /// Validate only what a reload takes (the config file and the templates: no
    /// collectors, no mail), silent when they are good, exit 78 when not; the unit's
    /// ExecReload= runs it before it signals the daemon, so that a bad config fails
    /// `systemctl reload` while the daemon keeps the one it has
    #[arg(long, conflicts_with_all = ["once", "digest", "check", "outbox", "export"])]
    pub validate: bool,

    /// List the queued and failed messages (age, attempts, last error), then exit
    #[arg(long, conflicts_with_all = ["once", "check"])]
    pub outbox: bool,

    /// With --outbox: discard a message (its file name or Message-ID, as --outbox
    /// shows them) or every failed one ("all-failed"); refused while another rreport
    /// is delivering
    #[arg(long, value_name = "ID|all-failed", requires = "outbox")]
    pub drop: Option<String>,

    /// Print the sample history (one row per sample) as CSV or JSON lines, then
    /// exit; reads the database beside a running daemon and never writes it
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["once", "check", "outbox"])]
    pub export: Option<ExportFormat>,

    /// With --export: from how long ago ("24h", "7d") or from when (RFC 3339)
    #[arg(long, value_name = "WHEN", default_value = "24h", requires = "export")]
    pub since: String,

    /// With --export: the series, comma-separated; a name or its start ("cpu" is
    /// cpu.busy, cpu.iowait, cpu.steal; "fs:/var" is fs:/var.used_bytes and
    /// fs:/var.used_percent) [default: all]
    #[arg(long, value_name = "LIST", requires = "export")]
    pub series: Option<String>,

    /// Log debug detail (RUST_LOG, when set, wins)
    #[arg(short, long)]
    pub verbose: bool,
}

/// What this run does, resolved from the flags in one place (clap has already refused
/// the combinations that make no sense).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode<'a> {
    /// No mode flag: the daemon.
    Daemon,
    Once,
    Preview {
        format: Format,
        output: Option<&'a Path>,
    },
    Digest,
    DigestPreview {
        format: Format,
        output: Option<&'a Path>,
    },
    Check {
        next: usize,
    },
    Validate,
    Outbox,
    Drop(&'a str),
    Export {
        format: ExportFormat,
        since: &'a str,
        series: Option<&'a str>,
    },
}

impl Cli {
    pub fn mode(&self) -> Mode<'_> {
        if self.check {
            Mode::Check { next: self.next }
        } else if self.validate {
            Mode::Validate
        } else if let (true, Some(which)) = (self.outbox, &self.drop) {
            Mode::Drop(which)
        } else if self.outbox {
            Mode::Outbox
        } else if let Some(format) = self.export {
            Mode::Export {
                format,
                since: &self.since,
                series: self.series.as_deref(),
            }
        } else if self.digest && self.dry_run {
            Mode::DigestPreview {
                format: self.format,
                output: self.output.as_deref(),
            }
        } else if self.digest {
            Mode::Digest
        } else if self.once && self.dry_run {
            Mode::Preview {
                format: self.format,
                output: self.output.as_deref(),
            }
        } else if self.once {
            Mode::Once
        } else {
            Mode::Daemon
        }
    }
}

/// What `--export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A header, then one line per sample: time, then each series' value
    Csv,
    /// One JSON object per sample: {"time": ..., "<series>": value, ...}
    Json,
}

/// What `--dry-run` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The HTML part of the email
    Html,
    /// The plain-text part of the email
    Text,
    /// The template context, pretty-printed
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn drop_needs_outbox() {
        assert!(Cli::try_parse_from(["rreport", "--drop", "all-failed"]).is_err());
        assert!(Cli::try_parse_from(["rreport", "--outbox", "--drop", "all-failed"]).is_ok());
    }

    #[test]
    fn each_set_of_flags_is_one_mode() {
        let mode = |args: &[&str]| {
            let cli = Cli::try_parse_from(std::iter::once("rreport").chain(args.iter().copied()))
                .unwrap();
            format!("{:?}", cli.mode())
        };
        assert_eq!(mode(&[]), "Daemon");
        assert_eq!(mode(&["--once"]), "Once");
        assert_eq!(mode(&["--validate"]), "Validate");
        assert_eq!(
            mode(&["--once", "--dry-run", "--format", "text"]),
            "Preview { format: Text, output: None }"
        );
        assert_eq!(mode(&["--check", "--next", "2"]), "Check { next: 2 }");
        assert_eq!(mode(&["--digest"]), "Digest");
        assert_eq!(
            mode(&["--digest", "--dry-run", "--format", "json"]),
            "DigestPreview { format: Json, output: None }"
        );
        assert_eq!(mode(&["--outbox"]), "Outbox");
        assert_eq!(
            mode(&["--export", "csv", "--since", "7d", "--series", "cpu"]),
            "Export { format: Csv, since: \"7d\", series: Some(\"cpu\") }"
        );
        assert_eq!(
            mode(&["--outbox", "--drop", "all-failed"]),
            "Drop(\"all-failed\")"
        );
    }

    #[test]
    fn dry_run_needs_once() {
        assert!(Cli::try_parse_from(["rreport", "--dry-run"]).is_err());
        assert!(Cli::try_parse_from(["rreport", "--once", "--dry-run"]).is_ok());
    }
}
