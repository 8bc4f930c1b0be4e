//! The journal sections against real journal files: entries written here in the
//! journal export format and turned into journal files by Debian's
//! systemd-journal-remote, then read by the real journalctl through
//! `journal.directory`, in-process (two reports in a row, the second starting after
//! the first one's cursor) and through the binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rreport::collect;

use crate::support::{rreport, Sandbox};

const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

/// One entry: its fields, stamped `at`.
struct E<'a> {
    at: DateTime<Utc>,
    fields: Vec<(&'a str, String)>,
}

fn e<'a>(at: DateTime<Utc>, fields: &[(&'a str, &str)]) -> E<'a> {
    E {
        at,
        fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

/// Writes `entries` as the journal file `name` under `dir` (export format, binary
/// fields for values with newlines, through systemd-journal-remote).
fn journal(dir: &Path, name: &str, entries: &[E]) {
    let mut export = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let us = entry.at.timestamp_micros();
        // One boot, begun a week ago: journalctl orders a boot's entries by their
        // monotonic time, which must therefore follow the wall clock.
        let booted = (Utc::now() - TimeDelta::days(7)).timestamp_micros();
        let monotonic = us - booted + i as i64;
        let boot = (entry.fields.iter().find(|(k, _)| *k == "_BOOT_ID"))
            .map_or("0123456789abcdef0123456789abcdef", |(_, v)| v.as_str());
        let head = format!(
            "__REALTIME_TIMESTAMP={us}\n__MONOTONIC_TIMESTAMP={monotonic}\n_BOOT_ID={boot}\n_HOSTNAME=web-1\n"
        );
        export.extend_from_slice(head.as_bytes());
        for (key, value) in entry.fields.iter().filter(|(k, _)| *k != "_BOOT_ID") {
            if value.contains('\n') {
                export.extend_from_slice(format!("{key}\n").as_bytes());
                export.extend_from_slice(&(value.len() as u64).to_le_bytes());
                export.extend_from_slice(value.as_bytes());
                export.push(b'\n');
            } else {
                export.extend_from_slice(format!("{key}={value}\n").as_bytes());
            }
        }
        export.push(b'\n');
    }
    std::fs::create_dir_all(dir).unwrap();
    let input = dir.join(format!("{name}.export"));
    std::fs::write(&input, export).unwrap();
    let out = std::process::Command::new(JOURNAL_REMOTE)
        .arg(format!(
            "--output={}",
            dir.join(format!("{name}.journal")).display()
        ))
        .arg(&input)
        .output()
        .expect("systemd-journal-remote is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(input).unwrap();
}

fn sshd(at: DateTime<Utc>, message: &str) -> E<'static> {
    let fields = [
        ("MESSAGE", message),
        ("PRIORITY", "6"),
        ("SYSLOG_IDENTIFIER", "sshd"),
        ("_COMM", "sshd"),
        ("_SYSTEMD_UNIT", "ssh.service"),
    ];
    e(at, &fields)
}

fn kernel(at: DateTime<Utc>, priority: &str, message: &str) -> E<'static> {
    e(
        at,
        &[
            ("MESSAGE", message),
            ("PRIORITY", priority),
            ("SYSLOG_IDENTIFIER", "kernel"),
            ("_TRANSPORT", "kernel"),
        ],
    )
}

fn unit(at: DateTime<Utc>, unit: &str, priority: &str, message: &str) -> E<'static> {
    let name = unit.trim_end_matches(".service").to_string();
    let mut entry = e(
        at,
        &[
            ("MESSAGE", message),
            ("PRIORITY", priority),
            ("_SYSTEMD_UNIT", unit),
        ],
    );
    entry.fields.push(("SYSLOG_IDENTIFIER", name));
    entry
}

/// A line of sudo's, as the journal of a Debian 12 host holds it (sudo 1.9.13p3;
/// fields from `journalctl -o export` in the systemd findings of 2026-12-07): logged
/// through syslog from inside the user's login session, so its unit is the session's
/// scope, never "sudo"; failures at alert (1), PAM's at crit (2).
fn sudo(at: DateTime<Utc>, session: &str, priority: &str, message: &str) -> E<'static> {
    let scope = format!("session-{session}.scope");
    let mut entry = e(
        at,
        &[
            ("MESSAGE", message),
            ("PRIORITY", priority),
            ("SYSLOG_IDENTIFIER", "sudo"),
            ("SYSLOG_FACILITY", "10"),
            ("_TRANSPORT", "syslog"),
            ("_COMM", "sudo"),
            ("_UID", "0"),
            ("_SYSTEMD_SLICE", "user-1000.slice"),
        ],
    );
    entry.fields.push(("_SYSTEMD_UNIT", scope));
    entry.fields.push(("_SYSTEMD_SESSION", session.to_string()));
    entry
}

