//! `[[certificates]]`: PEM files, or TLS endpoints, whose expiry the report watches.
//!
//! ```toml
//! [[certificates]]
//! path = "/etc/letsencrypt/live/*/cert.pem"   # a path or a glob
//! warning_days = 14                           # the defaults
//! critical_days = 3
//!
//! [[certificates]]
//! endpoint = "mail.example.org:465"           # host:port; the host is also the SNI name
//! ca_file = "/etc/ssl/private-ca.pem"         # optional: trusted besides the system's roots
//! verify = true                               # false: show the verification, judge only the expiry
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::collect::certificates::{Endpoint, Source, Watched};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCertificate {
    path: Option<Spanned<String>>,
    endpoint: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    verify: Option<bool>,
    warning_days: Option<Spanned<u64>>,
    critical_days: Option<Spanned<u64>>,
}

pub(super) fn check_all(
    raw: Vec<Spanned<RawCertificate>>,
    loc: &Locator,
) -> Result<Vec<Watched>, ConfigError> {
    raw.into_iter().map(|r| check(r, loc)).collect()
}

fn check(raw: Spanned<RawCertificate>, loc: &Locator) -> Result<Watched, ConfigError> {
    let entry = raw.span().start;
    let raw = raw.into_inner();
    let (source, at) = match (raw.path, raw.endpoint) {
        (Some(path), None) => {
            let at = path.span().start;
            if let Some(ca) = &raw.ca_file {
                let why = "certificates.ca_file is for an endpoint, not a path".to_string();
                return Err(loc.at(ca.span().start, why));
            }
            (Source::Files(files(path, loc)?), at)
        }
        (None, Some(endpoint)) => {
            let at = endpoint.span().start;
            let ca_file = raw.ca_file.map(|c| absolute(c, loc)).transpose()?;
            let mut e = parse_endpoint(endpoint, loc)?;
            (e.ca_file, e.verify) = (ca_file, raw.verify.unwrap_or(true));
            (Source::Endpoint(e), at)
        }
        (Some(path), Some(_)) => {
            let why = "a [[certificates]] entry has a path or an endpoint, not both";
            return Err(loc.at(path.span().start, why.into()));
        }
        (None, None) => {
            let why =
                "a [[certificates]] entry needs a path (PEM files) or an endpoint (host:port)";
            return Err(loc.at(entry, why.into()));
        }
    };
    let warning = loc.bounded(&raw.warning_days, "certificates.warning_days", 1..=365, 14)?;
    let critical = loc.bounded(&raw.critical_days, "certificates.critical_days", 0..=365, 3)?;
    if critical > warning {
        let at = raw.critical_days.as_ref().map_or(at, |c| c.span().start);
        return Err(loc.at(
            at,
            format!(
                "certificates.critical_days = {critical} is more than warning_days = {warning}"
            ),
        ));
    }
    Ok(Watched {
        source,
        warning_days: warning as f64,
        critical_days: critical as f64,
    })
}

fn files(raw: Spanned<String>, loc: &Locator) -> Result<String, ConfigError> {
    let at = raw.span().start;
    let path = raw.into_inner();
    if !path.starts_with('/') {
        return Err(loc.at(
            at,
            format!("certificates.path = {path:?} must be an absolute path or glob"),
        ));
    }
    if let Err(e) = glob::Pattern::new(&path) {
        return Err(loc.at(
            at,
            format!("certificates.path = {path:?} is not a glob: {e}"),
        ));
    }
    Ok(path)
}

fn absolute(raw: Spanned<String>, loc: &Locator) -> Result<PathBuf, ConfigError> {
    let at = raw.span().start;
    match raw.into_inner() {
        p if p.starts_with('/') => Ok(PathBuf::from(p)),
        p => Err(loc.at(at, format!("certificates.ca_file = {p:?} must be absolute"))),
    }
}

/// "host:port", "[2001:db8::1]:443": a host name (sent as SNI) or an address, and a port.
fn parse_endpoint(raw: Spanned<String>, loc: &Locator) -> Result<Endpoint, ConfigError> {
    let at = raw.span().start;
    let text = raw.into_inner();
    let bad = |why: &str| loc.at(at, format!("certificates.endpoint = {text:?} {why}"));
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| bad("needs a port: host:port"))?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .ok_or_else(|| bad("has an unclosed ["))?,
        None if host.contains(':') => {
            return Err(bad("is an IPv6 address: write it as [addr]:port"))
        }
        None => host,
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| bad("has no port 1-65535"))?;
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || !host.chars().all(fine) {
        return Err(bad("is not a host name or address"));
    }
    Ok(Endpoint {
        host: host.to_string(),
        port,
        ca_file: None,
        verify: true,
    })
}
