//! What happened since the previous report, from the systemd journal: errors and
//! warnings counted and grouped (`summary.rs`), OOM kills and logins (`events.rs`).
//! One `journalctl -o export` pass, streamed (a million entries never sit in
//! memory), narrowed by matches to what the report reads: priority warning and
//! worse, the kernel, sshd, sudo and fail2ban. It starts after the cursor the
//! previous report saved (the first report: the last 24 hours) and returns the
//! cursor of the last entry read, which the report saves with its counters; a
//! preview never saves it, so it never moves it. A cursor journalctl cannot find
//! (the journal was rotated or vacuumed away) falls back to the time of the previous
//! report, and says so. A period too big to read in time is counted up to where the
//! read stopped, and the next report starts at the journal's end.
//! Whether the host rebooted, and cleanly, is `boots.rs`.

mod boots;
mod entry;
mod events;
mod export;
mod fail2ban;
mod files;
mod normalize;
mod place;
mod summary;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use self::boots::{collect as reboots, Ended, Reboots};
pub use self::entry::{host_time, shown, Entry};
pub use self::events::{Kill, Login, Logins, LISTED};
pub use self::fail2ban::{bans_since, Bans};
pub use self::place::{known_addresses, since};
pub use self::summary::{Counts, Group, UnitCount};
use super::command;
use super::CollectError;
use crate::zone::Zone;

/// Entries read at most in one report; past them, as past the deadline, the rest of
/// the period is not counted.
const ENTRIES_MAX: u64 = 5_000_000;
/// Bytes of a field kept (a message is shown cut at 300 characters anyway).
const FIELD_MAX: usize = 4096;

/// `[journal]`, checked.
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// Another journal directory (`journalctl --directory`); None: the system's.
    pub directory: Option<PathBuf>,
    /// More errors (priority err) than this is a warning.
    pub error_warning: u64,
    /// Messages that match one of these are not counted (logcheck's ignore rules).
    pub ignore: Vec<regex_lite::Regex>,
    /// Where /var/log is looked for when there is no journal ("/"; a tree in tests).
    pub files_root: PathBuf,
    /// Entries read at most in one report (`ENTRIES_MAX`; fewer in tests).
    pub entries_max: u64,
    /// The journal's own collector timeout: a million entries take journalctl 8 to 20
    /// s, longer than the other collectors are waited for (`journal.timeout_secs`).
    pub timeout: Duration,
}

