//! `--export`: the history as rows, one per sample, oldest first — CSV with a `time`
//! column then one column per series (as `dstat --output` writes), or the same rows
//! as JSON lines. Read-only (it shares the report's read-only connection, so it runs
//! beside the daemon without its lock) and streamed: a month of samples is never in
//! memory at once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde_json::json;

use super::store::{error, open_read_only, StoreError};
use crate::zone::Zone;

/// The shape of the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Csv,
    JsonLines,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(
        "no history at {0}: the daemon keeps it while it runs (sample_interval_secs in [history])"
    )]
    Missing(String),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// What to export: samples from `since`, and the series chosen by `series` (each
/// entry a series' name or the start of names: `cpu` is `cpu.busy`, `cpu.iowait`…;
/// `fs:/var` is `fs:/var.used_bytes`…); empty means every series.
pub struct Request<'a> {
    pub since: DateTime<Utc>,
    pub series: &'a [String],
    pub shape: Shape,
    pub zone: &'a Zone,
}

/// Writes the rows to `out`; returns how many samples were written.
pub fn export(database: &Path, request: &Request, out: &mut dyn Write) -> Result<u64, ExportError> {
    if !database.exists() {
        return Err(ExportError::Missing(database.display().to_string()));
    }
    let fail = |e: rusqlite::Error| error(database, e.to_string());
    let conn = open_read_only(database)?;
    let since = request.since.timestamp();
    let columns = columns(&conn, since, request.series).map_err(fail)?;
    let index: BTreeMap<i64, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let names: Vec<&str> = columns.iter().map(|(_, n)| n.as_str()).collect();
    let mut rows = Rows {
        out,
        shape: request.shape,
        names: &names,
        zone: request.zone,
        written: 0,
    };
    rows.header()?;
    let mut query = conn
        .prepare(
            "SELECT s.id, s.t, p.series, p.value FROM samples s JOIN points p ON p.sample = s.id
             WHERE s.t >= ?1 ORDER BY s.t, s.id",
        )
        .map_err(fail)?;
    let mut result = query.query(params![since]).map_err(fail)?;
    let mut current: Option<(i64, i64)> = None;
    let mut values: Vec<Option<f64>> = vec![None; names.len()];
    while let Some(row) = result.next().map_err(fail)? {
        let (id, t, series, value): (i64, i64, i64, f64) = (
            row.get(0).map_err(fail)?,
            row.get(1).map_err(fail)?,
            row.get(2).map_err(fail)?,
            row.get(3).map_err(fail)?,
        );
        if current.is_some_and(|(c, _)| c != id) {
            rows.row(current.map_or(0, |(_, t)| t), &mut values)?;
        }
        current = Some((id, t));
        if let Some(&i) = index.get(&series) {
            values[i] = Some(value);
        }
    }
    if let Some((_, t)) = current {
        rows.row(t, &mut values)?;
    }
    Ok(rows.written)
}

/// The series with points since `since` that were asked for, by name: the columns.
fn columns(
    conn: &rusqlite::Connection,
    since: i64,
    wanted: &[String],
) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut query = conn.prepare(
        "SELECT id, name FROM series WHERE id IN (SELECT DISTINCT p.series FROM points p
         JOIN samples s ON s.id = p.sample WHERE s.t >= ?1) ORDER BY name",
    )?;
    let rows = query.query_map(params![since], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?;
    let all: Vec<(i64, String)> = rows.collect::<Result<_, _>>()?;
    Ok(all
        .into_iter()
        .filter(|(_, name)| chosen(name, wanted))
        .collect())
}

/// Whether `name` is one of the series asked for.
fn chosen(name: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            name == w
                || name
                    .strip_prefix(w.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with(':'))
        })
}

/// The writer of one export's rows.
struct Rows<'a> {
    out: &'a mut dyn Write,
    shape: Shape,
    names: &'a [&'a str],
    zone: &'a Zone,
    written: u64,
}

impl Rows<'_> {
    fn header(&mut self) -> std::io::Result<()> {
        if self.shape == Shape::Csv {
            let header: Vec<String> = std::iter::once("time")
                .chain(self.names.iter().copied())
                .map(csv_field)
                .collect();
            writeln!(self.out, "{}", header.join(","))?;
        }
        Ok(())
    }

    /// One sample's row; empties `values` for the next.
    fn row(&mut self, t: i64, values: &mut [Option<f64>]) -> std::io::Result<()> {
        let time = self
            .zone
            .rfc3339(DateTime::from_timestamp(t, 0).unwrap_or_default());
        match self.shape {
            Shape::Csv => {
                let cells = values
                    .iter()
                    .map(|v| v.map_or(String::new(), |v| v.to_string()));
                let line: Vec<String> = std::iter::once(time).chain(cells).collect();
                writeln!(self.out, "{}", line.join(","))?;
            }
            Shape::JsonLines => {
                // By hand, so that `time` comes first as in the CSV.
                let mut line = format!("{{\"time\":{}", json!(time));
                for (name, v) in self.names.iter().zip(values.iter()) {
                    if let Some(v) = v {
                        line.push_str(&format!(",{}:{}", json!(name), json!(v)));
                    }
                }
                writeln!(self.out, "{line}}}")?;
            }
        }
        values.iter_mut().for_each(|v| *v = None);
        self.written += 1;
        Ok(())
    }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break,
/// as a mount point may.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_chosen_by_its_name_or_the_start_of_it() {
        let wanted = ["cpu".to_string(), "fs:/var".to_string(), "net".to_string()];
        for (name, expected) in [
            ("cpu.busy", true),
            ("cpuset.x", false),
            ("fs:/var.used_bytes", true),
            ("fs:/var/lib.used_bytes", false),
            ("net:eth0.rx_bytes_per_s", true),
            ("memory.used_percent", false),
        ] {
            assert_eq!(chosen(name, &wanted), expected, "{name}");
        }
        assert!(chosen("anything", &[]));
    }

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(csv_field("fs:/a,b.used_bytes"), "\"fs:/a,b.used_bytes\"");
        assert_eq!(
            csv_field("fs:/\"q\".used_bytes"),
            "\"fs:/\"\"q\"\".used_bytes\""
        );
        assert_eq!(csv_field("cpu.busy"), "cpu.busy");
    }
}
