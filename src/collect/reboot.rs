//! Whether the host wants a reboot: Debian's and Ubuntu's `/run/reboot-required`
//! (written by package scripts; its time is since when) and the packages in
//! `/run/reboot-required.pkgs`; on RHEL-like hosts `needs-restarting -r` (exit 1:
//! required). Services running old libraries come from `needrestart -b` where it is
//! installed.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::command;
use super::CollectError;
use crate::zone::Zone;

/// Packages and services listed; more are counted.
const LISTED: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reboot {
    pub required: bool,
    /// Since when (RFC 3339), and how many days; None when not known.
    pub since: Option<String>,
    pub days: Option<f64>,
    /// The packages that asked for it.
    pub packages: Vec<String>,
    /// Services running outdated code (needrestart), to restart without a reboot.
    pub services: Vec<String>,
    /// Where the answer came from: "/run/reboot-required", "needs-restarting", "none".
    pub source: String,
}

pub fn collect(
    run: &Path,
    timeout: Duration,
    now: DateTime<Utc>,
    zone: &Zone,
) -> Result<Reboot, CollectError> {
    let flag = run.join("reboot-required");
    let mut reboot = Reboot {
        source: "none".into(),
        services: needrestart(timeout),
        ..Default::default()
    };
    if let Ok(meta) = std::fs::symlink_metadata(&flag) {
        let since: Option<DateTime<Utc>> = meta.modified().ok().map(Into::into);
        reboot.required = true;
        reboot.source = flag.display().to_string();
        reboot.since = since.map(|t| zone.rfc3339(t));
        reboot.days = since.map(|t| (now - t).num_seconds().max(0) as f64 / 86_400.0);
        let pkgs = crate::regular::read(
            &run.join("reboot-required.pkgs"),
            1 << 20,
            crate::regular::Links::Refuse,
        )
        .unwrap_or_default();
        reboot.packages = packages(&String::from_utf8_lossy(&pkgs));
    } else if let Some(required) = needs_restarting(timeout) {
        reboot.required = required;
        reboot.source = "needs-restarting -r".into();
    }
    Ok(reboot)
}

/// The package names, once each, in order, at most `LISTED`.
pub fn packages(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for name in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !seen.iter().any(|s| s == name) && seen.len() < LISTED {
            seen.push(name.to_string());
        }
    }
    seen
}

/// RHEL's answer: exit 1 is "reboot required", 0 "not"; None without the tool.
fn needs_restarting(timeout: Duration) -> Option<bool> {
    let argv = ["needs-restarting", "-r"];
    let (done, _) = command::run_keeping(&argv, timeout, 4096).ok()?;
    match done.code {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    }
}

/// The services `needrestart -b` (batch mode) names; none without it.
fn needrestart(timeout: Duration) -> Vec<String> {
    let argv = ["needrestart", "-b"];
    match command::run_keeping(&argv, timeout, 64 * 1024) {
        Ok((done, out)) if done.code == Some(0) => services(&String::from_utf8_lossy(&out)),
        _ => Vec::new(),
    }
}

/// `NEEDRESTART-SVC: name` lines.
pub fn services(text: &str) -> Vec<String> {
    packages(
        &text
            .lines()
            .filter_map(|l| l.strip_prefix("NEEDRESTART-SVC:"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_once_each_and_needrestart_services() {
        assert_eq!(
            packages("linux-image-6.1.0-26-amd64\nlibc6\nlibc6\n\n"),
            ["linux-image-6.1.0-26-amd64", "libc6"]
        );
        // needrestart 3.6 (Debian 12), `needrestart -b`.
        let batch = "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.1.0-9-amd64\nNEEDRESTART-KEXP: 6.1.0-26-amd64\nNEEDRESTART-KSTA: 3\nNEEDRESTART-SVC: nginx.service\nNEEDRESTART-SVC: ssh.service\n";
        assert_eq!(services(batch), ["nginx.service", "ssh.service"]);
    }

    #[test]
    fn the_flag_file_says_required_since_its_time_with_its_packages() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("reboot-required"),
            "*** System restart required ***\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("reboot-required.pkgs"),
            "libc6\nlinux-base\n",
        )
        .unwrap();
        let written: DateTime<Utc> = std::fs::metadata(dir.path().join("reboot-required"))
            .unwrap()
            .modified()
            .unwrap()
            .into();
        let now = written + chrono::TimeDelta::days(9);
        let r = collect(dir.path(), Duration::from_secs(5), now, &Zone::utc()).unwrap();
        assert!(r.required);
        assert_eq!(r.packages, ["libc6", "linux-base"]);
        assert!((r.days.unwrap() - 9.0).abs() < 0.01, "{r:?}");
        let none = tempfile::tempdir().unwrap();
        let r = collect(none.path(), Duration::from_secs(5), now, &Zone::utc()).unwrap();
        assert!(!r.required, "{r:?}");
    }
}
