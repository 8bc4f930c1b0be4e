//! The `checks` collector: the admin's own health checks (`[[checks]]` in the
//! config), each ok or failed with a short detail and the time it took.
//!
//! Every check runs on its own thread and is waited for until its own timeout, so
//! one slow check neither delays nor hides the others. A check that overruns is
//! reported failed; the command check kills its program at the timeout, and a tcp
//! connect gives up by itself. Only a name lookup can hang past it (getaddrinfo
//! cannot be cancelled): that thread is left behind and the check skipped until it
//! returns (see `deadline`).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::command;

use super::{deadline, CollectError};

/// One check as the config defines it.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub probe: Probe,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum Probe {
    /// Processes whose name is `name` (if given) and whose command line matches
    /// `cmdline` (if given): at least `min`, at most `max`.
    Process {
        name: Option<String>,
        cmdline: Option<regex_lite::Regex>,
        min: usize,
        max: Option<usize>,
    },
    Pidfile(PathBuf),
    /// "host:port", resolved at check time.
    Tcp(String),
    Systemd(String),
    /// The program and its arguments (`["/bin/sh", "-c", …]` when the admin asked for a shell).
    Command(Vec<String>),
}

impl Probe {
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Process { .. } => "process",
            Probe::Pidfile(_) => "pidfile",
            Probe::Tcp(_) => "tcp",
            Probe::Systemd(_) => "systemd",
            Probe::Command(_) => "command",
        }
    }
}

/// One check's result, as the report shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub name: String,
    pub kind: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What a command (or systemctl) printed: the first few lines.
    pub output: Vec<String>,
    pub secs: f64,
}

/// The checks, started.
pub struct Started(
    Vec<(
        Check,
        Instant,
        Result<deadline::Running<Outcome>, CollectError>,
    )>,
);

/// Starts every check on its own thread.
pub fn start(checks: &[Check]) -> Started {
    let processes: Arc<OnceLock<Vec<Proc>>> = Arc::default();
    Started(
        checks
            .iter()
            .map(|check| {
                let (work, procs) = (check.clone(), processes.clone());
                let running = deadline::spawn(&format!("check {}", check.name), move || {
                    Ok(run(&work, &procs))
                });
                (check.clone(), Instant::now(), running)
            })
            .collect(),
    )
}

impl Started {
    /// Every result, each waited for until its own timeout (and a moment's grace).
    pub fn finish(self) -> Vec<Outcome> {
        self.0
            .into_iter()
            .map(|(check, started, running)| {
                let limit = format!("its timeout of {}", secs(check.timeout));
                let until = started + check.timeout + Duration::from_millis(250);
                running
                    .and_then(|r| r.wait(until, &limit))
                    .unwrap_or_else(|e| Outcome {
                        name: check.name.clone(),
                        kind: check.probe.kind(),
                        ok: false,
                        detail: e.to_string(),
                        output: Vec::new(),
                        secs: started.elapsed().as_secs_f64(),
                    })
            })
            .collect()
    }
}

fn run(check: &Check, processes: &OnceLock<Vec<Proc>>) -> Outcome {
    let started = Instant::now();
    let (ok, detail, output) = match &check.probe {
        Probe::Process {
            name,
            cmdline,
            min,
            max,
        } => {
            let found = processes.get_or_init(scan);
            let (ok, detail) = count(found, name.as_deref(), cmdline.as_ref(), *min, *max);
            (ok, detail, Vec::new())
        }
        Probe::Pidfile(path) => pidfile(path),
        Probe::Tcp(address) => tcp(address, check.timeout),
        Probe::Systemd(unit) => systemd(unit, check.timeout),
        Probe::Command(argv) => program(argv, check.timeout),
    };
    Outcome {
        name: check.name.clone(),
        kind: check.probe.kind(),
        ok,
        detail,
        output,
        secs: started.elapsed().as_secs_f64(),
    }
}

/// "1.5 s", "250 ms".
fn secs(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A process as the process check sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Proc {
    pub pid: u32,
    /// The kernel's name (comm, at most 15 bytes).
    pub comm: String,
    /// The command line, arguments joined by spaces; empty for kernel threads.
    pub cmdline: String,
}

fn scan() -> Vec<Proc> {
    super::processes::pids()
        .filter_map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some(Proc {
                pid,
                comm: comm.trim_end_matches('\n').to_string(),
                cmdline: super::processes::command_line(pid),
            })
        })
        .collect()
}

