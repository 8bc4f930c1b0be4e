//! `[[checks]]`: the admin's health checks, one kind each.
//!
//! ```toml
//! [[checks]]
//! name = "nginx"
//! process = "nginx"          # or cmdline = "regex", or both
//! min = 1                    # default 1; max has no default
//!
//! [[checks]]
//! name = "replica set"
//! command = ["mongosh", "--quiet", "--eval", "rs.status().ok"]
//! timeout_secs = 10
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::collect::checks::{Check, Probe};

const KINDS: &str = "process (or cmdline), pidfile, tcp, systemd or command";
pub const DEFAULT_TIMEOUT_SECS: u64 = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    name: Option<Spanned<String>>,
    process: Option<Spanned<String>>,
    cmdline: Option<Spanned<String>>,
    min: Option<Spanned<u64>>,
    max: Option<Spanned<u64>>,
    pidfile: Option<Spanned<PathBuf>>,
    tcp: Option<Spanned<String>>,
    systemd: Option<Spanned<String>>,
    command: Option<Spanned<Argv>>,
    shell: Option<Spanned<bool>>,
    timeout_secs: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Argv {
    Line(String),
    Words(Vec<String>),
}

pub(super) fn check_all(
    raw: Vec<Spanned<RawCheck>>,
    loc: &Locator,
) -> Result<Vec<Check>, ConfigError> {
    let mut checks: Vec<Check> = Vec::new();
    for raw in raw {
        let start = raw.span().start;
        let check = check_one(raw.into_inner(), start, loc)?;
        if checks.iter().any(|c| c.name == check.name) {
            return Err(loc.at(
                start,
                format!(
                    "two checks are named '{}'; names must differ, they label the report's lines",
                    check.name
                ),
            ));
        }
        checks.push(check);
    }
    Ok(checks)
}

fn check_one(mut raw: RawCheck, start: usize, loc: &Locator) -> Result<Check, ConfigError> {
    let name = match raw.name.take() {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(loc.at(n.span().start, "checks.name is empty".into()))
        }
        Some(n) => n.into_inner(),
        None => return Err(loc.at(start, "a [[checks]] entry needs a name".into())),
    };
    let timeout = Duration::from_secs(loc.bounded(
        &raw.timeout_secs,
        "timeout_secs",
        1..=3600,
        DEFAULT_TIMEOUT_SECS,
    )?);
    let probe = probe(raw, &name, start, loc)?;
    Ok(Check {
        name,
        probe,
        timeout,
    })
}

/// The one kind of check `raw` defines, refusing none, several, and keys that
/// belong to another kind.
fn probe(raw: RawCheck, name: &str, start: usize, loc: &Locator) -> Result<Probe, ConfigError> {
    let is_process = raw.process.is_some() || raw.cmdline.is_some();
    let kinds = [
        is_process,
        raw.pidfile.is_some(),
        raw.tcp.is_some(),
        raw.systemd.is_some(),
        raw.command.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(loc.at(
            start,
            format!("check '{name}' has more than one kind; give exactly one of {KINDS}"),
        ));
    }
    refuse_misplaced(&raw, is_process, loc)?;
    if is_process {
        process(name, raw.process, raw.cmdline, raw.min, raw.max, loc)
    } else if let Some(path) = raw.pidfile {
        if !path.get_ref().is_absolute() {
            return Err(loc.at(
                path.span().start,
                "checks.pidfile must be an absolute path".into(),
            ));
        }
        Ok(Probe::Pidfile(path.into_inner()))
    } else if let Some(address) = raw.tcp {
        tcp(address, loc)
    } else if let Some(unit) = raw.systemd {
        if unit.get_ref().trim().is_empty() || unit.get_ref().starts_with('-') {
            return Err(loc.at(
                unit.span().start,
                "checks.systemd must name a unit, such as \"nginx.service\"".into(),
            ));
        }
        Ok(Probe::Systemd(unit.into_inner()))
    } else if let Some(argv) = raw.command {
        command(argv, raw.shell, loc)
    } else {
        Err(loc.at(
            start,
            format!("check '{name}' has no kind; give one of {KINDS}"),
        ))
    }
}

