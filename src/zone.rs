//! Time zones from the system's tz database (`/usr/share/zoneinfo`, or `$TZDIR`), as
//! a chrono `TimeZone` for the schedule and the report's times.
//!
//! Not chrono-tz: it compiles every zone's history into the binary (1.9 MB, a third
//! of rreport), and the binary's pages are most of the daemon's memory. The system's
//! database is also the one cron, glibc and `date` use, kept current by the tzdata
//! package rather than by rebuilding rreport. tz-rs reads the TZif files, footer
//! rules included (chrono's own local-time code is derived from it).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};

/// A named time zone. Cheap to clone.
#[derive(Clone)]
pub struct Zone {
    name: Arc<str>,
    rules: Arc<tz::TimeZone>,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            rules: Arc::new(tz::TimeZone::utc()),
        }
    }

    /// The zone of that IANA name ("Europe/Berlin"), read from the tz database.
    pub fn named(name: &str) -> Result<Zone, String> {
        if name == "UTC" || name == "Etc/UTC" {
            return Ok(Zone::utc());
        }
        let plausible = !name.is_empty()
            && !name.starts_with('/')
            && name
                .split('/')
                .all(|part| part != ".." && part != "." && !part.is_empty())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
        if !plausible {
            return Err("not an IANA time zone name".into());
        }
        let dir =
            std::env::var_os("TZDIR").map_or_else(|| "/usr/share/zoneinfo".into(), PathBuf::from);
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("no such file {}", path.display()),
            _ => format!("{}: {e}", path.display()),
        })?;
        let rules = tz::TimeZone::from_tz_data(&bytes)
            .map_err(|e| format!("{} is not a time zone file: {e}", path.display()))?;
        Ok(Zone {
            name: name.into(),
            rules: Arc::new(rules),
        })
    }

    /// The system's zone (from /etc/localtime or TZ), or UTC when it has no IANA name
    /// or the database lacks it.
    pub fn system() -> Zone {
        iana_time_zone::get_timezone()
            .ok()
            .and_then(|name| Zone::named(&name).ok())
            .unwrap_or_else(Zone::utc)
    }

    /// An instant as rreport writes times, in the context and in exports: RFC 3339
    /// in this zone, to the second ("2026-11-24T08:00:00+01:00").
    pub fn rfc3339(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(self)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset from UTC at a Unix time.
    fn offset_at(&self, unix: i64) -> FixedOffset {
        let seconds = self
            .rules
            .find_local_time_type(unix)
            .map_or(0, |t| t.ut_offset());
        // tz-rs keeps offsets within ±25 h, chrono within ±24 h: UTC for the impossible rest.
        FixedOffset::east_opt(seconds).unwrap_or_else(|| chrono::Utc.fix())
    }

    fn offset(&self, fixed: FixedOffset) -> ZoneOffset {
        ZoneOffset {
            zone: self.clone(),
            fixed,
        }
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

/// A zone's offset at one instant; keeps the zone, as chrono requires.
#[derive(Clone, Debug)]
pub struct ZoneOffset {
    zone: Zone,
    fixed: FixedOffset,
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        self.fixed
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.fixed, f)
    }
}

impl TimeZone for Zone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Zone {
        offset.zone.clone()
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<ZoneOffset> {
        self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN))
    }

    /// A wall-clock time may not exist (skipped by a change to summer time) or exist
    /// twice (repeated by the change back). The offsets in force a day either side
    /// are the only candidates; each that maps back to this wall-clock time is an
    /// answer. (Zones change offset far less often than every two days.)
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<ZoneOffset> {
        let wall = local.and_utc().timestamp();
        let mut found: Vec<FixedOffset> = Vec::with_capacity(2);
        for probe in [wall - 86_400, wall + 86_400] {
            let offset = self.offset_at(probe);
            let instant = wall - i64::from(offset.local_minus_utc());
            if self.offset_at(instant) == offset && !found.contains(&offset) {
                found.push(offset);
            }
        }
        // The earlier instant first: the larger offset.
        found.sort_by_key(|o| std::cmp::Reverse(o.local_minus_utc()));
        match found[..] {
            [] => LocalResult::None,
            [one] => LocalResult::Single(self.offset(one)),
            [earlier, later, ..] => {
                LocalResult::Ambiguous(self.offset(earlier), self.offset(later))
            }
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        self.offset(self.offset_at(utc.and_utc().timestamp()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};

    fn wall(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn offsets_follow_summer_time_including_after_the_files_last_transition() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let at = |s: &str| {
            s.parse::<chrono::DateTime<Utc>>()
                .unwrap()
                .with_timezone(&berlin)
                .to_rfc3339()
        };
        assert_eq!(at("2026-01-15T12:00:00Z"), "2026-01-15T13:00:00+01:00");
        assert_eq!(at("2026-07-15T12:00:00Z"), "2026-07-15T14:00:00+02:00");
        // Far beyond any listed transition: only the file's footer rule knows this.
        assert_eq!(at("2077-07-15T12:00:00Z"), "2077-07-15T14:00:00+02:00");
    }

    #[test]
    fn skipped_and_repeated_wall_clock_times() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // 29 March 2026: 02:00 → 03:00; 25 October: 03:00 → 02:00.
        assert!(matches!(
            berlin.from_local_datetime(&wall(29, 2, 30)),
            LocalResult::None
        ));
        let single = berlin.from_local_datetime(&wall(29, 3, 30)).unwrap();
        assert_eq!(single.to_rfc3339(), "2026-03-29T03:30:00+02:00");
        let october = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        match berlin.from_local_datetime(&october) {
            LocalResult::Ambiguous(a, b) => {
                assert_eq!(a.to_rfc3339(), "2026-10-25T02:30:00+02:00");
                assert_eq!(b.to_rfc3339(), "2026-10-25T02:30:00+01:00");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(Zone::named("UTC").unwrap().name(), "UTC");
        assert_eq!(
            Zone::named("Mars/Olympus").unwrap_err(),
            "no such file /usr/share/zoneinfo/Mars/Olympus"
        );
        for bad in [
            "",
            "/etc/passwd",
            "../../etc/passwd",
            "Europe/../../x",
            "Europe Berlin",
        ] {
            assert_eq!(
                Zone::named(bad).unwrap_err(),
                "not an IANA time zone name",
                "{bad}"
            );
        }
    }
}
