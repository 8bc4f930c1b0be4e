//! Where there is no journal, the classic files: /var/log/auth.log (sshd, sudo) and
//! /var/log/kern.log (the kernel: OOM kills, I/O errors), or Red Hat's secure; where
//! there is no kern.log, the kernel's lines of /var/log/syslog (or Red Hat's messages),
//! never both, so no kernel line is counted twice. Each is read on from where the
//! previous report stopped. The place is the file's inode and offset; a file whose
//! inode changed was rotated, and the rest of the old one is read from `<file>.1`
//! (when that is it) before the new one from its start. A file shorter than the
//! offset was truncated in place, and is read from its start. The first report reads
//! the last 24 hours of each file's final megabyte.
//!
//! Syslog lines carry no priority: only what the lines say is judged (kernel
//! trouble, OOM kills, logins, sudo), and the section says where it read.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Local, Utc};

use super::Entry;

/// A file read when it is there, unless `unless` is.
pub struct File {
    pub path: &'static str,
    /// Every line is the kernel's (kern.log); otherwise the line's program says.
    kernel: bool,
    unless: Option<&'static str>,
}

/// The files read, in order.
pub const FILES: [File; 5] = [
    File {
        path: "/var/log/auth.log",
        kernel: false,
        unless: None,
    },
    File {
        path: "/var/log/secure",
        kernel: false,
        unless: Some("/var/log/auth.log"),
    },
    File {
        path: "/var/log/kern.log",
        kernel: true,
        unless: None,
    },
    File {
        path: "/var/log/syslog",
        kernel: false,
        unless: Some("/var/log/kern.log"),
    },
    File {
        path: "/var/log/messages",
        kernel: false,
        unless: Some("/var/log/kern.log"),
    },
];
/// Read at most this much of a file per report.
const READ_MAX: u64 = 16 << 20;
/// On the first report, this much of a file's end.
const FIRST_MAX: u64 = 1 << 20;

/// Each file's lines since its saved place (`places`: path → "inode:offset"), and the
/// places to save.
pub fn read(
    root: &Path,
    places: &BTreeMap<String, String>,
    since: DateTime<Utc>,
    mut each: impl FnMut(Entry),
) -> BTreeMap<String, String> {
    let mut kept = BTreeMap::new();
    let under = |file: &str| root.join(file.trim_start_matches('/'));
    for File {
        path: file,
        kernel,
        unless,
    } in FILES
    {
        if unless.is_some_and(|other| under(other).exists()) {
            continue;
        }
        let path = under(file);
        let key = format!("file:{file}");
        let saved = places.get(&key).and_then(|p| parse_place(p));
        let Some((inode, end)) = read_file(&path, saved, since, kernel, &mut each) else {
            continue;
        };
        kept.insert(key, format!("{inode}:{end}"));
    }
    kept
}

fn parse_place(place: &str) -> Option<(u64, u64)> {
    let (inode, offset) = place.split_once(':')?;
    Some((inode.parse().ok()?, offset.parse().ok()?))
}

/// Reads one file on from its place (and the rest of its rotated self); returns its
/// inode and where this report stopped. None when the file is not there.
fn read_file(
    path: &Path,
    saved: Option<(u64, u64)>,
    since: DateTime<Utc>,
    kernel: bool,
    each: &mut impl FnMut(Entry),
) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    let (inode, size) = (meta.ino(), meta.size());
    let start = match saved {
        Some((was, offset)) if was == inode && offset <= size => offset,
        Some((was, offset)) => {
            let rotated = PathBuf::from(format!("{}.1", path.display()));
            let old = std::fs::metadata(&rotated).ok().filter(|m| m.ino() == was);
            if let Some(old) = old {
                lines(&rotated, offset.min(old.size()), None, kernel, each);
            }
            0
        }
        None => size.saturating_sub(FIRST_MAX),
    };
    let first = saved.is_none().then_some(since);
    let end = lines(path, start, first, kernel, each);
    Some((inode, end.unwrap_or(start)))
}

/// The lines of `path` from `offset` (whole lines only: a line still being written
/// waits for the next report); those before `since` skipped when given. Returns the
/// offset after the last whole line.
fn lines(
    path: &Path,
    offset: u64,
    since: Option<DateTime<Utc>>,
    kernel: bool,
    each: &mut impl FnMut(Entry),
) -> Option<u64> {
    let links = crate::regular::Links::Refuse;
    let bytes = crate::regular::read_from(path, READ_MAX, links, |_| offset).ok()?;
    let whole = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let year = Local::now().year();
    for line in bytes[..whole].split(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let Some(entry) = parse(&text, kernel, year) else {
            continue;
        };
        if since.is_none_or(|s| entry.time_us >= s.timestamp_micros()) {
            each(entry);
        }
    }
    Some(offset + whole as u64)
}

