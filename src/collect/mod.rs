//! The collectors: each reads one resource and returns its own map; `gather` merges
//! them under their keys into the report's context.
//!
//! A collector's failure is data, never an abort: its key becomes null and the
//! failure an entry in `errors`, which the report shows. A panic inside one (a
//! parser meeting data nobody expected) is caught and treated the same way.
//! Collectors know nothing of templates or mail.

pub mod boot;
pub mod checks;
mod command;
pub mod counters;
pub mod cpu;
pub mod deadline;
pub mod disk;
pub mod diskio;
pub mod files;
pub mod host;
pub mod load;
pub mod manifest;
pub mod memory;
pub mod network;
pub mod processes;
pub mod users;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::zone::Zone;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::sections::{Section, Sections};
use serde_json::{Map, Value};

/// Why a collector produced nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CollectError(String);

impl CollectError {
    pub fn new(message: impl Into<String>) -> Self {
        CollectError(message.into())
    }
}

/// One entry of the context's `errors` list.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorFailure {
    pub collector: String,
    pub message: String,
}

/// A collector added by a caller: a name (its key in the context) and the work.
/// Tests use it to inject collectors that hang or panic.
pub type Extra = (
    String,
    Arc<dyn Fn() -> Result<Value, CollectError> + Send + Sync>,
);

/// What the collectors need to know from the config.
#[derive(Clone)]
pub struct Settings {
    pub zone: Zone,
    /// Replaces the collected hostname.
    pub hostname: Option<String>,
    pub filesystems: Option<Vec<PathBuf>>,
    pub cpu_sample: Duration,
    /// How long each collector may take (the CPU collector: this on top of its window).
    pub timeout: Duration,
    pub thresholds: crate::status::Thresholds,
    /// Only the collectors of these sections run.
    pub sections: Sections,
    pub checks: Vec<checks::Check>,
    pub watches: Vec<manifest::Watch>,
    /// What was saved with the previous report, for "since the previous report".
    pub previous: Remembered,
    pub extra: Vec<Extra>,
}

impl Settings {
    pub fn new(zone: Zone, cpu_sample: Duration, timeout: Duration) -> Settings {
        Settings {
            zone,
            hostname: None,
            filesystems: None,
            cpu_sample,
            timeout,
            thresholds: crate::status::Thresholds::default(),
            sections: Sections::default(),
            checks: Vec::new(),
            watches: Vec::new(),
            previous: Remembered::default(),
            extra: Vec::new(),
        }
    }

    fn shows(&self, section: Section) -> bool {
        self.sections.shows(section)
    }
}

/// What one report leaves for the next: counters and the watched files' manifest.
/// Either may be absent (first report, or the collector did not run or failed):
/// then nothing of that kind is saved and the previous file stays as it was.
#[derive(Debug, Clone, Default)]
pub struct Remembered {
    pub counters: Option<counters::Snapshot>,
    pub files: Option<manifest::Manifest>,
}

/// The merged context: collector maps under their keys, plus `hostname`,
/// `generated_at`, `sections`, `status` and `errors`. Keys are sorted (a
/// `BTreeMap`) so the JSON is the same shape on every run. A section that is not
/// shown has no key at all; a collector that failed has null.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Context(pub Map<String, Value>);

/// Runs the collectors of the chosen sections once, each on its own thread and
/// under its deadline, and merges the results. `now` is the report's time. Returns
/// by the deadline, however the collectors behave.
pub fn gather(settings: &Settings, now: DateTime<Utc>) -> Context {
    gather_and_remember(settings, now).0
}

