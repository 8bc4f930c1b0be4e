//! The hardware's health, judged: drives (SMART), arrays (md, ZFS, btrfs), the clock
//! and the temperatures.

use super::{judged, Assessment, Judged, Kind, Level, Levels, Thresholds};
use crate::collect::raid::{Action, Array, Raid};
use crate::collect::smart::{critical_warning, Drive};
use crate::collect::temperatures::Sensor;
use crate::collect::Readings;

/// NVMe wear (percentage_used) from which a drive is a warning.
const WORN_PERCENT: u64 = 90;

pub(super) fn hardware(r: &Readings, t: &Thresholds, a: &mut Assessment, all: &mut Vec<Judged>) {
    let mut keep = |found: Vec<Judged>| {
        let level = found.iter().map(|j| j.level).max().unwrap_or(Level::Ok);
        all.extend(found);
        level
    };
    let drives = r.smart.iter().flatten().flat_map(|s| &s.drives);
    for d in drives.clone() {
        a.smart.push(keep(drive(d)));
    }
    if let Some(Some(raid)) = &r.raid {
        a.raid = raid.arrays.iter().map(|x| keep(vec![array(x)])).collect();
        keep(pools_and_devices(raid));
    }
    if let Some(Some(clock)) = &r.clock {
        if clock.synchronized == Some(false) {
            let text = format!("the clock is not synchronized ({})", clock.source);
            a.clock = Some(keep(vec![judged(
                Level::Warning,
                text,
                Kind::Maintenance,
                1.0,
            )]));
        }
    }
    for s in r.temperatures.iter().flatten().flatten() {
        a.temperatures.push(keep(vec![sensor(s, &t.temperature)]));
    }
    for d in drives {
        let judged = d
            .temperature
            .map(|c| drive_temperature(d, c, &t.temperature));
        a.drive_temperatures
            .push(keep(judged.into_iter().collect()));
    }
}

fn flagged(level: Level, text: String) -> Judged {
    judged(level, text, Kind::Maintenance, 1.0)
}

/// A failed self-assessment, grown reallocated or pending sectors, an NVMe critical
/// warning: critical. A worn NVMe drive: a warning.
fn drive(d: &Drive) -> Vec<Judged> {
    let name = match d.model.is_empty() {
        true => d.device.clone(),
        false => format!("{} ({})", d.device, d.model),
    };
    let mut found = Vec::new();
    if d.passed == Some(false) {
        found.push(flagged(
            Level::Critical,
            format!("disk {name} failed its SMART self-assessment"),
        ));
    }
    for c in d.changes.iter().filter(|c| c.by > 0) {
        let (by, now) = (c.by, c.now);
        let (level, text) = match c.counter {
            "crc_errors" => (
                Level::Warning,
                format!("disk {name}: {by} more interface CRC errors since the previous report (a cable?)"),
            ),
            "media_errors" => (
                Level::Critical,
                format!("disk {name}: {by} more media errors since the previous report (now {now})"),
            ),
            // Said below, in words, from the bits themselves.
            "critical_warning" => continue,
            // Reallocated, pending, offline-uncorrectable sectors.
            sectors => (
                Level::Critical,
                format!(
                    "disk {name}: {} sectors grew by {by} since the previous report (now {now})",
                    sectors.replace('_', " ")
                ),
            ),
        };
        found.push(flagged(level, text));
    }
    if let Some(bits) = d.critical_warning.filter(|b| *b != 0) {
        found.push(flagged(
            Level::Critical,
            format!("disk {name}: {}", critical_warning(bits)),
        ));
    }
    if let Some(used) = d.percentage_used.filter(|u| *u >= WORN_PERCENT) {
        found.push(flagged(
            Level::Warning,
            format!("disk {name} is {used}% worn (NVMe percentage used)"),
        ));
    }
    found
}