impl Default for JournalConfig {
    fn default() -> JournalConfig {
        JournalConfig {
            directory: None,
            error_warning: 1,
            ignore: Vec::new(),
            files_root: PathBuf::from("/"),
            entries_max: ENTRIES_MAX,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Where this report starts reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Since {
    /// After the previous report's last entry; the time is the previous report's,
    /// for when the cursor cannot be found.
    Cursor(String, DateTime<Utc>),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Journal {
    /// Since when (RFC 3339): the previous report, or 24 hours back on the first; and
    /// the same in Unix seconds, for a `journalctl --since @…` line.
    pub since: String,
    pub since_epoch: i64,
    /// Entries read (those the report looks at: warning and worse, kernel, logins).
    pub entries: u64,
    pub counts: Counts,
    /// The units with the most errors.
    pub units: Vec<UnitCount>,
    /// The most frequent messages, by pattern; `more_messages` other patterns, and
    /// `others` entries past the patterns remembered.
    pub messages: Vec<Group>,
    pub more_messages: usize,
    pub others: u64,
    /// Kernel messages of hardware or filesystem trouble.
    pub kernel: Vec<Group>,
    /// Entries that matched `journal.ignore`.
    pub ignored: u64,
    /// Something the reader of the report should know about the period itself.
    pub note: Option<String>,
    /// Why there is no journal to read (no journalctl).
    pub unavailable: Option<String>,
    /// Why the system's entries cannot be read (a missing group): a warning, since
    /// the section would otherwise say that nothing happened.
    pub unreadable: Option<String>,
    #[serde(skip)]
    pub error_warning: u64,
}

impl Since {
    /// When the period begins: the previous report's time, or 24 hours back.
    pub fn start(&self) -> DateTime<Utc> {
        match self {
            Since::Cursor(_, t) | Since::Time(t) => *t,
        }
    }
}

/// What one pass found, and the cursor to continue after.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub journal: Journal,
    pub kills: Vec<Kill>,
    pub logins: Logins,
    /// Where to read on from next time: the journal's cursor, or each file's place.
    pub cursors: BTreeMap<String, String>,
}

pub fn collect(
    config: &JournalConfig,
    since: Since,
    places: &BTreeMap<String, String>,
    timeout: Duration,
    zone: &Zone,
) -> Result<Found, CollectError> {
    // A little under the collector's timeout: a journal too big to read in one report
    // is read up to there, and the next report goes on from the last entry read,
    // rather than the whole pass missing the deadline again and again.
    let deadline = std::time::Instant::now() + timeout.mul_f64(0.8);
    let left = || deadline.saturating_duration_since(std::time::Instant::now());
    let mut pass = read(config, &since, left())?;
    if let (Since::Cursor(_, at), None) = (&since, &pass.cursor) {
        if pass.failed.is_some() {
            // Rotated or vacuumed away: read from the previous report's time instead.
            let note = format!(
                "the previous report's place in the journal is gone (rotated or vacuumed); read from {}",
                zone.rfc3339(*at)
            );
            pass = read(config, &Since::Time(*at), left())?;
            pass.note = Some(note);
        }
    }
    if let Some(why) = &pass.failed {
        return Err(CollectError::new(why.clone()));
    }
    if pass.unavailable.is_some() && config.directory.is_none() {
        pass = from_files(config, &since, places);
    }
    Ok(pass.finish(config, &since, zone))
}

/// No journal: /var/log's files (`files.rs`), on from their places.
fn from_files(config: &JournalConfig, since: &Since, places: &BTreeMap<String, String>) -> Pass {
    let mut pass = Pass::default();
    let kept = files::read(&config.files_root, places, since.start(), |e| {
        pass.add(&e, &config.ignore)
    });
    pass.files = kept;
    let read: Vec<&str> = files::FILES
        .iter()
        .map(|f| f.path)
        .filter(|f| pass.files.contains_key(&format!("file:{f}")))
        .collect();
    match read.is_empty() {
        true => pass.unavailable = Some("no journal, and none of /var/log/auth.log, secure, kern.log, syslog or messages".into()),
        false => pass.note = Some(format!("no journal: read {} (syslog lines carry no priority; only the kernel's trouble, OOM kills, logins and sudo are judged)", read.join(" and "))),
    }
    pass
}

/// One journalctl run's tally.
#[derive(Default)]
struct Pass {
    tally: summary::Tally,
    events: events::Events,
    cursor: Option<String>,
    failed: Option<String>,
    unavailable: Option<String>,
    unreadable: Option<String>,
    note: Option<String>,
    /// Stopped by the deadline or the cap, after the entry of this time (µs; None:
    /// before any entry).
    cut: Option<Option<i64>>,
    last_us: i64,
    /// Without a journal: the files' places.
    files: BTreeMap<String, String>,
}

impl Pass {
    /// One entry: to the events always; to the counts unless it is a line of an OOM
    /// kill's dump or `journal.ignore` says not.
    fn add(&mut self, e: &Entry, ignore: &[regex_lite::Regex]) {
        if self.events.add(e) {
            self.tally.entries += 1;
            return;
        }
        match ignore.iter().any(|r| r.is_match(&e.message)) {
            true => self.tally.ignored += 1,
            false => self.tally.add(e),
        }
    }
}

fn read(config: &JournalConfig, since: &Since, timeout: Duration) -> Result<Pass, CollectError> {
    let mut pass = Pass::default();
    let argv = argv(config, since);
    let mut on_entry = |fields: export::Fields| {
        let e = Entry::from_fields(fields);
        pass.add(&e, &config.ignore);
        pass.cursor = Some(e.cursor);
        pass.last_us = e.time_us;
        pass.tally.entries < config.entries_max
    };
    let ran = command::stream(&argv, timeout, |reader| {
        let _ = export::entries(reader, FIELD_MAX, &mut on_entry);
    });
    let (done, said) = match ran {
        Ok(ran) => ran,
        Err(e) => {
            pass.unavailable = Some(format!("no journal to read: {e}"));
            return Ok(pass);
        }
    };
    let stderr = String::from_utf8_lossy(&said);
    // A host whose journald keeps nothing (Storage=none) or that has none at all.
    if stderr.contains("No journal files were found") && pass.cursor.is_none() {
        pass.unavailable = Some("no journal files".into());
        return Ok(pass);
    }
    // The system journal's hint, and what --directory says of files it may not open.
    if stderr.contains("not seeing messages from other users")
        || stderr.contains("insufficient permissions")
    {
        pass.unreadable = Some("rreport sees only its own journal entries: it needs the group systemd-journal (SupplementaryGroups=systemd-journal in the unit)".into());
    }
    if done.timed_out || pass.tally.entries >= config.entries_max {
        // The rest of the period is left uncounted, and the next report starts where
        // this one ends, not where it stopped: a host that floods its journal every
        // day must not fall a little further behind with every report.
        pass.cut = Some(pass.cursor.is_some().then_some(pass.last_us));
        pass.cursor = tail(config, timeout / 8).or(pass.cursor);
    } else if done.code != Some(0) && pass.cursor.is_none() && pass.unreadable.is_none() {
        let said = command::first_lines(&said).into_iter().next();
        pass.failed = Some(format!(
            "journalctl: {}",
            said.unwrap_or_else(|| format!("exit status {:?}", done.code))
        ));
    }
    Ok(pass)
}

/// journalctl in export format, with the fields the report reads, on the configured
/// journal; `extra` after. Export, not JSON: journalctl writes it three times as fast
/// (`export.rs`).
///
/// Without `--output-fields`: journalctl 252 writes every field faster than it picks
/// six (a million entries: 7.5 s against 11.3 s with seven fields each, 20.3 against
/// 21.5 s with twenty-five), and the fields the report does not read are skipped
/// here without being kept (`export.rs`).
fn journalctl(config: &JournalConfig, extra: &[&str]) -> Vec<String> {
    let mut argv = on_journal(config, &["-o", "export"]);
    argv.extend(extra.iter().map(|a| a.to_string()));
    argv
}

/// journalctl on the configured journal, with `args`.
fn on_journal(config: &JournalConfig, args: &[&str]) -> Vec<String> {
    let mut argv = vec!["journalctl".to_string(), "--no-pager".to_string()];
    if let Some(dir) = &config.directory {
        argv.push(format!("--directory={}", dir.display()));
    }
    argv.extend(args.iter().map(|a| a.to_string()));
    argv
}

/// Not --quiet: its hint that other users' entries are hidden is how a missing group
/// membership is noticed.
fn argv(config: &JournalConfig, since: &Since) -> Vec<String> {
    let mut argv = journalctl(config, &[]);
    match since {
        Since::Cursor(cursor, _) => argv.push(format!("--after-cursor={cursor}")),
        Since::Time(t) => argv.push(format!("--since=@{}", t.timestamp())),
    }
    argv.extend(matches());
    argv
}

/// The cursor of the latest entry the report would read: where it ends.
fn tail(config: &JournalConfig, timeout: Duration) -> Option<String> {
    let mut argv = journalctl(config, &["--quiet", "-n", "1"]);
    argv.extend(matches());
    let mut cursor = None;
    let _ = command::stream(&argv, timeout, |reader| {
        let _ = export::entries(reader, FIELD_MAX, |f| {
            cursor = Some(f.cursor);
            false
        });
    });
    cursor.filter(|c| !c.is_empty())
}

/// The entries the report reads: journalctl's matches, `+` between alternatives.
fn matches() -> Vec<String> {
    let mut argv = Vec::new();
    // Warning and worse, or the kernel, sshd, sudo or fail2ban (its bans are notices):
    // `+` is journalctl's "or".
    let matches = [
        "PRIORITY=0 PRIORITY=1 PRIORITY=2 PRIORITY=3 PRIORITY=4",
        "_TRANSPORT=kernel",
        "SYSLOG_IDENTIFIER=sshd",
        "SYSLOG_IDENTIFIER=sshd-session",
        "SYSLOG_IDENTIFIER=sudo",
        "SYSLOG_IDENTIFIER=fail2ban",
        "SYSLOG_IDENTIFIER=fail2ban-server",
    ];
    for (i, group) in matches.iter().enumerate() {
        if i > 0 {
            argv.push("+".into());
        }
        argv.extend(group.split(' ').map(String::from));
    }
    argv
}

impl Pass {
    fn finish(self, config: &JournalConfig, since: &Since, zone: &Zone) -> Found {
        let time = |us: i64| {
            DateTime::from_timestamp_micros(us)
                .map(|t| zone.rfc3339(t))
                .unwrap_or_default()
        };
        let start = since.start();
        let mut logins = self.events.logins();
        for l in logins.accepted.iter_mut() {
            l.time = time(l.time_us);
        }
        let mut kills = self.events.kills;
        for k in kills.iter_mut() {
            k.time = time(k.time_us);
        }
        let (entries, ignored, others) =
            (self.tally.entries, self.tally.ignored, self.tally.others);
        let (counts, units, mut messages, more_messages, mut kernel) = self.tally.finish();
        for g in messages.iter_mut().chain(kernel.iter_mut()) {
            (g.first, g.last) = (time(g.first_us), time(g.last_us));
        }
        let journal = Journal {
            since: zone.rfc3339(start),
            since_epoch: start.timestamp(),
            entries,
            counts,
            units,
            messages,
            more_messages,
            others,
            kernel,
            ignored,
            note: join_notes(self.note, self.cut.map(|us| cut_note(us.map(time)))),
            unavailable: self.unavailable,
            unreadable: self.unreadable,
            error_warning: config.error_warning,
        };
        let mut cursors = self.files;
        cursors.extend(self.cursor.map(|c| ("journal".to_string(), c)));
        Found {
            journal,
            kills,
            logins,
            cursors,
        }
    }
}

/// What a report that could not read its whole period says.
/// `until`: the last entry counted; None when not one could be read in time.
fn cut_note(until: Option<String>) -> String {
    let counted = match until {
        Some(t) => format!("counted up to {t}; the rest of the period is not counted"),
        None => "not one entry could be read in time; the period is not counted".into(),
    };
    format!("more entries than one report reads (0.8 × journal.timeout_secs, or 5,000,000): {counted}, and the next report starts where this one ends")
}

fn join_notes(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a journal, auth.log and kern.log feed the same sections.
    #[test]
    fn without_a_journal_the_files_feed_the_sections() {
        let root = tempfile::tempdir().unwrap();
        let log = root.path().join("var/log");
        std::fs::create_dir_all(&log).unwrap();
        let now = Utc::now();
        let t = (now - chrono::TimeDelta::minutes(5)).to_rfc3339();
        let auth = format!("{t} web-1 sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 4022 ssh2\n{t} web-1 sudo: mallory : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh\n");
        std::fs::write(log.join("auth.log"), auth).unwrap();
        std::fs::write(
            log.join("kern.log"),
            format!("{t} web-1 kernel: Out of memory: Killed process 42 (java) anon-rss:2048kB\n"),
        )
        .unwrap();
        let config = JournalConfig {
            files_root: root.path().to_path_buf(),
            ..Default::default()
        };
        let since = Since::Time(now - chrono::TimeDelta::hours(24));
        let found =
            from_files(&config, &since, &BTreeMap::new()).finish(&config, &since, &Zone::utc());
        assert_eq!(found.logins.failed.count, 1);
        assert_eq!(found.logins.sudo_failures[0].user, "mallory");
        assert_eq!(
            (found.kills[0].process.as_str(), found.kills[0].rss_bytes),
            ("java", 2048 * 1024)
        );
        assert!(found
            .journal
            .note
            .unwrap()
            .starts_with("no journal: read /var/log/auth.log and /var/log/kern.log"));
        assert!(
            found.cursors.contains_key("file:/var/log/auth.log")
                && !found.cursors.contains_key("journal")
        );
    }
}
