//! rreport: emails a report of how a Linux server is doing, on a cron schedule.
//!
//! # Layout, in the order data flows
//! - `cli`: the command line (clap). `main.rs` parses it and calls [`run`].
//! - `config`: the TOML file → a checked [`config::Config`]; credentials from the environment.
//! - `schedule`: crontab(5) expression + "now" → next fire time. Pure.
//! - `collect`: the collectors (`host`, `boot`, `cpu`, `memory`, `disk`), each returning
//!   its own map, merged into one [`collect::Context`]; failures become `errors` entries.
//! - `status`: the report's overall status, decided in one place.
//! - `report` (+ `filters`): context → subject, HTML and text through minijinja.
//! - `mail`: the MIME message and SMTP delivery through lettre.
//! - `outbox`: the durable queue on disk; the only code that touches the spool.
//! - `delivery`: one attempt at a queued message, backoff, giving up to failed/.
//! - `pipeline`: one report start to finish, shared by `--once`, `--check` and the daemon.
//! - `daemon`: the only loop and the only code that sleeps.
//! - `exit`: the exit statuses; [`RunError`] maps every failure to one.

#![forbid(unsafe_code)]

pub mod cli;
pub mod collect;
pub mod config;
pub mod daemon;
pub mod delivery;
pub mod exit;
mod filters;
pub mod logging;
pub mod mail;
pub mod outbox;
pub mod pipeline;
pub mod report;
pub mod schedule;
pub mod secret;
mod status;

use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;

use crate::cli::{Cli, Format};
use crate::config::{Config, ConfigError};
use crate::exit::Exit;
use crate::pipeline::{DeliveryError, Pipeline};
use crate::report::TemplateError;

/// Everything that ends a run early, each mapped to its exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Delivery(DeliveryError),
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
                | DeliveryError::NotQueued { .. },
            ) => Exit::TempFail,
            RunError::Delivery(DeliveryError::Build(_) | DeliveryError::Outbox(_))
            | RunError::Other(_) => Exit::Failure,
        }
    }
}

/// Runs what the command line asks for.
pub fn run(cli: &Cli) -> Result<(), RunError> {
    let config = load_config(cli)?;
    if cli.check {
        return check(config, cli.next);
    }
    if cli.once && cli.dry_run {
        return dry_run(config, cli.format, cli.output.as_ref());
    }
    config.smtp_for_sending()?;
    let outbox = open_outbox(&config)?;
    let pipeline = Pipeline::new(config, false)?;
    if cli.once {
        // Older reports first, in the order they were queued; their failures are
        // logged and kept queued, and do not decide this run's exit status.
        if let Err(e) = pipeline.flush(&outbox, Utc::now(), false, &|| true) {
            tracing::error!("cannot flush the outbox: {e}");
        }
        return pipeline
            .send_report(&outbox, Utc::now())
            .map_err(RunError::Delivery);
    }
    let reload = || -> Result<Pipeline, RunError> {
        let config = load_config(cli)?;
        config.smtp_for_sending()?;
        Ok(Pipeline::reloaded(config)?)
    };
    daemon::run(pipeline, &outbox, &reload)?;
    Ok(())
}

/// The outbox under the configured or default state directory; a directory that
/// cannot be created or written is a config error naming the path.
fn open_outbox(config: &Config) -> Result<outbox::Outbox, ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    let dir = match &config.state_dir {
        Some(dir) => dir.clone(),
        None => outbox::default_state_dir(&env, outbox::running_as_root()),
    };
    outbox::Outbox::open(&dir).map_err(|e| ConfigError {
        location: config.origin.clone(),
        message: format!("state_dir {e}; set state_dir to a writable directory"),
    })
}

/// The config named by `-c`, else `$RREPORT_CONFIG`, else the default path.
fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    let from_env = std::env::var_os("RREPORT_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let (path, explicit) = match (&cli.config, from_env) {
        (Some(path), _) => (path.clone(), true),
        (None, Some(path)) => (path, true),
        (None, None) => (PathBuf::from(config::DEFAULT_PATH), false),
    };
    let config = Config::load(&path, explicit, &env)?;
    tracing::debug!(?config, "config loaded");
    Ok(config)
}

fn dry_run(config: Config, format: Format, output: Option<&PathBuf>) -> Result<(), RunError> {
    let pipeline = Pipeline::new(config, false)?;
    let ctx = pipeline.collect(Utc::now());
    let body = match format {
        Format::Json => serde_json::to_string_pretty(&ctx).map_err(anyhow::Error::from)? + "\n",
        Format::Html => pipeline.render(&ctx)?.html,
        Format::Text => pipeline.render(&ctx)?.text,
    };
    let written = match output {
        Some(path) => std::fs::write(path, body)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display())),
        None => std::io::stdout()
            .lock()
            .write_all(body.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}")),
    };
    Ok(written?)
}

/// `--check`: the config for sending, the templates rendered strictly against live
/// data, then the next `n` fire times on stdout and nothing else there.
fn check(config: Config, n: usize) -> Result<(), RunError> {
    config.smtp_for_sending()?;
    open_outbox(&config)?;
    let pipeline = Pipeline::new(config, true)?;
    let ctx = pipeline.collect(Utc::now());
    pipeline.render(&ctx)?;
    let config = &pipeline.config;
    let times = config.schedule.upcoming(Utc::now(), config.timezone, n);
    if times.is_empty() && n > 0 {
        return Err(anyhow::anyhow!("schedule '{}' never fires", config.schedule.as_str()).into());
    }
    let mut out = std::io::stdout().lock();
    for t in times {
        writeln!(out, "{}", t.to_rfc3339()).map_err(anyhow::Error::from)?;
    }
    Ok(())
}
