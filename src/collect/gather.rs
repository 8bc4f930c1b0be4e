//! Running the collectors for one report: start every chosen one at once (so they
//! run inside the CPU sample window), wait for each until its deadline, and merge
//! results and failures into the context.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::{
    boot, checks, counters, cpu, deadline, disk, diskio, files, host, load, manifest, memory,
    network, processes, truncate, users, CollectError, CollectorFailure, Readings, Remembered,
    Settings,
};
use crate::sections::Section;
use crate::zone::Zone;

/// Runs the collectors of the chosen sections once, each on its own thread and
/// under its deadline, and merges the results. `now` is the report's time. Returns
/// by the deadline, however the collectors behave.
pub fn gather(settings: &Settings, now: DateTime<Utc>) -> Readings {
    gather_and_remember(settings, now).0
}

/// `gather`, also returning what this report leaves for the next one.
pub fn gather_and_remember(settings: &Settings, now: DateTime<Utc>) -> (Readings, Remembered) {
    let running = Running::start(settings, now);
    let mut m = Merge {
        readings: Readings::default(),
        snapshot: counters::Snapshot {
            version: counters::SNAPSHOT_VERSION,
            taken_at: now,
            boot_time: running.boot_time,
            tables: Default::default(),
        },
        files: None,
        limit: format!(
            "{} s (collector_timeout_secs)",
            settings.timeout.as_secs_f64()
        ),
    };
    running.merge_into(&mut m, settings, now);
    let unreadable = &settings.previous.unreadable;
    for problem in [&unreadable.counters, &unreadable.files]
        .into_iter()
        .flatten()
    {
        m.readings.errors.push(CollectorFailure {
            collector: "history".into(),
            message: problem.clone(),
        });
    }
    let Merge {
        mut readings,
        snapshot,
        files,
        ..
    } = m;
    readings.generated_at = now
        .with_timezone(&settings.zone)
        .to_rfc3339_opts(SecondsFormat::Secs, false);
    readings.sections = settings.sections.clone();
    let remembered = Remembered {
        counters: Some(snapshot),
        files,
        unreadable: Default::default(),
    };
    (readings, remembered)
}

type Started<T> = Option<Result<deadline::Running<T>, CollectError>>;

/// Every collector of the report, started at once, so the others run inside the
/// CPU sample window. `None`: its section is not shown.
struct Running {
    deadline: Instant,
    boot_time: u64,
    quick: Result<deadline::Running<Quick>, CollectError>,
    cpu: Started<(cpu::Cpu, counters::Table)>,
    processes: Started<(processes::Processes, counters::Table)>,
    disk: Started<(Vec<disk::Disk>, Vec<String>)>,
    files: Started<(files::Files, manifest::Manifest)>,
    checks: Option<checks::Started>,
    extra: Vec<(String, Result<deadline::Running<Value>, CollectError>)>,
}

impl Running {
    fn start(settings: &Settings, now: DateTime<Utc>) -> Running {
        let deadline = Instant::now() + settings.timeout;
        let (zone, window) = (settings.zone.clone(), settings.cpu_sample);
        // Counters from before a reboot are useless; /proc/stat's btime says which boot this is.
        let boot_time = psutil::host::boot_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let cpu = settings
            .shows(Section::Cpu)
            .then(|| deadline::spawn("cpu", move || cpu::CpuSample::start()?.finish(window)));
        let wanted = Wanted::from(settings);
        let quick = {
            let zone = zone.clone();
            deadline::spawn("procfs", move || Ok(Quick::collect(&wanted, &zone)))
        };
        let processes = settings.shows(Section::Processes).then(|| {
            let earlier = settings.previous.counters.clone();
            deadline::spawn("processes", move || {
                let previous = counters::previous(earlier.as_ref(), "process_io", boot_time, now);
                processes::collect(window, previous)
            })
        });
        let disk = settings.shows(Section::Filesystems).then(|| {
            let filesystems = settings.filesystems.clone();
            deadline::spawn("disk", move || {
                disk::collect(filesystems.as_deref(), deadline)
            })
        });
        let files = settings.watches_files().then(|| {
            let (watches, before) = (settings.watches.clone(), settings.previous.files.clone());
            // Without the previous manifest, a walk would record a new baseline over it
            // and every change since would be lost: no files section this time.
            let unreadable = settings.previous.unreadable.files.is_some();
            deadline::spawn("files", move || match unreadable {
                true => Err(CollectError::new(
                    "the previous report's manifest cannot be read (see the history error)",
                )),
                false => Ok(files::collect(&watches, before.as_ref(), now, &zone)),
            })
        });
        let checks = (settings.shows(Section::Checks) && !settings.checks.is_empty())
            .then(|| checks::start(&settings.checks));
        let extra = settings
            .extra
            .iter()
            .map(|(name, work)| {
                let work = work.clone();
                (name.clone(), deadline::spawn(name, move || work()))
            })
            .collect();
        Running {
            deadline,
            boot_time,
            quick,
            cpu,
            processes,
            disk,
            files,
            checks,
            extra,
        }
    }

