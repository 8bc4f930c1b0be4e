//! The report period as the history saw it, in the template context: a top-level
//! `period` {from, to, samples}, and a `period` inside each metric's own object
//! (`cpu.period`, `disks[i].period`, …) with the figures of its series; each
//! filesystem's `forecast`. Without history every one of them is null, so a template
//! can say "no history yet" where it would show them.

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Map, Value};

use super::day::{Day, Window};
use super::forecast::Forecast;
use super::stats::Stats;
use super::store::CORRUPT_STAMP;
use crate::collect::Readings;
use crate::config::HistorySettings;
use crate::context::{CollectorFailure, Context};
use crate::zone::Zone;

/// Points in each series' `line`: a text sparkline's width.
const SPARK: usize = 40;

/// What the history adds to one report.
pub struct Period {
    /// None: no history (no database, or no sample in the period).
    pub day: Option<Day>,
    /// One per filesystem in the readings, in their order.
    pub forecasts: Vec<Option<Forecast>>,
    /// Why the history could not be read, for `errors`.
    pub problem: Option<CollectorFailure>,
    /// Forecasts under these many days are a warning, a critical.
    pub warning_days: u64,
    pub critical_days: u64,
    zone: Zone,
}

impl Period {
    /// The history in `database` over the period that ends `now` and began at the
    /// previous report (`since`; the last 24 h when there was none).
    pub fn load(
        database: &Path,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        readings: &Readings,
        settings: &HistorySettings,
        zone: &Zone,
    ) -> Period {
        let from = since
            .filter(|s| *s < now)
            .unwrap_or(now - TimeDelta::days(1));
        let window = Window {
            from,
            to: now,
            trend_from: now - TimeDelta::days(settings.forecast_days as i64),
        };
        let mut period = Period::none(zone);
        period.warning_days = settings.forecast_warning_days;
        period.critical_days = settings.forecast_critical_days;
        let problem = match Day::read(database, window) {
            Ok(day) => {
                period.day = day;
                moved_aside_since(database, from).map(|(aside, at)| {
                    format!(
                        "{} could not be read; it was moved to {} at {} and a new history started",
                        database.display(),
                        aside,
                        period.time(at)
                    )
                })
            }
            Err(e) => Some(format!("{e}; this report has no period statistics")),
        };
        period.problem = problem.map(|message| CollectorFailure {
            collector: "history".into(),
            message,
        });
        let min_span = TimeDelta::from_std(settings.forecast_min_span).unwrap_or(TimeDelta::MAX);
        period.forecasts = (readings.disks.iter().flatten().flatten())
            .map(|disk| {
                let trend = period.day.as_ref()?.trends.get(&disk.mount)?;
                let capacity = disk.used.saturating_add(disk.free);
                trend.forecast(disk.used, capacity, now, min_span, |t| period.time(t))
            })
            .collect();
        period
    }

    /// No history: every period and forecast null (`--once` without a state
    /// directory, or a daemon that has not sampled yet).
    pub fn none(zone: &Zone) -> Period {
        Period {
            day: None,
            forecasts: Vec::new(),
            problem: None,
            warning_days: 0,
            critical_days: 0,
            zone: zone.clone(),
        }
    }

