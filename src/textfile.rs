//! The report's results for Prometheus, in the text exposition format, for
//! node_exporter's textfile collector to serve (`[export] textfile`): what only
//! rreport knows (its levels, checks, forecasts, the attention list, its outbox), so
//! that a fleet digest (`--digest`) and the admin's own alerts can read it.
//!
//! Written after each report, atomically (a hidden temp file renamed over the
//! target, which node_exporter requires: it must never read half a file), mode 0644
//! so node_exporter's user can read what rreport's dynamic user wrote. Every value
//! is taken from the report's context, the same numbers the mail shows.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::context::Context;

/// Attention items exported, with their text as a label: a digest shows them.
pub const ATTENTION_MAX: usize = 10;
/// Characters of an attention item's text kept in its label.
const TEXT_MAX: usize = 200;

/// What the report does not hold: its outbox now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outbox {
    pub queued: usize,
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write the textfile {path}: {error}{}", advice(.error))]
pub struct TextfileError {
    pub path: String,
    pub error: std::io::Error,
}

/// What to do about a refused write: the directory is where the admin's steps stop.
fn advice(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            " (the directory must be writable by rreport's group and in the unit's \
             ReadWritePaths=: see the README, \"Many hosts\")"
        }
        _ => "",
    }
}

/// The textfile of `[export]`, and how its last write went: a failure is an entry in
/// the next report's `errors`, not only a line in the journal.
#[derive(Debug)]
pub struct Export {
    path: std::path::PathBuf,
    failure: std::sync::Mutex<Option<String>>,
}

impl Export {
    pub fn new(path: std::path::PathBuf) -> Export {
        Export {
            path,
            failure: Default::default(),
        }
    }

    /// Writes one report's metrics.
    pub fn report(&self, ctx: &Context, outbox: Outbox, at: DateTime<Utc>) {
        self.wrote(write(&self.path, &render(ctx, outbox, at)));
    }

    /// Writes the last report's metrics again with the outbox's counts now, when they
    /// changed (see `again`).
    pub fn outbox(&self, outbox: Outbox) {
        if let Some(text) = again(&self.path, outbox) {
            self.wrote(write(&self.path, &text));
        }
    }

    /// Why the last write failed, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn wrote(&self, result: Result<(), TextfileError>) {
        let failure = result.err().map(|e| {
            tracing::error!("{e}");
            e.to_string()
        });
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = failure;
    }
}

/// The metrics of one report, in Prometheus' text format.
pub fn render(ctx: &Context, outbox: Outbox, at: DateTime<Utc>) -> String {
    with_outbox(&report(ctx, at), outbox)
}

/// The file at `path` with the outbox's counts replaced by `outbox`'s, when they
/// differ; None when they do not, or there is no file of ours to update (before the
/// first report).
pub fn again(path: &Path, outbox: Outbox) -> Option<String> {
    let bytes = crate::regular::read(path, 1 << 20, crate::regular::Links::Refuse).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let report: String = (text.lines())
        .filter(|l| !l.contains("rreport_outbox_messages"))
        .map(|l| format!("{l}\n"))
        .collect();
    let updated = with_outbox(&report, outbox);
    (report.starts_with("# HELP rreport_status") && updated != text).then_some(updated)
}

/// `report`'s text and the outbox's counts.
fn with_outbox(report: &str, outbox: Outbox) -> String {
    let mut out = Metrics {
        text: report.to_string(),
    };
    let name = "rreport_outbox_messages";
    out.family(name, "Messages in rreport's outbox, by state.");
    out.sample(name, &[("state", "queued")], outbox.queued as f64);
    out.sample(name, &[("state", "failed")], outbox.failed as f64);
    out.text
}

/// Every metric of the report but the outbox's.
fn report(ctx: &Context, at: DateTime<Utc>) -> String {
    let c = &ctx.0;
    let mut out = Metrics::default();
    out.family(
        "rreport_status",
        "The report's status: 0 ok, 1 careful, 2 warning, 3 critical.",
    );
    out.sample("rreport_status", &[], level(c.get("status")));
    out.family(
        "rreport_level",
        "Each judged item's level: 0 ok, 1 careful, 2 warning, 3 critical.",
    );
    for (item, value) in levels(c) {
        out.sample("rreport_level", &[("item", &item)], value);
    }
    attention(&mut out, c);
    checks(&mut out, c);
    forecasts(&mut out, c);
    maintenance(&mut out, c);
    out.family(
        "rreport_last_report_timestamp_seconds",
        "When the last report was made.",
    );
    let seconds = at.timestamp_millis() as f64 / 1000.0;
    out.sample("rreport_last_report_timestamp_seconds", &[], seconds);
    out.text
}

/// Replaces `path` with `text` atomically, readable by node_exporter.
pub fn write(path: &Path, text: &str) -> Result<(), TextfileError> {
    crate::atomic::write_mode(path, &[text.as_bytes()], 0o644).map_err(|error| TextfileError {
        path: path.display().to_string(),
        error,
    })
}

/// One text exposition, family by family.
#[derive(Default)]
struct Metrics {
    text: String,
}

impl Metrics {
    fn family(&mut self, name: &str, help: &str) {
        let _ = write!(self.text, "# HELP {name} {help}\n# TYPE {name} gauge\n");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {}", number(value));
    }
}

