//! The `diskio` collector: per whole disk (not partitions), reads and writes, bytes,
//! time spent, and how busy it was, since boot and since the previous report
//! (/proc/diskstats). Loop and RAM devices, and disks never used, are left out.

use std::collections::BTreeSet;

use serde::Serialize;

use super::counters::{self, Previous, Table};
use super::procfs::Procfs;
use super::CollectError;

/// The figures kept, in this order. Bytes are sectors × 512: /proc/diskstats always
/// counts 512-byte sectors, whatever the device's own sector size.
const FIELDS: [&str; 7] = [
    "reads",
    "writes",
    "read_bytes",
    "written_bytes",
    "read_time_ms",
    "write_time_ms",
    "io_time_ms",
];

#[derive(Debug, Clone, Serialize)]
pub struct DiskIo {
    pub previous_report: Option<String>,
    pub interval_secs: Option<u64>,
    pub devices: Vec<Device>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub name: String,
    pub total: serde_json::Map<String, serde_json::Value>,
    pub delta: Option<serde_json::Map<String, serde_json::Value>>,
    /// Average bytes per second read and written since the previous report.
    pub read_rate: Option<u64>,
    pub write_rate: Option<u64>,
    /// Share of the period the device had I/O in flight (io_ticks), 0 to 100.
    pub busy_percent: Option<f64>,
}

pub fn read() -> Result<Table, CollectError> {
    read_in(&Procfs::default())
}

/// From `diskstats` under /proc and `block` under /sys, as `proc` places them.
pub fn read_in(proc: &Procfs) -> Result<Table, CollectError> {
    let text = proc.read("diskstats")?;
    let block = proc.sys("block");
    let disks: BTreeSet<String> = std::fs::read_dir(&block)
        .map_err(|e| CollectError::new(format!("{}: {e}", block.display())))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    Ok(parse(&text, &disks))
}

/// The whole disks of /proc/diskstats (`disks`: the names in /sys/block).
pub fn parse(text: &str, disks: &BTreeSet<String>) -> Table {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.nth(2)?;
            let f: Vec<u64> = fields
                .take(10)
                .map(|n| n.parse().ok())
                .collect::<Option<_>>()?;
            let wanted = disks.contains(name)
                && !name.starts_with("loop")
                && !name.starts_with("ram")
                && !name.starts_with("zram");
            (wanted && f.len() == 10 && f[0] + f[4] > 0).then(|| {
                (
                    name.to_string(),
                    vec![f[0], f[4], f[2] * 512, f[6] * 512, f[3], f[7], f[9]],
                )
            })
        })
        .collect()
}

pub fn report(now: &Table, previous: Option<Previous>, zone: &crate::zone::Zone) -> DiskIo {
    let devices = now
        .iter()
        .map(|(name, values)| {
            let delta = counters::since(previous, name, values);
            Device {
                name: name.clone(),
                total: counters::named(&FIELDS, values),
                read_rate: delta.as_ref().map(|(d, s)| counters::rate(d[2], *s)),
                write_rate: delta.as_ref().map(|(d, s)| counters::rate(d[3], *s)),
                busy_percent: delta
                    .as_ref()
                    .map(|(d, s)| super::round1((d[6] as f64 / (s * 10.0)).min(100.0))),
                delta: delta.map(|(d, _)| counters::named(&FIELDS, &d)),
            }
        })
        .collect();
    let (previous_report, interval_secs) = counters::period(previous, zone);
    DiskIo {
        previous_report,
        interval_secs,
        devices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    const STATS: &str = "   7       0 loop0 10 0 80 1 0 0 0 0 0 1 1 0 0 0 0 0 0
 253       0 vda 100 5 2000 40 50 7 800 30 0 60 70 0 0 0 0 0 0
 253       1 vda1 90 5 1900 35 50 7 800 30 0 55 65 0 0 0 0 0 0
 253      16 vdb 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
";

    fn disks() -> BTreeSet<String> {
        ["loop0", "vda", "vdb"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn whole_used_disks_only() {
        let t = parse(STATS, &disks());
        assert_eq!(t.keys().collect::<Vec<_>>(), ["vda"]);
        assert_eq!(t["vda"], [100, 50, 1_024_000, 409_600, 40, 30, 60]);
    }

    #[test]
    fn rates_and_busy_share_since_the_previous_report() {
        let before = parse(STATS, &disks());
        let now = parse(
            &STATS.replace(
                "vda 100 5 2000 40 50 7 800 30 0 60",
                "vda 200 5 4000 40 150 7 2800 30 0 5060",
            ),
            &disks(),
        );
        let io = report(
            &now,
            Some(Previous {
                table: &before,
                taken_at: Utc::now(),
                seconds: 10.0,
            }),
            &crate::zone::Zone::utc(),
        );
        let vda = &io.devices[0];
        assert_eq!(vda.delta.as_ref().unwrap()["reads"], 100);
        assert_eq!(
            (vda.read_rate, vda.write_rate),
            (Some(102_400), Some(102_400))
        );
        assert_eq!(vda.busy_percent, Some(50.0));
    }
}