    /// An instant as the report writes times: RFC 3339 in the configured zone.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        self.zone.rfc3339(t)
    }

    /// The figures of one series over the period.
    pub fn stats(&self, series: &str) -> Option<Stats> {
        let figures = self.day.as_ref()?.figures(series)?;
        figures.stats(|t| self.time(t))
    }

    /// A series' figures and its line in `SPARK` points, as the context holds them;
    /// null without history.
    fn figures(&self, series: &str) -> Value {
        let line = self.day.as_ref().and_then(|d| d.series.get(series));
        self.with(json!(self.stats(series)), |p| {
            let coarse = line.map(|l| l.coarse(SPARK)).unwrap_or_default();
            p.insert("line".into(), json!(coarse));
        })
    }

    /// Puts the period into `ctx`: see the module's comment.
    pub fn write(&self, ctx: &mut Context) {
        let top = self.day.as_ref().map(|d| {
            json!({
                "from": self.time(d.window.from),
                "to": self.time(d.window.to),
                "samples": d.samples,
            })
        });
        ctx.put("period", top);
        if let (Some(problem), Some(Value::Array(errors))) =
            (&self.problem, ctx.0.get_mut("errors"))
        {
            errors.push(json!(problem));
        }
        let stats = |series: &str| self.figures(series);
        if let Some(cpu) = object(ctx, "cpu") {
            cpu.insert(
                "period".into(),
                self.with(stats("cpu.busy"), |p| {
                    p.insert("iowait".into(), stats("cpu.iowait"));
                    p.insert("steal".into(), stats("cpu.steal"));
                }),
            );
        }
        if let Some(memory) = object(ctx, "memory") {
            memory.insert("period".into(), stats("memory.used_percent"));
            memory.insert("swap_period".into(), stats("swap.used_percent"));
        }
        if let Some(load) = object(ctx, "load") {
            load.insert("period".into(), stats("load.1"));
        }
        if let Some(processes) = object(ctx, "processes") {
            processes.insert("period".into(), stats("processes"));
        }
        self.write_disks(ctx);
        self.write_rows(ctx, "network", "interfaces", "net", &["rx", "tx"]);
        self.write_rows(
            ctx,
            "diskio",
            "devices",
            "disk",
            &["read", "written", "busy"],
        );
    }

    /// `value` (null without history) with more keys set by `more`.
    fn with(&self, value: Value, more: impl FnOnce(&mut Map<String, Value>)) -> Value {
        match value {
            Value::Object(mut map) => {
                more(&mut map);
                Value::Object(map)
            }
            other => other,
        }
    }

    fn write_disks(&self, ctx: &mut Context) {
        let Some(Value::Array(disks)) = ctx.0.get_mut("disks") else {
            return;
        };
        for (i, disk) in disks.iter_mut().enumerate() {
            let Some(disk) = disk.as_object_mut() else {
                continue;
            };
            let mount = disk.get("mount").and_then(Value::as_str).unwrap_or("");
            let percent = self.figures(&format!("fs:{mount}.used_percent"));
            let bytes = self.figures(&format!("fs:{mount}.used_bytes"));
            let period = self.with(percent, |p| {
                p.insert("used_bytes".into(), bytes);
            });
            disk.insert("period".into(), period);
            let forecast = self.forecasts.get(i).cloned().flatten();
            disk.insert("forecast".into(), json!(forecast));
        }
    }

    /// `period` {rx: …, tx: …} in each row of `ctx[key][rows]`, from the series
    /// `<kind>:<row name>.<what>…`.
    fn write_rows(&self, ctx: &mut Context, key: &str, rows: &str, kind: &str, what: &[&str]) {
        let Some(Value::Array(rows)) = object(ctx, key).and_then(|o| o.get_mut(rows)) else {
            return;
        };
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            let name = row.get("name").and_then(Value::as_str).unwrap_or("");
            let period = self.day.as_ref().map(|_| {
                let each = what.iter().map(|w| {
                    let series = format!("{kind}:{name}.{}", series_suffix(w));
                    (w.to_string(), self.figures(&series))
                });
                Value::Object(each.collect())
            });
            row.insert("period".into(), json!(period));
        }
    }

    /// The period's average CPU busy %, which the CPU's level is judged on.
    pub fn cpu_average(&self) -> Option<f64> {
        self.stats("cpu.busy").map(|s| s.avg)
    }
}

/// A database moved aside (`Store::open`) since `since`: its name and when.
fn moved_aside_since(database: &Path, since: DateTime<Utc>) -> Option<(String, DateTime<Utc>)> {
    let dir = database.parent()?;
    let prefix = format!("{}.corrupt-", database.file_name()?.to_string_lossy());
    let newest = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stamp = name.strip_prefix(&prefix)?;
            let at = chrono::NaiveDateTime::parse_from_str(stamp, CORRUPT_STAMP).ok()?;
            Some((name, at.and_utc()))
        })
        .filter(|(_, at)| *at >= since)
        .max_by_key(|(_, at)| *at)?;
    Some((dir.join(newest.0).display().to_string(), newest.1))
}

/// The series a row's figure comes from: `rx` is `rx_bytes_per_s`.
fn series_suffix(what: &str) -> &'static str {
    match what {
        "rx" => "rx_bytes_per_s",
        "tx" => "tx_bytes_per_s",
        "read" => "read_bytes_per_s",
        "written" => "written_bytes_per_s",
        _ => "busy_percent",
    }
}

