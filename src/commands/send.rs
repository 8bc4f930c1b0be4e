//! `--once`: the queue flushed, then one report sent; and the daemon's start.

use chrono::Utc;

use super::{build_pipeline, load_config, one_shot_pipeline, open_outbox, reloadable, RunError};
use crate::cli::Cli;
use crate::config::Config;
use crate::daemon;
use crate::delivery::Flushed;
use crate::pipeline::Pipeline;
use crate::report::Parts;

/// `--once`.
pub(super) fn once(config: Config) -> Result<(), RunError> {
    config.smtp_for_sending()?;
    let outbox = open_outbox(&config)?;
    let pipeline = one_shot_pipeline(config, Parts::BOTH);
    // Older reports first, in the order they were queued; their failures are
    // logged and kept queued, and do not decide this run's exit status.
    match pipeline.flush(&outbox, Utc::now(), false, &|| true) {
        Ok(Flushed::Done { .. }) => {}
        Ok(Flushed::Busy) => {
            tracing::warn!("another rreport is delivering from the outbox; leaving the queue to it")
        }
        Err(e) => tracing::error!("cannot flush the outbox: {e}"),
    }
    pipeline
        .send_report(&outbox, Utc::now(), None, &|| true)
        .map(drop)
        .map_err(RunError::Delivery)
}

/// The daemon, which reloads its pipeline from the config file on SIGHUP.
pub(super) fn serve(cli: &Cli, config: Config) -> Result<(), RunError> {
    config.smtp_for_sending()?;
    let outbox = open_outbox(&config)?;
    let pipeline = build_pipeline(config, false)?;
    let reload = || -> anyhow::Result<Pipeline> {
        let config = load_config(cli)?;
        reloadable(&config)?;
        Ok(build_pipeline(config, false)?)
    };
    daemon::run(pipeline, &outbox, &reload)?;
    Ok(())
}