/// The kernel's dump before an OOM kill's lines, as Linux 6.18 wrote it for a
/// cgroup's MemoryMax (the systemd findings of 2026-12-07): the call trace at
/// warning, the memory tables at info.
fn oom_dump(at: DateTime<Utc>) -> Vec<E<'static>> {
    let mut lines = vec![
        (
            "4",
            "java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        ),
        (
            "4",
            "CPU: 1 UID: 1000 PID: 4242 Comm: java Not tainted 6.18.44 #1 PREEMPT(none) ",
        ),
        ("4", "Call Trace:"),
        ("4", " <TASK>"),
        ("4", " dump_stack_lvl+0x59/0x90"),
        ("4", " dump_header+0x43/0x1c0"),
        ("4", " oom_kill_process.cold+0x8/0x8a"),
        ("4", " out_of_memory+0xf3/0x340"),
        ("4", " ? srso_alias_return_thunk+0x5/0xfbef5"),
        ("4", " mem_cgroup_out_of_memory+0xf1/0x140"),
        ("4", " ? srso_alias_return_thunk+0x5/0xfbef5"),
        ("4", "RIP: 0033:0x7fc151c3c0ba"),
        ("4", "RSP: 002b:00007ffd36684d48 EFLAGS: 00010206"),
        ("4", " </TASK>"),
        ("6", "memory: usage 20480kB, limit 20480kB, failcnt 402"),
        (
            "6",
            "Memory cgroup stats for /system.slice/java-app.service:",
        ),
    ];
    lines.extend([("6", "Tasks state (memory values in pages):")]);
    lines.into_iter().map(|(p, m)| kernel(at, p, m)).collect()
}

