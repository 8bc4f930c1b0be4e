//! The report's status, decided in one place: a level for every metric that has
//! one, the worst of them as `status`, and `attention`, the short sentences an admin
//! reads first, worst first.
//!
//! Four levels, glances' model: ok, careful, warning, critical. A value at or above a
//! threshold takes that threshold's level. Pure: it judges typed readings, one small
//! function per metric, and returns an `Assessment`; only `Assessment::write` knows
//! where the levels go in the template context. Collectors know nothing of thresholds.

use serde::Serialize;
use serde_json::{json, Value};

use crate::collect::checks::Outcome;
use crate::collect::cpu::Cpu;
use crate::collect::disk::Disk;
use crate::collect::load::Load;
use crate::collect::memory::Memory;
use crate::collect::Readings;
pub use crate::config::{Levels, Thresholds};
use crate::context::{CollectorFailure, Context};
use crate::history::forecast::Forecast;
use crate::history::Period;
use crate::units::bytes;

mod events;
mod hardware;
mod health;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Ok,
    Careful,
    Warning,
    Critical,
}

impl Levels {
    /// The level of `value`: at or above a threshold takes that threshold's level.
    pub fn level(&self, value: f64) -> Level {
        match value {
            v if v >= self.critical => Level::Critical,
            v if v >= self.warning => Level::Warning,
            v if v >= self.careful => Level::Careful,
            _ => Level::Ok,
        }
    }
}

/// One line of the attention list. The level is shown once, as the badge; the
/// sentence does not repeat it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attention {
    pub level: Level,
    pub text: String,
    /// Within a level: what the admin wrote a check for first, then what needs a
    /// human (updates), then the resources that fill up, then CPU and load, then
    /// collectors that failed.
    #[serde(skip)]
    kind: Kind,
    /// How far past its threshold, as a ratio (1.2: 20 % past), for the order within a kind.
    #[serde(skip)]
    excess: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Check,
    /// What needs a human at the console: updates, a reboot, failed units.
    Maintenance,
    Capacity,
    Activity,
    Collector,
}

/// What status made of one report's readings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    /// The CPU's level and what it was judged on ("average" or "sample").
    pub cpu: Option<(Level, &'static str)>,
    pub load: Option<Level>,
    pub memory: Option<Level>,
    pub swap: Option<Level>,
    /// One per filesystem, in the readings' order: the worse of space and inodes.
    pub disks: Vec<Level>,
    /// One per check, in the config's order.
    pub checks: Vec<Level>,
    pub updates: Option<Level>,
    /// Only when a reboot is required.
    pub reboot: Option<Level>,
    /// One per failed unit listed.
    pub units: Vec<Level>,
    /// One per certificate, in the readings' order.
    pub certificates: Vec<Level>,
    /// One per drive, md array, sensor and drive with a temperature, in the readings' order.
    pub smart: Vec<Level>,
    pub raid: Vec<Level>,
    pub temperatures: Vec<Level>,
    pub drive_temperatures: Vec<Level>,
    /// Only when the clock is not synchronized.
    pub clock: Option<Level>,
    /// The journal's counts, when above ok; one per OOM kill, successful login and
    /// failed sudo listed.
    pub journal: Option<Level>,
    pub oom: Vec<Level>,
    pub logins: Vec<Level>,
    pub sudo_failures: Vec<Level>,
    /// Only for a reboot without a clean shutdown.
    pub reboots: Option<Level>,
    /// The worst level of all.
    pub status: Level,
    /// Every level above ok as a sentence, worst first.
    pub attention: Vec<Attention>,
}

/// A level, and the sentence to read when it is above ok.
struct Judged {
    level: Level,
    note: Attention,
}

fn judged(level: Level, text: String, kind: Kind, excess: f64) -> Judged {
    Judged {
        level,
        note: Attention {
            level,
            text,
            kind,
            excess,
        },
    }
}

