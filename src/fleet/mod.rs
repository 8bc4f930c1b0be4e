//! The fleet digest: one mail for many hosts, made from the Prometheus they already
//! report to. A handful of queries, each across every instance the selector names
//! (never one per host), run at once and evaluated at one instant; `hosts.rs` turns
//! their answers into hosts, each judged by rreport's own series where rreport runs
//! there and by node_exporter's with rreport's thresholds where it does not.
//!
//! A Prometheus that cannot be asked is not silence: the digest says so in its first
//! line and goes out anyway. It is the fleet's dead man's switch.

mod hosts;
pub mod prometheus;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use self::hosts::{Attention, Digest, Healthy, Item, Rebooted, Stopped, Totals};
use self::prometheus::{Client, QueryError, Sample};
use crate::config::{DigestSettings, Thresholds};
use crate::context::Context;
use crate::zone::Zone;

/// Filesystems that are not the host's disks.
const PSEUDO_FS: &str = "tmpfs|devtmpfs|overlay|squashfs|ramfs|iso9660|nsfs|fuse.lxcfs";

/// What the digest asks, by name: each an instant vector across every instance.
fn queries(s: &DigestSettings) -> Vec<(&'static str, String)> {
    let m = &s.matchers;
    let with = |extra: &str| match (m.is_empty(), extra.is_empty()) {
        (true, _) => format!("{{{extra}}}"),
        (false, true) => format!("{{{m}}}"),
        (false, false) => format!("{{{m},{extra}}}"),
    };
    let p = format!("[{}s]", s.period.as_secs());
    let idle = with("mode=\"idle\"");
    let fs = with(&format!("fstype!~\"{PSEUDO_FS}\""));
    let sel = with("");
    vec![
        ("up", format!("up{sel}")),
        ("seen", format!("last_over_time(up{sel}{p})")),
        ("last_seen", format!("max_over_time(node_time_seconds{sel}{p})")),
        ("boot", format!("node_boot_time_seconds{sel}")),
        ("cpu", format!("1 - avg by (instance) (rate(node_cpu_seconds_total{idle}{p}))")),
        ("memory", format!("1 - node_memory_MemAvailable_bytes{sel} / node_memory_MemTotal_bytes{sel}")),
        ("fs", format!("1 - node_filesystem_avail_bytes{fs} / node_filesystem_size_bytes{fs}")),
        // Days until empty at the period's rate: the slope predict_linear uses.
        ("fs_days", format!("node_filesystem_avail_bytes{fs} / -deriv(node_filesystem_avail_bytes{fs}{p}) / 86400 > 0")),
        ("load", format!("node_load5{sel} / on(instance) count by (instance) (node_cpu_seconds_total{idle})")),
        ("status", format!("rreport_status{sel}")),
        ("attention", format!("rreport_attention{sel}")),
        ("security", format!("rreport_updates_pending{}", with("security=\"true\""))),
        ("reboot", format!("rreport_reboot_required{sel}")),
        ("last_report", format!("rreport_last_report_timestamp_seconds{sel}")),
    ]
}

/// The digest at `now`, as a template context. Never fails: what went wrong is in it.
pub fn digest(s: &DigestSettings, t: &Thresholds, now: DateTime<Utc>, zone: &Zone) -> Context {
    let answers = ask(s, now);
    let digest = hosts::assemble(answers, s, t, now, zone);
    let mut ctx = Context::default();
    if let serde_json::Value::Object(map) = serde_json::to_value(&digest).unwrap_or_default() {
        ctx.0 = map;
    }
    ctx
}

/// Every query's answer, or the first failure (in the queries' order).
pub(crate) type Answers = Result<std::collections::BTreeMap<&'static str, Vec<Sample>>, QueryError>;

fn ask(s: &DigestSettings, now: DateTime<Utc>) -> Answers {
    let client = Client::new(s)?;
    let queries = queries(s);
    let answers: Vec<Result<Vec<Sample>, QueryError>> = std::thread::scope(|scope| {
        let running: Vec<_> = (queries.iter())
            .map(|(_, q)| scope.spawn(|| client.query(q, now)))
            .collect();
        running
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Ok(Vec::new())))
            .collect()
    });
    let mut found = std::collections::BTreeMap::new();
    for ((name, _), answer) in queries.iter().zip(answers) {
        found.insert(*name, answer?);
    }
    Ok(found)
}

/// "24h", "7d", "90m": a period as an admin writes it.
pub(crate) fn period_text(period: Duration) -> String {
    let secs = period.as_secs();
    match secs {
        s if s % 86400 == 0 && s > 2 * 86400 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}
