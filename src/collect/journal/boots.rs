//! Whether the host rebooted since the previous report (the boot time changed), and
//! whether the boot before shut down cleanly: its last journal entries say so when it
//! did (journald's "Journal stopped", systemd's shutdown targets, the kernel's
//! "reboot: Power down"); a boot that just stops is a crash, a power cut or a reset.

use std::time::Duration;

use chrono::DateTime;
use serde::Serialize;

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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reboots {
    /// The boot time changed since the previous report.
    pub rebooted: bool,
    /// This boot (RFC 3339).
    pub booted_at: String,
    /// The previous boot's end, as its last entry says; whether it was clean, and its
    /// last message (what it was doing when it stopped).
    pub previous_end: Option<String>,
    pub clean: Option<bool>,
    pub last_message: Option<String>,
}

/// Whether the host rebooted since the previous report, and how the boot before
/// ended. `boot_time` and `earlier_boot` are Unix seconds; None `earlier_boot`: the first
/// report, which knows of no reboot.
pub fn collect(
    config: &JournalConfig,
    boot_time: u64,
    earlier_boot: Option<u64>,
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
    let last = previous_boot_end(config, timeout)?;
    if let Some(last_entry) = last.last() {
        r.previous_end =
            DateTime::from_timestamp_micros(last_entry.time_us).map(|t| zone.rfc3339(t));
        r.last_message = Some(last_entry.message.clone());
        r.clean = Some(
            last.iter()
                .any(|e| CLEAN.iter().any(|c| e.message.contains(c))),
        );
    }
    Ok(r)
}

/// The previous boot's last entries, oldest first; none where the journal does not
/// reach back that far (a volatile journal in /run loses it at every boot).
fn previous_boot_end(
    config: &JournalConfig,
    timeout: Duration,
) -> Result<Vec<Entry>, CollectError> {
    let argv = super::journalctl(config, &["--quiet", "-b", "-1", "-n", "40"]);
    let mut entries = Vec::new();
    let ran = command::stream(&argv, timeout, |reader| {
        let _ = super::export::entries(reader, 4096, |f| {
            entries.push(Entry::from_fields(f));
            true
        });
    });
    match ran {
        Ok((done, _)) if done.timed_out => {
            Err(CollectError::new("journalctl -b -1: no answer in time"))
        }
        _ => Ok(entries),
    }
}