/// How far `value` is past the threshold of its `level`, as a ratio.
pub(super) fn excess(levels: &Levels, level: Level, value: f64) -> f64 {
    let threshold = match level {
        Level::Ok => return 0.0,
        Level::Careful => levels.careful,
        Level::Warning => levels.warning,
        Level::Critical => levels.critical,
    };
    if threshold > 0.0 {
        value / threshold
    } else {
        value
    }
}

/// A percentage (or a load) against its thresholds, with the sentence for it.
fn against(levels: &Levels, value: f64, text: String, kind: Kind) -> Judged {
    let level = levels.level(value);
    judged(level, text, kind, excess(levels, level, value))
}

/// The CPU: on the period's average when the daemon sampled it, else on the average
/// since the previous report (a snapshot at report time says nothing of the day and
/// flaps the subject), else on the sample, saying so.
fn cpu(cpu: &Cpu, period: Option<f64>, t: &Levels) -> Option<(Judged, &'static str)> {
    let judge = |p: f64, text: String, from| Some((against(t, p, text, Kind::Activity), from));
    match (period, cpu.average.map(|a| a.percent), cpu.percent) {
        (Some(p), _, _) => judge(
            p,
            format!("CPU was {p:.1}% busy on average since the previous report (sampled)"),
            "period",
        ),
        (None, Some(p), _) => judge(
            p,
            format!("CPU was {p:.1}% busy on average since the previous report"),
            "average",
        ),
        (None, None, Some(p)) => judge(
            p,
            format!("CPU is {p:.1}% busy now (a short sample: no previous report to average over)"),
            "sample",
        ),
        (None, None, None) => None,
    }
}

/// The 5-minute load average per logical CPU.
fn load(load: &Load, t: &Levels) -> Judged {
    let per_cpu = load.per_cpu[1];
    against(
        t,
        per_cpu,
        format!("load is {per_cpu:.2} per CPU over 5 minutes"),
        Kind::Activity,
    )
}

fn memory(memory: &Memory, t: &Levels) -> Judged {
    let p = memory.percent;
    against(t, p, format!("memory is {p:.1}% used"), Kind::Capacity)
}

/// Swap; none configured is no swap problem.
fn swap(memory: &Memory, t: &Levels) -> Judged {
    let p = memory.swap_percent;
    match memory.swap_total > 0 {
        true => against(t, p, format!("swap is {p:.1}% used"), Kind::Capacity),
        false => judged(Level::Ok, String::new(), Kind::Capacity, 0.0),
    }
}

/// A filesystem's space and inodes, against its own thresholds when it has them.
fn disk(disk: &Disk, t: &Thresholds) -> [Judged; 2] {
    let mount = &disk.mount;
    let limits = t.filesystems.get(mount).copied();
    let (p, i) = (disk.percent, disk.inodes_percent);
    [
        against(
            &limits.unwrap_or(t.filesystem),
            p,
            format!("{mount} is {p:.1}% full"),
            Kind::Capacity,
        ),
        against(
            &limits.unwrap_or(t.inodes),
            i,
            format!("{mount} has used {i:.1}% of its inodes"),
            Kind::Capacity,
        ),
    ]
}

/// A filesystem that fills within the forecast's warning or critical days.
fn forecast(disk: &Disk, f: &Forecast, period: &Period) -> Judged {
    let days = f.days_left;
    let level = match days {
        d if d <= period.critical_days as f64 => Level::Critical,
        d if d <= period.warning_days as f64 => Level::Warning,
        _ => Level::Ok,
    };
    let when = match days {
        d if d < 1.0 => format!("~{:.0} hours", (d * 24.0).max(0.0)),
        d => format!("~{d:.0} days"),
    };
    let text = format!(
        "{} will be full in {when} at its rate of the last days (+{}/day)",
        disk.mount,
        bytes(f.bytes_per_day)
    );
    // Fewer days left is further past the threshold.
    judged(level, text, Kind::Capacity, 1.0 / days.max(0.01))
}

/// The admin wrote each check to say whether something they care about works.
fn check(outcome: &Outcome) -> Judged {
    let level = if outcome.ok {
        Level::Ok
    } else {
        Level::Critical
    };
    let text = format!("check {} failed: {}", outcome.name, outcome.detail);
    judged(level, text, Kind::Check, 0.0)
}