/// `gather`, also returning what this report leaves for the next one.
pub fn gather_and_remember(settings: &Settings, now: DateTime<Utc>) -> (Context, Remembered) {
    let running = Running::start(settings, now);
    let mut m = Merge {
        ctx: Context(Map::new()),
        errors: Vec::new(),
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
    let Merge {
        mut ctx,
        errors,
        snapshot,
        files,
        ..
    } = m;
    ctx.put(
        "generated_at",
        now.with_timezone(&settings.zone)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    );
    ctx.put("sections", &settings.sections);
    ctx.put("errors", &errors);
    crate::status::assess(&mut ctx, &settings.thresholds);
    let remembered = Remembered {
        counters: Some(snapshot),
        files,
    };
    (ctx, remembered)
}

type Started<T> = Option<Result<deadline::Running<T>, CollectError>>;

/// Every collector of the report, started at once, so the others run inside the
/// CPU sample window. `None`: its section is not shown.
struct Running {
    started: Instant,
    deadline: Instant,
    boot_time: u64,
    quick: Result<deadline::Running<Quick>, CollectError>,
    cpu: Started<cpu::Cpu>,
    processes: Started<(processes::Processes, counters::Table)>,
    disk: Started<(Vec<disk::Disk>, Vec<String>)>,
    files: Started<(files::Files, manifest::Manifest)>,
    checks: Option<checks::Started>,
    extra: Vec<(String, Result<deadline::Running<Value>, CollectError>)>,
}

impl Running {
    fn start(settings: &Settings, now: DateTime<Utc>) -> Running {
        let started = Instant::now();
        let deadline = started + settings.timeout;
        let (zone, window) = (settings.zone.clone(), settings.cpu_sample);
        let when = |section| settings.shows(section).then_some(());
        // Counters from before a reboot are useless; /proc/stat's btime says which boot this is.
        let boot_time = psutil::host::boot_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let cpu = when(Section::Cpu)
            .map(|()| deadline::spawn("cpu", move || cpu::CpuSample::start()?.finish(window)));
        let wanted = Wanted::from(settings);
        let quick = {
            let zone = zone.clone();
            deadline::spawn("procfs", move || Ok(Quick::collect(&wanted, &zone)))
        };
        let processes = when(Section::Processes).map(|()| {
            let earlier = settings.previous.counters.clone();
            deadline::spawn("processes", move || {
                let previous = counters::previous(earlier.as_ref(), "process_io", boot_time, now);
                processes::collect(window, previous)
            })
        });
        let disk = when(Section::Filesystems).map(|()| {
            let filesystems = settings.filesystems.clone();
            deadline::spawn("disk", move || {
                disk::collect(filesystems.as_deref(), deadline)
            })
        });
        let files = (settings.shows(Section::Files) && !settings.watches.is_empty()).then(|| {
            let (watches, before) = (settings.watches.clone(), settings.previous.files.clone());
            deadline::spawn("files", move || {
                Ok(files::collect(&watches, before.as_ref(), now, &zone))
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
            started,
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

    /// Waits for each collector in the report's order and merges its result.
    fn merge_into(self, m: &mut Merge, settings: &Settings, now: DateTime<Utc>) {
        let (deadline, window, zone) = (self.deadline, settings.cpu_sample, &settings.zone);
        let q = m
            .wait(self.quick, deadline)
            .unwrap_or_else(|e| Quick::failed(&Wanted::from(settings), e));
        let hostname = match (q.hostname, &settings.hostname) {
            (Some(result), _) => m.ctx.merge("hostname", "hostname", result, &mut m.errors),
            (None, name) => name.clone(),
        };
        m.put_hostname(hostname.unwrap_or_else(|| "unknown-host".into()));
        m.put("boot", "boot", q.boot);
        m.put("memory", "memory", q.memory);
        m.put("load", "load", q.load);
        if let Some(disk) = self.disk {
            // The disk collector returns partial results at the deadline itself; a little grace.
            let disks =
                m.wait(disk, deadline + Duration::from_millis(250))
                    .map(|(disks, failures)| {
                        m.errors
                            .extend(failures.into_iter().map(|message| CollectorFailure {
                                collector: "disk".into(),
                                message,
                            }));
                        disks
                    });
            m.ctx.merge("disks", "disk", disks, &mut m.errors);
        }
        if let Some(cpu) = self.cpu {
            m.take("cpu", "cpu", cpu, deadline + window);
        }
        for (name, running) in self.extra {
            m.take(&name, &name, running, deadline);
        }
        let earlier = settings.previous.counters.as_ref();
        let previous = |kind| counters::previous(earlier, kind, self.boot_time, now);
        let network = q.network.map(|r| {
            r.map(|table| {
                m.remember(
                    "network",
                    network::report(&table, previous("network"), zone),
                    table,
                )
            })
        });
        m.put("network", "network", network);
        let diskio = q.diskio.map(|r| {
            r.map(|table| {
                m.remember(
                    "diskio",
                    diskio::report(&table, previous("diskio"), zone),
                    table,
                )
            })
        });
        m.put("diskio", "diskio", diskio);
        if let Some(processes) = self.processes {
            let processes = m
                .wait(processes, deadline + window)
                .map(|(section, io)| m.remember("process_io", section, io));
            m.ctx
                .merge("processes", "processes", processes, &mut m.errors);
        }
        if let Some(checks) = self.checks {
            let outcomes = checks.finish();
            m.ctx.put("checks", outcomes);
        }
        m.put("users", "users", q.users);
        if let Some(files) = self.files {
            let until = self.started + settings.timeout;
            let section = m.wait(files, until).map(|(section, manifest)| {
                m.files = Some(manifest);
                let unreadable = section.watched.iter().filter_map(|w| w.error.clone());
                m.errors.extend(unreadable.map(|message| CollectorFailure {
                    collector: "files".into(),
                    message,
                }));
                section
            });
            m.ctx.merge("files", "files", section, &mut m.errors);
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

/// The merging half of `gather`: results into the context, failures into `errors`,
/// counter tables into the snapshot for the next report.
struct Merge {
    ctx: Context,
    errors: Vec<CollectorFailure>,
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

    /// Waits for one collector and puts its result (or its failure) under `key`.
    fn take<T: Serialize>(
        &mut self,
        key: &str,
        collector: &str,
        running: Result<deadline::Running<T>, CollectError>,
        until: Instant,
    ) -> Option<T> {
        let result = self.wait(running, until);
        self.ctx.merge(key, collector, result, &mut self.errors)
    }

    /// Puts a result under `key` when its collector ran.
    fn put<T: Serialize>(&mut self, key: &str, collector: &str, result: Maybe<T>) {
        if let Some(result) = result {
            self.ctx.merge(key, collector, result, &mut self.errors);
        }
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
            self.errors.push(CollectorFailure {
                collector: "hostname".into(),
                message,
            });
        }
        self.ctx.put("hostname", shown);
    }
}

impl Context {
    fn put(&mut self, key: &str, value: impl Serialize) {
        // Serializing our own plain structs into a JSON value cannot fail.
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.0.insert(key.to_string(), value);
    }

    /// Puts a collector's result under `key`: its value, or null and an `errors` entry
    /// naming `collector`.
    fn merge<T: Serialize>(
        &mut self,
        key: &str,
        collector: &str,
        result: Result<T, CollectError>,
        errors: &mut Vec<CollectorFailure>,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                self.put(key, &value);
                Some(value)
            }
            Err(e) => {
                let failure = CollectorFailure {
                    collector: collector.to_string(),
                    message: e.to_string(),
                };
                tracing::warn!("collector {collector} failed: {}", failure.message);
                errors.push(failure);
                self.put(key, Value::Null);
                None
            }
        }
    }
}

/// DNS allows 253 characters; anything longer is shown cut, and the report says so.
const HOSTNAME_MAX_CHARS: usize = 253;

/// The first `max` characters (plus "…") and whether anything was cut.
pub fn truncate(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((at, _)) => (format!("{}…", &text[..at]), true),
        None => (text.to_string(), false),
    }
}

/// `part / whole` as a percentage with one decimal; 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round1(part as f64 / whole as f64 * 100.0)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("héllo", 3), ("hél…".to_string(), true));
        assert_eq!(truncate("héllo", 5), ("héllo".to_string(), false));
        assert_eq!(truncate("🚀🚀", 1), ("🚀…".to_string(), true));
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(5, 0), 0.0);
    }
}
