//! The `disk` collector: usage of every real filesystem, as df(1) computes it.
//!
//! The mount table is parsed here rather than by psutil, because psutil's parser
//! panics on escapes it does not know and keeps tmpfs-like noise such as squashfs
//! snaps; statvfs is nix's rather than psutil's `disk_usage`, which drops the inode
//! counts. The arithmetic is df's (see `from_statvfs`).

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::{deadline, percent, CollectError};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Disk {
    pub mount: String,
    pub device: String,
    pub fstype: String,
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub percent: f64,
    /// Inodes (files), as `df -i` counts them; all 0 where the filesystem has no
    /// fixed inode table (btrfs, some network filesystems).
    pub inodes_total: u64,
    pub inodes_used: u64,
    pub inodes_percent: f64,
}

/// One line of /proc/self/mounts, its octal escapes (`\040` for a space) decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub point: PathBuf,
    pub fstype: String,
}

/// Network filesystems: nodev to the kernel, but real disks to an admin.
const NETWORK_FS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ceph",
    "glusterfs",
    "fuse.glusterfs",
    "fuse.sshfs",
    "9p",
];
/// Block filesystems that are read-only images and always full: noise in a report.
const IMAGE_FS: &[&str] = &["squashfs", "erofs", "iso9660"];

/// A filesystem to probe: the path to statvfs and the mount it lives on.
pub type Target = (PathBuf, Option<Mount>);

/// How one path is measured; statvfs in production, something that hangs in tests.
pub type Probe = Arc<dyn Fn(&Path, Option<&Mount>) -> Result<Disk, String> + Send + Sync>;

/// Usage of each filesystem to report, and a message for each one that failed.
/// Returns by `deadline` whatever happens to the mounts.
pub fn collect(
    only: Option<&[PathBuf]>,
    deadline: Instant,
) -> Result<(Vec<Disk>, Vec<String>), CollectError> {
    Ok(probe_all(targets(only)?, statvfs_probe(), deadline))
}

/// The probe of production: one statvfs per target.
pub fn statvfs_probe() -> Probe {
    Arc::new(|path: &Path, mount: Option<&Mount>| usage(path, mount))
}

/// The filesystems a report shows: the paths named (each with its mount), else every
/// real filesystem.
pub fn targets(only: Option<&[PathBuf]>) -> Result<Vec<Target>, CollectError> {
    let read =
        |path: &str| std::fs::read(path).map_err(|e| CollectError::new(format!("{path}: {e}")));
    let mounts = parse_mounts(&read("/proc/self/mounts")?);
    Ok(match only {
        Some(paths) => containing_all(&mounts, paths),
        None => {
            let block = block_fstypes(&String::from_utf8_lossy(&read("/proc/filesystems")?));
            real_filesystems(&mounts, &block)
                .into_iter()
                .map(|m| (m.point.clone(), Some(m)))
                .collect::<Vec<_>>()
        }
    })
}

/// Whether a mount is a network filesystem, whose statvfs can wait on a server.
pub fn is_network(mount: Option<&Mount>) -> bool {
    mount.is_some_and(|m| NETWORK_FS.contains(&m.fstype.as_str()))
}

/// Probes the targets in order on a worker thread. A probe that does not answer
/// within half the time left (a dead NFS server) is abandoned and its mount marked
/// stuck; a fresh worker goes on with the rest. A stuck mount is skipped, not
/// probed again, until its old probe returns.
pub fn probe_all(
    targets: Vec<Target>,
    probe: Probe,
    deadline: Instant,
) -> (Vec<Disk>, Vec<String>) {
    let targets = Arc::new(targets);
    let mut results: Vec<Option<Result<Disk, String>>> = vec![None; targets.len()];
    let mut next = 0;
    while next < targets.len() {
        if Instant::now() >= deadline {
            break;
        }
        let rx = start_worker(targets.clone(), next, probe.clone());
        loop {
            // Half the time left: a hung mount leaves time for the others.
            let limit = deadline.saturating_duration_since(Instant::now()) / 2;
            match rx.recv_timeout(limit) {
                Ok((i, result)) => {
                    results[i] = Some(result);
                    next = i + 1;
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let abandoned = abandon(&rx, &targets[next].0, &mut results, next);
                    next = abandoned + 1;
                    break;
                }
            }
        }
    }
    let mut disks = Vec::new();
    let mut errors = Vec::new();
    for ((path, _), result) in targets.iter().zip(results) {
        match result {
            Some(Ok(d)) => disks.push(d),
            Some(Err(e)) => errors.push(format!("{}: {e}", path.display())),
            None => errors.push(format!(
                "{}: not measured: collector_timeout_secs ran out",
                path.display()
            )),
        }
    }
    (disks, errors)
}

