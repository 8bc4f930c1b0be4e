//! `[export]` and `[digest]`: rreport's results for Prometheus, and the fleet digest
//! rendered from Prometheus.
//!
//! ```toml
//! [export]
//! textfile = "/var/lib/prometheus/node-exporter/rreport.prom"
//!
//! [digest]
//! prometheus = "http://prom.example.org:9090"
//! schedule = "0 7 * * *"           # the digest's own; the report keeps `schedule`
//! selector = '{job="node"}'        # the hosts: every series the digest reads, narrowed
//! period = "24h"                   # CPU averages, reboots and forecasts over this
//! ca_file = "/etc/ssl/private-ca.pem"
//! timeout_secs = 10                # each query
//! healthy_max = 100                # healthy hosts listed one a line; the rest counted
//! ```
//!
//! Credentials for Prometheus come from the environment, like SMTP's:
//! `RREPORT_PROMETHEUS_USERNAME` and `_PASSWORD` (basic auth) or `_TOKEN` (bearer).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, EnvLookup, Locator};
use crate::schedule::Schedule;
use crate::secret::Secret;

pub const USERNAME_VAR: &str = "RREPORT_PROMETHEUS_USERNAME";
pub const PASSWORD_VAR: &str = "RREPORT_PROMETHEUS_PASSWORD";
pub const TOKEN_VAR: &str = "RREPORT_PROMETHEUS_TOKEN";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExport {
    textfile: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    prometheus: Spanned<String>,
    schedule: Option<Spanned<String>>,
    selector: Option<Spanned<String>>,
    period: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<u64>>,
    healthy_max: Option<Spanned<u64>>,
    subject: Option<String>,
}

/// `[digest]`, checked.
#[derive(Debug, Clone)]
pub struct DigestSettings {
    /// The base URL, without a trailing slash.
    pub prometheus: String,
    /// None: the digest runs only when asked (`--digest`).
    pub schedule: Option<Schedule>,
    /// The matchers inside the selector's braces (`job="node"`), added to every query.
    pub matchers: String,
    pub period: Duration,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub healthy_max: usize,
    pub subject: Option<String>,
    pub auth: Option<Auth>,
}

#[derive(Debug, Clone)]
pub enum Auth {
    Basic { username: String, password: Secret },
    Bearer(Secret),
}

/// `export.textfile`: an absolute path ending in `.prom`, the only files
/// node_exporter's textfile collector reads.
pub(super) fn export(raw: RawExport, loc: &Locator) -> Result<Option<PathBuf>, ConfigError> {
    let Some(path) = raw.textfile else {
        return Ok(None);
    };
    let text = path.get_ref();
    if !text.starts_with('/') || !text.ends_with(".prom") {
        let why = format!("export.textfile = {text:?} must be an absolute path ending in .prom (node_exporter reads only *.prom)");
        return Err(loc.at(path.span().start, why));
    }
    Ok(Some(PathBuf::from(text)))
}

pub(super) fn digest(
    raw: Option<RawDigest>,
    loc: &Locator,
    env: EnvLookup,
) -> Result<Option<DigestSettings>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let url = raw.prometheus.get_ref().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        let why = format!("digest.prometheus = {url:?} must be an http:// or https:// URL");
        return Err(loc.at(raw.prometheus.span().start, why));
    }
    let schedule = match &raw.schedule {
        Some(s) => Some(super::schedule(Some(s), loc)?),
        None => None,
    };
    let period = match &raw.period {
        Some(p) => super::parse_duration(p.get_ref())
            .filter(|d| (Duration::from_secs(300)..=Duration::from_secs(90 * 86400)).contains(d))
            .ok_or_else(|| {
                loc.at(
                    p.span().start,
                    format!(
                        "digest.period = {:?} must be a duration from 5m to 90d (\"24h\", \"7d\")",
                        p.get_ref()
                    ),
                )
            })?,
        None => Duration::from_secs(86400),
    };
    Ok(Some(DigestSettings {
        prometheus: url.to_string(),
        schedule,
        matchers: matchers(raw.selector.as_ref(), loc)?,
        period,
        ca_file: raw.ca_file.map(|f| PathBuf::from(f.into_inner())),
        timeout: Duration::from_secs(loc.bounded(
            &raw.timeout_secs,
            "digest.timeout_secs",
            1..=300,
            10,
        )?),
        healthy_max: loc.bounded(&raw.healthy_max, "digest.healthy_max", 0..=10_000, 100)? as usize,
        subject: raw.subject,
        auth: auth(env)?,
    }))
}

/// `{job="node"}` → `job="node"`: the matchers, which each query puts beside its own.
/// Checked only for shape; Prometheus says what it thinks of the rest.
fn matchers(raw: Option<&Spanned<String>>, loc: &Locator) -> Result<String, ConfigError> {
    let Some(s) = raw else {
        return Ok(String::new());
    };
    let text = s.get_ref().trim();
    let inner = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'));
    match inner {
        Some(inner) if !inner.contains(['{', '}']) => Ok(inner.trim().to_string()),
        _ => Err(loc.at(
            s.span().start,
            format!(
                "digest.selector = {text:?} must be label matchers in braces, as {{job=\"node\"}}"
            ),
        )),
    }
}

