//! The `cpu` collector: counts, busy share over the sample window, load averages.
//!
//! Sampling is split in two (`CpuSample::start`, then `finish`) so the other
//! collectors run inside the window instead of after it: the report costs the
//! window once, not the window plus everything else.

use std::time::{Duration, Instant};

use psutil::cpu::CpuPercentCollector;
use serde::Serialize;

use super::{round1, CollectError};

#[derive(Debug, Clone, Serialize)]
pub struct Cpu {
    /// Online logical CPUs (the `cpuN` lines of /proc/stat).
    pub logical: usize,
    /// Physical cores, from /proc/cpuinfo; null where the kernel does not say.
    pub physical: Option<usize>,
    /// Busy share of all CPUs over the sample window, 0 to 100; null when the
    /// window was too short for the kernel's tick counters to move.
    pub percent: Option<f64>,
    /// 1, 5 and 15 minute load averages.
    pub load_avg: [f64; 3],
}

/// A CPU measurement under way.
pub struct CpuSample {
    collector: CpuPercentCollector,
    started: Instant,
}

impl CpuSample {
    pub fn start() -> Result<CpuSample, CollectError> {
        let collector = CpuPercentCollector::new()
            .map_err(|e| CollectError::new(format!("/proc/stat: {e}")))?;
        Ok(CpuSample {
            collector,
            started: Instant::now(),
        })
    }

    /// Waits out what is left of `window`, then reads the counters again.
    pub fn finish(mut self, window: Duration) -> Result<Cpu, CollectError> {
        if let Some(left) = window.checked_sub(self.started.elapsed()) {
            std::thread::sleep(left);
        }
        let read = |e: psutil::Error| CollectError::new(format!("/proc/stat: {e}"));
        // Both calls compare against the same starting snapshot; the per-CPU one is used
        // for its length only, which is the number of cpuN lines.
        let mut per_cpu_collector = self.collector.clone();
        let percent = self.collector.cpu_percent().map_err(read)?;
        let logical = per_cpu_collector.cpu_percent_percpu().map_err(read)?.len();
        let load = psutil::host::loadavg()
            .map_err(|e| CollectError::new(format!("/proc/loadavg: {e}")))?;
        let physical = psutil::cpu::cpu_count_physical() as usize;
        Ok(Cpu {
            logical,
            physical: (physical > 0).then_some(physical),
            percent: f64::from(percent)
                .is_finite()
                .then(|| round1(f64::from(percent))),
            load_avg: [load.one, load.five, load.fifteen].map(|l| (l * 100.0).round() / 100.0),
        })
    }
}
