//! Templates compiled when a command first needs them, or on a thread of their own
//! while the collectors run.
//!
//! Compiling the built-in templates costs about 3 ms of CPU. A one-shot report that
//! compiled them before collecting paid that before its CPU window opened; now it
//! starts them compiling beside the collectors and has them by the time it renders,
//! and `--format json`, which renders nothing, never compiles them. The daemon and
//! `--check` still compile at once: a broken template must stop them at start.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use super::{Parts, Renderer, Set, TemplateError};

/// What to compile: a set of templates, its subject, the admin's directory, and
/// the sections the report shows (whose built-in templates are compiled with the
/// rest; the others only if a render asks for them).
#[derive(Clone)]
pub struct Recipe {
    pub set: &'static Set,
    pub subject: String,
    pub template_dir: Option<PathBuf>,
    pub strict: bool,
    pub sections: Vec<&'static str>,
    /// The body parts the command shows; the built-in templates of the others are
    /// neither compiled nor rendered.
    pub parts: Parts,
}

impl Recipe {
    pub fn compile(&self) -> Result<Renderer, TemplateError> {
        let dir = self.template_dir.as_deref();
        let renderer =
            Renderer::with_set(self.set, &self.subject, dir, self.strict)?.showing(self.parts);
        renderer.compile_sections(&self.sections)?;
        Ok(renderer)
    }
}

type Compiled = Result<Renderer, TemplateError>;

/// A set of templates, compiled once: at the first `get`, or ahead of it on a
/// thread started by `start`.
pub struct Templates {
    recipe: Recipe,
    compiled: OnceLock<Compiled>,
    compiling: Mutex<Option<JoinHandle<Compiled>>>,
}

impl Templates {
    /// Nothing is compiled yet.
    pub fn new(recipe: Recipe) -> Templates {
        Templates {
            recipe,
            compiled: OnceLock::new(),
            compiling: Mutex::new(None),
        }
    }

    /// Starts compiling on a thread of its own, unless that has begun or is done.
    /// Where no thread can be started, `get` compiles instead.
    pub fn start(&self) {
        let mut compiling = self.compiling.lock().unwrap_or_else(|p| p.into_inner());
        if compiling.is_some() || self.compiled.get().is_some() {
            return;
        }
        let recipe = self.recipe.clone();
        let spawned = std::thread::Builder::new()
            .name("templates".into())
            .spawn(move || recipe.compile());
        *compiling = spawned.ok();
    }

    /// The compiled templates, waiting for `start`'s thread or compiling now.
    pub fn get(&self) -> Result<&Renderer, TemplateError> {
        let compiled = self.compiled.get_or_init(|| {
            let thread = self
                .compiling
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            match thread.map(JoinHandle::join) {
                Some(Ok(compiled)) => compiled,
                // A panic while compiling: try once more here, where it surfaces.
                Some(Err(_)) | None => self.recipe.compile(),
            }
        });
        compiled.as_ref().map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DEFAULT_SUBJECT, REPORT};

    fn recipe(subject: &str) -> Recipe {
        Recipe {
            set: &REPORT,
            subject: subject.into(),
            template_dir: None,
            strict: false,
            sections: vec!["cpu"],
            parts: Parts::BOTH,
        }
    }

    #[test]
    fn started_templates_are_the_ones_got() {
        let templates = Templates::new(recipe(DEFAULT_SUBJECT));
        templates.start();
        templates.start(); // a second start is no second thread
        let ctx = crate::context::Context(Default::default());
        let first = templates.get().unwrap() as *const Renderer;
        assert_eq!(first, templates.get().unwrap() as *const Renderer);
        assert!(templates.get().unwrap().render(&ctx).is_ok());
    }

    #[test]
    fn a_subject_that_does_not_compile_is_the_error_of_every_get() {
        for start in [false, true] {
            let templates = Templates::new(recipe("{% if %}"));
            if start {
                templates.start();
            }
            let e = templates.get().err().unwrap();
            assert_eq!(e.location, "report.subject");
            assert_eq!(templates.get().err(), Some(e));
        }
    }
}