/// A collector that failed may hide the very thing that needs attention.
fn failure(failure: &CollectorFailure) -> Judged {
    let text = format!("{}: {}", failure.collector, failure.message);
    judged(Level::Warning, text, Kind::Collector, 0.0)
}

/// Judges every reading against the thresholds.
pub fn assess(r: &Readings, period: &Period, t: &Thresholds) -> Assessment {
    let mut a = Assessment::default();
    let mut all = Vec::new();
    if let Some(Some(c)) = &r.cpu {
        a.cpu = cpu(c, period.cpu_average(), &t.cpu).map(|(j, from)| {
            let level = j.level;
            all.push(j);
            (level, from)
        });
    }
    let keep = |j: Judged, all: &mut Vec<Judged>| {
        let level = j.level;
        all.push(j);
        level
    };
    if let Some(Some(l)) = &r.load {
        a.load = Some(keep(load(l, &t.load), &mut all));
    }
    if let Some(Some(m)) = &r.memory {
        a.memory = Some(keep(memory(m, &t.memory), &mut all));
        a.swap = Some(keep(swap(m, &t.swap), &mut all));
    }
    for (i, d) in r.disks.iter().flatten().flatten().enumerate() {
        let [space, inodes] = disk(d, t);
        let mut level = keep(space, &mut all).max(keep(inodes, &mut all));
        if let Some(Some(f)) = period.forecasts.get(i) {
            level = level.max(keep(forecast(d, f, period), &mut all));
        }
        a.disks.push(level);
    }
    if let Some(problem) = &period.problem {
        keep(failure(problem), &mut all);
    }
    for c in r.checks.iter().flatten() {
        a.checks.push(keep(check(c), &mut all));
    }
    health::maintenance(r, t, &mut a, &mut all);
    hardware::hardware(r, t, &mut a, &mut all);
    events::events(r, &mut a, &mut all);
    for f in &r.errors {
        keep(failure(f), &mut all);
    }
    a.status = all.iter().map(|j| j.level).max().unwrap_or(Level::Ok);
    a.attention = attention(all);
    a
}

/// Worst first; within a level by kind, then furthest past its threshold; equal
/// ones (checks, errors) keep the order of the config and the report.
fn attention(all: Vec<Judged>) -> Vec<Attention> {
    let mut found: Vec<Attention> = all
        .into_iter()
        .filter(|j| j.level > Level::Ok)
        .map(|j| j.note)
        .collect();
    found.sort_by(|a, b| {
        (b.level, a.kind)
            .cmp(&(a.level, b.kind))
            .then(b.excess.total_cmp(&a.excess))
    });
    found
}

impl Assessment {
    /// Puts the levels where the templates read them (`cpu.level`, `disks[i].level`,
    /// …), and `status` and `attention`: the one place that knows those keys.
    pub fn write(&self, ctx: &mut Context) {
        let one = [
            ("cpu", "level", self.cpu.map(|(l, _)| l)),
            ("load", "level", self.load),
            ("memory", "level", self.memory),
            ("memory", "swap_level", self.swap),
            ("updates", "level", self.updates),
            ("reboot", "level", self.reboot),
            ("clock", "level", self.clock),
            ("journal", "level", self.journal),
            ("reboots", "level", self.reboots),
        ];
        for (section, key, level) in one {
            if let (Some(level), Some(object)) =
                (level, ctx.0.get_mut(section).and_then(Value::as_object_mut))
            {
                object.insert(key.into(), json!(level));
            }
        }
        if let (Some((_, from)), Some(Value::Object(cpu))) = (self.cpu, ctx.0.get_mut("cpu")) {
            cpu.insert("level_from".into(), json!(from));
        }
        let lists: [(&str, Option<&str>, &str, &[Level]); 11] = [
            ("disks", None, "level", &self.disks),
            ("checks", None, "level", &self.checks),
            ("certificates", None, "level", &self.certificates),
            ("units", Some("units"), "level", &self.units),
            ("smart", Some("drives"), "level", &self.smart),
            (
                "smart",
                Some("drives"),
                "temperature_level",
                &self.drive_temperatures,
            ),
            ("raid", Some("arrays"), "level", &self.raid),
            ("temperatures", None, "level", &self.temperatures),
            ("oom", None, "level", &self.oom),
            ("logins", Some("accepted"), "level", &self.logins),
            (
                "logins",
                Some("sudo_failures"),
                "level",
                &self.sudo_failures,
            ),
        ];
        for (section, inner, key, levels) in lists {
            each(ctx, section, inner, key, levels);
        }
        ctx.put("status", self.status);
        ctx.put("attention", &self.attention);
    }
}

