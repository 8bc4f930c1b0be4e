//! What one report leaves for the next, kept in the state directory so "since the
//! previous report" survives restarts: the counters (network, disk I/O, process
//! I/O, CPU) and the watched files' manifest (their paths: `state.rs`).
//! A missing or corrupt file means "no previous report"; one that exists but cannot
//! be read is a problem the report shows.

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};

use crate::collect::{Remembered, Unreadable};
use crate::state::StateDir;

/// What the previous report left, as far as it is usable. The manifest (which may
/// be large) only when this report watches files.
pub fn load(state: &StateDir, files: bool) -> Remembered {
    let (counters, counters_problem) = read(state, &state.counters());
    let (files, files_problem) = match files {
        true => read(state, &state.manifest()),
        false => (None, None),
    };
    Remembered {
        counters,
        files,
        unreadable: Unreadable {
            counters: counters_problem,
            files: files_problem,
        },
    }
}

/// Saves what this report leaves; a part that is absent keeps its previous file.
/// Failure is logged, not fatal: the report matters more than the next one's deltas.
pub fn save(state: &StateDir, remembered: &Remembered) {
    if let Some(counters) = &remembered.counters {
        write(&state.counters(), counters);
    }
    if let Some(files) = &remembered.files {
        write(&state.manifest(), files);
    }
}

/// The file's value; a file that is not there is no previous report (no problem),
/// one that is there but cannot be read is a problem to report, with advice.
fn read<T: DeserializeOwned>(state: &StateDir, path: &Path) -> (Option<T>, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
        Err(e) => {
            let advice = match e.kind() {
                std::io::ErrorKind::PermissionDenied => format!(
                    "; was rreport run as another user (root) beside the service? give the files back: chown -R --reference={} {}",
                    state.root().display(),
                    state.root().display()
                ),
                _ => String::new(),
            };
            return (
                None,
                Some(format!("cannot read {}: {e}{advice}", path.display())),
            );
        }
    };
    match serde_json::from_str(&text) {
        Ok(value) => (Some(value), None),
        Err(e) => {
            tracing::warn!("ignoring {}: {e}", path.display());
            (None, None)
        }
    }
}

fn write(path: &Path, value: &impl Serialize) {
    let result = serde_json::to_vec(value)
        .map_err(std::io::Error::other)
        .and_then(|bytes| crate::atomic::write(path, &[&bytes]));
    if let Err(e) = result {
        tracing::warn!(
            "cannot save {}: {e}; the next report will compare against older data",
            path.display()
        );
    }
}
