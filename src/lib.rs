//! rreport: emails a report of how a Linux server is doing, on a cron schedule.
//!
//! # Layout, in the order data flows
//! - `cli`: the command line (clap). `main.rs` parses it and calls [`run`].
//! - `config`: the TOML file → a checked [`config::Config`]; credentials from the environment.
//! - `schedule`: crontab(5) expression + "now" → next fire time. Pure.
//! - `zone`: time zones from the system's tz database, for the schedule and the report.
//! - `sections`: which sections the report shows, in which order; only their collectors run.
//! - `collect`: the collectors (`host`, `boot`, `cpu`, `load`, `memory`, `disk`,
//!   `network`, `diskio`, `processes`, `users`, `checks`, `files`), each returning
//!   its own map, merged into one [`collect::Context`]; failures become `errors` entries.
//! - `status`: the report's overall status, decided in one place.
//! - `report` (+ `filters`): context → subject, HTML and text through minijinja.
//! - `mail`: the MIME message (lettre's builder).
//! - `smtp`: delivery over SMTP: relays, TLS, AUTH, recipients one by one; redacted errors.
//! - `outbox`: the durable queue on disk; the only code that touches the spool.
//! - `previous`: what the previous report left (counters, the watched files' manifest).
//! - `state`: the state directory, resolved once, and the layout of what lives in it.
//! - `atomic`: crash-safe file replacement, for the outbox and the history.
//! - `delivery`: one attempt at a queued message, backoff, giving up to failed/.
//! - `late`: the note at the top of a report delivered over an hour late.
//! - `pipeline`: one report start to finish, shared by `--once`, `--check` and the daemon.
//! - `daemon`: the only loop and the only code that sleeps.
//! - `exit`: the exit statuses; [`RunError`] maps every failure to one.

#![forbid(unsafe_code)]

mod atomic;
pub mod cli;
pub mod collect;
pub mod config;
mod context;
pub mod daemon;
pub mod delivery;
pub mod exit;
mod filters;
pub mod late;
pub mod logging;
pub mod mail;
pub mod outbox;
pub mod pipeline;
pub mod previous;
mod regular;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod sections;
pub mod smtp;
pub mod state;
pub mod status;
pub mod zone;

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
    let config = load_config(cli)?;
    if cli.check {
        warn_if_secrets_readable(&config_path(cli).0);
        return check(config, cli.next);
    }
    if let (true, Some(which)) = (cli.outbox, &cli.drop) {
        return drop_messages(&open_outbox(&config)?, which);
    }
    if cli.outbox {
        let outbox = open_outbox(&config)?;
        let listing = list_outbox(&outbox, Utc::now()).map_err(anyhow::Error::from)?;
        std::io::stdout()
            .lock()
            .write_all(listing.as_bytes())
            .map_err(anyhow::Error::from)?;
        return Ok(());
    }
    if cli.once && cli.dry_run {
        return dry_run(config, cli.format, cli.output.as_ref());
    }
    config.smtp_for_sending()?;
    let outbox = open_outbox(&config)?;
    let pipeline = build_pipeline(config, false)?;
    if cli.once {
        // Older reports first, in the order they were queued; their failures are
        // logged and kept queued, and do not decide this run's exit status.
        match pipeline.flush(&outbox, Utc::now(), false, &|| true) {
            Ok(delivery::Flushed::Done { .. }) => {}
            Ok(delivery::Flushed::Busy) => {
                tracing::warn!(
                    "another rreport is delivering from the outbox; leaving the queue to it"
                )
            }
            Err(e) => tracing::error!("cannot flush the outbox: {e}"),
        }
        return pipeline
            .send_report(&outbox, Utc::now(), &|| true)
            .map(drop)
            .map_err(RunError::Delivery);
    }
    let reload = || -> anyhow::Result<Pipeline> {
        let config = load_config(cli)?;
        config.smtp_for_sending()?;
        Pipeline::check_templates(&config)?;
        Ok(build_pipeline(config, false)?)
    };
    daemon::run(pipeline, &outbox, &reload)?;
    Ok(())
}

