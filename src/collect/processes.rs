//! The `processes` collector: counts by state, and the top processes by CPU, by
//! resident memory, and by bytes of I/O since the previous report, as dstat
//! --top-cpu/--top-mem/--top-io show them.
//!
//! One read of /proc/<pid>/stat and /proc/<pid>/io per process. CPU is taken since
//! the previous report, as the CPU section's level is and the I/O always was,
//! compared with the counters that report kept. The first report (or one after a
//! reboot) has no such counters and takes each process's CPU on average since it
//! started, as ps(1)'s %CPU does (and as the other sections' first report counts
//! since boot), rather than over a second pass at the sample window's end: at
//! 10,000 processes two passes take longer than the window (BENCHMARKS.md). The
//! command line and owner are read only for the few processes shown. A process
//! that exits mid-scan, or whose files this user may not read, is skipped: never an
//! error.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

use serde::Serialize;

use super::counters::{self, Previous, Table};
use super::procfs::PidFiles;
use super::scan;
use super::CollectError;

/// How many processes each top list shows.
pub const TOP_N: usize = 5;
/// Longest command line shown; the rest is cut with "…".
const CMDLINE_MAX_CHARS: usize = 120;

#[derive(Debug, Clone, Serialize)]
pub struct Processes {
    pub total: usize,
    /// running, sleeping, disk_sleep (D, uninterruptible), zombie, stopped, idle, other.
    pub by_state: BTreeMap<&'static str, usize>,
    /// Percent of one CPU, as top(1) counts it: on average since the previous
    /// report, or since the process started when there is none.
    pub top_cpu: Vec<Top>,
    /// Whether `top_cpu` is since the previous report (else since each started).
    pub cpu_since_previous_report: bool,
    /// Resident memory, bytes.
    pub top_memory: Vec<Top>,
    /// Bytes read + written since the previous report (storage I/O, /proc/<pid>/io);
    /// null on the first report, empty where /proc/<pid>/io is not readable.
    pub top_io: Option<Vec<Top>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Top {
    pub pid: u32,
    pub user: String,
    pub name: String,
    pub cmdline: String,
    /// Percent for CPU (one decimal), whole bytes for memory and I/O.
    pub value: serde_json::Value,
}

/// What one /proc/<pid>/stat says.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub pid: u32,
    pub name: String,
    pub state: char,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Clock ticks after boot when it started: with the pid, it names the process.
    pub start: u64,
    pub rss_pages: u64,
    /// When it was read, in seconds after its pass began; 0 where not timed.
    pub read_at: f64,
}

/// Parses /proc/<pid>/stat. The name is between the first '(' and the last ')',
/// since a process may call itself "a) b (c".
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let name = text.get(open + 1..close)?.to_string();
    // Fields from 3 (the state) on, counted as proc_pid_stat(5) counts them.
    let mut fields = text.get(close + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let mut number = |skipped: usize| fields.nth(skipped).and_then(|v| v.parse::<u64>().ok());
    let utime = number(10)?; // field 14, after 4 to 13
    let stime = number(0)?; // 15
    let start = number(6)?; // 22, after 16 to 21
    let rss_pages = number(1)?; // 24, after 23
    Some(Stat {
        pid,
        name,
        state,
        cpu_ticks: utime + stime,
        start,
        rss_pages,
        read_at: 0.0,
    })
}

/// Every process's stat, each timed from `began` (the pass's start), and its
/// storage bytes, read right after its stat (its /proc entry at hand); in parts
/// over threads when there are many.
fn snapshot(began: Instant) -> (Vec<Stat>, Vec<Option<u64>>) {
    let pids: Vec<u32> = pids().collect();
    let read = scan::in_parts(&pids, |part, files| {
        let each = |&pid: &u32| {
            let read_at = began.elapsed().as_secs_f64();
            let stat = parse_stat(files.read(pid, "stat")?)?;
            Some((Stat { read_at, ..stat }, io_bytes(files, pid)))
        };
        part.iter().filter_map(each).collect()
    });
    read.into_iter().unzip()
}

/// Every process id in /proc (the process checks scan them too).
pub(super) fn pids() -> impl Iterator<Item = u32> {
    pids_in(&super::procfs::Procfs::default())
}

