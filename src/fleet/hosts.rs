//! The queries' answers made hosts (by their `instance` label), each judged, and the
//! digest they make: hosts that stopped reporting and hosts that rebooted first, then
//! every host that is not ok (worst first, with what to read), then one line per
//! healthy host (up to `healthy_max`, the rest counted), and the fleet's totals.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::prometheus::Sample;
use super::Answers;
use crate::config::{DigestSettings, Thresholds};
use crate::status::Level;
use crate::zone::Zone;

/// A filesystem that fills within this many days is a warning; within one, critical.
const FULL_WARNING_DAYS: f64 = 7.0;
/// rreport's last report older than this many periods: the host stopped reporting
/// through rreport, though node_exporter still answers.
const REPORT_STALE_PERIODS: f64 = 2.0;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Digest {
    pub kind: &'static str,
    pub generated_at: String,
    pub prometheus: String,
    pub selector: String,
    pub period: String,
    /// The worst of every host's.
    pub status: Level,
    pub hosts_total: usize,
    /// Hosts stopped, and hosts not ok.
    pub attention_hosts: usize,
    /// Why Prometheus could not be asked ("Prometheus at … unreachable: …").
    pub error: Option<String>,
    pub stopped: Vec<Stopped>,
    pub rebooted: Vec<Rebooted>,
    pub attention: Vec<Attention>,
    pub healthy: Vec<Healthy>,
    pub healthy_more: usize,
    pub totals: Totals,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stopped {
    pub instance: String,
    /// "up == 0" or "no samples since …".
    pub why: String,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rebooted {
    pub instance: String,
    pub booted_at: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Attention {
    pub instance: String,
    pub status: Level,
    /// "rreport" (its own attention list) or "node_exporter" (judged here).
    pub source: &'static str,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Item {
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Healthy {
    pub instance: String,
    pub uptime_secs: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub filesystem: Option<String>,
    pub filesystem_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub ok: usize,
    pub careful: usize,
    pub warning: usize,
    pub critical: usize,
    pub stopped: usize,
    pub rebooted: usize,
    /// Where rreport runs: security updates pending, hosts wanting a reboot.
    pub security_updates: u64,
    pub reboots_required: usize,
    pub rreport_hosts: usize,
}

/// One instance's numbers, from every query that named it.
#[derive(Debug, Default)]
struct Host {
    up: Option<f64>,
    boot: Option<f64>,
    cpu: Option<f64>,
    memory: Option<f64>,
    /// Mount point, used ratio, days to full.
    fs: BTreeMap<String, (f64, Option<f64>)>,
    load: Option<f64>,
    status: Option<f64>,
    attention: Vec<(u32, Item)>,
    security: Option<f64>,
    reboot: Option<f64>,
    last_report: Option<f64>,
    last_seen: Option<f64>,
}

pub(super) fn assemble(
    answers: Answers,
    s: &DigestSettings,
    t: &Thresholds,
    now: DateTime<Utc>,
    zone: &Zone,
) -> Digest {
    let mut d = Digest {
        kind: "digest",
        generated_at: zone.rfc3339(now),
        prometheus: s.prometheus.clone(),
        selector: format!("{{{}}}", s.matchers),
        period: super::period_text(s.period),
        ..Default::default()
    };
    let answers = match answers {
        Ok(a) => a,
        Err(e) => {
            d.error = Some(e.to_string());
            d.status = Level::Critical;
            return d;
        }
    };
    let (hosts, seen) = hosts(&answers);
    let judged = sort_out(&mut d, &hosts, &seen, (s, t, now, zone));
    tally(&mut d, judged, now);
    d.healthy_more = d.healthy.len().saturating_sub(s.healthy_max);
    d.healthy.truncate(s.healthy_max);
    let unreachable = hosts.values().filter(|h| h.up == Some(0.0)).count();
    d.hosts_total = hosts.len() + d.stopped.len() - unreachable;
    d.attention_hosts = d.stopped.len() + d.attention.len();
    let worst = d
        .attention
        .iter()
        .map(|a| a.status)
        .max()
        .unwrap_or_default();
    d.status = match d.stopped.is_empty() {
        true => worst,
        false => Level::Critical,
    };
    d
}

/// A host that answers, judged: its level, where the judgement came from, and why.
struct Judged<'a> {
    instance: &'a String,
    host: &'a Host,
    level: Level,
    source: &'static str,
    items: Vec<Item>,
}

/// The hosts that stopped reporting (gone from `up`, or `up == 0`) and those that
/// rebooted into `d`; every other host judged.
fn sort_out<'a>(
    d: &mut Digest,
    hosts: &'a BTreeMap<String, Host>,
    seen: &[String],
    (s, t, now, zone): (&DigestSettings, &Thresholds, DateTime<Utc>, &Zone),
) -> Vec<Judged<'a>> {
    let time = |secs: f64| DateTime::from_timestamp(secs as i64, 0).map(|t| zone.rfc3339(t));
    let period_start = now.timestamp() as f64 - s.period.as_secs_f64();
    for instance in seen.iter().filter(|i| !hosts.contains_key(*i)) {
        let why = format!(
            "no samples since the period began ({} ago or less)",
            d.period
        );
        d.stopped.push(Stopped {
            instance: instance.clone(),
            why,
            last_seen: None,
        });
    }
    let mut judged = Vec::new();
    for (instance, h) in hosts {
        if h.up == Some(0.0) {
            let why = "up == 0: Prometheus cannot scrape it".into();
            let last_seen = h.last_seen.and_then(time);
            d.stopped.push(Stopped {
                instance: instance.clone(),
                why,
                last_seen,
            });
            continue;
        }
        if let Some(booted) = h.boot.filter(|b| *b > period_start) {
            let booted_at = time(booted).unwrap_or_default();
            d.rebooted.push(Rebooted {
                instance: instance.clone(),
                booted_at,
            });
        }
        let (level, source, items) = judge(h, t, now, s);
        judged.push(Judged {
            instance,
            host: h,
            level,
            source,
            items,
        });
    }
    d.stopped.sort_by(|a, b| a.instance.cmp(&b.instance));
    d.totals.stopped = d.stopped.len();
    d.totals.rebooted = d.rebooted.len();
    judged
}

/// Every instance's numbers, and the instances seen at all in the period.
fn hosts(answers: &BTreeMap<&'static str, Vec<Sample>>) -> (BTreeMap<String, Host>, Vec<String>) {
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    let get = |name: &str| answers.get(name).map(Vec::as_slice).unwrap_or_default();
    for sample in get("up") {
        hosts.entry(sample.shown("instance")).or_default().up = Some(sample.value);
    }
    let seen = get("seen").iter().map(|s| s.shown("instance")).collect();
    let mut each = |name: &str, put: &mut dyn FnMut(&mut Host, &Sample)| {
        for sample in get(name) {
            if let Some(h) = hosts.get_mut(&sample.shown("instance")) {
                put(h, sample);
            }
        }
    };
    each("boot", &mut |h, s| h.boot = Some(s.value));
    each("cpu", &mut |h, s| h.cpu = Some(s.value));
    each("memory", &mut |h, s| h.memory = Some(s.value));
    each("load", &mut |h, s| h.load = Some(s.value));
    each("status", &mut |h, s| h.status = Some(s.value));
    each("security", &mut |h, s| h.security = Some(s.value));
    each("reboot", &mut |h, s| h.reboot = Some(s.value));
    each("last_report", &mut |h, s| h.last_report = Some(s.value));
    each("last_seen", &mut |h, s| h.last_seen = Some(s.value));
    each("fs", &mut |h, s| {
        h.fs.entry(s.shown("mountpoint")).or_insert((0.0, None)).0 = s.value;
    });
    each("fs_days", &mut |h, s| {
        if let Some(fs) = h.fs.get_mut(&s.shown("mountpoint")) {
            fs.1 = Some(s.value).filter(|d| d.is_finite());
        }
    });
    each("attention", &mut |h, s| {
        let item = Item {
            level: level_of(s.value),
            text: s.shown("text"),
        };
        h.attention
            .push((s.label("rank").parse().unwrap_or(u32::MAX), item));
    });
    (hosts, seen)
}

/// A host's items: rreport's own attention list where rreport runs, else
/// node_exporter's numbers against rreport's thresholds.
fn judge(
    h: &Host,
    t: &Thresholds,
    now: DateTime<Utc>,
    s: &DigestSettings,
) -> (Level, &'static str, Vec<Item>) {
    let mut items = Vec::new();
    let source = match h.status {
        Some(status) => {
            let mut listed = h.attention.clone();
            listed.sort_by_key(|(rank, _)| *rank);
            items.extend(listed.into_iter().map(|(_, i)| i));
            if items.is_empty() && status > 0.0 {
                items.push(Item {
                    level: level_of(status),
                    text: "rreport's status (its attention list is not exported)".into(),
                });
            }
            if let Some(at) = h.last_report.filter(|at| {
                now.timestamp() as f64 - at > REPORT_STALE_PERIODS * s.period.as_secs_f64()
            }) {
                let days = (now.timestamp() as f64 - at) / 86400.0;
                items.push(Item {
                    level: Level::Warning,
                    text: format!("rreport's last report was {days:.1} days ago"),
                });
            }
            "rreport"
        }
        None => {
            items = resources(h, t);
            "node_exporter"
        }
    };
    let level = items.iter().map(|i| i.level).max().unwrap_or_default();
    let level = level.max(h.status.map(level_of).unwrap_or_default());
    (level, source, items)
}

/// CPU over the period, memory, each filesystem and its forecast, load per CPU.
fn resources(h: &Host, t: &Thresholds) -> Vec<Item> {
    let mut items = Vec::new();
    let mut add = |level: Level, text: String| {
        if level > Level::Ok {
            items.push(Item { level, text });
        }
    };
    if let Some(cpu) = h.cpu {
        add(
            t.cpu.level(cpu * 100.0),
            format!("CPU {:.0}% busy on average over the period", cpu * 100.0),
        );
    }
    if let Some(memory) = h.memory {
        add(
            t.memory.level(memory * 100.0),
            format!("memory {:.0}% used", memory * 100.0),
        );
    }
    for (mount, (used, days)) in &h.fs {
        let levels = t.filesystems.get(mount).unwrap_or(&t.filesystem);
        add(
            levels.level(used * 100.0),
            format!("{mount} is {:.0}% full", used * 100.0),
        );
        if let Some(days) = days.filter(|d| *d < FULL_WARNING_DAYS) {
            let level = if days < 1.0 {
                Level::Critical
            } else {
                Level::Warning
            };
            add(
                level,
                format!("{mount} fills in {days:.1} days at the period's rate"),
            );
        }
    }
    if let Some(load) = h.load {
        add(
            t.load.level(load),
            format!("load {load:.2} per CPU (5 min)"),
        );
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.level));
    items
}