/// Degraded or inactive: critical; rebuilding or resyncing: careful; a check (the
/// monthly scrub) is routine.
fn array(x: &Array) -> Judged {
    let kind = match x.personality.is_empty() {
        true => &x.state,
        false => &x.personality,
    };
    let name = format!("{} ({kind})", x.name);
    if x.degraded || x.state.starts_with("inactive") {
        let missing = match (x.wanted, x.working) {
            (Some(w), Some(k)) if k < w => format!(": {k} of {w} devices working"),
            _ => String::new(),
        };
        let state = if x.degraded { "degraded" } else { "inactive" };
        let under_way = (x.action.as_ref()).map_or(String::new(), |a| format!("; {}", progress(a)));
        let text = format!("RAID array {name} is {state}{missing}{under_way}");
        return flagged(Level::Critical, text);
    }
    match &x.action {
        Some(act) if act.kind != "check" => flagged(
            Level::Careful,
            format!("RAID array {name}: {}", progress(act)),
        ),
        _ => flagged(Level::Ok, String::new()),
    }
}

/// "recovery under way (8.5%, done in 283.7min)".
fn progress(act: &Action) -> String {
    let detail = match (act.percent, &act.finish, &act.waiting) {
        (Some(p), Some(f), _) => format!(" ({p:.1}%, done in {f})"),
        (Some(p), None, _) => format!(" ({p:.1}%)"),
        (None, _, Some(w)) => format!(" ({})", w.to_lowercase()),
        _ => String::new(),
    };
    format!("{} under way{detail}", act.kind)
}

fn pools_and_devices(raid: &Raid) -> Vec<Judged> {
    let pools = raid.pools.iter().map(|p| {
        let level = match p.state.as_str() {
            "ONLINE" => Level::Warning,
            _ => Level::Critical,
        };
        flagged(
            level,
            format!("ZFS pool {} is {}: {}", p.name, p.state, p.status),
        )
    });
    let devices = raid.btrfs.iter().map(|d| {
        let counts: Vec<String> = d.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let text = format!(
            "btrfs {} {} has errors: {}",
            d.filesystem,
            d.device,
            counts.join(", ")
        );
        flagged(Level::Warning, text)
    });
    pools.chain(devices).collect()
}

/// A sensor against its own max (warning) and crit (critical), else the thresholds.
fn sensor(s: &Sensor, t: &Levels) -> Judged {
    let own = Levels::new(
        t.careful.min(s.max.unwrap_or(f64::MAX)),
        s.max.unwrap_or(t.warning),
        s.crit.unwrap_or(t.critical),
    );
    let text = format!("{} {} is at {:.0} °C", s.chip, s.label, s.celsius);
    let level = own.level(s.celsius);
    judged(
        level,
        text,
        Kind::Maintenance,
        super::excess(&own, level, s.celsius),
    )
}

