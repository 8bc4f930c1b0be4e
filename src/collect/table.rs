//! The report's collectors, as a table: for each, when this report runs it, whether
//! it is cheap enough for the shared thread, its work, and where its result goes.
//! `gather` runs the table; adding a collector is a line in `TABLE`, an entry
//! function here (or in `work.rs`, with the health and event collectors), its own
//! file, and its field of `Readings`.
//!
//! The table's order is the order of the merge, and so of `errors`.

use std::time::Duration;

use super::job::{put, Job, Work};
use super::work::{
    certificates, clock, journal, packages, raid, reboot, reboots, smart, temperatures, units,
    updates,
};
use super::{
    boot, checks, cpu, disk, diskio, files, host, load, memory, network, processes, system, users,
    CollectError, Readings, Settings,
};
use crate::sections::Section;

/// One collector.
pub(super) struct Entry {
    /// Its name in `errors`.
    pub name: &'static str,
    /// Whether this report runs it.
    pub wanted: fn(&Settings) -> bool,
    /// A few small procfs reads (microseconds, never waiting on a device): these share
    /// one thread, since every thread costs the daemon memory.
    pub cheap: bool,
    pub work: fn(&Settings, &Job) -> Work,
    /// Its section when it failed: null in the context.
    pub failed: fn(&mut Readings),
    /// How long after the report's deadline its result is still waited for.
    pub grace: fn(&Settings) -> Duration,
}

fn none(_: &Settings) -> Duration {
    Duration::ZERO
}

fn window(s: &Settings) -> Duration {
    s.cpu_sample
}

