//! Collectors against the machine itself: /proc and statvfs (through df) read
//! independently here, compared with what rreport reports.

use std::process::Command;
use std::time::{Duration, Instant};

use rreport::collect::{self, boot, cpu, disk, memory};

fn proc_field(file: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("{key} in {file}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn memory_matches_proc_meminfo() {
    let m = memory::collect().unwrap();
    assert_eq!(m.total, proc_field("/proc/meminfo", "MemTotal:") * 1024);
    assert_eq!(
        m.swap_total,
        proc_field("/proc/meminfo", "SwapTotal:") * 1024
    );
    let available = proc_field("/proc/meminfo", "MemAvailable:") * 1024;
    assert!(
        m.available.abs_diff(available) < 256 << 20,
        "available {} vs {available}",
        m.available
    );
    assert_eq!(m.used, m.total - m.available, "used = total - available");
    let expected = (m.used as f64 / m.total as f64 * 1000.0).round() / 10.0;
    assert_eq!(m.percent, expected);
}

#[test]
fn boot_matches_proc_stat_and_uptime() {
    let b = boot::collect(&rreport::zone::Zone::utc()).unwrap();
    let btime = proc_field("/proc/stat", "btime") as i64;
    let booted = chrono::DateTime::parse_from_rfc3339(&b.time).unwrap();
    assert_eq!(booted.timestamp(), btime);
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (b.uptime_secs as f64 - uptime).abs() < 5.0,
        "{} vs {uptime}",
        b.uptime_secs
    );
}

#[test]
fn boot_time_is_shown_in_the_configured_zone() {
    let b = boot::collect(&rreport::zone::Zone::named("Asia/Kolkata").unwrap()).unwrap();
    assert!(b.time.ends_with("+05:30"), "{}", b.time);
}

#[test]
fn cpu_matches_proc_stat_and_loadavg() {
    let c = cpu::CpuSample::start()
        .unwrap()
        .finish(Duration::from_millis(50))
        .unwrap()
        .0;
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let cpus = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    assert_eq!(c.logical, cpus);
    let loadavg: Vec<f64> = std::fs::read_to_string("/proc/loadavg")
        .unwrap()
        .split_whitespace()
        .take(3)
        .map(|v| v.parse().unwrap())
        .collect();
    for (ours, theirs) in c.load_avg.iter().zip(&loadavg) {
        assert!(
            (ours - theirs).abs() < 1.0,
            "{:?} vs {loadavg:?}",
            c.load_avg
        );
    }
    if let Some(p) = c.percent {
        assert!((0.0..=100.0).contains(&p), "{p}");
    }
}

#[test]
fn cpu_percent_sees_a_busy_core() {
    // One thread spinning for the whole window is at least 1/N of all CPUs busy.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinner = {
        let stop = stop.clone();
        std::thread::spawn(move || while !stop.load(std::sync::atomic::Ordering::Relaxed) {})
    };
    let c = cpu::CpuSample::start()
        .unwrap()
        .finish(Duration::from_millis(300))
        .unwrap()
        .0;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spinner.join().unwrap();
    let floor = 100.0 / c.logical as f64 * 0.5;
    assert!(
        c.percent.unwrap() >= floor,
        "busy {:?} with one core spinning of {}",
        c.percent,
        c.logical
    );
}

