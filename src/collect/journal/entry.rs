//! One journal entry: the few fields the report reads, from journalctl's export
//! format. Every text is made safe to show (control characters written out, cut to a
//! length) before anything else sees it: a message may hold any bytes.

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};

use super::export::Fields;

/// Characters of a message kept: a 10 KB message is a line in a report, not a page.
pub const MESSAGE_MAX: usize = 300;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub message: String,
    /// 0 (emerg) to 7 (debug); 6 (info) when the entry has none.
    pub priority: u8,
    /// "kernel"; else the syslog identifier (what journalctl shows), else the unit,
    /// else the command. The identifier comes first because it names the program: a
    /// sudo always runs in a session's scope (`session-4.scope`), and the lines of a
    /// short-lived process carry its unit only when journald saw its cgroup in time,
    /// so one flood from one program would otherwise be two sources.
    pub source: String,
    /// The unit it came from, else `source`: what the table of units counts.
    pub unit: String,
    pub kernel: bool,
    /// Microseconds since the epoch.
    pub time_us: i64,
    pub cursor: String,
}

impl Entry {
    /// From an entry of journalctl's export format.
    pub fn from_fields(f: Fields) -> Entry {
        let unit = f.unit.as_deref().map(shown);
        let source = match (f.kernel, f.identifier.or(f.unit).or(f.comm)) {
            (true, _) => "kernel".to_string(),
            (false, Some(s)) => shown(&s),
            (false, None) => "?".to_string(),
        };
        let unit = unit.filter(|_| !f.kernel).unwrap_or_else(|| source.clone());
        Entry {
            message: f
                .message
                .map_or_else(String::new, |m| shown(&String::from_utf8_lossy(&m))),
            priority: f.priority.unwrap_or(6),
            source,
            unit,
            kernel: f.kernel,
            time_us: f.realtime_us,
            cursor: f.cursor,
        }
    }
}

/// A time a log wrote in the host's local zone, without one ("2026-11-26 04:00:02"
/// in dpkg.log and fail2ban.log, "2026 Nov 26 04:00:02" once syslog's line has its
/// year), in `format`; the earlier instant when the clock went back over it.
pub fn host_time(text: &str, format: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, format).ok()?;
    let local = Local.from_local_datetime(&naive).earliest()?;
    Some(local.with_timezone(&Utc))
}

/// Text safe for one line of a report: control characters (ANSI escapes, CR, LF,
/// NUL) written as `\x1b`, `\r`, `\n`; cut at `MESSAGE_MAX` characters with "…".
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MESSAGE_MAX + 8));
    for (count, c) in text.chars().enumerate() {
        if count >= MESSAGE_MAX {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
