//! The report: context → subject, HTML and text, through minijinja.
//!
//! Knows nothing of SMTP. The built-in templates are compiled in; files named
//! `report.html` / `report.txt` in `template_dir` replace them. HTML output is
//! auto-escaped (the template's name ends in `.html`), so a mount point named
//! `<script>` arrives as text. The subject is rendered without escaping and then
//! flattened to one line, so nothing collected can add a mail header.

mod builtin;
mod chart;
pub mod charts;
mod compile;
pub(crate) mod filters;
mod image;
mod png;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use self::builtin::{section_template, STYLE};
pub use self::builtin::{Set, DEFAULT_SUBJECT, DIGEST, DIGEST_SUBJECT, REPORT};
pub use self::compile::{Recipe, Templates};
pub use self::image::Image;
use crate::context::Context;

/// Long enough for any sensible subject, short enough for every mail client.
const SUBJECT_MAX_CHARS: usize = 200;
/// minijinja instructions one render may run. The built-in templates take under
/// 30,000 even with 10,000 filesystems (tables are cut before they are looped over);
/// a template that never ends runs out in about 0.1 s and fails like any other.
const FUEL: u64 = 2_000_000;
/// No report part is anywhere near this; a template that writes without end stops here.
const OUTPUT_LIMIT: usize = 16 << 20;

/// A template that does not compile or render: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct TemplateError {
    pub location: String,
    pub message: String,
}

/// The three rendered parts of one report.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Images the HTML part refers to by `cid:`; sent as inline parts beside it.
    pub images: Vec<Image>,
    /// Set when the admin's template failed and the built-in one stood in; the
    /// report carries the same words in a banner at its top.
    pub template_error: Option<String>,
}

impl Rendered {
    /// The HTML with each `cid:` image as a `data:` URI instead: a file a browser
    /// opens as the mail client would show it (mail clients want the `cid:` form).
    pub fn html_with_data_uris(&self) -> String {
        use base64::Engine;
        self.images.iter().fold(self.html.clone(), |html, image| {
            let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
            let uri = format!("data:{};base64,{data}", image.content_type);
            html.replace(&format!("\"cid:{}\"", image.cid), &format!("\"{uri}\""))
        })
    }
}

/// One body part: the admin's template if there is one, and the built-in fallback.
struct Body {
    /// The admin's template as registered (its path), when it compiled.
    custom: Option<String>,
    /// Why the admin's template could not be loaded, shown in every report.
    load_error: Option<String>,
    builtin: &'static str,
}

/// The compiled templates, ready to render any number of contexts.
pub struct Renderer {
    env: Environment<'static>,
    html: Body,
    text: Body,
    strict: bool,
}

impl Renderer {
    /// Compiles the subject and the two body templates. `strict` (for `--check` and
    /// SIGHUP) makes a broken template and an undefined variable errors, so mistakes
    /// are found before the night; otherwise a broken admin template is replaced by
    /// the built-in one, with a banner, and the report still goes out.
    pub fn new(
        subject: &str,
        template_dir: Option<&Path>,
        strict: bool,
    ) -> Result<Renderer, TemplateError> {
        Renderer::with_set(&REPORT, subject, template_dir, strict)
    }

    /// As `new`, for a set of templates other than the report's.
    pub fn with_set(
        set: &'static Set,
        subject: &str,
        template_dir: Option<&Path>,
        strict: bool,
    ) -> Result<Renderer, TemplateError> {
        let mut env = environment(set);
        if strict {
            env.set_undefined_behavior(UndefinedBehavior::Strict);
        }
        let subject_error = |e: minijinja::Error| TemplateError {
            location: "report.subject".into(),
            message: describe(&e),
        };
        env.add_template_owned("subject", subject.to_string())
            .map_err(subject_error)?;
        env.add_template("builtin/subject", set.subject)
            .map_err(subject_error)?;
        env.add_template("builtin/style.html", STYLE)
            .map_err(|e| locate_error("builtin/style.html", &e))?;
        let ((html_name, html), (text_name, text)) = (set.builtin_html, set.builtin_text);
        env.add_template(html_name, html)
            .map_err(|e| locate_error(html_name, &e))?;
        env.add_template(text_name, text)
            .map_err(|e| locate_error(text_name, &e))?;
        let html = add_body(&mut env, template_dir, set.html, html_name, strict)?;
        let text = add_body(&mut env, template_dir, set.text, text_name, strict)?;
        Ok(Renderer {
            env,
            html,
            text,
            strict,
        })
    }

