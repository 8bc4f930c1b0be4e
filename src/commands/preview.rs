//! `--once --dry-run`: one report collected and rendered, printed (or written to a
//! file) instead of sent. Moves nothing in the state directory.

use std::io::Write;
use std::path::Path;

use chrono::Utc;

use super::{one_shot_pipeline, RunError};
use crate::cli::Format;
use crate::config::Config;

pub(super) fn run(config: Config, format: Format, output: Option<&Path>) -> Result<(), RunError> {
    let pipeline = one_shot_pipeline(config);
    let now = Utc::now();
    let body = match format {
        Format::Json => {
            let ctx = pipeline.collect(now);
            serde_json::to_string_pretty(&ctx).map_err(anyhow::Error::from)? + "\n"
        }
        // The charts as data: URIs, so the preview opens in a browser as it is.
        Format::Html => {
            let (ctx, images) = pipeline.collect_to_render(now, true);
            let mut rendered = pipeline.render(&ctx)?;
            rendered.images = images;
            rendered.html_with_data_uris()
        }
        Format::Text => {
            pipeline
                .render(&pipeline.collect_to_render(now, false).0)?
                .text
        }
    };
    write(&body, output)
}

/// A preview to FILE, or to standard output.
pub(super) fn write(body: &str, output: Option<&Path>) -> Result<(), RunError> {
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
