//! The `[history]` table: how often the daemon samples, how long it keeps samples,
//! and when a filesystem's trend becomes a forecast and an attention line.
//!
//! ```toml
//! [history]
//! sample_interval_secs = 60
//! history_days = 35
//! forecast_days = 7
//! forecast_min_span = "6h"
//! forecast_warning_days = 14
//! forecast_critical_days = 3
//! ```

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::smtp::bounded_duration;
use super::{ConfigError, Locator};

/// `[history]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySettings {
    /// How often the daemon samples the host.
    pub sample_interval: Duration,
    /// How long samples are kept.
    pub days: u64,
    /// How far back a filesystem's trend is fitted.
    pub forecast_days: u64,
    /// Less data than this is no trend (a few minutes of a copy is not a week).
    pub forecast_min_span: Duration,
    /// A filesystem full within this many days is a warning…
    pub forecast_warning_days: u64,
    /// …and within this many, critical.
    pub forecast_critical_days: u64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHistory {
    sample_interval_secs: Option<Spanned<u64>>,
    history_days: Option<Spanned<u64>>,
    forecast_days: Option<Spanned<u64>>,
    forecast_min_span: Option<Spanned<String>>,
    forecast_warning_days: Option<Spanned<u64>>,
    forecast_critical_days: Option<Spanned<u64>>,
}

/// `[history]`, each value bounded where it is written.
pub(super) fn check(raw: &RawHistory, loc: &Locator) -> Result<HistorySettings, ConfigError> {
    let key = |k: &str| format!("history.{k}");
    let interval = loc.bounded(
        &raw.sample_interval_secs,
        &key("sample_interval_secs"),
        1..=3600,
        60,
    )?;
    let warning = loc.bounded(
        &raw.forecast_warning_days,
        &key("forecast_warning_days"),
        1..=365,
        14,
    )?;
    let critical = loc.bounded(
        &raw.forecast_critical_days,
        &key("forecast_critical_days"),
        0..=365,
        3,
    )?;
    if critical > warning {
        let span = raw
            .forecast_critical_days
            .as_ref()
            .map_or(0, |v| v.span().start);
        return Err(loc.at(span, format!("history.forecast_critical_days = {critical} is more than forecast_warning_days = {warning}; critical must come first (fewer days left)")));
    }
    let min_span = raw.forecast_min_span.as_ref();
    Ok(HistorySettings {
        sample_interval: Duration::from_secs(interval),
        days: loc.bounded(&raw.history_days, &key("history_days"), 1..=3650, 35)?,
        forecast_days: loc.bounded(&raw.forecast_days, &key("forecast_days"), 1..=90, 7)?,
        forecast_min_span: bounded_duration(min_span, &key("forecast_min_span"), 90 * 86_400, loc)?
            .unwrap_or(Duration::from_secs(6 * 3600)),
        forecast_warning_days: warning,
        forecast_critical_days: critical,
    })
}
