//! One journal entry, from a line of `journalctl -o json`: the few fields the report
//! reads. MESSAGE may be a string, an array of bytes (when it is not valid UTF-8 or
//! holds control characters) or null; every text is made safe to show (control
//! characters written out, cut to a length) before anything else sees it.

use serde_json::Value;

/// Characters of a message kept: a 10 KB message is a line in a report, not a page.
pub const MESSAGE_MAX: usize = 300;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub message: String,
    /// 0 (emerg) to 7 (debug); 6 (info) when the entry has none.
    pub priority: u8,
    /// The unit, else the syslog identifier, else the command, else "kernel".
    pub source: String,
    pub kernel: bool,
    /// Microseconds since the epoch.
    pub time_us: i64,
    pub cursor: String,
}

impl Entry {
    pub fn from_json(line: &[u8]) -> Option<Entry> {
        let json: Value = serde_json::from_slice(line).ok()?;
        let text = |k: &str| json.get(k).and_then(Value::as_str);
        let kernel = text("_TRANSPORT") == Some("kernel");
        let source = text("_SYSTEMD_UNIT")
            .or(text("SYSLOG_IDENTIFIER"))
            .or(text("_COMM"))
            .map_or_else(|| if kernel { "kernel".into() } else { "?".into() }, shown);
        Some(Entry {
            message: message(json.get("MESSAGE")?),
            priority: text("PRIORITY").and_then(|p| p.parse().ok()).unwrap_or(6),
            source: if kernel { "kernel".into() } else { source },
            kernel,
            time_us: text("__REALTIME_TIMESTAMP")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            cursor: text("__CURSOR").unwrap_or("").to_string(),
        })
    }
}

/// MESSAGE as text: a string, or bytes (journald stores binary-unsafe messages so).
fn message(value: &Value) -> String {
    match value {
        Value::String(s) => shown(s),
        Value::Array(bytes) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().map(|b| b as u8))
                .collect();
            shown(&String::from_utf8_lossy(&bytes))
        }
        _ => String::new(),
    }
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
