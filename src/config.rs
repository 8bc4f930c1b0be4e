//! The config file: raw TOML shape → checked `Config`.
//!
//! Parsing is a pure function of the text (`Config::parse`), table-tested on strings;
//! `Config::load` only adds reading the file. Every error names the file, line and
//! column, and says what was expected. Credentials never come from here: they come
//! from the environment, into a `Secret`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;

use crate::schedule::Schedule;
use crate::secret::Secret;

pub const DEFAULT_PATH: &str = "/etc/rreport/config.toml";
pub const DEFAULT_SCHEDULE: &str = "0 8 * * *";
pub const DEFAULT_SUBJECT: &str = "[{{ status | upper }}] {{ hostname }} system report";
pub const USERNAME_VAR: &str = "RREPORT_SMTP_USERNAME";
pub const PASSWORD_VAR: &str = "RREPORT_SMTP_PASSWORD";

/// The checked settings the rest of the program runs on.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the settings came from, for messages: a path or "built-in defaults".
    pub origin: String,
    pub schedule: Schedule,
    pub timezone: Tz,
    /// Overrides the system's hostname in the report and subject.
    pub hostname: Option<String>,
    pub report: ReportSettings,
    /// `None` when the file has no `[smtp]` table: fine for `--dry-run`, an error for sending.
    pub smtp: Option<SmtpSettings>,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// A minijinja template string.
    pub subject: String,
    /// Where `report.html` / `report.txt` may replace the built-in templates.
    pub template_dir: Option<PathBuf>,
    /// Mount points to report; `None` means every real filesystem.
    pub filesystems: Option<Vec<PathBuf>>,
    /// How long CPU use is sampled at report time.
    pub cpu_sample: Duration,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// The PEM text of an extra trusted CA, read and checked at load time.
    pub ca_pem: Option<String>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    /// Where `to` was written (or the `[smtp]` table), for the "no recipients" error.
    pub to_location: String,
    pub timeout: Duration,
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// STARTTLS, required: a server that does not offer it is a delivery failure.
    Starttls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
    /// Plaintext, for a relay on the same host or network.
    None,
}

