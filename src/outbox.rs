//! The outbox: the durable queue of rendered messages, and the only code that
//! touches the spool.
//!
//! Layout under the state directory:
//! - `outbox/<id>.eml`: one queued message. Its first line is an `X-Rreport-Queue:`
//!   header holding the queue metadata as JSON (version, Message-ID, envelope,
//!   attempts, times, last error); the rest is the complete RFC 5322 message exactly
//!   as rendered, so every retry sends the same bytes and the same Message-ID. The
//!   whole file is still a valid message: any mail tool can open it.
//! - `failed/<id>.eml`: messages given up on (a 5xx, or older than max_queue_age).
//!   Never deleted by rreport.
//! - `lock`: held (flock) while a process delivers, so a daemon and a manual
//!   `--once` never send the same message twice. A new report takes it before its
//!   message is queued: otherwise another process's flush could find and send the
//!   message while this one sends it too.
//!
//! Every write goes to a hidden temp file in the same directory, is fsynced, renamed
//! over its final name, and the directory is fsynced: a crash at any instant leaves
//! the old file or the new one, never a partial one. Files are 0600, directories 0700.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::StateDir;

const META_HEADER: &str = "X-Rreport-Queue: ";
const FORMAT_VERSION: u32 = 1;
/// How often a process waiting for the delivery lock tries again.
const LOCK_POLL: Duration = Duration::from_millis(100);
/// Far above any report (a report with 200 filesystems is under 100 KB); a bigger
/// file in the spool is not ours.
const QUEUE_FILE_LIMIT: u64 = 64 << 20;
/// The metadata line is a few hundred bytes; a recipient list could make it longer.
const META_LINE_LIMIT: u64 = 64 << 10;

/// A spool operation that failed, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {action}: {source}")]
pub struct OutboxError {
    pub path: String,
    pub action: &'static str,
    #[source]
    pub source: std::io::Error,
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutboxError {
    let path = path.display().to_string();
    move |source| OutboxError {
        path,
        action,
        source,
    }
}

/// What the queue knows about one message besides its bytes. Written to disk:
/// a compatibility boundary, hence `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub version: u32,
    pub message_id: String,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub first_queued: DateTime<Utc>,
    pub attempts: u32,
    pub next_attempt: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// One queued (or failed) message.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub meta: Meta,
    /// The RFC 5322 message, exactly as it is sent.
    pub message: Vec<u8>,
}

