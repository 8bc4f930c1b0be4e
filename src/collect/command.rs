//! Running a program for a check (or a collector that asks a tool: apt, systemctl):
//! no shell, no stdin, a clean slate of credentials, a timeout that
//! kills the whole process group, and only the first lines (or bytes) of what it
//! printed.
//!
//! stdout and stderr share one pipe, read on a thread that keeps the first
//! `OUTPUT_MAX_BYTES` and throws the rest away, so a chatty program can never
//! block on a full pipe, and never fill rreport's memory. `stream` hands stdout over
//! as it comes instead (journalctl's million entries), stderr apart.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a program did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The exit code; None when a signal ended it (ours at the timeout, or another).
    pub code: Option<i32>,
    pub timed_out: bool,
    /// The first lines of stdout and stderr together, control characters removed.
    pub output: Vec<String>,
    pub took: Duration,
}

const OUTPUT_MAX_BYTES: usize = 16 * 1024;
/// Lines of output kept, and characters per line.
pub const OUTPUT_LINES: usize = 5;
const LINE_MAX_CHARS: usize = 200;

/// Runs `argv` with `timeout`; an error only when it cannot be started.
pub fn run(argv: &[String], timeout: Duration) -> Result<Finished, String> {
    let (mut finished, bytes) = run_keeping(argv, timeout, OUTPUT_MAX_BYTES)?;
    finished.output = first_lines(&bytes);
    Ok(finished)
}

/// Runs `argv` as `run` does and returns the first `max_bytes` of its output whole;
/// `Finished::output` is empty.
pub fn run_keeping<S: AsRef<str>>(
    argv: &[S],
    timeout: Duration,
    max_bytes: usize,
) -> Result<(Finished, Vec<u8>), String> {
    let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| format!("cannot make a pipe: {e}"))?;
    let started = Instant::now();
    let mut child = spawn(argv, writer, writer2)?;
    let output = read_in_background(reader, max_bytes);
    // Blocking in wait(2) returns the moment the program exits; a poll would see
    // it up to its interval later, and a report waits for its slowest collector.
    let watchdog = Watchdog::start(&mut child, timeout)?;
    let status = child.wait().ok();
    let timed_out = watchdog.call_off();
    let took = started.elapsed();
    // A grandchild that left its own process group may hold the pipe open: take
    // what arrived so far rather than wait for it.
    let bytes = output
        .recv_timeout(Duration::from_millis(200))
        .unwrap_or_default();
    let finished = Finished {
        code: status.and_then(|s| s.code()),
        timed_out,
        output: Vec::new(),
        took,
    };
    Ok((finished, bytes))
}

/// Runs `argv` and gives `read` its stdout as a buffered stream; when `read` returns
/// (at the end, or having had enough) or at `timeout` (a watchdog kills the process
/// group, which ends the stream), the program is ended. stderr's first 4 KiB come
/// back with what it did.
pub fn stream<S: AsRef<str>>(
    argv: &[S],
    timeout: Duration,
    read: impl FnOnce(&mut dyn std::io::BufRead),
) -> Result<(Finished, Vec<u8>), String> {
    let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let (errors, error_writer) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let started = Instant::now();
    let mut child = spawn(argv, writer, error_writer)?;
    let said = read_in_background(errors, 4096);
    let watchdog = Watchdog::start(&mut child, timeout)?;
    read(&mut std::io::BufReader::with_capacity(64 * 1024, reader));
    // Done reading, early or not: whatever it still writes, nobody reads.
    kill_group(&child);
    let status = child.wait().ok();
    let timed_out = watchdog.call_off();
    let stderr = said
        .recv_timeout(Duration::from_millis(200))
        .unwrap_or_default();
    let finished = Finished {
        code: status.and_then(|s| s.code()),
        timed_out,
        output: Vec::new(),
        took: started.elapsed(),
    };
    Ok((finished, stderr))
}

/// One line without its `\n` into `line`, at most `max` bytes of it kept (the rest is
/// read and dropped); false at the end of the stream.
pub fn bounded_line(
    reader: &mut (impl std::io::BufRead + ?Sized),
    max: usize,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let (used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, Some(at)),
            None => (chunk.len(), None),
        };
        let piece = &chunk[..done.unwrap_or(used)];
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&piece[..piece.len().min(room)]);
        reader.consume(used);
        if done.is_some() {
            return Ok(true);
        }
    }
}