/// Every collector, in the order they are merged.
pub(super) const TABLE: &[Entry] = &[
    Entry {
        name: "hostname",
        wanted: |s| s.hostname.is_none(),
        cheap: true,
        work: hostname,
        failed: |_| {},
        grace: none,
    },
    Entry {
        name: "boot",
        wanted: |s| s.shows(Section::Host),
        cheap: true,
        work: boot,
        failed: |r| r.boot = Some(None),
        grace: none,
    },
    Entry {
        name: "system",
        wanted: |s| s.shows(Section::Host),
        cheap: false,
        work: system,
        failed: |r| r.system = Some(None),
        grace: none,
    },
    Entry {
        name: "memory",
        wanted: |s| s.shows(Section::Memory),
        cheap: true,
        work: memory,
        failed: |r| r.memory = Some(None),
        grace: none,
    },
    Entry {
        name: "load",
        wanted: |s| s.shows(Section::Cpu),
        cheap: true,
        work: load,
        failed: |r| r.load = Some(None),
        grace: none,
    },
    Entry {
        name: "disk",
        wanted: |s| s.shows(Section::Filesystems),
        cheap: false,
        work: disks,
        failed: |r| r.disks = Some(None),
        grace: |_| Duration::from_millis(250),
    },
    Entry {
        name: "cpu",
        wanted: |s| s.shows(Section::Cpu),
        cheap: false,
        work: cpu,
        failed: |r| r.cpu = Some(None),
        grace: window,
    },
    Entry {
        name: "network",
        wanted: |s| s.shows(Section::Network),
        cheap: true,
        work: network,
        failed: |r| r.network = Some(None),
        grace: none,
    },
    Entry {
        name: "diskio",
        wanted: |s| s.shows(Section::Diskio),
        cheap: true,
        work: diskio,
        failed: |r| r.diskio = Some(None),
        grace: none,
    },
    Entry {
        name: "processes",
        wanted: |s| s.shows(Section::Processes),
        cheap: false,
        work: processes,
        failed: |r| r.processes = Some(None),
        grace: window,
    },
    Entry {
        name: "checks",
        wanted: |s| s.shows(Section::Checks) && !s.checks.is_empty(),
        cheap: false,
        work: checks,
        failed: |_| {},
        grace: checks_grace,
    },
    Entry {
        name: "updates",
        wanted: |s| s.shows(Section::Updates),
        cheap: false,
        work: updates,
        failed: |r| r.updates = Some(None),
        grace: none,
    },
    Entry {
        name: "reboot",
        wanted: |s| s.shows(Section::Reboot),
        cheap: false,
        work: reboot,
        failed: |r| r.reboot = Some(None),
        grace: none,
    },
    Entry {
        name: "units",
        wanted: |s| s.shows(Section::Units),
        cheap: false,
        work: units,
        failed: |r| r.units = Some(None),
        grace: none,
    },
    Entry {
        name: "smart",
        wanted: |s| s.shows(Section::Smart),
        cheap: false,
        work: smart,
        failed: |r| r.smart = Some(None),
        grace: none,
    },
    Entry {
        name: "raid",
        wanted: |s| s.shows(Section::Raid),
        cheap: false,
        work: raid,
        failed: |r| r.raid = Some(None),
        grace: none,
    },
    Entry {
        name: "certificates",
        wanted: |s| s.shows(Section::Certificates) && !s.certificates.is_empty(),
        cheap: false,
        work: certificates,
        failed: |_| {},
        grace: none,
    },
    Entry {
        name: "clock",
        wanted: |s| s.shows(Section::Clock),
        cheap: false,
        work: clock,
        failed: |r| r.clock = Some(None),
        grace: none,
    },
    Entry {
        name: "temperatures",
        wanted: |s| s.shows(Section::Temperatures),
        cheap: true,
        work: temperatures,
        failed: |r| r.temperatures = Some(None),
        grace: none,
    },
    Entry {
        name: "journal",
        wanted: |s| {
            [Section::Journal, Section::Oom, Section::Logins]
                .iter()
                .any(|x| s.shows(*x))
        },
        cheap: false,
        work: journal,
        failed: |r| (r.journal, r.oom, r.logins) = (Some(None), Some(None), Some(None)),
        // Waited for up to its own timeout, a noisy journal's long pass.
        grace: |s| s.journal.timeout.saturating_sub(s.timeout),
    },
    Entry {
        name: "packages",
        wanted: |s| s.shows(Section::Packages),
        cheap: false,
        work: packages,
        failed: |r| r.packages = Some(None),
        grace: none,
    },
    Entry {
        name: "reboots",
        wanted: |s| s.shows(Section::Reboots),
        cheap: false,
        work: reboots,
        failed: |r| r.reboots = Some(None),
        grace: none,
    },
    Entry {
        name: "users",
        wanted: |s| s.shows(Section::Users),
        cheap: true,
        work: users,
        failed: |r| r.users = Some(None),
        grace: none,
    },
    Entry {
        name: "files",
        wanted: Settings::watches_files,
        cheap: false,
        work: files,
        failed: |r| r.files = Some(None),
        grace: none,
    },
];

fn hostname(_: &Settings, _: &Job) -> Work {
    Box::new(|| Ok(put(host::hostname()?, |m, _, h| m.put_hostname(h))))
}

fn boot(_: &Settings, job: &Job) -> Work {
    let zone = job.zone.clone();
    Box::new(move || {
        Ok(put(boot::collect(&zone)?, |m, _, b| {
            m.readings.boot = Some(Some(b))
        }))
    })
}

fn system(s: &Settings, job: &Job) -> Work {
    let (proc, timeout) = (job.procfs.clone(), s.timeout);
    Box::new(move || {
        Ok(put(system::collect(&proc, timeout)?, |m, _, v| {
            m.readings.system = Some(Some(v))
        }))
    })
}

fn memory(_: &Settings, job: &Job) -> Work {
    let proc = job.procfs.clone();
    Box::new(move || {
        Ok(put(memory::collect_in(&proc)?, |m, _, v| {
            m.readings.memory = Some(Some(v))
        }))
    })
}

