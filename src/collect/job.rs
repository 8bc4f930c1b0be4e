//! What a collector's work is given and gives back: the report's `Job` (when it is,
//! what the previous report left), the `Work` that runs on a thread, and the `Put`
//! that stores its result in the readings.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::cpu::CpuSample;
use super::merge::Merge;
use super::procfs::Procfs;
use super::{counters, CollectError};
use crate::zone::Zone;

/// What one report's collectors share: when it is, and what the previous one left.
#[derive(Clone)]
pub(super) struct Job {
    pub now: DateTime<Utc>,
    /// This boot (Unix seconds): counters from another are not compared with.
    pub boot_time: u64,
    pub zone: Zone,
    /// The CPU sample window.
    pub window: Duration,
    /// The CPU counters read as the window opened.
    pub cpu: Result<CpuSample, CollectError>,
    /// When the report goes out, whatever the collectors do.
    pub deadline: Instant,
    pub earlier: Option<counters::Snapshot>,
    pub procfs: Procfs,
}

impl Job {
    /// The previous report's `kind` counters, when usable.
    pub fn previous(&self, kind: &str) -> Option<counters::Previous<'_>> {
        counters::previous(self.earlier.as_ref(), kind, self.boot_time, self.now)
    }
}

/// Puts what a collector found into the readings (and what it leaves for the next
/// report into the merge): its result with its type erased, so the table is one list.
pub(super) type Put = Box<dyn FnOnce(&mut Merge, &Job) + Send>;
/// A collector's work, ready to run on another thread.
pub(super) type Work = Box<dyn FnOnce() -> Result<Put, CollectError> + Send>;

/// Wraps a finished result as the `Put` that stores it.
pub(super) fn put<T: Send + 'static>(value: T, store: fn(&mut Merge, &Job, T)) -> Put {
    Box::new(move |m: &mut Merge, job: &Job| store(m, job, value))
}
