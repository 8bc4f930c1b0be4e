//! Template filters for humans: `bytes`, `duration`, `seconds`, `percent`, `fixed`,
//! `datetime`, `clock`, `sparkline`, `ljust`, `rjust`.
//!
//! Each takes whatever the context holds, including null (a failed collector),
//! and prints "n/a" rather than failing the whole report.

use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use minijinja::{Environment, Value};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bytes", |v: Value| number(&v).map_or_else(na, bytes));
    env.add_filter("duration", |v: Value| {
        number(&v).map_or_else(na, |s| duration(s.max(0.0) as u64))
    });
    env.add_filter("percent", |v: Value, places: Option<usize>| {
        number(&v).map_or_else(na, |p| format!("{p:.*}%", places.unwrap_or(1)))
    });
    env.add_filter("seconds", |v: Value| number(&v).map_or_else(na, seconds));
    env.add_filter("fixed", |v: Value, places: Option<usize>| {
        number(&v).map_or_else(na, |n| format!("{n:.*}", places.unwrap_or(2)))
    });
    env.add_filter("datetime", |v: Value| time(&v, &DATETIME));
    env.add_filter("clock", |v: Value| time(&v, &CLOCK));
    env.add_filter("sparkline", |v: Value| sparkline(&numbers(&v)));
    env.add_filter("ljust", |v: Value, width: usize| {
        format!("{:<width$}", display(&v))
    });
    env.add_filter("rjust", |v: Value, width: usize| {
        format!("{:>width$}", display(&v))
    });
    env.add_filter("truncate", |v: Value, max: usize| {
        truncate(&display(&v), max)
    });
    env.add_filter("command", |v: Value, max: usize| command(&display(&v), max));
}

/// The formats of `datetime` and `clock`, parsed once rather than at every call.
static DATETIME: Format = LazyLock::new(|| format("%a %-d %b %Y %H:%M %:z"));
static CLOCK: Format = LazyLock::new(|| format("%a %H:%M"));

type Format = LazyLock<Vec<Item<'static>>>;

