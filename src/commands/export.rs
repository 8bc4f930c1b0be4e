//! `--export csv|json`: the sample history on standard output, read-only.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::{state_dir, RunError};
use crate::cli::ExportFormat;
use crate::config::{parse_duration, Config};
use crate::history::export::{self, ExportError, Request, Shape};

pub(super) fn run(
    config: &Config,
    format: ExportFormat,
    since: &str,
    series: Option<&str>,
) -> Result<(), RunError> {
    let since = parse_since(since, Utc::now())?;
    let series: Vec<String> = series
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let shape = match format {
        ExportFormat::Csv => Shape::Csv,
        ExportFormat::Json => Shape::JsonLines,
    };
    let request = Request {
        since,
        series: &series,
        shape,
        zone: &config.timezone,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let database = state_dir(config).history();
    let written =
        export::export(&database, &request, &mut out).and_then(|n| Ok(out.flush().map(|_| n)?));
    match written {
        Ok(_) => Ok(()),
        // `rreport --export csv | head` is done when head is.
        Err(ExportError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::anyhow!(e).into()),
    }
}

/// "24h" (that long before `now`) or an RFC 3339 time.
fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, RunError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    parse_duration(text)
        .and_then(|d| chrono::TimeDelta::from_std(d).ok())
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| {
            anyhow::anyhow!("--since {text:?} is neither a duration (\"24h\", \"7d\") nor an RFC 3339 time (\"2026-11-24T08:00:00+01:00\")").into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_duration_back_or_a_time() {
        let now: DateTime<Utc> = "2026-11-24T08:00:00Z".parse().unwrap();
        let at = |s: &str| {
            parse_since(s, now)
                .map(|t| t.to_rfc3339())
                .map_err(|e| e.to_string())
        };
        assert_eq!(at("24h"), Ok("2026-11-23T08:00:00+00:00".into()));
        assert_eq!(
            at("2026-11-20T09:00:00+01:00"),
            Ok("2026-11-20T08:00:00+00:00".into())
        );
        assert!(at("yesterday").unwrap_err().contains("neither a duration"));
    }
}
