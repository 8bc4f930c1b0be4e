//! The `cpu` collector: counts, the busy share (and iowait and steal) over the sample
//! window and since the previous report, load averages.
//!
//! The level is judged on the average since the previous report, from the
//! /proc/stat counters kept in the state directory as the network and disk ones are:
//! a 200 ms snapshot at 08:00, when cron jobs run, flips between 0 % and 100 % and
//! says nothing of the day. The window's share is shown beside it as "now"; the
//! first report (or the first after a reboot) has only that, and says so.
//!
//! Sampling is split in two (`CpuSample::start`, then `finish`) so the other
//! collectors run inside the window instead of after it: the report costs the
//! window once, not the window plus everything else.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::counters::{self, Previous, Table};
use super::procfs::Procfs;
use super::{round1, CollectError};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Cpu {
    /// Online logical CPUs (the `cpuN` lines of /proc/stat).
    pub logical: usize,
    /// Physical cores, from /proc/cpuinfo; null where the kernel does not say.
    pub physical: Option<usize>,
    /// Busy share of all CPUs over the sample window ("now"), 0 to 100; null when
    /// the window was too short for the kernel's tick counters to move.
    pub percent: Option<f64>,
    /// How many decimals the window's figures have: a 200 ms window on two CPUs
    /// counts 40 ticks, so its shares move in steps of 2.5 % and are shown whole.
    pub decimals: usize,
    /// Waiting for I/O and stolen by the hypervisor, over the sample window.
    pub iowait: Option<f64>,
    pub steal: Option<f64>,
    /// The same shares since the previous report; null on the first report and
    /// after a reboot. The level is judged on this when it is there.
    pub average: Option<Shares>,
    pub previous_report: Option<String>,
    pub interval_secs: Option<u64>,
    /// 1, 5 and 15 minute load averages.
    pub load_avg: [f64; 3],
}

/// Shares of all CPUs' time over a period, in percent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Shares {
    /// Everything but idle and iowait (psutil's and top's "busy"); steal is part of it.
    pub percent: f64,
    pub iowait: f64,
    pub steal: f64,
}

/// The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq
/// steal (guest time is already inside user and nice).
const TICKS: usize = 8;
const IDLE: usize = 3;
const IOWAIT: usize = 4;
const STEAL: usize = 7;

/// The shares between two readings of the `cpu` line; None when no tick passed.
pub fn shares(before: &[u64], after: &[u64]) -> Option<Shares> {
    let d = counters::increase(before, after);
    let total: u64 = d.iter().take(TICKS).sum();
    if total == 0 || d.len() < TICKS {
        return None;
    }
    // Whole percent when a tick is worth more than a tenth of one: no false precision.
    let round = |p: f64| match decimals(total) {
        0 => p.round(),
        _ => round1(p),
    };
    let share = |ticks: u64| round(100.0 * ticks as f64 / total as f64);
    let idle = d[IDLE] + d[IOWAIT];
    Some(Shares {
        percent: share(total.saturating_sub(idle)),
        iowait: share(d[IOWAIT]),
        steal: share(d[STEAL]),
    })
}

/// The decimals a share over `ticks` ticks deserves: one from 1000 ticks on.
pub fn decimals(ticks: u64) -> usize {
    usize::from(ticks >= 1000)
}

/// /proc/stat's aggregate `cpu` counters and the number of `cpuN` lines.
pub fn parse_stat(text: &str) -> Option<(Vec<u64>, usize)> {
    let mut lines = text.lines();
    let ticks = lines
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|n| n.parse().ok())
        .collect::<Option<Vec<u64>>>()?;
    let logical = lines
        .take_while(|l| l.starts_with("cpu"))
        .filter(|l| l[3..].starts_with(|c: char| c.is_ascii_digit()))
        .count();
    (ticks.len() >= TICKS).then_some((ticks, logical))
}

fn read_stat(proc: &Procfs) -> Result<(Vec<u64>, usize), CollectError> {
    parse_stat(&proc.read("stat")?)
        .ok_or_else(|| CollectError::new(format!("{}: no cpu line", proc.path("stat").display())))
}

/// A CPU measurement under way.
#[derive(Clone)]
pub struct CpuSample {
    proc: Procfs,
    before: Vec<u64>,
    started: Instant,
}