#[test]
fn cpu_average_since_the_previous_report_matches_proc_stat() {
    // The previous report's counters, read here from /proc/stat independently.
    let first = std::fs::read_to_string("/proc/stat").unwrap();
    let ticks: Vec<u64> = first.lines().next().unwrap()[4..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let then = chrono::Utc::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinner = {
        let stop = stop.clone();
        std::thread::spawn(move || while !stop.load(std::sync::atomic::Ordering::Relaxed) {})
    };
    std::thread::sleep(Duration::from_millis(300));
    let (c, table) = cpu::CpuSample::start()
        .unwrap()
        .finish(Duration::ZERO)
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spinner.join().unwrap();
    let before = rreport::collect::counters::Table::from([("cpu".to_string(), ticks)]);
    let previous = rreport::collect::counters::Previous {
        table: &before,
        taken_at: then,
        seconds: 0.3,
    };
    let c = cpu::with_average(c, &table, Some(previous), &rreport::zone::Zone::utc());
    let average = c.average.expect("an average since the previous counters");
    let floor = 100.0 / c.logical as f64 * 0.5;
    assert!(
        average.percent >= floor,
        "{average:?} with one core spinning"
    );
    // Busy is everything but idle and iowait; steal is a part of busy.
    assert!(average.percent + average.iowait <= 100.2, "{average:?}");
    assert!(average.steal <= average.percent + 0.1, "{average:?}");
    assert_eq!(c.interval_secs, Some(0));
}

/// df(1)'s own figures for a mount point, in the order of `columns` (`--output=`).
fn df_columns(mount: &str, columns: &str, bytes: bool) -> Vec<u64> {
    let mut cmd = Command::new("df");
    if bytes {
        cmd.arg("-B1");
    }
    let out = cmd
        .arg(format!("--output={columns}"))
        .arg(mount)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

/// df(1)'s size, used and available bytes.
fn df(mount: &str) -> (u64, u64, u64) {
    let n = df_columns(mount, "size,used,avail", true);
    (n[0], n[1], n[2])
}

/// df -i's inode counts: total and used.
fn df_inodes(mount: &str) -> (u64, u64) {
    let n = df_columns(mount, "itotal,iused", false);
    (n[0], n[1])
}

#[test]
fn disks_match_df() {
    let (disks, errors) =
        disk::collect(None, std::time::Instant::now() + Duration::from_secs(10)).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        disks.iter().any(|d| d.mount == "/"),
        "the root filesystem is reported: {disks:?}"
    );
    for d in &disks {
        let (size, used, avail) = df(&d.mount);
        let slack = 64 << 20; // other processes write while the test runs
        assert_eq!(d.total, size, "{}", d.mount);
        assert!(
            d.used.abs_diff(used) < slack && d.free.abs_diff(avail) < slack,
            "{d:?} vs df {size} {used} {avail}"
        );
        let (itotal, iused) = df_inodes(&d.mount);
        assert_eq!(d.inodes_total, itotal, "{}", d.mount);
        assert!(
            d.inodes_used.abs_diff(iused) < 10_000,
            "{d:?} vs df -i {itotal} {iused}"
        );
        let expected = d.used as f64 / (d.used + d.free) as f64 * 100.0;
        assert!((d.percent - expected).abs() <= 0.05, "{d:?}");
    }
}

#[test]
fn named_filesystems_are_reported_as_named() {
    let (disks, errors) = disk::collect(
        Some(&["/".into(), "/proc/self".into(), "/nonexistent-mount".into()]),
        std::time::Instant::now() + Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(
        disks.iter().map(|d| d.mount.as_str()).collect::<Vec<_>>(),
        ["/", "/proc/self"]
    );
    assert_eq!(disks[1].fstype, "proc");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("/nonexistent-mount: statvfs: "),
        "{errors:?}"
    );
}

#[test]
fn gather_merges_every_collector() {
    let settings = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(20),
        Duration::from_secs(10),
    );
    // The pipeline assesses what was gathered; so does this test.
    let readings = collect::gather(&settings, chrono::Utc::now());
    let ctx = rreport::status::context(
        &readings,
        &rreport::history::Period::none(&rreport::zone::Zone::utc()),
        &Default::default(),
    )
    .0;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(ctx["hostname"], hostname.trim());
    for key in ["boot", "cpu", "memory", "disks"] {
        assert!(
            ctx[key].is_object() || ctx[key].is_array(),
            "{key}: {}",
            ctx[key]
        );
    }
    assert_eq!(ctx["errors"], serde_json::json!([]));
    // The status is the worst level found, whatever this machine's load is now.
    let levels = ["ok", "careful", "warning", "critical"];
    let rank = |l: &serde_json::Value| levels.iter().position(|x| l == x).unwrap();
    let worst = [
        &ctx["cpu"]["level"],
        &ctx["memory"]["level"],
        &ctx["load"]["level"],
    ]
    .into_iter()
    .chain(ctx["disks"].as_array().unwrap().iter().map(|d| &d["level"]))
    .map(rank)
    .max()
    .unwrap();
    assert_eq!(
        rank(&ctx["status"]),
        worst.max(rank(&ctx["memory"]["swap_level"]))
    );
}

