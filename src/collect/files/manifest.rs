//! What a watched tree looks like now: one entry per path (type, size, times, mode,
//! owner, a SHA-256 of small files), for the `files` collector to compare with the
//! previous report's. Kept in `<state_dir>/files.json`: a compatibility boundary.
//!
//! The walk never follows symbolic links and never leaves the watched path's
//! filesystem (find -xdev), so /proc, a network mount or a link to / cannot make it
//! endless. Mount points under the watched path are skipped by name, from the mount
//! table, without an lstat: on a dead NFS mount even that blocks for good. A file
//! whose size, mtime and ctime are all unchanged keeps its previous hash without
//! being read again: a report reads only what changed.
//!
//! Entries are keyed by `key()`, an unambiguous text form of the path's bytes, so
//! names that differ only in bytes that are not UTF-8 stay apart.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// 2: keys escape backslashes and non-UTF-8 bytes (1 replaced the latter with U+FFFD).
/// A version 1 manifest is still read: its keys are the same for every path without
/// a backslash or invalid UTF-8, and such a path shows once as deleted and created.
pub const MANIFEST_VERSION: u32 = 2;
/// A watch stops (and keeps its previous manifest) beyond this many entries.
pub const MAX_ENTRIES: usize = 100_000;

/// One `[[watch]]` from the config.
#[derive(Debug, Clone)]
pub struct Watch {
    pub path: PathBuf,
    pub recursive: bool,
    /// A pattern without '/' matches a name anywhere; with '/', the whole path.
    pub exclude: Vec<glob::Pattern>,
    /// Files up to this size are hashed; larger ones are compared by size and mtime.
    pub hash_max_bytes: u64,
}

/// Every watched tree at one instant, by watched path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub taken_at: Option<chrono::DateTime<chrono::Utc>>,
    pub trees: BTreeMap<String, Tree>,
}

/// One watched path's entries, by path.
pub type Tree = BTreeMap<String, Entry>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// "file", "dir", "link" or "other" (sockets, fifos, devices).
    pub kind: String,
    pub size: u64,
    /// Nanoseconds since the epoch.
    pub mtime: i64,
    pub ctime: i64,
    /// Permission bits with setuid, setgid and sticky (no file type).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Hex SHA-256 of a regular file's content, when it was small and readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// A symbolic link's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

fn nanos(secs: i64, nsecs: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsecs)
}

/// One watch as walked: its entries, and the mount points under it left untouched.
#[derive(Debug, Default)]
pub struct Walked {
    pub tree: Tree,
    pub mounts_skipped: Vec<String>,
}

/// A path as a manifest key: its bytes as text, `\\` for a backslash and `\xNN` for a
/// byte that is not part of valid UTF-8. One key per path, one path per key.
pub fn key(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// The mount points strictly under `root`, from the mount table's (canonical) paths,
/// spelled as the walk will meet them (under `root` as configured).
pub fn mounts_under(root: &Path, mount_points: &[PathBuf]) -> BTreeSet<PathBuf> {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    mount_points
        .iter()
        .filter_map(|m| m.strip_prefix(&canonical).ok())
        .filter(|rest| !rest.as_os_str().is_empty())
        .map(|rest| root.join(rest))
        .collect()
}

/// Walks one watch. `before` supplies hashes that need not be recomputed;
/// `mount_points` are the mount table's, never touched when under the watch.
pub fn walk(
    watch: &Watch,
    before: Option<&Tree>,
    mount_points: &[PathBuf],
) -> Result<Walked, String> {
    let root = std::fs::symlink_metadata(&watch.path)
        .map_err(|e| format!("{}: {e}", watch.path.display()))?;
    let mounts = mounts_under(&watch.path, mount_points);
    let mut walked = Walked::default();
    let tree = &mut walked.tree;
    let mut pending = vec![(watch.path.clone(), root.clone())];
    while let Some((path, meta)) = pending.pop() {
        let name = key(&path);
        let entry = entry(
            &path,
            &meta,
            watch.hash_max_bytes,
            before.and_then(|b| b.get(&name)),
        );
        let descend =
            meta.is_dir() && meta.dev() == root.dev() && (path == watch.path || watch.recursive);
        tree.insert(name, entry);
        if tree.len() > MAX_ENTRIES {
            return Err(format!("{} holds more than {MAX_ENTRIES} entries; watch a smaller tree or exclude some of it", watch.path.display()));
        }
        if descend {
            let (found, skipped) = children(&path, watch, &mounts);
            pending.extend(found);
            walked.mounts_skipped.extend(skipped.iter().map(|p| key(p)));
        }
    }
    Ok(walked)
}

/// A directory's entries that are not excluded, sorted so the walk is the same every
/// time, and the mount points among them (skipped before any lstat). An unreadable
/// directory contributes its own entry only.
fn children(
    dir: &Path,
    watch: &Watch,
    mounts: &BTreeSet<PathBuf>,
) -> (Vec<(PathBuf, std::fs::Metadata)>, Vec<PathBuf>) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let (skipped, paths): (Vec<PathBuf>, Vec<PathBuf>) = listing
        .flatten()
        .map(|e| e.path())
        .filter(|p| !excluded(p, &watch.exclude))
        .partition(|p| mounts.contains(p));
    let mut found: Vec<_> = paths
        .into_iter()
        .filter_map(|p| std::fs::symlink_metadata(&p).ok().map(|m| (p, m)))
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    (found, skipped)
}