/// Sets `key` on each object of the list `section` (or `section.inner`), in order.
fn each(ctx: &mut Context, section: &str, inner: Option<&str>, key: &str, levels: &[Level]) {
    let list = ctx.0.get_mut(section);
    let list = match inner {
        Some(inner) => list.and_then(|v| v.get_mut(inner)),
        None => list,
    };
    if let Some(Value::Array(items)) = list {
        for (item, level) in items.iter_mut().zip(levels) {
            if let Some(item) = item.as_object_mut() {
                item.insert(key.into(), json!(level));
            }
        }
    }
}

/// The template context of a report: its readings, with what status made of them.
pub fn context(readings: &Readings, period: &Period, t: &Thresholds) -> Context {
    let mut ctx = readings.context();
    period.write(&mut ctx);
    assess(readings, period, t).write(&mut ctx);
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::cpu::Shares;
    use crate::collect::{reboot::Reboot, updates::Updates};

    /// Typed readings from a JSON sketch of the few fields status reads; `null` is
    /// a collector that failed, a missing key a section not shown.
    fn readings(v: Value) -> Readings {
        let f = |x: &Value, k: &str| x[k].as_f64().unwrap_or(0.0);
        let text = |x: &Value, k: &str| x[k].as_str().unwrap_or_default().to_string();
        let shown = |key: &str| v.get(key).map(|x| x.is_object() || x.is_array());
        let cpu = shown("cpu").map(|ok| {
            ok.then(|| Cpu {
                percent: v["cpu"]["percent"].as_f64(),
                average: v["cpu"].get("average").map(|a| Shares {
                    percent: f(a, "percent"),
                    ..Default::default()
                }),
                ..Default::default()
            })
        });
        let memory = shown("memory").map(|ok| {
            ok.then(|| Memory {
                percent: f(&v["memory"], "percent"),
                swap_total: v["memory"]["swap_total"].as_u64().unwrap_or(0),
                swap_percent: f(&v["memory"], "swap_percent"),
                ..Default::default()
            })
        });
        let load = shown("load").map(|ok| {
            ok.then(|| Load {
                per_cpu: [0, 1, 2].map(|i| v["load"]["per_cpu"][i].as_f64().unwrap_or(0.0)),
                ..Default::default()
            })
        });
        let disks = shown("disks").map(|ok| {
            ok.then(|| {
                let each = |d: &Value| Disk {
                    mount: text(d, "mount"),
                    percent: f(d, "percent"),
                    inodes_percent: f(d, "inodes_percent"),
                    ..Default::default()
                };
                v["disks"].as_array().unwrap().iter().map(each).collect()
            })
        });
        let checks = v.get("checks").and_then(Value::as_array).map(|all| {
            let each = |c: &Value| Outcome {
                name: text(c, "name"),
                ok: c["ok"] == true,
                detail: text(c, "detail"),
                ..Default::default()
            };
            all.iter().map(each).collect()
        });
        let errors = v
            .get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let errors = errors
            .iter()
            .map(|e| CollectorFailure {
                collector: text(e, "collector"),
                message: text(e, "message"),
            })
            .collect();
        Readings {
            cpu,
            memory,
            load,
            disks,
            checks,
            errors,
            ..Default::default()
        }
    }

    fn no_history() -> Period {
        Period::none(&crate::zone::Zone::utc())
    }

    #[track_caller]
    fn check(input: Value, t: &Thresholds, status: &str, attention: &[&str]) {
        let c = context(&readings(input), &no_history(), t);
        assert_eq!(c.0["status"], status);
        let got: Vec<&str> = c.0["attention"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["text"].as_str().unwrap())
            .collect();
        assert_eq!(got, attention);
    }

    #[test]
    fn levels_at_and_above_each_threshold() {
        let l = Levels::new(50.0, 70.0, 90.0);
        let table = [
            (0.0, Level::Ok),
            (49.9, Level::Ok),
            (50.0, Level::Careful),
            (69.9, Level::Careful),
            (70.0, Level::Warning),
            (90.0, Level::Critical),
            (100.0, Level::Critical),
        ];
        for (value, level) in table {
            assert_eq!(l.level(value), level, "{value}");
        }
    }

    #[test]
    fn all_quiet_is_ok_with_nothing_to_read() {
        let input = json!({"cpu": {"percent": 12.5}, "memory": {"percent": 20.0, "swap_total": 0, "swap_percent": 0.0},
                           "load": {"per_cpu": [0.1, 0.2, 0.3]}, "disks": [{"mount": "/", "percent": 10.0, "inodes_percent": 1.0}], "errors": []});
        check(input, &Thresholds::default(), "ok", &[]);
    }

    #[test]
    fn worst_first_and_status_is_the_worst() {
        let input = json!({
            "cpu": {"percent": 55.0},
            "memory": {"percent": 75.0, "swap_total": 100, "swap_percent": 95.0},
            "load": {"per_cpu": [9.0, 1.2, 0.5]},
            "disks": [{"mount": "/", "percent": 93.4, "inodes_percent": 10.0}, {"mount": "/var", "percent": 10.0, "inodes_percent": 72.0}],
            "errors": [{"collector": "disk", "message": "/mnt/nfs: statvfs did not answer"}]
        });
        check(
            input,
            &Thresholds::default(),
            "critical",
            &[
                "swap is 95.0% used",
                "/ is 93.4% full",
                "memory is 75.0% used",
                "/var has used 72.0% of its inodes",
                "load is 1.20 per CPU over 5 minutes",
                "disk: /mnt/nfs: statvfs did not answer",
                "CPU is 55.0% busy now (a short sample: no previous report to average over)",
            ],
        );
    }

    #[test]
    fn per_filesystem_thresholds_replace_the_default_there() {
        let mut t = Thresholds::default();
        t.filesystems
            .insert("/boot".into(), Levels::new(80.0, 90.0, 95.0));
        let input = json!({"disks": [{"mount": "/boot", "percent": 75.0, "inodes_percent": 1.0}, {"mount": "/", "percent": 75.0, "inodes_percent": 1.0}]});
        check(input.clone(), &t, "warning", &["/ is 75.0% full"]);
        let c = context(&readings(input), &no_history(), &t);
        assert_eq!(
            (
                c.0["disks"][0]["level"].as_str(),
                c.0["disks"][1]["level"].as_str()
            ),
            (Some("ok"), Some("warning"))
        );
    }

    #[test]
    fn failed_collectors_add_no_levels_but_their_errors() {
        let input = json!({"cpu": null, "memory": null, "disks": null, "load": null, "errors": []});
        check(input, &Thresholds::default(), "ok", &[]);
    }

    #[test]
    fn a_failed_check_is_critical_and_comes_before_warnings() {
        let input = json!({
            "memory": {"percent": 75.0, "swap_total": 0, "swap_percent": 0.0},
            "checks": [
                {"name": "web", "ok": true, "detail": "connected to 127.0.0.1:80 in 0.1 ms"},
                {"name": "nginx", "ok": false, "detail": "no process named nginx"}
            ]
        });
        check(
            input.clone(),
            &Thresholds::default(),
            "critical",
            &[
                "check nginx failed: no process named nginx",
                "memory is 75.0% used",
            ],
        );
        let c = context(&readings(input), &no_history(), &Thresholds::default());
        assert_eq!(c.0["checks"][0]["level"], "ok");
        assert_eq!(c.0["checks"][1]["level"], "critical");
    }

    #[test]
    fn a_down_service_reads_before_resources_of_the_same_level() {
        // Found by a new admin: a down postgres read fifth, after CPU, load, "/" and inodes.
        let input = json!({
            "cpu": {"percent": 100.0},
            "load": {"per_cpu": [9.0, 6.0, 5.0]},
            "disks": [{"mount": "/", "percent": 91.0, "inodes_percent": 99.0}],
            "checks": [{"name": "postgres", "ok": false, "detail": "connection refused"}],
        });
        check(
            input,
            &Thresholds::default(),
            "critical",
            &[
                "check postgres failed: connection refused",
                "/ has used 99.0% of its inodes",
                "/ is 91.0% full",
                "load is 6.00 per CPU over 5 minutes",
                "CPU is 100.0% busy now (a short sample: no previous report to average over)",
            ],
        );
    }

    #[test]
    fn the_cpu_level_is_the_average_since_the_previous_report_not_the_snapshot() {
        // Found on a real host: 100 %, 59 %, 0 %, 97.5 % minutes apart, each flipping
        // the subject to or from CRITICAL.
        let input = json!({"cpu": {"percent": 100.0, "average": {"percent": 12.0, "iowait": 1.0, "steal": 0.0}}});
        check(input, &Thresholds::default(), "ok", &[]);
        let input = json!({"cpu": {"percent": 3.0, "average": {"percent": 93.0, "iowait": 1.0, "steal": 0.0}}});
        check(
            input,
            &Thresholds::default(),
            "critical",
            &["CPU was 93.0% busy on average since the previous report"],
        );
    }

    #[test]
    fn no_swap_is_not_a_swap_problem() {
        let input = json!({"memory": {"percent": 10.0, "swap_total": 0, "swap_percent": 100.0}});
        check(input, &Thresholds::default(), "ok", &[]);
    }

    /// A period whose CPU busy series is `busy`, and one forecast per entry.
    fn period(busy: &[f64], forecasts: &[Option<f64>]) -> Period {
        use crate::history::day::{Day, Series, Window};
        let t = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let mut series = Series::default();
        for (i, v) in busy.iter().enumerate() {
            series.figures.add(i as i64 * 60, *v);
        }
        let mut p = no_history();
        p.day = Some(Day {
            window: Window {
                from: t,
                to: t,
                trend_from: t,
            },
            samples: busy.len() as u64,
            series: [("cpu.busy".to_string(), series)].into(),
            trends: Default::default(),
        });
        p.forecasts = forecasts
            .iter()
            .map(|d| {
                d.map(|days_left| Forecast {
                    full_at: String::new(),
                    days_left,
                    bytes_per_day: 1.5 * 1024.0 * 1024.0 * 1024.0,
                })
            })
            .collect();
        (p.warning_days, p.critical_days) = (14, 3);
        p
    }

    #[test]
    fn the_cpu_is_judged_on_the_period_when_the_daemon_sampled_it() {
        // A quiet moment at report time, a busy day before it: the day counts.
        let input = json!({"cpu": {"percent": 3.0, "average": {"percent": 20.0}}});
        let a = assess(
            &readings(input),
            &period(&[95.0, 85.0, 90.0], &[]),
            &Thresholds::default(),
        );
        assert_eq!(a.cpu, Some((Level::Critical, "period")));
        assert_eq!(
            a.attention[0].text,
            "CPU was 90.0% busy on average since the previous report (sampled)"
        );
    }

    #[test]
    fn a_filesystem_filling_soon_is_a_warning_then_critical() {
        let disks = json!({"disks": [
            {"mount": "/", "percent": 40.0},
            {"mount": "/var", "percent": 40.0},
            {"mount": "/srv", "percent": 40.0},
            {"mount": "/tmp", "percent": 40.0}
        ]});
        let p = period(&[], &[Some(30.0), Some(12.4), Some(2.5), Some(0.2)]);
        let a = assess(&readings(disks), &p, &Thresholds::default());
        assert_eq!(
            a.disks,
            [Level::Ok, Level::Warning, Level::Critical, Level::Critical]
        );
        let texts: Vec<_> = a.attention.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "/tmp will be full in ~5 hours at its rate of the last days (+1.5 GiB/day)",
                "/srv will be full in ~2 days at its rate of the last days (+1.5 GiB/day)",
                "/var will be full in ~12 days at its rate of the last days (+1.5 GiB/day)",
            ]
        );
    }

    #[test]
    fn security_updates_are_careful_then_a_warning_and_old_lists_a_warning() {
        let t = Thresholds::default();
        let judge = |security: usize, days: f64, lists: f64| {
            let u = Updates {
                total: 10,
                security,
                security_days: Some(days),
                lists_age_days: Some(lists),
                ..Default::default()
            };
            let r = Readings {
                updates: Some(Some(u)),
                ..Default::default()
            };
            let a = assess(&r, &no_history(), &t);
            let texts: Vec<String> = a
                .attention
                .iter()
                .map(|a| format!("{:?} {}", a.level, a.text))
                .collect();
            (a.updates, texts)
        };
        assert_eq!(judge(0, 0.0, 1.0), (Some(Level::Ok), vec![]));
        assert_eq!(
            judge(3, 2.0, 1.0),
            (
                Some(Level::Careful),
                vec!["Careful 3 security updates pending (10 updates in all)".to_string()]
            )
        );
        assert_eq!(
            judge(3, 9.0, 12.4),
            (
                Some(Level::Warning),
                vec![
                    "Warning package lists not updated for 12 days (apt-get update)".to_string(),
                    "Warning 3 security updates pending for 9 days (10 updates in all)".to_string()
                ]
            )
        );
    }

    #[test]
    fn a_newer_kernel_installed_than_running_is_careful() {
        use crate::collect::system::System;
        let r = Readings {
            system: Some(Some(System {
                kernel: "6.1.0-9-amd64".into(),
                newest_kernel: Some("6.1.0-26-amd64".into()),
                kernel_outdated: true,
                ..Default::default()
            })),
            ..Default::default()
        };
        let a = assess(&r, &no_history(), &Thresholds::default());
        assert_eq!(a.status, Level::Careful);
        assert_eq!(
            a.attention[0].text,
            "running kernel 6.1.0-9-amd64 while 6.1.0-26-amd64 is installed: a reboot would load it"
        );
    }

    #[test]
    fn a_required_reboot_is_careful_then_a_warning() {
        let judge = |days: f64, packages: &[&str]| {
            let r = Readings {
                reboot: Some(Some(Reboot {
                    required: true,
                    days: Some(days),
                    packages: packages.iter().map(|p| p.to_string()).collect(),
                    ..Default::default()
                })),
                ..Default::default()
            };
            let a = assess(&r, &no_history(), &Thresholds::default());
            (a.reboot, a.attention[0].text.clone())
        };
        assert_eq!(
            judge(0.2, &["libc6"]),
            (
                Some(Level::Careful),
                "a reboot has been required (for libc6)".into()
            )
        );
        assert_eq!(
            judge(9.0, &["libc6", "linux-base", "dbus"]),
            (
                Some(Level::Warning),
                "a reboot has been required for 9 days (for libc6 and 2 more)".into()
            )
        );
    }

    #[test]
    fn each_failed_unit_is_a_warning() {
        use crate::collect::units::{Unit, Units};
        let unit = |name: &str| Unit {
            unit: name.into(),
            description: "Certbot".into(),
            since: None,
        };
        let r = Readings {
            units: Some(Some(Units {
                failed: 2,
                units: vec![unit("a.service"), unit("b.service")],
                unavailable: None,
            })),
            ..Default::default()
        };
        let a = assess(&r, &no_history(), &Thresholds::default());
        assert_eq!(a.units, [Level::Warning, Level::Warning]);
        assert_eq!(a.attention[0].text, "unit a.service failed (Certbot)");
    }
}
