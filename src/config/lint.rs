//! What `--check` says of a config that parses but is probably not what the admin
//! meant: checks that never run, a TLS mode that does not fit the port, addresses
//! left from the example, thresholds for a mount that is not there. Warnings, not
//! errors: the config works, and the admin may mean it. A template directory that
//! would silently fall back to the built-in templates is an error.
//!
//! Pure: what exists on this host is passed in, so it is tested on tables.

use std::path::{Path, PathBuf};

use super::{Config, ConfigError, TlsMode};
use crate::sections::Section;

/// What this host has, for the lint to compare the config with.
pub struct Host<'a> {
    /// The mount table's mount points.
    pub mount_points: &'a [PathBuf],
    pub exists: &'a dyn Fn(&Path) -> bool,
}

/// A `template_dir` that does not exist or holds neither template would give the
/// built-in report without a word: an error.
pub fn template_dir(config: &Config, host: &Host) -> Result<(), ConfigError> {
    let Some(dir) = &config.report.template_dir else {
        return Ok(());
    };
    let has = |name: &str| (host.exists)(&dir.join(name));
    let problem = match ((host.exists)(dir), has("report.html") || has("report.txt")) {
        (false, _) => "does not exist",
        (true, false) => "holds neither report.html nor report.txt",
        (true, true) => return Ok(()),
    };
    Err(ConfigError {
        location: config.origin.clone(),
        message: format!(
            "report.template_dir '{}' {problem}; fix the path, or remove template_dir to use the built-in templates",
            dir.display()
        ),
    })
}

/// Every warning for `config` on this host, each a sentence that says what to do.
pub fn warnings(config: &Config, host: &Host) -> Vec<String> {
    let mut found = Vec::new();
    let sections = &config.report.sections;
    if !config.checks.is_empty() && !sections.shows(Section::Checks) {
        found.push("[[checks]] are configured but report.sections leaves out \"checks\": they never run; add \"checks\" to report.sections".to_string());
    }
    if !config.watches.is_empty() && !sections.shows(Section::Files) {
        found.push("[[watch]] paths are configured but report.sections leaves out \"files\": they are never compared; add \"files\" to report.sections".to_string());
    }
    if let Some(smtp) = &config.smtp {
        for server in &smtp.servers {
            match (smtp.tls, server.port) {
                (TlsMode::Tls, 587 | 25) => found.push(format!(
                    "smtp.tls = \"tls\" with port {} of {}: that port speaks STARTTLS; use tls = \"starttls\"",
                    server.port, server.host
                )),
                (TlsMode::Starttls | TlsMode::None, 465) => found.push(format!(
                    "port 465 of {} expects TLS from the first byte; use tls = \"tls\"",
                    server.host
                )),
                _ => {}
            }
            if is_example(&server.host) {
                found.push(format!(
                    "smtp.host \"{}\" is left from the example; name your relay",
                    server.host
                ));
            }
        }
        let addresses = std::iter::once(&smtp.from).chain(&smtp.to);
        for mailbox in addresses.filter(|m| is_example(m.email.domain())) {
            found.push(format!(
                "{} is an example address; mail to it goes nowhere",
                mailbox.email
            ));
        }
    }
    found.extend(missing_paths(config, host));
    found.extend(thresholds(config, host));
    found
}