#[test]
fn a_failing_filesystem_is_listed_in_errors_not_fatal() {
    let mut settings = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(10),
        Duration::from_secs(10),
    );
    settings.hostname = Some("web-1".into());
    settings.filesystems = Some(vec!["/".into(), "/nonexistent-mount".into()]);
    let ctx = collect::gather(&settings, chrono::Utc::now()).context().0;
    assert_eq!(ctx["hostname"], "web-1");
    assert_eq!(ctx["disks"].as_array().unwrap().len(), 1);
    assert_eq!(ctx["errors"][0]["collector"], "disk");
    assert!(ctx["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("/nonexistent-mount: statvfs:"));
}

#[test]
fn a_hung_and_a_panicking_collector_do_not_stop_the_report() {
    use std::sync::Arc;
    // A deadline a cold binary's panic (with a backtrace) cannot outlast; no clock is
    // read: that gather returned at all while `hangs` never does is the proof.
    let mut settings = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(10),
        Duration::from_secs(2),
    );
    fn hangs() -> Result<serde_json::Value, collect::CollectError> {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    fn explodes() -> Result<serde_json::Value, collect::CollectError> {
        panic!("index out of bounds")
    }
    // Not apt's resolver: on a loaded machine it takes longer than this deadline.
    let no_apt = rreport::sections::Section::ALL
        .into_iter()
        .filter(|s| s.name() != "updates");
    settings.sections = rreport::sections::Sections::new(no_apt.collect()).unwrap();
    settings.extra = vec![
        ("stuck".to_string(), Arc::new(hangs)),
        ("exploding".to_string(), Arc::new(explodes)),
    ];
    let ctx = collect::gather(&settings, chrono::Utc::now()).context();
    let errors = &ctx.0["errors"];
    assert_eq!(errors[0]["collector"], "stuck");
    assert_eq!(
        errors[0]["message"],
        "did not finish within 2 s (collector_timeout_secs); skipped until it does"
    );
    assert_eq!(errors[1]["collector"], "exploding");
    assert_eq!(errors[1]["message"], "panicked: index out of bounds");
    assert!(
        ctx.0["memory"].is_object() && ctx.0["disks"].is_array(),
        "the other collectors still report"
    );

    // The report shows both, and the next report skips the stuck one at once.
    let renderer =
        rreport::report::Renderer::new(rreport::report::DEFAULT_SUBJECT, None, false).unwrap();
    let rendered = renderer.render(&ctx).unwrap();
    assert!(
        rendered.text.contains("stuck: did not finish within 2 s")
            && rendered.html.contains("panicked: index out of bounds")
    );
    let ctx = collect::gather(&settings, chrono::Utc::now()).context();
    assert_eq!(
        ctx.0["errors"][0]["message"],
        "skipped: its run for an earlier report has not finished yet"
    );
}

/// The whole disk holding `path`'s filesystem, as /sys/block names it.
fn disk_of(path: &str) -> String {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).unwrap().dev();
    let (major, minor) = (
        ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff),
        (dev & 0xff) | ((dev >> 12) & !0xff),
    );
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).unwrap();
    // A partition's directory sits inside its disk's.
    let disk = if sys.join("partition").exists() {
        sys.parent().unwrap().to_path_buf()
    } else {
        sys
    };
    disk.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn diskio_counts_a_write_of_known_size() {
    let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    let disk = disk_of(dir.path().to_str().unwrap());
    let before = rreport::collect::diskio::read().unwrap();
    let Some(start) = before.get(&disk) else {
        // An overlay or tmpfs has no block device of its own: nothing to count here.
        assert!(
            std::fs::read_to_string("/proc/diskstats")
                .unwrap()
                .split_whitespace()
                .all(|w| w != disk),
            "{disk} is in /proc/diskstats but not reported"
        );
        return;
    };
    let size = 8 << 20;
    {
        use std::io::Write;
        let mut f = std::fs::File::create(dir.path().join("blob")).unwrap();
        f.write_all(&vec![0x5a; size]).unwrap();
        f.sync_all().unwrap();
    }
    let after = rreport::collect::diskio::read().unwrap();
    let written = after[&disk][3] - start[3];
    assert!(
        written >= size as u64,
        "{disk}: {written} bytes written, expected at least {size}"
    );
    assert!(after[&disk][1] > start[1], "write requests counted");
}

