//! The report's status, decided in one place: a level for every metric that has
//! one, the worst of them as `status`, and `attention`, the short sentences an admin
//! reads first, worst first.
//!
//! Four levels, glances' model: ok, careful, warning, critical. A value at or above a
//! threshold takes that threshold's level. Pure: it reads the merged context and
//! writes levels back into it; collectors know nothing of thresholds.

use serde::Serialize;
use serde_json::{json, Value};

pub use crate::config::{Levels, Thresholds};
use crate::context::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
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
    /// Within a level: what the admin wrote a check for first, then the resources
    /// that fill up, then CPU and load, then collectors that failed.
    #[serde(skip)]
    kind: Kind,
    /// How far past its threshold, as a ratio (1.2: 20 % past), for the order within a kind.
    #[serde(skip)]
    excess: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Check,
    Capacity,
    Activity,
    Collector,
}

/// What the CPU level is judged on: the average since the previous report when
/// there is one (a snapshot at report time says nothing of the day and flaps the
/// subject), else the sample, saying so.
fn cpu_judged(cpu: &serde_json::Map<String, Value>) -> Option<(f64, &'static str, String)> {
    let average = cpu
        .get("average")
        .and_then(|a| a.get("percent"))
        .and_then(Value::as_f64);
    match (average, cpu.get("percent").and_then(Value::as_f64)) {
        (Some(p), _) => Some((
            p,
            "average",
            format!("CPU was {p:.1}% busy on average since the previous report"),
        )),
        (None, Some(p)) => Some((
            p,
            "sample",
            format!("CPU is {p:.1}% busy now (a short sample: no previous report to average over)"),
        )),
        (None, None) => None,
    }
}

/// How far `value` is past the threshold of its `level`, as a ratio.
fn excess(levels: &Levels, level: Level, value: f64) -> f64 {
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

/// Writes levels into the context, then `status` and `attention`.
pub fn assess(ctx: &mut Context, t: &Thresholds) {
    let mut found: Vec<Attention> = Vec::new();
    let mut note = |level: Level, text: String, kind: Kind, excess: f64| {
        if level > Level::Ok {
            found.push(Attention {
                level,
                text,
                kind,
                excess,
            });
        }
    };
    let mut levels = vec![Level::Ok];
    if let Some(cpu) = ctx.0.get_mut("cpu").and_then(Value::as_object_mut) {
        if let Some((p, from, text)) = cpu_judged(cpu) {
            let level = t.cpu.level(p);
            cpu.insert("level".into(), json!(level));
            cpu.insert("level_from".into(), json!(from));
            note(level, text, Kind::Activity, excess(&t.cpu, level, p));
            levels.push(level);
        }
    }
    if let Some(load) = ctx.0.get_mut("load").and_then(Value::as_object_mut) {
        if let Some(per_cpu) = load
            .get("per_cpu")
            .and_then(|p| p.get(1))
            .and_then(Value::as_f64)
        {
            let level = t.load.level(per_cpu);
            load.insert("level".into(), json!(level));
            note(
                level,
                format!("load is {per_cpu:.2} per CPU over 5 minutes"),
                Kind::Activity,
                excess(&t.load, level, per_cpu),
            );
            levels.push(level);
        }
    }
    if let Some(mem) = ctx.0.get_mut("memory").and_then(Value::as_object_mut) {
        let figure = |key: &str| mem.get(key).and_then(Value::as_f64);
        let (percent, swap_total, swap_percent) = (
            figure("percent"),
            figure("swap_total"),
            figure("swap_percent"),
        );
        if let Some(p) = percent {
            let level = t.memory.level(p);
            mem.insert("level".into(), json!(level));
            note(
                level,
                format!("memory is {p:.1}% used"),
                Kind::Capacity,
                excess(&t.memory, level, p),
            );
            levels.push(level);
        }
        if let (Some(p), Some(total)) = (swap_percent, swap_total) {
            let level = if total > 0.0 {
                t.swap.level(p)
            } else {
                Level::Ok
            };
            mem.insert("swap_level".into(), json!(level));
            note(
                level,
                format!("swap is {p:.1}% used"),
                Kind::Capacity,
                excess(&t.swap, level, p),
            );
            levels.push(level);
        }
    }
    if let Some(disks) = ctx.0.get_mut("disks").and_then(Value::as_array_mut) {
        for disk in disks.iter_mut().filter_map(Value::as_object_mut) {
            let mount = disk
                .get("mount")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let limits = t.filesystems.get(&mount).copied();
            let space = disk
                .get("percent")
                .and_then(Value::as_f64)
                .map(|p| (p, limits.unwrap_or(t.filesystem).level(p)));
            let inodes = disk
                .get("inodes_percent")
                .and_then(Value::as_f64)
                .map(|p| (p, limits.unwrap_or(t.inodes).level(p)));
            if let Some((p, level)) = space {
                let by = excess(&limits.unwrap_or(t.filesystem), level, p);
                note(
                    level,
                    format!("{mount} is {p:.1}% full"),
                    Kind::Capacity,
                    by,
                );
            }
            if let Some((p, level)) = inodes {
                let by = excess(&limits.unwrap_or(t.inodes), level, p);
                let text = format!("{mount} has used {p:.1}% of its inodes");
                note(level, text, Kind::Capacity, by);
            }
            let level = [space, inodes]
                .iter()
                .flatten()
                .map(|(_, l)| *l)
                .max()
                .unwrap_or(Level::Ok);
            disk.insert("level".into(), json!(level));
            levels.push(level);
        }
    }
    // The admin wrote each check to say whether something they care about works.
    if let Some(checks) = ctx.0.get_mut("checks").and_then(Value::as_array_mut) {
        for check in checks.iter_mut().filter_map(Value::as_object_mut) {
            let ok = check.get("ok").and_then(Value::as_bool) == Some(true);
            let level = if ok { Level::Ok } else { Level::Critical };
            let text = |key: &str| check.get(key).and_then(Value::as_str).unwrap_or_default();
            let said = format!("check {} failed: {}", text("name"), text("detail"));
            note(level, said, Kind::Check, 0.0);
            check.insert("level".into(), json!(level));
            levels.push(level);
        }
    }
    // A collector that failed may hide the very thing that needs attention.
    if let Some(errors) = ctx.0.get("errors").and_then(Value::as_array) {
        for e in errors {
            let collector = e
                .get("collector")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
            note(
                Level::Warning,
                format!("{collector}: {message}"),
                Kind::Collector,
                0.0,
            );
            levels.push(Level::Warning);
        }
    }
    // Worst first; within a level by kind, then furthest past its threshold; equal
    // ones (checks, errors) keep the order of the config and the report.
    found.sort_by(|a, b| {
        (b.level, a.kind)
            .cmp(&(a.level, b.kind))
            .then(b.excess.total_cmp(&a.excess))
    });
    let status = levels.into_iter().max().unwrap_or(Level::Ok);
    ctx.0.insert("status".into(), json!(status));
    ctx.0.insert("attention".into(), json!(found));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(value: Value) -> Context {
        let Value::Object(map) = value else { panic!() };
        Context(map)
    }

    #[track_caller]
    fn check(input: Value, t: &Thresholds, status: &str, attention: &[&str]) {
        let mut c = ctx(input);
        assess(&mut c, t);
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
        let mut c = ctx(input);
        assess(&mut c, &t);
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
        let mut c = ctx(input);
        assess(&mut c, &Thresholds::default());
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
}
