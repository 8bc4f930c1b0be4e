//! The `[smtp]` table: relays, TLS, addresses, timeouts, retry policy; credentials
//! from the environment.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, EnvLookup, Locator, PASSWORD_VAR, USERNAME_VAR};
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The relays, tried in order on every attempt (monit's `set mailserver a, b`).
    pub servers: Vec<Server>,
    pub tls: TlsMode,
    /// The PEM text of an extra trusted CA, read and checked at load time.
    pub ca_pem: Option<String>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    /// Where `to` was written (or the `[smtp]` table), for the "no recipients" error.
    pub to_location: String,
    pub timeout: Duration,
    pub credentials: Option<Credentials>,
    pub retry: RetryPolicy,
}

/// One relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// When a message that could not be delivered is tried again, and when it is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; each further failure doubles it.
    pub initial: Duration,
    /// The longest wait between attempts.
    pub max: Duration,
    /// A message still undelivered this long after it was queued moves to failed/.
    pub max_queue_age: Duration,
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

#[derive(Deserialize)]
#[serde(untagged)]
enum Hosts {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    host: Spanned<Hosts>,
    port: Option<Spanned<i64>>,
    tls: Option<TlsMode>,
    ca_file: Option<Spanned<PathBuf>>,
    from: Spanned<String>,
    to: Option<Spanned<Vec<Spanned<String>>>>,
    timeout_secs: Option<Spanned<u64>>,
    retry_initial: Option<Spanned<String>>,
    retry_max: Option<Spanned<String>>,
    max_queue_age: Option<Spanned<String>>,
    // Accepted by the parser only to be refused with a pointer to the environment.
    username: Option<Spanned<toml::Value>>,
    password: Option<Spanned<toml::Value>>,
}

pub(super) fn check(
    raw: Spanned<RawSmtp>,
    loc: &Locator,
    env: EnvLookup,
) -> Result<SmtpSettings, ConfigError> {
    let table_start = raw.span().start;
    let raw = raw.into_inner();
    refuse_credentials(&raw, loc)?;
    let tls = raw.tls.unwrap_or(TlsMode::Starttls);
    let port = port(raw.port.as_ref(), tls, loc)?;
    let servers = servers(&raw.host, port, loc)?;
    let mailbox = |s: &Spanned<String>, key: &str| {
        // lettre's reasons ("Invalid input") add nothing to the address itself.
        Mailbox::from_str(s.get_ref()).map_err(|_| loc.at(s.span().start, format!(
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
            loc.locate(list.span().start),
        ),
        None => (Vec::new(), loc.locate(table_start)),
    };
    let timeout =
        Duration::from_secs(loc.bounded(&raw.timeout_secs, "timeout_secs", 1..=3600, 30)?);
    let ca_pem = match &raw.ca_file {
        Some(path) => Some(read_ca(path.get_ref()).map_err(|e| loc.at(path.span().start, e))?),
        None => None,
    };
    let retry = retry_policy(&raw, loc)?;
    Ok(SmtpSettings {
        servers,
        tls,
        ca_pem,
        from,
        to,
        to_location,
        timeout,
        credentials: credentials(env)?,
        retry,
    })
}

/// `username` and `password` are parsed only to be refused with the way that works.
fn refuse_credentials(raw: &RawSmtp, loc: &Locator) -> Result<(), ConfigError> {
    for (key, value, var) in [
        ("username", &raw.username, USERNAME_VAR),
        ("password", &raw.password, PASSWORD_VAR),
    ] {
        if let Some(v) = value {
            return Err(loc.at(v.span().start, format!(
                "smtp.{key} is not allowed in the config file; set {var} in the environment instead (e.g. in /etc/rreport/env, mode 0600)"
            )));
        }
    }
    Ok(())
}

/// The configured port, else the one that goes with `tls`.
fn port(raw: Option<&Spanned<i64>>, tls: TlsMode, loc: &Locator) -> Result<u16, ConfigError> {
    let Some(p) = raw else {
        return Ok(tls.default_port());
    };
    u16::try_from(*p.get_ref())
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| {
            loc.at(
                p.span().start,
                format!("port {} is out of range; expected 1 to 65535", p.get_ref()),
            )
        })
}

/// The retry schedule, each duration bounded where it is written.
fn retry_policy(raw: &RawSmtp, loc: &Locator) -> Result<RetryPolicy, ConfigError> {
    let duration = |value: &Option<Spanned<String>>, key: &str, default: u64, max: u64| {
        bounded_duration(value.as_ref(), key, max, loc)
            .map(|d| d.unwrap_or(Duration::from_secs(default)))
    };
    Ok(RetryPolicy {
        initial: duration(&raw.retry_initial, "smtp.retry_initial", 60, DAY)?,
        max: duration(&raw.retry_max, "smtp.retry_max", 3600, 7 * DAY)?,
        max_queue_age: duration(&raw.max_queue_age, "smtp.max_queue_age", 7 * DAY, 365 * DAY)?,
    })
}

/// `host` is one relay or a list; each is `name`, `name:port` or `[v6]:port`.
fn servers(
    hosts: &Spanned<Hosts>,
    default_port: u16,
    loc: &Locator,
) -> Result<Vec<Server>, ConfigError> {
    let names = match hosts.get_ref() {
        Hosts::One(name) => vec![name.clone()],
        Hosts::Many(names) => names.clone(),
    };
    if names.is_empty() {
        return Err(loc.at(
            hosts.span().start,
            "smtp.host lists no relay; expected a host name or a list of them".into(),
        ));
    }
    names
        .iter()
        .map(|name| {
            parse_server(name, default_port).ok_or_else(|| {
                loc.at(hosts.span().start, format!("smtp.host: '{name}' is not a relay; expected \"name\", \"name:port\" or \"[v6 address]:port\""))
            })
        })
        .collect()
}

fn parse_server(text: &str, default_port: u16) -> Option<Server> {
    let text = text.trim();
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (addr, port.parse().ok()?),
            None if after.is_empty() => (addr, default_port),
            None => return None,
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, port.parse().ok()?),
            Some(_) => (text, default_port), // a bare IPv6 address
            None => (text, default_port),
        }
    };
    let valid = !host.is_empty()
        && port != 0
        && !host.contains(|c: char| c.is_whitespace() || c.is_control() || c == '/');
    valid.then(|| Server {
        host: host.to_string(),
        port,
    })
}

