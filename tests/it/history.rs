//! The day behind the numbers, end to end: a history in the state directory (written
//! through the store, as the daemon writes it) read back into the report as period
//! figures, forecasts and charts — in the email as inline parts, in the preview as
//! data: URIs — and out again through `--export`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use rreport::history::{Sample, Store};

use crate::support::{plain_relay, rreport, Daemon, Sandbox};

/// A day of minutes ending a minute before `now`: CPU at 10 % with a peak of 97 %
/// 6 hours ago, memory 40 %, the root filesystem growing by 1 GB a day up to what
/// it holds now, traffic on eth0 and I/O on vda.
pub fn a_day_of_history(state: &Path, now: DateTime<Utc>) {
    std::fs::create_dir_all(state).unwrap();
    let (mut store, _) = Store::open(&state.join("history.sqlite"), now).unwrap();
    let root = nix::sys::statvfs::statvfs("/").unwrap();
    let used = (root.blocks() - root.blocks_free()) as f64 * root.fragment_size() as f64;
    let total = root.blocks() as f64 * root.fragment_size() as f64;
    for m in (1..=24 * 60).rev() {
        let at = now - TimeDelta::minutes(m);
        let cpu = if m == 6 * 60 {
            97.0
        } else {
            10.0 + (m % 7) as f64
        };
        let fs_used = used - 1e9 * m as f64 / (24.0 * 60.0);
        let values = BTreeMap::from([
            ("cpu.busy".to_string(), cpu),
            ("cpu.iowait".to_string(), 1.0),
            ("load.1".to_string(), 0.5),
            ("memory.used_percent".to_string(), 40.0),
            ("fs:/.used_bytes".to_string(), fs_used),
            ("fs:/.used_percent".to_string(), fs_used / total * 100.0),
            (
                "net:eth0.rx_bytes_per_s".to_string(),
                5e4 + (m % 60) as f64 * 1e3,
            ),
            ("net:eth0.tx_bytes_per_s".to_string(), 1e4),
            ("disk:vda.read_bytes_per_s".to_string(), 2e5),
            (
                "disk:vda.written_bytes_per_s".to_string(),
                4e5 + (m % 30) as f64 * 1e4,
            ),
        ]);
        store.add(&Sample { at, values }).unwrap();
    }
}

fn config_with_state(sandbox: &Sandbox, extra: &str) -> std::path::PathBuf {
    let state = sandbox.path("state");
    let text = format!(
        "timezone = \"UTC\"\nstate_dir = \"{}\"\n[report]\ncpu_sample_ms = 50\nfilesystems = [\"/\"]\n{}{extra}[history]\nforecast_min_span = \"1h\"\n",
        state.display(),
        crate::support::NO_APT
    );
    sandbox.write("config.toml", &text)
}

/// Every PNG decodes, is 600 px wide and under 20 KB.
#[track_caller]
fn check_png(bytes: &[u8]) {
    assert!(bytes.len() < 20 * 1024, "{} bytes", bytes.len());
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().expect("a PNG");
    assert_eq!(reader.info().width, 600);
    assert_eq!(reader.info().color_type, png::ColorType::Indexed);
}

#[test]
fn the_preview_shows_the_period_with_charts_as_data_uris() {
    let sandbox = Sandbox::new();
    a_day_of_history(&sandbox.path("state"), Utc::now());
    let config = config_with_state(&sandbox, "");
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "html", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let html = &out.stdout;
    assert!(
        html.contains("peak 97.0% at"),
        "period figures in the CPU section"
    );
    assert!(html.contains("full in ~"), "a forecast for /");
    assert!(!html.contains("cid:"), "a preview has no cid: references");
    let uris: Vec<&str> = html.split("src=\"data:image/png;base64,").skip(1).collect();
    assert!(
        uris.len() >= 5,
        "CPU, load, memory, /, eth0, vda: {}",
        uris.len()
    );
    use base64::Engine;
    for uri in uris {
        let b64 = &uri[..uri.find('"').unwrap()];
        check_png(
            &base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        );
    }
    // The text part: the same figures, and a sparkline.
    let text = rreport()
        .args(["--once", "--dry-run", "--format", "text", "-c"])
        .args([&config])
        .run();
    assert!(
        text.stdout.contains("Over the period avg"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains('▁'), "a sparkline");
}

#[test]
fn charts_off_means_no_images_but_the_figures_stay() {
    let sandbox = Sandbox::new();
    a_day_of_history(&sandbox.path("state"), Utc::now());
    let config = config_with_state(&sandbox, "charts = false\n");
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "html", "-c"])
        .args([&config])
        .run();
    out.status(0);
    assert!(!out.stdout.contains("<img"), "no charts");
    assert!(out.stdout.contains("peak 97.0% at"));
}

