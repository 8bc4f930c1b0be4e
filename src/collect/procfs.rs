//! Where the procfs and sysfs readers read: /proc and /sys on the host, fixture trees
//! in tests (as vector's host_metrics does with its PROCFS_ROOT and SYSFS_ROOT), so a
//! reader's whole path from file to figures is tested on numbers the test chose.

use std::path::{Path, PathBuf};

use super::CollectError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procfs {
    proc: PathBuf,
    sys: PathBuf,
}

impl Default for Procfs {
    fn default() -> Procfs {
        Procfs {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }
}

impl Procfs {
    /// Fixture trees: `proc` stands for /proc, `sys` for /sys.
    pub fn at(proc: &Path, sys: &Path) -> Procfs {
        Procfs {
            proc: proc.to_path_buf(),
            sys: sys.to_path_buf(),
        }
    }

    /// A file under /proc, such as "meminfo" or "net/dev".
    pub fn path(&self, name: &str) -> PathBuf {
        self.proc.join(name)
    }

    /// A path under /sys, such as "block".
    pub fn sys(&self, name: &str) -> PathBuf {
        self.sys.join(name)
    }

    /// Its text; an error names the file.
    pub fn read(&self, name: &str) -> Result<String, CollectError> {
        let path = self.path(name);
        std::fs::read_to_string(&path)
            .map_err(|e| CollectError::new(format!("{}: {e}", path.display())))
    }
}