impl Entry {
    pub fn id(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

pub struct Outbox {
    root: PathBuf,
    lock: PathBuf,
    queue: PathBuf,
    failed: PathBuf,
}

impl Outbox {
    /// Opens (creating if need be) the spool in `state`, and proves it writable.
    pub fn open(state: &StateDir) -> Result<Outbox, OutboxError> {
        let outbox = Outbox {
            root: state.root().to_path_buf(),
            lock: state.lock(),
            queue: state.outbox(),
            failed: state.failed(),
        };
        for dir in [&outbox.root, &outbox.queue, &outbox.failed] {
            let existed = dir.exists();
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_err(dir, "cannot create directory"))?;
            if !existed {
                crate::atomic::give_path_to_parent_owner(dir)
                    .map_err(io_err(dir, "cannot give to the state directory's owner"))?;
            }
        }
        for dir in [&outbox.queue, &outbox.failed] {
            remove_stale_temp_files(dir);
        }
        let probe = outbox
            .queue
            .join(format!(".tmp.probe.{}", std::process::id()));
        File::create(&probe).map_err(io_err(&outbox.queue, "not writable"))?;
        let _ = fs::remove_file(&probe);
        Ok(outbox)
    }

    pub fn dir(&self) -> &Path {
        &self.queue
    }

    /// Takes the delivery lock, waiting up to `patience` for another process that
    /// holds it; `None` when it is still held then. Bounded, because the holder may
    /// be a flush behind a silent relay, and the caller has its own work to do.
    pub fn lock(&self, patience: Duration) -> Result<Option<File>, OutboxError> {
        let path = self.lock.clone();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(&path, "cannot open lock"))?;
        crate::atomic::give_to_dir_owner(&file, &self.root)
            .map_err(io_err(&path, "cannot give to the state directory's owner"))?;
        let deadline = Instant::now() + patience;
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    if !told {
                        tracing::info!(
                            "another rreport is delivering from {}; waiting up to {} s for it",
                            self.queue.display(),
                            patience.as_secs()
                        );
                        told = true;
                    }
                    // Polled, not a blocking flock: that could not be given up on.
                    std::thread::sleep(LOCK_POLL);
                }
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(io_err(&path, "cannot lock")(e)),
            }
        }
    }

    /// Queues a message durably; when this returns Ok, the message survives a crash.
    pub fn enqueue(&self, meta: Meta, message: Vec<u8>) -> Result<Entry, OutboxError> {
        let id = format!(
            "{}-{}-{:08x}",
            meta.first_queued.format("%Y%m%dT%H%M%S%.6fZ"),
            std::process::id(),
            fastrand::u32(..)
        );
        let entry = Entry {
            path: self.queue.join(format!("{id}.eml")),
            meta,
            message,
        };
        self.write(&entry)?;
        Ok(entry)
    }

    /// Rewrites an entry's metadata (after a failed attempt), atomically.
    pub fn update(&self, entry: &Entry) -> Result<(), OutboxError> {
        self.write(entry)
    }

    /// Rewrites an entry's metadata over its file, keeping `message` (the entry's
    /// own `message` may have been left empty by the caller).
    pub fn rewrite(&self, entry: &Entry, message: &[u8]) -> Result<(), OutboxError> {
        self.write_parts(&entry.path, &entry.meta, message)
    }

    /// Keeps a copy of a queued message in failed/ for recipients that refused it
    /// with a 5xx while others took it: `to` are they, `error` their replies.
    pub fn fail_copy(
        &self,
        entry: &Entry,
        to: Vec<String>,
        error: String,
    ) -> Result<PathBuf, OutboxError> {
        let name = format!("{}-refused-{}.eml", entry.id(), entry.meta.attempts + 1);
        let copy = Entry {
            path: self.failed.join(name),
            meta: Meta {
                to,
                attempts: entry.meta.attempts + 1,
                last_error: Some(error),
                ..entry.meta.clone()
            },
            message: Vec::new(),
        };
        self.write_parts(&copy.path, &copy.meta, &entry.message)?;
        Ok(copy.path)
    }

    /// Removes a message the server accepted.
    pub fn remove(&self, entry: &Entry) -> Result<(), OutboxError> {
        fs::remove_file(&entry.path).map_err(io_err(&entry.path, "cannot remove"))?;
        sync_dir(&self.queue)
    }

    /// Moves a message to failed/, with its metadata updated; returns the new path.
    pub fn fail(&self, entry: &Entry) -> Result<PathBuf, OutboxError> {
        let target = self.failed.join(entry.path.file_name().unwrap_or_default());
        let moved = Entry {
            path: target.clone(),
            ..entry.clone()
        };
        self.write(&moved)?;
        fs::remove_file(&entry.path).map_err(io_err(&entry.path, "cannot remove"))?;
        sync_dir(&self.queue)?;
        Ok(target)
    }

    /// Discards queued or failed messages chosen by the admin: `which` is a queue
    /// file's name (with or without `.eml`), a Message-ID (with or without `<>`), or
    /// `all-failed`. The caller holds the delivery lock. Returns what was removed.
    pub fn discard(&self, which: &str) -> Result<Vec<PathBuf>, OutboxError> {
        let id = which.trim().trim_start_matches('<').trim_end_matches('>');
        let chosen: Vec<Entry> = match which {
            "all-failed" => self.failed()?,
            _ => self
                .queued()?
                .into_iter()
                .chain(self.failed()?)
                .filter(|e| {
                    let name = e.id();
                    name == id.trim_end_matches(".eml")
                        || e.meta
                            .message_id
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            == id
                })
                .collect(),
        };
        for entry in &chosen {
            fs::remove_file(&entry.path).map_err(io_err(&entry.path, "cannot remove"))?;
            if let Some(dir) = entry.path.parent() {
                sync_dir(dir)?;
            }
        }
        Ok(chosen.into_iter().map(|e| e.path).collect())
    }

    /// The metadata of every queued message, without reading the messages (a flush
    /// plans its next run from them). Unreadable entries are skipped with a warning.
    pub fn queued_meta(&self) -> Result<Vec<Meta>, OutboxError> {
        let mut metas = Vec::new();
        for path in eml_files(&self.queue)? {
            let head =
                crate::regular::read_prefix(&path, META_LINE_LIMIT, crate::regular::Links::Refuse);
            match head
                .map_err(|e| e.to_string())
                .and_then(|h| split_meta(&h).map(|(m, _)| m))
            {
                Ok(meta) => metas.push(meta),
                Err(e) => tracing::warn!("skipping unreadable queue file {}: {e}", path.display()),
            }
        }
        Ok(metas)
    }

    /// How many messages are queued and failed, without reading them; an unreadable
    /// directory counts none.
    pub fn counts(&self) -> (usize, usize) {
        let count = |dir| eml_files(dir).map_or(0, |f| f.len());
        (count(&self.queue), count(&self.failed))
    }

    /// The queued messages, oldest first. Unreadable entries are skipped with a warning.
    pub fn queued(&self) -> Result<Vec<Entry>, OutboxError> {
        read_entries(&self.queue)
    }

    pub fn failed(&self) -> Result<Vec<Entry>, OutboxError> {
        read_entries(&self.failed)
    }

    fn write(&self, entry: &Entry) -> Result<(), OutboxError> {
        self.write_parts(&entry.path, &entry.meta, &entry.message)
    }

    fn write_parts(&self, path: &Path, meta: &Meta, message: &[u8]) -> Result<(), OutboxError> {
        let meta = serde_json::to_string(meta)
            .map_err(|e| io_err(path, "cannot encode metadata")(e.into()))?;
        let header = format!("{META_HEADER}{meta}\r\n");
        crate::atomic::write(path, &[header.as_bytes(), message])
            .map_err(io_err(path, "cannot write"))
    }
}

