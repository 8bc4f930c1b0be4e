//! Taking one sample: the cheap readers of /proc and statvfs, and rates from the
//! previous sample's counters (CPU shares, bytes per second). A reader that fails
//! leaves its series out of this sample; a sample is never refused.
//!
//! Series are named `<what>` or `<kind>:<name>.<what>`: `cpu.busy`, `load.1`,
//! `memory.used_percent`, `fs:/var.used_bytes`, `net:eth0.rx_bytes_per_s`,
//! `disk:vda.busy_percent`, `processes`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::store::Sample;
use crate::collect::counters::{Previous, Table};
use crate::collect::procfs::Procfs;
use crate::collect::{cpu, disk, diskio, load, memory, network, processes};
use crate::zone::Zone;

/// What a sample keeps for the next one's rates.
struct Counters {
    at: DateTime<Utc>,
    cpu: Option<Vec<u64>>,
    net: Option<Table>,
    disk: Option<Table>,
}

pub struct Sampler {
    procfs: Procfs,
    /// The filesystems the report shows (`report.filesystems`), else every real one.
    filesystems: Option<Vec<PathBuf>>,
    previous: Option<Counters>,
}

impl Sampler {
    pub fn new(procfs: Procfs, filesystems: Option<Vec<PathBuf>>) -> Sampler {
        Sampler {
            procfs,
            filesystems,
            previous: None,
        }
    }

    /// One sample at `now`. The first has no rates (nothing to compare with).
    pub fn take(&mut self, now: DateTime<Utc>) -> Sample {
        let mut values = BTreeMap::new();
        let now_counters = Counters {
            at: now,
            cpu: self
                .procfs
                .read("stat")
                .ok()
                .and_then(|t| cpu::parse_stat(&t))
                .map(|(ticks, _)| ticks),
            net: network::read_in(&self.procfs).ok(),
            disk: diskio::read_in(&self.procfs).ok(),
        };
        if let Ok(l) = load::collect_in(&self.procfs) {
            values.insert("load.1".to_string(), l.one);
        }
        if let Ok(m) = memory::collect_in(&self.procfs) {
            values.insert("memory.used_percent".to_string(), m.percent);
            if m.swap_total > 0 {
                values.insert("swap.used_percent".to_string(), m.swap_percent);
            }
        }
        let processes = processes::pids_in(&self.procfs).count();
        values.insert("processes".to_string(), processes as f64);
        self.filesystems(&mut values);
        if let Some(before) = &self.previous {
            rates(before, &now_counters, &mut values);
        }
        self.previous = Some(now_counters);
        Sample { at: now, values }
    }

    /// Used bytes and percent of each filesystem. A local one is measured on this
    /// thread (no thread, no wake-up: this runs every minute); a network one under a
    /// deadline on a worker (a dead server is skipped, as in a report).
    fn filesystems(&self, values: &mut BTreeMap<String, f64>) {
        let Ok(targets) = disk::targets(self.filesystems.as_deref()) else {
            return;
        };
        let (remote, local): (Vec<_>, Vec<_>) = targets
            .into_iter()
            .partition(|(_, m)| disk::is_network(m.as_ref()));
        let mut measured: Vec<disk::Disk> = local
            .iter()
            .filter_map(|(path, mount)| disk::usage(path, mount.as_ref()).ok())
            .collect();
        if !remote.is_empty() {
            let deadline = Instant::now() + Duration::from_secs(1);
            measured.extend(disk::probe_all(remote, disk::statvfs_probe(), deadline).0);
        }
        for d in measured {
            values.insert(format!("fs:{}.used_bytes", d.mount), d.used as f64);
            values.insert(format!("fs:{}.used_percent", d.mount), d.percent);
        }
    }
}

