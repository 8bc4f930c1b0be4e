//! The daemon's agenda: when the next report is due, and when the outbox's next
//! retry is; pure, so what the daemon does next is a function of "now" that tests
//! table without a clock. Room for more due times (sampling, alert reminders).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest single wait. A jump of the clock or a resume ends a wait at once
/// (`clock::Signal::ClockSet`); this bound is only the net under that.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The due times the daemon keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agenda {
    /// The next fire time of the schedule; `None`: no reports (`schedule = "off"`).
    pub report: Option<DateTime<Utc>>,
    /// The next fire time of the digest's schedule; `None`: no digest from this daemon.
    pub digest: Option<DateTime<Utc>>,
    /// When the earliest queued message is due again; `None`: nothing queued.
    pub retry: Option<DateTime<Utc>>,
    /// When the next sample of the history is due; `None`: no history kept.
    pub sample: Option<DateTime<Utc>>,
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the report (it is due or overdue: after a suspend, once).
    Report,
    /// Send the fleet digest, likewise.
    Digest,
    /// Retry what is queued.
    Retry,
    /// Take a sample for the history.
    Sample,
    /// Wait this long (at most `MAX_WAIT`), then ask again.
    Wait(Duration),
}

impl Agenda {
    /// The report, then the digest, then a retry, then a sample, when due; otherwise
    /// wait for the earliest.
    pub fn next(&self, now: DateTime<Utc>) -> Next {
        if self.report.is_some_and(|r| r <= now) {
            return Next::Report;
        }
        if self.digest.is_some_and(|d| d <= now) {
            return Next::Digest;
        }
        if self.retry.is_some_and(|r| r <= now) {
            return Next::Retry;
        }
        if self.sample.is_some_and(|s| s <= now) {
            return Next::Sample;
        }
        let wake = [self.report, self.digest, self.retry, self.sample]
            .into_iter()
            .flatten()
            .min();
        let span = wake.map_or(MAX_WAIT, |w| (w - now).to_std().unwrap_or_default());
        Next::Wait(span.min(MAX_WAIT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, s).unwrap()
    }

    #[track_caller]
    fn check(
        report: DateTime<Utc>,
        retry: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        expected: Next,
    ) {
        assert_eq!(
            Agenda {
                report: Some(report),
                digest: None,
                retry,
                sample: None
            }
            .next(now),
            expected
        );
    }

    #[test]
    fn waits_towards_the_earlier_due_time_at_most_an_hour_at_a_time() {
        check(at(8, 0, 0), None, at(5, 0, 0), Next::Wait(MAX_WAIT));
        check(
            at(8, 0, 0),
            None,
            at(7, 59, 30),
            Next::Wait(Duration::from_secs(30)),
        );
        check(
            at(8, 0, 0),
            Some(at(7, 59, 50)),
            at(7, 59, 30),
            Next::Wait(Duration::from_secs(20)),
        );
    }

    #[test]
    fn the_report_when_due_or_overdue_then_the_retry() {
        check(at(8, 0, 0), None, at(8, 0, 0), Next::Report);
        // Woken from a suspend three hours late: the report (once: the daemon then
        // moves it past now).
        check(at(8, 0, 0), Some(at(7, 0, 0)), at(11, 0, 0), Next::Report);
        check(at(9, 0, 0), Some(at(8, 30, 0)), at(8, 30, 0), Next::Retry);
    }

    #[test]
    fn samples_come_after_reports_and_retries_and_wake_the_wait() {
        let agenda = |sample| Agenda {
            report: Some(at(8, 0, 0)),
            digest: None,
            retry: Some(at(7, 30, 0)),
            sample: Some(sample),
        };
        assert_eq!(
            agenda(at(7, 0, 30)).next(at(7, 0, 0)),
            Next::Wait(Duration::from_secs(30))
        );
        assert_eq!(agenda(at(7, 0, 0)).next(at(7, 0, 0)), Next::Sample);
        assert_eq!(agenda(at(7, 0, 0)).next(at(7, 30, 0)), Next::Retry);
    }

    #[test]
    fn a_clock_stepped_back_waits_instead_of_resending() {
        // Sent at 08:00, the next is tomorrow 08:00; the clock steps back to 07:59: wait.
        let tomorrow = at(8, 0, 0) + chrono::TimeDelta::days(1);
        assert!(matches!(
            Agenda {
                report: Some(tomorrow),
                digest: None,
                retry: None,
                sample: None,
            }
            .next(at(7, 59, 0)),
            Next::Wait(_)
        ));
    }

    #[test]
    fn the_digest_after_the_report_and_a_daemon_of_digests_only() {
        let digest_only = Agenda {
            report: None,
            digest: Some(at(7, 0, 0)),
            retry: None,
            sample: None,
        };
        assert_eq!(
            digest_only.next(at(6, 59, 30)),
            Next::Wait(Duration::from_secs(30))
        );
        assert_eq!(digest_only.next(at(7, 0, 0)), Next::Digest);
        let both = Agenda {
            report: Some(at(7, 0, 0)),
            ..digest_only
        };
        assert_eq!(both.next(at(7, 0, 0)), Next::Report);
        let idle = Agenda {
            digest: None,
            ..digest_only
        };
        assert_eq!(idle.next(at(7, 0, 0)), Next::Wait(MAX_WAIT));
    }
}
