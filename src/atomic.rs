//! Writing a file so that a crash at any instant leaves the old file or the new
//! one, never a partial one: a hidden temp file in the same directory (0600),
//! written, fsynced, renamed over the target, then the directory fsynced.
//! Temp files are named `.tmp.<pid>.<random>`; the outbox cleans up stale ones.
//!
//! A file root writes into a directory that another user owns is given to that
//! user: the service runs as a dynamic user, and an admin's `sudo rreport --once`
//! beside it must not leave queue files or manifests the service cannot read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` with the concatenation of `parts`, atomically and durably.
pub fn write(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    write_mode(path, parts, 0o600)
}

/// As `write`, the file given `mode` whatever the umask (the unit's is 0077): 0644
/// for a file another user's program reads, as node_exporter reads the textfile.
pub fn write_mode(path: &Path, parts: &[&[u8]], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".tmp.{}.{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        for part in parts {
            file.write_all(part)?;
        }
        give_to_dir_owner(&file, dir)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// When root writes into a directory owned by someone else, the file becomes theirs.
pub fn give_to_dir_owner(file: &File, dir: &Path) -> io::Result<()> {
    match foreign_owner(dir)? {
        Some((uid, gid)) => std::os::unix::fs::fchown(file, Some(uid), Some(gid)),
        None => Ok(()),
    }
}

/// `give_to_dir_owner` for a directory or file root just created at `path`.
pub fn give_path_to_parent_owner(path: &Path) -> io::Result<()> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    match foreign_owner(parent)? {
        Some((uid, gid)) => std::os::unix::fs::lchown(path, Some(uid), Some(gid)),
        None => Ok(()),
    }
}

/// The owner of `dir` when this process is root and `dir` is someone else's.
fn foreign_owner(dir: &Path) -> io::Result<Option<(u32, u32)>> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let owner = fs::metadata(dir)?;
    Ok((owner.uid() != 0).then(|| (owner.uid(), owner.gid())))
}

/// Makes a rename or removal in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
