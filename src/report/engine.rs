//! How a template runs: the minijinja environment every set is compiled in (its
//! whitespace rules, filters and escaping), and the limits of one render.

use minijinja::{Environment, Value};

use super::{filters, Set};

/// minijinja instructions one render may run. The built-in templates take under
/// 30,000 even with 10,000 filesystems (tables are cut before they are looped over);
/// a template that never ends runs out in about 0.1 s and fails like any other.
const FUEL: u64 = 2_000_000;
/// No report part is anywhere near this; a template that writes without end stops here.
const OUTPUT_LIMIT: usize = 16 << 20;

/// Renders with at most `OUTPUT_LIMIT` bytes of output (fuel bounds the time).
pub(super) fn render_bounded(
    template: &minijinja::Template,
    ctx: &Value,
) -> Result<String, minijinja::Error> {
    let mut out = Bounded(Vec::new());
    match template.render_captured_to(ctx, &mut out) {
        Ok(_) => String::from_utf8(out.0).map_err(|_| {
            minijinja::Error::new(
                minijinja::ErrorKind::BadSerialization,
                "output is not UTF-8",
            )
        }),
        Err(e) if out.0.len() >= OUTPUT_LIMIT => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "the output passed {} MiB; does a loop never end?",
                OUTPUT_LIMIT >> 20
            ),
        )
        .with_source(e)),
        Err(e) => Err(e),
    }
}

/// A buffer that refuses to grow past `OUTPUT_LIMIT`.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > OUTPUT_LIMIT {
            self.0.resize(OUTPUT_LIMIT, 0);
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(super) fn environment(set: &'static Set) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(move |name| Ok(set.lazy(name).map(String::from)));
    env.set_keep_trailing_newline(true);
    // Block tags on lines of their own leave no blank lines behind (Jinja's
    // trim_blocks and lstrip_blocks), which the plain-text part depends on.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    filters::register(&mut env);
    env.set_formatter(html_formatter);
    env.set_fuel(Some(FUEL));
    env
}

/// minijinja's HTML escaping also turns `/` into `&#x2f;`, which makes every path in
/// the report (mount points, devices) unreadable in the source and longer on the
/// wire. `/` is harmless in text and in quoted attributes, so escape only
/// `& < > " '`, as Jinja2's markupsafe does.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let plain_string = value.kind() == minijinja::value::ValueKind::String && !value.is_safe();
    let text = match (value.as_str(), state.auto_escape()) {
        (Some(text), minijinja::AutoEscape::Html) if plain_string => text,
        // The text part's strings, written as they are (no formatting machinery).
        (Some(text), minijinja::AutoEscape::None) => return Ok(out.write_str(text)?),
        _ => return minijinja::escape_formatter(out, state, value),
    };
    let mut last = 0;
    // Bytes, not chars: the five are ASCII, which never occurs inside a multi-byte
    // UTF-8 sequence, so each index is a char boundary.
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i])?;
        out.write_str(entity)?;
        last = i + 1;
    }
    out.write_str(&text[last..])?;
    Ok(())
}