#[test]
fn the_email_carries_its_charts_as_inline_parts_beside_the_html() {
    let (sandbox, server, config) = plain_relay();
    a_day_of_history(&sandbox.path("state"), Utc::now());
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[smtp]", "filesystems = [\"/\"]\n[smtp]"),
    )
    .unwrap();
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    let mails = server.received();
    let data = &mails[0].data;
    assert!(
        data.len() < 1024 * 1024,
        "the whole email under 1 MB: {}",
        data.len()
    );
    let msg = MessageParser::default().parse(data).unwrap();
    let root = msg.root_part();
    assert_eq!(root.content_type().unwrap().subtype(), Some("alternative"));
    let related = msg.parts.iter().find(|p| {
        p.content_type()
            .is_some_and(|c| c.ctype() == "multipart" && c.subtype() == Some("related"))
    });
    assert!(
        related.is_some(),
        "multipart/related inside multipart/alternative"
    );
    let html = msg.body_html(0).unwrap();
    assert!(
        html.len() < 102 * 1024,
        "HTML under Gmail's clip: {}",
        html.len()
    );
    let referenced: Vec<String> = html
        .split("src=\"cid:")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    let mut images = BTreeMap::new();
    for part in &msg.parts {
        let bytes = match &part.body {
            PartType::InlineBinary(b) | PartType::Binary(b) => b,
            _ => continue,
        };
        if let Some(id) = part.content_id() {
            assert_eq!(part.content_type().unwrap().subtype(), Some("png"));
            let disposition = part.content_disposition().unwrap();
            assert!(disposition.is_inline(), "Content-Disposition: inline");
            images.insert(id.to_string(), bytes.to_vec());
        }
    }
    assert!(referenced.len() >= 5, "{referenced:?}");
    let ids: Vec<&String> = images.keys().collect();
    let mut wanted: Vec<&String> = referenced.iter().collect();
    wanted.sort();
    assert_eq!(
        ids, wanted,
        "every cid: has its part and every part is referenced"
    );
    images.values().for_each(|png| check_png(png));
}

/// `--export` reads while the daemon writes (WAL, no lock): rows come out, in order,
/// and the daemon goes on sampling.
#[test]
fn export_reads_the_history_while_the_daemon_writes_it() {
    let sandbox = Sandbox::new();
    let config = sandbox.smtp_config(crate::support::closed_port(), "none", None);
    let config =
        config.replace("*/5 * * * *", "0 0 1 1 *") + "[history]\nsample_interval_secs = 1\n";
    let config = sandbox.write("config.toml", &config);
    let mut daemon = Daemon::start(&config, sandbox.path("daemon.log"), None);
    let export = |format: &str| {
        rreport()
            .args(["--export", format, "--series", "memory,processes", "-c"])
            .args([&config])
            .run()
    };
    // Up to 20 s for three samples; a second each on any machine that is not stuck.
    let mut csv = String::new();
    for _ in 0..100 {
        let out = export("csv");
        if out.code == Some(0) && out.stdout.lines().count() >= 4 {
            csv = out.stdout;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time,memory.used_percent,processes"),
        "{}",
        daemon.log()
    );
    let times: Vec<DateTime<Utc>> = lines
        .map(|l| {
            DateTime::parse_from_rfc3339(l.split(',').next().unwrap())
                .unwrap()
                .into()
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {times:?}"
    );
    let json = export("json");
    json.status(0);
    let first: serde_json::Value =
        serde_json::from_str(json.stdout.lines().next().unwrap()).unwrap();
    assert!(first["processes"].as_f64().unwrap() > 0.0, "{first}");
    daemon.signal("TERM");
    assert_eq!(
        daemon.wait_exit(std::time::Duration::from_secs(10)),
        Some(Some(0))
    );
    assert!(
        !daemon.log().contains("cannot keep a sample"),
        "{}",
        daemon.log()
    );
}

/// Set in the child process of the kill -9 test: the database it writes to.
const WRITER: &str = "RREPORT_TEST_HISTORY_WRITER";

/// Not a test of its own: the child of `the_history_survives_kill_9_mid_write`,
/// writing samples of 200 series through the store as fast as it can until killed.
/// (Run as a test by the parent re-executing this binary; returns at once otherwise.)
#[test]
fn writer_child_process() {
    let Some(path) = std::env::var_os(WRITER) else {
        return;
    };
    let (mut store, _) = Store::open(Path::new(&path), Utc::now()).unwrap();
    for i in 0.. {
        let values = (0..200)
            .map(|s| (format!("fs:/m{s}.used_bytes"), (i * s) as f64))
            .collect();
        let at = DateTime::from_timestamp(1_795_000_000 + i, 0).unwrap();
        store.add(&Sample { at, values }).unwrap();
    }
}

#[test]
fn the_history_survives_kill_9_mid_write() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("history.sqlite");
    for round in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "history::writer_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Killed somewhere in its stream of transactions, once it has written some.
        let count = || -> i64 {
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            );
            conn.and_then(|c| c.query_row("SELECT count(*) FROM samples", [], |r| r.get(0)))
                .unwrap_or(0)
        };
        let before = count();
        for _ in 0..200 {
            if count() > before + 20 + round * 7 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (mut store, moved) = Store::open(&path, Utc::now()).unwrap();
        assert_eq!(moved, None, "round {round}: the database opens as it is");
        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let kept = count();
        assert!(
            kept > before + 20,
            "round {round}: committed samples kept ({before} -> {kept})"
        );
        let torn: i64 = conn
            .query_row(
                "SELECT count(*) FROM samples s WHERE s.t < 1800000000
                 AND (SELECT count(*) FROM points p WHERE p.sample = s.id) != 200",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(torn, 0, "a sample is all of its 200 points or nothing");
        let at = DateTime::from_timestamp(1_800_000_000 + round, 0).unwrap();
        store
            .add(&Sample {
                at,
                values: BTreeMap::from([("cpu.busy".into(), 1.0)]),
            })
            .unwrap();
    }
}