const DAY: u64 = 86_400;

/// A duration key of `[smtp]`: at least a second (less would hammer the relay) and
/// at most `max` seconds, so that every time computed from it stays far inside
/// what a date can hold.
pub(super) fn bounded_duration(
    value: Option<&Spanned<String>>,
    key: &str,
    max: u64,
    loc: &Locator,
) -> Result<Option<Duration>, ConfigError> {
    let Some(v) = value else { return Ok(None) };
    let text = v.get_ref();
    let d = parse_duration(text).ok_or_else(|| {
        loc.at(v.span().start, format!("{key} = \"{text}\" is not a duration; expected a number and a unit, such as \"30s\", \"1m\", \"2h\" or \"7d\""))
    })?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(max) {
        return Err(loc.at(
            v.span().start,
            format!(
                "{key} = \"{text}\" is out of range; expected 1s to {}d",
                max / DAY
            ),
        ));
    }
    Ok(Some(d))
}

/// "30s", "5m", "2h", "7d" → a duration; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale).map(Duration::from_secs)
}

/// Reads `ca_file` and checks that it holds at least one PEM certificate.
fn read_ca(path: &Path) -> Result<String, String> {
    use rustls_pki_types::{pem::PemObject, CertificateDer};
    let pem = std::fs::read_to_string(path)
        .map_err(|e| format!("smtp.ca_file '{}' cannot be read: {e}", path.display()))?;
    match CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>() {
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

/// systemd's credentials (`LoadCredential=smtp-password:/etc/rreport/smtp-password`):
/// files in `$CREDENTIALS_DIRECTORY`, readable only by the service, and in no
/// process's environment.
const USERNAME_CREDENTIAL: &str = "smtp-username";
const PASSWORD_CREDENTIAL: &str = "smtp-password";

/// The SMTP credentials: each from its environment variable, else from the systemd
/// credential of the same purpose. Both or neither.
fn credentials(env: EnvLookup) -> Result<Option<Credentials>, ConfigError> {
    let get = |var: &str, credential: &str| match env(var).filter(|v| !v.is_empty()) {
        Some(value) => Ok(Some(value)),
        None => systemd_credential(env, credential),
    };
    match (
        get(USERNAME_VAR, USERNAME_CREDENTIAL)?,
        get(PASSWORD_VAR, PASSWORD_CREDENTIAL)?,
    ) {
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

/// One credential file, without its trailing newline; `None` when there is no
/// credentials directory or no such file. Never says what the file holds.
fn systemd_credential(env: EnvLookup, name: &str) -> Result<Option<String>, ConfigError> {
    let Some(dir) = env("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let path = Path::new(&dir).join(name);
    let bytes = match crate::regular::read(&path, 4096, crate::regular::Links::Follow) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ConfigError {
                location: path.display().to_string(),
                message: format!("cannot read the systemd credential: {e}"),
            })
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| ConfigError {
        location: path.display().to_string(),
        message: "the systemd credential is not UTF-8 text".into(),
    })?;
    let value = text.trim_end_matches(['\r', '\n']).to_string();
    Ok((!value.is_empty()).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_with_and_without_ports() {
        let s = |host: &str, port: u16| {
            Some(Server {
                host: host.into(),
                port,
            })
        };
        assert_eq!(
            parse_server("mx.example.com", 587),
            s("mx.example.com", 587)
        );
        assert_eq!(
            parse_server("mx.example.com:2525", 587),
            s("mx.example.com", 2525)
        );
        assert_eq!(parse_server("[::1]:25", 587), s("::1", 25));
        assert_eq!(parse_server("::1", 587), s("::1", 587));
        assert_eq!(parse_server("mx:0", 587), None);
        assert_eq!(parse_server("mx:smtp", 587), None);
        assert_eq!(parse_server("m x", 587), None);
        assert_eq!(parse_server("", 587), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1w"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }
}