    /// Waits for each collector in the report's order and merges its result; the
    /// order is the order of `errors`.
    fn merge_into(self, m: &mut Merge, settings: &Settings, now: DateTime<Utc>) {
        let (deadline, window, zone) = (self.deadline, settings.cpu_sample, &settings.zone);
        let q = m
            .wait(self.quick, deadline)
            .unwrap_or_else(|e| Quick::failed(&Wanted::from(settings), e));
        let hostname = match (q.hostname, &settings.hostname) {
            (Some(result), _) => m.found("hostname", result),
            (None, name) => name.clone(),
        };
        m.put_hostname(hostname.unwrap_or_else(|| "unknown-host".into()));
        m.readings.boot = q.boot.map(|r| m.found("boot", r));
        m.readings.memory = q.memory.map(|r| m.found("memory", r));
        m.readings.load = q.load.map(|r| m.found("load", r));
        if let Some(disk) = self.disk {
            // The disk collector returns partial results at the deadline itself; a little grace.
            let disks = m.wait(disk, deadline + Duration::from_millis(250));
            let disks = disks.map(|(disks, failures)| m.also_failed("disk", failures, disks));
            m.readings.disks = Some(m.found("disk", disks));
        }
        let earlier = settings.previous.counters.as_ref();
        let previous = |kind| counters::previous(earlier, kind, self.boot_time, now);
        if let Some(cpu) = self.cpu {
            let cpu = m.wait(cpu, deadline + window).map(|(section, table)| {
                let section = cpu::with_average(section, &table, previous("cpu"), zone);
                m.remember("cpu", section, table)
            });
            m.readings.cpu = Some(m.found("cpu", cpu));
        }
        for (name, running) in self.extra {
            let value = m.wait(running, deadline);
            let value = m.found(&name, value);
            m.readings.extra.push((name, value));
        }
        if let Some(r) = q.network {
            let r =
                r.map(|t| m.remember("network", network::report(&t, previous("network"), zone), t));
            m.readings.network = Some(m.found("network", r));
        }
        if let Some(r) = q.diskio {
            let r =
                r.map(|t| m.remember("diskio", diskio::report(&t, previous("diskio"), zone), t));
            m.readings.diskio = Some(m.found("diskio", r));
        }
        if let Some(processes) = self.processes {
            let processes = m.wait(processes, deadline + window);
            let processes = processes.map(|(section, io)| m.remember("process_io", section, io));
            m.readings.processes = Some(m.found("processes", processes));
        }
        m.readings.checks = self.checks.map(checks::Started::finish);
        m.readings.users = q.users.map(|r| m.found("users", r));
        if let Some(files) = self.files {
            let section = m.wait(files, deadline).map(|(section, manifest)| {
                m.files = Some(manifest);
                let unreadable: Vec<_> = section
                    .watched
                    .iter()
                    .filter_map(|w| w.error.clone())
                    .collect();
                m.also_failed("files", unreadable, section)
            });
            m.readings.files = Some(m.found("files", section));
        }
    }
}

/// Which of the cheap collectors to run.
#[derive(Clone, Copy)]
struct Wanted {
    hostname: bool,
    boot: bool,
    memory: bool,
    load: bool,
    network: bool,
    diskio: bool,
    users: bool,
}

impl From<&Settings> for Wanted {
    fn from(s: &Settings) -> Wanted {
        Wanted {
            hostname: s.hostname.is_none(),
            boot: s.shows(Section::Host),
            memory: s.shows(Section::Memory),
            load: s.shows(Section::Cpu),
            network: s.shows(Section::Network),
            diskio: s.shows(Section::Diskio),
            users: s.shows(Section::Users),
        }
    }
}