pub fn excluded(path: &Path, patterns: &[glob::Pattern]) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let whole = path.to_string_lossy();
    patterns.iter().any(|p| {
        if p.as_str().contains('/') {
            p.matches(&whole)
        } else {
            p.matches(&name)
        }
    })
}

fn entry(path: &Path, meta: &std::fs::Metadata, hash_max: u64, before: Option<&Entry>) -> Entry {
    let kind = match meta.file_type() {
        t if t.is_file() => "file",
        t if t.is_dir() => "dir",
        t if t.is_symlink() => "link",
        _ => "other",
    };
    let mut entry = Entry {
        kind: kind.into(),
        size: meta.size(),
        mtime: nanos(meta.mtime(), meta.mtime_nsec()),
        ctime: nanos(meta.ctime(), meta.ctime_nsec()),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        sha256: None,
        target: None,
    };
    match kind {
        "link" => {
            entry.target = std::fs::read_link(path)
                .ok()
                .map(|t| t.to_string_lossy().into_owned())
        }
        "file" if entry.size <= hash_max => {
            let unchanged = before.filter(|b| {
                b.kind == "file"
                    && b.size == entry.size
                    && b.mtime == entry.mtime
                    && b.ctime == entry.ctime
            });
            entry.sha256 = match unchanged {
                Some(b) if b.sha256.is_some() => b.sha256.clone(),
                _ => sha256(path, hash_max),
            };
        }
        _ => {}
    }
    entry
}

/// The file's SHA-256 in hex; None if it cannot be read or has grown past `max`.
fn sha256(path: &Path, max: u64) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut reader = file.take(max + 1);
    let mut buffer = [0u8; 16 * 1024];
    let mut read = 0u64;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                read += n as u64;
                context.update(&buffer[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    if read > max {
        return None;
    }
    let digest = context.finish();
    Some(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(path: &str, patterns: &[&str], expected: bool) {
        let patterns: Vec<_> = patterns
            .iter()
            .map(|p| glob::Pattern::new(p).unwrap())
            .collect();
        assert_eq!(
            excluded(Path::new(path), &patterns),
            expected,
            "{path} {patterns:?}"
        );
    }

    #[test]
    fn exclude_patterns() {
        check("/etc/.passwd.swp", &["*.swp"], true);
        check("/etc/passwd", &["*.swp"], false);
        check("/etc/ssl/certs", &["/etc/ssl/*"], true);
        check("/etc/ssl", &["/etc/ssl/*"], false);
        check("/etc/mtab", &["mtab", "*~"], true);
        check("/etc/motd~", &["mtab", "*~"], true);
        // A name pattern matches the name only, not a directory above it.
        check("/etc/cache/x", &["cache"], false);
    }

    #[test]
    fn keys_keep_apart_names_that_differ_only_in_invalid_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let path = |bytes: &[u8]| Path::new(std::ffi::OsStr::from_bytes(bytes)).to_path_buf();
        assert_eq!(key(&path(b"/etc/caf\xc3\xa9")), "/etc/café");
        assert_eq!(key(&path(b"/etc/a\xff")), "/etc/a\\xff");
        assert_eq!(key(&path(b"/etc/a\xfe")), "/etc/a\\xfe");
        // A name that spells an escape is not the byte it spells.
        assert_eq!(key(&path(b"/etc/a\\xff")), "/etc/a\\\\xff");
    }

    #[test]
    fn mount_points_under_a_watch() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let mounts = [
            PathBuf::from("/"),
            root.clone(),
            root.join("nfs"),
            root.join("a/b"),
            PathBuf::from("/elsewhere"),
        ];
        assert_eq!(
            mounts_under(&root, &mounts).into_iter().collect::<Vec<_>>(),
            [root.join("a/b"), root.join("nfs")]
        );
    }

    #[test]
    fn sha256_of_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(
            sha256(&file, 1024).as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(sha256(&file, 2), None, "larger than the cap");
    }
}
