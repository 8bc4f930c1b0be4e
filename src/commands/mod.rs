//! The commands: what each mode of the command line does, dispatched from one
//! `match` on the mode `cli.rs` resolves. The files below are the commands; this one
//! holds what they share (the config, the state directory, the outbox, the pipeline)
//! and the one error type that maps every failure to an exit status.

mod check;
mod digest;
mod export;
mod preview;
mod queue;
mod send;

use std::path::PathBuf;

use crate::cli::{Cli, Mode};
use crate::collect::procfs::Procfs;
use crate::collect::Window;
use crate::config::{self, Config, ConfigError};
use crate::exit::Exit;
use crate::outbox;
use crate::pipeline::{DeliveryError, Pipeline};
use crate::report::{Parts, TemplateError};
use crate::state;

/// Everything that ends a run early, each mapped to its exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Delivery(DeliveryError),
    /// Another process holds what this run needs; trying again later will do.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl RunError {
    pub fn exit(&self) -> Exit {
        match self {
            RunError::Config(_) | RunError::Template(_) => Exit::Config,
            RunError::Delivery(DeliveryError::Template(_)) => Exit::Config,
            RunError::Delivery(
                DeliveryError::Queued { .. }
                | DeliveryError::Refused { .. }
                | DeliveryError::NotQueued { .. }
                | DeliveryError::Waiting { .. }
                | DeliveryError::Partly { .. },
            )
            | RunError::Busy(_) => Exit::TempFail,
            RunError::Delivery(DeliveryError::Build(_) | DeliveryError::Outbox(_))
            | RunError::Other(_) => Exit::Failure,
        }
    }
}

/// Runs what the command line asks for.
pub fn run(cli: &Cli) -> Result<(), RunError> {
    let mode = cli.mode();
    // A preview's CPU sample window opens first: reading the config is then work
    // the window overlaps, as the collectors' is. `--once` opens its window when it
    // collects, after it has flushed the queue.
    let window = matches!(mode, Mode::Preview { .. }).then(open_window);
    let config = load_config(cli)?;
    match mode {
        Mode::Check { next } => {
            check::warn_if_secrets_readable(&config_path(cli).0);
            check::run(config, next)
        }
        Mode::Validate => reloadable(&config),
        Mode::Drop(which) => queue::drop_messages(&open_outbox(&config)?, which),
        Mode::Outbox => queue::list(&open_outbox(&config)?),
        Mode::Export {
            format,
            since,
            series,
        } => export::run(&config, format, since, series),
        Mode::Preview { format, output } => {
            let window = window.unwrap_or_else(open_window);
            preview::run(config, window, format, output)
        }
        Mode::Digest => digest::send(config),
        Mode::DigestPreview { format, output } => digest::preview(config, format, output),
        Mode::Once => send::once(config),
        Mode::Daemon => send::serve(cli, config),
    }
}

/// Whether the daemon would take `config` on SIGHUP: SMTP settings for sending, and
/// templates that compile strictly.
fn reloadable(config: &Config) -> Result<(), RunError> {
    config.smtp_for_sending()?;
    Pipeline::check_templates(config)?;
    Ok(())
}

/// The outbox under the configured or default state directory; a directory that
/// cannot be created or written is a config error naming the path.
pub(crate) fn open_outbox(config: &Config) -> Result<outbox::Outbox, ConfigError> {
    outbox::Outbox::open(&state_dir(config)).map_err(|e| ConfigError {
        location: config.origin.clone(),
        message: format!("state_dir {e}; set state_dir to a writable directory"),
    })
}

/// The configured state directory, else the default one.
fn state_dir(config: &Config) -> state::StateDir {
    let env = |name: &str| std::env::var(name).ok();
    state::StateDir::resolve(config.state_dir.as_deref(), &env)
}

/// A pipeline that remembers counters in the state directory, its templates
/// compiled now (the daemon: a broken one stops it at start).
fn build_pipeline(config: Config, strict: bool) -> Result<Pipeline, TemplateError> {
    let dir = state_dir(&config);
    let mut pipeline = Pipeline::new(config, strict)?;
    pipeline.state_dir = Some(dir);
    Ok(pipeline)
}

/// As `build_pipeline`, for a command that runs once: its templates are compiled
/// when it first needs them (beside the collectors), and only those of the `parts`
/// it shows.
fn one_shot_pipeline(config: Config, parts: Parts) -> Pipeline {
    let dir = state_dir(&config);
    let mut pipeline = Pipeline::deferred(config, false, parts);
    pipeline.state_dir = Some(dir);
    pipeline
}

fn open_window() -> Window {
    Window::open(&Procfs::default())
}

/// The config named by `-c`, else `$RREPORT_CONFIG`, else the default path.
fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    let (path, explicit) = config_path(cli);
    let config = Config::load(&path, explicit, &env)?;
    tracing::debug!(?config, "config loaded");
    Ok(config)
}

/// The config file to read, and whether the admin named it.
fn config_path(cli: &Cli) -> (PathBuf, bool) {
    let from_env = std::env::var_os("RREPORT_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    match (&cli.config, from_env) {
        (Some(path), _) => (path.clone(), true),
        (None, Some(path)) => (path, true),
        (None, None) => (PathBuf::from(config::DEFAULT_PATH), false),
    }
}
