//! Pending package updates, as apt would install them: `apt-get -s dist-upgrade`
//! (a simulation: no root, no lock, nothing changed; never `apt-get update`, whose
//! schedule is the admin's), each `Inst` line a package, those from a `*-security`
//! suite counted apart, those kept back counted as held; and how old the package
//! lists are (apt's update-success stamp, else the newest list file).
//!
//! apt's resolver takes seconds of CPU (2.6 s on a Debian 12 host with 117
//! upgrades), and its answer changes only when dpkg's status, the package lists or
//! apt's configuration do: the answer is cached in the state directory under the
//! times and sizes of those files (`updates-cache.json`), and asked again only when
//! one of them changed. A cache of a pure answer, so previews may write it too.
//!
//! When a security update was first seen is kept with the report's counters (table
//! `updates`, across reboots), so "pending for 9 days" survives restarts. Hosts
//! without apt ask dnf or yum (`dnf.rs`); hosts with none of them get `unavailable`
//! and the reason (a line, no level).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::command;
use super::counters::Table;
pub use super::packages::{Package, Simulation};
use super::CollectError;
use crate::zone::Zone;

/// Packages listed; the counts cover them all.
pub const LISTED: usize = 50;
/// apt's output for a few thousand upgrades fits; more is cut, not read into memory.
const OUTPUT_MAX: usize = 4 << 20;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Updates {
    /// The package manager asked: "apt", "dnf" or "yum".
    pub manager: String,
    /// Why there is no list on this host (no apt); None where there is one.
    pub unavailable: Option<String>,
    pub total: usize,
    pub security: usize,
    /// Kept back: held, or needing a removal dist-upgrade would not make.
    pub held: usize,
    /// Security first, then by name; at most `LISTED`.
    pub packages: Vec<Package>,
    /// When the package lists were last updated (RFC 3339), and how long ago.
    pub lists_updated: Option<String>,
    pub lists_age_days: Option<f64>,
    /// Since when the oldest pending security update has been waiting (seen by a
    /// report), and for how many days.
    pub security_since: Option<String>,
    pub security_days: Option<f64>,
}

/// apt's answer: from `cache` when apt's files have not changed since it was
/// written, else asked (and cached); `earlier`: the previous report's `updates`
/// table (first-seen times).
pub fn collect(
    timeout: Duration,
    cache: Option<&Path>,
    earlier: Option<&Table>,
    now: DateTime<Utc>,
    zone: &Zone,
) -> Result<(Updates, Table), CollectError> {
    let Some(dirs) = apt_dirs(timeout) else {
        return rpm_host(timeout, earlier, now, zone);
    };
    let key = state_of(&dirs);
    let simulation = match cache.and_then(|c| read_cache(c, &key)) {
        Some(simulation) => simulation,
        None => {
            let simulation = simulate(timeout)?;
            if let Some(path) = cache {
                write_cache(path, &key, &simulation);
            }
            simulation
        }
    };
    let stamp = Path::new(&dirs["STATE"]).join("periodic/update-success-stamp");
    let lists = modified(&stamp).or_else(|| newest_in(Path::new(&dirs["LISTS"])));
    Ok(report("apt", simulation, lists, earlier, now, zone))
}

/// dnf's or yum's answer where there is no apt; where there is neither, nothing to
/// list and nothing wrong (no level, no error).
fn rpm_host(
    timeout: Duration,
    earlier: Option<&Table>,
    now: DateTime<Utc>,
    zone: &Zone,
) -> Result<(Updates, Table), CollectError> {
    let Some((manager, simulation, age_days)) = super::dnf::collect(timeout)? else {
        let none = Updates {
            unavailable: Some("no apt, dnf or yum on this host".into()),
            ..Default::default()
        };
        return Ok((none, Table::new()));
    };
    let checked = age_days.map(|d| now - chrono::TimeDelta::seconds((d * 86_400.0) as i64));
    Ok(report(&manager, simulation, checked, earlier, now, zone))
}

/// `apt-get -s dist-upgrade`, in the C locale (its words are parsed), parsed.
fn simulate(timeout: Duration) -> Result<Simulation, CollectError> {
    let argv = [
        "env",
        "LC_ALL=C",
        "apt-get",
        "-s",
        "-o",
        "Debug::NoLocking=1",
        "dist-upgrade",
    ];
    let (done, out) = command::run_keeping(&argv, timeout, OUTPUT_MAX)
        .map_err(|e| CollectError::new(format!("apt-get: {e}")))?;
    match (done.timed_out, done.code) {
        (true, _) => Err(CollectError::new(format!(
            "apt-get -s dist-upgrade: no answer within {} s",
            timeout.as_secs()
        ))),
        (_, Some(0)) => Ok(parse(&String::from_utf8_lossy(&out))),
        (_, code) => {
            let text = String::from_utf8_lossy(&out);
            let error = text
                .lines()
                .find(|l| l.starts_with("E:"))
                .map(str::to_string);
            let why = error.unwrap_or_else(|| format!("exit status {code:?}"));
            Err(CollectError::new(format!("apt-get -s dist-upgrade: {why}")))
        }
    }
}

