//! What one report leaves for the next, kept in the state directory so "since the
//! previous report" survives restarts: the counters (network, disk I/O, process
//! I/O) in `counters.json`, the watched files' manifest in `files.json`.
//! A missing or unreadable file means "no previous report": never an error.

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};

use crate::collect::Remembered;

const COUNTERS: &str = "counters.json";
const FILES: &str = "files.json";

/// What the previous report left, as far as it is usable. The manifest (which may
/// be large) only when this report watches files.
pub fn load(state_dir: &Path, files: bool) -> Remembered {
    Remembered {
        counters: read(state_dir, COUNTERS),
        files: files.then(|| read(state_dir, FILES)).flatten(),
    }
}

/// Saves what this report leaves; a part that is absent keeps its previous file.
/// Failure is logged, not fatal: the report matters more than the next one's deltas.
pub fn save(state_dir: &Path, remembered: &Remembered) {
    if let Some(counters) = &remembered.counters {
        write(state_dir, COUNTERS, counters);
    }
    if let Some(files) = &remembered.files {
        write(state_dir, FILES, files);
    }
}

fn read<T: DeserializeOwned>(state_dir: &Path, name: &str) -> Option<T> {
    let path = state_dir.join(name);
    let text = std::fs::read_to_string(&path).ok()?;
    serde_json::from_str(&text)
        .map_err(|e| tracing::warn!("ignoring {}: {e}", path.display()))
        .ok()
}

fn write(state_dir: &Path, name: &str, value: &impl Serialize) {
    let path = state_dir.join(name);
    let result = serde_json::to_vec(value)
        .map_err(std::io::Error::other)
        .and_then(|bytes| crate::atomic::write(&path, &[&bytes]));
    if let Err(e) = result {
        tracing::warn!(
            "cannot save {}: {e}; the next report will compare against older data",
            path.display()
        );
    }
}