impl Proc {
    /// pgrep's rule (the kernel's name) or the program's own file name, since the
    /// kernel cuts names at 15 bytes ("systemd-journald" is "systemd-journal").
    fn is_named(&self, name: &str) -> bool {
        let program = self.cmdline.split(' ').next().unwrap_or_default();
        self.comm == name || program.rsplit('/').next() == Some(name)
    }
}

/// Whether the matching processes number between `min` and `max`, and what to say.
pub fn count(
    processes: &[Proc],
    name: Option<&str>,
    cmdline: Option<&regex_lite::Regex>,
    min: usize,
    max: Option<usize>,
) -> (bool, String) {
    let own = std::process::id();
    let pids: Vec<u32> = processes
        .iter()
        .filter(|p| p.pid != own)
        .filter(|p| name.is_none_or(|n| p.is_named(n)))
        .filter(|p| cmdline.is_none_or(|re| re.is_match(&p.cmdline)))
        .map(|p| p.pid)
        .collect();
    let what = match (name, cmdline) {
        (Some(n), _) => format!("named {n}"),
        (None, Some(re)) => format!("matching /{re}/"),
        (None, None) => "at all".into(),
    };
    let n = pids.len();
    let shown: Vec<String> = pids.iter().take(5).map(u32::to_string).collect();
    let list = match n {
        0 => String::new(),
        1..=5 => format!(" (pid {})", shown.join(", ")),
        _ => format!(" (pid {}, …)", shown.join(", ")),
    };
    match max {
        _ if n == 0 && min > 0 => (false, format!("no process {what}")),
        _ if n < min => (
            false,
            format!("{n} processes {what}{list}, expected at least {min}"),
        ),
        Some(max) if n > max => (
            false,
            format!("{n} processes {what}{list}, expected at most {max}"),
        ),
        _ => (true, format!("{n} running{list}")),
    }
}

type Verdict = (bool, String, Vec<String>);

/// A pid and a newline, with room for the odd extra line some daemons write.
const PIDFILE_LIMIT: u64 = 512;

fn pidfile(path: &std::path::Path) -> Verdict {
    let shown = path.display();
    // The watched service owns its pidfile's directory: it could leave a FIFO or a
    // link to /dev/zero there, which must cost a failed check, not the daemon.
    let text = match crate::regular::read(path, PIDFILE_LIMIT, crate::regular::Links::Follow) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return (false, format!("cannot read {shown}: {e}"), Vec::new()),
    };
    // 0 and negative numbers would name process groups to kill(2): only real pids.
    let pid = match text.trim().parse::<i32>() {
        Ok(pid) if pid > 0 => pid,
        _ => {
            let start = super::truncate(text.trim(), 40).0;
            return (
                false,
                format!("{shown} does not hold a pid: {start:?}"),
                Vec::new(),
            );
        }
    };
    let alive = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    };
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| format!(" ({})", c.trim_end()))
        .unwrap_or_default();
    match alive {
        true => (true, format!("pid {pid}{comm} is running"), Vec::new()),
        false => (
            false,
            format!("pid {pid} from {shown} is not running"),
            Vec::new(),
        ),
    }
}

/// Connects to every address `address` resolves to, in turn, within `timeout` in all.
fn tcp(address: &str, timeout: Duration) -> Verdict {
    use std::net::{TcpStream, ToSocketAddrs};
    let deadline = Instant::now() + timeout;
    let addrs: Vec<_> = match address.to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return (false, format!("cannot resolve {address}: {e}"), Vec::new()),
    };
    let mut failures = Vec::new();
    for addr in &addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            failures.push(format!("{addr}: no time left"));
            continue;
        }
        let started = Instant::now();
        match TcpStream::connect_timeout(addr, left) {
            Ok(_) => {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                return (
                    true,
                    format!("connected to {addr} in {ms:.1} ms"),
                    Vec::new(),
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                failures.push(format!("{addr}: no answer within {}", secs(timeout)))
            }
            Err(e) => failures.push(format!("{addr}: {e}")),
        }
    }
    if failures.is_empty() {
        failures.push(format!("{address} resolves to no address"));
    }
    (false, failures.join("; "), Vec::new())
}