    /// Compiles now the built-in templates of these sections, which the built-in
    /// bodies would otherwise compile at the first render that shows them: a
    /// one-shot report does it beside its collectors, before its render. Parts the
    /// admin's templates replace are left alone.
    pub fn compile_sections(&self, sections: &[&str]) -> Result<(), TemplateError> {
        for body in [&self.html, &self.text]
            .into_iter()
            .filter(|b| b.custom.is_none())
        {
            let ext = body.builtin.rsplit_once('.').map_or("", |(_, ext)| ext);
            for name in sections.iter().map(|s| section_template(s, ext)) {
                self.env
                    .get_template(&name)
                    .map_err(|e| locate_error(&name, &e))?;
            }
        }
        Ok(())
    }

    /// Renders the three parts. Each of the admin's templates that fails is replaced
    /// by the built-in one (unless strict), and every built-in part then carries a
    /// banner naming what failed, where.
    pub fn render(&self, ctx: &Context) -> Result<Rendered, TemplateError> {
        let ctx = Value::from_serialize(ctx);
        let mut problems = Vec::new();
        let subject = self.try_custom(Some("subject"), None, &ctx, &mut problems)?;
        let html = self.try_custom(
            self.html.custom.as_deref(),
            self.html.load_error.as_ref(),
            &ctx,
            &mut problems,
        )?;
        let text = self.try_custom(
            self.text.custom.as_deref(),
            self.text.load_error.as_ref(),
            &ctx,
            &mut problems,
        )?;
        let template_error = (!problems.is_empty()).then(|| problems.join("; "));
        let ctx = match &template_error {
            Some(problem) => minijinja::context! { template_error => problem, ..ctx },
            None => ctx,
        };
        let subject = self.render_or_builtin(subject, "builtin/subject", &ctx)?;
        // The HTML takes most of a render's time; the text part is done beside it
        // (the report waits for its render after the CPU window: time, not CPU).
        let render_html = || self.render_or_builtin(html, self.html.builtin, &ctx);
        let (html, text) = std::thread::scope(|s| {
            let beside = std::thread::Builder::new().spawn_scoped(s, render_html.clone());
            let text = self.render_or_builtin(text, self.text.builtin, &ctx);
            let html = match beside {
                Ok(html) => html.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // No thread to be had: here, after the text.
                Err(_) => render_html(),
            };
            (html, text)
        });
        Ok(Rendered {
            subject: one_line(&subject, SUBJECT_MAX_CHARS),
            html: html?,
            text: text?,
            images: Vec::new(),
            template_error,
        })
    }

    /// The admin's template rendered, or None (with the problem noted) when it failed
    /// or could not be loaded; when strict, the failure itself.
    fn try_custom(
        &self,
        name: Option<&str>,
        load_error: Option<&String>,
        ctx: &Value,
        problems: &mut Vec<String>,
    ) -> Result<Option<String>, TemplateError> {
        if let Some(error) = load_error {
            problems.push(error.clone());
        }
        let Some(name) = name else { return Ok(None) };
        let rendered = self
            .env
            .get_template(name)
            .map_err(|e| locate_error(name, &e))
            .and_then(|t| render_bounded(&t, ctx).map_err(|e| self.locate_in(name, &e)));
        match rendered {
            Ok(text) => Ok(Some(text)),
            Err(e) if self.strict => Err(e),
            Err(e) => {
                problems.push(e.to_string());
                Ok(None)
            }
        }
    }

    /// As `locate_error`, and an "undefined value" names the expression that was
    /// undefined (minijinja says only where): "undefined value: memroy.total".
    fn locate_in(&self, name: &str, e: &minijinja::Error) -> TemplateError {
        let mut error = locate_error(name, e);
        let inner = innermost(e);
        let template = self.env.get_template(inner.name().unwrap_or(name)).ok();
        let expression = inner
            .range()
            .zip(template.as_ref().map(|t| t.source()))
            .and_then(|(r, source)| source.get(r))
            .map(str::trim)
            .filter(|x| !x.is_empty() && x.len() <= 80);
        if let (minijinja::ErrorKind::UndefinedError, None, Some(x)) =
            (inner.kind(), inner.detail(), expression)
        {
            error.message = format!("{}: {x}", error.message);
        }
        error
    }

