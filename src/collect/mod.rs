//! The collectors: each reads one resource and returns its own map; `gather` merges
//! them under their keys into the report's context.
//!
//! A collector's failure is data, never an abort: its key becomes null and the
//! failure an entry in `errors`, which the report shows. A panic inside one (a
//! parser meeting data nobody expected) is caught and treated the same way.
//! Collectors know nothing of templates or mail.

pub mod boot;
pub mod counters;
pub mod cpu;
pub mod deadline;
pub mod disk;
pub mod diskio;
pub mod host;
pub mod load;
pub mod memory;
pub mod network;
pub mod processes;
pub mod users;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;
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
    pub zone: Tz,
    /// Replaces the collected hostname.
    pub hostname: Option<String>,
    pub filesystems: Option<Vec<PathBuf>>,
    pub cpu_sample: Duration,
    /// How long each collector may take (the CPU collector: this on top of its window).
    pub timeout: Duration,
    pub thresholds: crate::status::Thresholds,
    /// The counters saved with the previous report, for "since the previous report".
    pub previous: Option<counters::Snapshot>,
    pub extra: Vec<Extra>,
}

impl Settings {
    pub fn new(zone: Tz, cpu_sample: Duration, timeout: Duration) -> Settings {
        Settings {
            zone,
            hostname: None,
            filesystems: None,
            cpu_sample,
            timeout,
            thresholds: crate::status::Thresholds::default(),
            previous: None,
            extra: Vec::new(),
        }
    }
}

/// The merged context: collector maps under their keys, plus `hostname`,
/// `generated_at`, `status` and `errors`. Keys are sorted (a `BTreeMap`) so the
/// JSON is the same shape on every run.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Context(pub Map<String, Value>);

/// Runs every collector once, each on its own thread and under its deadline, and
/// merges the results. `now` is the report's time. Returns by the deadline, however
/// the collectors behave.
pub fn gather(settings: &Settings, now: DateTime<Utc>) -> Context {
    gather_with_counters(settings, now).0
}

