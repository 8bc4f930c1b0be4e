//! The TOML parser's and serde's messages, rewritten to say what to do. They are
//! right but written for programmers ("invalid type: string \"10\", expected u64");
//! the admin who reads them wrote a config file, and needs the fix.

/// Keys that belong at the top of the file, before any `[table]`.
const TOP_LEVEL: &[&str] = &[
    "schedule",
    "timezone",
    "hostname",
    "state_dir",
    "collector_timeout_secs",
];

/// A better message for a TOML error at byte `offset` of `text`, or the original.
pub fn advise(message: &str, text: &str, offset: Option<usize>) -> String {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some(better) = wrong_type(rest) {
            return better;
        }
    }
    if message == "duplicate key" {
        if let Some(key) = offset.and_then(|o| key_at(text, o)) {
            return format!("`{key}` is set twice; keep one");
        }
    }
    if let Some(field) = unknown_field(message) {
        if let Some(table) = offset.and_then(|o| table_above(text, o)) {
            if TOP_LEVEL.contains(&field) {
                return format!(
                    "`{field}` is read as part of the {table} table above it; top-level keys go before the first table: move it to the top of the file"
                );
            }
            if table == "[smtp]" {
                // username and password are refused by name with their own advice.
                return message.replace(", `username`, `password`", "").to_string();
            }
        }
    }
    message.to_string()
}

/// "string \"10\", expected u64" → "expected a number, …".
fn wrong_type(rest: &str) -> Option<String> {
    let (found, expected) = rest.split_once(", expected ")?;
    let number = matches!(expected, "u64" | "i64" | "u32" | "u16" | "usize");
    match (found, expected) {
        (f, _) if number && f.starts_with("string ") => {
            let value = f.trim_start_matches("string ").trim_matches('"');
            let advice = match value.parse::<f64>() {
                Ok(_) => format!("; write it without quotes: {value}"),
                Err(_) => String::new(),
            };
            Some(format!(
                "expected a number, found the string \"{value}\"{advice}"
            ))
        }
        (f, _) if number && f.starts_with("floating point") => Some(format!(
            "expected a whole number, found {}",
            f.trim_start_matches("floating point ").trim_matches('`')
        )),
        (f, "f64") if f.starts_with("string ") => Some(format!(
            "expected a number, found the {f}; write it without quotes"
        )),
        (f, "a sequence") if f.starts_with("string ") => {
            let value = f.trim_start_matches("string ");
            Some(format!(
                "expected a list, found a string; write it in brackets: [{value}]"
            ))
        }
        _ => None,
    }
}

/// `unknown field `x`, expected …` → `x`.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(field, _)| field)
}

/// The key written at `offset` (the start of a line such as `schedule = …`).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let line = text.get(offset..)?.lines().next()?;
    let key = line.split('=').next()?.trim();
    (!key.is_empty()).then(|| key.to_string())
}

/// The header of the table that the line at `offset` belongs to: `[smtp]`,
/// `[[watch]]`; `None` at the top level.
fn table_above(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    before.lines().rev().find_map(|line| {
        let line = line.trim();
        line.starts_with('[')
            .then(|| line.split('#').next().unwrap_or(line).trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(message: &str, text: &str, offset: Option<usize>, expected: &str) {
        assert_eq!(advise(message, text, offset), expected);
    }

    #[test]
    fn messages_say_what_to_write() {
        check(
            "invalid type: string \"10\", expected u64",
            "",
            None,
            "expected a number, found the string \"10\"; write it without quotes: 10",
        );
        check(
            "invalid type: floating point `1.5`, expected u64",
            "",
            None,
            "expected a whole number, found 1.5",
        );
        check(
            "invalid type: string \"a@b.c\", expected a sequence",
            "",
            None,
            "expected a list, found a string; write it in brackets: [\"a@b.c\"]",
        );
        let dup = "schedule = \"0 8 * * *\"\nschedule = \"1 8 * * *\"\n";
        check(
            "duplicate key",
            dup,
            Some(23),
            "`schedule` is set twice; keep one",
        );
        let late = "[[watch]]\npath = \"/etc\"\nschedule = \"0 9 * * *\"\n";
        check(
            "unknown field `schedule`, expected one of `path`, `recursive`",
            late,
            Some(24),
            "`schedule` is read as part of the [[watch]] table above it; top-level keys go before the first table: move it to the top of the file",
        );
        let smtp = "[smtp]\nuser = \"me\"\n";
        check(
            "unknown field `user`, expected one of `host`, `max_queue_age`, `username`, `password`",
            smtp,
            Some(7),
            "unknown field `user`, expected one of `host`, `max_queue_age`",
        );
        check("something else", "", None, "something else");
    }
}