fn load(_: &Settings, job: &Job) -> Work {
    let proc = job.procfs.clone();
    Box::new(move || {
        Ok(put(load::collect_in(&proc)?, |m, _, v| {
            m.readings.load = Some(Some(v))
        }))
    })
}

fn disks(s: &Settings, job: &Job) -> Work {
    let (filesystems, deadline) = (s.filesystems.clone(), job.deadline);
    Box::new(move || {
        let found = disk::collect(filesystems.as_deref(), deadline)?;
        Ok(put(found, |m, _, (disks, failures)| {
            let disks = m.also_failed("disk", failures, disks);
            m.readings.disks = Some(Some(disks));
        }))
    })
}

fn cpu(_: &Settings, job: &Job) -> Work {
    let (window, started) = (job.window, job.cpu.clone());
    Box::new(move || {
        let found = started?.finish(window)?;
        Ok(put(found, |m, job, (section, table)| {
            let section = cpu::with_average(section, &table, job.previous("cpu"), &job.zone);
            m.readings.cpu = Some(Some(m.remember("cpu", section, table)));
        }))
    })
}

fn network(_: &Settings, job: &Job) -> Work {
    let proc = job.procfs.clone();
    Box::new(move || {
        Ok(put(network::read_in(&proc)?, |m, job, table| {
            let section = network::report(&table, job.previous("network"), &job.zone);
            m.readings.network = Some(Some(m.remember("network", section, table)));
        }))
    })
}

fn diskio(_: &Settings, job: &Job) -> Work {
    let proc = job.procfs.clone();
    Box::new(move || {
        Ok(put(diskio::read_in(&proc)?, |m, job, table| {
            let section = diskio::report(&table, job.previous("diskio"), &job.zone);
            m.readings.diskio = Some(Some(m.remember("diskio", section, table)));
        }))
    })
}

fn processes(_: &Settings, job: &Job) -> Work {
    let job = job.clone();
    Box::new(move || {
        let found = processes::collect(job.previous(processes::KIND))?;
        Ok(put(found, |m, _, (section, io)| {
            m.readings.processes = Some(Some(m.remember(processes::KIND, section, io)));
        }))
    })
}

/// Checks wait each for its own timeout, which may be longer than the collectors'.
fn checks_grace(s: &Settings) -> Duration {
    let longest = s.checks.iter().map(|c| c.timeout).max().unwrap_or_default();
    (longest + Duration::from_millis(500)).saturating_sub(s.timeout)
}

fn checks(s: &Settings, _: &Job) -> Work {
    let all = s.checks.clone();
    Box::new(move || {
        let outcomes = checks::start(&all).finish();
        Ok(put(outcomes, |m, _, o| m.readings.checks = Some(o)))
    })
}

fn users(_: &Settings, job: &Job) -> Work {
    let zone = job.zone.clone();
    Box::new(move || {
        Ok(put(users::collect(&zone)?, |m, _, u| {
            m.readings.users = Some(Some(u))
        }))
    })
}

fn files(s: &Settings, job: &Job) -> Work {
    let (watches, before) = (s.watches.clone(), s.previous.files.clone());
    // Without the previous manifest, a walk would record a new baseline over it
    // and every change since would be lost: no files section this time.
    let unreadable = s.previous.unreadable.files.is_some();
    let (now, zone) = (job.now, job.zone.clone());
    Box::new(move || {
        if unreadable {
            return Err(CollectError::new(
                "the previous report's manifest cannot be read (see the history error)",
            ));
        }
        let found = files::collect(&watches, before.as_ref(), now, &zone);
        Ok(put(found, |m, _, (section, manifest)| {
            m.files = Some(manifest);
            let unreadable: Vec<_> = section
                .watched
                .iter()
                .filter_map(|w| w.error.clone())
                .collect();
            let section = m.also_failed("files", unreadable, section);
            m.readings.files = Some(Some(section));
        }))
    })
}
