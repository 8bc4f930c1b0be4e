//! The config file: raw TOML shape → checked `Config`.
//!
//! Parsing is a pure function of the text (`Config::parse`), table-tested on strings;
//! `Config::load` only adds reading the file. Every error names the file, line and
//! column, and says what was expected. Credentials never come from here: they come
//! from the environment, into a `Secret`.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod advice;
mod certificates;
mod checks;
mod fleet;
mod history;
mod journal;
pub mod lint;
mod smtp;
mod thresholds;
mod watch;

use serde::Deserialize;
use toml::Spanned;

pub use self::fleet::{Auth, DigestSettings};
pub use self::history::HistorySettings;
pub use self::smtp::{parse_duration, Credentials, RetryPolicy, Server, SmtpSettings, TlsMode};
pub use self::thresholds::{Levels, Thresholds};
use crate::schedule::Schedule;
use crate::sections::{Section, Sections};
use crate::zone::Zone;

pub const DEFAULT_PATH: &str = "/etc/rreport/config.toml";
pub const DEFAULT_SCHEDULE: &str = "0 8 * * *";
pub use crate::secret::{PASSWORD_VAR, USERNAME_VAR};

/// The checked settings the rest of the program runs on.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the settings came from, for messages: a path or "built-in defaults".
    pub origin: String,
    /// When the daemon sends a report; `None`: never (`schedule = "off"`, a daemon
    /// that only sends the fleet digest).
    pub schedule: Option<Schedule>,
    pub timezone: Zone,
    /// Overrides the system's hostname in the report and subject.
    pub hostname: Option<String>,
    pub report: ReportSettings,
    /// `None` when the file has no `[smtp]` table: fine for `--dry-run`, an error for sending.
    pub smtp: Option<SmtpSettings>,
    /// Where the outbox lives; `None` means the default (see `state::default_dir`).
    pub state_dir: Option<PathBuf>,
    /// How long one collector may take before the report goes out without it.
    pub collector_timeout: Duration,
    /// `[history]`: what the daemon samples between reports.
    pub history: HistorySettings,
    /// `[[certificates]]`: PEM files whose expiry the report shows.
    pub certificates: Vec<crate::collect::certificates::Watched>,
    /// `[journal]`.
    pub journal: crate::collect::journal::JournalConfig,
    /// `[export] textfile`: where the report's metrics are written for node_exporter.
    pub textfile: Option<PathBuf>,
    /// `[digest]`: the fleet digest from Prometheus.
    pub digest: Option<DigestSettings>,
    pub thresholds: Thresholds,
    /// `[[checks]]`: the admin's health checks, in the config's order.
    pub checks: Vec<crate::collect::checks::Check>,
    /// `[[watch]]`: the paths whose changes the report lists.
    pub watches: Vec<crate::collect::manifest::Watch>,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// A minijinja template string; `None`: the built-in subject (`report::DEFAULT_SUBJECT`).
    pub subject: Option<String>,
    /// Where `report.html` / `report.txt` may replace the built-in templates.
    pub template_dir: Option<PathBuf>,
    /// Mount points to report; `None` means every real filesystem.
    pub filesystems: Option<Vec<PathBuf>>,
    /// How long CPU use is sampled at report time.
    pub cpu_sample: Duration,
    /// The sections shown, in order; only their collectors run.
    pub sections: Sections,
    /// Whether the email carries charts of the period (`report.charts`).
    pub charts: bool,
}

/// A config mistake: where it is (`file:line:col`, a file, or the environment) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    pub location: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    schedule: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    hostname: Option<Spanned<String>>,
    state_dir: Option<PathBuf>,
    collector_timeout_secs: Option<Spanned<u64>>,
    #[serde(default)]
    report: RawReport,
    smtp: Option<Spanned<smtp::RawSmtp>>,
    thresholds: Option<thresholds::RawThresholds>,
    #[serde(default)]
    checks: Vec<Spanned<checks::RawCheck>>,
    #[serde(default)]
    watch: Vec<watch::RawWatch>,
    #[serde(default)]
    history: history::RawHistory,
    #[serde(default)]
    updates: RawUpdates,
    #[serde(default)]
    reboot: RawReboot,
    #[serde(default)]
    certificates: Vec<Spanned<certificates::RawCertificate>>,
    #[serde(default)]
    journal: journal::RawJournal,
    #[serde(default)]
    export: fleet::RawExport,
    digest: Option<fleet::RawDigest>,
}

