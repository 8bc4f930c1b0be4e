//! The report: context → subject, HTML and text, through minijinja.
//!
//! Knows nothing of SMTP. The built-in templates are compiled in; files named
//! `report.html` / `report.txt` in `template_dir` replace them. HTML output is
//! auto-escaped (the template's name ends in `.html`), so a mount point named
//! `<script>` arrives as text. The subject is rendered without escaping and then
//! flattened to one line, so nothing collected can add a mail header.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use crate::collect::Context;

const BUILTIN_HTML: &str = include_str!("../templates/report.html");
const BUILTIN_TEXT: &str = include_str!("../templates/report.txt");
/// Long enough for any sensible subject, short enough for every mail client.
const SUBJECT_MAX_CHARS: usize = 200;

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
}

/// The compiled templates, ready to render any number of contexts.
pub struct Renderer {
    env: Environment<'static>,
    html_name: String,
    text_name: String,
}

impl Renderer {
    /// Compiles the subject and the two body templates. `strict` makes an undefined
    /// variable an error, for `--check`, so typos are found before the night.
    pub fn new(
        subject: &str,
        template_dir: Option<&Path>,
        strict: bool,
    ) -> Result<Renderer, TemplateError> {
        let mut env = environment();
        if strict {
            env.set_undefined_behavior(UndefinedBehavior::Strict);
        }
        let subject_error = |e: minijinja::Error| TemplateError {
            location: "report.subject".into(),
            message: describe(&e),
        };
        env.add_template_owned("subject", subject.to_string())
            .map_err(subject_error)?;
        let html_name = add_body(&mut env, template_dir, "report.html", BUILTIN_HTML)?;
        let text_name = add_body(&mut env, template_dir, "report.txt", BUILTIN_TEXT)?;
        Ok(Renderer {
            env,
            html_name,
            text_name,
        })
    }

    pub fn render(&self, ctx: &Context) -> Result<Rendered, TemplateError> {
        let ctx = Value::from_serialize(ctx);
        let render = |name: &str| {
            let tmpl = self
                .env
                .get_template(name)
                .map_err(|e| locate_error(name, &e))?;
            tmpl.render(&ctx).map_err(|e| locate_error(name, &e))
        };
        Ok(Rendered {
            subject: one_line(&render("subject")?, SUBJECT_MAX_CHARS),
            html: render(&self.html_name)?,
            text: render(&self.text_name)?,
        })
    }
}

/// Checks that a subject template compiles; the message says what is wrong.
pub fn check_subject(subject: &str) -> Result<(), String> {
    environment()
        .template_from_str(subject)
        .map(|_| ())
        .map_err(|e| format!("report.subject: {}", describe(&e)))
}

/// Loads `name` from `dir` when it is there, else the built-in text; returns the
/// name it was registered under (the file's path, so errors point at the file).
fn add_body(
    env: &mut Environment<'static>,
    dir: Option<&Path>,
    name: &str,
    builtin: &'static str,
) -> Result<String, TemplateError> {
    let path = dir.map(|d| d.join(name)).filter(|p| p.exists());
    let (key, source) = match path {
        Some(path) => {
            let source = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                location: path.display().to_string(),
                message: format!("cannot read template: {e}"),
            })?;
            (path.display().to_string(), source)
        }
        None => (name.to_string(), builtin.to_string()),
    };
    env.add_template_owned(key.clone(), source)
        .map_err(|e| locate_error(&key, &e))?;
    Ok(key)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    // Block tags on lines of their own leave no blank lines behind (Jinja's
    // trim_blocks and lstrip_blocks), which the plain-text part depends on.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    crate::filters::register(&mut env);
    env.set_formatter(html_formatter);
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

fn locate_error(name: &str, e: &minijinja::Error) -> TemplateError {
    let location = match e.line() {
        Some(line) => format!("{}:{line}", e.name().unwrap_or(name)),
        None => e.name().unwrap_or(name).to_string(),
    };
    TemplateError {
        location,
        message: describe(e),
    }
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