fn format(spec: &'static str) -> Vec<Item<'static>> {
    StrftimeItems::new(spec)
        .parse()
        .expect("a constant strftime format")
}

/// An RFC 3339 time in `format`; anything else as it is.
fn time(v: &Value, format: &[Item<'static>]) -> String {
    match v.as_str().map(chrono::DateTime::parse_from_rfc3339) {
        Some(Ok(t)) => t.format_with_items(format.iter()).to_string(),
        _ => display(v),
    }
}

/// A line of numbers as block characters from ▁ (its lowest) to █ (its highest);
/// a gap (null) is a space. A flat line is all ▁.
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let known = values.iter().flatten();
    let lo = known.clone().copied().fold(f64::INFINITY, f64::min);
    let hi = known.copied().fold(f64::NEG_INFINITY, f64::max);
    let span = hi - lo;
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if span <= 0.0 => BARS[0],
            Some(v) => BARS[(((v - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

/// The numbers of a list (nulls kept as gaps); anything else is an empty line.
fn numbers(v: &Value) -> Vec<Option<f64>> {
    match v.try_iter() {
        Ok(items) => items.map(|x| number(&x)).collect(),
        Err(_) => Vec::new(),
    }
}

/// A command line as a table can hold it: the program's file name (not its whole
/// path) and the first arguments, at most `max` characters. A kernel thread, which
/// has no command line, is its name in brackets (`[kworker/1:1H-kblockd]`): no path
/// to take a file name from.
pub fn command(line: &str, max: usize) -> String {
    if line.starts_with('[') {
        return truncate(line, max);
    }
    let (program, rest) = line.split_once(' ').unwrap_or((line, ""));
    let program = match program.rsplit_once('/') {
        Some((_, name)) if !name.is_empty() => name,
        _ => program,
    };
    let short = match rest {
        "" => program.to_string(),
        rest => format!("{program} {rest}"),
    };
    truncate(&short, max)
}

/// At most `max` characters, the last an ellipsis when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn na() -> String {
    "n/a".to_string()
}

fn number(v: &Value) -> Option<f64> {
    f64::try_from(v.clone()).ok().filter(|n| n.is_finite())
}

fn display(v: &Value) -> String {
    if v.is_none() || v.is_undefined() {
        na()
    } else {
        v.to_string()
    }
}

/// A short time taken: "0.4 ms", "12 ms", "2.50 s".
pub fn seconds(s: f64) -> String {
    match s {
        s if s < 0.01 => format!("{:.1} ms", s * 1000.0),
        s if s < 1.0 => format!("{:.0} ms", s * 1000.0),
        s => format!("{s:.2} s"),
    }
}

pub use crate::units::bytes;

/// Whole minutes, like uptime(1): 338400 → "3d 22h 0m"; under a minute, seconds.
pub fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(template: &str, ctx: Value, expected: &str) {
        let mut env = Environment::new();
        register(&mut env);
        assert_eq!(
            env.render_str(template, ctx).unwrap(),
            expected,
            "{template}"
        );
    }

    #[test]
    fn filters_print_what_people_read() {
        let ctx =
            minijinja::context! { mem => 16777216000_u64, up => 338400, p => 12.5, none => () };
        check("{{ mem | bytes }}", ctx.clone(), "15.6 GiB");
        check(
            "{{ 0.0004 | seconds }} {{ 0.0123 | seconds }} {{ 2.5 | seconds }} {{ none | seconds }}",
            ctx.clone(),
            "0.4 ms 12 ms 2.50 s n/a",
        );
        check(
            "{{ 999 | bytes }} {{ 1023 | bytes }} {{ 1536 | bytes }} {{ 0 | bytes }} {{ 1063780352 | bytes }}",
            ctx.clone(),
            "999 B 1.0 KiB 1.5 KiB 0 B 1.0 GiB",
        );
        check("{{ up | duration }}", ctx.clone(), "3d 22h 0m");
        check(
            "{{ 59 | duration }} {{ 3600 | duration }} {{ 125 | duration }}",
            ctx.clone(),
            "59s 1h 0m 2m",
        );
        check(
            "{{ p | percent }} {{ 7 | percent }} {{ 22.5 | percent(0) }} {{ none | percent(0) }}",
            ctx.clone(),
            "12.5% 7.0% 22% n/a",
        );
        check(
            "{{ none | bytes }} {{ missing | percent }} {{ none | duration }}",
            ctx.clone(),
            "n/a n/a n/a",
        );
        check(
            "{{ 0.3 | fixed }} {{ 1.25 | fixed(1) }} {{ none | fixed }}",
            ctx.clone(),
            "0.30 1.2 n/a",
        );
        check(
            "[{{ 'ab' | ljust(4) }}][{{ 'ab' | rjust(4) }}][{{ none | ljust(4) }}]",
            ctx.clone(),
            "[ab  ][  ab][n/a ]",
        );
        check(
            "{{ 'abcdef' | truncate(4) }} {{ 'abc' | truncate(4) }}",
            ctx.clone(),
            "abc… abc",
        );
        check(
            "{{ '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main' | command(30) }}|{{ 'nginx: worker process' | command(30) }}|{{ '/bin/' | command(30) }}|{{ '[kworker/1:1H-kblockd]' | command(30) }}",
            ctx,
            "postgres -D /var/lib/postgres…|nginx: worker process|/bin/|[kworker/1:1H-kblockd]",
        );
    }

    #[test]
    fn times_are_written_in_the_zone_they_carry() {
        let ctx = minijinja::context! { t => "2026-03-09T07:05:00+01:00", odd => "yesterday" };
        check(
            "{{ t | datetime }}|{{ t | clock }}|{{ odd | datetime }}|{{ none | clock }}",
            ctx,
            "Mon 9 Mar 2026 07:05 +01:00|Mon 07:05|yesterday|n/a",
        );
    }
}