/// A label value as the format wants it: backslash, double quote and line feed
/// escaped; any other control character (which no label should carry) dropped.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn number(value: f64) -> String {
    match value {
        v if v.is_nan() => "NaN".into(),
        v if v.is_infinite() && v > 0.0 => "+Inf".into(),
        v if v.is_infinite() => "-Inf".into(),
        v => format!("{v}"),
    }
}

/// "ok" … "critical" as 0 … 3.
fn level(value: Option<&Value>) -> f64 {
    match value.and_then(Value::as_str) {
        Some("careful") => 1.0,
        Some("warning") => 2.0,
        Some("critical") => 3.0,
        _ => 0.0,
    }
}

/// Every level in the context, named: "cpu", "memory", "filesystem:/var",
/// "check:nginx", "certificate:/etc/ssl/…"; the first of a repeated name kept.
fn levels(c: &serde_json::Map<String, Value>) -> Vec<(String, f64)> {
    let mut found: Vec<(String, f64)> = Vec::new();
    let mut add = |item: String, v: Option<&Value>| {
        if v.is_some() && !found.iter().any(|(i, _)| *i == item) {
            found.push((item, level(v)));
        }
    };
    for (key, value) in c {
        match value {
            Value::Object(o) => {
                add(key.clone(), o.get("level"));
                if key == "memory" {
                    add("swap".into(), o.get("swap_level"));
                }
            }
            Value::Array(rows) => {
                let kind = match key.as_str() {
                    "disks" => "filesystem",
                    "checks" => "check",
                    "certificates" => "certificate",
                    "temperatures" => "temperature",
                    _ => continue,
                };
                for row in rows {
                    add(format!("{kind}:{}", name(row)), row.get("level"));
                }
            }
            _ => {}
        }
    }
    found
}

/// A row's name: its mount point, check name, certificate path or endpoint, sensor.
fn name(row: &Value) -> String {
    let field = |k: &str| row.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match (field("chip"), field("label")) {
        (Some(chip), Some(label)) => format!("{chip}/{label}"),
        _ => ["mount", "name", "path", "endpoint", "chip"]
            .iter()
            .find_map(|k| field(k))
            .unwrap_or("?")
            .to_string(),
    }
}

fn attention(out: &mut Metrics, c: &serde_json::Map<String, Value>) {
    out.family("rreport_attention", "The report's attention list, worst first: its level (1 careful, 2 warning, 3 critical), the sentence as a label.");
    let items = c.get("attention").and_then(Value::as_array);
    for (i, a) in items.into_iter().flatten().take(ATTENTION_MAX).enumerate() {
        let text: String = a["text"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(TEXT_MAX)
            .collect();
        let rank = (i + 1).to_string();
        out.sample(
            "rreport_attention",
            &[("rank", &rank), ("text", &text)],
            level(a.get("level")),
        );
    }
}

fn checks(out: &mut Metrics, c: &serde_json::Map<String, Value>) {
    let rows = c.get("checks").and_then(Value::as_array);
    out.family(
        "rreport_check_up",
        "1 when the check passed, 0 when it failed.",
    );
    for row in rows.into_iter().flatten() {
        let up = if row["ok"].as_bool() == Some(true) {
            1.0
        } else {
            0.0
        };
        out.sample("rreport_check_up", &[("check", &name(row))], up);
    }
    out.family("rreport_check_duration_seconds", "How long the check took.");
    for row in rows.into_iter().flatten() {
        if let Some(secs) = row["secs"].as_f64() {
            out.sample(
                "rreport_check_duration_seconds",
                &[("check", &name(row))],
                secs,
            );
        }
    }
}

fn forecasts(out: &mut Metrics, c: &serde_json::Map<String, Value>) {
    out.family(
        "rreport_filesystem_full_days",
        "Days until the filesystem is full at the period's rate, where it fills.",
    );
    let rows = c.get("disks").and_then(Value::as_array);
    for row in rows.into_iter().flatten() {
        if let Some(days) = row["forecast"]["days_left"].as_f64() {
            out.sample(
                "rreport_filesystem_full_days",
                &[("mountpoint", &name(row))],
                days,
            );
        }
    }
}

/// Pending updates and a required reboot, where those collectors ran.
fn maintenance(out: &mut Metrics, c: &serde_json::Map<String, Value>) {
    let updates = c.get("updates").filter(|u| u["total"].is_u64());
    if let Some(u) = updates {
        let (total, security) = (
            u["total"].as_f64().unwrap_or(0.0),
            u["security"].as_f64().unwrap_or(0.0),
        );
        out.family(
            "rreport_updates_pending",
            "Package updates pending, security ones apart.",
        );
        out.sample("rreport_updates_pending", &[("security", "true")], security);
        out.sample(
            "rreport_updates_pending",
            &[("security", "false")],
            total - security,
        );
    }
    if let Some(r) = c.get("reboot").filter(|r| r["required"].is_boolean()) {
        out.family("rreport_reboot_required", "1 when the host wants a reboot.");
        let required = if r["required"].as_bool() == Some(true) {
            1.0
        } else {
            0.0
        };
        out.sample("rreport_reboot_required", &[], required);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_per_the_format() {
        assert_eq!(escape("a\\b\"c\nd\re\u{1b}"), "a\\\\b\\\"c\\nde");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(12.5), "12.5");
    }

    #[test]
    fn written_whole_and_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rreport.prom");
        write(&path, "rreport_status 0\n").unwrap();
        write(&path, "rreport_status 2\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "rreport_status 2\n"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