/// The outbox under the configured or default state directory; a directory that
/// cannot be created or written is a config error naming the path.
fn open_outbox(config: &Config) -> Result<outbox::Outbox, ConfigError> {
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

/// A pipeline that remembers counters in the state directory.
fn build_pipeline(config: Config, strict: bool) -> Result<Pipeline, TemplateError> {
    let dir = state_dir(&config);
    let mut pipeline = Pipeline::new(config, strict)?;
    pipeline.state_dir = Some(dir);
    Ok(pipeline)
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

/// Warns when the env file beside the config (where the unit reads credentials
/// from) holds the password and other users can read it.
fn warn_if_secrets_readable(config_path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let env_file = config_path
        .parent()
        .unwrap_or(std::path::Path::new("/"))
        .join("env");
    let Ok(meta) = std::fs::metadata(&env_file) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    let holds_password = std::fs::read_to_string(&env_file)
        .map(|text| {
            text.lines()
                .any(|l| l.trim_start().starts_with(config::PASSWORD_VAR))
        })
        .unwrap_or(false);
    if holds_password && mode & 0o044 != 0 {
        tracing::warn!(
            "{} holds {} and other users can read it (mode {mode:04o}); run: chmod 600 {}",
            env_file.display(),
            config::PASSWORD_VAR,
            env_file.display()
        );
    }
}

fn dry_run(config: Config, format: Format, output: Option<&PathBuf>) -> Result<(), RunError> {
    let pipeline = build_pipeline(config, false)?;
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

/// `--outbox --drop`: discards what the admin named, under the delivery lock (a
/// message being sent right now must not be removed under the sender's feet).
fn drop_messages(outbox: &outbox::Outbox, which: &str) -> Result<(), RunError> {
    let Some(_lock) = outbox
        .lock(std::time::Duration::ZERO)
        .map_err(anyhow::Error::from)?
    else {
        return Err(RunError::Busy(format!(
            "another rreport is delivering from {}; try again when it is done",
            outbox.dir().display()
        )));
    };
    let dropped = outbox.discard(which).map_err(anyhow::Error::from)?;
    if dropped.is_empty() && which != "all-failed" {
        return Err(anyhow::anyhow!(
            "no queued or failed message is named '{which}'; rreport --outbox lists them"
        )
        .into());
    }
    let mut out = std::io::stdout().lock();
    for path in &dropped {
        writeln!(out, "dropped {}", path.display()).map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// `--outbox`: one paragraph per message, queued first, then failed.
fn list_outbox(
    outbox: &outbox::Outbox,
    now: chrono::DateTime<Utc>,
) -> Result<String, outbox::OutboxError> {
    let (queued, failed) = (outbox.queued()?, outbox.failed()?);
    let mut out = String::new();
    for (state, entry) in queued
        .iter()
        .map(|e| ("queued", e))
        .chain(failed.iter().map(|e| ("failed", e)))
    {
        let m = &entry.meta;
        let age = filters::duration((now - m.first_queued).num_seconds().max(0) as u64);
        out += &format!(
            "{state}  {}  age {age}  attempts {}",
            entry.path.display(),
            m.attempts
        );
        if state == "queued" {
            out += &format!(
                "  next try {}",
                m.next_attempt
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        out += &format!("\n        {}  to {}\n", m.message_id, m.to.join(", "));
        if let Some(error) = &m.last_error {
            out += &format!("        last error: {error}\n");
        }
    }
    out += &format!(
        "{} queued in {}, {} failed\n",
        queued.len(),
        outbox.dir().display(),
        failed.len()
    );
    Ok(out)
}

/// `--check`: the config for sending, the templates rendered strictly against live
/// data, then the next `n` fire times on stdout and nothing else there.
fn check(config: Config, n: usize) -> Result<(), RunError> {
    config.smtp_for_sending()?;
    open_outbox(&config)?;
    let mount_points = collect::disk::mount_points();
    let host = config::lint::Host {
        mount_points: &mount_points,
        exists: &|p: &std::path::Path| p.exists(),
    };
    config::lint::template_dir(&config, &host)?;
    for warning in config::lint::warnings(&config, &host) {
        tracing::warn!("{}: {warning}", config.origin);
    }
    let pipeline = Pipeline::new(config, true)?;
    let ctx = pipeline.collect(Utc::now());
    pipeline.render(&ctx)?;
    // The config is fine either way, but the admin who just wrote a check wants to
    // know whether it passes now.
    let failed = ctx
        .0
        .get("checks")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten();
    for check in failed.filter(|c| c["ok"] != true) {
        let text = |key: &str| check[key].as_str().unwrap_or_default().to_string();
        tracing::warn!("check '{}' failed now: {}", text("name"), text("detail"));
    }
    let config = &pipeline.config;
    let times = config.schedule.upcoming(Utc::now(), &config.timezone, n);
    if times.is_empty() && n > 0 {
        return Err(anyhow::anyhow!("schedule '{}' never fires", config.schedule.as_str()).into());
    }
    let mut out = std::io::stdout().lock();
    for t in times {
        writeln!(out, "{}", t.to_rfc3339()).map_err(anyhow::Error::from)?;
    }
    Ok(())
}
