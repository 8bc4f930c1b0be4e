//! The `files` collector: what was created, modified, deleted, or had its mode or
//! owner changed under the `[[watch]]` paths since the previous report.
//!
//! It compares manifests (`manifest.rs`) rather than listening to inotify, so a
//! change made while rreport was stopped, or between two `--once` runs, is seen
//! all the same. A path seen for the first time records a baseline and lists
//! nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

pub mod manifest;

use self::manifest::{Entry, Manifest, Tree, Watch};
use crate::zone::Zone;

/// The changes kept in the context; the report shows fewer and counts the rest.
const MAX_CHANGES: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct Files {
    /// When the manifest compared against was taken; null when every watch is new.
    pub previous_report: Option<String>,
    pub watched: Vec<Watched>,
    /// Sorted by path; at most `MAX_CHANGES` of them.
    pub changes: Vec<Change>,
    /// How many changes there were in all.
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Watched {
    pub path: String,
    /// Files, directories and links under it (itself included).
    pub entries: usize,
    /// First seen now: a baseline was recorded, no changes listed.
    pub baseline: bool,
    /// Why it could not be read; its previous manifest is kept.
    pub error: Option<String>,
    /// Mount points under it, not looked at (another filesystem; maybe a dead one).
    pub mounts_skipped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    /// "created", "deleted", "modified" (content, link target or type), "mode", "owner".
    pub what: Vec<&'static str>,
    /// The before and after, e.g. "mode 0644 → 0600".
    pub detail: String,
}

/// Walks every watch and compares it with `previous`. Returns the section and the
/// manifest to keep for the next report.
pub fn collect(
    watches: &[Watch],
    previous: Option<&Manifest>,
    now: DateTime<Utc>,
    zone: &Zone,
) -> (Files, Manifest) {
    let previous = previous.filter(|m| (1..=manifest::MANIFEST_VERSION).contains(&m.version));
    // Read once for every watch; without it, no mount point is skipped (the -xdev
    // rule still keeps the walk from descending into them).
    let mount_points = crate::collect::disk::mount_points();
    let mut next = Manifest {
        version: manifest::MANIFEST_VERSION,
        taken_at: Some(now),
        trees: Default::default(),
    };
    let mut changes = Vec::new();
    let mut watched = Vec::new();
    let mut compared = false;
    for watch in watches {
        let key = watch.path.to_string_lossy().into_owned();
        let before = previous.and_then(|m| m.trees.get(&key));
        let (seen, tree) = one_watch(watch, before, &mount_points, &mut changes);
        compared |= before.is_some() && seen.error.is_none();
        if let Some(tree) = tree {
            next.trees.insert(key.clone(), tree);
        }
        watched.push(seen);
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    let total = changes.len();
    changes.truncate(MAX_CHANGES);
    let previous_report = previous
        .filter(|_| compared)
        .and_then(|m| m.taken_at)
        .map(|t| zone.rfc3339(t));
    let files = Files {
        previous_report,
        watched,
        changes,
        total,
    };
    (files, next)
}

/// One watch walked and compared with its previous tree: what the report says of it,
/// and the tree to keep (the new one, or the old one when it could not be read, so
/// the changes show once it is readable again).
fn one_watch(
    watch: &Watch,
    before: Option<&Tree>,
    mount_points: &[std::path::PathBuf],
    changes: &mut Vec<Change>,
) -> (Watched, Option<Tree>) {
    let path = watch.path.to_string_lossy().into_owned();
    match manifest::walk(watch, before, mount_points) {
        Ok(walked) => {
            if let Some(before) = before {
                changes.extend(compare(before, &walked.tree, &owner_names));
            }
            let seen = Watched {
                path,
                entries: walked.tree.len(),
                baseline: before.is_none(),
                error: None,
                mounts_skipped: walked.mounts_skipped.iter().map(|p| shown(p)).collect(),
            };
            (seen, Some(walked.tree))
        }
        Err(e) => {
            let seen = Watched {
                path,
                entries: 0,
                baseline: false,
                error: Some(e),
                mounts_skipped: Vec::new(),
            };
            (seen, before.cloned())
        }
    }
}

/// How an owner is shown: "root:adm", from a uid and a gid.
pub type Owner<'a> = &'a dyn Fn(u32, u32) -> String;

fn owner_names(uid: u32, gid: u32) -> String {
    format!(
        "{}:{}",
        crate::collect::names::user(uid),
        crate::collect::names::group(gid)
    )
}

/// Every difference between two walks of one watch.
pub fn compare(before: &Tree, now: &Tree, owner: Owner) -> Vec<Change> {
    let mut changes = Vec::new();
    for (path, new) in now {
        match before.get(path) {
            None => changes.push(Change {
                path: shown(path),
                what: vec!["created"],
                detail: describe(new, owner),
            }),
            Some(old) => {
                if let Some(change) = differences(path, old, new, owner) {
                    changes.push(change);
                }
            }
        }
    }
    for (path, old) in before {
        if !now.contains_key(path) {
            changes.push(Change {
                path: shown(path),
                what: vec!["deleted"],
                detail: describe(old, owner),
            });
        }
    }
    changes
}

fn differences(path: &str, old: &Entry, new: &Entry, owner: Owner) -> Option<Change> {
    let mut what = Vec::new();
    let mut detail = Vec::new();
    if old.kind != new.kind {
        what.push("modified");
        detail.push(format!("{} → {}", old.kind, new.kind));
    } else if content_changed(old, new) {
        what.push("modified");
        detail.push(match (&old.target, &new.target) {
            (Some(a), Some(b)) => format!("link {} → {}", shown(a), shown(b)),
            _ if old.size != new.size => format!("{} → {} bytes", old.size, new.size),
            _ => "content changed, same size".into(),
        });
    }
    if old.mode != new.mode {
        what.push("mode");
        detail.push(format!("mode {:04o} → {:04o}", old.mode, new.mode));
    }
    if (old.uid, old.gid) != (new.uid, new.gid) {
        what.push("owner");
        detail.push(format!(
            "owner {} → {}",
            owner(old.uid, old.gid),
            owner(new.uid, new.gid)
        ));
    }
    (!what.is_empty()).then(|| Change {
        path: shown(path),
        what,
        detail: detail.join("; "),
    })
}

/// A path as the report shows it: control characters escaped as `ls -b` does, so
/// a file named "x\nCRITICAL …" cannot forge a line of the text report.
pub fn shown(path: &str) -> String {
    path.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\t' => "\\t".to_string(),
            '\r' => "\\r".to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Content, for a file: the hash when both sides have one, else size and mtime (a
/// `touch` alone is not a modification when the hash says the bytes are the same).
fn content_changed(old: &Entry, new: &Entry) -> bool {
    match (old.kind.as_str(), &old.sha256, &new.sha256) {
        ("file", Some(a), Some(b)) => a != b,
        ("file", _, _) => old.size != new.size || old.mtime != new.mtime,
        ("link", _, _) => old.target != new.target,
        _ => false,
    }
}

fn describe(e: &Entry, owner: Owner) -> String {
    let what = match e.kind.as_str() {
        "file" => format!("file, {} bytes", e.size),
        "link" => format!("link to {}", shown(e.target.as_deref().unwrap_or("?"))),
        kind => kind.to_string(),
    };
    format!("{what}, mode {:04o}, owner {}", e.mode, owner(e.uid, e.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(uid: u32, gid: u32) -> String {
        format!("{uid}:{gid}")
    }

    fn file(size: u64, mtime: i64, mode: u32, sha: &str) -> Entry {
        Entry {
            kind: "file".into(),
            size,
            mtime,
            ctime: mtime,
            mode,
            uid: 0,
            gid: 0,
            sha256: Some(sha.into()),
            target: None,
        }
    }

    #[track_caller]
    fn check(old: Entry, new: Entry, expected: Option<(&[&str], &str)>) {
        let got = differences("/p", &old, &new, &numeric);
        let got = got.as_ref().map(|c| (c.what.as_slice(), c.detail.as_str()));
        assert_eq!(got, expected);
    }

    #[test]
    fn what_counts_as_a_change() {
        check(file(3, 1, 0o644, "a"), file(3, 1, 0o644, "a"), None);
        // touch: a new mtime, the same bytes.
        check(file(3, 1, 0o644, "a"), file(3, 9, 0o644, "a"), None);
        check(
            file(3, 1, 0o644, "a"),
            file(4, 9, 0o644, "b"),
            Some((&["modified"], "3 → 4 bytes")),
        );
        check(
            file(3, 1, 0o644, "a"),
            file(3, 1, 0o644, "b"),
            Some((&["modified"], "content changed, same size")),
        );
        check(
            file(3, 1, 0o644, "a"),
            file(3, 1, 0o600, "a"),
            Some((&["mode"], "mode 0644 → 0600")),
        );
        let mut owned = file(3, 1, 0o644, "a");
        owned.uid = 1000;
        check(
            file(3, 1, 0o644, "a"),
            owned,
            Some((&["owner"], "owner 0:0 → 1000:0")),
        );
        // Too big to hash: size and mtime decide.
        let mut big = file(3, 1, 0o644, "a");
        big.sha256 = None;
        let mut bigger = big.clone();
        bigger.mtime = 2;
        check(
            big,
            bigger,
            Some((&["modified"], "content changed, same size")),
        );
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(
            shown("/etc/a\nCRITICAL b\t\x1b"),
            "/etc/a\\nCRITICAL b\\t\\x1b"
        );
        assert_eq!(shown("/etc/ünïcode ok"), "/etc/ünïcode ok");
    }

    #[test]
    fn created_and_deleted() {
        let before = Tree::from([("/w/a".to_string(), file(1, 1, 0o644, "x"))]);
        let now = Tree::from([("/w/b".to_string(), file(2, 1, 0o600, "y"))]);
        let changes = compare(&before, &now, &numeric);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            (changes[0].path.as_str(), changes[0].what.as_slice()),
            ("/w/b", &["created"][..])
        );
        assert_eq!(changes[0].detail, "file, 2 bytes, mode 0600, owner 0:0");
        assert_eq!(
            (changes[1].path.as_str(), changes[1].what.as_slice()),
            ("/w/a", &["deleted"][..])
        );
    }
}