impl CpuSample {
    pub fn start() -> Result<CpuSample, CollectError> {
        CpuSample::start_in(&Procfs::default())
    }

    /// Reading `stat` under `proc`.
    pub fn start_in(proc: &Procfs) -> Result<CpuSample, CollectError> {
        Ok(CpuSample {
            before: read_stat(proc)?.0,
            proc: proc.clone(),
            started: Instant::now(),
        })
    }

    /// Waits out what is left of `window`, then reads the counters again. Returns
    /// the section (without the average, which needs the previous report) and the
    /// counters to keep for the next report.
    pub fn finish(self, window: Duration) -> Result<(Cpu, Table), CollectError> {
        if let Some(left) = window.checked_sub(self.started.elapsed()) {
            std::thread::sleep(left);
        }
        let (after, logical) = read_stat(&self.proc)?;
        let load = psutil::host::loadavg()
            .map_err(|e| CollectError::new(format!("/proc/loadavg: {e}")))?;
        let physical = psutil::cpu::cpu_count_physical() as usize;
        let now = shares(&self.before, &after);
        let ticks: u64 = counters::increase(&self.before, &after)
            .iter()
            .take(TICKS)
            .sum();
        let cpu = Cpu {
            logical,
            physical: (physical > 0).then_some(physical),
            percent: now.map(|s| s.percent),
            decimals: decimals(ticks),
            iowait: now.map(|s| s.iowait),
            steal: now.map(|s| s.steal),
            average: None,
            previous_report: None,
            interval_secs: None,
            load_avg: [load.one, load.five, load.fifteen].map(|l| (l * 100.0).round() / 100.0),
        };
        Ok((cpu, Table::from([("cpu".to_string(), after)])))
    }
}

/// Adds the average since the previous report's counters, when there are usable ones.
pub fn with_average(
    mut cpu: Cpu,
    table: &Table,
    previous: Option<Previous>,
    zone: &crate::zone::Zone,
) -> Cpu {
    let Some(now) = table.get("cpu") else {
        return cpu;
    };
    if let Some((increase, _)) = counters::since(previous, "cpu", now) {
        let zeros = vec![0; increase.len()];
        cpu.average = shares(&zeros, &increase);
        (cpu.previous_report, cpu.interval_secs) = counters::period(previous, zone);
    }
    cpu
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  100 5 50 800 40 3 2 0 10 0\ncpu0 50 2 25 400 20 1 1 0 5 0\ncpu1 50 3 25 400 20 2 1 0 5 0\nintr 1 2 3\n";

    #[test]
    fn the_cpu_line_and_the_logical_cpus() {
        let (ticks, logical) = parse_stat(STAT).unwrap();
        assert_eq!(ticks, [100, 5, 50, 800, 40, 3, 2, 0, 10, 0]);
        assert_eq!(logical, 2);
        assert_eq!(parse_stat("intr 1\n"), None);
    }

    #[test]
    fn busy_iowait_and_steal_between_two_readings() {
        let before = [100, 5, 50, 800, 40, 3, 2, 0];
        // 1000 ticks pass: 200 user, 100 system, 500 idle, 100 iowait, 100 steal.
        let after = [300, 5, 150, 1300, 140, 3, 2, 100];
        assert_eq!(
            shares(&before, &after),
            Some(Shares {
                percent: 40.0,
                iowait: 10.0,
                steal: 10.0
            })
        );
        assert_eq!(shares(&before, &before), None, "no tick passed");
        // 1003 ticks: tenths mean something.
        let after = [303, 5, 150, 1300, 140, 3, 2, 100];
        assert_eq!(shares(&before, &after).unwrap().percent, 40.2);
    }

    #[test]
    fn a_short_window_is_shown_to_the_percent_it_can_tell() {
        // A 200 ms window on two CPUs: 40 ticks, steps of 2.5 %.
        let before = [0; 8];
        let after = [9, 0, 0, 31, 0, 0, 0, 0];
        assert_eq!(
            shares(&before, &after).unwrap().percent,
            23.0,
            "22.5 shown whole"
        );
        assert_eq!((decimals(40), decimals(999), decimals(1000)), (0, 0, 1));
    }
}