/// The thresholds with `[updates]`' and `[reboot]`'s days in them.
fn with_days(
    mut t: Thresholds,
    (updates, reboot): (&RawUpdates, &RawReboot),
    loc: &Locator,
) -> Result<Thresholds, ConfigError> {
    let days = |v, key, default| loc.bounded(v, key, 1..=365, default).map(|d| d as f64);
    t.security_updates_days = days(
        &updates.security_warning_days,
        "updates.security_warning_days",
        7,
    )?;
    t.package_lists_days = days(&updates.lists_warning_days, "updates.lists_warning_days", 7)?;
    t.reboot_days = days(&reboot.warning_days, "reboot.warning_days", 7)?;
    Ok(t)
}

/// `[reboot]`: when a wanted reboot becomes a warning.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReboot {
    warning_days: Option<Spanned<u64>>,
}

/// `[updates]`: when pending updates become a warning.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUpdates {
    security_warning_days: Option<Spanned<u64>>,
    lists_warning_days: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReport {
    subject: Option<Spanned<String>>,
    template_dir: Option<PathBuf>,
    filesystems: Option<Vec<PathBuf>>,
    cpu_sample_ms: Option<Spanned<u64>>,
    sections: Option<Vec<Spanned<String>>>,
    charts: Option<bool>,
}

