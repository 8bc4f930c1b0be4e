//! What the journal said since the previous report, counted: entries by priority
//! (warning and worse) and by unit, the most frequent messages by their pattern, and
//! the kernel's errors apart. Bounded whatever the journal holds: at most
//! `GROUPS_MAX` distinct patterns are kept, the rest only counted.

use std::collections::HashMap;

use serde::Serialize;

use super::entry::Entry;
use super::normalize::pattern;

/// Distinct (source, pattern) pairs remembered; more are counted as `others`.
const GROUPS_MAX: usize = 5_000;
/// Lines listed in the report.
pub const LISTED: usize = 15;

/// Kernel messages that mean hardware or a filesystem is in trouble.
const KERNEL_TROUBLE: [&str; 9] = [
    "I/O error",
    "EXT4-fs error",
    "XFS (",
    "BTRFS error",
    "EDAC",
    "segfault at",
    "Hardware Error",
    "blk_update_request",
    "critical medium error",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub emerg: u64,
    pub alert: u64,
    pub crit: u64,
    pub err: u64,
    pub warning: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Group {
    /// The unit (or identifier) that logged it.
    pub source: String,
    /// The first message of the kind, as logged (made safe), and its pattern.
    pub text: String,
    pub pattern: String,
    pub count: u64,
    /// The worst priority among them (0 emerg … 4 warning).
    pub priority: u8,
    /// Microseconds since the epoch: the first and the last.
    #[serde(skip)]
    pub first_us: i64,
    #[serde(skip)]
    pub last_us: i64,
    /// The same, in the report's zone (set when the section is made).
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitCount {
    pub unit: String,
    /// Entries at err or worse, and at warning.
    pub errors: u64,
    pub warnings: u64,
}

/// The running tally while the journal streams by.
#[derive(Default)]
pub struct Tally {
    pub entries: u64,
    pub ignored: u64,
    pub counts: Counts,
    units: HashMap<String, UnitCount>,
    groups: HashMap<(String, String), Group>,
    kernel: HashMap<String, Group>,
    pub others: u64,
}

impl Tally {
    /// Counts one entry (warning and worse; the rest only in `entries`).
    pub fn add(&mut self, e: &Entry) {
        self.entries += 1;
        let kernel_trouble = e.kernel && trouble(&e.message);
        if e.priority > 4 && !kernel_trouble {
            return;
        }
        let c = &mut self.counts;
        match e.priority {
            0 => c.emerg += 1,
            1 => c.alert += 1,
            2 => c.crit += 1,
            3 => c.err += 1,
            _ => c.warning += 1,
        }
        let unit = self
            .units
            .entry(e.unit.clone())
            .or_insert_with(|| UnitCount {
                unit: e.unit.clone(),
                ..Default::default()
            });
        match e.priority <= 3 {
            true => unit.errors += 1,
            false => unit.warnings += 1,
        }
        let shape = pattern(&e.message);
        if kernel_trouble {
            bump(&mut self.kernel, shape.clone(), e);
        }
        if !bump(&mut self.groups, (e.source.clone(), shape), e) {
            self.others += 1;
        }
    }

    /// The most frequent groups, worst priority first among equals; the units with
    /// the most errors; the kernel's trouble.
    pub fn finish(self) -> (Counts, Vec<UnitCount>, Vec<Group>, usize, Vec<Group>) {
        let mut units: Vec<UnitCount> = self.units.into_values().collect();
        units.sort_by(|a, b| (b.errors, b.warnings, &a.unit).cmp(&(a.errors, a.warnings, &b.unit)));
        units.truncate(LISTED);
        let patterned = |(pattern, g): (String, Group)| Group { pattern, ..g };
        let groups = self.groups.into_iter().map(|((_, p), g)| patterned((p, g)));
        let (groups, more) = top(groups.collect());
        let (kernel, _) = top(self.kernel.into_iter().map(patterned).collect());
        (self.counts, units, groups, more, kernel)
    }
}

/// Adds `e` to its group (its pattern is the key's, set when the groups are
/// finished); false when the group is new and `GROUPS_MAX` are already kept.
fn bump<K: std::hash::Hash + Eq>(groups: &mut HashMap<K, Group>, key: K, e: &Entry) -> bool {
    if let Some(g) = groups.get_mut(&key) {
        g.count += 1;
        g.priority = g.priority.min(e.priority);
        g.last_us = g.last_us.max(e.time_us);
        return true;
    }
    if groups.len() >= GROUPS_MAX {
        return false;
    }
    groups.insert(
        key,
        Group {
            source: e.source.clone(),
            text: e.message.clone(),
            count: 1,
            priority: e.priority,
            first_us: e.time_us,
            last_us: e.time_us,
            ..Default::default()
        },
    );
    true
}

/// The `LISTED` biggest groups and how many more there are.
fn top(mut groups: Vec<Group>) -> (Vec<Group>, usize) {
    groups.sort_by(|a, b| {
        (b.count, a.priority, a.first_us, &a.source)
            .cmp(&(a.count, b.priority, b.first_us, &b.source))
    });
    let more = groups.len().saturating_sub(LISTED);
    groups.truncate(LISTED);
    (groups, more)
}

fn trouble(message: &str) -> bool {
    KERNEL_TROUBLE.iter().any(|t| message.contains(t))
}