fn stuck_key(path: &Path) -> String {
    format!("statvfs {}", path.display())
}

type Measured = (usize, Result<Disk, String>);

fn start_worker(targets: Arc<Vec<Target>>, from: usize, probe: Probe) -> Receiver<Measured> {
    let (tx, rx) = mpsc::channel();
    let _ = std::thread::Builder::new()
        .name("collect statvfs".into())
        .spawn(move || {
            for (i, (path, mount)) in targets.iter().enumerate().skip(from) {
                let key = stuck_key(path);
                let sent = if deadline::is_stuck(&key) {
                    tx.send((
                        i,
                        Err("skipped: its statvfs for an earlier report still hangs".to_string()),
                    ))
                    .is_ok()
                } else {
                    let r = deadline::guarded(|| {
                        probe(path, mount.as_ref()).map_err(CollectError::new)
                    })
                    .map_err(|e| e.to_string());
                    deadline::release_with(&key, || tx.send((i, r)).is_ok())
                };
                if !sent {
                    return; // abandoned: the report went on without us
                }
            }
        });
    rx
}

/// Gives up on the probe of `targets[index]`: marks it stuck unless its result
/// arrived meanwhile. Returns the index given up on.
fn abandon(
    rx: &Receiver<Measured>,
    path: &Path,
    results: &mut [Option<Result<Disk, String>>],
    index: usize,
) -> usize {
    match deadline::mark_stuck_unless(&stuck_key(path), || rx.try_recv().ok()) {
        Some((i, result)) => {
            results[i] = Some(result);
            i
        }
        None => {
            results[index] = Some(Err(
                "statvfs did not answer (a hung network filesystem?); skipped until it does".into(),
            ));
            index
        }
    }
}

/// One statvfs, on the caller's thread.
pub fn usage(path: &Path, mount: Option<&Mount>) -> Result<Disk, String> {
    let st = nix::sys::statvfs::statvfs(path).map_err(|e| format!("statvfs: {e}"))?;
    Ok(from_statvfs(
        path,
        mount,
        Counts {
            blocks: st.blocks(),
            blocks_free: st.blocks_free(),
            blocks_available: st.blocks_available(),
            fragment_size: st.fragment_size(),
            files: st.files(),
            files_free: st.files_free(),
        },
    ))
}

/// The statvfs(3) fields the figures come from.
pub struct Counts {
    pub blocks: u64,
    pub blocks_free: u64,
    pub blocks_available: u64,
    pub fragment_size: u64,
    pub files: u64,
    pub files_free: u64,
}

/// df(1)'s arithmetic: `used = (blocks - bfree) * frsize`, `free = bavail * frsize`,
/// `percent = used / (used + free)` (root's reserve counts as neither), and
/// `df -i`'s for inodes.
pub fn from_statvfs(path: &Path, mount: Option<&Mount>, c: Counts) -> Disk {
    let used = c
        .blocks
        .saturating_sub(c.blocks_free)
        .saturating_mul(c.fragment_size);
    let free = c.blocks_available.saturating_mul(c.fragment_size);
    let inodes_used = c.files.saturating_sub(c.files_free);
    Disk {
        mount: path.to_string_lossy().into_owned(),
        device: mount.map_or_else(String::new, |m| m.device.clone()),
        fstype: mount.map_or_else(String::new, |m| m.fstype.clone()),
        total: c.blocks.saturating_mul(c.fragment_size),
        used,
        free,
        percent: percent(used, used.saturating_add(free)),
        inodes_total: c.files,
        inodes_used,
        inodes_percent: percent(inodes_used, c.files),
    }
}

/// This process's mount points, from /proc/self/mounts; none when it cannot be read.
pub fn mount_points() -> Vec<PathBuf> {
    std::fs::read("/proc/self/mounts")
        .map(|t| parse_mounts(&t).into_iter().map(|m| m.point).collect())
        .unwrap_or_default()
}

/// The entries of a mount table, in mount order.
pub fn parse_mounts(text: &[u8]) -> Vec<Mount> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
            let (device, point, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            Some(Mount {
                device: String::from_utf8_lossy(&unescape(device)).into_owned(),
                point: PathBuf::from(OsString::from_vec(unescape(point))),
                fstype: String::from_utf8_lossy(fstype).into_owned(),
            })
        })
        .collect()
}