/// Every process id under `proc` (the sampler counts them).
pub fn pids_in(proc: &super::procfs::Procfs) -> impl Iterator<Item = u32> {
    std::fs::read_dir(proc.path(""))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
}

/// The whole command line, arguments joined by spaces; empty for kernel threads
/// and for processes that exited or cannot be read.
pub(super) fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw)
        .trim_end_matches('\0')
        .replace('\0', " ")
}

/// Storage bytes read and written by one process so far, if readable.
fn io_bytes(files: &mut PidFiles, pid: u32) -> Option<u64> {
    let text = files.read(pid, "io")?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some(get("read_bytes:")? + get("write_bytes:")?)
}

/// The table kind the previous report's process counters are kept under.
pub const KIND: &str = "processes";

/// The table key naming one process across reports (pids are reused).
fn key(s: &Stat) -> String {
    format!("{}:{}", s.pid, s.start)
}

/// Where a kept row holds each counter: the CPU ticks, then the storage bytes
/// (absent where /proc/<pid>/io is not readable).
const TICKS: usize = 0;
const IO: usize = 1;

/// Counter `field` of the row `table` keeps under `key`, if there is one.
fn kept_field(table: &Table, key: &str, field: usize) -> Option<u64> {
    table.get(key)?.get(field).copied()
}

/// What the next report compares with: each process's CPU ticks and, where
/// readable, its storage bytes (`TICKS`, `IO`).
fn kept(stats: &[Stat], bytes: Vec<Option<u64>>) -> Table {
    let row = |s: &Stat, b: Option<u64>| std::iter::once(s.cpu_ticks).chain(b).collect();
    stats
        .iter()
        .zip(bytes)
        .map(|(s, b)| (key(s), row(s, b)))
        .collect()
}

/// How each process's CPU is measured.
#[derive(Clone, Copy)]
pub enum Cpu<'a> {
    /// Since the previous report, from the ticks it kept.
    SincePrevious(Previous<'a>),
    /// Since each process started: the pass began `uptime` seconds after boot, and
    /// reached each process `read_at` into it.
    SinceStart { uptime: f64 },
}

/// Reads every process once (CPU, memory, I/O), in parts over threads when there
/// are many (`scan`). Returns the section and the counters to keep for the next
/// report.
pub fn collect(previous: Option<Previous>) -> Result<(Processes, Table), CollectError> {
    let uptime = seconds_since_boot();
    let (now, bytes) = snapshot(Instant::now());
    if now.is_empty() {
        return Err(CollectError::new("/proc: no processes readable"));
    }
    let table = kept(&now, bytes);
    let cpu = match previous {
        Some(p) => Cpu::SincePrevious(p),
        None => Cpu::SinceStart { uptime },
    };
    let (hz, page) = (ticks_per_second(), page_size());
    Ok((summarise(&now, cpu, &table, previous, hz, page), table))
}

/// CLOCK_BOOTTIME, which /proc/<pid>/stat's start times count from.
fn seconds_since_boot() -> f64 {
    use nix::time::{clock_gettime, ClockId};
    clock_gettime(ClockId::CLOCK_BOOTTIME)
        .map_or(0.0, |t| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
}

/// Pure: the section from the latest pass, CPU measured as `cpu` says, and the
/// counters kept now (`table`) and by the previous report.
pub fn summarise(
    latest: &[Stat],
    cpu: Cpu,
    table: &Table,
    previous: Option<Previous>,
    hz: f64,
    page: u64,
) -> Processes {
    let mut by_state: BTreeMap<&'static str, usize> = [
        "running",
        "sleeping",
        "disk_sleep",
        "zombie",
        "stopped",
        "idle",
        "other",
    ]
    .iter()
    .map(|s| (*s, 0))
    .collect();
    for s in latest {
        *by_state.entry(state_name(s.state)).or_default() += 1;
    }
    let memory = latest.iter().map(|s| (s, (s.rss_pages * page) as f64));
    let top_io = previous.map(|p| {
        let moved = latest.iter().filter_map(|s| {
            let key = key(s);
            let now = kept_field(table, &key, IO)?;
            let before = kept_field(p.table, &key, IO).unwrap_or(0);
            Some((s, counters::increase(&[before], &[now])[0] as f64))
        });
        top(moved)
    });
    Processes {
        total: latest.len(),
        by_state,
        top_cpu: top(cpu_percent(latest, cpu, hz).into_iter()),
        cpu_since_previous_report: matches!(cpu, Cpu::SincePrevious(_)),
        top_memory: top(memory),
        top_io,
    }
}