/// Basic auth (both variables) or a bearer token, from the environment.
fn auth(env: EnvLookup) -> Result<Option<Auth>, ConfigError> {
    let get = |var: &str| env(var).filter(|v| !v.is_empty());
    let fail = |message: String| ConfigError {
        location: "environment".into(),
        message,
    };
    match (get(USERNAME_VAR), get(PASSWORD_VAR), get(TOKEN_VAR)) {
        (None, None, None) => Ok(None),
        (None, None, Some(token)) => Ok(Some(Auth::Bearer(Secret::new(token)))),
        (Some(username), Some(password), None) => Ok(Some(Auth::Basic { username, password: Secret::new(password) })),
        (_, _, Some(_)) => Err(fail(format!("{TOKEN_VAR} is set with {USERNAME_VAR} or {PASSWORD_VAR}; set a token or a user and password, not both"))),
        (Some(_), None, _) => Err(fail(format!("{USERNAME_VAR} is set but {PASSWORD_VAR} is not; set both"))),
        (None, Some(_), _) => Err(fail(format!("{PASSWORD_VAR} is set but {USERNAME_VAR} is not; set both"))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Config, ConfigError};
    use super::Auth;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "config.toml", &|_| None)
    }

    #[track_caller]
    fn check_err(text: &str, expected: &str) {
        match parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => assert_eq!(e.to_string(), expected, "for {text:?}"),
        }
    }

    #[test]
    fn export_and_digest_are_checked_where_they_are_written() {
        check_err(
        "[export]\ntextfile = \"rreport.txt\"\n",
        "config.toml:2:12: export.textfile = \"rreport.txt\" must be an absolute path ending in .prom (node_exporter reads only *.prom)",
    );
        check_err(
        "[digest]\nprometheus = \"prom:9090\"\n",
        "config.toml:2:14: digest.prometheus = \"prom:9090\" must be an http:// or https:// URL",
    );
        check_err(
        "[digest]\nprometheus = \"http://prom:9090\"\nselector = 'job=\"node\"'\n",
        "config.toml:3:12: digest.selector = \"job=\\\"node\\\"\" must be label matchers in braces, as {job=\"node\"}",
    );
        check_err(
        "[digest]\nprometheus = \"http://prom:9090\"\nperiod = \"1m\"\n",
        "config.toml:3:10: digest.period = \"1m\" must be a duration from 5m to 90d (\"24h\", \"7d\")",
    );
        let c = parse("[digest]\nprometheus = \"http://prom:9090/\"\nselector = '{job=\"node\", env=\"prod\"}'\nschedule = \"0 7 * * 1-5\"\n").unwrap();
        let d = c.digest.unwrap();
        assert_eq!(d.prometheus, "http://prom:9090");
        assert_eq!(d.matchers, "job=\"node\", env=\"prod\"");
        assert_eq!((d.period, d.healthy_max), (Duration::from_secs(86400), 100));
        assert!(d.schedule.is_some() && d.auth.is_none());
    }

    /// Basic auth or a token from the environment, never both, never half.
    #[test]
    fn prometheus_credentials_come_from_the_environment() {
        let digest = "[digest]\nprometheus = \"https://prom:9090\"\n";
        let with = |vars: &'static [(&'static str, &'static str)]| {
            let env = move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            };
            Config::parse(digest, "config.toml", &env)
        };
        let token = with(&[("RREPORT_PROMETHEUS_TOKEN", "t0ken")]).unwrap();
        assert!(matches!(token.digest.unwrap().auth, Some(Auth::Bearer(_))));
        let basic = with(&[
            ("RREPORT_PROMETHEUS_USERNAME", "u"),
            ("RREPORT_PROMETHEUS_PASSWORD", "p4ss"),
        ]);
        assert!(matches!(
            basic.unwrap().digest.unwrap().auth,
            Some(Auth::Basic { .. })
        ));
        let half = with(&[("RREPORT_PROMETHEUS_USERNAME", "u")]).unwrap_err();
        assert_eq!(half.to_string(), "environment: RREPORT_PROMETHEUS_USERNAME is set but RREPORT_PROMETHEUS_PASSWORD is not; set both");
        let both = with(&[
            ("RREPORT_PROMETHEUS_TOKEN", "t0ken"),
            ("RREPORT_PROMETHEUS_PASSWORD", "p4ss"),
        ])
        .unwrap_err();
        assert!(!format!("{both:?}").contains("t0ken") && !format!("{both:?}").contains("p4ss"));
    }

    /// `schedule = "off"`: a daemon of digests only, which needs a digest schedule.
    #[test]
    fn reports_off_needs_a_digest_schedule() {
        check_err(
        "schedule = \"off\"\n[digest]\nprometheus = \"http://prom:9090\"\n",
        "config.toml:1:12: schedule = \"off\" but [digest] has no schedule: the daemon would send nothing; give [digest] a schedule, or the reports one",
    );
        let c = parse("schedule = \"off\"\n[digest]\nprometheus = \"http://prom:9090\"\nschedule = \"0 7 * * *\"\n").unwrap();
        assert!(c.schedule.is_none());
    }
}
