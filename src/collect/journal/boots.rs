//! Whether the host rebooted since the previous report (the boot time changed), how
//! many times (`journalctl --list-boots`: the boots that began since then), and
//! whether each boot that ended in the period shut down cleanly: its last journal
//! entries say so when it did (journald's "Journal stopped", systemd's shutdown
//! targets, the kernel's "reboot: Power down"); a boot that just stops is a crash, a
//! power cut or a reset.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Entry, JournalConfig};
use crate::collect::command;
use crate::collect::CollectError;
use crate::zone::Zone;

/// What a clean shutdown leaves among a boot's last entries.
const CLEAN: [&str; 8] = [
    "Journal stopped",
    "Reached target System Reboot",
    "Reached target System Power Off",
    "Reached target System Halt",
    "Reached target reboot.target",
    "Reached target poweroff.target",
    "reboot: Restarting system",
    "reboot: Power down",
];
/// Ended boots looked into, the latest first; a host that rebooted more often than
/// this between two reports has its count said and the rest unjudged.
const ENDED_MAX: usize = 5;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reboots {
    /// The boot time changed since the previous report.
    pub rebooted: bool,
    /// This boot (RFC 3339).
    pub booted_at: String,
    /// Boots that began since the previous report, this one included (the journal's
    /// count; 1 where it does not reach back).
    pub boots: usize,
    /// The boots that ended since the previous report, oldest first (the latest
    /// `ENDED_MAX`), and how many of them without a clean shutdown.
    pub ended: Vec<Ended>,
    pub unclean: usize,
    /// The boot before this one: its end, whether it was clean, and its last message
    /// (what it was doing when it stopped); the last of `ended`.
    pub previous_end: Option<String>,
    pub clean: Option<bool>,
    pub last_message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ended {
    /// None where the journal cannot list its boots.
    pub started: Option<String>,
    pub ended: String,
    pub clean: bool,
    pub last_message: String,
}

/// One line of `journalctl --list-boots -o json`.
#[derive(Deserialize)]
struct Boot {
    boot_id: String,
    first_entry: i64,
    last_entry: i64,
}

/// Whether the host rebooted since `since` (the previous report), and how the boots
/// before this one ended. `boot_time` and `earlier_boot` are Unix seconds; None
/// `earlier_boot`: the first report, which knows of no reboot.
pub fn collect(
    config: &JournalConfig,
    (boot_time, earlier_boot): (u64, Option<u64>),
    since: DateTime<Utc>,
    timeout: Duration,
    zone: &Zone,
) -> Result<Reboots, CollectError> {
    let booted = DateTime::from_timestamp(boot_time as i64, 0);
    let mut r = Reboots {
        rebooted: earlier_boot.is_some_and(|b| b != boot_time),
        booted_at: booted.map(|t| zone.rfc3339(t)).unwrap_or_default(),
        ..Default::default()
    };
    if !r.rebooted {
        return Ok(r);
    }
    let deadline = Instant::now() + timeout.mul_f64(0.8);
    let left = || deadline.saturating_duration_since(Instant::now());
    let since_us = since.timestamp_micros();
    let boots = list_boots(config, left());
    r.boots = boots
        .iter()
        .filter(|b| b.first_entry > since_us)
        .count()
        .max(1);
    // Every boot but the running one (the last) that still ran after `since`.
    let ended: Vec<&Boot> = match boots.split_last() {
        Some((_, before)) => before.iter().filter(|b| b.last_entry >= since_us).collect(),
        None => Vec::new(),
    };
    let skip = ended.len().saturating_sub(ENDED_MAX);
    let mut ids: Vec<(&str, Option<i64>)> = (ended.iter().skip(skip))
        .map(|b| (b.boot_id.as_str(), Some(b.first_entry)))
        .collect();
    if ids.is_empty() {
        ids.push(("-1", None)); // no list (an old journalctl): the boot before, by offset
    }
    for (id, started) in ids {
        let last = boot_end(config, id, left())?;
        r.ended.extend(judge(&last, started, zone));
    }
    r.unclean = r.ended.iter().filter(|e| !e.clean).count();
    if let Some(e) = r.ended.last() {
        r.previous_end = Some(e.ended.clone());
        r.clean = Some(e.clean);
        r.last_message = Some(e.last_message.clone());
    }
    Ok(r)
}

/// The journal's boots, oldest first; none where it cannot say.
fn list_boots(config: &JournalConfig, timeout: Duration) -> Vec<Boot> {
    let argv = super::on_journal(config, &["--quiet", "--list-boots", "-o", "json"]);
    match command::run_keeping(&argv, timeout, 4 << 20) {
        Ok((done, out)) if done.code == Some(0) => serde_json::from_slice(&out).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// How a boot ended, from its last entries; `started` from the boot list.
fn judge(last: &[Entry], started: Option<i64>, zone: &Zone) -> Option<Ended> {
    let time = |us: i64| DateTime::from_timestamp_micros(us).map(|t| zone.rfc3339(t));
    let end = last.last()?;
    Some(Ended {
        started: started.and_then(time),
        ended: time(end.time_us).unwrap_or_default(),
        clean: last
            .iter()
            .any(|e| CLEAN.iter().any(|c| e.message.contains(c))),
        last_message: end.message.clone(),
    })
}

/// A boot's last entries, oldest first; none where the journal does not reach back
/// that far (a volatile journal in /run loses it at every boot). `boot`: its id, or
/// an offset ("-1").
fn boot_end(
    config: &JournalConfig,
    boot: &str,
    timeout: Duration,
) -> Result<Vec<Entry>, CollectError> {
    let argv = super::journalctl(config, &["--quiet", "-b", boot, "-n", "40"]);
    let mut entries = Vec::new();
    let ran = command::stream(&argv, timeout, |reader| {
        let _ = super::export::entries(reader, 4096, |f| {
            entries.push(Entry::from_fields(f));
            true
        });
    });
    match ran {
        Ok((done, _)) if done.timed_out => Err(CollectError::new(format!(
            "journalctl -b {boot}: no answer in time"
        ))),
        _ => Ok(entries),
    }
}