/// The cache file's contents.
#[derive(Serialize, Deserialize)]
struct Cached {
    key: String,
    simulation: Simulation,
}

fn read_cache(path: &Path, key: &str) -> Option<Simulation> {
    let bytes =
        crate::regular::read(path, OUTPUT_MAX as u64, crate::regular::Links::Refuse).ok()?;
    let cached: Cached = serde_json::from_slice(&bytes).ok()?;
    (cached.key == key).then_some(cached.simulation)
}

fn write_cache(path: &Path, key: &str, simulation: &Simulation) {
    let cached = serde_json::json!({"key": key, "simulation": simulation});
    match crate::atomic::write(path, &[cached.to_string().as_bytes()]) {
        Ok(()) => {}
        // No state directory yet (a preview on a fresh host makes none): nothing to
        // keep the cache in, and nothing wrong.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!("no state directory to cache apt's answer in: {e}")
        }
        Err(e) => tracing::warn!("cannot cache apt's answer in {}: {e}", path.display()),
    }
}

/// The times and sizes of what apt's answer depends on: dpkg's status, the lists
/// directory (apt update renames files into it), and apt's configuration (sources,
/// pins, apt.conf.d).
fn state_of(dirs: &BTreeMap<String, String>) -> String {
    use std::os::unix::fs::MetadataExt;
    let etc = Path::new(&dirs["ETC"]);
    let paths = [
        PathBuf::from(&dirs["STATUS"]),
        PathBuf::from(&dirs["LISTS"]),
        etc.to_path_buf(),
        etc.join("sources.list"),
        etc.join("sources.list.d"),
        etc.join("preferences.d"),
        etc.join("apt.conf.d"),
    ];
    let stat = |p: &PathBuf| match std::fs::metadata(p) {
        Ok(m) => format!(
            "{}:{}.{}:{}",
            p.display(),
            m.mtime(),
            m.mtime_nsec(),
            m.size()
        ),
        Err(_) => format!("{}:-", p.display()),
    };
    paths.iter().map(stat).collect::<Vec<_>>().join(" ")
}

/// The section from what apt said, when its lists were updated, and when each
/// pending security update was first seen (returned as the table to keep).
pub fn report(
    manager: &str,
    simulation: Simulation,
    lists: Option<DateTime<Utc>>,
    earlier: Option<&Table>,
    now: DateTime<Utc>,
    zone: &Zone,
) -> (Updates, Table) {
    let time = |t: DateTime<Utc>| zone.rfc3339(t);
    let days = |t: DateTime<Utc>| (now - t).num_seconds().max(0) as f64 / 86_400.0;
    let mut seen = Table::new();
    for p in simulation.packages.iter().filter(|p| p.security) {
        let key = format!("{} {}", p.name, p.candidate);
        let first = earlier
            .and_then(|t| t.get(&key))
            .and_then(|v| v.first().copied());
        seen.insert(key, vec![first.unwrap_or(now.timestamp().max(0) as u64)]);
    }
    let oldest = seen
        .values()
        .filter_map(|v| v.first())
        .min()
        .and_then(|t| DateTime::from_timestamp(*t as i64, 0));
    let mut packages = simulation.packages;
    let (total, security) = (
        packages.len(),
        packages.iter().filter(|p| p.security).count(),
    );
    packages.sort_by(|a, b| b.security.cmp(&a.security).then(a.name.cmp(&b.name)));
    packages.truncate(LISTED);
    let updates = Updates {
        manager: manager.into(),
        unavailable: None,
        total,
        security,
        held: simulation.held,
        packages,
        lists_updated: lists.map(time),
        lists_age_days: lists.map(days),
        security_since: oldest.map(time),
        security_days: oldest.map(days),
    };
    (updates, seen)
}

/// `apt-get -s` output: `Inst name [installed] (candidate origin, origin [arch])`
/// lines, and the names under "have been kept back".
pub fn parse(text: &str) -> Simulation {
    let mut simulation = Simulation::default();
    let mut in_kept_back = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Inst ") {
            simulation.packages.extend(inst(rest));
            in_kept_back = false;
        } else if line.starts_with("The following packages have been kept back") {
            in_kept_back = true;
        } else if in_kept_back && line.starts_with(' ') {
            simulation.held += line.split_whitespace().count();
        } else {
            in_kept_back = false;
        }
    }
    simulation
}

