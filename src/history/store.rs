//! The sample history on disk: SQLite at `<state_dir>/history.sqlite`, in WAL mode so
//! `sqlite3` and `--export` can read while the daemon writes. A compatibility
//! boundary: the schema has a version (`meta.schema_version`) and migrations.
//!
//! ```sql
//! samples(id INTEGER PRIMARY KEY, t INTEGER NOT NULL)            -- Unix seconds
//! series(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)        -- "cpu.busy", "fs:/var.used_bytes"
//! points(sample INTEGER, series INTEGER, value REAL, PRIMARY KEY(sample, series))
//! ```
//!
//! A database that cannot be opened or read is moved aside and a new one started:
//! history must never block or lose a report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

/// The schema this code writes; older ones are migrated on open.
pub const SCHEMA_VERSION: u32 = 1;
/// The time in the name of a database moved aside: `history.sqlite.corrupt-<stamp>`.
pub const CORRUPT_STAMP: &str = "%Y%m%dT%H%M%SZ";
/// (older than this many days, averaged into buckets of this many seconds): a
/// month of minutes is 43,000 samples; this keeps about 7,000.
const DOWNSAMPLING: [(i64, i64); 2] = [(2, 300), (14, 3600)];

/// One sample: when, and a value per series.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub values: BTreeMap<String, f64>,
}

/// Why the history could not be used; the report says so and goes out regardless.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StoreError {
    pub path: String,
    pub message: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Each series' id, as it was stored: a sample's points then cost one statement
    /// each, not three (the budget is a millisecond a sample).
    series: BTreeMap<String, i64>,
}

impl Store {
    /// Opens (creating, or migrating) the database at `path`. One that is corrupt is
    /// moved aside to `<path>.corrupt-<time>` and a new one started; the move is
    /// returned so the report can say so.
    pub fn open(path: &Path, now: DateTime<Utc>) -> Result<(Store, Option<PathBuf>), StoreError> {
        match Store::open_as_is(path) {
            Ok(store) => Ok((store, None)),
            Err(first) if path.exists() => {
                let aside =
                    path.with_extension(format!("sqlite.corrupt-{}", now.format(CORRUPT_STAMP)));
                std::fs::rename(path, &aside)
                    .map_err(|e| error(path, format!("{first}; cannot move it aside: {e}")))?;
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                tracing::error!(
                    "{first}; moved it to {} and started a new history",
                    aside.display()
                );
                Ok((Store::open_as_is(path)?, Some(aside)))
            }
            Err(e) => Err(e),
        }
    }

    fn open_as_is(path: &Path) -> Result<Store, StoreError> {
        let fail = |e: rusqlite::Error| error(path, e.to_string());
        let conn = Connection::open(path).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // A writer of one sample a minute needs no 2 MB page cache: this bounds what
        // days of reads could grow it to (the daemon's memory budget is 8 MB in all).
        conn.pragma_update(None, "cache_size", -256).map_err(fail)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            series: BTreeMap::new(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let fail = |e: rusqlite::Error| error(&self.path, e.to_string());
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
            )
            .map_err(fail)?;
        let version: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(fail)?;
        match version.as_deref().map(str::parse::<u32>) {
            None => {
                self.conn
                    .execute_batch(
                        "BEGIN;
                         CREATE TABLE samples (id INTEGER PRIMARY KEY, t INTEGER NOT NULL);
                         CREATE INDEX samples_t ON samples (t);
                         CREATE TABLE series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                         CREATE TABLE points (sample INTEGER NOT NULL, series INTEGER NOT NULL,
                             value REAL NOT NULL, PRIMARY KEY (sample, series)) WITHOUT ROWID;
                         INSERT INTO meta (key, value) VALUES ('schema_version', '1');
                         COMMIT;",
                    )
                    .map_err(fail)?;
                Ok(())
            }
            Some(Ok(SCHEMA_VERSION)) => Ok(()),
            Some(Ok(v)) => Err(error(&self.path, format!("schema version {v} is newer than {SCHEMA_VERSION}; is an older rreport running?"))),
            Some(Err(_)) => Err(error(&self.path, "schema version is not a number".into())),
        }
    }