/// `min`/`max` belong to a process check and `shell` to a command check.
fn refuse_misplaced(raw: &RawCheck, is_process: bool, loc: &Locator) -> Result<(), ConfigError> {
    let misplaced = [
        (
            "min",
            raw.min.as_ref().map(|v| v.span()),
            !is_process,
            "a process",
        ),
        (
            "max",
            raw.max.as_ref().map(|v| v.span()),
            !is_process,
            "a process",
        ),
        (
            "shell",
            raw.shell.as_ref().map(|v| v.span()),
            raw.command.is_none(),
            "a command",
        ),
    ];
    match misplaced.iter().find(|m| m.1.is_some() && m.2) {
        Some((key, Some(span), _, kind)) => Err(loc.at(
            span.start,
            format!("checks.{key} only applies to {kind} check"),
        )),
        _ => Ok(()),
    }
}

fn process(
    name: &str,
    process: Option<Spanned<String>>,
    cmdline: Option<Spanned<String>>,
    min: Option<Spanned<u64>>,
    max: Option<Spanned<u64>>,
    loc: &Locator,
) -> Result<Probe, ConfigError> {
    let pattern = match cmdline {
        Some(re) => Some(regex_lite::Regex::new(re.get_ref()).map_err(|e| {
            loc.at(
                re.span().start,
                format!("checks.cmdline is not a valid regular expression: {e}"),
            )
        })?),
        None => None,
    };
    let min_value = min.as_ref().map_or(1, |m| *m.get_ref());
    if let Some(m) = max.as_ref().filter(|m| *m.get_ref() < min_value) {
        return Err(loc.at(
            m.span().start,
            format!(
                "check '{name}': max = {} is below min = {min_value}",
                m.get_ref()
            ),
        ));
    }
    Ok(Probe::Process {
        name: process.map(Spanned::into_inner),
        cmdline: pattern,
        min: min_value as usize,
        max: max.map(|m| *m.get_ref() as usize),
    })
}

fn tcp(address: Spanned<String>, loc: &Locator) -> Result<Probe, ConfigError> {
    let port = address
        .get_ref()
        .rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .filter(|p| *p != 0);
    match port {
        Some(_) => Ok(Probe::Tcp(address.into_inner())),
        None => Err(loc.at(address.span().start, format!("checks.tcp = {:?} is not host:port; expected something like \"db.example.com:5432\" or \"[::1]:22\"", address.get_ref()))),
    }
}

fn command(
    argv: Spanned<Argv>,
    shell: Option<Spanned<bool>>,
    loc: &Locator,
) -> Result<Probe, ConfigError> {
    let at = argv.span().start;
    let shell = shell.is_some_and(|s| *s.get_ref());
    match (argv.into_inner(), shell) {
        (Argv::Words(words), false) if words.first().is_some_and(|w| !w.is_empty()) => Ok(Probe::Command(words)),
        (Argv::Words(_), false) => Err(loc.at(at, "checks.command is empty; expected the program and its arguments, such as [\"/usr/local/bin/check-app\", \"--quick\"]".into())),
        (Argv::Line(line), true) if !line.trim().is_empty() => Ok(Probe::Command(["/bin/sh", "-c", &line].map(String::from).to_vec())),
        (Argv::Line(_), true) => Err(loc.at(at, "checks.command is empty".into())),
        (Argv::Line(_), false) => Err(loc.at(at, "checks.command is one string, which would need a shell: give the program and its arguments as a list, or set shell = true to run it with /bin/sh -c".into())),
        (Argv::Words(_), true) => Err(loc.at(at, "with shell = true, checks.command is one string of shell code, not a list".into())),
    }
}