/// Looks up an environment variable; injected so tests need not touch the process's.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// The longest piece of work the config allows between two signs of progress
    /// (`notify::progress`), which the watchdog's interval must exceed: connecting to
    /// one relay (TCP, its greeting and EHLO, each up to `timeout_secs`), or the wait
    /// for a report's slowest collector (a check or the journal, which have their own
    /// timeouts), or the digest's queries.
    pub fn longest_step(&self) -> Duration {
        let relay = self.smtp.as_ref().map_or(Duration::ZERO, |s| 3 * s.timeout);
        let check = self.checks.iter().map(|c| c.timeout).max();
        let check = check.unwrap_or_default() + Duration::from_secs(1);
        let collectors = self.collector_timeout + self.report.cpu_sample;
        let digest = self.digest.as_ref().map_or(Duration::ZERO, |d| d.timeout);
        [relay, check, collectors, self.journal.timeout, digest]
            .into_iter()
            .max()
            .unwrap_or_default()
    }

    /// Reads and checks `path`. `explicit` says the admin named it: only then is a
    /// missing file an error; a missing default file means the built-in defaults.
    pub fn load(path: &Path, explicit: bool, env: EnvLookup) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => Config::parse(&utf8(&bytes, &origin)?, &origin, env),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Config::parse(
                "",
                &format!("built-in defaults ({origin} does not exist)"),
                env,
            ),
            Err(e) => Err(ConfigError {
                location: origin,
                message: format!("cannot read config file: {e}"),
            }),
        }
    }

    /// Parses and checks config text. `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str, env: EnvLookup) -> Result<Config, ConfigError> {
        let loc = Locator { origin, text };
        let at = |span: std::ops::Range<usize>, message: String| loc.at(span.start, message);
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            location: match e.span() {
                Some(span) => locate(origin, text, span.start),
                None => origin.to_string(),
            },
            message: advice::advise(e.message(), text, e.span().map(|s| s.start)),
        })?;

        let schedule = report_schedule(raw.schedule.as_ref(), &loc)?;
        let timezone = match &raw.timezone {
            Some(z) => Zone::named(z.get_ref()).map_err(|e| {
                at(z.span(), format!("unknown time zone '{}': {e}; expected an IANA name such as \"Europe/Berlin\" or \"UTC\" (the tz database is the tzdata package)", z.get_ref()))
            })?,
            None => Zone::system(),
        };
        let hostname = match raw.hostname {
            Some(h) if h.get_ref().trim().is_empty() => {
                return Err(at(
                    h.span(),
                    "hostname is empty; leave it out to use the system's".into(),
                ))
            }
            h => h.map(Spanned::into_inner),
        };
        let report = check_report(raw.report, &loc)?;
        let smtp = match raw.smtp {
            Some(raw) => Some(smtp::check(raw, &loc, env)?),
            None => None,
        };
        let collector_timeout = Duration::from_secs(loc.bounded(
            &raw.collector_timeout_secs,
            "collector_timeout_secs",
            1..=3600,
            10,
        )?);
        let days_of = (&raw.updates, &raw.reboot);
        let thresholds = with_days(thresholds::check(raw.thresholds, &loc)?, days_of, &loc)?;
        Ok(Config {
            origin: origin.to_string(),
            schedule,
            timezone,
            hostname,
            report,
            smtp,
            state_dir: raw.state_dir,
            collector_timeout,
            thresholds,
            checks: checks::check_all(raw.checks, &loc)?,
            watches: watch::check_all(raw.watch, &loc)?,
            history: history::check(&raw.history, &loc)?,
            certificates: certificates::check_all(raw.certificates, &loc)?,
            journal: journal::check(raw.journal, &loc)?,
            textfile: fleet::export(raw.export, &loc)?,
            digest: fleet::digest(raw.digest, &loc, env)?,
        })
        .and_then(|c| c.something_to_do(raw.schedule.as_ref(), &loc))
    }

    /// `schedule = "off"` is for a daemon that sends only the digest: without a digest
    /// schedule it would do nothing at all.
    fn something_to_do(
        self,
        schedule: Option<&Spanned<String>>,
        loc: &Locator,
    ) -> Result<Config, ConfigError> {
        let digests = self.digest.as_ref().is_some_and(|d| d.schedule.is_some());
        match (schedule, &self.schedule) {
            (Some(s), None) if !digests => Err(loc.at(
                s.span().start,
                "schedule = \"off\" but [digest] has no schedule: the daemon would send nothing; give [digest] a schedule, or the reports one".into(),
            )),
            _ => Ok(self),
        }
    }

    /// The SMTP settings, checked for sending: present and with at least one recipient.
    pub fn smtp_for_sending(&self) -> Result<&SmtpSettings, ConfigError> {
        let smtp = self.smtp.as_ref().ok_or_else(|| ConfigError {
            location: self.origin.clone(),
            message: "no [smtp] section: sending needs host, from and to (see config.example.toml); use --once --dry-run to preview without sending".into(),
        })?;
        if smtp.to.is_empty() {
            return Err(ConfigError {
                location: smtp.to_location.clone(),
                message: "smtp.to lists no recipients; expected at least one address".into(),
            });
        }
        Ok(smtp)
    }
}

/// The config text, or an error at the first byte that is not UTF-8.
fn utf8(bytes: &[u8], origin: &str) -> Result<String, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let good = e.valid_up_to();
            // Everything before the bad byte is UTF-8, so the position can be counted in it.
            let before = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            Err(ConfigError {
                location: locate(origin, before, good),
                message: format!(
                    "byte 0x{:02x} is not UTF-8; the config must be UTF-8 text (was it saved as Latin-1?)",
                    bytes[good]
                ),
            })
        }
    }
}

/// The reports' schedule: None for `"off"`, else as `schedule` checks it.
fn report_schedule(
    raw: Option<&Spanned<String>>,
    loc: &Locator,
) -> Result<Option<Schedule>, ConfigError> {
    match raw {
        Some(s) if s.get_ref().trim() == "off" => Ok(None),
        s => schedule(s, loc).map(Some),
    }
}

/// The schedule as written (and able to fire), else the default.
fn schedule(raw: Option<&Spanned<String>>, loc: &Locator) -> Result<Schedule, ConfigError> {
    let Some(s) = raw else {
        return Ok(DEFAULT_SCHEDULE
            .parse()
            .expect("the default schedule parses"));
    };
    let schedule = s
        .get_ref()
        .parse()
        .map_err(|e| loc.at(s.span().start, format!("{e}")))?;
    check_fires(&schedule, s, loc)?;
    Ok(schedule)
}