/// The day's entries: what the issue lists.
fn first_day(start: DateTime<Utc>) -> Vec<E<'static>> {
    let t = |s: i64| start + TimeDelta::seconds(s);
    let mut entries = vec![
        sshd(t(1), "Failed password for invalid user admin from 203.0.113.7 port 51234 ssh2"),
        sshd(t(2), "Failed password for root from 203.0.113.7 port 51240 ssh2"),
        sshd(t(3), "Failed password for root from 198.51.100.23 port 40022 ssh2"),
        sshd(t(4), "Accepted publickey for alice from 192.0.2.10 port 50000 ssh2: ED25519 SHA256:abc"),
        sshd(t(5), "Accepted password for root from 192.0.2.99 port 50001 ssh2"),
        sudo(t(6), "c4", "5", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update"),
        sudo(t(6), "c4", "6", "pam_unix(sudo:session): session opened for user root(uid=0) by (uid=1000)"),
        sudo(t(7), "c5", "2", "pam_unix(sudo:auth): auth could not identify password for [mallory]"),
        sudo(t(7), "c5", "1", "mallory : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh"),
    ];
    entries.extend(oom_dump(t(8)));
    entries.extend([
        kernel(t(8), "6", "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/java-app.service,task=java,pid=4242,uid=1000"),
        kernel(t(9), "3", "Out of memory: Killed process 4242 (java) total-vm:8000000kB, anon-rss:6000000kB, file-rss:1024kB, shmem-rss:0kB, UID:1000 pgtables:12000kB oom_score_adj:0"),
        kernel(t(10), "3", "blk_update_request: I/O error, dev sdb, sector 123456 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0"),
        kernel(t(11), "3", "blk_update_request: I/O error, dev sdb, sector 654321 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0"),
        unit(t(12), "app.service", "3", "<script>alert(1)</script> \u{1b}[31mred\u{1b}[0m failed\r\nBcc: victim@example.com"),
        unit(t(13), "app.service", "4", &"x".repeat(10_000)),
        // fail2ban with `logtarget = SYSTEMD-JOURNAL`: bans are notices.
        e(t(14), &[("MESSAGE", "fail2ban.actions        [812]: NOTICE  [sshd] Ban 203.0.113.7"), ("PRIORITY", "5"), ("SYSLOG_IDENTIFIER", "fail2ban")]),
        e(t(15), &[("MESSAGE", "fail2ban.filter         [812]: INFO    [sshd] Found 198.51.100.23 - 2026-11-26 04:00:01"), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", "fail2ban")]),
    ]);
    // An error flood from one unit: a thousand lines that differ in their numbers.
    // journald adds the unit only to the lines of a process it saw alive: as with
    // `logger` in a unit, a third of them come without it (the systemd findings,
    // 2026-12-07, saw 81 of 200 with the unit), and they are one flood all the same.
    for i in 0..1000 {
        let text = format!(
            "upstream timed out (110: Connection timed out) while connecting to 10.0.0.{} port {}",
            i % 250,
            8000 + i
        );
        let mut line = unit(t(20 + i), "nginx.service", "3", &text);
        if i % 3 == 0 {
            line.fields.retain(|(k, _)| *k != "_SYSTEMD_UNIT");
        }
        entries.push(line);
    }
    entries
}

fn settings(dir: &Path) -> collect::Settings {
    let mut s = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(10),
        Duration::from_secs(30),
    );
    s.sections = rreport::sections::Sections::new(vec![
        rreport::sections::Section::Journal,
        rreport::sections::Section::Oom,
        rreport::sections::Section::Logins,
    ])
    .unwrap();
    s.journal.directory = Some(dir.to_path_buf());
    s.journal.error_warning = 1;
    s
}

fn context(readings: &collect::Readings) -> serde_json::Value {
    let zone = rreport::zone::Zone::utc();
    let ctx = rreport::status::context(
        readings,
        &rreport::history::Period::none(&zone),
        &Default::default(),
    );
    serde_json::Value::Object(ctx.0)
}

#[test]
fn a_day_of_the_journal_counted_grouped_and_judged() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("journal");
    let now = Utc::now();
    journal(&dir, "day1", &first_day(now - TimeDelta::hours(2)));
    let (readings, _) = collect::gather_and_remember(&settings(&dir), now);
    let ctx = context(&readings);
    let j = &ctx["journal"];
    assert_eq!(ctx["errors"], serde_json::json!([]), "{ctx}");
    // OOM kill, two I/O errors, the app's hostile line, the thousand from nginx.
    assert_eq!(j["counts"]["err"], 1004, "{}", j["counts"]);
    assert_eq!(
        (j["counts"]["alert"].as_u64(), j["counts"]["crit"].as_u64()),
        (Some(1), Some(1)),
        "sudo's failure is logged at alert, PAM's at crit"
    );
    // The OOM dump's 14 warning lines are the kill's detail, not 14 warnings.
    assert_eq!(j["counts"]["warning"], 1, "{}", j["counts"]);
    let top = &j["messages"][0];
    assert_eq!(
        (top["source"].as_str(), top["count"].as_u64()),
        (Some("nginx"), Some(1000)),
        "one flood, with or without its unit, is one group"
    );
    assert_eq!(
        top["pattern"],
        "upstream timed out (<n>: Connection timed out) while connecting to <ip> port <n>"
    );
    // Attacker-controlled text is one line: control characters written out.
    let hostile = j["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["source"] == "app" && m["count"] == 1 && m["text"].as_str().unwrap().starts_with('<')
        })
        .unwrap();
    assert_eq!(
        hostile["text"],
        "<script>alert(1)</script> \\x1b[31mred\\x1b[0m failed\\r\\nBcc: victim@example.com"
    );
    let long = j["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"].as_str().unwrap().starts_with("xxx"))
        .unwrap();
    assert_eq!(
        long["text"].as_str().unwrap().chars().count(),
        301,
        "cut at 300 and an ellipsis"
    );
    assert_eq!(j["kernel"][0]["count"], 2, "{}", j["kernel"]);
    let kill = &ctx["oom"][0];
    assert_eq!(
        (
            kill["process"].as_str(),
            kill["pid"].as_u64(),
            kill["unit"].as_str()
        ),
        (Some("java"), Some(4242), Some("java-app.service"))
    );
    assert_eq!(kill["rss_bytes"], (6_000_000u64 + 1024) * 1024);
    assert_eq!(kill["level"], "warning");
    let l = &ctx["logins"];
    assert_eq!(l["failed"]["count"], 3);
    assert_eq!(l["failed"]["invalid_users"], 1);
    assert_eq!(
        l["failed"]["sources"][0],
        serde_json::json!(["203.0.113.7", 2])
    );
    assert_eq!(l["failed"]["users"][0], serde_json::json!(["root", 2]));
    let logins: Vec<(&str, &str, &str)> = l["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["user"].as_str().unwrap(),
                a["method"].as_str().unwrap(),
                a["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        logins,
        [
            ("alice", "publickey", "ok"),
            ("root", "password", "careful")
        ]
    );
    assert_eq!(l["sudo"][0]["command"], "/usr/bin/apt update");
    assert_eq!(l["bans"]["count"], 1, "fail2ban's ban, from the journal");
    assert_eq!(l["bans"]["addresses"][0][0], "203.0.113.7");
    assert_eq!(
        l["sudo_failures"][0]["failure"],
        "3 incorrect password attempts"
    );
    let attention: Vec<(&str, &str)> = ctx["attention"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["level"].as_str().unwrap(), a["text"].as_str().unwrap()))
        .collect();
    assert!(attention.contains(&("critical", "2 emergency, alert or critical entries in the journal since the previous report; 2 of them from sudo")), "{attention:?}");
    assert!(
        attention.contains(&(
            "warning",
            "the OOM killer killed java (pid 4242, 5.7 GiB) in java-app.service"
        )),
        "{attention:?}"
    );
    assert!(
        attention.contains(&(
            "warning",
            "sudo by mallory failed: 3 incorrect password attempts"
        )),
        "{attention:?}"
    );
    assert!(
        attention.contains(&("careful", "root logged in by password from 192.0.2.99")),
        "{attention:?}"
    );
}

