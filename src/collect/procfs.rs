//! Where the procfs readers read: /proc on the host, a fixture tree in tests (as
//! vector's host_metrics does with its PROCFS_ROOT), so a reader's whole path from
//! file to figures is tested on numbers the test chose.

use std::path::{Path, PathBuf};

use super::CollectError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procfs(PathBuf);

impl Default for Procfs {
    fn default() -> Procfs {
        Procfs(PathBuf::from("/proc"))
    }
}

impl Procfs {
    pub fn at(root: &Path) -> Procfs {
        Procfs(root.to_path_buf())
    }

    /// A file under the root, such as "meminfo" or "net/dev".
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Its text; an error names the file.
    pub fn read(&self, name: &str) -> Result<String, CollectError> {
        let path = self.path(name);
        std::fs::read_to_string(&path)
            .map_err(|e| CollectError::new(format!("{}: {e}", path.display())))
    }
}