fn systemd(unit: &str, timeout: Duration) -> Verdict {
    let argv = ["systemctl", "is-active", "--", unit].map(String::from);
    match command::run(&argv, timeout) {
        Ok(done) if done.timed_out => (
            false,
            format!("systemctl gave no answer within {}", secs(timeout)),
            done.output,
        ),
        Ok(done) => {
            let (ok, detail) = unit_state(unit, done.code, done.output.first());
            (ok, detail, done.output)
        }
        Err(e) => (false, e, Vec::new()),
    }
}

/// What `systemctl is-active` said: it prints the unit's state (active, inactive,
/// failed, activating…) and exits 0 only for active; anything else it prints is
/// an error of its own, such as no systemd running.
pub fn unit_state(unit: &str, code: Option<i32>, first: Option<&String>) -> (bool, String) {
    let state = first.filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase()));
    match (code, state) {
        (Some(0), _) => (true, format!("{unit} is active")),
        (_, Some(state)) => (false, format!("{unit} is {state}")),
        (_, None) => (
            false,
            format!(
                "systemctl failed: {}",
                first.map_or("no output", String::as_str)
            ),
        ),
    }
}

fn program(argv: &[String], timeout: Duration) -> Verdict {
    match command::run(argv, timeout) {
        Ok(done) if done.timed_out => (
            false,
            format!("killed after its timeout of {}", secs(timeout)),
            done.output,
        ),
        Ok(done) => match done.code {
            Some(0) => (true, "exit status 0".into(), done.output),
            Some(code) => (false, format!("exit status {code}"), done.output),
            None => (false, "killed by a signal".into(), done.output),
        },
        Err(e) => (false, e, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, comm: &str, cmdline: &str) -> Proc {
        Proc {
            pid,
            comm: comm.into(),
            cmdline: cmdline.into(),
        }
    }

    #[track_caller]
    fn check(
        name: Option<&str>,
        re: Option<&str>,
        min: usize,
        max: Option<usize>,
        expected: (bool, &str),
    ) {
        let table = [
            proc(10, "nginx", "nginx: master process /usr/sbin/nginx"),
            proc(11, "nginx", "nginx: worker process"),
            proc(20, "systemd-journal", "/usr/lib/systemd/systemd-journald"),
            proc(30, "kworker/0:1", ""),
        ];
        let re = re.map(|r| regex_lite::Regex::new(r).unwrap());
        let (ok, detail) = count(&table, name, re.as_ref(), min, max);
        assert_eq!((ok, detail.as_str()), expected);
    }

    #[test]
    fn systemctl_answers() {
        let said = |code, line: &str| unit_state("cron.service", code, Some(&line.to_string()));
        assert_eq!(
            said(Some(0), "active"),
            (true, "cron.service is active".into())
        );
        assert_eq!(
            said(Some(3), "inactive"),
            (false, "cron.service is inactive".into())
        );
        assert_eq!(
            said(Some(3), "failed"),
            (false, "cron.service is failed".into())
        );
        assert_eq!(
            said(Some(1), "System has not been booted with systemd as init system (PID 1). Can't operate."),
            (false, "systemctl failed: System has not been booted with systemd as init system (PID 1). Can't operate.".into())
        );
    }

    #[test]
    fn process_counts() {
        check(
            Some("nginx"),
            None,
            1,
            None,
            (true, "2 running (pid 10, 11)"),
        );
        check(
            Some("nginx"),
            None,
            1,
            Some(1),
            (
                false,
                "2 processes named nginx (pid 10, 11), expected at most 1",
            ),
        );
        check(
            Some("nginx"),
            None,
            3,
            None,
            (
                false,
                "2 processes named nginx (pid 10, 11), expected at least 3",
            ),
        );
        check(
            Some("apache2"),
            None,
            1,
            None,
            (false, "no process named apache2"),
        );
        // Names longer than the kernel's 15 bytes match the program's file name.
        check(
            Some("systemd-journald"),
            None,
            1,
            None,
            (true, "1 running (pid 20)"),
        );
        check(
            None,
            Some("master process"),
            1,
            Some(1),
            (true, "1 running (pid 10)"),
        );
        check(
            Some("nginx"),
            Some("worker"),
            1,
            None,
            (true, "1 running (pid 11)"),
        );
        check(
            None,
            Some("^php-fpm"),
            1,
            None,
            (false, "no process matching /^php-fpm/"),
        );
        // "Must not run": min 0, max 0.
        check(Some("telnetd"), None, 0, Some(0), (true, "0 running"));
    }
}
