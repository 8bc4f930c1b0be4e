//! The state directory: where it is (resolved once, from the config, systemd's
//! `$STATE_DIRECTORY`, root's default or XDG) and what lives in it. Every path under
//! it is named here, so its layout is read in one place; each file is a
//! compatibility boundary with a version of its own.
//!
//! ```text
//! <state_dir>/outbox/<id>.eml   queued messages (outbox.rs)
//! <state_dir>/failed/<id>.eml   messages given up on (outbox.rs)
//! <state_dir>/lock              the delivery lock (outbox.rs)
//! <state_dir>/counters.json     the previous report's counters (previous.rs)
//! <state_dir>/files.json        the previous report's manifest of watched files (previous.rs)
//! <state_dir>/history.sqlite    the samples the daemon takes between reports (history/store.rs)
//! <state_dir>/updates-cache.json  apt's last answer, under the state of its files (collect/updates.rs)
//! ```

use std::fs;
use std::path::{Path, PathBuf};

/// The state directory of this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// The configured directory, else the default for this environment.
    pub fn resolve(configured: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> StateDir {
        match configured {
            Some(dir) => StateDir::at(dir),
            None => StateDir::at(&default_dir(env, running_as_root())),
        }
    }

    pub fn at(root: &Path) -> StateDir {
        StateDir {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    pub fn failed(&self) -> PathBuf {
        self.root.join("failed")
    }

    pub fn lock(&self) -> PathBuf {
        self.root.join("lock")
    }

    /// The previous report's counters (network, disk I/O, process I/O, CPU).
    pub fn counters(&self) -> PathBuf {
        self.root.join("counters.json")
    }

    /// The previous report's manifest of the watched files.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("files.json")
    }

    /// What apt last said of pending updates, and for which state of its files: a
    /// cache (apt's resolver takes seconds), written by any report, previews too.
    pub fn updates_cache(&self) -> PathBuf {
        self.root.join("updates-cache.json")
    }

    /// The sample history (SQLite).
    pub fn history(&self) -> PathBuf {
        self.root.join("history.sqlite")
    }
}

/// Where the spool lives when the config does not say: systemd's StateDirectory=,
/// else /var/lib/rreport for root, else `$XDG_STATE_HOME/rreport` (or
/// `~/.local/state/rreport`) for anyone else.
pub fn default_dir(env: &dyn Fn(&str) -> Option<String>, is_root: bool) -> PathBuf {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(dirs) = var("STATE_DIRECTORY") {
        // systemd passes a colon-separated list when the unit names several.
        return PathBuf::from(dirs.split(':').next().unwrap_or(&dirs));
    }
    if is_root {
        return PathBuf::from("/var/lib/rreport");
    }
    match (var("XDG_STATE_HOME"), var("HOME")) {
        (Some(state), _) => Path::new(&state).join("rreport"),
        (None, Some(home)) => Path::new(&home).join(".local/state/rreport"),
        (None, None) => PathBuf::from("/var/lib/rreport"),
    }
}

/// Whether this process runs as root (effective uid 0), from /proc/self/status.
pub fn running_as_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid_line = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    uid_line.and_then(|l| l.split_whitespace().nth(1)) == Some("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_state_dir_follows_systemd_then_root_then_xdg() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let check = |pairs: &'static [(&'static str, &'static str)], root: bool, expected: &str| {
            assert_eq!(
                default_dir(&env(pairs), root),
                PathBuf::from(expected),
                "{pairs:?} root={root}"
            );
        };
        check(
            &[("STATE_DIRECTORY", "/var/lib/rreport:/var/lib/other")],
            false,
            "/var/lib/rreport",
        );
        check(&[], true, "/var/lib/rreport");
        check(
            &[("XDG_STATE_HOME", "/home/a/.state"), ("HOME", "/home/a")],
            false,
            "/home/a/.state/rreport",
        );
        check(
            &[("HOME", "/home/a")],
            false,
            "/home/a/.local/state/rreport",
        );
    }

    #[test]
    fn the_layout_is_named_in_one_place() {
        let state = StateDir::resolve(Some(Path::new("/srv/state")), &|_| None);
        assert_eq!(state.outbox(), Path::new("/srv/state/outbox"));
        assert_eq!(state.manifest(), Path::new("/srv/state/files.json"));
    }
}
