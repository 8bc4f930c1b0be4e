//! `[journal]`: where the journal is, and what of it is not worth a line.
//!
//! ```toml
//! [journal]
//! directory = "/var/log/journal/remote"   # another journal (journalctl --directory)
//! error_warning = 1                       # more errors than this since the previous report: a warning
//! ignore = ["^pam_unix\\(cron:session\\)", "Connection reset by peer"]
//! timeout_secs = 30                       # the journal's own collector timeout
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::collect::journal::JournalConfig;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJournal {
    directory: Option<Spanned<String>>,
    error_warning: Option<Spanned<u64>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    timeout_secs: Option<Spanned<u64>>,
}

pub(super) fn check(raw: RawJournal, loc: &Locator) -> Result<JournalConfig, ConfigError> {
    let directory = match raw.directory {
        Some(d) if !d.get_ref().starts_with('/') => {
            let why = format!(
                "journal.directory = {:?} must be an absolute path",
                d.get_ref()
            );
            return Err(loc.at(d.span().start, why));
        }
        d => d.map(|d| PathBuf::from(d.into_inner())),
    };
    let error_warning = loc.bounded(
        &raw.error_warning,
        "journal.error_warning",
        0..=1_000_000,
        1,
    )?;
    let timeout = loc.bounded(&raw.timeout_secs, "journal.timeout_secs", 1..=3600, 30)?;
    let ignore = raw
        .ignore
        .iter()
        .map(|p| {
            regex_lite::Regex::new(p.get_ref()).map_err(|e| {
                let why = format!(
                    "journal.ignore {:?} is not a valid regular expression: {e}",
                    p.get_ref()
                );
                loc.at(p.span().start, why)
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(JournalConfig {
        directory,
        error_warning,
        ignore,
        timeout: std::time::Duration::from_secs(timeout),
        ..Default::default()
    })
}
