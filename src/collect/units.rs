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
    /// When it entered the failed state, as systemd says it ("Tue 2026-11-24
    /// 03:12:07 CET"); None when not known.
    #[serde(default)]
    pub since: Option<String>,
}

pub fn collect(timeout: Duration) -> Result<Units, CollectError> {
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
        unit.since = since(&unit.unit, timeout);
    }
    Ok(units)
}

fn unavailable(why: String) -> Units {
    Units {
        unavailable: Some(why),
        ..Default::default()
    }
}

/// The JSON array systemctl prints (its other fields are not needed).
pub fn parse(text: &str) -> Result<Units, String> {
    let start = text.find('[').ok_or("no JSON list in systemctl's output")?;
    let mut all: Vec<Unit> =
        serde_json::from_str(text[start..].trim()).map_err(|e| e.to_string())?;
    all.sort_by(|a, b| a.unit.cmp(&b.unit));
    let failed = all.len();
    all.truncate(LISTED);
    Ok(Units {
        failed,
        units: all,
        unavailable: None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of `systemctl list-units --state=failed --output=json` of systemd
    /// 252 (Debian 12): one object per unit with these five fields. Written from
    /// that format (this machine runs no systemd to capture it from).
    const SYSTEMD_252: &str = r#"[{"unit":"postgresql@15-main.service","load":"loaded","active":"failed","sub":"failed","description":"PostgreSQL Cluster 15-main"},{"unit":"certbot.service","load":"loaded","active":"failed","sub":"failed","description":"Certbot"}]"#;

    #[test]
    fn failed_units_in_name_order() {
        let units = parse(SYSTEMD_252).unwrap();
        assert_eq!(units.failed, 2);
        let names: Vec<&str> = units.units.iter().map(|u| u.unit.as_str()).collect();
        assert_eq!(names, ["certbot.service", "postgresql@15-main.service"]);
        assert_eq!(units.units[1].description, "PostgreSQL Cluster 15-main");
        assert_eq!(parse("[]\n").unwrap(), Units::default());
    }

    #[test]
    fn no_systemd_is_an_error_in_systemctls_words() {
        assert!(parse(
            "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
        )
        .is_err());
    }
}
