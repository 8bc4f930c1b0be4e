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

/// Reads a process's small procfs files (`stat`, `io`) with one read(2) each, into
/// one buffer kept from file to file. `read_to_string` asks for the size first
/// (statx, which procfs answers with 0) and reads once more to find the end: five
/// system calls a file, where open, read and close do. A process scan reads two
/// files for each of thousands of processes, twice.
pub struct PidFiles {
    buf: Vec<u8>,
    path: String,
}

impl Default for PidFiles {
    fn default() -> PidFiles {
        PidFiles {
            buf: vec![0; 4096],
            path: String::with_capacity(32),
        }
    }
}

impl PidFiles {
    /// The text of /proc/`pid`/`name`; None when the process is gone, the file is
    /// not ours to read, or it is not text.
    pub fn read(&mut self, pid: u32, name: &str) -> Option<&str> {
        use std::fmt::Write;
        use std::io::Read;
        self.path.clear();
        write!(self.path, "/proc/{pid}/{name}").ok()?;
        let mut file = std::fs::File::open(&self.path).ok()?;
        let mut len = 0;
        loop {
            let n = file.read(&mut self.buf[len..]).ok()?;
            len += n;
            // procfs hands a file this small over whole in one read; only a full
            // buffer means there may be more.
            if n == 0 || len < self.buf.len() {
                break;
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        std::str::from_utf8(&self.buf[..len]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::PidFiles;
    use crate::collect::processes::parse_stat;

    #[test]
    fn a_pid_file_read_whole_in_one_buffer_or_in_pieces() {
        let pid = std::process::id();
        let std = parse_stat(&std::fs::read_to_string("/proc/self/stat").unwrap()).unwrap();
        // A 16-byte buffer takes the file in pieces, growing as it goes.
        for size in [4096, 16] {
            let mut files = PidFiles {
                buf: vec![0; size],
                path: String::new(),
            };
            let ours = parse_stat(files.read(pid, "stat").unwrap()).unwrap();
            assert_eq!(
                (ours.pid, &ours.name, ours.start),
                (pid, &std.name, std.start)
            );
            let io = std::fs::read_to_string("/proc/self/io").ok();
            assert_eq!(files.read(pid, "io").is_some(), io.is_some());
        }
    }

    #[test]
    fn a_process_that_is_gone_is_none() {
        let mut files = PidFiles::default();
        assert_eq!(files.read(u32::MAX, "stat"), None);
        assert_eq!(files.read(std::process::id(), "no-such-file"), None);
    }
}
