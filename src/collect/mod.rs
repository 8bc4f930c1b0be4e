//! The collectors: each reads one resource and returns its own map; `gather` merges
//! them under their keys into the report's context.
//!
//! A collector's failure is data, never an abort: its key becomes null and the
//! failure an entry in `errors`, which the report shows. A panic inside one (a
//! parser meeting data nobody expected) is caught and treated the same way.
//! Collectors know nothing of templates or mail.

pub mod boot;
pub mod certificates;
pub mod checks;
pub mod clock;
pub mod command;
pub mod counters;
pub mod cpu;
pub mod deadline;
pub mod disk;
pub mod diskio;
pub mod dnf;
pub mod endpoint;
pub mod files;
mod gather;
pub mod host;
mod job;
pub mod journal;
pub mod load;
pub mod memory;
mod merge;
mod names;
pub mod network;
pub mod package_log;
pub mod packages;
pub mod processes;
pub mod procfs;
pub mod raid;
pub mod readings;
pub mod reboot;
mod scan;
pub mod smart;
pub mod system;
mod table;
pub mod temperatures;
pub mod units;
pub mod updates;
pub mod users;
mod work;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use self::files::manifest;
pub use self::gather::{gather, gather_and_remember, gather_in, Window};
pub use self::readings::{Readings, Shown};
pub use crate::context::{CollectorFailure, Context};
use crate::sections::{Section, Sections};
use crate::zone::Zone;

/// Why a collector produced nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CollectError(String);

impl CollectError {
    pub fn new(message: impl Into<String>) -> Self {
        CollectError(message.into())
    }
}

/// A collector added by a caller: a name (its key in the context) and the work.
/// Tests use it to inject collectors that hang or panic.
pub type Extra = (
    String,
    Arc<dyn Fn() -> Result<Value, CollectError> + Send + Sync>,
);

/// What the collectors need to know from the config.
#[derive(Clone)]
pub struct Settings {
    pub zone: Zone,
    /// Replaces the collected hostname.
    pub hostname: Option<String>,
    pub filesystems: Option<Vec<PathBuf>>,
    pub cpu_sample: Duration,
    /// How long each collector may take (the CPU collector: this on top of its window).
    pub timeout: Duration,
    /// Only the collectors of these sections run.
    pub sections: Sections,
    pub checks: Vec<checks::Check>,
    pub watches: Vec<manifest::Watch>,
    /// `[[certificates]]`.
    pub certificates: Vec<certificates::Watched>,
    /// `[journal]`.
    pub journal: journal::JournalConfig,
    /// What was saved with the previous report, for "since the previous report".
    pub previous: Remembered,
    pub extra: Vec<Extra>,
    /// Where the procfs readers read (/proc; a fixture tree in tests).
    pub procfs: procfs::Procfs,
    /// The package logs looked for (dpkg's, dnf's; fixtures in tests).
    pub package_logs: Vec<(PathBuf, package_log::Format)>,
    /// Where collectors may keep a cache (apt's answer); None: no cache.
    pub state_dir: Option<crate::state::StateDir>,
}

impl Settings {
    pub fn new(zone: Zone, cpu_sample: Duration, timeout: Duration) -> Settings {
        Settings {
            zone,
            hostname: None,
            filesystems: None,
            cpu_sample,
            timeout,
            sections: Sections::default(),
            checks: Vec::new(),
            watches: Vec::new(),
            certificates: Vec::new(),
            journal: Default::default(),
            previous: Remembered::default(),
            procfs: procfs::Procfs::default(),
            extra: Vec::new(),
            state_dir: None,
            package_logs: package_log::logs(),
        }
    }

    fn shows(&self, section: Section) -> bool {
        self.sections.shows(section)
    }

    /// Whether this report compares watched files (and so needs the previous manifest).
    pub fn watches_files(&self) -> bool {
        self.shows(Section::Files) && !self.watches.is_empty()
    }
}

/// What one report leaves for the next: counters and the watched files' manifest.
/// Either may be absent (first report, or the collector did not run or failed):
/// then nothing of that kind is saved and the previous file stays as it was.
#[derive(Debug, Clone, Default)]
pub struct Remembered {
    pub counters: Option<counters::Snapshot>,
    pub files: Option<manifest::Manifest>,
    /// Files of the previous report that exist but could not be read.
    pub unreadable: Unreadable,
}

/// Why the previous report's counters or manifest could not be read, though they
/// exist. Not a "first report": the report says so, and an unreadable manifest stops
/// the files collector, which would otherwise record a new baseline over it.
#[derive(Debug, Clone, Default)]
pub struct Unreadable {
    pub counters: Option<String>,
    pub files: Option<String>,
}

/// The first `max` characters (plus "…") and whether anything was cut.
pub fn truncate(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((at, _)) => (format!("{}…", &text[..at]), true),
        None => (text.to_string(), false),
    }
}

/// `part / whole` as a percentage with one decimal; 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round1(part as f64 / whole as f64 * 100.0)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A file under tests/fixtures, for the collectors' unit tests.
#[cfg(test)]
pub(crate) fn fixture(path: &str) -> String {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("héllo", 3), ("hél…".to_string(), true));
        assert_eq!(truncate("héllo", 5), ("héllo".to_string(), false));
        assert_eq!(truncate("🚀🚀", 1), ("🚀…".to_string(), true));
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(5, 0), 0.0);
    }
}