type Maybe<T> = Option<Result<T, CollectError>>;

/// The collectors that only read a few small procfs or /run files: microseconds each,
/// and procfs never waits on a device or a network. They share one thread (one
/// deadline) because every thread costs the daemon memory: glibc keeps a malloc
/// arena and a cached stack per concurrent thread. `None`: not wanted.
struct Quick {
    hostname: Maybe<String>,
    boot: Maybe<boot::Boot>,
    memory: Maybe<memory::Memory>,
    load: Maybe<load::Load>,
    network: Maybe<counters::Table>,
    diskio: Maybe<counters::Table>,
    users: Maybe<Vec<users::Session>>,
}

impl Quick {
    fn collect(want: &Wanted, zone: &Zone) -> Quick {
        Quick {
            hostname: want.hostname.then(|| deadline::guarded(host::hostname)),
            boot: want.boot.then(|| deadline::guarded(|| boot::collect(zone))),
            memory: want.memory.then(|| deadline::guarded(memory::collect)),
            load: want.load.then(|| deadline::guarded(load::collect)),
            network: want.network.then(|| deadline::guarded(network::read)),
            diskio: want.diskio.then(|| deadline::guarded(diskio::read)),
            users: want
                .users
                .then(|| deadline::guarded(|| users::collect(zone))),
        }
    }

    /// Every wanted one failed the same way (the shared thread missed its deadline).
    fn failed(want: &Wanted, e: CollectError) -> Quick {
        fn fail<T>(wanted: bool, e: &CollectError) -> Maybe<T> {
            wanted.then(|| Err(e.clone()))
        }
        Quick {
            hostname: fail(want.hostname, &e),
            boot: fail(want.boot, &e),
            memory: fail(want.memory, &e),
            load: fail(want.load, &e),
            network: fail(want.network, &e),
            diskio: fail(want.diskio, &e),
            users: fail(want.users, &e),
        }
    }
}

/// The merging half of `gather`: results into the readings, failures into
/// `errors`, counter tables into the snapshot for the next report.
struct Merge {
    readings: Readings,
    snapshot: counters::Snapshot,
    /// The watched files' manifest, when the files collector ran and finished.
    files: Option<manifest::Manifest>,
    /// How the deadline is named in messages.
    limit: String,
}

impl Merge {
    fn wait<T>(
        &self,
        running: Result<deadline::Running<T>, CollectError>,
        until: Instant,
    ) -> Result<T, CollectError> {
        running.and_then(|r| r.wait(until, &self.limit))
    }

    /// What a collector found, or None and an `errors` entry naming `collector`.
    fn found<T>(&mut self, collector: &str, result: Result<T, CollectError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                let failure = CollectorFailure {
                    collector: collector.to_string(),
                    message: e.to_string(),
                };
                tracing::warn!("collector {collector} failed: {}", failure.message);
                self.readings.errors.push(failure);
                None
            }
        }
    }

    /// Records a collector's partial failures (a mount, a watched path) in `errors`
    /// and passes its result on.
    fn also_failed<T>(
        &mut self,
        collector: &str,
        failures: impl IntoIterator<Item = String>,
        result: T,
    ) -> T {
        self.readings
            .errors
            .extend(failures.into_iter().map(|message| CollectorFailure {
                collector: collector.into(),
                message,
            }));
        result
    }

    /// Keeps a counter table for the next report; returns the section made from it.
    fn remember<T>(&mut self, kind: &str, section: T, table: counters::Table) -> T {
        self.snapshot.tables.insert(kind.into(), table);
        section
    }

    fn put_hostname(&mut self, hostname: String) {
        let (shown, cut) = truncate(&hostname, HOSTNAME_MAX_CHARS);
        if cut {
            let message = format!(
                "hostname is {} characters long; the report shows the first {HOSTNAME_MAX_CHARS}",
                hostname.chars().count()
            );
            self.readings.errors.push(CollectorFailure {
                collector: "hostname".into(),
                message,
            });
        }
        self.readings.hostname = shown;
    }
}

/// DNS allows 253 characters; anything longer is shown cut, and the report says so.
const HOSTNAME_MAX_CHARS: usize = 253;