/// Each process's percent of one CPU. A process the previous report did not see
/// started since, and counts from zero, as its I/O does.
fn cpu_percent<'a>(latest: &'a [Stat], cpu: Cpu, hz: f64) -> Vec<(&'a Stat, f64)> {
    // No span shorter than one clock tick: a process a tick old has used one at most.
    let percent = |ticks: u64, seconds: f64| ticks as f64 / hz / seconds.max(1.0 / hz) * 100.0;
    let each = |s: &'a Stat| match cpu {
        Cpu::SincePrevious(p) => {
            let before = kept_field(p.table, &key(s), TICKS).unwrap_or(0);
            (s, percent(s.cpu_ticks.saturating_sub(before), p.seconds))
        }
        Cpu::SinceStart { uptime } => {
            let age = uptime + s.read_at - s.start as f64 / hz;
            (s, percent(s.cpu_ticks, age))
        }
    };
    latest.iter().map(each).collect()
}

/// The TOP_N largest non-zero values, with the details read for those alone.
fn top<'a>(values: impl Iterator<Item = (&'a Stat, f64)>) -> Vec<Top> {
    let mut all: Vec<(&Stat, f64)> = values.filter(|(_, v)| *v > 0.0).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.pid.cmp(&b.0.pid)));
    all.into_iter()
        .take(TOP_N)
        .map(|(s, value)| Top {
            pid: s.pid,
            user: owner(s.pid),
            name: s.name.clone(),
            cmdline: cmdline(s.pid).unwrap_or_else(|| format!("[{}]", s.name)),
            value: if value.fract() == 0.0 {
                (value as u64).into()
            } else {
                ((value * 10.0).round() / 10.0).into()
            },
        })
        .collect()
}

fn state_name(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping",
        'D' => "disk_sleep",
        'Z' => "zombie",
        'T' | 't' => "stopped",
        'I' => "idle",
        _ => "other",
    }
}

/// The command line, NULs as spaces, cut to a readable length; None for kernel threads.
fn cmdline(pid: u32) -> Option<String> {
    let text: String = Some(command_line(pid))
        .filter(|t| !t.is_empty())?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Some(super::truncate(&text, CMDLINE_MAX_CHARS).0)
}

/// The owner's user name, else the uid (see `names`).
fn owner(pid: u32) -> String {
    match std::fs::metadata(format!("/proc/{pid}")) {
        Ok(meta) => super::names::user(meta.uid()),
        Err(_) => "?".into(),
    }
}

fn ticks_per_second() -> f64 {
    use nix::unistd::{sysconf, SysconfVar};
    sysconf(SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |v| v as f64)
}

