//! `[[watch]]`: paths whose changes the report lists.
//!
//! ```toml
//! [[watch]]
//! path = "/etc"
//! recursive = true                   # the default
//! exclude = ["*.swp", "*~", "/etc/ssl/certs"]
//! hash_max_bytes = 1048576           # larger files: size and mtime only
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::collect::manifest::Watch;

pub const DEFAULT_HASH_MAX_BYTES: u64 = 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWatch {
    path: Spanned<PathBuf>,
    recursive: Option<bool>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    hash_max_bytes: Option<Spanned<u64>>,
}

pub(super) fn check_all(raw: Vec<RawWatch>, loc: &Locator) -> Result<Vec<Watch>, ConfigError> {
    let mut watches: Vec<Watch> = Vec::new();
    for raw in raw {
        let at = raw.path.span().start;
        let path = raw.path.into_inner();
        if !path.is_absolute() {
            return Err(loc.at(
                at,
                format!(
                    "watch.path = {:?} must be an absolute path",
                    path.display().to_string()
                ),
            ));
        }
        // One tree, one manifest: "/etc" and "/etc/" are the same watch.
        let path: PathBuf = path.components().collect();
        if watches.iter().any(|w| w.path == path) {
            return Err(loc.at(at, format!("{} is watched twice", path.display())));
        }
        let exclude = raw
            .exclude
            .iter()
            .map(|p| {
                glob::Pattern::new(p.get_ref()).map_err(|e| {
                    loc.at(
                        p.span().start,
                        format!(
                            "watch.exclude pattern {:?} is not a valid glob: {e}",
                            p.get_ref()
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let hash_max_bytes = loc.bounded(
            &raw.hash_max_bytes,
            "hash_max_bytes",
            0..=1 << 30,
            DEFAULT_HASH_MAX_BYTES,
        )?;
        watches.push(Watch {
            path,
            recursive: raw.recursive.unwrap_or(true),
            exclude,
            hash_max_bytes,
        });
    }
    Ok(watches)
}
