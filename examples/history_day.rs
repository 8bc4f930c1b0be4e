//! Writes plausible samples into `<state_dir>/history.sqlite` through the real
//! store, as the daemon would have, one a minute up to now: for screenshots
//! (docs/screenshots.sh), for the benchmarks (bench/daemon.sh, bench/history.sh)
//! and for trying the period figures, charts and forecasts without waiting a day.
//!
//! `cargo run --release --example history_day -- <state_dir> [--days N] [--wide]`
//!
//! `--wide`: the series of a host with 20 filesystems, 10 interfaces and 4 disks
//! (79), not only this host's root filesystem, eth0 and vda. With `--days` over 2,
//! the store's hourly maintenance runs as in the daemon, and the file's size is
//! printed at the end.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use rreport::history::{Sample, Store};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(state) = args.first().map(std::path::PathBuf::from) else {
        eprintln!("usage: history_day <state_dir> [--days N] [--wide]");
        std::process::exit(2);
    };
    let days: i64 = (args.iter().position(|a| a == "--days"))
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1);
    let wide = args.iter().any(|a| a == "--wide");
    std::fs::create_dir_all(&state).expect("state directory");
    let path = state.join("history.sqlite");
    let now = Utc::now();
    let (mut store, _) = Store::open(&path, now).expect("history");
    let root = nix::sys::statvfs::statvfs("/").expect("statvfs /");
    let block = root.fragment_size() as f64;
    let used = (root.blocks() - root.blocks_free()) as f64 * block;
    let total = root.blocks() as f64 * block;
    for m in (1..=days * 24 * 60).rev() {
        let at = now - TimeDelta::minutes(m);
        let mut values = host(at, m, used, total);
        if wide {
            widen(&mut values);
        }
        store.add(&Sample { at, values }).expect("sample");
        if days > 2 && at.minute() == 0 {
            store.maintain(at, 35).expect("maintenance");
        }
    }
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "wrote {days} day(s) of samples to {} ({:.1} MB with its WAL)",
        path.display(),
        size as f64 / 1e6
    );
}

/// Office hours, and a backup from 02:00 to 03:30 that pegs the CPU and the disk;
/// the root filesystem grows 3 GB a day up to what it holds now.
fn host(at: DateTime<Utc>, m: i64, used: f64, total: f64) -> BTreeMap<String, f64> {
    let hour = at.hour() as f64 + at.minute() as f64 / 60.0;
    let day = (-(hour - 14.0).powi(2) / 18.0).exp();
    let backup = (2.0..3.5).contains(&hour);
    let wobble = ((m * 7919) % 13) as f64;
    let busy = |quiet: f64, loaded: f64| if backup { loaded } else { quiet };
    let cpu = busy(6.0 + 35.0 * day + wobble, 92.0 + wobble / 3.0);
    let fs = used - 3.0e9 * m as f64 / (24.0 * 60.0);
    let values = [
        ("cpu.busy", cpu),
        ("cpu.iowait", busy(0.5 + wobble / 10.0, 18.0)),
        ("load.1", cpu / 40.0),
        ("memory.used_percent", 52.0 + 20.0 * day + wobble / 4.0),
        ("processes", 180.0 + wobble),
        ("fs:/.used_bytes", fs),
        ("fs:/.used_percent", fs / total * 100.0),
        ("net:eth0.rx_bytes_per_s", 2e5 + 3e6 * day + wobble * 1e4),
        ("net:eth0.tx_bytes_per_s", 1e5 + 1e6 * day + busy(0.0, 4e7)),
        ("disk:vda.read_bytes_per_s", busy(2e5 + wobble * 1e4, 9e7)),
        ("disk:vda.written_bytes_per_s", 6e5 + 2e6 * day),
        ("disk:vda.busy_percent", busy(2.0 + wobble, 95.0)),
    ];
    values
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// The rest of a host with 20 filesystems, 10 interfaces and 4 disks, each a
/// variation on the first of its kind.
fn widen(values: &mut BTreeMap<String, f64>) {
    let base = values.clone();
    values.insert("cpu.steal".into(), 0.2);
    values.insert("swap.used_percent".into(), 3.0);
    for i in 1..20 {
        let f = 1.0 + i as f64 / 10.0;
        values.insert(
            format!("fs:/srv/v{i:02}.used_bytes"),
            base["fs:/.used_bytes"] * f,
        );
        values.insert(
            format!("fs:/srv/v{i:02}.used_percent"),
            base["fs:/.used_percent"] * f,
        );
    }
    for i in 1..10 {
        for what in ["rx_bytes_per_s", "tx_bytes_per_s"] {
            let v = base[&format!("net:eth0.{what}")] / i as f64;
            values.insert(format!("net:eth{i}.{what}"), v);
        }
    }
    for d in ["vdb", "vdc", "vdd"] {
        for what in ["read_bytes_per_s", "written_bytes_per_s", "busy_percent"] {
            let v = base[&format!("disk:vda.{what}")] / 2.0;
            values.insert(format!("disk:{d}.{what}"), v);
        }
    }
}