/// Temp files older than an hour are what a process killed mid-write left behind
/// (a live writer renames its temp file within milliseconds); they are never queue
/// entries, so removing them loses nothing.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(items) = fs::read_dir(dir) else { return };
    let hour = std::time::Duration::from_secs(3600);
    for item in items.flatten() {
        let stale = item
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > hour);
        if item.file_name().to_string_lossy().starts_with(".tmp.") && stale {
            let _ = fs::remove_file(item.path());
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), OutboxError> {
    crate::atomic::sync_dir(dir).map_err(io_err(dir, "cannot sync directory"))
}

/// The `*.eml` files of a spool directory.
fn eml_files(dir: &Path) -> Result<Vec<PathBuf>, OutboxError> {
    let mut paths = Vec::new();
    for item in fs::read_dir(dir).map_err(io_err(dir, "cannot list"))? {
        let path = item.map_err(io_err(dir, "cannot list"))?.path();
        if path.extension().is_some_and(|e| e == "eml") {
            paths.push(path);
        }
    }
    Ok(paths)
}

fn read_entries(dir: &Path) -> Result<Vec<Entry>, OutboxError> {
    let mut entries = Vec::new();
    for path in eml_files(dir)? {
        // Anyone who can write the spool could leave a FIFO named *.eml there.
        match crate::regular::read(&path, QUEUE_FILE_LIMIT, crate::regular::Links::Refuse)
            .map_err(|e| e.to_string())
            .and_then(|bytes| parse_entry(&bytes))
        {
            Ok((meta, message)) => entries.push(Entry {
                path,
                meta,
                message,
            }),
            Err(e) => tracing::warn!("skipping unreadable queue file {}: {e}", path.display()),
        }
    }
    entries.sort_by(|a, b| (a.meta.first_queued, &a.path).cmp(&(b.meta.first_queued, &b.path)));
    Ok(entries)
}

/// Splits a queue file into its metadata and the message that follows the header.
pub fn parse_entry(bytes: &[u8]) -> Result<(Meta, Vec<u8>), String> {
    let (meta, end) = split_meta(bytes)?;
    Ok((meta, bytes[end..].to_vec()))
}