impl TlsMode {
    fn default_port(self) -> u16 {
        match self {
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
            TlsMode::None => 25,
        }
    }
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
    #[serde(default)]
    report: RawReport,
    smtp: Option<Spanned<RawSmtp>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReport {
    subject: Option<Spanned<String>>,
    template_dir: Option<PathBuf>,
    filesystems: Option<Vec<PathBuf>>,
    cpu_sample_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: Spanned<String>,
    port: Option<Spanned<i64>>,
    tls: Option<TlsMode>,
    ca_file: Option<Spanned<PathBuf>>,
    from: Spanned<String>,
    #[serde(default)]
    to: Option<Spanned<Vec<Spanned<String>>>>,
    timeout_secs: Option<Spanned<u64>>,
    // Accepted by the parser only to be refused with a pointer to the environment.
    username: Option<Spanned<toml::Value>>,
    password: Option<Spanned<toml::Value>>,
}

/// Looks up an environment variable; injected so tests need not touch the process's.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// Reads and checks `path`. `explicit` says the admin named it: only then is a
    /// missing file an error; a missing default file means the built-in defaults.
    pub fn load(path: &Path, explicit: bool, env: EnvLookup) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, &origin, env),
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
        let at = |span: std::ops::Range<usize>, message: String| ConfigError {
            location: locate(origin, text, span.start),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            location: match e.span() {
                Some(span) => locate(origin, text, span.start),
                None => origin.to_string(),
            },
            message: e.message().trim_end().to_string(),
        })?;

        let schedule = match &raw.schedule {
            Some(s) => s
                .get_ref()
                .parse()
                .map_err(|e| at(s.span(), format!("{e}")))?,
            None => DEFAULT_SCHEDULE
                .parse()
                .expect("the default schedule parses"),
        };
        let timezone = match &raw.timezone {
            Some(z) => Tz::from_str(z.get_ref()).map_err(|_| {
                at(z.span(), format!("unknown time zone '{}', expected an IANA name such as \"Europe/Berlin\" or \"UTC\"", z.get_ref()))
            })?,
            None => system_zone(),
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
        let report = check_report(raw.report, &at)?;
        let smtp = match raw.smtp {
            Some(smtp) => Some(check_smtp(smtp, origin, text, env)?),
            None => None,
        };
        Ok(Config {
            origin: origin.to_string(),
            schedule,
            timezone,
            hostname,
            report,
            smtp,
        })
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

fn check_report(
    raw: RawReport,
    at: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<ReportSettings, ConfigError> {
    let subject = match raw.subject {
        Some(s) => {
            let span = s.span();
            let subject = s.into_inner();
            crate::report::check_subject(&subject).map_err(|e| at(span, e))?;
            subject
        }
        None => DEFAULT_SUBJECT.to_string(),
    };
    let cpu_sample_ms = match raw.cpu_sample_ms {
        Some(ms) if !(10..=60_000).contains(ms.get_ref()) => {
            return Err(at(
                ms.span(),
                format!(
                    "cpu_sample_ms = {} is out of range; expected 10 to 60000",
                    ms.get_ref()
                ),
            ))
        }
        Some(ms) => ms.into_inner(),
        None => 200,
    };
    Ok(ReportSettings {
        subject,
        template_dir: raw.template_dir,
        filesystems: raw.filesystems,
        cpu_sample: Duration::from_millis(cpu_sample_ms),
    })
}

fn check_smtp(
    raw: Spanned<RawSmtp>,
    origin: &str,
    text: &str,
    env: EnvLookup,
) -> Result<SmtpSettings, ConfigError> {
    let at = |start: usize, message: String| ConfigError {
        location: locate(origin, text, start),
        message,
    };
    let table_start = raw.span().start;
    let raw = raw.into_inner();
    for (key, value, var) in [
        ("username", &raw.username, USERNAME_VAR),
        ("password", &raw.password, PASSWORD_VAR),
    ] {
        if let Some(v) = value {
            return Err(at(v.span().start, format!(
                "smtp.{key} is not allowed in the config file; set {var} in the environment instead (e.g. in /etc/rreport/env, mode 0600)"
            )));
        }
    }
    let host = raw.host.get_ref().trim();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(at(
            raw.host.span().start,
            "smtp.host must be a host name or address".into(),
        ));
    }
    let tls = raw.tls.unwrap_or(TlsMode::Starttls);
    let port = match raw.port {
        Some(p) => u16::try_from(*p.get_ref())
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| {
                at(
                    p.span().start,
                    format!("port {} is out of range; expected 1 to 65535", p.get_ref()),
                )
            })?,
        None => tls.default_port(),
    };
    let mailbox = |s: &Spanned<String>, key: &str| {
        // lettre's reasons ("Invalid input") add nothing to the address itself.
        Mailbox::from_str(s.get_ref()).map_err(|_| at(s.span().start, format!(
            "smtp.{key}: '{}' is not an email address; expected \"name@example.com\" or \"Name <name@example.com>\"",
            s.get_ref()
        )))
    };
    let from = mailbox(&raw.from, "from")?;
    let (to, to_location) = match &raw.to {
        Some(list) => (
            list.get_ref()
                .iter()
                .map(|s| mailbox(s, "to"))
                .collect::<Result<Vec<_>, _>>()?,
            locate(origin, text, list.span().start),
        ),
        None => (Vec::new(), locate(origin, text, table_start)),
    };
    let timeout = match raw.timeout_secs {
        Some(t) if !(1..=3600).contains(t.get_ref()) => {
            return Err(at(
                t.span().start,
                format!(
                    "timeout_secs = {} is out of range; expected 1 to 3600",
                    t.get_ref()
                ),
            ))
        }
        Some(t) => Duration::from_secs(t.into_inner()),
        None => Duration::from_secs(30),
    };
    let ca_pem = match &raw.ca_file {
        Some(path) => Some(read_ca(path.get_ref()).map_err(|e| at(path.span().start, e))?),
        None => None,
    };
    Ok(SmtpSettings {
        host: host.to_string(),
        port,
        tls,
        ca_pem,
        from,
        to,
        to_location,
        timeout,
        credentials: credentials(env)?,
    })
}

/// Reads `ca_file` and checks that it holds at least one PEM certificate.
fn read_ca(path: &Path) -> Result<String, String> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| format!("smtp.ca_file '{}' cannot be read: {e}", path.display()))?;
    use rustls_pki_types::{pem::PemObject, CertificateDer};
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>();
    match certs {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        Ok(_) => Err(format!(
            "smtp.ca_file '{}' is not a PEM certificate: no BEGIN CERTIFICATE block",
            path.display()
        )),
        Err(e) => Err(format!(
            "smtp.ca_file '{}' is not a PEM certificate: {e}",
            path.display()
        )),
    }
}

/// The SMTP credentials from the environment: both variables or neither.
fn credentials(env: EnvLookup) -> Result<Option<Credentials>, ConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.is_empty());
    match (get(USERNAME_VAR), get(PASSWORD_VAR)) {
        (Some(username), Some(password)) => Ok(Some(Credentials {
            username,
            password: Secret::new(password),
        })),
        (None, None) => Ok(None),
        (user, _) => {
            let (set, unset) = if user.is_some() {
                (USERNAME_VAR, PASSWORD_VAR)
            } else {
                (PASSWORD_VAR, USERNAME_VAR)
            };
            Err(ConfigError {
                location: "environment".into(),
                message: format!(
                    "{set} is set but {unset} is not; set both, or neither to send without AUTH"
                ),
            })
        }
    }
}

/// The system's time zone (from /etc/localtime or TZ), or UTC when it has no IANA name.
fn system_zone() -> Tz {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| Tz::from_str(&name).ok())
        .unwrap_or(Tz::UTC)
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
