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
mod engine;
pub(crate) mod filters;
mod image;
mod png;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use self::builtin::{section_template, STYLE};
pub use self::builtin::{Set, DEFAULT_SUBJECT, DIGEST, DIGEST_SUBJECT, REPORT};
pub use self::compile::{Recipe, Templates};
use self::engine::{environment, render_bounded};
pub use self::image::Image;
use crate::context::Context;

/// Long enough for any sensible subject, short enough for every mail client.
const SUBJECT_MAX_CHARS: usize = 200;
/// A template that does not compile or render: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct TemplateError {
    pub location: String,
    pub message: String,
}

/// The three rendered parts of one report; a body part the command does not show
/// (`Parts`) is empty.
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

/// Which body parts a command shows: a preview shows one, an email both. A built-in
/// part not shown is neither compiled nor rendered (its `Rendered` field is empty);
/// the admin's templates are rendered all the same, so a preview of one part still
/// reports a failure in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub html: bool,
    pub text: bool,
}

impl Parts {
    pub const BOTH: Parts = Parts {
        html: true,
        text: true,
    };
    pub const HTML: Parts = Parts {
        html: true,
        text: false,
    };
    pub const TEXT: Parts = Parts {
        html: false,
        text: true,
    };
}

/// One body part: the admin's template if there is one, and the built-in fallback.
struct Body {
    /// The admin's template as registered (its path), when it compiled.
    custom: Option<String>,
    /// Why the admin's template could not be loaded, shown in every report.
    load_error: Option<String>,
    builtin: &'static str,
    /// Whether the command shows this part (`Parts`).
    shown: bool,
}

impl Body {
    /// Whether its built-in template may be needed: the part is shown, and no
    /// template of the admin's replaces it.
    fn needs_builtin(&self) -> bool {
        self.shown && self.custom.is_none()
    }
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

    /// Renders only these parts' built-in templates (`Parts`); both, unless told.
    pub fn showing(mut self, parts: Parts) -> Renderer {
        self.html.shown = parts.html;
        self.text.shown = parts.text;
        self
    }

    /// Compiles now the built-in templates of these sections, which the built-in
    /// bodies would otherwise compile at the first render that shows them: a
    /// one-shot report does it beside its collectors, before its render. Parts the
    /// admin's templates replace are left alone.
    pub fn compile_sections(&self, sections: &[&str]) -> Result<(), TemplateError> {
        for body in [&self.html, &self.text]
            .into_iter()
            .filter(|b| b.needs_builtin())
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
        let render_html = || self.body(html, &self.html, &ctx);
        let render_text = || self.body(text, &self.text, &ctx);
        let (html, text) = if self.html.needs_builtin() && self.text.needs_builtin() {
            beside(render_html, render_text)
        } else {
            (render_html(), render_text())
        };
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

    /// A body part: the admin's, or the built-in one when shown, else empty.
    fn body(
        &self,
        rendered: Option<String>,
        body: &Body,
        ctx: &Value,
    ) -> Result<String, TemplateError> {
        match rendered {
            None if !body.shown => Ok(String::new()),
            rendered => self.render_or_builtin(rendered, body.builtin, ctx),
        }
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

/// Runs `first` on a thread beside this one, which runs `second`. Both parts take
/// about the same time, and a report waits for its render after the CPU window.
fn beside<A: Send, B>(
    first: impl FnOnce() -> A + Send + Clone,
    second: impl FnOnce() -> B,
) -> (A, B) {
    std::thread::scope(|s| {
        let thread = std::thread::Builder::new().spawn_scoped(s, first.clone());
        let b = second();
        let a = match thread {
            Ok(a) => a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No thread to be had: here, after the other.
            Err(_) => first(),
        };
        (a, b)
    })
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
        shown: true,
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
    fn a_part_not_shown_is_not_rendered() {
        let mut ctx = Context(Default::default());
        for key in ["hostname", "status"] {
            ctx.0.insert(key.into(), "web-1".into());
        }
        ctx.0.insert("sections".into(), serde_json::json!(["host"]));
        let both = Renderer::new(DEFAULT_SUBJECT, None, false).unwrap();
        let both = both.render(&ctx).unwrap();
        assert!(both.html.contains("<h1") && both.text.contains("web-1: WEB-1"));
        let (html, text) = (both.html.as_str(), both.text.as_str());
        for (parts, html, text) in [(Parts::HTML, html, ""), (Parts::TEXT, "", text)] {
            let renderer = Renderer::new(DEFAULT_SUBJECT, None, false).unwrap();
            let one = renderer.showing(parts).render(&ctx).unwrap();
            assert_eq!((one.html.as_str(), one.text.as_str()), (html, text));
            assert_eq!(one.subject, both.subject);
        }
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
