//! The merging half of `gather`: collectors' results into the readings, failures
//! into `errors`, counter tables into the snapshot for the next report. Used by the
//! collector table's entries (each stores its own result) and by `gather`.

use std::time::Instant;

use super::{counters, deadline, manifest, truncate, CollectError, CollectorFailure, Readings};

/// The merging half of `gather`: results into the readings, failures into
/// `errors`, counter tables into the snapshot for the next report.
pub(super) struct Merge {
    pub readings: Readings,
    pub snapshot: counters::Snapshot,
    /// The watched files' manifest, when the files collector ran and finished.
    pub files: Option<manifest::Manifest>,
    /// How the deadline is named in messages.
    pub limit: String,
}

impl Merge {
    pub fn wait<T>(
        &self,
        running: Result<deadline::Running<T>, CollectError>,
        until: Instant,
    ) -> Result<T, CollectError> {
        running.and_then(|r| r.wait(until, &self.limit))
    }

    /// An `errors` entry naming `collector`.
    pub fn failed(&mut self, collector: &str, e: CollectError) {
        let failure = CollectorFailure {
            collector: collector.to_string(),
            message: e.to_string(),
        };
        tracing::warn!("collector {collector} failed: {}", failure.message);
        self.readings.errors.push(failure);
    }

    /// Records a collector's partial failures (a mount, a watched path) in `errors`
    /// and passes its result on.
    pub fn also_failed<T>(
        &mut self,
        collector: &str,
        failures: impl IntoIterator<Item = String>,
        result: T,
    ) -> T {
        self.readings
            .errors
            .extend(failures.into_iter().map(|message| CollectorFailure {
                collector: collector.into(),
                message,
            }));
        result
    }

    /// Keeps a counter table for the next report; returns the section made from it.
    pub fn remember<T>(&mut self, kind: &str, section: T, table: counters::Table) -> T {
        self.snapshot.tables.insert(kind.into(), table);
        section
    }

    /// The hostname the report shows: cut (and said so) when absurdly long.
    pub fn put_hostname(&mut self, hostname: String) {
        let (shown, cut) = truncate(&hostname, HOSTNAME_MAX_CHARS);
        if cut {
            let message = format!(
                "hostname is {} characters long; the report shows the first {HOSTNAME_MAX_CHARS}",
                hostname.chars().count()
            );
            self.readings.errors.push(CollectorFailure {
                collector: "hostname".into(),
                message,
            });
        }
        self.readings.hostname = shown;
    }
}

/// DNS allows 253 characters; anything longer is shown cut, and the report says so.
const HOSTNAME_MAX_CHARS: usize = 253;
