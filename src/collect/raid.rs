//! Software RAID: Linux md arrays from /proc/mdstat (each array's level, members and
//! state, a rebuild's progress and ETA), ZFS pools from `zpool status -x` and btrfs
//! device error counters from sysfs, where those exist. No privilege needed: mdstat
//! and sysfs are world-readable, `zpool status` is unprivileged.

use std::time::Duration;

use serde::Serialize;

use super::command;
use super::procfs::Procfs;
use super::CollectError;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Raid {
    pub arrays: Vec<Array>,
    /// ZFS pools that `zpool status -x` says are not healthy.
    pub pools: Vec<Pool>,
    /// btrfs devices with a non-zero error counter.
    pub btrfs: Vec<BtrfsDevice>,
    /// Nothing of the kind on this host: no md, no ZFS, no btrfs.
    pub none: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Array {
    /// "md0".
    pub name: String,
    /// "active", "inactive", "active (auto-read-only)".
    pub state: String,
    /// md's personality ("raid1"); empty for an inactive array (mdstat does not say).
    pub personality: String,
    pub members: Vec<Member>,
    /// Devices the array wants and has working ("[2/1]"), when mdstat says.
    pub wanted: Option<u32>,
    pub working: Option<u32>,
    /// Fewer working than wanted, or a member marked failed.
    pub degraded: bool,
    /// A rebuild, resync, reshape or check under way.
    pub action: Option<Action>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Member {
    pub device: String,
    /// (F): failed; (S): spare; (W): write-mostly; (J): journal.
    pub failed: bool,
    pub spare: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Action {
    /// "recovery", "resync", "reshape", "check", "repair".
    pub kind: String,
    pub percent: Option<f64>,
    /// The kernel's estimate of what is left ("61.1min"), as it says it.
    pub finish: Option<String>,
    /// "PENDING" or "DELAYED" when it has not started.
    pub waiting: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pool {
    pub name: String,
    /// "DEGRADED", "FAULTED", "ONLINE" (with errors), "UNAVAIL".
    pub state: String,
    /// zpool's own first line of why.
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BtrfsDevice {
    /// The filesystem's label (or UUID) and the device.
    pub filesystem: String,
    pub device: String,
    /// Non-zero counters, by name ("read_errs 4").
    pub errors: Vec<(String, u64)>,
}

pub fn collect(procfs: &Procfs, timeout: Duration) -> Result<Raid, CollectError> {
    let mut raid = Raid::default();
    let mut present = false;
    if let Ok(text) = std::fs::read_to_string(procfs.path("mdstat")) {
        raid.arrays = mdstat(&text);
        present |= !raid.arrays.is_empty();
    }
    if let Some(pools) = zpool(timeout)? {
        present = true;
        raid.pools = pools;
    }
    if let Some(devices) = btrfs(procfs) {
        present = true;
        raid.btrfs = devices;
    }
    raid.none = !present;
    Ok(raid)
}

/// The arrays /proc/mdstat lists.
pub fn mdstat(text: &str) -> Vec<Array> {
    let mut arrays: Vec<Array> = Vec::new();
    for line in text.lines() {
        if let Some((name, rest)) = line.split_once(" : ").filter(|(n, _)| n.starts_with("md")) {
            arrays.push(array(name.trim(), rest));
        } else if let Some(a) = arrays.last_mut().filter(|_| line.starts_with(' ')) {
            detail(a, line.trim());
        }
    }
    arrays
}

/// "active raid1 sdb1[1] sda1[0](F)".
fn array(name: &str, rest: &str) -> Array {
    let mut words = rest.split_whitespace().peekable();
    let mut state = words.next().unwrap_or("").to_string();
    if words.peek().is_some_and(|w| w.starts_with('(')) {
        state = format!("{state} {}", words.next().unwrap_or(""));
    }
    let mut a = Array {
        name: name.into(),
        state,
        ..Default::default()
    };
    for word in words {
        match word.split_once('[') {
            Some((device, flags)) => a.members.push(Member {
                device: device.into(),
                failed: flags.contains("(F)"),
                spare: flags.contains("(S)"),
            }),
            None if a.personality.is_empty() => a.personality = word.into(),
            None => {}
        }
    }
    a.degraded = a.members.iter().any(|m| m.failed);
    a
}

/// A line under the array's: its device counts ("[2/1] [U_]") or an action.
fn detail(a: &mut Array, line: &str) {
    if let Some(counts) = line.split_whitespace().find_map(|w| {
        let (wanted, working) = w.strip_prefix('[')?.strip_suffix(']')?.split_once('/')?;
        Some((wanted.parse().ok()?, working.parse().ok()?))
    }) {
        (a.wanted, a.working) = (Some(counts.0), Some(counts.1));
        a.degraded |= counts.1 < counts.0;
    }
    for kind in ["recovery", "resync", "reshape", "check", "repair"] {
        let Some(after) = line.split_once(kind).map(|(_, r)| r.trim_start()) else {
            continue;
        };
        if let Some(waiting) = after.strip_prefix('=') {
            let waiting = waiting.trim().to_string();
            let percent = waiting
                .split('%')
                .next()
                .and_then(|p| p.trim().parse().ok());
            let finish = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("finish="));
            a.action = Some(Action {
                kind: kind.into(),
                percent,
                finish: finish.map(str::to_string),
                waiting: percent
                    .is_none()
                    .then_some(waiting)
                    .filter(|w| !w.is_empty()),
            });
            return;
        }
    }
}

/// `zpool status -x`: None where ZFS is not installed.
fn zpool(timeout: Duration) -> Result<Option<Vec<Pool>>, CollectError> {
    let Ok((done, out)) = command::run_keeping(&["zpool", "status", "-x"], timeout, 1 << 20) else {
        return Ok(None);
    };
    if done.timed_out {
        return Err(CollectError::new(format!(
            "zpool status: no answer within {} s",
            timeout.as_secs()
        )));
    }
    let text = String::from_utf8_lossy(&out);
    if text.contains("no pools available") {
        return Ok(None);
    }
    Ok(Some(pools(&text)))
}

/// The pools of `zpool status -x` output ("all pools are healthy": none).
pub fn pools(text: &str) -> Vec<Pool> {
    let mut pools: Vec<Pool> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("pool:") {
            pools.push(Pool {
                name: name.trim().into(),
                ..Default::default()
            });
        } else if let (Some(state), Some(p)) = (line.strip_prefix("state:"), pools.last_mut()) {
            p.state = state.trim().into();
        } else if let (Some(status), Some(p)) = (line.strip_prefix("status:"), pools.last_mut()) {
            p.status = status.trim().into();
        }
    }
    pools
}

/// btrfs devices' error counters (/sys/fs/btrfs/<uuid>/devinfo/<id>/error_stats,
/// Linux 5.14 and later): None without btrfs; the devices with errors otherwise.
fn btrfs(procfs: &Procfs) -> Option<Vec<BtrfsDevice>> {
    let filesystems = std::fs::read_dir(procfs.sys("fs/btrfs")).ok()?;
    let mut found = Vec::new();
    let mut any = false;
    for fs in filesystems
        .flatten()
        .filter(|e| e.path().join("devinfo").is_dir())
    {
        any = true;
        let label = std::fs::read_to_string(fs.path().join("label")).unwrap_or_default();
        let name = match label.trim() {
            "" => fs.file_name().to_string_lossy().into_owned(),
            l => l.to_string(),
        };
        for dev in std::fs::read_dir(fs.path().join("devinfo"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let stats = std::fs::read_to_string(dev.path().join("error_stats")).unwrap_or_default();
            let errors: Vec<(String, u64)> = stats
                .lines()
                .filter_map(|l| l.split_once(' '))
                .filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
                .filter(|(_, v)| *v > 0)
                .collect();
            if !errors.is_empty() {
                let device = dev.file_name().to_string_lossy().into_owned();
                found.push(BtrfsDevice {
                    filesystem: name.clone(),
                    device: format!("devid {device}"),
                    errors,
                });
            }
        }
    }
    any.then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mdstat_fixture(name: &str) -> Vec<Array> {
        mdstat(&crate::collect::fixture(&format!("mdstat/{name}")))
    }

    /// (name, personality, state, working/wanted, degraded, action kind, percent).
    type Seen<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<(u32, u32)>,
        bool,
        Option<(&'a str, Option<f64>)>,
    );

    fn seen(arrays: &[Array]) -> Vec<Seen<'_>> {
        arrays
            .iter()
            .map(|a| {
                let counts = a.working.zip(a.wanted);
                let action = a.action.as_ref().map(|x| (x.kind.as_str(), x.percent));
                (
                    a.name.as_str(),
                    a.personality.as_str(),
                    a.state.as_str(),
                    counts,
                    a.degraded,
                    action,
                )
            })
            .collect()
    }

    #[test]
    fn whole_arrays_are_whole() {
        let arrays = mdstat_fixture("healthy.txt");
        assert_eq!(
            seen(&arrays),
            [
                ("md1", "raid10", "active", Some((4, 4)), false, None),
                ("md0", "raid1", "active", Some((2, 2)), false, None),
            ]
        );
        assert_eq!(arrays[1].members.len(), 2);
    }

    #[test]
    fn a_rebuild_shows_its_progress_and_a_failed_member() {
        let arrays = mdstat_fixture("recovering.txt");
        assert_eq!(
            seen(&arrays),
            [
                (
                    "md2",
                    "raid5",
                    "active",
                    Some((2, 3)),
                    true,
                    Some(("recovery", Some(8.5)))
                ),
                (
                    "md3",
                    "raid1",
                    "active",
                    Some((2, 2)),
                    false,
                    Some(("resync", None))
                ),
            ]
        );
        assert_eq!(
            arrays[0].action.as_ref().unwrap().finish.as_deref(),
            Some("283.7min")
        );
        assert_eq!(
            arrays[1].action.as_ref().unwrap().waiting.as_deref(),
            Some("DELAYED")
        );
        let failed: Vec<&str> = arrays[0]
            .members
            .iter()
            .filter(|m| m.failed)
            .map(|m| m.device.as_str())
            .collect();
        assert_eq!(failed, ["sdc1"]);
    }

    #[test]
    fn degraded_checking_and_inactive() {
        let arrays = mdstat_fixture("degraded-checking.txt");
        assert_eq!(
            seen(&arrays),
            [
                ("md0", "raid1", "active", Some((1, 2)), true, None),
                (
                    "md4",
                    "raid6",
                    "active",
                    Some((6, 6)),
                    false,
                    Some(("check", Some(58.3)))
                ),
                ("md127", "", "inactive", None, false, None),
            ]
        );
        assert!(arrays[2].members[0].spare);
    }

    #[test]
    fn zpool_says_which_pools_are_unwell() {
        assert!(pools("all pools are healthy\n").is_empty());
        // The layout of `zpool status -x` (OpenZFS 2.1) for a pool with a faulted disk.
        let text = "  pool: tank\n state: DEGRADED\nstatus: One or more devices are faulted in response to persistent errors.\n\tSufficient replicas exist for the pool to continue functioning in a\n\tdegraded state.\naction: Replace the faulted device, or use 'zpool clear' to mark the device\n\trepaired.\n  scan: scrub repaired 0B in 02:11:09 with 0 errors on Sun Nov  8 02:35:10 2026\nconfig:\n\n\tNAME        STATE     READ WRITE CKSUM\n\ttank        DEGRADED     0     0     0\n\t  mirror-0  DEGRADED     0     0     0\n\t    sda     ONLINE       0     0     0\n\t    sdb     FAULTED     12     0     0  too many errors\n\nerrors: No known data errors\n";
        let found = pools(text);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].name.as_str(), found[0].state.as_str()),
            ("tank", "DEGRADED")
        );
        assert!(found[0]
            .status
            .starts_with("One or more devices are faulted"));
    }

    #[test]
    fn btrfs_devices_with_errors_from_sysfs() {
        let root = tempfile::tempdir().unwrap();
        let fs = root.path().join("sys/fs/btrfs/0f3c-uuid");
        for (id, stats) in [
            (
                "1",
                "write_errs 0\nread_errs 0\nflush_errs 0\ncorruption_errs 0\ngeneration_errs 0\n",
            ),
            (
                "2",
                "write_errs 0\nread_errs 4\nflush_errs 0\ncorruption_errs 1\ngeneration_errs 0\n",
            ),
        ] {
            std::fs::create_dir_all(fs.join("devinfo").join(id)).unwrap();
            std::fs::write(fs.join("devinfo").join(id).join("error_stats"), stats).unwrap();
        }
        std::fs::write(fs.join("label"), "data\n").unwrap();
        let procfs = Procfs::at(&root.path().join("proc"), &root.path().join("sys"));
        let found = btrfs(&procfs).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].filesystem.as_str(), found[0].device.as_str()),
            ("data", "devid 2")
        );
        assert_eq!(
            found[0].errors,
            [
                ("read_errs".to_string(), 4),
                ("corruption_errs".to_string(), 1)
            ]
        );
        let none = Procfs::at(&root.path().join("proc"), &root.path().join("nothing"));
        assert_eq!(btrfs(&none), None);
    }
}