/// CPU shares and per-second rates between two samples' counters: the same figures
/// a report computes since the previous report (`network::report`, `diskio::report`).
fn rates(before: &Counters, now: &Counters, values: &mut BTreeMap<String, f64>) {
    let seconds = (now.at - before.at).num_milliseconds() as f64 / 1000.0;
    if seconds <= 0.0 {
        return;
    }
    if let (Some(a), Some(b)) = (&before.cpu, &now.cpu) {
        if let Some(s) = cpu::shares(a, b) {
            values.insert("cpu.busy".to_string(), s.percent);
            values.insert("cpu.iowait".to_string(), s.iowait);
            values.insert("cpu.steal".to_string(), s.steal);
        }
    }
    let since = |table| Previous {
        table,
        taken_at: before.at,
        seconds,
    };
    // The report's "previous report" time is not a series: any zone will do.
    let zone = Zone::utc();
    let mut put = |series: String, value: Option<f64>| {
        if let Some(v) = value {
            values.insert(series, v);
        }
    };
    if let (Some(a), Some(b)) = (&before.net, &now.net) {
        for i in network::report(b, Some(since(a)), &zone).interfaces {
            put(
                format!("net:{}.rx_bytes_per_s", i.name),
                i.rx_rate.map(|r| r as f64),
            );
            put(
                format!("net:{}.tx_bytes_per_s", i.name),
                i.tx_rate.map(|r| r as f64),
            );
        }
    }
    if let (Some(a), Some(b)) = (&before.disk, &now.disk) {
        for d in diskio::report(b, Some(since(a)), &zone).devices {
            put(
                format!("disk:{}.read_bytes_per_s", d.name),
                d.read_rate.map(|r| r as f64),
            );
            put(
                format!("disk:{}.written_bytes_per_s", d.name),
                d.write_rate.map(|r| r as f64),
            );
            put(format!("disk:{}.busy_percent", d.name), d.busy_percent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_samples_from_a_fixture_tree_give_shares_and_rates() {
        let dir = tempfile::tempdir().unwrap();
        let (proc, sys) = (dir.path().join("proc"), dir.path().join("sys"));
        std::fs::create_dir_all(proc.join("net")).unwrap();
        std::fs::create_dir_all(proc.join("4242")).unwrap();
        std::fs::create_dir_all(sys.join("block/vda")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(proc.join(name), text).unwrap();
        let round = |cpu: &str, rx: u64, read_sectors: u64, io_ms: u64| {
            write("stat", &format!("cpu  {cpu}\ncpu0 {cpu}\n"));
            write("loadavg", "0.50 0.40 0.30 1/100 7\n");
            write("meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
            write(
                "net/dev",
                &format!("h\nh\n  eth0: {rx} 1 0 0 0 0 0 0 500 1 0 0 0 0 0 0\n"),
            );
            write(
                "diskstats",
                &format!(" 253 0 vda 10 0 {read_sectors} 5 10 0 8 5 0 {io_ms} 10\n"),
            );
        };
        let mut sampler = Sampler::new(Procfs::at(&proc, &sys), Some(Vec::new()));
        round("100 0 100 800 0 0 0 0 0 0", 1000, 8, 100);
        let t0: DateTime<Utc> = "2026-11-24T08:00:00Z".parse().unwrap();
        let first = sampler.take(t0);
        assert_eq!(first.values["memory.used_percent"], 75.0);
        assert_eq!(first.values["load.1"], 0.5);
        assert_eq!(first.values["processes"], 1.0);
        assert!(
            !first.values.contains_key("cpu.busy"),
            "no rates from one sample"
        );
        // Ten seconds later: 100 ticks, 50 busy; 10 kB received; 20 sectors read; 2.5 s of I/O.
        round("130 0 120 850 0 0 0 0 0 0", 11_240, 28, 2_600);
        let second = sampler.take(t0 + chrono::TimeDelta::seconds(10));
        assert_eq!(second.values["cpu.busy"], 50.0);
        assert_eq!(second.values["net:eth0.rx_bytes_per_s"], 1024.0);
        assert_eq!(second.values["disk:vda.read_bytes_per_s"], 1024.0);
        assert_eq!(second.values["disk:vda.busy_percent"], 25.0);
    }
}
