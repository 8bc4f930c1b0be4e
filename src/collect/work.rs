//! The work of the collectors of what needs a human (updates, reboot, units, disk
//! health, RAID, certificates, clock, temperatures) and of what happened (the
//! journal), as `table.rs` lists them: each takes what it needs from the settings
//! and the job, runs on its own thread, and puts its result where it goes.

use super::job::{put, Job, Work};
use super::{
    certificates, checks, clock, journal, package_log, raid, reboot, smart, temperatures, units,
    updates, users, Settings,
};
use crate::sections::Section;

pub(super) fn updates(s: &Settings, job: &Job) -> Work {
    let (timeout, now, zone) = (s.timeout, job.now, job.zone.clone());
    let cache = s.state_dir.as_ref().map(|d| d.updates_cache());
    // Kept across reboots (unlike counters): when each security update was first seen.
    let earlier = (job.earlier.as_ref()).and_then(|e| e.tables.get("updates").cloned());
    Box::new(move || {
        let found = updates::collect(timeout, cache.as_deref(), earlier.as_ref(), now, &zone)?;
        Ok(put(found, |m, _, (section, seen)| {
            m.readings.updates = Some(Some(m.remember("updates", section, seen)));
        }))
    })
}

pub(super) fn reboot(s: &Settings, job: &Job) -> Work {
    let (timeout, now, zone) = (s.timeout, job.now, job.zone.clone());
    Box::new(move || {
        let found = reboot::collect(std::path::Path::new("/run"), timeout, now, &zone)?;
        Ok(put(found, |m, _, v| m.readings.reboot = Some(Some(v))))
    })
}

pub(super) fn units(s: &Settings, _: &Job) -> Work {
    let (timeout, zone) = (s.timeout, s.zone.clone());
    Box::new(move || {
        let found = units::collect(timeout, &zone)?;
        Ok(put(found, |m, _, v| m.readings.units = Some(Some(v))))
    })
}

pub(super) fn smart(s: &Settings, job: &Job) -> Work {
    let (timeout, sys) = (s.timeout, job.procfs.sys(""));
    // Kept across reboots (unlike counters): the counters belong to the drive.
    let earlier = (job.earlier.as_ref()).and_then(|e| e.tables.get("smart").cloned());
    Box::new(move || {
        let found = smart::collect(timeout, earlier.as_ref(), &sys)?;
        Ok(put(found, |m, _, (section, kept, failures)| {
            let section = m.also_failed("smart", failures, section);
            m.readings.smart = Some(Some(m.remember("smart", section, kept)));
        }))
    })
}

pub(super) fn raid(s: &Settings, job: &Job) -> Work {
    let (proc, timeout) = (job.procfs.clone(), s.timeout);
    Box::new(move || {
        let found = raid::collect(&proc, timeout)?;
        Ok(put(found, |m, _, v| m.readings.raid = Some(Some(v))))
    })
}

pub(super) fn certificates(s: &Settings, job: &Job) -> Work {
    let (watched, now, zone) = (s.certificates.clone(), job.now, job.zone.clone());
    let timeout = s.timeout;
    Box::new(move || {
        let found = certificates::collect(&watched, now, &zone, timeout);
        Ok(put(found, |m, _, (certificates, failures)| {
            let certificates = m.also_failed("certificates", failures, certificates);
            m.readings.certificates = Some(certificates);
        }))
    })
}

pub(super) fn clock(s: &Settings, _: &Job) -> Work {
    let timeout = s.timeout;
    Box::new(move || {
        let found = clock::collect(timeout)?;
        Ok(put(found, |m, _, v| m.readings.clock = Some(Some(v))))
    })
}

pub(super) fn temperatures(_: &Settings, job: &Job) -> Work {
    let proc = job.procfs.clone();
    Box::new(move || {
        let found = temperatures::collect(&proc)?;
        Ok(put(found, |m, _, v| {
            m.readings.temperatures = Some(Some(v))
        }))
    })
}

pub(super) fn journal(s: &Settings, job: &Job) -> Work {
    let (config, zone, now) = (s.journal.clone(), job.zone.clone(), job.now);
    let timeout = config.timeout;
    let since = journal::since(job.earlier.as_ref(), job.now);
    let places = (job.earlier.as_ref())
        .map(|e| e.cursors.clone())
        .unwrap_or_default();
    let known = (job.earlier.as_ref()).and_then(|e| e.tables.get("login_addresses").cloned());
    let shows = [Section::Journal, Section::Oom, Section::Logins].map(|x| s.shows(x));
    let checked: Vec<String> = (s.checks.iter())
        .filter_map(|c| match &c.probe {
            checks::Probe::Systemd(unit) => Some(unit.clone()),
            _ => None,
        })
        .collect();
    Box::new(move || {
        let from = since.start();
        let mut found = journal::collect(&config, since, &places, timeout, &zone)?;
        let wtmp = config.files_root.join("var/log/wtmp");
        found.logins.records = users::logins_since(&wtmp, from, journal::LISTED, &zone);
        let fail2ban = config.files_root.join("var/log/fail2ban.log");
        if found.logins.bans.is_none() {
            found.logins.bans = journal::bans_since(&fail2ban, from);
        }
        for kill in found.kills.iter_mut() {
            kill.checked = (kill.unit.iter()).any(|u| {
                checked
                    .iter()
                    .any(|c| c == u || format!("{c}.service") == *u)
            });
        }
        let seen = journal::known_addresses(&mut found.logins, known.as_ref(), now);
        Ok(put((found, seen, shows), |m, _, (found, seen, shows)| {
            m.snapshot.cursors.extend(found.cursors);
            let r = &mut m.readings;
            r.journal = shows[0].then_some(Some(found.journal));
            r.oom = shows[1].then_some(Some(found.kills));
            r.logins = shows[2].then_some(Some(found.logins));
            m.remember("login_addresses", (), seen);
        }))
    })
}

pub(super) fn packages(s: &Settings, job: &Job) -> Work {
    let (logs, now, zone) = (s.package_logs.clone(), job.now, job.zone.clone());
    let since = journal::since(job.earlier.as_ref(), now).start();
    Box::new(move || {
        let found = package_log::collect(&logs, since, now, &zone)?;
        Ok(put(found, |m, _, v| m.readings.packages = Some(Some(v))))
    })
}

pub(super) fn reboots(s: &Settings, job: &Job) -> Work {
    let (config, timeout, zone) = (s.journal.clone(), s.timeout, job.zone.clone());
    let (boot, earlier) = (job.boot_time, job.earlier.as_ref().map(|e| e.boot_time));
    let since = journal::since(job.earlier.as_ref(), job.now).start();
    Box::new(move || {
        let found = journal::reboots(&config, (boot, earlier), since, timeout, &zone)?;
        Ok(put(found, |m, _, v| m.readings.reboots = Some(Some(v))))
    })
}
