//! The `users` collector: logged-in sessions from utmp, as who(1) lists them.
//!
//! Parsed here because psutil's `users()` is unimplemented on Linux (`todo!()`). A
//! machine without /run/utmp (many containers) simply has no sessions to list.

use chrono::DateTime;
use serde::Serialize;

use super::CollectError;
use crate::zone::Zone;

/// glibc's `struct utmp` on Linux: 384 bytes, the fields at these offsets.
const RECORD: usize = 384;
const USER_PROCESS: i16 = 7;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub user: String,
    pub terminal: String,
    /// Where from: a host name or address for a remote login, empty for a local one.
    pub host: String,
    /// When the session began, RFC 3339 in the configured zone.
    pub since: String,
    pub pid: i32,
}

pub fn collect(zone: &Zone) -> Result<Vec<Session>, CollectError> {
    for path in ["/run/utmp", "/var/run/utmp"] {
        match std::fs::read(path) {
            Ok(bytes) => return Ok(parse(&bytes, zone)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(CollectError::new(format!("{path}: {e}"))),
        }
    }
    Ok(Vec::new())
}

/// wtmp's last `WTMP_TAIL` bytes: months of logins on a busy host.
const WTMP_TAIL: u64 = 4 << 20;

/// The logins wtmp recorded after `since` (console, ssh, su -l: whatever writes the
/// login records), oldest first, at most `max` (the latest); none without wtmp.
pub fn logins_since(
    wtmp: &std::path::Path,
    since: DateTime<chrono::Utc>,
    max: usize,
    zone: &Zone,
) -> Vec<Session> {
    // The tail, from a record boundary.
    let tail = |len: u64| len.saturating_sub(WTMP_TAIL) / RECORD as u64 * RECORD as u64;
    let links = crate::regular::Links::Refuse;
    let Ok(bytes) = crate::regular::read_from(wtmp, WTMP_TAIL, links, tail) else {
        return Vec::new();
    };
    let after = |r: &&[u8]| {
        i64::from(i32::from_ne_bytes([r[340], r[341], r[342], r[343]])) > since.timestamp()
    };
    let records: Vec<u8> = bytes
        .chunks_exact(RECORD)
        .filter(after)
        .flatten()
        .copied()
        .collect();
    let mut sessions = parse(&records, zone);
    let skip = sessions.len().saturating_sub(max);
    sessions.drain(..skip);
    sessions
}

/// The user sessions in a utmp file's bytes; other record kinds are skipped.
pub fn parse(bytes: &[u8], zone: &Zone) -> Vec<Session> {
    bytes
        .chunks_exact(RECORD)
        .filter(|r| i16::from_ne_bytes([r[0], r[1]]) == USER_PROCESS)
        .map(|r| {
            let int = |at: usize| i32::from_ne_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
            let since = DateTime::from_timestamp(i64::from(int(340)), 0)
                .map(|t| zone.rfc3339(t))
                .unwrap_or_default();
            Session {
                user: text(&r[44..76]),
                terminal: text(&r[8..40]),
                host: text(&r[76..332]),
                since,
                pid: int(4),
            }
        })
        .collect()
}

/// A NUL-padded field, lossily as text, control characters made visible as spaces.
fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One utmp record, as glibc writes it.
    pub fn record(kind: i16, pid: i32, line: &str, user: &str, host: &str, secs: i32) -> Vec<u8> {
        let mut r = vec![0u8; RECORD];
        r[0..2].copy_from_slice(&kind.to_ne_bytes());
        r[4..8].copy_from_slice(&pid.to_ne_bytes());
        r[8..8 + line.len()].copy_from_slice(line.as_bytes());
        r[44..44 + user.len()].copy_from_slice(user.as_bytes());
        r[76..76 + host.len()].copy_from_slice(host.as_bytes());
        r[340..344].copy_from_slice(&secs.to_ne_bytes());
        r
    }

    #[test]
    fn logins_since_the_previous_report_from_wtmp() {
        let dir = tempfile::tempdir().unwrap();
        let wtmp = dir.path().join("wtmp");
        let mut bytes = record(7, 1, "pts/0", "old", "198.51.100.1", 1_763_971_200);
        bytes.extend(record(8, 1, "pts/0", "", "", 1_763_971_300)); // logout
        bytes.extend(record(7, 2, "tty1", "root", "", 1_763_980_000));
        bytes.extend(record(7, 3, "pts/1", "alice", "203.0.113.9", 1_763_990_000));
        std::fs::write(&wtmp, bytes).unwrap();
        let zone = crate::zone::Zone::utc();
        let since = DateTime::from_timestamp(1_763_975_000, 0).unwrap();
        let found = logins_since(&wtmp, since, 10, &zone);
        let users: Vec<(&str, &str)> = found
            .iter()
            .map(|s| (s.user.as_str(), s.host.as_str()))
            .collect();
        assert_eq!(users, [("root", ""), ("alice", "203.0.113.9")]);
        assert_eq!(
            logins_since(&wtmp, since, 1, &zone)[0].user,
            "alice",
            "the latest"
        );
        assert!(logins_since(&dir.path().join("none"), since, 10, &zone).is_empty());
    }

    #[test]
    fn user_sessions_only() {
        let mut bytes = record(2, 0, "~", "reboot", "6.1.0", 1_763_971_200); // BOOT_TIME
        bytes.extend(record(
            7,
            4242,
            "pts/0",
            "alice",
            "203.0.113.9",
            1_763_971_200,
        ));
        bytes.extend(record(8, 4243, "pts/1", "", "", 0)); // DEAD_PROCESS
        bytes.extend(record(7, 4244, "tty1", "bob\r\nx", "", 1_763_974_800));
        bytes.extend(&[1, 2, 3]); // a torn last record is ignored
        let sessions = parse(&bytes, &crate::zone::Zone::named("Europe/Berlin").unwrap());
        assert_eq!(sessions.len(), 2);
        assert_eq!(
            sessions[0],
            Session {
                user: "alice".into(),
                terminal: "pts/0".into(),
                host: "203.0.113.9".into(),
                since: "2025-11-24T09:00:00+01:00".into(),
                pid: 4242
            }
        );
        assert_eq!(
            (sessions[1].user.as_str(), sessions[1].host.as_str()),
            ("bob  x", "")
        );
    }
}