#[test]
fn each_entry_is_counted_once_across_reports_and_a_lost_place_says_so() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("journal");
    let now = Utc::now();
    let t = |m: i64| now - TimeDelta::minutes(m);
    journal(
        &dir,
        "a",
        &[
            unit(t(90), "app.service", "3", "first error"),
            unit(t(80), "app.service", "3", "second error"),
        ],
    );
    let mut s = settings(&dir);
    let (first, remembered) = collect::gather_and_remember(&s, t(60));
    assert_eq!(first.journal.clone().flatten().unwrap().counts.err, 2);
    // Entries after the first report, in a journal file of their own.
    journal(&dir, "b", &[unit(t(30), "app.service", "3", "third error")]);
    s.previous.counters = remembered.counters.clone();
    let (second, remembered) = collect::gather_and_remember(&s, now);
    let j = second.journal.clone().flatten().unwrap();
    assert_eq!(
        (j.counts.err, j.messages[0].text.as_str()),
        (1, "third error"),
        "only what came after"
    );
    // A third report with nothing new reads nothing.
    s.previous.counters = remembered.counters.clone();
    let (third, _) = collect::gather_and_remember(&s, now + TimeDelta::minutes(1));
    assert_eq!(third.journal.clone().flatten().unwrap().counts.err, 0);
    // A cursor the journal no longer has: from the previous report's time, said so.
    let mut lost = remembered.counters.clone().unwrap();
    lost.cursors
        .insert("journal".into(), "s=0000;i=1;b=0000;m=1;t=1;x=0".into());
    lost.taken_at = t(40);
    s.previous.counters = Some(lost);
    let (fallback, _) = collect::gather_and_remember(&s, now);
    let j = fallback.journal.clone().flatten().unwrap();
    assert_eq!(
        j.counts.err, 1,
        "the third error, after the previous report's time"
    );
    assert!(
        j.note
            .as_deref()
            .unwrap_or("")
            .starts_with("the previous report's place in the journal is gone"),
        "{:?}",
        j.note
    );
}

