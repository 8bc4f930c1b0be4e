//! `--digest`: the fleet digest made from Prometheus now, and sent through the outbox
//! like a report; with `--dry-run`, printed instead (the digest's HTML, text or its
//! JSON context). Needs `[digest]`; sending needs `[smtp]` too.

use chrono::Utc;

use super::{one_shot_pipeline, open_outbox, RunError};
use crate::cli::Format;
use crate::config::{Config, ConfigError};
use crate::report::Parts;

pub(super) fn send(config: Config) -> Result<(), RunError> {
    needs_digest(&config)?;
    config.smtp_for_sending()?;
    let outbox = open_outbox(&config)?;
    let pipeline = one_shot_pipeline(config, Parts::BOTH);
    pipeline
        .send_digest(&outbox, Utc::now(), &|| true)
        .map(drop)
        .map_err(RunError::Delivery)
}

pub(super) fn preview(
    config: Config,
    format: Format,
    output: Option<&std::path::Path>,
) -> Result<(), RunError> {
    needs_digest(&config)?;
    let pipeline = one_shot_pipeline(config, super::preview::parts(format));
    let Some(made) = pipeline.digest(Utc::now()) else {
        unreachable!("[digest] was checked")
    };
    let (ctx, rendered) = made?;
    let body = match format {
        Format::Json => serde_json::to_string_pretty(&ctx).map_err(anyhow::Error::from)? + "\n",
        Format::Html => rendered.html,
        Format::Text => rendered.text,
    };
    super::preview::write(&body, output)
}

fn needs_digest(config: &Config) -> Result<(), ConfigError> {
    match config.digest {
        Some(_) => Ok(()),
        None => Err(ConfigError {
            location: config.origin.clone(),
            message: "no [digest] table: --digest needs at least prometheus = \"http://…:9090\" (see README.md, \"Many hosts\")".into(),
        }),
    }
}