    fn render_or_builtin(
        &self,
        rendered: Option<String>,
        builtin: &str,
        ctx: &Value,
    ) -> Result<String, TemplateError> {
        match rendered {
            Some(text) => Ok(text),
            None => self
                .env
                .get_template(builtin)
                .and_then(|t| render_bounded(&t, ctx))
                .map_err(|e| locate_error(builtin, &e)),
        }
    }
}

/// Renders with at most `OUTPUT_LIMIT` bytes of output (fuel bounds the time).
fn render_bounded(template: &minijinja::Template, ctx: &Value) -> Result<String, minijinja::Error> {
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

/// Registers the admin's `name` from `dir` when it is there. A template that cannot
/// be read or compiled is an error when `strict`, else a note for the banner.
fn add_body(
    env: &mut Environment<'static>,
    dir: Option<&Path>,
    name: &str,
    builtin: &'static str,
    strict: bool,
) -> Result<Body, TemplateError> {
    let mut body = Body {
        custom: None,
        load_error: None,
        builtin,
    };
    let Some(path) = dir.map(|d| d.join(name)).filter(|p| p.exists()) else {
        return Ok(body);
    };
    let key = path.display().to_string();
    let loaded = std::fs::read_to_string(&path)
        .map_err(|e| TemplateError {
            location: key.clone(),
            message: format!("cannot read template: {e}"),
        })
        .and_then(|source| {
            env.add_template_owned(key.clone(), source)
                .map_err(|e| locate_error(&key, &e))
        });
    match loaded {
        Ok(()) => body.custom = Some(key),
        Err(e) if strict => return Err(e),
        Err(e) => body.load_error = Some(e.to_string()),
    }
    Ok(body)
}

fn environment(set: &'static Set) -> Environment<'static> {
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
    if !(plain_string && matches!(state.auto_escape(), minijinja::AutoEscape::Html)) {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.as_str().unwrap_or_default();
    let mut last = 0;
    for (i, c) in text.char_indices() {
        let entity = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i])?;
        out.write_str(entity)?;
        last = i + 1;
    }
    out.write_str(&text[last..])?;
    Ok(())
}

/// Where the error happened and what it is. An error inside an included template
/// (a built-in section, or `builtin/style.html`) is located there, not at the
/// `include` that led to it.
fn locate_error(name: &str, e: &minijinja::Error) -> TemplateError {
    let e = innermost(e);
    let location = match e.line() {
        Some(line) => format!("{}:{line}", e.name().unwrap_or(name)),
        None => e.name().unwrap_or(name).to_string(),
    };
    TemplateError {
        location,
        message: describe(e),
    }
}

/// The error an include's error wraps, down to the template where it happened.
fn innermost(e: &minijinja::Error) -> &minijinja::Error {
    let mut inner = e;
    while let Some(source) = std::error::Error::source(inner)
        .and_then(|s| s.downcast_ref::<minijinja::Error>())
        .filter(|_| inner.kind() == minijinja::ErrorKind::BadInclude)
    {
        inner = source;
    }
    inner
}

/// The error's kind and detail, without minijinja's multi-line source excerpt.
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Control characters (CR, LF, tabs) become spaces, runs of spaces collapse, and the
/// text is cut to `max` characters with an ellipsis.
fn one_line(text: &str, max: usize) -> String {
    let flat = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An admin's template may include a built-in section; an error there is
    /// located in the section, with the undefined expression named.
    #[test]
    fn errors_in_an_included_section_name_the_section() {
        let dir = tempfile::tempdir().unwrap();
        let include = "{{ hostname }}\n{% include \"builtin/sections/cpu.txt\" %}";
        std::fs::write(dir.path().join("report.txt"), include).unwrap();
        let renderer = Renderer::new(DEFAULT_SUBJECT, Some(dir.path()), true).unwrap();
        let mut ctx = Context(Default::default());
        for key in ["hostname", "status"] {
            ctx.0.insert(key.into(), "web-1".into());
        }
        let e = renderer.render(&ctx).unwrap_err();
        assert_eq!(e.location, "builtin/sections/cpu.txt:3");
        assert_eq!(e.message, "undefined value: cpu");
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            one_line("[OK] web-1\r\nBcc: victim@example.com", 200),
            "[OK] web-1 Bcc: victim@example.com"
        );
        assert_eq!(one_line("  a\t\u{7}b  ", 200), "a b");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