/// Hosts into attention (worst first) and healthy lines, and the totals.
fn tally(d: &mut Digest, judged: Vec<Judged>, now: DateTime<Utc>) {
    for j in judged {
        let (h, t) = (j.host, &mut d.totals);
        match j.level {
            Level::Ok => t.ok += 1,
            Level::Careful => t.careful += 1,
            Level::Warning => t.warning += 1,
            Level::Critical => t.critical += 1,
        }
        t.security_updates += h.security.unwrap_or(0.0).max(0.0) as u64;
        t.reboots_required += usize::from(h.reboot == Some(1.0));
        t.rreport_hosts += usize::from(h.status.is_some());
        if j.level > Level::Ok {
            let (instance, status, source, items) =
                (j.instance.clone(), j.level, j.source, j.items);
            d.attention.push(Attention {
                instance,
                status,
                source,
                items,
            });
            continue;
        }
        let worst = h.fs.iter().max_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
        d.healthy.push(Healthy {
            instance: j.instance.clone(),
            uptime_secs: h.boot.map(|b| now.timestamp() as f64 - b),
            cpu_percent: h.cpu.map(|c| c * 100.0),
            memory_percent: h.memory.map(|m| m * 100.0),
            filesystem: worst.map(|(m, _)| m.clone()),
            filesystem_percent: worst.map(|(_, (u, _))| u * 100.0),
        });
    }
    d.attention
        .sort_by(|a, b| b.status.cmp(&a.status).then(a.instance.cmp(&b.instance)));
}

