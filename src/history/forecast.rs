//! "When will this disk be full?": a least-squares line through a filesystem's used
//! bytes over the last `forecast_days`, fed point by point (constant memory).
//!
//! Pure. No forecast is better than a wrong one: none from less than
//! `forecast_min_span` of data, from a flat or shrinking trend, from one that would
//! take more than a year, or from a window whose last quarter stopped growing (a
//! step: a restore that landed, a log that was rotated away — the past rate says
//! nothing about the next days).

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// Beyond this, "full in ~400 days" is noise, not a forecast.
const HORIZON_DAYS: f64 = 365.0;
const DAY: f64 = 86_400.0;

/// `disks[i].forecast`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// When the filesystem fills at this rate (RFC 3339 in the report's zone).
    pub full_at: String,
    pub days_left: f64,
    pub bytes_per_day: f64,
}

/// Sums for a least-squares fit of value over time (days since `origin`, so the
/// squares stay small enough for f64).
#[derive(Debug, Clone, Default)]
struct Fit {
    n: f64,
    x: f64,
    y: f64,
    xx: f64,
    xy: f64,
    first: Option<f64>,
    last: f64,
}

impl Fit {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.xy += x * y;
        self.first.get_or_insert(x);
        self.last = x;
    }

    /// Units per day; None from fewer than three points or no spread in time.
    fn slope(&self) -> Option<f64> {
        let denominator = self.n * self.xx - self.x * self.x;
        (self.n >= 3.0 && denominator > f64::EPSILON)
            .then(|| (self.n * self.xy - self.x * self.y) / denominator)
    }

    fn span_days(&self) -> f64 {
        self.first.map_or(0.0, |first| self.last - first)
    }
}

/// A filesystem's used bytes over the forecast window, oldest first.
#[derive(Debug, Clone)]
pub struct Trend {
    origin: i64,
    recent_from: f64,
    all: Fit,
    recent: Fit,
}

impl Trend {
    /// For points from `from` to `to`; the last quarter of that is "recent".
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Trend {
        let days = (to - from).num_seconds() as f64 / DAY;
        Trend {
            origin: from.timestamp(),
            recent_from: days * 0.75,
            all: Fit::default(),
            recent: Fit::default(),
        }
    }

    pub fn add(&mut self, t: i64, used_bytes: f64) {
        if !used_bytes.is_finite() {
            return;
        }
        let x = (t - self.origin) as f64 / DAY;
        self.all.add(x, used_bytes);
        if x >= self.recent_from {
            self.recent.add(x, used_bytes);
        }
    }

    /// When `used` of `capacity` bytes fills at the fitted rate, measured from `now`;
    /// `time` writes `full_at`.
    pub fn forecast(
        &self,
        used: u64,
        capacity: u64,
        now: DateTime<Utc>,
        min_span: TimeDelta,
        time: impl Fn(DateTime<Utc>) -> String,
    ) -> Option<Forecast> {
        if self.all.span_days() * DAY < min_span.num_seconds() as f64 {
            return None;
        }
        let per_day = self.all.slope().filter(|s| *s > 0.0)?;
        let left = capacity.saturating_sub(used) as f64;
        let days_left = left / per_day;
        if days_left > HORIZON_DAYS {
            return None;
        }
        // A last quarter that stopped growing was a step, not a trend.
        if let Some(recent) = self.recent.slope() {
            if recent <= 0.0 || left / recent > HORIZON_DAYS {
                return None;
            }
        }
        // To the minute: a forecast is no more precise, and the text stays stable.
        let full_at = now + TimeDelta::minutes((days_left * DAY / 60.0).round() as i64);
        Some(Forecast {
            full_at: time(full_at),
            days_left,
            bytes_per_day: per_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: f64 = 1e9;

    fn at(hours: f64) -> i64 {
        1_795_000_000 + (hours * 3600.0) as i64
    }

    /// A week of hourly points from `series(hour)`, on a 100 GB filesystem, forecast
    /// at the week's end with the used bytes of the last point.
    #[track_caller]
    fn check(series: impl Fn(f64) -> f64, min_span_hours: i64, expected_days: Option<f64>) {
        let (from, to) = (at(0.0), at(168.0));
        let ts = |t| DateTime::from_timestamp(t, 0).unwrap();
        let mut trend = Trend::new(ts(from), ts(to));
        let mut last = 0.0;
        for h in 0..=168 {
            last = series(h as f64);
            trend.add(at(h as f64), last);
        }
        let got = trend.forecast(
            last as u64,
            (100.0 * GB) as u64,
            ts(to),
            TimeDelta::hours(min_span_hours),
            |t| t.timestamp().to_string(),
        );
        match (got, expected_days) {
            (None, None) => {}
            (Some(f), Some(days)) => {
                assert!((f.days_left - days).abs() < 0.05, "{f:?}, expected {days}");
                let full = to + (days * DAY) as i64;
                let full_at: i64 = f.full_at.parse().unwrap();
                assert!((full_at - full).abs() < 3600, "{f:?}");
            }
            (got, expected) => panic!("got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn a_linear_series_fills_when_the_line_says() {
        // 40 GB, +2 GB a day: at 54 GB after the week, 46 GB left, 23 days.
        check(|h| 40.0 * GB + 2.0 * GB * h / 24.0, 6, Some(23.0));
    }

    #[test]
    fn flat_and_shrinking_series_have_no_forecast() {
        check(|_| 50.0 * GB, 6, None);
        check(|h| 60.0 * GB - GB * h / 24.0, 6, None);
        // Growing, but by 10 MB a day: 5,000 days is no forecast.
        check(|h| 50.0 * GB + 1e7 * h / 24.0, 6, None);
    }

    #[test]
    fn noise_around_a_trend_keeps_the_trend_and_noise_alone_has_none() {
        // ±3 GB of deterministic noise on +2 GB a day.
        let noise = |h: f64| ((h * 7.0).sin() + (h * 3.1).cos()) * 1.5 * GB;
        let mut acc = Trend::new(
            DateTime::from_timestamp(at(0.0), 0).unwrap(),
            DateTime::from_timestamp(at(168.0), 0).unwrap(),
        );
        for h in 0..=168 {
            let h = h as f64;
            acc.add(at(h), 40.0 * GB + 2.0 * GB * h / 24.0 + noise(h));
        }
        let per_day = acc.all.slope().unwrap();
        assert!((per_day / GB - 2.0).abs() < 0.1, "{}", per_day / GB);
        check(|h| 50.0 * GB + noise(h), 6, None);
    }

    #[test]
    fn a_step_is_not_a_trend() {
        // 30 GB restored on day 3, flat since: the week's line rises, the last
        // quarter does not.
        check(|h| if h < 72.0 { 20.0 * GB } else { 50.0 * GB }, 6, None);
    }

    #[test]
    fn too_short_a_span_has_no_forecast() {
        check(|h| 40.0 * GB + 2.0 * GB * h / 24.0, 24 * 8, None);
    }
}