#[test]
fn network_totals_match_proc_net_dev() {
    let table = rreport::collect::network::read().unwrap();
    let text = std::fs::read_to_string("/proc/net/dev").unwrap();
    for line in text.lines().skip(2) {
        let (name, rest) = line.split_once(':').unwrap();
        let v: Vec<u64> = rest
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        match table.get(name.trim()) {
            Some(row) => {
                assert!(
                    row[0] >= v[0] && row[0] - v[0] < 10 << 20,
                    "{name} rx bytes"
                );
                assert!(
                    row[4] >= v[8] && row[4] - v[8] < 10 << 20,
                    "{name} tx bytes"
                );
            }
            None => assert!(
                name.trim() == "lo" || v.iter().all(|&x| x == 0),
                "{name} missing"
            ),
        }
    }
}

/// A child process that lives until dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> Child {
    Child(
        Command::new(args[0])
            .args(&args[1..])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn a_cpu_burning_child_tops_cpu_and_a_200_mb_child_tops_memory() {
    use rreport::collect::processes;
    let burner = spawn(&["sh", "-c", "while :; do :; done"]);
    // Touch every page, so the 200 MB are resident, then wait.
    let holder = spawn(&["python3", "-c", "import time\nx = bytearray(200 << 20)\nx[::4096] = b'\\x01' * (len(x) // 4096)\nprint('ready', flush=True)\ntime.sleep(60)"]);
    // Give the holder time to fill its memory (it prints nothing we can wait on here).
    let filled = || {
        std::fs::read_to_string(format!("/proc/{}/status", holder.0.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0)
            > 200 * 1024
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !filled() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let began = (Instant::now(), chrono::Utc::now());
    let (p, kept) = processes::collect(None).unwrap();
    // A first report: each process's CPU since it started (the burner is all CPU).
    assert!(!p.cpu_since_previous_report);
    // Other tests run alongside on a small machine, so "among the top" and busy, not "first".
    let burning = |p: &processes::Processes| {
        let burner_cpu = p.top_cpu.iter().find(|t| t.pid == burner.0.id());
        assert!(
            burner_cpu.is_some_and(|t| t.value.as_f64().unwrap() >= 20.0),
            "burner pid {} not a top CPU process: {:?}",
            burner.0.id(),
            p.top_cpu
        );
    };
    burning(&p);
    // The next report: CPU since this one, from the ticks it kept. A pass takes a
    // few ms now, so wait (for an event, not a time) until the burner has used 20
    // more clock ticks: a CPU-bound process in a busy test run does in 0.2-0.6 s.
    let ticks = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", burner.0.id())).unwrap();
        processes::parse_stat(&stat).unwrap().cpu_ticks
    };
    let after_first = ticks();
    assert!(
        crate::support::eventually(Duration::from_secs(20), || ticks() >= after_first + 20),
        "the burner got no CPU in 20 s"
    );
    let previous = rreport::collect::counters::Previous {
        table: &kept,
        taken_at: began.1,
        seconds: began.0.elapsed().as_secs_f64(),
    };
    let (next, _) = processes::collect(Some(previous)).unwrap();
    assert!(next.cpu_since_previous_report && next.top_io.is_some());
    burning(&next);
    assert!(
        !p.top_cpu[0].user.is_empty() && p.top_cpu[0].user != "?",
        "a user name or uid"
    );
    let holder_mem = p.top_memory.iter().find(|t| t.pid == holder.0.id());
    assert!(
        holder_mem.is_some_and(|t| t.value.as_u64().unwrap() >= 200 << 20),
        "holder pid {} not a top memory process: {:?}",
        holder.0.id(),
        p.top_memory
    );
    // NULs and newlines of the command line become spaces.
    assert!(
        holder_mem
            .unwrap()
            .cmdline
            .contains("python3 -c import time x = bytearray(200 << 20)"),
        "{}",
        holder_mem.unwrap().cmdline
    );
    assert!(
        p.top_io.is_none(),
        "nothing to compare with on a first report"
    );
    let stat = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .count();
    assert!(
        p.total.abs_diff(stat) < 50,
        "{} processes vs {stat} in /proc",
        p.total
    );
}

#[test]
fn users_match_who() {
    let sessions = rreport::collect::users::collect(&rreport::zone::Zone::utc()).unwrap();
    let who = Command::new("who").output().unwrap();
    let lines: Vec<String> = String::from_utf8_lossy(&who.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        sessions.len(),
        lines.len(),
        "{sessions:?} vs who: {lines:?}"
    );
    for (s, line) in sessions.iter().zip(&lines) {
        assert!(
            line.starts_with(&s.user) && line.contains(&s.terminal),
            "{s:?} vs {line}"
        );
    }
}

#[test]
fn the_process_states_add_up_to_the_total() {
    use rreport::collect::processes;
    // Found by a new admin: "84 processes: 0 running, 46 sleeping" left out the idle
    // kernel threads; every state is counted, so the sentence adds up.
    let (p, _) = processes::collect(None).unwrap();
    assert_eq!(
        p.by_state.values().sum::<usize>(),
        p.total,
        "{:?}",
        p.by_state
    );
    let listed = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .count();
    // Processes come and go while both look; other tests run beside this one.
    assert!(
        p.total.abs_diff(listed) < 50,
        "{} vs {listed} in /proc",
        p.total
    );
}

#[test]
fn the_procfs_readers_follow_their_root_so_a_fixture_tree_gives_its_own_numbers() {
    let sandbox = tempfile::tempdir().unwrap();
    let root = sandbox.path().join("proc");
    let root = root.as_path();
    std::fs::create_dir_all(root.join("net")).unwrap();
    std::fs::create_dir_all(sandbox.path().join("sys/block/vda")).unwrap();
    let file = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    file(
        "meminfo",
        "MemTotal: 16000 kB\nMemFree: 1200 kB\nMemAvailable: 9000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    );
    file("loadavg", "0.42 0.35 0.30 3/812 12345\n");
    file(
        "stat",
        "cpu  100 5 50 800 40 3 2 0 10 0\ncpu0 50 2 25 400 20 1 1 0 5 0\ncpu1 50 3 25 400 20 2 1 0 5 0\n",
    );
    file(
        "net/dev",
        "Inter-|   Receive\n face |bytes packets\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n",
    );
    // vda, and a partition of it that is no whole disk.
    file(
        "diskstats",
        " 253 0 vda 100 0 8 50 200 0 16 70 0 90 120\n 253 1 vda1 90 0 6 40 190 0 14 60 0 80 100\n",
    );
    let mut settings = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(10),
        Duration::from_secs(10),
    );
    settings.procfs = rreport::collect::procfs::Procfs::at(root, &sandbox.path().join("sys"));
    settings.sections = rreport::sections::Sections::new(vec![
        rreport::sections::Section::Memory,
        rreport::sections::Section::Cpu,
        rreport::sections::Section::Network,
        rreport::sections::Section::Diskio,
    ])
    .unwrap();
    let ctx = collect::gather(&settings, chrono::Utc::now()).context().0;
    assert_eq!(ctx["memory"]["total"], 16_000 * 1024);
    assert_eq!(ctx["memory"]["percent"], 43.8);
    assert_eq!(
        ctx["load"]["per_cpu"],
        serde_json::json!([0.21, 0.18, 0.15])
    );
    assert_eq!(ctx["load"]["total"], 812);
    assert_eq!(ctx["cpu"]["logical"], 2);
    // The same counters read twice: no tick passed, so no busy figure.
    assert!(ctx["cpu"]["percent"].is_null(), "{}", ctx["cpu"]);
    assert_eq!(ctx["network"]["interfaces"][0]["name"], "eth0");
    assert_eq!(ctx["network"]["interfaces"][0]["total"]["rx_bytes"], 1000);
    let devices = ctx["diskio"]["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "the whole disk only: {devices:?}");
    assert_eq!(devices[0]["name"], "vda");
    assert_eq!(devices[0]["total"]["read_bytes"], 8 * 512);
    assert_eq!(ctx["errors"], serde_json::json!([]));
}

/// The system collector against /proc and /etc/os-release read here, independently.
#[test]
fn system_names_this_host_as_its_own_files_do() {
    let found = collect::system::collect(
        &rreport::collect::procfs::Procfs::default(),
        Duration::from_secs(10),
    )
    .unwrap();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(found.kernel, release.trim());
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    let pretty = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string());
    assert_eq!(found.os, pretty);
    assert_eq!(found.arch, std::env::consts::ARCH);
    assert!(!found.kernel_outdated || found.newest_kernel.is_some());
}
