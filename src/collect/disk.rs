//! The `disk` collector: usage of every real filesystem, as df(1) computes it.
//!
//! The mount table is parsed here rather than by psutil, because psutil's parser
//! panics on escapes it does not know and keeps tmpfs-like noise such as squashfs
//! snaps; statvfs itself is psutil's `disk_usage`, whose arithmetic is df's:
//! `used = (blocks - bfree) * frsize`, `free = bavail * frsize`,
//! `percent = used / (used + free)`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{percent, CollectError};

#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    pub mount: String,
    pub device: String,
    pub fstype: String,
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub percent: f64,
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

/// Usage of each filesystem to report, and a message for each one that failed.
pub fn collect(only: Option<&[PathBuf]>) -> Result<(Vec<Disk>, Vec<String>), CollectError> {
    let read =
        |path: &str| std::fs::read(path).map_err(|e| CollectError::new(format!("{path}: {e}")));
    let mounts = parse_mounts(&read("/proc/self/mounts")?);
    let chosen = match only {
        Some(paths) => paths
            .iter()
            .map(|p| (p.clone(), containing(&mounts, p)))
            .collect(),
        None => {
            let block = block_fstypes(&String::from_utf8_lossy(&read("/proc/filesystems")?));
            real_filesystems(&mounts, &block)
                .into_iter()
                .map(|m| (m.point.clone(), Some(m)))
                .collect::<Vec<_>>()
        }
    };
    let mut disks = Vec::with_capacity(chosen.len());
    let mut errors = Vec::new();
    for (path, mount) in chosen {
        match usage(&path, mount.as_ref()) {
            Ok(d) => disks.push(d),
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    Ok((disks, errors))
}

fn usage(path: &Path, mount: Option<&Mount>) -> Result<Disk, String> {
    let du =
        psutil::disk::disk_usage(path).map_err(|e| format!("statvfs: {}", statvfs_reason(&e)))?;
    let (used, free) = (du.used(), du.free());
    Ok(Disk {
        mount: path.to_string_lossy().into_owned(),
        device: mount.map_or_else(String::new, |m| m.device.clone()),
        fstype: mount.map_or_else(String::new, |m| m.fstype.clone()),
        total: du.total(),
        used,
        free,
        percent: percent(used, used + free),
    })
}

/// psutil wraps the OS error in text about its own internals; keep the OS's words.
fn statvfs_reason(e: &psutil::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
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
    let mut chosen: Vec<Mount> = Vec::new();
    for m in mounts {
        let fstype = m.fstype.as_str();
        let real = (block.contains(fstype) || NETWORK_FS.contains(&fstype) || fstype == "zfs")
            && !IMAGE_FS.contains(&fstype);
        if !real {
            continue;
        }
        // A later mount on the same point hides the earlier one.
        chosen.retain(|c| c.point != m.point);
        match chosen.iter_mut().find(|c| c.device == m.device) {
            Some(c) if m.point.as_os_str().len() < c.point.as_os_str().len() => *c = m.clone(),
            Some(_) => {}
            None => chosen.push(m.clone()),
        }
    }
    chosen
}

/// The mount a path lives on: the last-mounted entry with the longest matching point.
fn containing(mounts: &[Mount], path: &Path) -> Option<Mount> {
    mounts
        .iter()
        .rev()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.as_os_str().as_bytes().len())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(device: &str, point: &str, fstype: &str) -> Mount {
        Mount {
            device: device.into(),
            point: point.into(),
            fstype: fstype.into(),
        }
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
        ];
        assert_eq!(
            containing(&mounts, Path::new("/var/log")).unwrap().device,
            "/dev/b"
        );
        assert_eq!(
            containing(&mounts, Path::new("/varx")).unwrap().device,
            "/dev/a"
        );
    }
}
