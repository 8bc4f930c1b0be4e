//! Disk health from smartmontools: `smartctl --scan-open` finds the drives, then
//! `smartctl --json` reads each (at once, each under the collector's timeout), with
//! `--nocheck=standby` so a sleeping disk is not spun up for a report. The counters
//! that predict a failure are kept with the report's counters (across reboots: they
//! belong to the drive, not the boot), so a report says what grew since the previous.
//!
//! smartctl needs CAP_SYS_RAWIO (CAP_SYS_ADMIN for NVMe) and read access to the
//! devices; the shipped unit grants neither. Without them the section says so, once,
//! with no level: the README has the drop-in.

mod drive;

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub use self::drive::{critical_warning, Change, Drive};
use super::command;
use super::counters::Table;
use super::CollectError;

/// What smartctl may print about one drive, and the scan.
const OUTPUT_MAX: usize = 1 << 20;
/// Drives read; more are counted (a storage server's 60 bays still fit).
const DRIVES_MAX: usize = 64;
/// An unknown counter in the table kept for the next report.
const UNKNOWN: u64 = u64::MAX;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Smart {
    /// Why there is nothing to show, without a level: smartctl not installed, no drive
    /// that speaks SMART (virtual disks do not).
    pub unavailable: Option<String>,
    /// What smartctl lacks to open the drives, when that is why they could not be read.
    pub permission: Option<String>,
    pub drives: Vec<Drive>,
}

/// The drives' health; what to keep for the next report; drives that could not be
/// read for another reason than permission (errors entries).
pub fn collect(
    timeout: Duration,
    earlier: Option<&Table>,
    sys: &Path,
) -> Result<(Smart, Table, Vec<String>), CollectError> {
    // Virtual disks (virtio's vd*, Xen's xvd*) speak no SMART: on the many hosts that
    // have only those, smartctl (20 ms of CPU to scan) is not run at all.
    if !speaking(sys) {
        return Ok(none(why_none(sys, Path::new("/dev"))));
    }
    let devices = match scan(timeout)? {
        Scanned::Devices(d) if d.is_empty() => return Ok(none(why_none(sys, Path::new("/dev")))),
        Scanned::Devices(d) => d,
        Scanned::Unavailable(why) => return Ok(none(why)),
    };
    let mut drives: Vec<Drive> = std::thread::scope(|scope| {
        let reading: Vec<_> = (devices.iter().take(DRIVES_MAX))
            .map(|d| scope.spawn(move || read(d, timeout)))
            .collect();
        let joined = reading.into_iter().zip(&devices);
        let failed = |device: &Device| unreadable(&device.name, "the reader panicked".into());
        joined
            .map(|(t, d)| t.join().unwrap_or_else(|_| failed(d)))
            .collect()
    });
    let kept = compare(&mut drives, earlier);
    let mut smart = Smart {
        drives,
        ..Default::default()
    };
    let mut failures = Vec::new();
    for d in &smart.drives {
        match d.error.as_deref() {
            Some(e) if denied(e) => {
                smart
                    .permission
                    .get_or_insert_with(|| permission(&d.device, e));
            }
            Some(e) => failures.push(format!("{}: {e}", d.device)),
            None => {}
        }
    }
    Ok((smart, kept, failures))
}

fn none(why: String) -> (Smart, Table, Vec<String>) {
    let smart = Smart {
        unavailable: Some(why),
        ..Default::default()
    };
    (smart, Table::new(), Vec::new())
}

/// A device the scan found: its name and the type to read it as.
#[derive(Debug, Clone, PartialEq)]
struct Device {
    name: String,
    kind: String,
    /// Why the scan could not open it.
    open_error: Option<String>,
}

enum Scanned {
    Devices(Vec<Device>),
    Unavailable(String),
}

