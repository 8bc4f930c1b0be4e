//! What one report reads from the history: each series' figures over the report
//! period, a line of it for the charts (a fixed number of buckets, whatever the
//! sample interval), and each filesystem's trend over the forecast window.
//!
//! Read-only and streamed: the database is opened with SQLITE_OPEN_READ_ONLY (a
//! report never writes the history, and `--export` shares this), and rows are folded
//! into constant-size accumulators as they come, never collected.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::forecast::Trend;
use super::stats::Accumulator;
use super::store::{error, open_read_only, StoreError};

/// Points across a chart: 600 px wide, so one bucket per 3 px.
pub const BUCKETS: usize = 200;

/// The stretch of history one report describes.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// The previous report (the last 24 h for the first).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Where the filesystems' trends start (`forecast_days` before `to`).
    pub trend_from: DateTime<Utc>,
}

/// One series over the period: its figures and its line.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub figures: Accumulator,
    /// Mean of each bucket's points; None where the daemon did not sample. In f32:
    /// a chart is 170 px high, and a day of 80 series is then 128 KB, not 256.
    pub line: Vec<Option<f32>>,
    sums: Vec<(f32, u32)>,
}

impl Series {
    fn add(&mut self, bucket: usize, t: i64, value: f64) {
        self.figures.add(t, value);
        if self.sums.is_empty() {
            self.sums = vec![(0.0, 0); BUCKETS];
        }
        if let Some((sum, n)) = self.sums.get_mut(bucket) {
            *sum += value as f32;
            *n += 1;
        }
    }

    /// The line in `n` wider buckets (a text sparkline's characters).
    pub fn coarse(&self, n: usize) -> Vec<Option<f64>> {
        let per = self.line.len().div_ceil(n.max(1)).max(1);
        self.line
            .chunks(per)
            .map(|chunk| {
                let points: Vec<f64> = chunk.iter().flatten().map(|v| *v as f64).collect();
                (!points.is_empty()).then(|| points.iter().sum::<f64>() / points.len() as f64)
            })
            .collect()
    }

    fn finish(&mut self) {
        self.line = std::mem::take(&mut self.sums)
            .into_iter()
            .map(|(sum, n)| (n > 0).then(|| sum / n as f32))
            .collect();
    }
}

/// What the history says about one report's period.
#[derive(Debug, Clone)]
pub struct Day {
    pub window: Window,
    /// Samples taken in the period.
    pub samples: u64,
    /// Every series with a point in the period, by name (`cpu.busy`, …).
    pub series: BTreeMap<String, Series>,
    /// Used bytes of each filesystem over the trend window, by mount point.
    pub trends: BTreeMap<String, Trend>,
}

impl Day {
    /// The history over `window`, from the database at `path`; None when there is no
    /// database yet or no sample in the period (the daemon has not sampled).
    pub fn read(path: &Path, window: Window) -> Result<Option<Day>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let fail = |e: rusqlite::Error| error(path, e.to_string());
        let conn = open_read_only(path)?;
        let names = series_names(&conn).map_err(fail)?;
        let samples: i64 = conn
            .query_row(
                "SELECT count(*) FROM samples WHERE t >= ?1 AND t <= ?2",
                params![window.from.timestamp(), window.to.timestamp()],
                |r| r.get(0),
            )
            .map_err(fail)?;
        if samples <= 0 {
            return Ok(None);
        }
        let mut day = Day {
            window,
            samples: samples as u64,
            series: BTreeMap::new(),
            trends: BTreeMap::new(),
        };
        day.read_period(&conn, &names).map_err(fail)?;
        day.read_trends(&conn, &names).map_err(fail)?;
        Ok(Some(day))
    }

    fn read_period(
        &mut self,
        conn: &Connection,
        names: &BTreeMap<i64, String>,
    ) -> rusqlite::Result<()> {
        let (from, to) = (self.window.from.timestamp(), self.window.to.timestamp());
        let width = (to - from).max(1) as f64;
        let mut by_id: BTreeMap<i64, Series> = BTreeMap::new();
        let mut query = conn.prepare(
            "SELECT s.t, p.series, p.value FROM samples s JOIN points p ON p.sample = s.id
             WHERE s.t >= ?1 AND s.t <= ?2 ORDER BY s.t, s.id",
        )?;
        let mut rows = query.query(params![from, to])?;
        while let Some(row) = rows.next()? {
            let (t, id, value): (i64, i64, f64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let bucket = (((t - from) as f64 / width) * BUCKETS as f64) as usize;
            let bucket = bucket.min(BUCKETS - 1);
            by_id.entry(id).or_default().add(bucket, t, value);
        }
        for (id, mut series) in by_id {
            if let Some(name) = names.get(&id) {
                series.finish();
                self.series.insert(name.clone(), series);
            }
        }
        Ok(())
    }

    fn read_trends(
        &mut self,
        conn: &Connection,
        names: &BTreeMap<i64, String>,
    ) -> rusqlite::Result<()> {
        let (from, to) = (self.window.trend_from, self.window.to);
        let mounts: BTreeMap<i64, &str> = names
            .iter()
            .filter_map(|(id, name)| Some((*id, used_bytes_of(name)?)))
            .collect();
        let mut query = conn.prepare(
            "SELECT s.t, p.series, p.value FROM samples s JOIN points p ON p.sample = s.id
             WHERE s.t >= ?1 AND s.t <= ?2
               AND p.series IN (SELECT id FROM series WHERE name GLOB 'fs:*.used_bytes')
             ORDER BY s.t, s.id",
        )?;
        let mut rows = query.query(params![from.timestamp(), to.timestamp()])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(1)?;
            if let Some(mount) = mounts.get(&id) {
                let trend = self
                    .trends
                    .entry(mount.to_string())
                    .or_insert_with(|| Trend::new(from, to));
                trend.add(row.get(0)?, row.get(2)?);
            }
        }
        Ok(())
    }

    /// The figures of one series, if it has any in the period.
    pub fn figures(&self, name: &str) -> Option<&Accumulator> {
        self.series.get(name).map(|s| &s.figures)
    }
}

/// The mount point of a `fs:<mount>.used_bytes` series.
fn used_bytes_of(name: &str) -> Option<&str> {
    name.strip_prefix("fs:")?.strip_suffix(".used_bytes")
}

fn series_names(conn: &Connection) -> rusqlite::Result<BTreeMap<i64, String>> {
    let mut query = conn.prepare("SELECT id, name FROM series")?;
    let rows = query.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