/// More entries than one report reads (here a cap of 10; on a host, 0.8 × the
/// collector timeout): the report counts what it read, says where it stopped, and the
/// next report starts where this one ended, so a daily flood never leaves a backlog.
#[test]
fn a_report_that_cannot_read_its_whole_period_says_so_and_the_next_starts_after_it() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("journal");
    let now = Utc::now();
    let t = |s: i64| now - TimeDelta::seconds(s);
    let flood: Vec<E> = (0..30)
        .map(|i| unit(t(3000 - i), "app.service", "3", &format!("error {i}")))
        .collect();
    journal(&dir, "a", &flood);
    let mut s = settings(&dir);
    s.journal.entries_max = 10;
    let (first, remembered) = collect::gather_and_remember(&s, t(1000));
    let j = first.journal.clone().flatten().unwrap();
    assert_eq!(j.counts.err, 10);
    let until = rreport::zone::Zone::utc().rfc3339(t(3000 - 9));
    assert!(
        j.note.as_deref().unwrap_or("").contains(&format!(
            "counted up to {until}; the rest of the period is not counted"
        )),
        "{:?}",
        j.note
    );
    journal(
        &dir,
        "b",
        &[unit(t(500), "app.service", "3", "after the report")],
    );
    s.previous.counters = remembered.counters;
    let (second, _) = collect::gather_and_remember(&s, now);
    let j = second.journal.clone().flatten().unwrap();
    assert_eq!(
        (j.counts.err, j.messages[0].text.as_str(), j.note),
        (1, "after the report", None),
        "the 20 left over are not read again"
    );
}

#[test]
fn a_preview_shows_the_journal_and_never_moves_the_cursor() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("journal");
    let now = Utc::now();
    journal(&dir, "day1", &first_day(now - TimeDelta::hours(2)));
    let config = sandbox.write(
        "config.toml",
        &format!(
            "state_dir = \"{}\"\n[report]\ncpu_sample_ms = 10\nsections = [\"attention\", \"journal\", \"oom\", \"logins\", \"errors\"]\n[journal]\ndirectory = \"{}\"\n",
            sandbox.path("state").display(),
            dir.display()
        ),
    );
    for format in ["text", "html"] {
        let out = rreport()
            .args(["--once", "--dry-run", "--format", format, "-c"])
            .args([&config])
            .run();
        out.status(0);
        assert!(out.stdout.contains("1000"), "{}", out.stdout);
        if format == "html" {
            assert!(
                out.stdout
                    .contains("&lt;script&gt;alert(1)&lt;/script&gt; \\x1b[31mred"),
                "escaped"
            );
            assert!(!out.stdout.contains("<script>"));
        } else {
            assert!(
                out.stdout.contains("  1000x  nginx: upstream timed out"),
                "{}",
                out.stdout
            );
            assert!(!out.stdout.contains("\nBcc: victim"), "no forged line");
        }
    }
    let counters: PathBuf = sandbox.path("state/counters.json");
    assert!(!counters.exists(), "a preview saves no cursor");
}