fn level_of(value: f64) -> Level {
    match value {
        v if v >= 3.0 => Level::Critical,
        v if v >= 2.0 => Level::Warning,
        v if v >= 1.0 => Level::Careful,
        _ => Level::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Sample { labels, value }
    }

    /// A host writes its own textfile: an attention text with a line feed and an
    /// escape sequence stays one line of text in the digest.
    #[test]
    fn a_hostile_label_cannot_forge_a_line() {
        let settings = DigestSettings {
            prometheus: "http://prom:9090".into(),
            schedule: None,
            matchers: String::new(),
            period: std::time::Duration::from_secs(86400),
            ca_file: None,
            timeout: std::time::Duration::from_secs(1),
            healthy_max: 10,
            subject: None,
            auth: None,
        };
        let host = [("instance", "web-1:9100")];
        let text = "ok\r\nSubject: [rreport] all 1 hosts ok\u{1b}[2J";
        let mut answers = BTreeMap::new();
        answers.insert("up", vec![sample(&host, 1.0)]);
        answers.insert("status", vec![sample(&host, 2.0)]);
        let hostile = [("instance", "web-1:9100"), ("rank", "1"), ("text", text)];
        answers.insert("attention", vec![sample(&hostile, 2.0)]);
        let now = Utc::now();
        let d = assemble(
            Ok(answers),
            &settings,
            &Thresholds::default(),
            now,
            &Zone::utc(),
        );
        let item = &d.attention[0].items[0].text;
        assert!(!item.contains(['\r', '\n', '\u{1b}']), "{item:?}");
        assert!(item.starts_with("ok\\r\\nSubject:"), "{item:?}");
    }
}
