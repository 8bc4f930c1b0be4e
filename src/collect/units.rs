//! Every failed systemd unit, not only the configured checks:
//! `systemctl list-units --state=failed --output=json` (systemd ≥ 246), each with its
//! description and, from `systemctl show`, since when it has been failed. Without
//! systemd as init (containers, other inits) there is nothing to list: the section
//! says so in systemctl's own words (`unavailable`), with no level and no error.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::command;
use super::CollectError;

/// Units listed; more are counted.
const LISTED: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Units {
    /// Why there is no list on this host (no systemd); None where there is one.
    pub unavailable: Option<String>,
    /// How many units are failed (all of them, even past the list's cap).
    pub failed: usize,
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub unit: String,
    #[serde(default)]
    pub description: String,
    /// When it entered the failed state, in the report's zone (RFC 3339), as every
    /// other time in the report; systemd's own words ("Tue 2026-11-24 03:12:07 CET")
    /// when they do not read as a time; None when not known.
    #[serde(default)]
    pub since: Option<String>,
}

pub fn collect(timeout: Duration, zone: &crate::zone::Zone) -> Result<Units, CollectError> {
    let argv = [
        "systemctl",
        "list-units",
        "--state=failed",
        "--output=json",
        "--no-pager",
        "--plain",
    ];
    let (done, out) = match command::run_keeping(&argv, timeout, 1 << 20) {
        Ok(ran) => ran,
        Err(e) => return Ok(unavailable(format!("systemctl: {e}"))),
    };
    let text = String::from_utf8_lossy(&out);
    if done.timed_out {
        let why = format!("systemctl: no answer within {} s", timeout.as_secs());
        return Err(CollectError::new(why));
    }
    let said = || command::first_lines(&out).into_iter().next();
    let mut units = match parse(&text) {
        Ok(units) => units,
        // systemctl's own words: "System has not been booted with systemd as init system".
        Err(_) if text.contains("not been booted with systemd") => {
            return Ok(unavailable(said().unwrap_or_default()))
        }
        Err(e) => {
            let why = said().unwrap_or(e);
            return Err(CollectError::new(format!("systemctl list-units: {why}")));
        }
    };
    for unit in units.units.iter_mut() {
        unit.since = since(&unit.unit, timeout).map(|said| match systemd_time(&said) {
            Some(t) => zone.rfc3339(t),
            None => said,
        });
    }
    Ok(units)
}

fn unavailable(why: String) -> Units {
    Units {
        unavailable: Some(why),
        ..Default::default()
    }
}

/// The JSON array systemctl prints (its other fields are not needed); before systemd
/// 246, which ignores `--output=json` here, its plain table.
pub fn parse(text: &str) -> Result<Units, String> {
    let mut all: Vec<Unit> = match text.find('[') {
        Some(start) if text.trim_start().starts_with('[') => {
            serde_json::from_str(text[start..].trim()).map_err(|e| e.to_string())?
        }
        _ => plain(text).ok_or("neither JSON nor a unit table in systemctl's output")?,
    };
    all.sort_by(|a, b| a.unit.cmp(&b.unit));
    let failed = all.len();
    all.truncate(LISTED);
    Ok(Units {
        failed,
        units: all,
        unavailable: None,
    })
}

/// The plain table: "UNIT LOAD ACTIVE SUB DESCRIPTION" rows between a header and a
/// legend; None when there is no header (not a table at all).
fn plain(text: &str) -> Option<Vec<Unit>> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with("UNIT "));
    lines.next()?;
    let loaded = ["loaded", "not-found", "bad-setting", "error", "masked"];
    let units = lines
        .map_while(|l| (!l.trim().is_empty()).then_some(l))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            // A unit has a type suffix: "0 loaded units listed." is the legend.
            let unit = words.next().filter(|u| u.contains('.'))?;
            words.next().filter(|w| loaded.contains(w))?;
            let (_active, _sub) = (words.next()?, words.next()?);
            let description = words.collect::<Vec<_>>().join(" ");
            Some(Unit {
                unit: unit.to_string(),
                description,
                since: None,
            })
        })
        .collect();
    Some(units)
}

/// `StateChangeTimestamp` of a unit: when it failed.
fn since(unit: &str, timeout: Duration) -> Option<String> {
    let argv = [
        "systemctl",
        "show",
        "--property=StateChangeTimestamp",
        "--value",
        "--",
        unit,
    ];
    let (done, out) = command::run_keeping(&argv, timeout, 4096).ok()?;
    let value = String::from_utf8_lossy(&out).trim().to_string();
    (done.code == Some(0) && !value.is_empty()).then_some(value)
}

/// A time as systemctl prints it, "Mon 2026-12-07 22:08:05 UTC", in the host's
/// zone (whose abbreviation ends it, and says nothing chrono could read back).
fn systemd_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    const FORMAT: &str = "%a %Y-%m-%d %H:%M:%S";
    let (local, abbreviation) = text.rsplit_once(' ')?;
    match abbreviation {
        "UTC" | "GMT" => chrono::NaiveDateTime::parse_from_str(local, FORMAT)
            .ok()
            .map(|naive| naive.and_utc()),
        _ => super::journal::host_time(local, FORMAT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemctl_times_read_as_instants() {
        let t = systemd_time("Mon 2026-12-07 22:08:05 UTC").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-07T22:08:05+00:00");
        assert_eq!(systemd_time("n/a"), None);
        assert_eq!(systemd_time(""), None);
    }

    fn fixture(name: &str) -> String {
        crate::collect::fixture(&format!("systemd-252/{name}"))
    }

    #[test]
    fn failed_units_in_name_order() {
        let units = parse(&fixture("list-units-failed.json")).unwrap();
        assert_eq!(units.failed, 2);
        let names: Vec<&str> = units.units.iter().map(|u| u.unit.as_str()).collect();
        assert_eq!(names, ["backup-nightly.service", "certbot-renew.service"]);
        assert_eq!(units.units[0].description, "Nightly backup to the NAS");
        assert_eq!(parse("[]\n").unwrap(), Units::default());
    }

    #[test]
    fn before_systemd_246_the_plain_table_says_the_same() {
        let json = parse(&fixture("list-units-failed.json")).unwrap();
        let table = parse(&fixture("list-units-failed-plain.txt")).unwrap();
        assert_eq!(table, json);
        let empty = "UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n";
        assert_eq!(parse(empty).unwrap(), Units::default());
    }

    #[test]
    fn no_systemd_is_an_error_in_systemctls_words() {
        assert!(parse(
            "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
        )
        .is_err());
    }
}