/// A schedule that can never fire (`0 0 30 2 *`) is a config error, not a daemon
/// that exits at start and restart-loops. Pure: searched from a fixed instant, since
/// a crontab expression that fires at all fires within any four years.
fn check_fires(
    schedule: &Schedule,
    at: &Spanned<String>,
    loc: &Locator,
) -> Result<(), ConfigError> {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH + chrono::TimeDelta::days(365 * 30);
    match schedule.next_after(epoch, &Zone::utc()) {
        Some(_) => Ok(()),
        None => Err(loc.at(
            at.span().start,
            format!(
                "schedule '{}' never fires (no such date in any year); check the day-of-month and month fields",
                at.get_ref()
            ),
        )),
    }
}

/// A subject template's syntax, checked here so a mistake is located in the file; the
/// filters it uses are the renderer's business (an unknown one fails the first render,
/// and `--check` renders).
fn subject_syntax(subject: &str) -> Result<(), String> {
    let env = minijinja::Environment::new();
    env.template_from_str(subject).map(drop).map_err(|e| {
        let what = match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.kind().to_string(),
        };
        format!("report.subject: {what}")
    })
}

fn check_report(raw: RawReport, loc: &Locator) -> Result<ReportSettings, ConfigError> {
    let subject = match raw.subject {
        Some(s) => {
            let span = s.span();
            let subject = s.into_inner();
            subject_syntax(&subject).map_err(|e| loc.at(span.start, e))?;
            Some(subject)
        }
        None => None,
    };
    let cpu_sample_ms = loc.bounded(&raw.cpu_sample_ms, "cpu_sample_ms", 10..=60_000, 200)?;
    Ok(ReportSettings {
        subject,
        template_dir: raw.template_dir,
        filesystems: raw.filesystems,
        cpu_sample: Duration::from_millis(cpu_sample_ms),
        sections: check_sections(raw.sections, loc)?,
        charts: raw.charts.unwrap_or(true),
    })
}

fn check_sections(
    raw: Option<Vec<Spanned<String>>>,
    loc: &Locator,
) -> Result<Sections, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Sections::default());
    };
    let mut chosen = Vec::new();
    for name in &raw {
        let section = Section::from_name(name.get_ref()).ok_or_else(|| {
            loc.at(
                name.span().start,
                format!(
                    "unknown section '{}', expected one of {}",
                    name.get_ref(),
                    Section::all_names()
                ),
            )
        })?;
        chosen.push(section);
    }
    Sections::new(chosen).map_err(|twice| {
        let at = raw.iter().rfind(|n| n.get_ref() == twice.name());
        loc.at(
            at.map_or(0, |n| n.span().start),
            format!("section '{}' is listed twice", twice.name()),
        )
    })
}

/// Turns byte offsets into `file:line:col` errors for one config text.
struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn locate(&self, offset: usize) -> String {
        locate(self.origin, self.text, offset)
    }

    fn at(&self, offset: usize, message: String) -> ConfigError {
        ConfigError {
            location: self.locate(offset),
            message,
        }
    }

    /// A number that must lie in `range`; `default` when absent.
    fn bounded(
        &self,
        value: &Option<Spanned<u64>>,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
        default: u64,
    ) -> Result<u64, ConfigError> {
        match value {
            Some(v) if !range.contains(v.get_ref()) => Err(self.at(
                v.span().start,
                format!(
                    "{key} = {} is out of range; expected {} to {}",
                    v.get_ref(),
                    range.start(),
                    range.end()
                ),
            )),
            Some(v) => Ok(*v.get_ref()),
            None => Ok(default),
        }
    }
}

/// `origin:line:col` for a byte offset into `text`, both counted from 1.
fn locate(origin: &str, text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{origin}:{line}:{col}")
}

#[cfg(test)]
mod tests;