/// Starts `argv` without a shell, stdin closed, in the root directory, without the
/// SMTP credentials, in a process group of its own (so a timeout ends what it
/// started too), its stdout and stderr into the given pipes.
fn spawn<S: AsRef<str>>(
    argv: &[S],
    stdout: std::io::PipeWriter,
    stderr: std::io::PipeWriter,
) -> Result<std::process::Child, String> {
    let (program, args) = argv.split_first().ok_or("no program to run")?;
    let program = program.as_ref();
    let mut command = Command::new(program);
    command
        .args(args.iter().map(AsRef::as_ref))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .current_dir("/")
        // The check must not learn the SMTP credentials rreport was given.
        .env_remove(crate::secret::USERNAME_VAR)
        .env_remove(crate::secret::PASSWORD_VAR)
        // Nor speak to systemd as if it were rreport: systemctl and timedatectl send
        // their errors there, which systemd logs as a warning per child (and the next
        // report would list). The children are the service's, not its main process.
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .process_group(0);
    // Spawning drops the Command, and with it our copies of the pipes' write ends:
    // without that the readers would never see end-of-file.
    command
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))
}

fn read_in_background(
    mut reader: std::io::PipeReader,
    max_bytes: usize,
) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("check output".into())
        .spawn(move || {
            let mut kept = Vec::new();
            let _ = (&mut reader).take(max_bytes as u64).read_to_end(&mut kept);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
            let _ = tx.send(kept);
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start a thread to read a check's output: {e}");
    }
    rx
}

/// Kills a child's process group at its timeout, unless called off first.
struct Watchdog {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    /// Where no thread can be had, the child is killed at once: nothing would.
    fn start(child: &mut std::process::Child, timeout: Duration) -> Result<Watchdog, String> {
        let group = group_of(child);
        let (stop, stopped) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                let expired = stopped.recv_timeout(timeout).is_err();
                if expired {
                    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                }
                expired
            });
        match spawned {
            Ok(thread) => Ok(Watchdog { stop, thread }),
            Err(e) => {
                kill_group(child);
                let _ = child.wait();
                Err(format!("cannot start a thread to time it: {e}"))
            }
        }
    }

    /// Whether the timeout had come.
    fn call_off(self) -> bool {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// The process group `spawn` made the child the leader of.
fn group_of(child: &std::process::Child) -> nix::unistd::Pid {
    nix::unistd::Pid::from_raw(child.id() as i32)
}

fn kill_group(child: &std::process::Child) {
    let _ = nix::sys::signal::killpg(group_of(child), nix::sys::signal::Signal::SIGKILL);
}

/// The first `OUTPUT_LINES` non-blank lines, each cut to `LINE_MAX_CHARS`.
pub fn first_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| {
            let clean: String = l.chars().filter(|c| !c.is_control()).collect();
            crate::collect::truncate(clean.trim_end(), LINE_MAX_CHARS).0
        })
        .filter(|l| !l.trim().is_empty())
        .take(OUTPUT_LINES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn exit_code_and_output_are_kept() {
        let done = run(
            &argv(&["sh", "-c", "echo one; echo two >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(done.code, Some(3));
        assert!(!done.timed_out);
        assert_eq!(done.output, ["one", "two"]);
    }

    /// The lines `stream` hands over, each cut to `max`, until `more` says stop.
    fn lines(
        script: &str,
        timeout: Duration,
        max: usize,
        mut more: impl FnMut(&[String]) -> bool,
    ) -> (Finished, Vec<String>) {
        let mut seen = Vec::new();
        let (done, _) = stream(&["sh", "-c", script], timeout, |reader| {
            let mut line = Vec::new();
            while let Ok(true) = bounded_line(reader, max, &mut line) {
                seen.push(String::from_utf8_lossy(&line).into_owned());
                if !more(&seen) {
                    return;
                }
            }
        })
        .unwrap();
        (done, seen)
    }

    #[test]
    fn stream_hands_over_lines_cut_to_a_bound_until_asked_to_stop() {
        let script =
            "printf 'one\\n'; head -c 100000 /dev/zero | tr '\\0' x; printf '\\nthree\\nfour\\n'";
        let (done, seen) = lines(script, Duration::from_secs(10), 10, |seen| seen.len() < 3);
        assert_eq!(seen, ["one", "xxxxxxxxxx", "three"]);
        assert!(!done.timed_out);
    }

    #[test]
    fn stream_ends_a_program_that_never_does_at_the_timeout() {
        let (done, seen) = lines(
            "echo a; exec sleep 60",
            Duration::from_millis(200),
            100,
            |_| true,
        );
        assert!(done.timed_out);
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let e = run(&argv(&["/nonexistent/prog"]), Duration::from_secs(1)).unwrap_err();
        assert!(e.starts_with("cannot run /nonexistent/prog:"), "{e}");
    }

    #[test]
    fn first_lines_skips_blank_lines_and_control_characters() {
        let lines = first_lines(b"\n a\x1b[31mred\n\n\nb\nc\nd\ne\nf\n");
        assert_eq!(lines, [" a[31mred", "b", "c", "d", "e"]);
    }
}
