//! What a series did over a period, computed as its points stream past: min, avg,
//! max (and when), last, how many. Pure and constant in memory, so a day of samples
//! of a hundred series never sits in the daemon's memory at once.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One series over the report period: a template's "avg 12 %, peak 97 % at 03:12".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub min: f64,
    pub avg: f64,
    pub max: f64,
    /// When the maximum was first reached (RFC 3339 in the report's zone).
    pub max_at: String,
    pub last: f64,
    pub samples: u64,
}

/// Running figures of one series; points must come oldest first.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
    max_at: i64,
    last: f64,
}

impl Accumulator {
    pub fn add(&mut self, t: i64, value: f64) {
        if !value.is_finite() {
            return;
        }
        if self.n == 0 || value < self.min {
            self.min = value;
        }
        if self.n == 0 || value > self.max {
            self.max = value;
            self.max_at = t;
        }
        self.n += 1;
        self.sum += value;
        self.last = value;
    }

    /// The figures, with `max_at` written by `time`; None without a point.
    pub fn stats(&self, time: impl Fn(DateTime<Utc>) -> String) -> Option<Stats> {
        (self.n > 0).then(|| Stats {
            min: self.min,
            avg: self.sum / self.n as f64,
            max: self.max,
            max_at: time(DateTime::from_timestamp(self.max_at, 0).unwrap_or_default()),
            last: self.last,
            samples: self.n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(points: &[(i64, f64)], expected: Option<(f64, f64, f64, i64, f64, u64)>) {
        let mut acc = Accumulator::default();
        for &(t, v) in points {
            acc.add(t, v);
        }
        let got = acc.stats(|t| t.timestamp().to_string());
        let expected = expected.map(|(min, avg, max, at, last, samples)| Stats {
            min,
            avg,
            max,
            max_at: at.to_string(),
            last,
            samples,
        });
        assert_eq!(got, expected);
    }

    #[test]
    fn figures_of_known_series() {
        check(&[], None);
        check(&[(10, 5.0)], Some((5.0, 5.0, 5.0, 10, 5.0, 1)));
        // The first time the peak is reached is when it was.
        check(
            &[(1, 2.0), (2, 9.0), (3, 1.0), (4, 9.0), (5, 4.0)],
            Some((1.0, 5.0, 9.0, 2, 4.0, 5)),
        );
        // A negative series (a clock step can make any rate odd): min below zero.
        check(&[(1, -3.0), (2, 3.0)], Some((-3.0, 0.0, 3.0, 2, 3.0, 2)));
        // What is not a number is not a point.
        check(
            &[(1, f64::NAN), (2, 7.0), (3, f64::INFINITY)],
            Some((7.0, 7.0, 7.0, 2, 7.0, 1)),
        );
    }
}
