//! journalctl's export format (`-o export`), read as it streams: three times faster
//! for journalctl to write than JSON (1.45 s against 4.8 s for 200,000 entries here),
//! and binary-safe. An entry is `KEY=value` lines, or for a value with newlines or
//! other bytes `KEY\n`, its length as 64-bit little-endian, the bytes and `\n`; an
//! empty line ends it. Every field is kept to `max` bytes; the rest is skipped.

use std::io::{self, BufRead, Read};

use crate::collect::command::bounded_line;

/// Field names are short ("_SYSTEMD_UNIT"); journald allows 64 bytes.
const KEY_MAX: usize = 256;

/// The fields of one entry the report reads, raw.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Fields {
    pub message: Option<Vec<u8>>,
    pub priority: Option<u8>,
    pub unit: Option<String>,
    pub identifier: Option<String>,
    pub comm: Option<String>,
    pub kernel: bool,
    pub realtime_us: i64,
    pub cursor: String,
}

/// The fields `Fields` keeps; every other is skipped unread.
const WANTED: [&[u8]; 8] = [
    b"MESSAGE",
    b"PRIORITY",
    b"_SYSTEMD_UNIT",
    b"SYSLOG_IDENTIFIER",
    b"_COMM",
    b"_TRANSPORT",
    b"__REALTIME_TIMESTAMP",
    b"__CURSOR",
];

impl Fields {
    fn set(&mut self, key: &[u8], value: Vec<u8>) {
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        match key {
            b"MESSAGE" => self.message = Some(value),
            b"PRIORITY" => self.priority = text(&value).parse().ok(),
            b"_SYSTEMD_UNIT" => self.unit = Some(text(&value)),
            b"SYSLOG_IDENTIFIER" => self.identifier = Some(text(&value)),
            b"_COMM" => self.comm = Some(text(&value)),
            b"_TRANSPORT" => self.kernel = value == b"kernel",
            b"__REALTIME_TIMESTAMP" => self.realtime_us = text(&value).parse().unwrap_or(0),
            b"__CURSOR" => self.cursor = text(&value),
            _ => {}
        }
    }
}

/// Hands each entry of `reader` to `each` until it returns false or the stream ends.
pub fn entries(
    reader: &mut (impl BufRead + ?Sized),
    max: usize,
    mut each: impl FnMut(Fields) -> bool,
) -> io::Result<()> {
    let mut fields = Fields::default();
    let mut line = Vec::new();
    let mut started = false;
    loop {
        // Room for the field's name besides its value, so a cut never loses the `=`.
        if !bounded_line(reader, max + KEY_MAX, &mut line)? {
            if started {
                each(fields);
            }
            return Ok(());
        }
        if line.is_empty() {
            if started && !each(std::mem::take(&mut fields)) {
                return Ok(());
            }
            started = false;
            continue;
        }
        started = true;
        match line.iter().position(|&b| b == b'=') {
            Some(at) if WANTED.contains(&&line[..at]) => {
                let value = line[at + 1..].iter().take(max).copied().collect();
                fields.set(&line[..at], value);
            }
            Some(_) => {}
            None => {
                let key = std::mem::take(&mut line);
                let keep = if WANTED.contains(&&key[..]) { max } else { 0 };
                let value = binary(reader, keep)?;
                fields.set(&key, value);
            }
        }
    }
}

/// A binary field's value: its length, then its bytes (the first `max` kept), then `\n`.
fn binary(reader: &mut (impl BufRead + ?Sized), max: usize) -> io::Result<Vec<u8>> {
    let mut size = [0u8; 8];
    reader.read_exact(&mut size)?;
    let size = u64::from_le_bytes(size);
    let mut value = Vec::new();
    (&mut *reader)
        .take(size.min(max as u64))
        .read_to_end(&mut value)?;
    io::copy(
        &mut (&mut *reader).take(size.saturating_sub(max as u64)),
        &mut io::sink(),
    )?;
    let mut newline = [0u8; 1];
    reader.read_exact(&mut newline)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_fields_and_entries() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1700000000000000\nPRIORITY=3\n_SYSTEMD_UNIT=app.service\nMESSAGE\n");
        let message = b"two\nlines\x1b[31m and more";
        stream.extend_from_slice(&(message.len() as u64).to_le_bytes());
        stream.extend_from_slice(message);
        stream.extend_from_slice(b"\n\n__CURSOR=s=2\nMESSAGE=");
        stream.extend_from_slice(&[b'x'; 100]);
        stream.extend_from_slice(b"\n_TRANSPORT=kernel\n\n");
        let mut seen = Vec::new();
        entries(&mut &stream[..], 16, |f| {
            seen.push(f);
            true
        })
        .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            seen[0].message.as_deref(),
            Some(&b"two\nlines\x1b[31m a"[..]),
            "cut at 16 bytes"
        );
        assert_eq!(
            (
                seen[0].priority,
                seen[0].unit.as_deref(),
                seen[0].realtime_us
            ),
            (Some(3), Some("app.service"), 1_700_000_000_000_000)
        );
        assert_eq!(seen[1].message.as_deref(), Some(&[b'x'; 16][..]));
        assert!(seen[1].kernel);
        assert_eq!(seen[1].cursor, "s=2");
    }
}
