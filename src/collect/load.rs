//! The `load` collector: 1/5/15-minute load averages, per logical CPU, and the
//! running/total task counts, from /proc/loadavg.

use serde::Serialize;

use super::procfs::Procfs;
use super::CollectError;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Load {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
    /// The three averages divided by the number of online logical CPUs: above 1.0,
    /// tasks wait for a CPU.
    pub per_cpu: [f64; 3],
    /// Tasks runnable right now, and all tasks (threads) in the system.
    pub running: u64,
    pub total: u64,
}

pub fn collect() -> Result<Load, CollectError> {
    collect_in(&Procfs::default())
}

/// From `stat` and `loadavg` under `proc`.
pub fn collect_in(proc: &Procfs) -> Result<Load, CollectError> {
    let cpus = count_cpus(&proc.read("stat")?);
    parse_loadavg(&proc.read("loadavg")?, cpus).ok_or_else(|| {
        CollectError::new(format!(
            "{}: unexpected format",
            proc.path("loadavg").display()
        ))
    })
}

/// The `cpuN` lines of /proc/stat: the online logical CPUs.
pub fn count_cpus(stat: &str) -> usize {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count()
}

/// "0.42 0.35 0.30 3/812 12345" → the figures; `cpus` divides for `per_cpu`.
pub fn parse_loadavg(text: &str, cpus: usize) -> Option<Load> {
    let mut fields = text.split_whitespace();
    let mut next_f64 = || fields.next()?.parse::<f64>().ok().filter(|v| v.is_finite());
    let (one, five, fifteen) = (next_f64()?, next_f64()?, next_f64()?);
    let (running, total) = text.split_whitespace().nth(3)?.split_once('/')?;
    let per = |v: f64| ((v / cpus.max(1) as f64) * 100.0).round() / 100.0;
    Some(Load {
        one,
        five,
        fifteen,
        per_cpu: [per(one), per(five), per(fifteen)],
        running: running.parse().ok()?,
        total: total.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_loadavg() {
        let l = parse_loadavg("0.42 1.35 8.30 3/812 12345\n", 4).unwrap();
        assert_eq!(
            (l.one, l.five, l.fifteen, l.running, l.total),
            (0.42, 1.35, 8.3, 3, 812)
        );
        assert_eq!(l.per_cpu, [0.11, 0.34, 2.08]);
        assert_eq!(parse_loadavg("garbage", 4), None);
        assert_eq!(parse_loadavg("0.1 0.2 0.3 x 1", 4), None);
        assert_eq!(parse_loadavg("0.1 0.2 NaN 1/2 1", 4), None);
    }

    #[test]
    fn counts_cpu_lines_not_the_total() {
        assert_eq!(
            count_cpus("cpu  1 2 3\ncpu0 1 2 3\ncpu1 4 5 6\nintr 7\n"),
            2
        );
    }
}