/// `gather`, also returning this report's counters, to be saved for the next one.
pub fn gather_with_counters(
    settings: &Settings,
    now: DateTime<Utc>,
) -> (Context, counters::Snapshot) {
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let limit = format!(
        "{} s (collector_timeout_secs)",
        settings.timeout.as_secs_f64()
    );
    let (zone, window, filesystems) = (
        settings.zone,
        settings.cpu_sample,
        settings.filesystems.clone(),
    );
    // All start at once, so the others run inside the CPU sample window.
    let cpu = deadline::spawn("cpu", move || cpu::CpuSample::start()?.finish(window));
    let want_hostname = settings.hostname.is_none();
    let quick = deadline::spawn("procfs", move || Ok(Quick::collect(want_hostname, zone)));
    // Counters from before a reboot are useless; /proc/stat's btime says which boot this is.
    let boot_time = psutil::host::boot_time()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let earlier = settings.previous.clone();
    let processes = deadline::spawn("processes", move || {
        let previous = counters::previous(earlier.as_ref(), "process_io", boot_time, now);
        processes::collect(window, previous)
    });
    let disk = deadline::spawn("disk", move || {
        disk::collect(filesystems.as_deref(), deadline)
    });
    let extra: Vec<_> = settings
        .extra
        .iter()
        .map(|(name, work)| {
            let work = work.clone();
            (name.clone(), deadline::spawn(name, move || work()))
        })
        .collect();

    let mut m = Merge {
        ctx: Context(Map::new()),
        errors: Vec::new(),
        snapshot: counters::Snapshot {
            version: counters::SNAPSHOT_VERSION,
            taken_at: now,
            boot_time,
            tables: Default::default(),
        },
        limit,
    };
    let q = m.wait(quick, deadline).unwrap_or_else(Quick::failed);
    let hostname = match (q.hostname, &settings.hostname) {
        (Some(result), _) => m.ctx.merge("hostname", "hostname", result, &mut m.errors),
        (None, name) => name.clone(),
    };
    m.put_hostname(hostname.unwrap_or_else(|| "unknown-host".into()));
    m.ctx.merge("boot", "boot", q.boot, &mut m.errors);
    m.ctx.merge("memory", "memory", q.memory, &mut m.errors);
    m.ctx.merge("load", "load", q.load, &mut m.errors);
    // The disk collector returns partial results at the deadline itself; a little grace.
    let disks = m
        .wait(disk, deadline + Duration::from_millis(250))
        .map(|(disks, failures)| {
            m.errors
                .extend(failures.into_iter().map(|message| CollectorFailure {
                    collector: "disk".into(),
                    message,
                }));
            disks
        });
    m.ctx.merge("disks", "disk", disks, &mut m.errors);
    m.take("cpu", "cpu", cpu, deadline + window);
    for (name, running) in extra {
        m.take(&name, &name, running, deadline);
    }
    let previous = |kind| counters::previous(settings.previous.as_ref(), kind, boot_time, now);
    let network = q.network.map(|table| {
        m.remember(
            "network",
            network::report(&table, previous("network"), zone),
            table,
        )
    });
    m.ctx.merge("network", "network", network, &mut m.errors);
    let diskio = q.diskio.map(|table| {
        m.remember(
            "diskio",
            diskio::report(&table, previous("diskio"), zone),
            table,
        )
    });
    m.ctx.merge("diskio", "diskio", diskio, &mut m.errors);
    let processes = m
        .wait(processes, deadline + window)
        .map(|(section, io)| m.remember("process_io", section, io));
    m.ctx
        .merge("processes", "processes", processes, &mut m.errors);
    m.ctx.merge("users", "users", q.users, &mut m.errors);
    let Merge {
        mut ctx,
        errors,
        snapshot,
        ..
    } = m;
    ctx.put(
        "generated_at",
        now.with_timezone(&settings.zone)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    );
    ctx.put("errors", &errors);
    crate::status::assess(&mut ctx, &settings.thresholds);
    (ctx, snapshot)
}

/// The collectors that only read a few small procfs or /run files: microseconds each,
/// and procfs never waits on a device or a network. They share one thread (one
/// deadline) because every thread costs the daemon memory: glibc keeps a malloc
/// arena and a cached stack per concurrent thread.
struct Quick {
    hostname: Option<Result<String, CollectError>>,
    boot: Result<boot::Boot, CollectError>,
    memory: Result<memory::Memory, CollectError>,
    load: Result<load::Load, CollectError>,
    network: Result<counters::Table, CollectError>,
    diskio: Result<counters::Table, CollectError>,
    users: Result<Vec<users::Session>, CollectError>,
}

impl Quick {
    fn collect(want_hostname: bool, zone: Tz) -> Quick {
        Quick {
            hostname: want_hostname.then(|| deadline::guarded(host::hostname)),
            boot: deadline::guarded(|| boot::collect(zone)),
            memory: deadline::guarded(memory::collect),
            load: deadline::guarded(load::collect),
            network: deadline::guarded(network::read),
            diskio: deadline::guarded(diskio::read),
            users: deadline::guarded(|| users::collect(zone)),
        }
    }

    /// Every one of them failed the same way (the shared thread missed its deadline).
    fn failed(e: CollectError) -> Quick {
        Quick {
            hostname: Some(Err(e.clone())),
            boot: Err(e.clone()),
            memory: Err(e.clone()),
            load: Err(e.clone()),
            network: Err(e.clone()),
            diskio: Err(e.clone()),
            users: Err(e),
        }
    }
}

/// The merging half of `gather`: results into the context, failures into `errors`,
/// counter tables into the snapshot for the next report.
struct Merge {
    ctx: Context,
    errors: Vec<CollectorFailure>,
    snapshot: counters::Snapshot,
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
