//! Running the collectors for one report: start every chosen one at once (so they
//! run inside the CPU sample window), wait for each until its deadline, and merge
//! results and failures into the context.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::cpu::CpuSample;
use super::job::{Job, Put, Work};
use super::merge::Merge;
use super::procfs::Procfs;
use super::table::TABLE;
use super::{counters, deadline, CollectError, CollectorFailure, Readings, Remembered, Settings};

/// Runs the collectors of the chosen sections once, each on its own thread and
/// under its deadline, and merges the results. `now` is the report's time. Returns
/// by the deadline, however the collectors behave.
pub fn gather(settings: &Settings, now: DateTime<Utc>) -> Readings {
    gather_and_remember(settings, now).0
}

/// `gather`, also returning what this report leaves for the next one.
pub fn gather_and_remember(settings: &Settings, now: DateTime<Utc>) -> (Readings, Remembered) {
    let window = Window::open(&settings.procfs);
    gather_in(window, settings, now)
}

/// The CPU sample window, opened: the CPU counters as it opened. Opened first,
/// so that what a report does before its collectors run (the previous report's
/// counters read, threads started) falls inside the window instead of before it.
/// The counters are read whether or not the CPU section is shown: one read of
/// /proc/stat, and none of the collectors has to ask whether it was made.
pub struct Window {
    cpu: Result<CpuSample, CollectError>,
}

impl Window {
    pub fn open(procfs: &Procfs) -> Window {
        Window {
            cpu: CpuSample::start_in(procfs),
        }
    }
}

/// `gather_and_remember` inside a window opened earlier.
pub fn gather_in(
    window: Window,
    settings: &Settings,
    now: DateTime<Utc>,
) -> (Readings, Remembered) {
    let running = Running::start(window, settings, now);
    let mut m = Merge {
        readings: Readings::default(),
        snapshot: counters::Snapshot {
            version: counters::SNAPSHOT_VERSION,
            taken_at: now,
            boot_time: running.job.boot_time,
            tables: Default::default(),
            cursors: Default::default(),
        },
        files: None,
        limit: format!(
            "{} s (collector_timeout_secs)",
            settings.timeout.as_secs_f64()
        ),
    };
    running.merge_into(&mut m, settings);
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
        mut snapshot,
        files,
        ..
    } = m;
    // A log not read this time (its collector failed, or its section is not shown)
    // keeps its place for the next report.
    for (source, cursor) in settings.previous.counters.iter().flat_map(|c| &c.cursors) {
        if !snapshot.cursors.contains_key(source) {
            snapshot.cursors.insert(source.clone(), cursor.clone());
        }
    }
    readings.generated_at = settings.zone.rfc3339(now);
    readings.sections = settings.sections.clone();
    let remembered = Remembered {
        counters: Some(snapshot),
        files,
        unreadable: Default::default(),
    };
    (readings, remembered)
}

/// What the shared thread hands back: each cheap collector's result, by table index.
type CheapResults = Vec<(usize, Result<Put, CollectError>)>;

/// Every wanted collector of the report, started at once, so the others run inside
/// the CPU sample window: the cheap ones together on one thread, each other one on
/// its own.
struct Running {
    job: Job,
    /// The cheap collectors started, by table index, and their shared thread.
    cheap_ids: Vec<usize>,
    cheap: Result<deadline::Running<CheapResults>, CollectError>,
    own: Vec<(usize, Result<deadline::Running<Put>, CollectError>)>,
    extra: Vec<(String, Result<deadline::Running<Value>, CollectError>)>,
}

impl Running {
    fn start(window: Window, settings: &Settings, now: DateTime<Utc>) -> Running {
        // Counters from before a reboot are useless; /proc/stat's btime says which boot this is.
        let boot_time = psutil::host::boot_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let job = Job {
            now,
            boot_time,
            zone: settings.zone.clone(),
            window: settings.cpu_sample,
            cpu: window.cpu,
            deadline: Instant::now() + settings.timeout,
            earlier: settings.previous.counters.clone(),
            procfs: settings.procfs.clone(),
        };
        let wanted = TABLE
            .iter()
            .enumerate()
            .filter(|(_, e)| (e.wanted)(settings));
        let (cheap, own): (Vec<_>, Vec<_>) = wanted.partition(|(_, e)| e.cheap);
        let cheap_ids = cheap.iter().map(|(i, _)| *i).collect();
        let cheap: Vec<(usize, Work)> = cheap
            .into_iter()
            .map(|(i, e)| (i, (e.work)(settings, &job)))
            .collect();
        let cheap = deadline::spawn("procfs", move || {
            Ok(cheap
                .into_iter()
                .map(|(i, work)| (i, deadline::guarded(work)))
                .collect())
        });
        let own = own
            .into_iter()
            .map(|(i, e)| (i, deadline::spawn(e.name, (e.work)(settings, &job))))
            .collect();
        let extra = settings
            .extra
            .iter()
            .map(|(name, work)| {
                let work = work.clone();
                (name.clone(), deadline::spawn(name, move || work()))
            })
            .collect();
        Running {
            job,
            cheap_ids,
            cheap,
            own,
            extra,
        }
    }

    /// Waits for each collector and merges its result in the table's order (the order
    /// of `errors`), then the callers' extra collectors.
    fn merge_into(self, m: &mut Merge, settings: &Settings) {
        let deadline = self.job.deadline;
        let mut results: Vec<(usize, Result<Put, CollectError>)> =
            match m.wait(self.cheap, deadline) {
                Ok(found) => found,
                // The shared thread missed its deadline: every cheap collector failed so.
                Err(e) => self
                    .cheap_ids
                    .iter()
                    .map(|&i| (i, Err(e.clone())))
                    .collect(),
            };
        for (i, running) in self.own {
            let until = deadline + (TABLE[i].grace)(settings);
            results.push((i, m.wait(running, until)));
            // Each wait is bounded by its deadline: its end is progress.
            crate::notify::progress();
        }
        results.sort_by_key(|(i, _)| *i);
        // A configured hostname is no collector, but its place is first all the same.
        if let Some(name) = &settings.hostname {
            m.put_hostname(name.clone());
        }
        for (i, result) in results {
            match result {
                Ok(put) => put(m, &self.job),
                Err(e) => {
                    m.failed(TABLE[i].name, e);
                    (TABLE[i].failed)(&mut m.readings);
                }
            }
        }
        if m.readings.hostname.is_empty() {
            m.put_hostname("unknown-host".into());
        }
        for (name, running) in self.extra {
            let value = m.wait(running, deadline);
            let value = value.map_err(|e| m.failed(&name, e)).ok();
            m.readings.extra.push((name, value));
        }
    }
}
