//! Pending updates on RPM hosts: `dnf check-update` (yum's where there is no dnf: the
//! same output), security ones from `dnf updateinfo list --security`, installed
//! versions from `rpm -q`. Always `--cacheonly`: from the metadata the system's own
//! timer (dnf-makecache) fetched, never the network, never root. How old that
//! metadata is comes from dnf's "Last metadata expiration check" line.

use std::collections::BTreeSet;
use std::time::Duration;

use super::command;
use super::packages::{Package, Simulation};
use super::CollectError;

const OUTPUT_MAX: usize = 4 << 20;

/// What dnf (or yum) said, and how long ago its metadata was checked; None where
/// neither is installed.
pub fn collect(
    timeout: Duration,
) -> Result<Option<(String, Simulation, Option<f64>)>, CollectError> {
    for manager in ["dnf", "yum"] {
        let Some(listed) = run(manager, &["--cacheonly", "check-update"], timeout)? else {
            continue;
        };
        let (code, text) = listed;
        if code != Some(0) && code != Some(100) {
            let why = text
                .lines()
                .find(|l| l.starts_with("Error"))
                .map_or_else(|| format!("exit status {code:?}"), str::to_string);
            return Err(CollectError::new(format!("{manager} check-update: {why}")));
        }
        let mut simulation = Simulation {
            packages: check_update(&text),
            held: 0,
        };
        let security = match run(
            manager,
            &["--cacheonly", "updateinfo", "list", "--security"],
            timeout,
        )? {
            Some((Some(0), said)) => security_names(&said),
            _ => BTreeSet::new(),
        };
        let names: Vec<String> = simulation.packages.iter().map(|p| p.name.clone()).collect();
        let installed = installed(&names, timeout);
        for p in simulation.packages.iter_mut() {
            p.security = security.contains(&p.name);
            p.installed = installed
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| v.clone());
        }
        return Ok(Some((
            manager.to_string(),
            simulation,
            metadata_age_days(&text),
        )));
    }
    Ok(None)
}

/// `env LC_ALL=C <manager> <args>`: its exit code and output; None when it is not
/// installed (env's 127, or no env at all).
fn run(
    manager: &str,
    args: &[&str],
    timeout: Duration,
) -> Result<Option<(Option<i32>, String)>, CollectError> {
    let mut argv = vec!["env", "LC_ALL=C", manager];
    argv.extend(args);
    // Neither env nor the manager can be run: not installed, as far as a report goes.
    let Ok((done, out)) = command::run_keeping(&argv, timeout, OUTPUT_MAX) else {
        return Ok(None);
    };
    if done.timed_out {
        let why = format!(
            "{manager} {}: no answer within {} s",
            args.join(" "),
            timeout.as_secs()
        );
        return Err(CollectError::new(why));
    }
    if done.code == Some(127) {
        return Ok(None);
    }
    Ok(Some((
        done.code,
        String::from_utf8_lossy(&out).into_owned(),
    )))
}

/// `check-update`'s table: "name.arch  version  repository" rows (a long name on a
/// line of its own, the rest on the next), up to "Obsoleting Packages".
pub fn check_update(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    let mut wrapped: Option<&str> = None;
    for line in text.lines() {
        if line.starts_with("Obsoleting Packages") {
            break;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let row = match (wrapped.take(), words.as_slice()) {
            (Some(name), [version, repo]) => [name, *version, *repo],
            (None, [name]) if !line.starts_with(char::is_whitespace) && name.contains('.') => {
                wrapped = Some(name);
                continue;
            }
            (_, [name, version, repo]) => [*name, *version, *repo],
            _ => continue,
        };
        packages.extend(package(row));
    }
    packages
}

/// One row: a name with its architecture, a version (digits first, or an epoch), a
/// repository. Other three-word lines (messages) are not rows.
fn package([name_arch, version, repo]: [&str; 3]) -> Option<Package> {
    let (name, _arch) = name_arch.rsplit_once('.')?;
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| Package {
            name: name.to_string(),
            installed: None,
            candidate: version.to_string(),
            security: false,
            origin: repo.to_string(),
        })
}

