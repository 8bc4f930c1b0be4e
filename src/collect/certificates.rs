//! The certificates the admin names (`[[certificates]]` path globs, such as
//! "/etc/letsencrypt/live/*/cert.pem"): for the first certificate in each PEM file,
//! its subject, names, issuer, expiry and days left. Let's Encrypt stopped mailing
//! expiry warnings in 2025; this is where they went.
//!
//! Files are read only if regular (symlinks followed: certbot's live/ are links),
//! up to 1 MiB; a file that cannot be read or parsed is an `errors` entry, the
//! others still report. Parsed with x509-parser.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::regular::{self, Links};
use crate::zone::Zone;

/// One `[[certificates]]` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    /// A path or a glob of paths to PEM files.
    pub path: String,
    /// Fewer days left than this is a warning…
    pub warning_days: f64,
    /// …and than this (or expired) critical.
    pub critical_days: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Certificate {
    pub path: String,
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
}

/// Every certificate the entries name, by path; and what could not be read.
pub fn collect(
    watched: &[Watched],
    now: DateTime<Utc>,
    zone: &Zone,
) -> (Vec<Certificate>, Vec<String>) {
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for w in watched {
        let paths: Vec<PathBuf> = match glob::glob(&w.path) {
            Ok(paths) => paths.flatten().collect(),
            Err(e) => {
                failures.push(format!("{}: not a path or a glob: {e}", w.path));
                continue;
            }
        };
        if paths.is_empty() {
            failures.push(format!("{}: no such file", w.path));
        }
        for path in paths {
            match read(&path, now, zone) {
                Ok(mut c) => {
                    (c.warning_days, c.critical_days) = (w.warning_days, w.critical_days);
                    found.push(c);
                }
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    found.sort_by(|a, b| a.days_left.total_cmp(&b.days_left));
    (found, failures)
}

fn read(path: &std::path::Path, now: DateTime<Utc>, zone: &Zone) -> Result<Certificate, String> {
    let bytes = regular::read(path, 1 << 20, Links::Follow).map_err(|e| e.to_string())?;
    let mut c = parse(&bytes, now, zone)?;
    c.path = path.display().to_string();
    Ok(c)
}

/// The first certificate of a PEM text.
pub fn parse(pem: &[u8], now: DateTime<Utc>, zone: &Zone) -> Result<Certificate, String> {
    let first = x509_parser::pem::Pem::iter_from_buffer(pem)
        .next()
        .ok_or("no PEM certificate in it")?
        .map_err(|e| format!("not PEM: {e}"))?;
    let cert = first
        .parse_x509()
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
        path: String::new(),
        subject: common_name(cert.subject()),
        names,
        issuer: common_name(cert.issuer()),
        not_after: zone.rfc3339(expires),
        days_left: (expires - now).num_seconds() as f64 / 86_400.0,
        warning_days: 0.0,
        critical_days: 0.0,
    })
}
