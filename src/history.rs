//! The previous report's counters (network, disk I/O), kept in
//! `<state_dir>/counters.json` so "since the previous report" survives restarts.
//! A missing or unreadable file means "no previous report": never an error.

use std::path::{Path, PathBuf};

use crate::collect::counters::Snapshot;

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("counters.json")
}

/// The counters saved with the previous report, if there are any usable ones.
pub fn load(state_dir: &Path) -> Option<Snapshot> {
    let text = std::fs::read_to_string(path(state_dir)).ok()?;
    serde_json::from_str(&text)
        .map_err(|e| tracing::warn!("ignoring {}: {e}", path(state_dir).display()))
        .ok()
}

/// Saves this report's counters for the next one; failure is logged, not fatal.
pub fn save(state_dir: &Path, snapshot: &Snapshot) {
    let result = serde_json::to_vec(snapshot)
        .map_err(std::io::Error::other)
        .and_then(|bytes| crate::atomic::write(&path(state_dir), &[&bytes]));
    if let Err(e) = result {
        tracing::warn!(
            "cannot save {}: {e}; the next report's deltas will start from scratch",
            path(state_dir).display()
        );
    }
}
