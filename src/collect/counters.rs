//! Counters that only grow (bytes sent, reads done), and what changed since the
//! previous report. The network and disk I/O collectors read tables of them; the
//! previous report's tables are kept in the state directory (`history.rs`).
//!
//! Pure. A counter lower than before was reset (the interface was re-created, or
//! the value wrapped): its increase is taken from zero. A reboot resets everything,
//! so after one the previous tables are not used at all.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One kind of counters at one instant: a row of numbers per name.
pub type Table = BTreeMap<String, Vec<u64>>;

/// Every table at one instant. Written to disk: a compatibility boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub taken_at: DateTime<Utc>,
    /// Boot time (Unix seconds): a different one means the counters restarted.
    pub boot_time: u64,
    pub tables: BTreeMap<String, Table>,
    /// Places in logs to read on from (the journal's cursor), by source.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cursors: BTreeMap<String, String>,
}

pub const SNAPSHOT_VERSION: u32 = 1;

/// The previous values of one table and how long ago they were taken.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub table: &'a Table,
    pub taken_at: DateTime<Utc>,
    pub seconds: f64,
}

/// The previous snapshot's `kind` table, if it is usable for `now` and `boot_time`.
pub fn previous<'a>(
    snapshot: Option<&'a Snapshot>,
    kind: &str,
    boot_time: u64,
    now: DateTime<Utc>,
) -> Option<Previous<'a>> {
    let s = snapshot.filter(|s| s.version == SNAPSHOT_VERSION && s.boot_time == boot_time)?;
    let seconds = (now - s.taken_at).num_milliseconds() as f64 / 1000.0;
    (seconds > 0.0).then_some(Previous {
        table: s.tables.get(kind)?,
        taken_at: s.taken_at,
        seconds,
    })
}

/// Field-by-field increase from `before` to `now`; a field that went down was reset.
pub fn increase(before: &[u64], now: &[u64]) -> Vec<u64> {
    now.iter()
        .zip(before.iter().chain(std::iter::repeat(&0)))
        .map(|(&n, &b)| if n >= b { n - b } else { n })
        .collect()
}

/// The increase of one named row since the previous report, with that period's
/// length in seconds; None when there is no previous report or the row is new.
pub fn since(previous: Option<Previous>, name: &str, values: &[u64]) -> Option<(Vec<u64>, f64)> {
    let p = previous?;
    Some((increase(p.table.get(name)?, values), p.seconds))
}

/// When the previous report's counters were taken (RFC 3339 in `zone`) and how many
/// seconds ago: a section's `previous_report` and `interval_secs`.
pub fn period(
    previous: Option<Previous>,
    zone: &crate::zone::Zone,
) -> (Option<String>, Option<u64>) {
    let when = previous.map(|p| zone.rfc3339(p.taken_at));
    (when, previous.map(|p| p.seconds.round() as u64))
}

/// A row of counters as a map from field names to values.
pub fn named(fields: &[&str], values: &[u64]) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .zip(values)
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect()
}

/// Per-second rate, rounded to a whole number.
pub fn rate(amount: u64, seconds: f64) -> u64 {
    if seconds > 0.0 {
        (amount as f64 / seconds).round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increases_with_resets() {
        assert_eq!(increase(&[10, 20, 30], &[15, 20, 5]), [5, 0, 5]);
        assert_eq!(increase(&[], &[7, 8]), [7, 8]);
    }

    #[test]
    fn a_reboot_or_another_format_discards_the_previous_tables() {
        let now = Utc::now();
        let mut tables = BTreeMap::new();
        tables.insert("network".to_string(), Table::new());
        let s = Snapshot {
            version: SNAPSHOT_VERSION,
            taken_at: now - chrono::TimeDelta::hours(1),
            boot_time: 100,
            tables,
            cursors: Default::default(),
        };
        assert!(previous(Some(&s), "network", 100, now)
            .is_some_and(|p| (p.seconds - 3600.0).abs() < 1.0));
        assert!(
            previous(Some(&s), "network", 200, now).is_none(),
            "rebooted"
        );
        assert!(
            previous(Some(&s), "diskio", 100, now).is_none(),
            "no such table yet"
        );
        let old = Snapshot {
            version: 0,
            ..s.clone()
        };
        assert!(previous(Some(&old), "network", 100, now).is_none());
        let future = Snapshot {
            taken_at: now + chrono::TimeDelta::hours(1),
            ..s
        };
        assert!(
            previous(Some(&future), "network", 100, now).is_none(),
            "the clock went back"
        );
    }

    #[test]
    fn rates() {
        assert_eq!(rate(1000, 4.0), 250);
        assert_eq!(rate(1000, 0.0), 0);
    }
}
