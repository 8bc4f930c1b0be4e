//! Where a report starts reading the journal, and which addresses logins have come
//! from before: what the previous report left, read.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Logins, Since};
use crate::collect::counters::{Snapshot, Table};

/// How far back the first report reads.
const FIRST_REPORT: TimeDelta = TimeDelta::hours(24);
/// Addresses remembered; the oldest are forgotten past this.
const ADDRESSES_MAX: usize = 1_000;

/// After the previous report's cursor; without one, from the previous report's time;
/// on the first report, the last 24 hours.
pub fn since(earlier: Option<&Snapshot>, now: DateTime<Utc>) -> Since {
    match earlier {
        Some(e) => match e.cursors.get("journal") {
            Some(cursor) => Since::Cursor(cursor.clone(), e.taken_at),
            None => Since::Time(e.taken_at),
        },
        None => Since::Time(now - FIRST_REPORT),
    }
}

/// Marks each successful login from an address no earlier login came from (only
/// when there is an earlier list: on the first report every address would be new),
/// and returns the addresses to keep, each with when it was first seen.
pub fn known_addresses(logins: &mut Logins, earlier: Option<&Table>, now: DateTime<Utc>) -> Table {
    let mut known = earlier.cloned().unwrap_or_default();
    let stamp = now.timestamp().max(0) as u64;
    for login in logins.accepted.iter_mut() {
        login.new_address = earlier.is_some() && !known.contains_key(&login.from);
        known
            .entry(login.from.clone())
            .or_insert_with(|| vec![stamp]);
    }
    if known.len() > ADDRESSES_MAX {
        let first = |v: &Vec<u64>| v.first().copied().unwrap_or(0);
        let mut by_age: Vec<(String, u64)> =
            known.iter().map(|(k, v)| (k.clone(), first(v))).collect();
        by_age.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        by_age.truncate(ADDRESSES_MAX);
        known = by_age.into_iter().map(|(k, t)| (k, vec![t])).collect();
    }
    known
}