/// "2026-11-26T04:00:01.123456+01:00 host sshd[812]: message" (rsyslog's default
/// since Debian 12) or "Nov 26 04:00:01 host sshd[812]: message" (the traditional
/// format, in local time, without a year).
pub fn parse(line: &str, kernel: bool, year: i32) -> Option<Entry> {
    let (time, rest) = match DateTime::parse_from_rfc3339(line.split(' ').next()?) {
        Ok(t) => (t.with_timezone(&Utc), line.split_once(' ')?.1),
        Err(_) => {
            let stamp = format!("{year} {}", line.get(..15)?);
            let at = super::host_time(&stamp, "%Y %b %e %H:%M:%S")?;
            (at, line.get(16..)?)
        }
    };
    let (_host, rest) = rest.split_once(' ')?;
    let (program, message) = rest.split_once(": ")?;
    let program = program.split('[').next().unwrap_or(program);
    let kernel = kernel || program == "kernel";
    let source = match kernel {
        true => "kernel".to_string(),
        false => super::shown(program),
    };
    Some(Entry {
        message: super::shown(message),
        priority: 6,
        unit: source.clone(),
        source,
        kernel,
        time_us: time.timestamp_micros(),
        cursor: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn messages(
        root: &Path,
        places: &BTreeMap<String, String>,
    ) -> (Vec<String>, BTreeMap<String, String>) {
        let mut seen = Vec::new();
        let since = Utc::now() - chrono::TimeDelta::hours(24);
        let kept = read(root, places, since, |e| {
            seen.push(format!("{}: {}", e.source, e.message))
        });
        (seen, kept)
    }

    fn line(minutes_ago: i64, program: &str, message: &str) -> String {
        let t = (Utc::now() - chrono::TimeDelta::minutes(minutes_ago)).to_rfc3339();
        format!("{t} web-1 {program}: {message}\n")
    }

    #[test]
    fn on_from_the_place_across_a_rotation_and_a_truncation() {
        let root = tempfile::tempdir().unwrap();
        let log = root.path().join("var/log");
        std::fs::create_dir_all(&log).unwrap();
        let auth = log.join("auth.log");
        let old = line(60 * 30, "sshd[1]", "too old for a first report");
        std::fs::write(
            &auth,
            old + &line(
                5,
                "sshd[812]",
                "Failed password for root from 203.0.113.7 port 4022 ssh2",
            ),
        )
        .unwrap();
        std::fs::write(
            log.join("kern.log"),
            line(
                4,
                "kernel",
                "Out of memory: Killed process 42 (java) anon-rss:1024kB",
            ),
        )
        .unwrap();
        let (first, places) = messages(root.path(), &BTreeMap::new());
        assert_eq!(
            first,
            [
                "sshd: Failed password for root from 203.0.113.7 port 4022 ssh2",
                "kernel: Out of memory: Killed process 42 (java) anon-rss:1024kB"
            ]
        );
        // Nothing new: nothing read. A line being written (no newline yet) waits.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&auth)
            .unwrap()
            .write_all(b"2026-11-26T04:00:00+00:00 web-1 sudo: half")
            .unwrap();
        let (again, places) = messages(root.path(), &places);
        assert!(again.is_empty(), "{again:?}");
        // Rotated: the rest of the old file (now auth.log.1), then the new one.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&auth)
            .unwrap()
            .write_all(b" a line\n")
            .unwrap();
        std::fs::rename(&auth, log.join("auth.log.1")).unwrap();
        std::fs::write(
            &auth,
            line(
                1,
                "sshd[900]",
                "Accepted publickey for alice from 192.0.2.10 port 5000 ssh2",
            ),
        )
        .unwrap();
        let (rotated, places) = messages(root.path(), &places);
        assert_eq!(
            rotated,
            [
                "sudo: half a line",
                "sshd: Accepted publickey for alice from 192.0.2.10 port 5000 ssh2"
            ]
        );
        // Truncated in place (copytruncate): from the start.
        std::fs::write(&auth, line(0, "sshd[901]", "after truncation")).unwrap();
        let (truncated, _) = messages(root.path(), &places);
        assert_eq!(truncated, ["sshd: after truncation"]);
    }

    /// syslog has the kernel's lines where there is no kern.log; where there is one,
    /// syslog is not read, or each kernel line would count twice.
    #[test]
    fn syslog_only_where_there_is_no_kern_log() {
        let root = tempfile::tempdir().unwrap();
        let log = root.path().join("var/log");
        std::fs::create_dir_all(&log).unwrap();
        let syslog = line(3, "kernel", "EXT4-fs error (device sdb1): bad block")
            + &line(2, "cron[77]", "(root) CMD (run-parts /etc/cron.hourly)");
        std::fs::write(log.join("syslog"), syslog).unwrap();
        let (seen, places) = messages(root.path(), &BTreeMap::new());
        assert_eq!(
            seen,
            [
                "kernel: EXT4-fs error (device sdb1): bad block",
                "cron: (root) CMD (run-parts /etc/cron.hourly)"
            ]
        );
        assert!(places.contains_key("file:/var/log/syslog"));
        std::fs::write(log.join("kern.log"), line(1, "kernel", "only once")).unwrap();
        let (seen, places) = messages(root.path(), &BTreeMap::new());
        assert_eq!(seen, ["kernel: only once"]);
        assert!(!places.contains_key("file:/var/log/syslog"));
    }

    #[test]
    fn both_timestamp_formats() {
        let e = parse(
            "2026-11-26T04:00:01.123456+01:00 web-1 sshd[812]: Accepted password for root",
            false,
            2026,
        )
        .unwrap();
        assert_eq!(
            (e.source.as_str(), e.message.as_str()),
            ("sshd", "Accepted password for root")
        );
        assert_eq!(
            e.time_us,
            DateTime::parse_from_rfc3339("2026-11-26T03:00:01.123456Z")
                .unwrap()
                .timestamp_micros()
        );
        let e = parse(
            "Nov  6 04:00:01 web-1 kernel: [ 12.3] I/O error, dev sdb",
            true,
            2026,
        )
        .unwrap();
        assert!(e.kernel);
        assert_eq!(e.message, "[ 12.3] I/O error, dev sdb");
        assert_eq!(parse("not a syslog line", false, 2026), None);
    }
}
