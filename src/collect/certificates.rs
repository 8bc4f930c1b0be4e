//! The certificates the admin names (`[[certificates]]`): PEM files by path glob
//! (such as "/etc/letsencrypt/live/*/cert.pem"), the first certificate of each, and
//! TLS endpoints by host:port, the leaf each presents (see `endpoint`): subject,
//! names, issuer, expiry and days left. Let's Encrypt stopped mailing expiry
//! warnings in 2025; this is where they went.
//!
//! Files are read only if regular (symlinks followed: certbot's live/ are links),
//! up to 1 MiB; a file or endpoint that cannot be read or parsed is an `errors`
//! entry, the others still report. Parsed with x509-parser.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::endpoint;
use crate::regular::{self, Links};
use crate::zone::Zone;

/// One `[[certificates]]` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub source: Source,
    /// Fewer days left than this is a warning…
    pub warning_days: f64,
    /// …and than this (or expired) critical.
    pub critical_days: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A path or a glob of paths to PEM files.
    Files(String),
    Endpoint(Endpoint),
}

/// A TLS server whose certificate is read over the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// A name (also sent as SNI and verified against) or an address.
    pub host: String,
    pub port: u16,
    /// Trusted besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Whether a certificate that does not verify is a warning.
    pub verify: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Certificate {
    /// Where it was read: a file…
    pub path: Option<String>,
    /// …or an endpoint ("host:port").
    pub endpoint: Option<String>,
    /// An endpoint's: whether its certificate verified, and why not.
    pub verified: Option<bool>,
    pub verify_error: Option<String>,
    /// The subject's common name, else the whole subject.
    pub subject: String,
    /// Its DNS names (subjectAltName).
    pub names: Vec<String>,
    pub issuer: String,
    /// When it expires (RFC 3339 in the report's zone), and the days left (negative:
    /// expired that long ago).
    pub not_after: String,
    pub days_left: f64,
    #[serde(skip)]
    pub warning_days: f64,
    #[serde(skip)]
    pub critical_days: f64,
    /// Whether a failed verification is judged.
    #[serde(skip)]
    pub judge_verification: bool,
}

impl Certificate {
    /// Where it was read, for a sentence.
    pub fn place(&self) -> &str {
        self.path
            .as_deref()
            .or(self.endpoint.as_deref())
            .unwrap_or("")
    }
}

/// Every certificate the entries name, soonest to expire first; and what could not
/// be read. `timeout` bounds each endpoint's connection.
pub fn collect(
    watched: &[Watched],
    now: DateTime<Utc>,
    zone: &Zone,
    timeout: Duration,
) -> (Vec<Certificate>, Vec<String>) {
    // Endpoints are read at once, each on its own thread, so one server that never
    // answers costs its own time, not the others'; a little under the collector's
    // timeout, so its error says which.
    let budget = timeout.mul_f64(0.8);
    let read: Vec<(&Watched, Vec<Result<Certificate, String>>)> = std::thread::scope(|scope| {
        let started: Vec<_> = watched
            .iter()
            .map(|w| match &w.source {
                Source::Files(glob) => (w, Pending::Read(files(glob, now, zone))),
                Source::Endpoint(e) => {
                    let reading = scope.spawn(move || served(e, now, zone, budget));
                    (w, Pending::Reading(reading))
                }
            })
            .collect();
        started.into_iter().map(|(w, p)| (w, p.finish())).collect()
    });
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for (w, results) in read {
        for result in results {
            match result {
                Ok(mut c) => {
                    (c.warning_days, c.critical_days) = (w.warning_days, w.critical_days);
                    found.push(c);
                }
                Err(e) => failures.push(e),
            }
        }
    }
    found.sort_by(|a, b| a.days_left.total_cmp(&b.days_left));
    (found, failures)
}

/// A `[[certificates]]` entry's certificates: read (files), or being read (an endpoint).
enum Pending<'scope> {
    Read(Vec<Result<Certificate, String>>),
    Reading(std::thread::ScopedJoinHandle<'scope, Result<Certificate, String>>),
}

impl Pending<'_> {
    fn finish(self) -> Vec<Result<Certificate, String>> {
        match self {
            Pending::Read(read) => read,
            Pending::Reading(t) => vec![t
                .join()
                .unwrap_or_else(|_| Err("the TLS reader panicked".into()))],
        }
    }
}

fn files(glob: &str, now: DateTime<Utc>, zone: &Zone) -> Vec<Result<Certificate, String>> {
    let paths: Vec<PathBuf> = match glob::glob(glob) {
        Ok(paths) => paths.flatten().collect(),
        Err(e) => return vec![Err(format!("{glob}: not a path or a glob: {e}"))],
    };
    if paths.is_empty() {
        return vec![Err(format!("{glob}: no such file"))];
    }
    let read = |path: &PathBuf| {
        let bytes = regular::read(path, 1 << 20, Links::Follow).map_err(|e| e.to_string())?;
        let mut c = parse(&bytes, now, zone)?;
        c.path = Some(path.display().to_string());
        Ok(c)
    };
    let fail = |path: &PathBuf, e: String| format!("{}: {e}", path.display());
    paths
        .iter()
        .map(|p| read(p).map_err(|e| fail(p, e)))
        .collect()
}

fn served(
    e: &Endpoint,
    now: DateTime<Utc>,
    zone: &Zone,
    timeout: Duration,
) -> Result<Certificate, String> {
    let place = match e.host.contains(':') {
        true => format!("[{}]:{}", e.host, e.port),
        false => format!("{}:{}", e.host, e.port),
    };
    let presented = endpoint::read(&e.host, e.port, e.ca_file.as_deref(), timeout)
        .map_err(|why| format!("{place}: {why}"))?;
    let mut c = parse_der(&presented.leaf, now, zone).map_err(|why| format!("{place}: {why}"))?;
    c.endpoint = Some(place);
    c.verified = Some(presented.verified.is_ok());
    c.verify_error = presented.verified.err();
    c.judge_verification = e.verify;
    Ok(c)
}

/// The first certificate of a PEM text.
pub fn parse(pem: &[u8], now: DateTime<Utc>, zone: &Zone) -> Result<Certificate, String> {
    let first = x509_parser::pem::Pem::iter_from_buffer(pem)
        .next()
        .ok_or("no PEM certificate in it")?
        .map_err(|e| format!("not PEM: {e}"))?;
    parse_der(&first.contents, now, zone)
}

/// A DER certificate.
pub fn parse_der(der: &[u8], now: DateTime<Utc>, zone: &Zone) -> Result<Certificate, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let common_name = |name: &x509_parser::x509::X509Name| {
        name.iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map_or_else(|| name.to_string(), str::to_string)
    };
    let names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let expires = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or("an expiry date out of range")?;
    Ok(Certificate {
        subject: common_name(cert.subject()),
        names,
        issuer: common_name(cert.issuer()),
        not_after: zone.rfc3339(expires),
        days_left: (expires - now).num_seconds() as f64 / 86_400.0,
        ..Default::default()
    })
}