/// example.com, .org, .net and their subdomains (RFC 2606).
fn is_example(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

fn missing_paths(config: &Config, host: &Host) -> Vec<String> {
    let filesystems = config.report.filesystems.iter().flatten();
    let watched = config.watches.iter().map(|w| &w.path);
    filesystems
        .map(|p| ("report.filesystems", p))
        .chain(watched.map(|p| ("[[watch]] path", p)))
        .filter(|(_, p)| !(host.exists)(p))
        .map(|(key, p)| format!("{key} {} does not exist on this host", p.display()))
        .collect()
}

fn thresholds(config: &Config, host: &Host) -> Vec<String> {
    let t = &config.thresholds;
    let mut found = Vec::new();
    let percent = [
        ("cpu", &t.cpu),
        ("memory", &t.memory),
        ("swap", &t.swap),
        ("filesystem", &t.filesystem),
        ("inodes", &t.inodes),
    ];
    let mounts = t.filesystems.iter().map(|(m, l)| (m.as_str(), l));
    for (name, levels) in percent.into_iter().chain(mounts) {
        if levels.critical > 100.0 {
            found.push(format!(
                "thresholds {name}: {} is above 100 %, so that level can never be reached",
                levels.critical
            ));
        }
    }
    for mount in t.filesystems.keys() {
        if !host.mount_points.iter().any(|m| m == Path::new(mount)) {
            found.push(format!(
                "thresholds for {mount}: no filesystem is mounted there on this host"
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(text: &str, existing: &[&str]) -> (Vec<String>, Result<(), ConfigError>) {
        let config = Config::parse(text, "config.toml", &|_| None).unwrap();
        let exists = |p: &Path| existing.iter().any(|e| Path::new(e) == p);
        let mounts = [PathBuf::from("/"), PathBuf::from("/var")];
        let host = Host {
            mount_points: &mounts,
            exists: &exists,
        };
        (warnings(&config, &host), template_dir(&config, &host))
    }

    #[test]
    fn a_clean_config_says_nothing() {
        let (warnings, dir) = lint(
            "[smtp]\nhost = \"mx.corp.lan\"\nfrom = \"r@corp.lan\"\nto = [\"a@corp.lan\"]\n[thresholds]\n\"/var\" = [80, 90, 95]\n",
            &[],
        );
        assert_eq!(warnings, Vec::<String>::new());
        assert!(dir.is_ok());
    }

    #[test]
    fn valid_but_wrong_configs_are_named() {
        let (warnings, _) = lint(
            "[report]\nsections = [\"host\"]\nfilesystems = [\"/srv\"]\n\
             [smtp]\nhost = \"smtp.example.com\"\nport = 587\ntls = \"tls\"\nfrom = \"r@example.com\"\nto = [\"a@corp.lan\"]\n\
             [thresholds]\ncpu = [50, 70, 120]\n\"/data\" = [80, 90, 95]\n\
             [[checks]]\nname = \"web\"\ntcp = \"localhost:80\"\n\
             [[watch]]\npath = \"/etc/app\"\n",
            &[],
        );
        assert_eq!(
            warnings,
            [
                "[[checks]] are configured but report.sections leaves out \"checks\": they never run; add \"checks\" to report.sections",
                "[[watch]] paths are configured but report.sections leaves out \"files\": they are never compared; add \"files\" to report.sections",
                "smtp.tls = \"tls\" with port 587 of smtp.example.com: that port speaks STARTTLS; use tls = \"starttls\"",
                "smtp.host \"smtp.example.com\" is left from the example; name your relay",
                "r@example.com is an example address; mail to it goes nowhere",
                "report.filesystems /srv does not exist on this host",
                "[[watch]] path /etc/app does not exist on this host",
                "thresholds cpu: 120 is above 100 %, so that level can never be reached",
                "thresholds for /data: no filesystem is mounted there on this host",
            ]
        );
    }

    #[test]
    fn a_template_dir_without_templates_is_an_error() {
        let text = "[report]\ntemplate_dir = \"/etc/rreport/templates\"\n";
        let (_, dir) = lint(text, &[]);
        assert!(dir
            .unwrap_err()
            .to_string()
            .contains("'/etc/rreport/templates' does not exist"));
        let (_, dir) = lint(text, &["/etc/rreport/templates"]);
        assert!(dir
            .unwrap_err()
            .to_string()
            .contains("holds neither report.html nor report.txt"));
        let (_, dir) = lint(
            text,
            &[
                "/etc/rreport/templates",
                "/etc/rreport/templates/report.txt",
            ],
        );
        assert!(dir.is_ok());
    }
}
