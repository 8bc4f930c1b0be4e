//! Writes a plausible day of samples into `<state_dir>/history.sqlite` through the
//! real store, as the daemon would have: for screenshots (docs/screenshots.sh) and
//! for trying the period figures, charts and forecasts without waiting a day.
//!
//! `cargo run --example history_day -- <state_dir>`

use std::collections::BTreeMap;

use chrono::{TimeDelta, Timelike, Utc};
use rreport::history::{Sample, Store};

fn main() {
    let Some(state) = std::env::args().nth(1) else {
        eprintln!("usage: history_day <state_dir>");
        std::process::exit(2);
    };
    let state = std::path::PathBuf::from(state);
    std::fs::create_dir_all(&state).expect("state directory");
    let now = Utc::now();
    let (mut store, _) = Store::open(&state.join("history.sqlite"), now).expect("history");
    let root = nix::sys::statvfs::statvfs("/").expect("statvfs /");
    let block = root.fragment_size() as f64;
    let used = (root.blocks() - root.blocks_free()) as f64 * block;
    let total = root.blocks() as f64 * block;
    for m in (1..=24 * 60).rev() {
        let at = now - TimeDelta::minutes(m);
        let hour = at.hour() as f64 + at.minute() as f64 / 60.0;
        // Office hours, and a backup from 02:00 to 03:30 that pegs the CPU and disk.
        let day = (-(hour - 14.0).powi(2) / 18.0).exp();
        let backup = (2.0..3.5).contains(&hour);
        let wobble = ((m * 7919) % 13) as f64;
        let cpu = if backup {
            92.0 + wobble / 3.0
        } else {
            6.0 + 35.0 * day + wobble
        };
        let grow = 3.0e9 * m as f64 / (24.0 * 60.0);
        let busy = |quiet: f64, loaded: f64| if backup { loaded } else { quiet };
        let values = BTreeMap::from([
            ("cpu.busy".to_string(), cpu),
            ("cpu.iowait".to_string(), busy(0.5 + wobble / 10.0, 18.0)),
            ("load.1".to_string(), cpu / 40.0),
            (
                "memory.used_percent".to_string(),
                52.0 + 20.0 * day + wobble / 4.0,
            ),
            ("fs:/.used_bytes".to_string(), used - grow),
            (
                "fs:/.used_percent".to_string(),
                (used - grow) / total * 100.0,
            ),
            (
                "net:eth0.rx_bytes_per_s".to_string(),
                2e5 + 3e6 * day + wobble * 1e4,
            ),
            (
                "net:eth0.tx_bytes_per_s".to_string(),
                1e5 + 1e6 * day + busy(0.0, 4e7),
            ),
            (
                "disk:vda.read_bytes_per_s".to_string(),
                busy(2e5 + wobble * 1e4, 9e7),
            ),
            ("disk:vda.written_bytes_per_s".to_string(), 6e5 + 2e6 * day),
        ]);
        store.add(&Sample { at, values }).expect("sample");
    }
    let path = state.join("history.sqlite");
    println!("wrote a day of samples to {}", path.display());
}
