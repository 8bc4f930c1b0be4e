//! The schedule: a crontab(5) expression and a time zone in, fire times out.
//!
//! Pure: it never reads the clock; "now" is always an argument, so the daemon,
//! `--check` and the tests ask the same question the same way.
//!
//! croner does the calendar work. One rule it reads differently from Vixie cron
//! and cronie is corrected here: crontab(5) ORs day-of-month with day-of-week
//! only when *both* fields are restricted, and a field that starts with `*`
//! (such as `*/2`) does not count as restricted. croner only treats a bare `*`
//! that way, so for `*/2 * 1` it would OR where cron ANDs.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use crate::zone::Zone;

/// A parsed schedule expression.
#[derive(Clone)]
pub struct Schedule {
    cron: Cron,
    text: String,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Schedule({:?})", self.text)
    }
}

/// The fields of a five-field expression: name and the range crontab(5) allows.
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT"),
];

/// The @ macros cron knows.
const MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
];

/// Why an expression was refused; the message comes from croner or from the field count.
#[derive(Debug, thiserror::Error)]
#[error("invalid schedule '{text}': {reason}")]
pub struct ScheduleError {
    text: String,
    reason: String,
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Schedule, ScheduleError> {
        let refuse = |reason: String| ScheduleError {
            text: text.to_string(),
            reason,
        };
        let fields: Vec<&str> = text.split_whitespace().collect();
        // Five fields, or six with seconds first; a macro is one field.
        let (dom, dow) = match fields.len() {
            1 if fields[0].starts_with('@') && !MACROS.contains(&fields[0]) => {
                return Err(refuse(format!(
                    "unknown macro; expected one of {}",
                    MACROS.join(" ")
                )))
            }
            1 if fields[0].starts_with('@') => ("*", "*"),
            5 => (fields[2], fields[4]),
            6 => (fields[3], fields[5]),
            n => {
                return Err(refuse(format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week), \
                     6 with seconds first, or an @ macro; found {n}"
                )))
            }
        };
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .dom_and_dow(dom.starts_with('*') || dow.starts_with('*'))
            .build();
        let cron = parser
            .parse(text)
            .map_err(|e| refuse(blame_field(&parser, &fields).unwrap_or(e.to_string())))?;
        Ok(Schedule {
            cron,
            text: text.to_string(),
        })
    }
}

/// croner's errors do not say which field is wrong; find the first field that
/// fails on its own (every other field `*`) and name it with its allowed range.
fn blame_field(parser: &CronParser, fields: &[&str]) -> Option<String> {
    let offset = fields.len().checked_sub(5)?;
    if offset == 1 {
        let alone = format!("{} * * * * *", fields[0]);
        if parser.parse(&alone).is_err() {
            return Some(format!("second field '{}': expected 0-59", fields[0]));
        }
    }
    (0..5).find_map(|i| {
        let mut alone = ["*"; 5];
        alone[i] = fields[offset + i];
        let (name, range) = FIELDS[i];
        parser
            .parse(&alone.join(" "))
            .is_err()
            .then(|| format!("{name} field '{}': expected {range}", alone[i]))
    })
}