/// Decodes the kernel's `\ooo` octal escapes (space, tab, newline, backslash).
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal.map(|d| d.iter().fold(0u32, |n, c| n * 8 + u32::from(c - b'0'))) {
            Some(code) if code <= 0xff => {
                out.push(code as u8);
                i += 4;
            }
            _ => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

/// The filesystem types in /proc/filesystems that need a block device (no `nodev`).
pub fn block_fstypes(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with("nodev"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The mounts worth reporting: block and network filesystems, not images; a device
/// mounted more than once is shown once, at its shortest mount point, as df(1) does.
pub fn real_filesystems(mounts: &[Mount], block: &BTreeSet<String>) -> Vec<Mount> {
    let is_real = |fstype: &str| {
        (block.contains(fstype) || NETWORK_FS.contains(&fstype) || fstype == "zfs")
            && !IMAGE_FS.contains(&fstype)
    };
    // A later mount on the same point hides the earlier one. Indexed, not searched:
    // a host with thousands of mounts must not cost thousands squared comparisons.
    let mut last_at_point: HashMap<&Path, usize> = HashMap::new();
    for (i, m) in mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| is_real(&m.fstype))
    {
        last_at_point.insert(&m.point, i);
    }
    let mut visible: Vec<usize> = last_at_point.into_values().collect();
    visible.sort_unstable();
    let mut chosen: Vec<Mount> = Vec::with_capacity(visible.len());
    let mut by_device: HashMap<&str, usize> = HashMap::new();
    for m in visible.into_iter().map(|i| &mounts[i]) {
        match by_device.get(m.device.as_str()) {
            Some(&j) if m.point.as_os_str().len() < chosen[j].point.as_os_str().len() => {
                chosen[j] = m.clone()
            }
            Some(_) => {}
            None => {
                by_device.insert(&m.device, chosen.len());
                chosen.push(m.clone());
            }
        }
    }
    chosen
}

/// Where each path lives: the last-mounted entry at its longest mounted ancestor.
fn containing_all(mounts: &[Mount], paths: &[PathBuf]) -> Vec<Target> {
    let mut at_point: HashMap<&Path, &Mount> = HashMap::with_capacity(mounts.len());
    for m in mounts {
        at_point.insert(&m.point, m);
    }
    paths
        .iter()
        .map(|p| {
            (
                p.clone(),
                p.ancestors()
                    .find_map(|a| at_point.get(a))
                    .map(|m| (*m).clone()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    fn mount(device: &str, point: &str, fstype: &str) -> Mount {
        Mount {
            device: device.into(),
            point: point.into(),
            fstype: fstype.into(),
        }
    }

    #[test]
    fn sizes_and_inodes_as_df_counts_them() {
        let c = Counts {
            blocks: 1000,
            blocks_free: 300,
            blocks_available: 250,
            fragment_size: 4096,
            files: 100,
            files_free: 25,
        };
        let d = from_statvfs(Path::new("/"), None, c);
        assert_eq!((d.total, d.used, d.free), (4_096_000, 2_867_200, 1_024_000));
        assert_eq!(d.percent, 73.7); // 700 / (700 + 250), the 50 reserved blocks count as neither
        assert_eq!(
            (d.inodes_total, d.inodes_used, d.inodes_percent),
            (100, 75, 75.0)
        );
        let empty = from_statvfs(
            Path::new("/x"),
            None,
            Counts {
                blocks: 0,
                blocks_free: 0,
                blocks_available: 0,
                fragment_size: 4096,
                files: 0,
                files_free: 0,
            },
        );
        assert_eq!((empty.percent, empty.inodes_percent), (0.0, 0.0));
    }

    #[test]
    fn parses_and_decodes_escapes() {
        let text = b"/dev/vda1 / ext4 rw 0 0\n/dev/sdb1 /mnt/my\\040disk\\011x ext4 rw 0 0\nbad\n/dev/sdc1 /a\\134b\\12 xfs rw 0 0\n";
        assert_eq!(
            parse_mounts(text),
            vec![
                mount("/dev/vda1", "/", "ext4"),
                mount("/dev/sdb1", "/mnt/my disk\tx", "ext4"),
                mount("/dev/sdc1", "/a\\b\\12", "xfs"),
            ]
        );
    }

    #[test]
    fn non_utf8_mount_points_survive() {
        let m = parse_mounts(b"/dev/sda1 /mnt/\xff\\040x ext4 rw 0 0\n");
        assert_eq!(m[0].point.as_os_str().as_bytes(), b"/mnt/\xff x");
    }

    #[test]
    fn keeps_real_filesystems_once() {
        let block = block_fstypes("nodev\tsysfs\nnodev\ttmpfs\n\text4\n\tsquashfs\n\txfs\n");
        assert_eq!(
            block.iter().cloned().collect::<Vec<_>>(),
            ["ext4", "squashfs", "xfs"]
        );
        let mounts = [
            mount("sysfs", "/sys", "sysfs"),
            mount("/dev/vda1", "/", "ext4"),
            mount("tmpfs", "/run", "tmpfs"),
            mount("/dev/loop0", "/snap/core/1", "squashfs"),
            mount("/dev/vda1", "/etc/hosts", "ext4"),
            mount("srv:/export", "/mnt/nfs", "nfs4"),
            mount("/dev/vdb", "/data", "xfs"),
            mount("/dev/vdc", "/data", "xfs"),
        ];
        let got: Vec<_> = real_filesystems(&mounts, &block)
            .into_iter()
            .map(|m| m.point)
            .collect();
        assert_eq!(got, [PathBuf::from("/"), "/mnt/nfs".into(), "/data".into()]);
    }

    #[test]
    fn a_path_belongs_to_its_longest_mount() {
        let mounts = [
            mount("/dev/a", "/", "ext4"),
            mount("/dev/b", "/var", "ext4"),
            mount("/dev/c", "/variable", "ext4"),
            mount("/dev/d", "/var", "xfs"),
        ];
        let found = containing_all(
            &mounts,
            &["/var/log".into(), "/varx".into(), "/variable/x".into()],
        );
        let devices: Vec<_> = found
            .iter()
            .map(|(_, m)| m.as_ref().unwrap().device.as_str())
            .collect();
        // /var was mounted over: the later mount is the one in use.
        assert_eq!(devices, ["/dev/d", "/dev/a", "/dev/c"]);
    }

    fn fake_disk(path: &Path) -> Disk {
        let c = Counts {
            blocks: 100,
            blocks_free: 90,
            blocks_available: 90,
            fragment_size: 1,
            files: 10,
            files_free: 9,
        };
        from_statvfs(path, None, c)
    }

    fn thread_count() -> usize {
        std::fs::read_dir("/proc/self/task").unwrap().count()
    }

    #[test]
    fn a_hanging_mount_costs_one_thread_and_the_others_are_measured() {
        // "/mnt/dead" blocks like statvfs on a dead NFS server, until the test lets it go.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = std::sync::Mutex::new(gate);
        let probe: Probe = Arc::new(move |path: &Path, _: Option<&Mount>| {
            if path == Path::new("/mnt/dead") {
                let _ = gate.lock().unwrap().recv();
            }
            Ok(fake_disk(path))
        });
        let targets: Vec<Target> = ["/", "/mnt/dead", "/srv"]
            .iter()
            .map(|p| (PathBuf::from(p), None))
            .collect();
        let budget = std::time::Duration::from_millis(400);
        let started = Instant::now();
        let (disks, errors) = probe_all(targets.clone(), probe.clone(), started + budget);
        assert!(
            started.elapsed() < budget + std::time::Duration::from_millis(300),
            "returned by its deadline"
        );
        assert_eq!(
            disks.iter().map(|d| d.mount.as_str()).collect::<Vec<_>>(),
            ["/", "/srv"]
        );
        assert_eq!(errors, ["/mnt/dead: statvfs did not answer (a hung network filesystem?); skipped until it does"]);

        // The next report skips the stuck mount instead of starting another probe of it.
        let before = thread_count();
        let (disks, errors) = probe_all(targets.clone(), probe.clone(), Instant::now() + budget);
        assert_eq!(disks.len(), 2);
        assert_eq!(
            errors,
            ["/mnt/dead: skipped: its statvfs for an earlier report still hangs"]
        );
        assert!(
            thread_count() <= before + 1,
            "no thread piles up for the stuck mount"
        );

        // Once the old probe returns (the NFS server is back: the gate opens for good),
        // the mount is measured again.
        drop(release);
        let mut again = (Vec::new(), vec![String::new()]);
        for _ in 0..100 {
            again = probe_all(targets.clone(), probe.clone(), Instant::now() + budget);
            if again.1.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(again.0.len(), 3, "{:?}", again.1);
    }

    #[test]
    fn a_panicking_probe_is_one_error() {
        let probe: Probe = Arc::new(|path: &Path, _: Option<&Mount>| {
            if path == Path::new("/odd") {
                panic!("unexpected statvfs data");
            }
            Ok(fake_disk(path))
        });
        let targets: Vec<Target> = ["/odd", "/"]
            .iter()
            .map(|p| (PathBuf::from(p), None))
            .collect();
        let (disks, errors) = probe_all(
            targets,
            probe,
            Instant::now() + std::time::Duration::from_secs(5),
        );
        assert_eq!(disks.len(), 1);
        assert_eq!(errors, ["/odd: panicked: unexpected statvfs data"]);
    }
}