/// The metadata line of a queue file, and where the message after it starts.
fn split_meta(bytes: &[u8]) -> Result<(Meta, usize), String> {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or("no metadata line")?;
    let line = std::str::from_utf8(&bytes[..end]).map_err(|_| "metadata is not UTF-8")?;
    let json = line
        .strip_prefix(META_HEADER)
        .ok_or("no X-Rreport-Queue header")?;
    let meta: Meta = serde_json::from_str(json).map_err(|e| format!("metadata: {e}"))?;
    if meta.version != FORMAT_VERSION {
        return Err(format!(
            "queue format version {} is not {FORMAT_VERSION}",
            meta.version
        ));
    }
    Ok((meta, end + 2))
}

/// A new entry's metadata.
pub fn new_meta(
    message_id: &str,
    from: Option<String>,
    to: Vec<String>,
    now: DateTime<Utc>,
) -> Meta {
    Meta {
        version: FORMAT_VERSION,
        message_id: message_id.to_string(),
        from,
        to,
        first_queued: now,
        attempts: 0,
        next_attempt: now,
        last_error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn meta() -> Meta {
        new_meta(
            "<a@b>",
            Some("r@example.com".into()),
            vec!["a@example.com".into()],
            Utc::now(),
        )
    }

    #[test]
    fn a_queued_message_reads_back_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&StateDir::at(dir.path())).unwrap();
        let message = b"Message-ID: <a@b>\r\nSubject: x\r\n\r\nbody\r\n".to_vec();
        let entry = outbox.enqueue(meta(), message.clone()).unwrap();
        let queued = outbox.queued().unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(
            (queued[0].message.clone(), queued[0].meta.clone()),
            (message, entry.meta.clone())
        );
        let mode = fs::metadata(&entry.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            fs::metadata(dir.path().join("outbox"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }

    #[test]
    fn update_fail_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&StateDir::at(dir.path())).unwrap();
        let mut entry = outbox.enqueue(meta(), b"m\r\n".to_vec()).unwrap();
        entry.meta.attempts = 3;
        entry.meta.last_error = Some("451 try later".into());
        outbox.update(&entry).unwrap();
        assert_eq!(outbox.queued().unwrap()[0].meta.attempts, 3);
        let failed = outbox.fail(&entry).unwrap();
        assert!(outbox.queued().unwrap().is_empty());
        assert_eq!(outbox.failed().unwrap()[0].path, failed);
        let other = outbox.enqueue(meta(), b"n\r\n".to_vec()).unwrap();
        outbox.remove(&other).unwrap();
        assert!(outbox.queued().unwrap().is_empty());
        // Nothing but the final files is left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn stale_temp_files_are_cleaned_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        Outbox::open(&StateDir::at(dir.path())).unwrap();
        let stale = dir.path().join("outbox/.tmp.1.deadbeef");
        let fresh = dir.path().join("outbox/.tmp.2.cafef00d");
        fs::write(&stale, "partial").unwrap();
        fs::write(&fresh, "being written").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        Outbox::open(&StateDir::at(dir.path())).unwrap();
        assert!(!stale.exists() && fresh.exists());
    }

    #[test]
    fn damaged_files_are_refused_not_sent() {
        assert!(parse_entry(b"").is_err());
        assert!(parse_entry(b"Subject: x\r\n\r\n").is_err());
        assert!(parse_entry(b"X-Rreport-Queue: {\"version\":1\r\nbody").is_err());
        let mut m = meta();
        m.version = 2;
        let line = format!(
            "X-Rreport-Queue: {}\r\nbody",
            serde_json::to_string(&m).unwrap()
        );
        assert!(parse_entry(line.as_bytes())
            .unwrap_err()
            .contains("version 2"));
    }

    #[test]
    fn an_unwritable_state_dir_is_named() {
        let err = Outbox::open(&StateDir::at(Path::new("/proc/rreport-state")))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("/proc/rreport-state: cannot create directory: "),
            "{err}"
        );
    }
}