fn scan(timeout: Duration) -> Result<Scanned, CollectError> {
    let argv = ["smartctl", "--scan-open", "--json"];
    let (done, out) = match command::run_keeping(&argv, timeout, OUTPUT_MAX) {
        Ok(ran) => ran,
        Err(e) => {
            return Ok(Scanned::Unavailable(format!(
                "smartctl is not installed (smartmontools): {e}"
            )))
        }
    };
    if done.timed_out {
        return Err(CollectError::new(format!(
            "smartctl --scan-open: no answer within {} s",
            timeout.as_secs()
        )));
    }
    match serde_json::from_slice::<Value>(&out) {
        Ok(json) => Ok(Scanned::Devices(devices(&json))),
        // smartmontools before 7.0 has no --json.
        Err(_) => {
            let said = command::first_lines(&out)
                .into_iter()
                .next()
                .unwrap_or_default();
            Ok(Scanned::Unavailable(format!(
                "smartctl without --json (smartmontools 7.0 or later is needed): {said}"
            )))
        }
    }
}

/// The scan's devices, as `smartctl --scan-open --json` lists them.
fn devices(json: &Value) -> Vec<Device> {
    let listed = json.get("devices").and_then(Value::as_array);
    let text = |d: &Value, k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
    listed
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some(Device {
                name: text(d, "name")?,
                kind: text(d, "type").unwrap_or_else(|| "auto".into()),
                open_error: text(d, "open_error"),
            })
        })
        .collect()
}

fn read(device: &Device, timeout: Duration) -> Drive {
    if let Some(e) = &device.open_error {
        return unreadable(&device.name, e.clone());
    }
    let argv = [
        "smartctl",
        "--json",
        "--info",
        "--health",
        "--attributes",
        "--nocheck=standby",
        "-d",
        &device.kind,
        &device.name,
    ];
    let (done, out) = match command::run_keeping(&argv, timeout, OUTPUT_MAX) {
        Ok(ran) => ran,
        Err(e) => return unreadable(&device.name, e),
    };
    if done.timed_out {
        return unreadable(
            &device.name,
            format!("no answer within {} s", timeout.as_secs()),
        );
    }
    from_output(&device.name, &out)
}