/// dpkg's log from a real install: a package built with dpkg-deb, installed,
/// upgraded and removed with dpkg in a private root that logs to its own file.
#[test]
fn package_changes_from_dpkgs_own_log() {
    let sandbox = Sandbox::new();
    let root = sandbox.path("root");
    for dir in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    let log = sandbox.path("dpkg.log");
    let dpkg = |args: &[&str]| {
        let out = std::process::Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .arg(format!("--log={}", log.display()))
            .args([
                "--force-not-root",
                "--force-script-chrootless",
                "--force-bad-path",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dpkg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for version in ["1.0", "1.1"] {
        let dir = sandbox.path(&format!("hello-{version}"));
        std::fs::create_dir_all(dir.join("DEBIAN")).unwrap();
        let control = format!("Package: hello-rreport\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: test\n");
        std::fs::write(dir.join("DEBIAN/control"), control).unwrap();
        let deb = sandbox.path(&format!("hello_{version}.deb"));
        let out = std::process::Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&dir)
            .arg(&deb)
            .output()
            .unwrap();
        assert!(out.status.success());
        dpkg(&["-i", deb.to_str().unwrap()]);
    }
    dpkg(&["-r", "hello-rreport"]);
    let mut s = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(10),
        Duration::from_secs(10),
    );
    s.sections =
        rreport::sections::Sections::new(vec![rreport::sections::Section::Packages]).unwrap();
    s.package_logs = vec![(log.clone(), collect::package_log::Format::Dpkg)];
    let (readings, _) = collect::gather_and_remember(&s, Utc::now() + TimeDelta::seconds(1));
    let p = readings.packages.flatten().unwrap();
    assert_eq!((p.installed, p.upgraded, p.removed), (1, 1, 1), "{p:?}");
    let seen: Vec<(&str, &str, &str)> = p
        .changes
        .iter()
        .map(|c| (c.action.as_str(), c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("install", "<none>", "1.0"),
            ("upgrade", "1.0", "1.1"),
            ("remove", "1.1", "<none>")
        ]
    );
    // A report after them has nothing new.
    let (after, _) = {
        let mut s2 = s.clone();
        let (_, remembered) = collect::gather_and_remember(&s, Utc::now() + TimeDelta::seconds(1));
        s2.previous.counters = remembered.counters;
        collect::gather_and_remember(&s2, Utc::now() + TimeDelta::seconds(2))
    };
    assert_eq!(after.packages.flatten().unwrap().changes, []);
}

/// Three boots in the journal since a report made while the first ran: the report's
/// previous boot time differs from this one's, so the host rebooted, twice; each boot
/// that ended is judged clean when it ended with journald stopping.
#[test]
fn reboots_say_how_many_and_whether_each_boot_ended_cleanly() {
    let now = Utc::now();
    let t = |m: i64| now - TimeDelta::minutes(m);
    for (last, clean) in [
        ("Journal stopped", true),
        ("nginx: worker process 812 exited", false),
    ] {
        let sandbox = Sandbox::new();
        let dir = sandbox.path("journal");
        let boot = |id: char, m: i64, msg: &str| {
            let mut entry = unit(t(m), "systemd-journald.service", "6", msg);
            entry.fields.push(("_BOOT_ID", id.to_string().repeat(32)));
            entry
        };
        journal(
            &dir,
            "boots",
            &[
                boot('a', 200, "started"),
                boot('a', 150, "Reached target System Reboot"),
                boot('b', 120, "started"),
                boot('b', 110, last),
                unit(t(100), "app.service", "6", "up again"),
            ],
        );
        let mut s = settings(&dir);
        s.sections = rreport::sections::Sections::new(vec![
            rreport::sections::Section::Attention,
            rreport::sections::Section::Reboots,
        ])
        .unwrap();
        let (_, remembered) = collect::gather_and_remember(&s, t(160));
        let mut earlier = remembered.counters.unwrap();
        earlier.boot_time = 1; // another boot than this one
        s.previous.counters = Some(earlier);
        let (readings, _) = collect::gather_and_remember(&s, now);
        let ctx = context(&readings);
        let r = &ctx["reboots"];
        assert_eq!(
            (
                r["rebooted"].as_bool(),
                r["boots"].as_u64(),
                r["clean"].as_bool()
            ),
            (Some(true), Some(2), Some(clean)),
            "{r}"
        );
        let ended: Vec<(bool, &str)> = (r["ended"].as_array().unwrap().iter())
            .map(|e| {
                (
                    e["clean"].as_bool().unwrap(),
                    e["last_message"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ended,
            [(true, "Reached target System Reboot"), (clean, last)]
        );
        assert_eq!(
            r["ended"][1]["started"],
            rreport::zone::Zone::utc().rfc3339(t(120))
        );
        assert_eq!(r["last_message"], last);
        let warned = ctx["attention"].as_array().unwrap().iter().any(|a| {
            a["text"].as_str().unwrap().starts_with(
                "the host rebooted 2 times since the previous report, once without a clean shutdown",
            )
        });
        assert_eq!(warned, !clean, "{}", ctx["attention"]);
    }
}

#[test]
fn a_journal_it_may_not_read_is_a_warning_not_a_quiet_day() {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test runs rreport as nobody, as CI can"
    );
    let sandbox = Sandbox::new();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = sandbox.path("journal");
    journal(&dir, "day1", &first_day(Utc::now() - TimeDelta::hours(2)));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = sandbox.path("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    let config = sandbox.write(
        "config.toml",
        &format!(
            "state_dir = \"{}\"\n[report]\ncpu_sample_ms = 10\nsections = [\"attention\", \"journal\", \"errors\"]\n[journal]\ndirectory = \"{}\"\n",
            state.display(),
            dir.display()
        ),
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = rreport()
        .program(
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "--"],
        )
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(ctx["journal"]["entries"], 0, "{ctx}");
    assert_eq!(ctx["journal"]["level"], "warning", "{}", ctx["journal"]);
    assert!(ctx["attention"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("rreport sees only its own journal entries"));
}