fn page_size() -> u64 {
    use nix::unistd::{sysconf, SysconfVar};
    sysconf(SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |v| v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, state: char, ticks: u64, rss: u64) -> Stat {
        Stat {
            pid,
            name: format!("p{pid}"),
            state,
            cpu_ticks: ticks,
            start: 100,
            rss_pages: rss,
            read_at: 0.0,
        }
    }

    #[test]
    fn cpu_since_start_is_over_each_processs_own_age() {
        // The pass began 100 s after boot. pid 1 started at 50 s and has used 25 s:
        // half a CPU. pid 2 started at 90 s and was read 0.5 s into the pass, 10.5 s
        // old, with 1.05 s used: 10 %. pid 3 started as the pass began: one tick in
        // its first tick is a whole CPU, not a division by nothing.
        let started = |s: Stat, start: u64, read_at: f64| Stat {
            start,
            read_at,
            ..s
        };
        let latest = [
            started(stat(1, 'S', 2_500, 1), 5_000, 0.0),
            started(stat(2, 'S', 105, 1), 9_000, 0.5),
            started(stat(3, 'R', 1, 1), 10_000, 0.0),
        ];
        let cpu = Cpu::SinceStart { uptime: 100.0 };
        let p = summarise(&latest, cpu, &Table::new(), None, 100.0, 4096);
        assert_eq!(values(&p.top_cpu), [(3, 100.0), (1, 50.0), (2, 10.0)]);
        assert!(!p.cpu_since_previous_report);
    }

    #[test]
    fn parses_stat_with_a_hostile_name() {
        let line = "4242 (evil) R (x) S 1 1 0 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 777 12345678 1024 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            (
                s.pid,
                s.name.as_str(),
                s.state,
                s.cpu_ticks,
                s.start,
                s.rss_pages
            ),
            (4242, "evil) R (x", 'S', 300, 777, 1024)
        );
        assert_eq!(parse_stat("garbage"), None);
        let own = parse_stat(&std::fs::read_to_string("/proc/self/stat").unwrap()).unwrap();
        assert_eq!(own.pid, std::process::id());
        assert!(own.rss_pages > 0 && own.start > 0);
        assert_eq!(parse_stat("12 (x"), None);
    }

    #[test]
    fn tops_and_counts() {
        let second = [
            stat(1, 'S', 150, 10),
            stat(2, 'R', 110, 500),
            stat(3, 'Z', 0, 0),
            stat(4, 'D', 5, 1),
        ];
        // All started 1 s after boot (tick 100), and are 10 s old.
        let cpu = Cpu::SinceStart { uptime: 11.0 };
        let p = summarise(&second, cpu, &Table::new(), None, 100.0, 4096);
        assert_eq!(p.total, 4);
        assert_eq!(
            (
                p.by_state["sleeping"],
                p.by_state["running"],
                p.by_state["zombie"],
                p.by_state["disk_sleep"]
            ),
            (1, 1, 1, 1)
        );
        // pid 1 used 150 ticks at 100 a second in 10 s: 15 % of one CPU; pid 3 none.
        let cpu = values(&p.top_cpu);
        assert_eq!(cpu, [(1, 15.0), (2, 11.0), (4, 0.5)]);
        assert_eq!(p.top_memory[0].pid, 2);
        assert_eq!(
            p.top_memory[0].value,
            serde_json::json!(500 * 4096),
            "whole bytes"
        );
        assert!(p.top_io.is_none(), "no previous report");
    }

    /// Each shown process's pid and value.
    fn values(tops: &[Top]) -> Vec<(u32, f64)> {
        tops.iter()
            .map(|t| (t.pid, t.value.as_f64().unwrap()))
            .collect()
    }

    /// The section from `latest`, CPU since the previous report `before`, `seconds` ago.
    fn since(latest: &[Stat], now: &Table, before: &Table, seconds: f64) -> Processes {
        let prev = previous(before, seconds);
        summarise(
            latest,
            Cpu::SincePrevious(prev),
            now,
            Some(prev),
            100.0,
            4096,
        )
    }

    fn previous(table: &Table, seconds: f64) -> Previous<'_> {
        Previous {
            table,
            taken_at: chrono::Utc::now(),
            seconds,
        }
    }

    #[test]
    fn io_since_the_previous_report() {
        let latest = [stat(1, 'S', 0, 1), stat(2, 'S', 0, 1), stat(3, 'S', 0, 1)];
        let before = Table::from([("1:100".into(), vec![0, 1_000])]);
        // pid 3's I/O is not readable: a row of its CPU alone.
        let now = Table::from([
            ("1:100".into(), vec![0, 5_000]),
            ("2:100".into(), vec![0, 300]),
            ("3:100".into(), vec![0]),
        ]);
        let p = since(&latest, &now, &before, 60.0);
        let io = values(p.top_io.as_ref().unwrap());
        assert_eq!(
            io,
            [(1, 4000.0), (2, 300.0)],
            "a process started since counts from zero"
        );
    }

    #[test]
    fn cpu_since_the_previous_report_from_the_ticks_it_kept() {
        // 100 s ago pid 1 had used 1,000 ticks (100 a second); it has 1,500 now: 5 s
        // of CPU in 100 s, 5 %. pid 2 started since, and has used 200 ticks: 2 %.
        let before = Table::from([("1:100".into(), vec![1_000, 0])]);
        let latest = [stat(1, 'S', 1_500, 1), stat(2, 'S', 200, 1)];
        let now = kept(&latest, vec![Some(0), None]);
        assert_eq!(now["2:100"], [200], "CPU ticks, then I/O where readable");
        let p = since(&latest, &now, &before, 100.0);
        let cpu = values(&p.top_cpu);
        assert_eq!(cpu, [(1, 5.0), (2, 2.0)]);
        assert!(p.cpu_since_previous_report);
    }
}