    /// Adds one sample, in one transaction.
    pub fn add(&mut self, sample: &Sample) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| error(&path, e.to_string());
        let tx = self.conn.transaction().map_err(fail)?;
        tx.prepare_cached("INSERT INTO samples (t) VALUES (?1)")
            .and_then(|mut s| s.execute(params![sample.at.timestamp()]))
            .map_err(fail)?;
        let id = tx.last_insert_rowid();
        let mut new = Vec::new();
        {
            let mut point = tx
                .prepare_cached("INSERT INTO points (sample, series, value) VALUES (?1, ?2, ?3)")
                .map_err(fail)?;
            // SQLite keeps a NaN as NULL, which no reader expects: a value that is not
            // a number (a reader's 0/0) is no point.
            for (name, value) in sample.values.iter().filter(|(_, v)| v.is_finite()) {
                let series = match self.series.get(name) {
                    Some(series) => *series,
                    None => {
                        let series = series_id(&tx, name).map_err(fail)?;
                        new.push((name.clone(), series));
                        series
                    }
                };
                point.execute(params![id, series, value]).map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        // Only once committed: a rolled-back series has no id to remember.
        self.series.extend(new);
        Ok(())
    }

    /// Keeps the history's size bounded: samples older than `keep_days` go, those
    /// older than 14 days become hourly averages, those older than 2 days 5-minute
    /// averages. Idempotent (a bucket of one sample is left alone), so the daemon
    /// runs it hourly and after any downtime; one transaction per step.
    pub fn maintain(&mut self, now: DateTime<Utc>, keep_days: u64) -> Result<(), StoreError> {
        let days = |d: i64| now - chrono::TimeDelta::days(d);
        self.forget_before(days(keep_days as i64))?;
        for (older_than, seconds) in DOWNSAMPLING {
            self.downsample(days(older_than), seconds)?;
        }
        Ok(())
    }

    /// Forgets every sample before `before`; returns how many went.
    pub fn forget_before(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| error(&path, e.to_string());
        let tx = self.conn.transaction().map_err(fail)?;
        tx.execute(
            "DELETE FROM points WHERE sample IN (SELECT id FROM samples WHERE t < ?1)",
            params![before.timestamp()],
        )
        .map_err(fail)?;
        let gone = tx
            .execute(
                "DELETE FROM samples WHERE t < ?1",
                params![before.timestamp()],
            )
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(gone)
    }

    /// Replaces the samples before `before` in each `seconds`-long bucket that holds
    /// more than one by one sample at the bucket's start: each series' mean.
    fn downsample(&mut self, before: DateTime<Utc>, seconds: i64) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| error(&path, e.to_string());
        let tx = self.conn.transaction().map_err(fail)?;
        let buckets: Vec<i64> = {
            let mut query = tx
                .prepare(
                    "SELECT t / ?2 AS b FROM samples WHERE t < ?1 - ?1 % ?2
                     GROUP BY b HAVING count(*) > 1",
                )
                .map_err(fail)?;
            let rows = query
                .query_map(params![before.timestamp(), seconds], |r| r.get(0))
                .map_err(fail)?;
            rows.collect::<Result<_, _>>().map_err(fail)?
        };
        for bucket in buckets {
            let (from, to) = (bucket * seconds, (bucket + 1) * seconds);
            tx.execute("INSERT INTO samples (t) VALUES (?1)", params![from])
                .map_err(fail)?;
            let id = tx.last_insert_rowid();
            tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS merged (id INTEGER PRIMARY KEY); DELETE FROM merged;")
                .map_err(fail)?;
            tx.execute(
                "INSERT INTO merged SELECT id FROM samples WHERE t >= ?1 AND t < ?2 AND id != ?3",
                params![from, to, id],
            )
            .map_err(fail)?;
            tx.execute_batch(&format!(
                "INSERT INTO points (sample, series, value)
                   SELECT {id}, series, avg(value) FROM points
                   WHERE sample IN (SELECT id FROM merged) GROUP BY series;
                 DELETE FROM points WHERE sample IN (SELECT id FROM merged);
                 DELETE FROM samples WHERE id IN (SELECT id FROM merged);"
            ))
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    /// Every sample at or after `since`, oldest first.
    pub fn since(&self, since: DateTime<Utc>) -> Result<Vec<Sample>, StoreError> {
        let fail = |e: rusqlite::Error| error(&self.path, e.to_string());
        let mut query = self
            .conn
            .prepare(
                "SELECT s.id, s.t, series.name, p.value FROM samples s
                 JOIN points p ON p.sample = s.id JOIN series ON series.id = p.series
                 WHERE s.t >= ?1 ORDER BY s.t, s.id",
            )
            .map_err(fail)?;
        let rows = query
            .query_map(params![since.timestamp()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, f64>(3)?,
                ))
            })
            .map_err(fail)?;
        let mut samples: Vec<(i64, Sample)> = Vec::new();
        for row in rows {
            let (id, t, name, value) = row.map_err(fail)?;
            if samples.last().is_none_or(|(last, _)| *last != id) {
                let at = DateTime::from_timestamp(t, 0).unwrap_or_default();
                samples.push((
                    id,
                    Sample {
                        at,
                        values: BTreeMap::new(),
                    },
                ));
            }
            if let Some((_, sample)) = samples.last_mut() {
                sample.values.insert(name, value);
            }
        }
        Ok(samples.into_iter().map(|(_, s)| s).collect())
    }
}

/// The id of the series `name`, added when it is new.
fn series_id(tx: &rusqlite::Transaction, name: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached("INSERT OR IGNORE INTO series (name) VALUES (?1)")?
        .execute(params![name])?;
    tx.prepare_cached("SELECT id FROM series WHERE name = ?1")?
        .query_row(params![name], |r| r.get(0))
}

/// The database opened for reading only: what a report and `--export` use, beside
/// the daemon's writer (WAL lets them), never creating or changing anything.
pub(super) fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let fail = |e: rusqlite::Error| error(path, e.to_string());
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.pragma_update(None, "cache_size", -256).map_err(fail)?;
    Ok(conn)
}

