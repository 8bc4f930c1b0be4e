//! The built-in templates: golden files from a fixed context, a context where every
//! collector failed, hostile strings, and the live context.

use std::path::Path;

use rreport::collect::Context;
use rreport::report::Renderer;
use serde_json::{json, Value};

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/context.json")).unwrap()
}

fn render(ctx: Value) -> rreport::report::Rendered {
    let Value::Object(map) = ctx else {
        panic!("context must be an object")
    };
    let renderer = Renderer::new(rreport::report::DEFAULT_SUBJECT, None, true).unwrap();
    renderer.render(&Context(map)).unwrap()
}

/// Compares with the golden file; `UPDATE_GOLDEN=1 cargo test` rewrites it.
#[track_caller]
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(expected == actual, "{name} differs from the golden file; rerun with UPDATE_GOLDEN=1 and review the diff\n{actual}");
}

#[test]
fn fixed_context_renders_as_the_golden_files() {
    let r = render(fixture());
    // The subject names the worst item and how many more, so the inbox says what is wrong.
    assert_eq!(
        r.subject,
        "[CRITICAL] web-1: check nginx failed: no process named nginx (+14 more)"
    );
    golden("report.txt", &r.text);
    golden("report.html", &r.html);
}

/// The fleet digest's templates, strictly, from a fixed digest: golden files, a
/// subject that counts, hostile instance names escaped; and the digest that could
/// not ask Prometheus says why in its subject and first line.
#[test]
fn the_digest_renders_as_its_golden_files() {
    let Value::Object(map) = serde_json::from_str(include_str!("../fixtures/digest.json")).unwrap()
    else {
        panic!("an object")
    };
    let set = &rreport::report::DIGEST;
    let renderer = Renderer::with_set(set, set.subject, None, true).unwrap();
    let r = renderer.render(&Context(map.clone())).unwrap();
    assert_eq!(r.subject, "[rreport] 5 of 18 hosts need attention");
    assert!(r
        .html
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;:9100"));
    assert!(!r.html.contains("<script>"));
    golden("digest.txt", &r.text);
    golden("digest.html", &r.html);
    let mut failed = map;
    failed.insert(
        "error".into(),
        json!("Prometheus at http://prom:9090 unreachable: io: Connection refused"),
    );
    let r = renderer.render(&Context(failed)).unwrap();
    assert_eq!(
        r.subject,
        "[rreport] Prometheus at http://prom:9090 unreachable: io: Connection refused"
    );
    assert!(
        r.text
            .starts_with("NO FLEET DIGEST: Prometheus at http://prom:9090 unreachable"),
        "{}",
        r.text
    );
}

#[test]
fn labels_match_their_values() {
    // The old script printed the memory percentage under "total"; ours says what each is.
    let r = render(fixture());
    assert!(
        r.text
            .contains("Memory used     7.2 GiB of 15.6 GiB (46.4%)"),
        "{}",
        r.text
    );
    assert!(r.text.contains("Uptime          3d 22h 0m"));
    assert!(r
        .text
        .contains("Load average    0.42, 0.35, 0.30 (1, 5, 15 min)"));
    assert!(
        r.text.contains(
            "   93.1%    93.1 GiB   100.0 GiB     6.9 GiB  /var/lib/postgresql (/dev/vdb, xfs)"
        ),
        "{}",
        r.text
    );
    assert!(r.html.contains("7.2 GiB of 15.6 GiB (46.4%)"));
    assert!(r
        .html
        .contains("/mnt/nfs: statvfs: ESTALE: Stale file handle"));
}

#[test]
fn attention_comes_first_in_its_colours_and_words() {
    let r = render(fixture());
    let first_table = r.html.find("<h2").unwrap();
    let attention = &r.html[..first_table];
    for (word, colour, text) in [
        ("CRITICAL", "#b91c1c", "/var/lib/postgresql is 93.1% full"),
        (
            "WARNING",
            "#a21caf",
            "disk: /mnt/nfs: statvfs: ESTALE: Stale file handle",
        ),
        ("CAREFUL", "#1d4ed8", "load is 0.72 per CPU over 5 minutes"),
    ] {
        let at = attention
            .find(text)
            .unwrap_or_else(|| panic!("{text} before the first table"));
        let line = &attention[attention[..at].rfind("<tr>").unwrap()..at];
        assert!(
            line.contains(&format!("border-left:4px solid {colour}")) && line.contains(word),
            "{line}"
        );
    }
    assert!(r.text.starts_with("web-1: CRITICAL\n"));
    let needs = r.text.find("NEEDS ATTENTION").unwrap();
    assert!(needs < r.text.find("HOST").unwrap());
    assert!(
        r.text
            .contains("  CRITICAL  /var/lib/postgresql is 93.1% full\n"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("/var/lib/postgresql (/dev/vdb, xfs) [CRITICAL]"));
}

#[test]
fn io_sections_say_what_period_they_cover() {
    let r = render(fixture());
    assert!(
        r.text
            .contains("(since the previous report, Mon 23 Nov 2026 08:00 +01:00, 1d 0h 0m ago;"),
        "{}",
        r.text
    );
    assert!(r.text.contains("  eth0         received 4.0 GiB (48.8 KiB/s), sent 824.0 MiB (9.8 KiB/s); boot: received 92.0 GiB, sent 11.5 GiB; errors 0, drops 2"), "{}", r.text);
    assert!(r.text.contains("  vda          read 824.0 MiB (9.8 KiB/s), written 1.6 GiB (19.5 KiB/s), busy 1.0%; boot: read 10.4 GiB, written 20.4 GiB"), "{}", r.text);
    let mut first = fixture();
    for section in ["network", "diskio"] {
        first[section]["previous_report"] = Value::Null;
        first[section]["interval_secs"] = Value::Null;
    }
    first["network"]["interfaces"][0]["delta"] = Value::Null;
    first["diskio"]["devices"][0]["delta"] = Value::Null;
    let r = render(first);
    assert_eq!(
        r.text
            .matches("(first report, or the first since a reboot: totals since boot only)")
            .count(),
        2
    );
    assert!(r
        .html
        .contains("First report (or the first since a reboot)"));
}

#[test]
fn top_processes_with_their_owners_and_command_lines() {
    let r = render(fixture());
    assert!(r.text.contains("312 processes: 2 running, 250 sleeping, 1 in uninterruptible I/O wait, 1 zombie, 0 stopped"), "{}", r.text);
    assert!(
        r.text
            .contains("     87.5%  postgres (pid 2211, postgres): postgres: autovacuum worker app"),
        "{}",
        r.text
    );
    assert!(r.text.contains(
        "   4.0 GiB  postgres (pid 2200, postgres): postgres -D /var/lib/postgresql/16/main"
    ));
    assert!(r.text.contains("  50.0 GiB  postgres (pid 2211, postgres)"));
    assert!(
        r.html.contains("<strong>1 zombie</strong>")
            && r.html
                .contains("Top I/O (bytes read and written since the previous report)")
    );
    let since = "Top CPU (percent of one CPU, on average since the previous report)";
    assert!(
        r.html.contains(since) && r.text.contains(&format!("{since}:\n")),
        "{}",
        r.text
    );
    let mut first = fixture();
    first["processes"]["top_io"] = Value::Null;
    first["processes"]["cpu_since_previous_report"] = json!(false);
    let first = render(first);
    assert!(first
        .text
        .contains("Top I/O: first report, nothing to compare with yet."));
    let started = "Top CPU (percent of one CPU, on average since each process started)";
    assert!(first.html.contains(started) && first.text.contains(started));
}

#[test]
fn an_idle_machine_says_no_process_used_cpu() {
    let mut idle = fixture();
    idle["processes"]["top_cpu"] = json!([]);
    let r = render(idle.clone());
    let line = "Top CPU: no process used measurable CPU since the previous report.";
    assert!(r.text.contains(&format!("  {line}\n")), "{}", r.text);
    assert!(r.html.contains(line));
    idle["processes"]["cpu_since_previous_report"] = json!(false);
    let line = "Top CPU: no process has used measurable CPU yet.";
    assert!(render(idle).text.contains(&format!("  {line}\n")));
}

#[test]
fn logged_in_users_or_nobody() {
    let r = render(fixture());
    assert!(
        r.text.contains(
            "  alice        pts/0    from 203.0.113.9, since Tue 24 Nov 2026 07:12 +01:00"
        ),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("  root         tty1     from local, since Fri 20 Nov 2026 10:05 +01:00"));
    let mut nobody = fixture();
    nobody["users"] = json!([]);
    let r = render(nobody);
    assert!(r.text.contains("\nLOGGED-IN USERS: nobody\n"), "{}", r.text);
    assert!(r
        .html
        .contains("<strong>Logged-in users:</strong> nobody.</p>"));
}

#[test]
fn a_quiet_report_says_so() {
    let mut ctx = fixture();
    ctx["status"] = json!("ok");
    ctx["attention"] = json!([]);
    let r = render(ctx);
    assert!(
        r.html.contains("Nothing needs attention.") && r.text.contains("Nothing needs attention.")
    );
    assert_eq!(r.subject, "[OK] web-1 system report");
}

#[test]
fn every_collector_failed() {
    let mut ctx = fixture();
    for key in [
        "boot",
        "cpu",
        "memory",
        "disks",
        "load",
        "network",
        "diskio",
        "processes",
        "users",
        "files",
    ] {
        ctx[key] = Value::Null;
    }
    ctx["errors"] = json!([
        {"collector": "boot", "message": "/proc/stat: permission denied"},
        {"collector": "cpu", "message": "/proc/stat: permission denied"},
        {"collector": "memory", "message": "/proc/meminfo: No such file or directory"},
        {"collector": "disk", "message": "/proc/self/mounts: No such file or directory"}
    ]);
    let r = render(ctx);
    assert_eq!(
        r.text.matches("unavailable (see collector errors)").count(),
        9,
        "{}",
        r.text
    );
    assert_eq!(
        r.html
            .matches("unavailable (see collector errors below)")
            .count(),
        9
    );
    for e in [
        "/proc/meminfo: No such file or directory",
        "/proc/self/mounts: No such file or directory",
    ] {
        assert!(r.text.contains(e) && r.html.contains(e), "{e}");
    }
}

#[test]
fn no_filesystems_is_said_not_hidden() {
    let mut ctx = fixture();
    ctx["disks"] = json!([]);
    let r = render(ctx);
    assert!(r.text.contains("\nFILESYSTEMS: none to report\n"));
    assert!(r
        .html
        .contains("<strong>Filesystems:</strong> none to report.</p>"));
}

#[test]
fn hostile_strings_are_escaped_and_cannot_add_headers() {
    let mut ctx = fixture();
    ctx["hostname"] = json!("<script>alert(1)</script>\r\nBcc: victim@example.com");
    ctx["disks"][0]["mount"] = json!("/mnt/<img src=x onerror=alert(1)>/\"quoted\" & more");
    ctx["disks"][0]["device"] = json!("/dev/\u{1F4A5}");
    let r = render(ctx);
    assert!(
        !r.html.contains("<script>") && r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(
        !r.html.contains("<img")
            && r.html
                .contains("&lt;img src=x onerror=alert(1)&gt;/&quot;quoted&quot; &amp; more")
    );
    assert!(r.html.contains("/dev/\u{1F4A5}"));
    assert!(
        !r.subject.contains('\r') && !r.subject.contains('\n'),
        "{:?}",
        r.subject
    );
    assert_eq!(
        r.subject,
        "[CRITICAL] <script>alert(1)</script> Bcc: victim@example.com: check nginx failed: no process named nginx (+14 more)"
    );
}

#[test]
fn a_huge_hostname_gives_a_bounded_subject() {
    let mut ctx = fixture();
    ctx["hostname"] = json!("x".repeat(1 << 20));
    ctx["attention"][0]["text"] = json!("y".repeat(1 << 20));
    let r = render(ctx);
    // Both are cut, and what follows them (how many more) survives.
    assert!(r.subject.chars().count() <= 200, "{}", r.subject);
    assert!(r
        .subject
        .starts_with(&format!("[CRITICAL] {}…: yyy", "x".repeat(63))));
    assert!(r.subject.ends_with("y… (+14 more)"), "{}", r.subject);
}

#[test]
fn the_email_stays_small_with_many_filesystems_and_a_noisy_day() {
    let mut ctx = fixture();
    let disk = ctx["disks"][1].clone();
    ctx["disks"] = Value::Array(
        (0..200)
            .map(|i| {
                let mut d = disk.clone();
                d["mount"] = json!(format!("/srv/volume-{i:03}"));
                d
            })
            .collect(),
    );
    let interface = ctx["network"]["interfaces"][0].clone();
    ctx["network"]["interfaces"] = (0..50)
        .map(|i| {
            let mut n = interface.clone();
            n["name"] = json!(format!("veth{i:02}"));
            n
        })
        .collect();
    // A noisy day: every list of what happened full, every message at its 300 characters.
    let long = "x".repeat(299) + "…";
    let message = ctx["journal"]["messages"][0].clone();
    ctx["journal"]["messages"] = (0..15)
        .map(|i| {
            let mut m = message.clone();
            m["text"] = json!(format!("{i} {long}"));
            m
        })
        .collect();
    ctx["journal"]["kernel"] = ctx["journal"]["messages"].clone();
    let kill = ctx["oom"][0].clone();
    ctx["oom"] = (0..20).map(|_| kill.clone()).collect();
    let login = ctx["logins"]["accepted"][1].clone();
    ctx["logins"]["accepted"] = (0..15).map(|_| login.clone()).collect();
    let change = ctx["packages"]["changes"][0].clone();
    ctx["packages"]["changes"] = (0..50).map(|_| change.clone()).collect();
    let r = render(ctx);
    // The email as it goes out: headers, both parts, their transfer encoding.
    let config = rreport::config::Config::parse(
        "[smtp]\nhost = \"mx\"\nfrom = \"r@example.com\"\nto = [\"a@example.com\"]\n",
        "test",
        &|_| None,
    )
    .unwrap();
    let smtp = config.smtp.unwrap();
    let (message, _) = rreport::mail::build(&smtp, &r, std::time::SystemTime::now()).unwrap();
    let size = message.formatted().len();
    // Gmail clips a message whose HTML passes 102 KB: the HTML keeps a 12 KB margin,
    // with every section of the fixture shown (hardware, updates, certificates, a
    // noisy day's journal, kills, logins and packages). The whole mail (the text part
    // lists more, and quoted-printable grows it) stays far below any relay's limit.
    assert!(
        r.html.len() < 90 * 1024 && size < 160 * 1024,
        "{size} bytes ({} html, {} text before encoding) with 200 filesystems and 50 interfaces; Gmail clips at 102 KB",
        r.html.len(),
        r.text.len()
    );
}

#[test]
fn the_live_context_renders_strictly() {
    let settings = rreport::collect::Settings::new(
        rreport::zone::Zone::utc(),
        std::time::Duration::from_millis(10),
        std::time::Duration::from_secs(10),
    );
    let readings = rreport::collect::gather(&settings, chrono::Utc::now());
    let ctx = rreport::status::context(
        &readings,
        &rreport::history::Period::none(&rreport::zone::Zone::utc()),
        &Default::default(),
    );
    let renderer = Renderer::new(rreport::report::DEFAULT_SUBJECT, None, true).unwrap();
    let r = renderer.render(&ctx).unwrap();
    assert!(r.html.contains("</html>") && r.text.contains("FILESYSTEMS"));
}

#[test]
fn ten_thousand_filesystems_are_cut_to_the_fullest_and_counted() {
    let mut ctx = fixture();
    let disk = ctx["disks"][1].clone();
    ctx["disks"] = Value::Array(
        (0..10_000)
            .map(|i| {
                let mut d = disk.clone();
                d["mount"] = json!(format!("/srv/volume-{i:05}"));
                d["percent"] = json!(f64::from(i) / 100.0);
                d
            })
            .collect(),
    );
    let r = render(ctx);
    assert!(
        r.html.len() + r.text.len() < 102 * 1024,
        "{} bytes",
        r.html.len() + r.text.len()
    );
    assert!(r
        .html
        .contains("The 15 fullest are shown; 9985 more filesystems are not"));
    assert!(r.html.contains("/srv/volume-09985") && !r.html.contains("/srv/volume-09984"));
    assert!(r
        .text
        .contains("... the 50 fullest are shown, and 9950 more are not"));
    assert!(r.text.contains("/srv/volume-09950") && !r.text.contains("/srv/volume-09949"));
}

#[test]
fn checks_say_ok_or_failed_in_words_with_their_output() {
    let r = render(fixture());
    assert!(r
        .text
        .contains("  FAILED    nginx (process, 12 ms): no process named nginx\n"));
    assert!(r
        .text
        .contains("  ok        replica set (command, 840 ms): exit status 0\n              | 1\n"));
    assert!(r.html.contains(">FAILED</strong> no process named nginx"));
    let mut none = fixture();
    none.as_object_mut().unwrap().remove("checks");
    let r = render(none);
    assert!(r
        .text
        .contains("\nCHECKS: none configured ([[checks]] in the config)\n"));
}

#[test]
fn file_changes_listed_or_said_in_one_line() {
    let r = render(fixture());
    assert!(r.text.contains(
        "  modified, mode    /etc/ssh/sshd_config (content changed, same size; mode 0644 → 0666)\n"
    ));
    let mut quiet = fixture();
    quiet["files"]["changes"] = json!([]);
    quiet["files"]["total"] = json!(0);
    let r = render(quiet.clone());
    assert!(r.text.contains("\nFILE CHANGES: none under /etc since the previous report; baseline recorded for /srv/app/config (12 entries), its changes are listed from the next report on\n"), "{}", r.text);
    assert!(r.html.contains("<strong>File changes:</strong> none under /etc since the previous report; baseline recorded for /srv/app/config (12 entries), its changes are listed from the next report on.</p>"));
    quiet["files"]["watched"][0]["baseline"] = json!(true);
    let r = render(quiet);
    assert!(r.text.contains("\nFILE CHANGES: baseline recorded for /etc (1412 entries), its changes are listed from the next report on; baseline recorded for /srv/app/config"), "{}", r.text);
    let mut many = fixture();
    many["files"]["total"] = json!(312);
    let r = render(many);
    assert!(r.text.contains("  ... and 262 more\n") && r.html.contains("And 297 more."));
}

#[test]
fn sections_appear_in_the_chosen_order_and_only_those() {
    let mut ctx = fixture();
    ctx["sections"] = json!(["checks", "host"]);
    let r = render(ctx);
    let (checks, host) = (r.text.find("\nCHECKS\n"), r.text.find("\nHOST\n"));
    assert!(checks.unwrap() < host.unwrap(), "{}", r.text);
    for absent in [
        "NEEDS ATTENTION",
        "FILESYSTEMS",
        "PROCESSES",
        "COLLECTOR ERRORS",
    ] {
        assert!(!r.text.contains(absent), "{absent} in\n{}", r.text);
    }
    let (checks, host) = (r.html.find(">Checks</h2>"), r.html.find(">Host</h2>"));
    assert!(checks.unwrap() < host.unwrap());
    assert!(!r.html.contains(">Filesystems</h2>"));
}

#[test]
fn every_light_background_has_a_dark_scheme_style() {
    // Found by a new admin: in Apple Mail's dark mode the attention rows and the
    // template-error banner kept their light backgrounds under light text.
    let mut ctx = fixture();
    ctx["template_error"] = json!("report.html:1: undefined value: memroy.total");
    let Value::Object(map) = ctx else { panic!() };
    let renderer = Renderer::new(rreport::report::DEFAULT_SUBJECT, None, false).unwrap();
    let html = renderer.render(&Context(map)).unwrap().html;
    let dark =
        &html[html.find("prefers-color-scheme: dark").unwrap()..html.find("</style>").unwrap()];
    let tag =
        regex_lite::Regex::new(r#"<(\w+)([^>]*?)style="([^"]*background:#([0-9a-f]{6})[^"]*)""#)
            .unwrap();
    let mut light = 0;
    for found in tag.captures_iter(&html) {
        let rgb = u32::from_str_radix(&found[4], 16).unwrap();
        let lightness = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255]
            .iter()
            .sum::<u32>()
            / 3;
        if lightness < 200 {
            continue; // a bar's fill: readable on either
        }
        light += 1;
        let class = regex_lite::Regex::new(r#"class="([^"]+)""#)
            .unwrap()
            .captures(&found[2])
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no class to restyle in dark mode: {}", &found[0]));
        assert!(
            class.split(' ').any(|c| dark.contains(&format!(".{c} {{"))),
            "class {class} has no dark style: {}",
            &found[0]
        );
    }
    assert!(
        light >= 5,
        "the banner, the attention rows, the page and the bars"
    );
}

#[test]
fn the_process_summary_adds_up() {
    // 2 + 250 + 1 + 1 + 0 + 58 = 312: the idle kernel threads were left out before.
    let r = render(fixture());
    let sentence = "312 processes: 2 running, 250 sleeping, 1 in uninterruptible I/O wait, 1 zombie, 0 stopped, 58 idle kernel threads";
    assert!(r.text.contains(sentence), "{}", r.text);
    assert!(r.html.contains("58 idle kernel threads."));
    assert!(r.text.contains("Threads         3 runnable of 812"));
}

#[test]
fn blocks_reserved_for_root_are_named_and_command_lines_shortened() {
    let r = render(fixture());
    // 5 % of ext4 is root's: free + used < size, and the report says why.
    assert!(r.html.contains("reserved for root") && r.text.contains("reserved for root"));
    // The program's name and its arguments; the whole line in a tooltip.
    assert!(r
        .text
        .contains("(pid 2200, postgres): postgres -D /var/lib/postgresql/16/main"));
    assert!(r
        .html
        .contains("title=\"/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main\""));
}

#[test]
fn the_cpu_sample_is_shown_to_the_resolution_it_has() {
    // A 200 ms window on two CPUs counts 40 ticks: "22.5%" would claim a tenth it
    // cannot tell, so the collector sends decimals = 0 and the figure is whole.
    let mut ctx = fixture();
    ctx["cpu"]["percent"] = json!(23.0);
    ctx["cpu"]["decimals"] = json!(0);
    let r = render(ctx);
    assert!(r.text.contains(", 23% now"), "{}", r.text);
    assert!(r.html.contains("23% now"));
    assert!(
        r.text.contains("31.2% average since"),
        "the day's average keeps its tenth"
    );
}

/// A series' figures as the context holds them (`history::period`).
fn figures(avg: f64, max: f64, max_at: &str, line: &[f64]) -> Value {
    json!({"min": 0.0, "avg": avg, "max": max, "max_at": max_at, "last": avg,
           "samples": 1440, "line": line})
}

#[test]
fn the_period_shows_average_peak_and_when_and_forecasts_say_when_full() {
    let mut ctx = fixture();
    let line = [1.0, 2.0, 97.0, 50.0, 3.0];
    ctx["period"] = json!({"from": "2026-11-23T08:00:00+01:00", "to": "2026-11-24T08:00:00+01:00", "samples": 1440});
    ctx["cpu"]["period"] = figures(12.0, 97.0, "2026-11-24T03:12:00+01:00", &line);
    ctx["cpu"]["period"]["iowait"] = figures(1.0, 4.0, "2026-11-24T03:12:00+01:00", &line);
    ctx["memory"]["period"] = figures(40.0, 60.0, "2026-11-23T21:00:00+01:00", &line);
    ctx["disks"][0]["forecast"] =
        json!({"full_at": "2026-12-06T08:00:00+01:00", "days_left": 12.2, "bytes_per_day": 1.3e9});
    let r = render(ctx);
    assert!(
        r.html.contains("avg 12.0%, peak 97.0% at Tue 03:12"),
        "{}",
        r.html
    );
    assert!(r.html.contains("full in ~12 days (+1.2 GiB/day)"));
    assert!(
        r.text
            .contains("Over the period avg 12.0%, peak 97.0% at Tue 03:12  ▁▁█▅▁"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("full in ~12 days at +1.2 GiB/day (around Sun 6 Dec 2026 08:00 +01:00)"));
}

#[test]
fn without_history_the_sections_say_so() {
    let mut ctx = fixture();
    ctx["period"] = Value::Null;
    ctx["cpu"]["period"] = Value::Null;
    ctx["memory"]["period"] = Value::Null;
    ctx["disks"][0]["period"] = Value::Null;
    let r = render(ctx);
    let says = "no history yet (the daemon samples it)";
    assert_eq!(r.html.matches(says).count(), 2, "CPU and memory");
    assert!(r
        .html
        .contains("No history yet for trends and disk-full forecasts"));
    assert_eq!(r.text.matches(says).count(), 2, "CPU and memory");
}

#[test]
fn updates_are_listed_security_first_or_said_in_one_line() {
    let mut ctx = fixture();
    ctx["sections"] = json!(["updates"]);
    ctx["updates"] = json!({"manager": "apt", "total": 2, "security": 1, "held": 0,
        "packages": [
            {"name": "libssl3", "installed": "3.0.15", "candidate": "3.0.17", "security": true, "origin": "Debian-Security:12/stable-security"},
            {"name": "<b>odd</b>", "installed": null, "candidate": "1.0", "security": false, "origin": "Debian:12/stable"}],
        "lists_updated": "2026-11-24T05:00:00+01:00", "lists_age_days": 0.125,
        "security_since": "2026-11-24T08:00:00+01:00", "security_days": 0.0, "level": "careful"});
    let r = render(ctx.clone());
    assert!(
        r.text
            .contains("2 pending, 1 security; package lists updated 3h 0m ago [CAREFUL]"),
        "{}",
        r.text
    );
    assert!(r.text.contains("security  libssl3 3.0.15 -> 3.0.17"));
    assert!(r.text.contains("<b>odd</b> (new) -> 1.0"));
    assert!(
        r.html.contains("&lt;b&gt;odd&lt;&#x2f;b&gt;") || r.html.contains("&lt;b&gt;odd&lt;/b&gt;"),
        "escaped"
    );
    assert!(!r.html.contains("<b>odd</b>"));
    ctx["updates"]["total"] = json!(0);
    ctx["updates"]["security"] = json!(0);
    ctx["updates"]["packages"] = json!([]);
    ctx["updates"]["level"] = json!("ok");
    let r = render(ctx);
    assert!(
        r.text
            .contains("UPDATES: none pending (package lists updated 3h 0m ago)"),
        "{}",
        r.text
    );
    assert!(r
        .html
        .contains("<strong>Updates:</strong> none pending (package lists updated 3h 0m ago)"));
}

#[test]
fn a_required_reboot_says_since_when_and_for_what() {
    let mut ctx = fixture();
    ctx["sections"] = json!(["reboot"]);
    ctx["reboot"] = json!({"required": true, "since": "2026-11-20T06:12:00+01:00", "days": 4.1,
        "packages": ["libc6", "linux-image-6.1.0-26-amd64"], "services": ["nginx.service"],
        "source": "/run/reboot-required", "level": "careful"});
    let r = render(ctx.clone());
    assert!(
        r.text
            .contains("REBOOT REQUIRED since Fri 20 Nov 2026 06:12 +01:00 [CAREFUL]"),
        "{}",
        r.text
    );
    assert!(r.text.contains("for: libc6, linux-image-6.1.0-26-amd64"));
    assert!(r.text.contains("(restart them, or reboot): nginx.service"));
    assert!(r.html.contains("<h2") && r.html.contains("Reboot required"));
    ctx["reboot"] = json!({"required": false, "since": null, "days": null, "packages": [], "services": [], "source": "none"});
    assert!(render(ctx).text.contains("REBOOT: not required"));
}

#[test]
fn failed_units_are_listed_or_said_unavailable() {
    let mut ctx = fixture();
    ctx["sections"] = json!(["units"]);
    ctx["units"] = json!({"failed": 1, "unavailable": null, "units": [
        {"unit": "certbot.service", "description": "Certbot", "since": "Tue 2026-11-24 03:12:07 CET", "level": "warning"}]});
    let r = render(ctx.clone());
    assert!(r.text.contains("FAILED UNITS (1)\n  certbot.service: Certbot, failed since Tue 2026-11-24 03:12:07 CET"), "{}", r.text);
    assert!(r.html.contains("<strong>certbot.service</strong>"));
    ctx["units"] = json!({"failed": 0, "units": [], "unavailable": "System has not been booted with systemd as init system (PID 1). Can't operate."});
    assert!(render(ctx)
        .text
        .contains("FAILED UNITS: not available (System has not been booted"));
}