/// A drive against its own limit (critical) when it gives one, else the thresholds.
fn drive_temperature(d: &Drive, celsius: f64, t: &Levels) -> Judged {
    let own = match d.temperature_limit {
        Some(limit) => Levels::new(t.careful.min(limit), t.warning.min(limit), limit),
        None => *t,
    };
    let text = format!("disk {} is at {celsius:.0} °C", d.device);
    let level = own.level(celsius);
    judged(
        level,
        text,
        Kind::Maintenance,
        super::excess(&own, level, celsius),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::clock::Clock;
    use crate::collect::raid::mdstat;
    use crate::collect::smart::{Change, Smart};
    use crate::status::assess;

    fn judged(r: &Readings) -> Assessment {
        let zone = crate::zone::Zone::utc();
        assess(
            r,
            &crate::history::Period::none(&zone),
            &Thresholds::default(),
        )
    }

    fn texts(a: &Assessment) -> Vec<(Level, &str)> {
        a.attention
            .iter()
            .map(|x| (x.level, x.text.as_str()))
            .collect()
    }

    #[test]
    fn drives_failed_grown_worn_and_warned() {
        let sda = Drive {
            device: "/dev/sda".into(),
            model: "WDC WD40EFRX".into(),
            passed: Some(true),
            changes: vec![Change {
                counter: "reallocated",
                by: 8,
                now: 8,
            }],
            ..Default::default()
        };
        let sdb = Drive {
            device: "/dev/sdb".into(),
            passed: Some(false),
            ..Default::default()
        };
        let nvme = Drive {
            device: "/dev/nvme0".into(),
            passed: Some(true),
            critical_warning: Some(0),
            percentage_used: Some(93),
            ..Default::default()
        };
        let healed = Drive {
            device: "/dev/sdc".into(),
            passed: Some(true),
            changes: vec![Change {
                counter: "pending",
                by: -2,
                now: 0,
            }],
            ..Default::default()
        };
        let r = Readings {
            smart: Some(Some(Smart {
                drives: vec![sda, sdb, nvme, healed],
                ..Default::default()
            })),
            ..Default::default()
        };
        let a = judged(&r);
        assert_eq!(
            a.smart,
            [Level::Critical, Level::Critical, Level::Warning, Level::Ok]
        );
        assert_eq!(
            texts(&a),
            [
                (Level::Critical, "disk /dev/sda (WDC WD40EFRX): reallocated sectors grew by 8 since the previous report (now 8)"),
                (Level::Critical, "disk /dev/sdb failed its SMART self-assessment"),
                (Level::Warning, "disk /dev/nvme0 is 93% worn (NVMe percentage used)"),
            ]
        );
    }

    #[test]
    fn arrays_degraded_rebuilding_and_checking() {
        let text = "md0 : active raid1 sda1[0]\n      1046528 blocks super 1.2 [2/1] [U_]\n\
                    md2 : active raid1 sdd1[1] sdc1[0]\n      976630464 blocks super 1.2 [2/2] [UU]\n      [==>....]  resync = 12.0% (1/2) finish=10.5min speed=1K/sec\n\
                    md4 : active raid6 sdh[1] sdg[0]\n      1 blocks [2/2] [UU]\n      [=>...]  check = 5.0% (1/2) finish=100.0min speed=1K/sec\n";
        let r = Readings {
            raid: Some(Some(Raid {
                arrays: mdstat(text),
                ..Default::default()
            })),
            ..Default::default()
        };
        let a = judged(&r);
        assert_eq!(a.raid, [Level::Critical, Level::Careful, Level::Ok]);
        assert_eq!(
            texts(&a),
            [
                (
                    Level::Critical,
                    "RAID array md0 (raid1) is degraded: 1 of 2 devices working"
                ),
                (
                    Level::Careful,
                    "RAID array md2 (raid1): resync under way (12.0%, done in 10.5min)"
                ),
            ]
        );
    }

    #[test]
    fn an_unsynchronized_clock_is_a_warning_and_an_unknown_one_nothing() {
        let clock = |synchronized| Readings {
            clock: Some(Some(Clock {
                synchronized,
                source: "chrony".into(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let a = judged(&clock(Some(false)));
        assert_eq!(a.clock, Some(Level::Warning));
        assert_eq!(
            texts(&a),
            [(Level::Warning, "the clock is not synchronized (chrony)")]
        );
        assert_eq!(judged(&clock(Some(true))).status, Level::Ok);
        assert_eq!(judged(&clock(None)).status, Level::Ok);
    }

    #[test]
    fn sensors_by_their_own_limits_else_the_thresholds() {
        let sensor = |celsius, max, crit| Sensor {
            chip: "coretemp".into(),
            label: "Package id 0".into(),
            celsius,
            max,
            crit,
        };
        let r = Readings {
            temperatures: Some(Some(vec![
                sensor(92.0, Some(84.0), Some(100.0)),
                sensor(101.0, Some(84.0), Some(100.0)),
                sensor(70.0, None, None),
                sensor(50.0, None, None),
            ])),
            smart: Some(Some(Smart {
                drives: vec![Drive {
                    device: "/dev/sda".into(),
                    temperature: Some(58.0),
                    temperature_limit: Some(55.0),
                    ..Default::default()
                }],
                ..Default::default()
            })),
            ..Default::default()
        };
        let a = judged(&r);
        assert_eq!(
            a.temperatures,
            [Level::Warning, Level::Critical, Level::Careful, Level::Ok]
        );
        assert_eq!(
            a.drive_temperatures,
            [Level::Critical],
            "past the drive's own limit"
        );
        // Both critical; the drive is further past its limit (58/55 against 101/100).
        assert_eq!(
            texts(&a)[..2],
            [
                (Level::Critical, "disk /dev/sda is at 58 °C"),
                (Level::Critical, "coretemp Package id 0 is at 101 °C")
            ]
        );
    }
}
