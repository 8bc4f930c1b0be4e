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
use rusqlite::{params, Connection, OptionalExtension};

/// The schema this code writes; older ones are migrated on open.
pub const SCHEMA_VERSION: u32 = 1;

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
                    path.with_extension(format!("sqlite.corrupt-{}", now.format("%Y%m%dT%H%M%SZ")));
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
        tx.execute(
            "INSERT INTO samples (t) VALUES (?1)",
            params![sample.at.timestamp()],
        )
        .map_err(fail)?;
        let id = tx.last_insert_rowid();
        for (name, value) in &sample.values {
            tx.execute(
                "INSERT OR IGNORE INTO series (name) VALUES (?1)",
                params![name],
            )
            .map_err(fail)?;
            tx.execute(
                "INSERT INTO points (sample, series, value)
                 SELECT ?1, id, ?3 FROM series WHERE name = ?2",
                params![id, name, value],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    /// Forgets every sample before `before`; returns how many went. (Downsampling
    /// older samples, rather than only dropping them, is still to come.)
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

fn error(path: &Path, message: String) -> StoreError {
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
}