pub(super) fn error(path: &Path, message: String) -> StoreError {
    StoreError {
        path: path.display().to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + minute * 60, 0).unwrap()
    }

    fn sample(minute: i64, cpu: f64) -> Sample {
        Sample {
            at: at(minute),
            values: BTreeMap::from([
                ("cpu.busy".to_string(), cpu),
                ("fs:/var.used_percent".to_string(), 40.0),
            ]),
        }
    }

    #[test]
    fn samples_come_back_in_order_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        {
            let (mut store, moved) = Store::open(&path, at(0)).unwrap();
            assert_eq!(moved, None);
            for m in 0..3 {
                store.add(&sample(m, m as f64 * 10.0)).unwrap();
            }
        }
        let (store, _) = Store::open(&path, at(5)).unwrap();
        let back = store.since(at(1)).unwrap();
        assert_eq!(back, vec![sample(1, 10.0), sample(2, 20.0)]);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "readers while the daemon writes");
    }

    #[test]
    fn samples_older_than_the_retention_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("history.sqlite"), at(0)).unwrap();
        let day = 24 * 60;
        for d in 0..40 {
            store.add(&sample(d * day, d as f64)).unwrap();
        }
        // 35 days kept on day 39: days 4 to 39 remain.
        let gone = store
            .forget_before(at(39 * day) - chrono::TimeDelta::days(35))
            .unwrap();
        assert_eq!(gone, 4);
        let left = store.since(at(0)).unwrap();
        assert_eq!((left.len(), left[0].values["cpu.busy"]), (36, 4.0));
        let orphans: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM points WHERE sample NOT IN (SELECT id FROM samples)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
    }

    #[test]
    fn a_corrupt_database_is_moved_aside_and_a_new_one_started() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        std::fs::write(
            &path,
            b"this is not a database, but it is 32 bytes at least",
        )
        .unwrap();
        let (mut store, moved) = Store::open(&path, at(0)).unwrap();
        let moved = moved.expect("moved aside");
        assert!(
            moved.to_string_lossy().contains("history.sqlite.corrupt-"),
            "{}",
            moved.display()
        );
        assert_eq!(std::fs::read(&moved).unwrap()[..8], *b"this is ");
        store.add(&sample(0, 1.0)).unwrap();
        assert_eq!(store.since(at(0)).unwrap().len(), 1);
    }

    #[test]
    fn a_newer_schema_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '9');").unwrap();
        drop(conn);
        let err = Store::open_as_is(&path).err().unwrap();
        assert!(
            err.to_string().contains("schema version 9 is newer than 1"),
            "{err}"
        );
    }

    /// The daemon's routine over 40 simulated days: a sample every 2 minutes, the
    /// maintenance hourly. What is left: raw samples for 2 days, 5-minute averages to
    /// 14 days, hourly ones to 35, nothing older. A 5-minute average is the mean of
    /// its samples, an hourly one the mean of its twelve 5-minute averages.
    #[test]
    fn forty_days_are_kept_thinned_out_and_averages_are_means() {
        // On the hour, so buckets start at whole minutes of the test's clock.
        let base = 1_794_999_600;
        let at = |m: i64| DateTime::from_timestamp(base + m * 60, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("history.sqlite"), at(0)).unwrap();
        store
            .conn
            .pragma_update(None, "synchronous", "OFF")
            .unwrap();
        let end = 40 * 24 * 60;
        for m in (0..end).step_by(2) {
            // cpu.busy is the minute itself: every mean can be computed here.
            let values = BTreeMap::from([("cpu.busy".to_string(), m as f64)]);
            store.add(&Sample { at: at(m), values }).unwrap();
            if m % 60 == 0 {
                store.maintain(at(m), 35).unwrap();
            }
        }
        let now = at(end);
        store.maintain(now, 35).unwrap();
        let all = store.since(at(0)).unwrap();
        let age = |s: &Sample| (now - s.at).num_minutes();
        let count = |lo: i64, hi: i64| all.iter().filter(|s| (lo..hi).contains(&age(s))).count();
        let day = 24 * 60;
        assert!(
            all.iter().all(|s| age(s) <= 35 * day),
            "nothing past 35 days"
        );
        assert_eq!(count(1, 2 * day + 1), 1440, "raw: one per 2 minutes");
        assert_eq!(
            count(2 * day + 1, 14 * day + 1),
            12 * 288,
            "5-minute averages"
        );
        assert_eq!(
            count(14 * day + 1, 35 * day + 1),
            21 * 24,
            "hourly averages"
        );
        let even_minutes = |from: i64| (from..from + 5).filter(|m| m % 2 == 0);
        let mean5 =
            |from: i64| even_minutes(from).sum::<i64>() as f64 / even_minutes(from).count() as f64;
        for s in all.iter().filter(|s| age(s) > 2 * day) {
            let minute = (s.at - at(0)).num_minutes();
            let expected = match age(s) > 14 * day {
                true => (0..12).map(|i| mean5(minute + 5 * i)).sum::<f64>() / 12.0,
                false => mean5(minute),
            };
            assert_eq!(s.values["cpu.busy"], expected, "{:?}", s.at);
        }
    }
}