/// One `Inst` line after the word.
fn inst(rest: &str) -> Option<Package> {
    let (name, rest) = rest.split_once(' ')?;
    let (installed, rest) = match rest.strip_prefix('[') {
        Some(r) => {
            let (version, rest) = r.split_once("] ")?;
            (Some(version.to_string()), rest)
        }
        None => (None, rest),
    };
    let inside = rest.strip_prefix('(')?.split(')').next()?;
    let (candidate, origins) = inside.split_once(' ')?;
    // "Debian:12.7/stable, Debian-Security:12/stable-security [amd64]"
    let origins = origins.rsplit_once(" [").map_or(origins, |(o, _)| o);
    let security = origins.split(", ").any(|o| {
        let suite = o.rsplit('/').next().unwrap_or(o);
        suite.ends_with("-security") || o.contains("-Security:")
    });
    Some(Package {
        name: name.to_string(),
        installed,
        candidate: candidate.to_string(),
        security,
        origin: origins.to_string(),
    })
}

/// Where apt keeps its state, lists, dpkg status and configuration, as apt-config
/// says (`APT_CONFIG` and `-o Dir=` move them); None without apt.
fn apt_dirs(timeout: Duration) -> Option<BTreeMap<String, String>> {
    let argv = [
        "apt-config",
        "shell",
        "STATE",
        "Dir::State/d",
        "LISTS",
        "Dir::State::lists/d",
        "STATUS",
        "Dir::State::status/f",
        "ETC",
        "Dir::Etc/d",
    ];
    let (done, out) = command::run_keeping(&argv, timeout, 4096).ok()?;
    let dirs = shell_values(&String::from_utf8_lossy(&out));
    let complete = ["STATE", "LISTS", "STATUS", "ETC"]
        .iter()
        .all(|k| dirs.contains_key(*k));
    (done.code == Some(0) && complete).then_some(dirs)
}

/// `NAME='value'` lines, as `apt-config shell` prints them.
fn shell_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let (name, value) = l.split_once('=')?;
            Some((name.to_string(), value.trim_matches('\'').to_string()))
        })
        .collect()
}

fn modified(path: &Path) -> Option<DateTime<Utc>> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(time.into())
}

/// The newest `*Release` file in `dir`: when an `apt-get update` last fetched one.
fn newest_in(dir: &Path) -> Option<DateTime<Utc>> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("Release"))
        .filter_map(|e| modified(&e.path()))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `apt-get -s dist-upgrade` on Debian 12 (apt 2.6.1), 2026-11-26,
    /// with a kept-back section added from the same apt's wording.
    const DEBIAN_12: &str = "Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages have been kept back:
  linux-image-amd64 nvidia-driver
The following packages will be upgraded:
  base-files libssl3
2 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u3 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst newdep (1.0-1 Debian:12.15/oldstable [all])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Conf libssl3 (3.0.17-1~deb12u3 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
";

    #[test]
    fn inst_lines_are_packages_and_security_is_told_by_its_suite() {
        let s = parse(DEBIAN_12);
        assert_eq!(s.held, 2);
        let names: Vec<(&str, Option<&str>, &str, bool)> = s
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.installed.as_deref(),
                    p.candidate.as_str(),
                    p.security,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("base-files", Some("12.4+deb12u11"), "12.4+deb12u15", false),
                (
                    "libssl3",
                    Some("3.0.15-1~deb12u1"),
                    "3.0.17-1~deb12u3",
                    true
                ),
                ("newdep", None, "1.0-1", false),
            ]
        );
        assert_eq!(
            s.packages[1].origin,
            "Debian:12.15/oldstable, Debian-Security:12/oldstable-security"
        );
    }

    #[test]
    fn ubuntu_security_pockets_count_too() {
        let s = parse("Inst openssl [3.0.2-0ubuntu1.15] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])\n");
        assert!(s.packages[0].security);
    }

    #[test]
    fn a_security_update_keeps_the_time_it_was_first_seen() {
        let zone = Zone::utc();
        let day1: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
        let day9: DateTime<Utc> = "2026-11-28T08:00:00Z".parse().unwrap();
        let (first, kept) = report("apt", parse(DEBIAN_12), Some(day1), None, day1, &zone);
        assert_eq!((first.total, first.security, first.held), (3, 1, 2));
        assert_eq!(first.packages[0].name, "libssl3", "security first");
        assert_eq!(first.security_days, Some(0.0));
        let (later, _) = report(
            "apt",
            parse(DEBIAN_12),
            Some(day1),
            Some(&kept),
            day9,
            &zone,
        );
        assert_eq!(
            later.security_since.as_deref(),
            Some("2026-11-20T08:00:00+00:00")
        );
        assert_eq!(later.security_days, Some(8.0));
        assert_eq!(later.lists_age_days, Some(8.0));
    }

    #[test]
    fn apt_config_shell_output_is_read() {
        let v = shell_values("STATE='/var/lib/apt/'\nLISTS='/var/lib/apt/lists/'\n");
        assert_eq!(v["LISTS"], "/var/lib/apt/lists/");
    }
}
