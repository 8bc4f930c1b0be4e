//! A message's pattern: numbers, hexadecimal, addresses and paths replaced by
//! placeholders, so "Connection from 203.0.113.7 port 51234" and the same from
//! another address count as one line ("Connection from <ip> port <n>").
//! A scan over the words, no regular expressions: it runs on every entry.

pub fn pattern(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    // Pieces between separators; a value keeps what is around it: "(pid=42)," →
    // "(pid=<n>),".
    let separator = |c: char| c.is_whitespace() || "()[],;=\"'<>{}".contains(c);
    let mut rest = message;
    while !rest.is_empty() {
        let end = rest.find(separator).unwrap_or(rest.len());
        let (piece, after) = rest.split_at(end);
        // A trailing colon is punctuation ("op 0x0:"); an address keeps its own.
        let (core, colon) = match piece.strip_suffix(':') {
            Some(core) if !core.is_empty() => (core, ":"),
            _ => (piece, ""),
        };
        out.push_str(placeholder(core).unwrap_or(core));
        out.push_str(colon);
        let mut chars = after.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// The placeholder for a word that is a value, None for a word that is a word.
fn placeholder(word: &str) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    if word.starts_with('/') && word.len() > 1 {
        return Some("<path>");
    }
    if is_ipv4(word) || is_ipv6(word) {
        return Some("<ip>");
    }
    if word
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && word.starts_with(|c: char| c.is_ascii_digit())
    {
        return Some("<n>");
    }
    let hex = word.strip_prefix("0x").unwrap_or(word);
    let is_hex = hex.chars().all(|c| c.is_ascii_hexdigit());
    if is_hex
        && (word.starts_with("0x") || (hex.len() >= 8 && hex.chars().any(|c| c.is_ascii_digit())))
    {
        return Some("<hex>");
    }
    None
}

fn is_ipv4(word: &str) -> bool {
    let word = word.split_once(':').map_or(word, |(a, _)| a);
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_ipv6(word: &str) -> bool {
    word.matches(':').count() >= 2
        && word
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.' || c == '%')
        && word.chars().any(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_placeholders_and_words_stay() {
        for (message, expected) in [
            (
                "Connection from 203.0.113.7 port 51234 on 10.0.0.1 port 22",
                "Connection from <ip> port <n> on <ip> port <n>",
            ),
            (
                "Failed password for root from 2001:db8::7 port 4022 ssh2",
                "Failed password for root from <ip> port <n> ssh2",
            ),
            (
                "I/O error, dev sda, sector 123456 op 0x0:(READ)",
                "I/O error, dev sda, sector <n> op <hex>:(READ)",
            ),
            (
                "open /var/lib/app/cache/1234.tmp failed (errno 28)",
                "open <path> failed (errno <n>)",
            ),
            (
                "segfault at 7f3a2b1c ip 00007f3a2b1c4d5e sp 00007ffd",
                "segfault at <hex> ip <hex> sp <hex>",
            ),
            ("worker 3 took 1.25 s", "worker <n> took <n> s"),
        ] {
            assert_eq!(pattern(message), expected, "{message}");
        }
    }
}
