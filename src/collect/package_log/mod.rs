//! Packages installed, upgraded and removed since the previous report, from the
//! package manager's own log: dpkg's (/var/log/dpkg.log) or, on RPM hosts, dnf's
//! (/var/log/dnf.rpm.log, which yum 4 writes too), and their `.1` when the period
//! reaches back past a rotation. Nothing to judge: what changed is listed, the admin
//! knows whether it should have.

mod dnf;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::CollectError;
use crate::regular::{self, Links};
use crate::zone::Zone;

/// How a package log is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    /// "2026-11-26 04:00:02 upgrade hello:all 1.0 1.1", in the host's local time.
    Dpkg,
    /// "2026-11-26T04:00:02+0000 SUBDEBUG Upgrade: hello-3.0-2.noarch", then the
    /// version it replaced as "Upgraded: hello-3.0-1.noarch".
    Dnf,
}

/// The logs looked for, in order; the first one there is read.
pub const LOGS: [(&str, Format); 2] = [
    ("/var/log/dpkg.log", Format::Dpkg),
    ("/var/log/dnf.rpm.log", Format::Dnf),
];
/// `LOGS`, as the collector's settings hold them.
pub fn logs() -> Vec<(PathBuf, Format)> {
    LOGS.iter().map(|(p, f)| (PathBuf::from(p), *f)).collect()
}

/// Changes listed; the counts cover them all.
pub const LISTED: usize = 50;
/// dpkg.log grows by a few hundred KB a month; a larger one is read from its end.
const READ_MAX: u64 = 32 << 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Packages {
    /// The log read ("/var/log/dpkg.log", "/var/log/dnf.rpm.log"); None where there is none.
    pub log: Option<String>,
    pub installed: usize,
    pub upgraded: usize,
    pub removed: usize,
    /// The latest changes, oldest first.
    pub changes: Vec<Change>,
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Change {
    pub time: String,
    /// "install", "upgrade", "remove", "purge"; dnf's "downgrade" too.
    pub action: String,
    pub package: String,
    /// The version before ("<none>" for a new package) and after.
    pub from: String,
    pub to: String,
}

/// The changes logged after `since` and until `now`, from the first of `logs` there.
pub fn collect(
    logs: &[(PathBuf, Format)],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: &Zone,
) -> Result<Packages, CollectError> {
    let Some((log, format)) = logs.iter().find(|(log, _)| log.exists()) else {
        let names: Vec<String> = logs.iter().map(|(l, _)| l.display().to_string()).collect();
        return Ok(Packages {
            unavailable: Some(format!("none of {} (no dpkg or dnf)", names.join(", "))),
            ..Default::default()
        });
    };
    let mut lines = Vec::new();
    for path in [rotated(log), log.to_path_buf()] {
        let Ok(bytes) = regular::read(&path, READ_MAX, Links::Refuse) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let changes = match format {
            Format::Dpkg => text.lines().filter_map(|l| change(l, zone)).collect(),
            Format::Dnf => dnf::changes(&text, zone),
        };
        lines.extend(changes.into_iter().filter(|(t, _)| *t > since && *t <= now));
    }
    lines.sort_by_key(|(t, _)| *t);
    lines.dedup_by(|a, b| a == b);
    let count = |a: &[&str]| {
        lines
            .iter()
            .filter(|(_, c)| a.contains(&c.action.as_str()))
            .count()
    };
    let (installed, upgraded, removed) = (
        count(&["install"]),
        count(&["upgrade", "downgrade"]),
        count(&["remove", "purge"]),
    );
    let skip = lines.len().saturating_sub(LISTED);
    Ok(Packages {
        log: Some(log.display().to_string()),
        installed,
        upgraded,
        removed,
        changes: lines.into_iter().skip(skip).map(|(_, c)| c).collect(),
        unavailable: None,
    })
}

fn rotated(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// "2026-11-26 04:00:02 upgrade hello:all 1.0 1.1", in the host's local time.
pub fn change(line: &str, zone: &Zone) -> Option<(DateTime<Utc>, Change)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [date, clock, action, package, from, to] = words.as_slice() else {
        return None;
    };
    if !matches!(*action, "install" | "upgrade" | "remove" | "purge") {
        return None;
    }
    let at = super::journal::host_time(&format!("{date} {clock}"), "%Y-%m-%d %H:%M:%S")?;
    Some((
        at,
        Change {
            time: zone.rfc3339(at),
            action: action.to_string(),
            package: super::journal::shown(package),
            from: super::journal::shown(from),
            to: super::journal::shown(to),
        },
    ))
}