fn object<'a>(ctx: &'a mut Context, key: &str) -> Option<&'a mut Map<String, Value>> {
    ctx.0.get_mut(key).and_then(Value::as_object_mut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::disk::Disk;
    use crate::history::store::{Sample, Store};

    const GB: f64 = 1e9;

    fn ts(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_794_999_600 + minute * 60, 0).unwrap()
    }

    fn settings() -> HistorySettings {
        HistorySettings {
            sample_interval: std::time::Duration::from_secs(60),
            days: 35,
            forecast_days: 7,
            forecast_min_span: std::time::Duration::from_secs(3600),
            forecast_warning_days: 14,
            forecast_critical_days: 3,
        }
    }

    fn readings() -> Readings {
        let disk = Disk {
            mount: "/var".into(),
            used: (50.0 * GB) as u64,
            free: (50.0 * GB) as u64,
            ..Default::default()
        };
        Readings {
            disks: Some(Some(vec![disk])),
            ..Default::default()
        }
    }

    /// A day of minutes from 11:00: CPU 10 % but 90 % at 14:12, /var growing 2 GB a day.
    fn history(path: &Path) {
        let (mut store, _) = Store::open(path, ts(0)).unwrap();
        for m in 0..=24 * 60 {
            let cpu = if m == 3 * 60 + 12 { 90.0 } else { 10.0 };
            let used = 48.0 * GB + 2.0 * GB * m as f64 / (24.0 * 60.0);
            let values = [
                ("cpu.busy".to_string(), cpu),
                ("fs:/var.used_bytes".to_string(), used),
                (
                    "fs:/var.used_percent".to_string(),
                    used / (100.0 * GB) * 100.0,
                ),
            ];
            store
                .add(&Sample {
                    at: ts(m),
                    values: values.into(),
                })
                .unwrap();
        }
    }

    fn context(period: &Period) -> Context {
        let mut ctx = readings().context();
        ctx.put("cpu", json!({"percent": 3.0}));
        period.write(&mut ctx);
        ctx
    }

    #[test]
    fn the_period_figures_and_forecast_land_in_their_objects() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        history(&path);
        let zone = Zone::utc();
        let since = Some(ts(60));
        let period = Period::load(&path, since, ts(24 * 60), &readings(), &settings(), &zone);
        let ctx = context(&period);
        assert_eq!(ctx.0["period"]["samples"], 23 * 60 + 1);
        assert_eq!(ctx.0["period"]["from"], "2026-11-18T12:00:00+00:00");
        let cpu = &ctx.0["cpu"]["period"];
        assert_eq!(
            (cpu["max"].as_f64(), cpu["max_at"].as_str()),
            (Some(90.0), Some("2026-11-18T14:12:00+00:00"))
        );
        assert_eq!(cpu["samples"], 23 * 60 + 1);
        let avg = cpu["avg"].as_f64().unwrap();
        assert!((avg - (10.0 + 80.0 / 1381.0)).abs() < 1e-9, "{avg}");
        let disk = &ctx.0["disks"][0];
        assert_eq!(
            disk["period"]["used_bytes"]["last"].as_f64(),
            Some(50.0 * GB)
        );
        // 50 GB left at 2 GB a day.
        let f = &disk["forecast"];
        assert!(
            (f["days_left"].as_f64().unwrap() - 25.0).abs() < 0.01,
            "{f}"
        );
        assert!(
            (f["bytes_per_day"].as_f64().unwrap() - 2.0 * GB).abs() < 1e3,
            "{f}"
        );
        assert_eq!(f["full_at"], "2026-12-14T11:00:00+00:00");
        assert!(period.problem.is_none());
    }

    #[test]
    fn without_history_every_period_is_null() {
        let dir = tempfile::tempdir().unwrap();
        let zone = Zone::utc();
        let path = dir.path().join("history.sqlite");
        let period = Period::load(&path, None, ts(0), &readings(), &settings(), &zone);
        let ctx = context(&period);
        assert_eq!(ctx.0["period"], Value::Null);
        assert_eq!(ctx.0["cpu"]["period"], Value::Null);
        assert_eq!(ctx.0["disks"][0]["period"], Value::Null);
        assert_eq!(ctx.0["disks"][0]["forecast"], Value::Null);
        assert!(!path.exists(), "a report never creates the history");
    }

    #[test]
    fn a_database_moved_aside_in_the_period_is_an_error_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        std::fs::write(&path, b"not a database, and long enough to be read as one").unwrap();
        let (store, moved) = Store::open(&path, ts(30)).unwrap();
        drop(store);
        assert!(moved.is_some());
        let zone = Zone::utc();
        let period = Period::load(&path, Some(ts(0)), ts(60), &readings(), &settings(), &zone);
        let problem = period.problem.as_ref().expect("an errors entry");
        assert!(
            problem
                .message
                .contains("could not be read; it was moved to"),
            "{}",
            problem.message
        );
        let ctx = context(&period);
        assert_eq!(ctx.0["errors"][0]["collector"], "history");
        // The next report's period starts after the move: nothing to say any more.
        let later = Period::load(&path, Some(ts(31)), ts(90), &readings(), &settings(), &zone);
        assert!(later.problem.is_none());
    }
}
