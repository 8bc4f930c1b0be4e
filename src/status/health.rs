//! What needs a human at the console, judged: a newer kernel installed, a reboot
//! required, failed units, certificates, pending updates.

use super::{judged, Assessment, Judged, Kind, Level, Thresholds};
use crate::collect::certificates::Certificate;
use crate::collect::reboot::Reboot;
use crate::collect::updates::Updates;
use crate::collect::Readings;

/// What needs a human at the console: a newer kernel installed, a reboot required,
/// failed units, pending updates.
pub(super) fn maintenance(r: &Readings, t: &Thresholds, a: &mut Assessment, all: &mut Vec<Judged>) {
    let mut keep = |j: Judged| {
        let level = j.level;
        all.push(j);
        level
    };
    if let Some(Some(system)) = &r.system {
        if let (true, Some(newest)) = (system.kernel_outdated, &system.newest_kernel) {
            let text = format!(
                "running kernel {} while {newest} is installed: a reboot would load it",
                system.kernel
            );
            keep(judged_level(Level::Careful, text, 1.0));
        }
    }
    if let Some(Some(reboot)) = r.reboot.as_ref().map(|r| r.as_ref().filter(|r| r.required)) {
        a.reboot = Some(keep(rebooting(reboot, t)));
    }
    for unit in r.units.iter().flatten().flat_map(|u| &u.units) {
        let text = format!("unit {} failed ({})", unit.unit, unit.description);
        a.units.push(keep(judged_level(Level::Warning, text, 1.0)));
    }
    for c in r.certificates.iter().flatten() {
        let levels: Vec<Level> = certificate(c).into_iter().map(&mut keep).collect();
        a.certificates
            .push(levels.into_iter().max().unwrap_or(Level::Ok));
    }
    if let Some(Some(u)) = &r.updates {
        let levels: Vec<Level> = updates(u, t).into_iter().map(&mut keep).collect();
        a.updates = Some(levels.into_iter().max().unwrap_or(Level::Ok));
    }
}

/// Pending updates: security ones are careful, then a warning once they have waited
/// `security_updates_days`; package lists that apt has not updated for
/// `package_lists_days` are a warning of their own (the updates shown are stale).
fn updates(u: &Updates, t: &Thresholds) -> Vec<Judged> {
    let mut judged = Vec::new();
    if u.security > 0 {
        let days = u.security_days.unwrap_or(0.0);
        let (level, waiting) = match days >= t.security_updates_days {
            true => (Level::Warning, format!(" for {days:.0} days")),
            false => (Level::Careful, String::new()),
        };
        let text = format!(
            "{} security updates pending{waiting} ({} updates in all)",
            u.security, u.total
        );
        judged.push(judged_level(
            level,
            text,
            days / t.security_updates_days.max(1.0),
        ));
    }
    if let Some(age) = u.lists_age_days.filter(|a| *a >= t.package_lists_days) {
        let text = format!("package lists not updated for {age:.0} days (apt-get update)");
        judged.push(judged_level(
            Level::Warning,
            text,
            age / t.package_lists_days.max(1.0),
        ));
    }
    judged
}

/// A certificate that expires within its warning or critical days, or has; and an
/// endpoint's that does not verify (a warning, unless `verify = false`).
fn certificate(c: &Certificate) -> Vec<Judged> {
    let days = c.days_left;
    let level = match days {
        d if d < c.critical_days || d < 0.0 => Level::Critical,
        d if d < c.warning_days => Level::Warning,
        _ => Level::Ok,
    };
    // Whole days, counted down as the table counts them: "in 4 days" until 4 are left.
    let (subject, place, whole) = (&c.subject, c.place(), days.abs().floor());
    let span = match whole == 1.0 {
        true => "1 day".to_string(),
        false => format!("{whole:.0} days"),
    };
    let text = match days < 0.0 {
        true => format!("certificate {subject} expired {span} ago ({place})"),
        false => format!("certificate {subject} expires in {span} ({place})"),
    };
    let mut found = vec![judged_level(level, text, c.warning_days / days.max(0.01))];
    if let (Some(why), true) = (&c.verify_error, c.judge_verification) {
        let text = format!("certificate {subject} served at {place} does not verify: {why}");
        found.push(judged_level(Level::Warning, text, 1.0));
    }
    found
}

/// A reboot the host wants: careful, a warning once wanted `reboot_days`.
fn rebooting(reboot: &Reboot, t: &Thresholds) -> Judged {
    let days = reboot.days.unwrap_or(0.0);
    let level = match days >= t.reboot_days {
        true => Level::Warning,
        false => Level::Careful,
    };
    let since = match days >= 1.0 {
        true => format!(" for {days:.0} days"),
        false => String::new(),
    };
    let why = match reboot.packages.as_slice() {
        [] => String::new(),
        [one] => format!(" (for {one})"),
        [one, rest @ ..] => format!(" (for {one} and {} more)", rest.len()),
    };
    let text = format!("a reboot has been required{since}{why}");
    judged_level(level, text, days / t.reboot_days.max(1.0))
}

fn judged_level(level: Level, text: String, excess: f64) -> Judged {
    judged(level, text, Kind::Maintenance, excess)
}
