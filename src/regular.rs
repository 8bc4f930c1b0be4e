//! Reading files that someone else controls (a watched service's pidfile, a queue
//! file in a directory others may write to): only regular files, never blocking,
//! never more than a limit.
//!
//! A FIFO blocks an `open` for reading until a writer comes, and `/dev/zero` never
//! ends: either would hang or exhaust the daemon. So the path is checked before it
//! is opened, opened with `O_NONBLOCK`, checked again on the open file (it may have
//! been swapped in between), and read only up to the limit.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Whether the last component of the path may be a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Refuse,
}

/// The whole of a regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64, links: Links) -> io::Result<Vec<u8>> {
    let (file, len) = open(path, Some(limit), links)?;
    let mut bytes = Vec::with_capacity(len as usize);
    // One byte over the limit tells a file that grew since fstat from one that did not.
    File::take(file, limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// The first `limit` bytes (at most) of a regular file of any size: for a header.
pub fn read_prefix(path: &Path, limit: u64, links: Links) -> io::Result<Vec<u8>> {
    let (file, len) = open(path, None, links)?;
    let mut bytes = Vec::with_capacity(len.min(limit) as usize);
    File::take(file, limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Up to `limit` bytes of a regular file of any size (a log), from the offset `from`
/// picks given the file's length: a saved place, or its tail.
pub fn read_from(
    path: &Path,
    limit: u64,
    links: Links,
    from: impl FnOnce(u64) -> u64,
) -> io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let (mut file, len) = open(path, None, links)?;
    file.seek(SeekFrom::Start(from(len)))?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens a regular file (checked before and after the open), without blocking;
/// with `limit`, one no larger than that. Returns it and its length.
fn open(path: &Path, limit: Option<u64>, links: Links) -> io::Result<(File, u64)> {
    let meta = match links {
        Links::Follow => std::fs::metadata(path)?,
        Links::Refuse => std::fs::symlink_metadata(path)?,
    };
    let limit = limit.unwrap_or(u64::MAX);
    refuse_odd(&meta.file_type(), meta.len(), limit)?;
    let mut flags = nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY;
    if links == Links::Refuse {
        flags |= nix::libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)?;
    let meta = file.metadata()?;
    refuse_odd(&meta.file_type(), meta.len(), limit)?;
    Ok((file, meta.len()))
}

fn refuse_odd(kind: &std::fs::FileType, len: u64, limit: u64) -> io::Result<()> {
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file but {}", describe(kind)),
        ));
    }
    if len > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("larger than {limit} bytes"),
    )
}

/// "a FIFO", "a character device" …, as `ls -l` would tell them apart.
pub fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(path: &Path, limit: u64, links: Links, expected: Result<&[u8], &str>) {
        match (read(path, limit, links), expected) {
            (Ok(bytes), Ok(want)) => assert_eq!(bytes, want),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
            (got, want) => panic!("{}: got {got:?}, expected {want:?}", path.display()),
        }
    }

    #[test]
    fn only_small_regular_files_are_read_and_nothing_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pid");
        std::fs::write(&file, "1234\n").unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();

        check(&file, 100, Links::Refuse, Ok(b"1234\n"));
        check(&file, 4, Links::Follow, Err("larger than 4 bytes"));
        check(
            &fifo,
            100,
            Links::Follow,
            Err("not a regular file but a FIFO"),
        );
        check(
            Path::new("/dev/zero"),
            100,
            Links::Follow,
            Err("not a regular file but a character device"),
        );
        check(&link, 100, Links::Follow, Ok(b"1234\n"));
        check(&link, 100, Links::Refuse, Err("a symbolic link"));
        // A prefix of any size, with the same refusals.
        assert_eq!(read_prefix(&file, 2, Links::Refuse).unwrap(), b"12");
        assert!(read_prefix(&fifo, 2, Links::Follow).is_err());
    }
}