/// A drive from what `smartctl --json` printed about it.
fn from_output(device: &str, out: &[u8]) -> Drive {
    let json: Value = match serde_json::from_slice(out) {
        Ok(json) => json,
        Err(e) => return unreadable(device, format!("smartctl printed no JSON: {e}")),
    };
    let status = (json.pointer("/smartctl/exit_status"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    match drive::message(&json) {
        // "Device is in STANDBY mode, exit(2)": --nocheck kept it asleep.
        Some(m) if m.contains(" mode, exit(") => Drive {
            device: device.to_string(),
            standby: true,
            ..Default::default()
        },
        // Bits 0 and 1: the command line, or the device could not be opened.
        Some(m) if status & 0b11 != 0 => unreadable(device, m),
        _ => drive::parse(device, &json),
    }
}

fn unreadable(device: &str, why: String) -> Drive {
    Drive {
        device: device.to_string(),
        error: Some(why),
        ..Default::default()
    }
}

fn denied(error: &str) -> bool {
    error.contains("Permission denied") || error.contains("Operation not permitted")
}

fn permission(device: &str, error: &str) -> String {
    format!(
        "smartctl cannot open the drives ({device}: {error}): it needs CAP_SYS_RAWIO \
         (CAP_SYS_ADMIN for NVMe) and read access to them; see the README's SMART drop-in"
    )
}

/// Why the scan found no drive: the unit's PrivateDevices hides them (disks in
/// /sys/block without their /dev nodes), or none of them speaks SMART.
fn why_none(sys: &Path, dev: &Path) -> String {
    let disks: Vec<String> = std::fs::read_dir(sys.join("block"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("device").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let hidden = disks.iter().filter(|d| !dev.join(d).exists()).count();
    match (disks.len(), hidden) {
        (0, _) => "no disks".into(),
        (n, h) if h == n => format!(
            "{n} disks, none in /dev (PrivateDevices=yes in the unit: see the README's SMART drop-in)"
        ),
        (1, _) => "this host's disk does not speak SMART (virtual disks do not)".into(),
        (n, _) => format!("none of the {n} disks speaks SMART (virtual disks do not)"),
    }
}

/// Whether any disk in /sys/block could speak SMART: SATA, SAS, USB and virtio-scsi
/// disks are sd*, NVMe nvme*, old IDE hd*. Unreadable /sys: ask smartctl.
fn speaking(sys: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(sys.join("block")) else {
        return true;
    };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        ["sd", "nvme", "hd"].iter().any(|p| name.starts_with(p))
    })
}

/// Sets each drive's changes since the previous report's values; returns the values
/// to keep for the next (a drive not read this time keeps its previous ones).
fn compare(drives: &mut [Drive], earlier: Option<&Table>) -> Table {
    let mut kept = Table::new();
    for d in drives
        .iter_mut()
        .filter(|d| d.error.is_none() && !d.standby)
    {
        let now: Vec<u64> = d
            .counters()
            .iter()
            .map(|(_, v)| v.unwrap_or(UNKNOWN))
            .collect();
        if let Some(before) = earlier.and_then(|e| e.get(&d.key())) {
            d.changes = changes(&d.counters(), before);
        }
        kept.insert(d.key(), now);
    }
    let unread = drives.iter().any(|d| d.error.is_some() || d.standby);
    for (key, values) in earlier.into_iter().flatten() {
        if unread && !kept.contains_key(key) {
            kept.insert(key.clone(), values.clone());
        }
    }
    kept
}

fn changes(now: &[(&'static str, Option<u64>)], before: &[u64]) -> Vec<Change> {
    now.iter()
        .zip(before)
        .filter_map(|(&(counter, value), &was)| {
            let value = value?;
            (was != UNKNOWN && was != value).then(|| Change {
                counter,
                by: value as i64 - was as i64,
                now: value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        crate::collect::fixture(&format!("smartctl-7.3/{name}")).into_bytes()
    }

    fn drive(name: &str) -> Drive {
        from_output("/dev/x", &fixture(name))
    }

    #[test]
    fn an_ata_disk_reads_its_counters_and_assessment() {
        let d = drive("ata-healthy.json");
        assert_eq!(
            (d.model.as_str(), d.serial.as_str()),
            ("WDC WD40EFRX-68N32N0", "WD-WCC7K0TEST01")
        );
        assert_eq!(
            (d.passed, d.temperature, d.power_on_hours),
            (Some(true), Some(34.0), Some(31876))
        );
        assert_eq!(
            (
                d.reallocated,
                d.pending,
                d.offline_uncorrectable,
                d.crc_errors
            ),
            (Some(0), Some(0), Some(0), Some(0))
        );
        assert_eq!((d.percentage_used, d.error, d.standby), (None, None, false));
        let failing = drive("ata-failing.json");
        assert_eq!(
            (failing.passed, failing.reallocated, failing.crc_errors),
            (Some(false), Some(2328), Some(3))
        );
    }

    #[test]
    fn an_nvme_drive_reads_its_health_log() {
        let d = drive("nvme-worn.json");
        assert_eq!(d.protocol, "NVMe");
        assert_eq!(
            (d.critical_warning, d.percentage_used, d.media_errors),
            (Some(4), Some(93), Some(0))
        );
        assert_eq!(d.reallocated, None, "no ATA attributes");
        assert_eq!(critical_warning(4), "reliability degraded");
        assert_eq!(
            critical_warning(0b101),
            "spare capacity below its threshold, reliability degraded"
        );
    }

    #[test]
    fn a_sleeping_disk_is_not_woken_and_a_refused_one_says_why() {
        let d = drive("standby.json");
        assert!(d.standby && d.error.is_none(), "{d:?}");
        let d = drive("open-not-permitted.json");
        assert_eq!(
            d.error.as_deref(),
            Some("Smartctl open device: /dev/vda [SAT] failed: Operation not permitted")
        );
        assert!(denied(d.error.as_deref().unwrap()));
        assert_eq!(
            from_output("/dev/x", b"smartctl 6.6: unknown option --json")
                .error
                .as_deref()
                .map(|e| e.starts_with("smartctl printed no JSON")),
            Some(true)
        );
    }

    #[test]
    fn the_scan_lists_drives_and_those_it_could_not_open() {
        let found = devices(&serde_json::from_slice(&fixture("scan-open.json")).unwrap());
        let names: Vec<(&str, &str, bool)> = found
            .iter()
            .map(|d| (d.name.as_str(), d.kind.as_str(), d.open_error.is_some()))
            .collect();
        assert_eq!(
            names,
            [
                ("/dev/sda", "sat", false),
                ("/dev/nvme0", "nvme", false),
                ("/dev/sdd", "scsi", true)
            ]
        );
        assert!(
            devices(&serde_json::from_slice(&fixture("scan-open-no-drives.json")).unwrap())
                .is_empty()
        );
    }

    /// The real smartctl (.ci/run installs smartmontools 7.3): its scan is JSON that
    /// parses, whatever drives this machine has.
    #[test]
    fn the_installed_smartctl_scans_in_json() {
        match scan(Duration::from_secs(10)) {
            Ok(Scanned::Devices(_)) => {}
            Ok(Scanned::Unavailable(why)) => panic!("{why} (.ci/run installs smartmontools)"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn only_disks_that_could_speak_smart_are_asked_about() {
        let sys = tempfile::tempdir().unwrap();
        for disk in ["vda", "xvda", "zram0"] {
            std::fs::create_dir_all(sys.path().join("block").join(disk).join("device")).unwrap();
        }
        assert!(!speaking(sys.path()), "virtual disks only");
        let dev = tempfile::tempdir().unwrap();
        assert_eq!(
            why_none(sys.path(), dev.path()),
            "3 disks, none in /dev (PrivateDevices=yes in the unit: see the README's SMART drop-in)"
        );
        std::fs::write(dev.path().join("vda"), "").unwrap();
        assert_eq!(
            why_none(sys.path(), dev.path()),
            "none of the 3 disks speaks SMART (virtual disks do not)"
        );
        std::fs::create_dir_all(sys.path().join("block/nvme0n1/device")).unwrap();
        assert!(speaking(sys.path()));
        assert!(
            speaking(&sys.path().join("nothing")),
            "no /sys to tell: ask smartctl"
        );
    }

    #[test]
    fn what_grew_since_the_previous_report_and_what_is_kept() {
        let mut before = vec![drive("ata-healthy.json")];
        let kept = compare(&mut before, None);
        assert!(before[0].changes.is_empty(), "nothing to compare with");
        let mut after = vec![drive("ata-grown.json")];
        let kept = compare(&mut after, Some(&kept));
        let grown: Vec<(&str, i64, u64)> = after[0]
            .changes
            .iter()
            .map(|c| (c.counter, c.by, c.now))
            .collect();
        assert_eq!(grown, [("reallocated", 8, 8), ("pending", 2, 2)]);
        // Asleep next time: its values are kept for the report after.
        let mut asleep = vec![drive("standby.json")];
        let kept2 = compare(&mut asleep, Some(&kept));
        assert_eq!(kept2, kept);
        // A counter that went down (pending sectors remapped) is a change too, not growth.
        let mut healed = vec![drive("ata-healthy.json")];
        compare(&mut healed, Some(&kept));
        let healed: Vec<(&str, i64)> = healed[0]
            .changes
            .iter()
            .map(|c| (c.counter, c.by))
            .collect();
        assert_eq!(healed, [("reallocated", -8), ("pending", -2)]);
    }
}