impl Schedule {
    /// The first fire time strictly after `after`, in `zone`.
    /// `None` only for an expression that can never fire (such as `0 0 31 2 *`).
    pub fn next_after(&self, after: DateTime<Utc>, zone: &Zone) -> Option<DateTime<Zone>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(zone), false)
            .ok()
    }

    /// The next `n` fire times after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, zone: &Zone, n: usize) -> Vec<DateTime<Zone>> {
        let mut times = Vec::with_capacity(n);
        let mut cursor = after;
        while times.len() < n {
            match self.next_after(cursor, zone) {
                Some(t) => {
                    cursor = t.with_timezone(&Utc);
                    times.push(t);
                }
                None => break,
            }
        }
        times
    }

    /// The expression as the admin wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The fire times after `after` (UTC, RFC 3339) in `zone`, as RFC 3339 strings.
    #[track_caller]
    fn check(expr: &str, zone: &str, after: &str, expected: &[&str]) {
        let schedule: Schedule = expr.parse().unwrap();
        let zone = Zone::named(zone).unwrap();
        let after = DateTime::parse_from_rfc3339(after)
            .unwrap()
            .with_timezone(&Utc);
        let got: Vec<String> = schedule
            .upcoming(after, &zone, expected.len())
            .iter()
            .map(|t| t.to_rfc3339())
            .collect();
        assert_eq!(got, expected, "{expr} in {zone:?}");
    }

    // 2026-11-23 is a Monday.
    #[test]
    fn weekday_numbers_follow_crontab() {
        check(
            "0 8 * * 1",
            "UTC",
            "2026-11-21T00:00:00Z",
            &["2026-11-23T08:00:00+00:00"],
        );
        // 0 and 7 are both Sunday.
        check(
            "0 8 * * 0",
            "UTC",
            "2026-11-23T00:00:00Z",
            &["2026-11-29T08:00:00+00:00"],
        );
        check(
            "0 8 * * 7",
            "UTC",
            "2026-11-23T00:00:00Z",
            &["2026-11-29T08:00:00+00:00"],
        );
        check(
            "0 8 * * MON",
            "UTC",
            "2026-11-24T00:00:00Z",
            &["2026-11-30T08:00:00+00:00"],
        );
        check(
            "0 8 * * mon-fri",
            "UTC",
            "2026-11-27T09:00:00Z",
            &["2026-11-30T08:00:00+00:00"],
        );
        check(
            "0 8 * * 5-7",
            "UTC",
            "2026-11-23T00:00:00Z",
            &[
                "2026-11-27T08:00:00+00:00",
                "2026-11-28T08:00:00+00:00",
                "2026-11-29T08:00:00+00:00",
            ],
        );
    }

    #[test]
    fn day_of_month_or_day_of_week_when_both_restricted() {
        // The 1st of the month OR any Monday.
        check(
            "0 8 1 * 1",
            "UTC",
            "2026-11-24T00:00:00Z",
            &[
                "2026-11-30T08:00:00+00:00",
                "2026-12-01T08:00:00+00:00",
                "2026-12-07T08:00:00+00:00",
            ],
        );
    }

    #[test]
    fn a_starred_field_means_and() {
        // cron: "*/2" is not a restriction for the OR rule, so this is Mondays on odd days.
        // 2026-11-23 (Mon, 23rd: odd) fires; 2026-11-30 (30th: even) does not; 2026-12-07 does.
        check(
            "0 8 */2 * 1",
            "UTC",
            "2026-11-22T00:00:00Z",
            &["2026-11-23T08:00:00+00:00", "2026-12-07T08:00:00+00:00"],
        );
        // Only day-of-month restricted: the 15th, whatever weekday.
        check(
            "0 8 15 * *",
            "UTC",
            "2026-11-24T00:00:00Z",
            &["2026-12-15T08:00:00+00:00"],
        );
    }

    #[test]
    fn ranges_lists_steps_and_names() {
        check(
            "*/20 9-10 * * *",
            "UTC",
            "2026-11-24T00:00:00Z",
            &[
                "2026-11-24T09:00:00+00:00",
                "2026-11-24T09:20:00+00:00",
                "2026-11-24T09:40:00+00:00",
                "2026-11-24T10:00:00+00:00",
            ],
        );
        check(
            "30 6,18 * JAN,jul *",
            "UTC",
            "2026-11-24T00:00:00Z",
            &["2027-01-01T06:30:00+00:00", "2027-01-01T18:30:00+00:00"],
        );
        check(
            "0 0 1-10/3 * *",
            "UTC",
            "2026-11-30T00:00:00Z",
            &[
                "2026-12-01T00:00:00+00:00",
                "2026-12-04T00:00:00+00:00",
                "2026-12-07T00:00:00+00:00",
                "2026-12-10T00:00:00+00:00",
                "2027-01-01T00:00:00+00:00",
            ],
        );
    }

    #[test]
    fn a_leading_sixth_field_is_seconds() {
        check(
            "*/10 * * * * *",
            "UTC",
            "2026-11-24T08:00:05Z",
            &["2026-11-24T08:00:10+00:00", "2026-11-24T08:00:20+00:00"],
        );
    }

    #[test]
    fn macros() {
        let after = "2026-11-24T08:30:00Z";
        check("@hourly", "UTC", after, &["2026-11-24T09:00:00+00:00"]);
        check("@daily", "UTC", after, &["2026-11-25T00:00:00+00:00"]);
        check("@weekly", "UTC", after, &["2026-11-29T00:00:00+00:00"]);
        check("@monthly", "UTC", after, &["2026-12-01T00:00:00+00:00"]);
        check("@yearly", "UTC", after, &["2027-01-01T00:00:00+00:00"]);
    }

    #[test]
    fn times_are_in_the_configured_zone() {
        // 08:00 in Berlin is 07:00 UTC in winter.
        check(
            "0 8 * * *",
            "Europe/Berlin",
            "2026-11-24T07:30:00Z",
            &["2026-11-25T08:00:00+01:00"],
        );
        check(
            "0 8 * * *",
            "America/New_York",
            "2026-11-24T12:00:00Z",
            &["2026-11-24T08:00:00-05:00"],
        );
    }

    #[test]
    fn dst_change_days() {
        // Berlin springs forward on 2027-03-28 at 02:00 (to 03:00): a 02:30 job runs once,
        // right after the gap, as cronie does; the day after it is back at 02:30.
        check(
            "30 2 * * *",
            "Europe/Berlin",
            "2027-03-27T12:00:00Z",
            &["2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00"],
        );
        // Falling back on 2026-10-25 repeats 02:00-03:00: a 02:30 job runs once, not twice.
        check(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
        );
        // A daily 08:00 report stays at 08:00 local across the change.
        check(
            "0 8 * * *",
            "Europe/Berlin",
            "2027-03-27T12:00:00Z",
            &["2027-03-28T08:00:00+02:00"],
        );
    }

    #[test]
    fn a_misspelt_macro_lists_the_macros() {
        let err = "@dayly".parse::<Schedule>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid schedule '@dayly': unknown macro; expected one of @yearly @annually @monthly @weekly @daily @hourly"
        );
        for good in MACROS {
            assert!(good.parse::<Schedule>().is_ok(), "{good}");
        }
    }

    #[test]
    fn refuses_what_cron_refuses() {
        for bad in [
            "",
            "* * * *",
            "* * * * * * *",
            "61 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "@sometimes",
            "a b c d e",
            "*/0 * * * *",
        ] {
            let err = bad.parse::<Schedule>().expect_err(bad);
            assert!(
                err.to_string().starts_with("invalid schedule"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn never_firing_expression_gives_no_times() {
        let s: Schedule = "0 0 31 2 *".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(s.upcoming(now, &crate::zone::Zone::utc(), 3).is_empty());
    }
}