/// The package names of `updateinfo list --security` rows: "ADVISORY SEVERITY NEVRA".
pub fn security_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let [_, _, nevra] = words.as_slice() else {
                return None;
            };
            name_of(nevra)
        })
        .collect()
}

/// The name of "name-[epoch:]version-release.arch".
fn name_of(nevra: &str) -> Option<String> {
    let (nevr, _arch) = nevra.rsplit_once('.')?;
    let (nev, _release) = nevr.rsplit_once('-')?;
    let (name, _version) = nev.rsplit_once('-')?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Installed versions by name (`rpm -q`; a name installed twice, as kernels are,
/// keeps the last).
fn installed(names: &[String], timeout: Duration) -> Vec<(String, String)> {
    if names.is_empty() {
        return Vec::new();
    }
    let mut argv = vec![
        "rpm",
        "-q",
        "--qf",
        "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n",
        "--",
    ];
    argv.extend(names.iter().map(String::as_str));
    let Ok((_, out)) = command::run_keeping(&argv, timeout, OUTPUT_MAX) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Days since "Last metadata expiration check: 1 day, 2:03:04 ago on …".
pub fn metadata_age_days(text: &str) -> Option<f64> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Last metadata expiration check: "))?;
    let ago = line.split(" ago").next()?;
    let (days, clock) = match ago.split_once(", ") {
        Some((d, c)) => (d.split_whitespace().next()?.parse::<f64>().ok()?, c),
        None => (0.0, ago),
    };
    let parts: Vec<f64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    Some(days + (h * 3600.0 + m * 60.0 + s) / 86_400.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::collect::fixture(&format!("dnf-4.14/{name}"))
    }

    #[test]
    fn check_update_rows_and_the_metadata_age() {
        let text = fixture("check-update.txt");
        let rows: Vec<(String, String, String)> = check_update(&text)
            .into_iter()
            .map(|p| (p.name, p.candidate, p.origin))
            .collect();
        let row = |n: &str, v: &str| (n.to_string(), v.to_string(), "local".to_string());
        assert_eq!(
            rows,
            [
                row("hello", "1.1-1"),
                row("openssl-lite", "3.0-2"),
                row(
                    "python3-a-rather-long-package-name-for-wrapping",
                    "1.0-2.el9_3"
                ),
            ]
        );
        assert_eq!(metadata_age_days(&text), Some(2.0 / 86_400.0));
        assert_eq!(
            metadata_age_days(
                "Last metadata expiration check: 3 days, 2:00:00 ago on Mon Nov 23 02:00:00 2026."
            ),
            Some(3.0 + 2.0 / 24.0)
        );
    }

    #[test]
    fn yum_wraps_a_long_name_and_lists_obsoletes_apart() {
        // The layout of yum 3's check-update (CentOS 7) on a narrow terminal.
        let text = "\nNetworkManager-libnm.x86_64           1:1.18.8-2.el7_9          updates\npython-perf-debuginfo-with-a-long-name.x86_64\n                                      3.10.0-1160.119.1.el7     updates\nObsoleting Packages\ngrub2.x86_64                          1:2.02-0.87.el7.centos.11 updates\n";
        let names: Vec<(String, String)> = check_update(text)
            .into_iter()
            .map(|p| (p.name, p.candidate))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "NetworkManager-libnm".to_string(),
                    "1:1.18.8-2.el7_9".to_string()
                ),
                (
                    "python-perf-debuginfo-with-a-long-name".to_string(),
                    "3.10.0-1160.119.1.el7".to_string()
                ),
            ]
        );
    }

    #[test]
    fn security_advisories_name_their_packages() {
        let names = security_names(&fixture("updateinfo-list-security.txt"));
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["openssl-lite"]);
        assert_eq!(
            name_of("openssl-libs-1:3.0.7-25.el9_3.x86_64").as_deref(),
            Some("openssl-libs")
        );
        assert_eq!(name_of("kernel"), None);
    }
}
