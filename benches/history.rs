//! The sampler's cost per sample and what a report pays for its history: one
//! sample taken and stored, a day of 79 series read back, its charts drawn.
//! `cargo bench --bench history`; the numbers go in BENCHMARKS.md (budget: a sample
//! ≤ 1 ms of CPU).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use divan::Bencher;
use rreport::collect::procfs::Procfs;
use rreport::config::HistorySettings;
use rreport::history::{Period, Sample, Sampler, Store};
use rreport::zone::Zone;

fn main() {
    divan::main();
}

/// The series of a host with 20 filesystems, 10 interfaces and 4 disks: 79.
fn names() -> Vec<String> {
    let mut names: Vec<String> = ["cpu.busy", "cpu.iowait", "cpu.steal", "load.1"]
        .into_iter()
        .chain(["memory.used_percent", "swap.used_percent", "processes"])
        .map(String::from)
        .collect();
    for i in 0..20 {
        names.push(format!("fs:/srv/volume-{i:02}.used_bytes"));
        names.push(format!("fs:/srv/volume-{i:02}.used_percent"));
    }
    for i in 0..10 {
        names.push(format!("net:eth{i}.rx_bytes_per_s"));
        names.push(format!("net:eth{i}.tx_bytes_per_s"));
    }
    for d in ["vda", "vdb", "vdc", "vdd"] {
        for what in ["read_bytes_per_s", "written_bytes_per_s", "busy_percent"] {
            names.push(format!("disk:{d}.{what}"));
        }
    }
    names
}

fn sample(names: &[String], at: DateTime<Utc>, i: usize) -> Sample {
    let values = names
        .iter()
        .enumerate()
        .map(|(s, n)| (n.clone(), (i * 31 + s) as f64 % 100.0));
    Sample {
        at,
        values: values.collect::<BTreeMap<_, _>>(),
    }
}

/// One sample of this host, as the daemon takes it each minute (after the first,
/// so with its rates).
#[divan::bench]
fn sample_take(bencher: Bencher) {
    let mut sampler = Sampler::new(Procfs::default(), None);
    let start = Utc::now();
    sampler.take(start);
    let mut n = 0;
    bencher.bench_local(|| {
        n += 1;
        sampler
            .take(start + TimeDelta::seconds(60 * n))
            .values
            .len()
    });
}

/// One sample of 79 series stored, in its own transaction (WAL, synchronous=NORMAL).
#[divan::bench]
fn sample_store(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::open(&dir.path().join("history.sqlite"), Utc::now()).unwrap();
    let names = names();
    let start = Utc::now();
    let mut n = 0;
    bencher.bench_local(|| {
        n += 1;
        store
            .add(&sample(
                &names,
                start + TimeDelta::seconds(60 * n as i64),
                n,
            ))
            .unwrap();
    });
}

fn settings() -> HistorySettings {
    HistorySettings {
        sample_interval: Duration::from_secs(60),
        days: 35,
        forecast_days: 7,
        forecast_min_span: Duration::from_secs(6 * 3600),
        forecast_warning_days: 14,
        forecast_critical_days: 3,
    }
}

/// A day of minutes of the 79 series in a new database; its path and its end.
fn a_day(dir: &std::path::Path) -> (std::path::PathBuf, DateTime<Utc>) {
    let path = dir.join("history.sqlite");
    let now = Utc::now();
    let (mut store, _) = Store::open(&path, now).unwrap();
    let names = names();
    for m in 0..1440 {
        store
            .add(&sample(
                &names,
                now - TimeDelta::minutes(1440 - m as i64),
                m,
            ))
            .unwrap();
    }
    (path, now)
}

/// A day read back as a report reads it: figures, chart lines, 7 days of trends.
#[divan::bench(sample_count = 10)]
fn report_reads_a_day(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let (path, now) = a_day(dir.path());
    let (zone, readings) = (Zone::utc(), Default::default());
    bencher.bench(|| {
        Period::load(&path, None, now, &readings, &settings(), &zone)
            .day
            .is_some()
    });
}

/// The charts of that day: CPU, load, memory, 4 filesystems, 4 interfaces, 4 disks.
#[divan::bench(sample_count = 10)]
fn report_draws_the_charts(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let (path, now) = a_day(dir.path());
    let (zone, readings) = (Zone::utc(), Default::default());
    let period = Period::load(&path, None, now, &readings, &settings(), &zone);
    let ctx = rreport::status::context(&readings, &period, &Default::default());
    bencher.bench(|| {
        let charts = rreport::report::charts::draw(&period, &ctx, &Default::default(), &zone, "b");
        charts.images.len()
    });
}
