//! The hardware's health, judged: drives (SMART), arrays (md, ZFS, btrfs), the clock
//! and the temperatures.

use super::{judged, Assessment, Judged, Kind, Level, Levels, Thresholds};
use crate::collect::raid::{Array, Raid};
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
        let level = match c.counter {
            "reallocated" | "pending" | "offline_uncorrectable" | "media_errors" => Level::Critical,
            _ => Level::Warning,
        };
        let what = c.counter.replace('_', " ");
        let text = format!(
            "disk {name}: {what} sectors grew by {} since the previous report (now {})",
            c.by, c.now
        );
        let text = match c.counter {
            "crc_errors" => format!(
                "disk {name}: {} more interface CRC errors since the previous report (a cable?)",
                c.by
            ),
            "media_errors" => format!(
                "disk {name}: {} more media errors since the previous report (now {})",
                c.by, c.now
            ),
            "critical_warning" => String::new(),
            _ => text,
        };
        if !text.is_empty() {
            found.push(flagged(level, text));
        }
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
        return flagged(
            Level::Critical,
            format!("RAID array {name} is {state}{missing}"),
        );
    }
    match &x.action {
        Some(act) if act.kind != "check" => {
            let progress = match (act.percent, &act.finish, &act.waiting) {
                (Some(p), Some(f), _) => format!(" ({p:.1}%, done in {f})"),
                (Some(p), None, _) => format!(" ({p:.1}%)"),
                (None, _, Some(w)) => format!(" ({})", w.to_lowercase()),
                _ => String::new(),
            };
            flagged(
                Level::Careful,
                format!("RAID array {name}: {} under way{progress}", act.kind),
            )
        }
        _ => flagged(Level::Ok, String::new()),
    }
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
