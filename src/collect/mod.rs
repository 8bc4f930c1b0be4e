//! The collectors: each reads one resource and returns its own map; `gather` merges
//! them under their keys into the report's context.
//!
//! A collector's failure is data, never an abort: its key becomes null and the
//! failure an entry in `errors`, which the report shows. A panic inside one (a
//! parser meeting data nobody expected) is caught and treated the same way.
//! Collectors know nothing of templates or mail.

pub mod boot;
pub mod cpu;
pub mod disk;
pub mod host;
pub mod memory;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value};

/// Why a collector produced nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CollectError(String);

impl CollectError {
    pub fn new(message: impl Into<String>) -> Self {
        CollectError(message.into())
    }
}

/// One entry of the context's `errors` list.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorFailure {
    pub collector: String,
    pub message: String,
}

/// What the collectors need to know from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub zone: Tz,
    /// Replaces the collected hostname.
    pub hostname: Option<String>,
    pub filesystems: Option<Vec<PathBuf>>,
    pub cpu_sample: Duration,
}

/// The merged context: collector maps under their keys, plus `hostname`,
/// `generated_at`, `status` and `errors`. Keys are sorted (a `BTreeMap`) so the
/// JSON is the same shape on every run.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Context(pub Map<String, Value>);

/// Runs every collector once and merges the results. `now` is the report's time.
pub fn gather(settings: &Settings, now: DateTime<Utc>) -> Context {
    let mut ctx = Context(Map::new());
    let mut errors = Vec::new();
    // The CPU window opens first so the other collectors run inside it.
    let cpu = run("cpu", cpu::CpuSample::start);
    let hostname = match &settings.hostname {
        Some(name) => Some(name.clone()),
        None => ctx.merge("hostname", run("hostname", host::hostname), &mut errors),
    };
    ctx.put(
        "hostname",
        hostname.unwrap_or_else(|| "unknown-host".into()),
    );
    ctx.merge(
        "boot",
        run("boot", || boot::collect(settings.zone)),
        &mut errors,
    );
    ctx.merge("memory", run("memory", memory::collect), &mut errors);
    let disks = run("disk", || disk::collect(settings.filesystems.as_deref()));
    let disks = disks.map(|(disks, failures)| {
        errors.extend(failures.into_iter().map(|message| CollectorFailure {
            collector: "disk".into(),
            message,
        }));
        disks
    });
    ctx.merge("disks", disks, &mut errors);
    let cpu = cpu.and_then(|sample| run("cpu", || sample.finish(settings.cpu_sample)));
    ctx.merge("cpu", cpu, &mut errors);
    ctx.put(
        "generated_at",
        now.with_timezone(&settings.zone)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    );
    ctx.put("errors", &errors);
    let status = crate::status::status(&ctx);
    ctx.put("status", status);
    ctx
}

/// Runs one collector, turning a panic into an error that names it.
fn run<T>(
    name: &'static str,
    collector: impl FnOnce() -> Result<T, CollectError>,
) -> Result<T, CollectorFailure> {
    let outcome = catch_unwind(AssertUnwindSafe(collector)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Err(CollectError::new(format!("collector panicked: {what}")))
    });
    outcome.map_err(|e| CollectorFailure {
        collector: name.into(),
        message: e.to_string(),
    })
}

impl Context {
    fn put(&mut self, key: &str, value: impl Serialize) {
        // Serializing our own plain structs into a JSON value cannot fail.
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.0.insert(key.to_string(), value);
    }

    /// Puts a collector's result under `key`: its value, or null and an `errors` entry.
    fn merge<T: Serialize>(
        &mut self,
        key: &str,
        result: Result<T, CollectorFailure>,
        errors: &mut Vec<CollectorFailure>,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                self.put(key, &value);
                Some(value)
            }
            Err(failure) => {
                tracing::warn!(collector = %failure.collector, "collector failed: {}", failure.message);
                errors.push(failure);
                self.put(key, Value::Null);
                None
            }
        }
    }
}

/// `part / whole` as a percentage with one decimal; 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round1(part as f64 / whole as f64 * 100.0)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_collector_becomes_an_error() {
        let failure = run::<()>("disk", || panic!("boom")).unwrap_err();
        assert_eq!(
            (failure.collector.as_str(), failure.message.as_str()),
            ("disk", "collector panicked: boom")
        );
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(5, 0), 0.0);
    }
}
