//! The fleet digest against the real engine: Debian's Prometheus with a backfilled
//! fleet of 220 hosts and one live node_exporter serving rreport's textfile (see
//! `prom.rs`), asked by the real binary; and a Prometheus that is down, failing,
//! silent or refusing the credentials, each of which the digest must say.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::prom::{self, Kind, Prometheus};
use crate::support::*;

const FLEET: usize = 220;

fn fleet() -> Vec<Kind> {
    let mut fleet = vec![Kind::Healthy; FLEET];
    fleet[1] = Kind::FillingDisk;
    fleet[2] = Kind::Dead;
    fleet[3] = Kind::Gone;
    fleet[4] = Kind::Rebooted;
    fleet[5] = Kind::Rreport {
        status: 2,
        security: 4,
        reboot: true,
    };
    fleet[6] = Kind::Rreport {
        status: 0,
        security: 1,
        reboot: false,
    };
    fleet[10] = Kind::Busy;
    fleet
}

/// The live host's textfile: rreport's own metrics from the fixture's report.
fn live_textfile() -> String {
    let text = std::fs::read_to_string("tests/fixtures/context.json").unwrap();
    let ctx = rreport::context::Context(serde_json::from_str(&text).unwrap());
    rreport::textfile::render(&ctx, Default::default(), chrono::Utc::now())
}

fn digest_config(sandbox: &Sandbox, url: &str, extra: &str) -> std::path::PathBuf {
    let text = format!("{extra}\n[digest]\nprometheus = \"{url}\"\nselector = '{{job=\"node\"}}'\nperiod = \"3h\"\ntimeout_secs = 2\n");
    sandbox.write("config.toml", &text)
}

fn instances(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| h["instance"].as_str().unwrap().to_string())
        .collect()
}

/// Whether this machine booted after `t`: /proc/stat's btime, which node_exporter reads.
fn machine_booted_after(t: chrono::DateTime<chrono::Utc>) -> bool {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let btime: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    btime > t.timestamp()
}

#[test]
fn a_digest_of_220_hosts_from_a_real_prometheus() {
    let sandbox = Sandbox::new();
    let end = chrono::Utc::now() - chrono::TimeDelta::seconds(20);
    let prom = Prometheus::start(&sandbox.path("prom"), &fleet(), end, &live_textfile());
    let config = digest_config(&sandbox, &prom.url, "");
    let out = rreport()
        .args(["--digest", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let d: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(d["error"], serde_json::Value::Null, "{d}");
    assert_eq!(d["hosts_total"], FLEET + 1, "the fleet and the live host");
    assert_eq!(
        instances(&d["stopped"]),
        [prom::instance(2), prom::instance(3)]
    );
    // The live host is this machine, which rebooted in the period if it booted within
    // the last 3 h (a CI machine just started does): its own boot time says which.
    let mut rebooted = vec![prom::instance(4)];
    if machine_booted_after(chrono::Utc::now() - chrono::TimeDelta::hours(3)) {
        rebooted.push(prom.live_instance.clone());
    }
    let mut got = instances(&d["rebooted"]);
    got.sort();
    rebooted.sort();
    assert_eq!(got, rebooted);
    let attention = instances(&d["attention"]);
    for wanted in [
        prom::instance(1),
        prom::instance(5),
        prom::instance(10),
        prom.live_instance.clone(),
    ] {
        assert!(attention.contains(&wanted), "{wanted} not in {attention:?}");
    }
    assert_eq!(attention.len(), 4, "{attention:?}");
    assert_eq!(d["attention_hosts"], 6);
    let host = |name: &str| {
        d["attention"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["instance"] == name)
            .unwrap()
            .clone()
    };
    let filling = host(&prom::instance(1));
    let texts: Vec<&str> = filling["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(filling["source"], "node_exporter");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("/var fills in 0.1 days")),
        "{texts:?}"
    );
    assert!(texts.contains(&"/var is 90% full"), "{texts:?}");
    assert_eq!(filling["status"], "critical");
    let busy = host(&prom::instance(10));
    assert_eq!(
        busy["items"][0]["text"],
        "CPU 95% busy on average over the period"
    );
    let rreport_host = host(&prom::instance(5));
    assert_eq!(
        (
            rreport_host["source"].as_str(),
            rreport_host["status"].as_str()
        ),
        (Some("rreport"), Some("warning"))
    );
    assert_eq!(
        rreport_host["items"][0]["text"],
        "check nginx failed: connection refused"
    );
    let live = host(&prom.live_instance);
    assert_eq!(
        live["status"], "critical",
        "the fixture's report is critical"
    );
    assert_eq!(
        d["totals"]["security_updates"],
        4 + 1 + 71,
        "{}",
        d["totals"]
    );
    assert_eq!(d["totals"]["reboots_required"], 2);
    assert_eq!(d["totals"]["ok"], FLEET + 1 - 2 - 4, "{}", d["totals"]);
    let healthy = d["healthy"].as_array().unwrap();
    assert_eq!(
        healthy.len(),
        100,
        "digest.healthy_max's default; the rest counted"
    );
    assert_eq!(
        healthy.len() + d["healthy_more"].as_u64().unwrap() as usize,
        FLEET + 1 - 2 - 4
    );
    assert_eq!(
        healthy[0]["filesystem"], "/",
        "tmpfs is no disk; / (40 %) beats /var (30 %)"
    );
}

/// The same digest sent: one mail, through the outbox, whose subject counts.
#[test]
fn the_digest_is_mailed_with_a_subject_that_counts() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let end = chrono::Utc::now() - chrono::TimeDelta::seconds(20);
    let mut fleet = vec![Kind::Healthy; 12];
    fleet[3] = Kind::Dead;
    let prom = Prometheus::start(&sandbox.path("prom"), &fleet, end, &live_textfile());
    let smtp = sandbox.smtp_config(server.port, "none", None);
    let config = digest_config(&sandbox, &prom.url, &smtp);
    rreport()
        .args(["--digest", "-c"])
        .args([&config])
        .run()
        .status(0);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        subject_of(&received[0]),
        "[rreport] 2 of 13 hosts need attention"
    );
    assert!(sandbox.queued().is_empty());
}

fn subject_of(r: &Received) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(&r.data)
        .unwrap();
    message.subject().unwrap_or_default().to_string()
}

/// A server on loopback that takes every connection and never says a word.
fn silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(64).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
        drop(held);
    });
    port
}

/// An HTTP server on loopback that answers every request with `reply`.
fn answering(reply: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten().take(32) {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    port
}

/// Prometheus down, failing, silent or refusing: a digest that says so, sent anyway.
#[test]
fn a_prometheus_that_cannot_be_asked_is_said_not_silenced() {
    let down = closed_port();
    let silent = silent();
    let failing = answering("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 21\r\nConnection: close\r\n\r\nservice unavailable\r\n");
    let refusing =
        answering("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    for (port, says) in [
        (down, "unreachable"),
        (failing, "answered HTTP 503: service unavailable"),
        (silent, "did not answer within 2 s"),
        (refusing, "refused the credentials (HTTP 401)"),
    ] {
        let sandbox = Sandbox::new();
        let ca = TestCa::new(sandbox.dir.path());
        let server = SmtpServer::start(Mode::Plain, &ca);
        let smtp = sandbox.smtp_config(server.port, "none", None);
        let url = format!("http://127.0.0.1:{port}");
        let config = digest_config(&sandbox, &url, &smtp);
        let out = rreport()
            .args(["--digest", "-c"])
            .args([&config])
            .env("RREPORT_PROMETHEUS_TOKEN", "s3cret-token")
            .run();
        out.status(0);
        let received = server.received();
        assert_eq!(received.len(), 1, "{says}");
        let subject = subject_of(&received[0]);
        assert!(
            subject.starts_with(&format!("[rreport] Prometheus at {url} ")),
            "{subject}"
        );
        assert!(subject.contains(says), "{subject} does not say {says}");
        let everything = format!(
            "{}{}{}",
            out.stdout,
            out.stderr,
            String::from_utf8_lossy(&received[0].data)
        );
        assert!(!everything.contains("s3cret-token"), "the token leaked");
    }
}

/// A bcrypt hash of "rreport-test-password" (cost 4), for Prometheus' web config.
const PASSWORD_HASH: &str = "$2b$04$g97/ey4XDK4hkp7mNlV/8OqRUm6qivXWBtKTSLodWB4dbIvYQ/mNi";

/// Prometheus over https with a private CA and basic auth, as its web config sets
/// them up: the digest trusts the CA only through `ca_file`, and gets in only with
/// the credentials from the environment, which appear nowhere.
#[test]
fn a_digest_over_https_with_a_private_ca_and_basic_auth() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let web = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  rreport: {PASSWORD_HASH}\n",
        ca.cert.display(),
        ca.key.display()
    );
    let end = chrono::Utc::now() - chrono::TimeDelta::seconds(20);
    let fleet = vec![Kind::Healthy; 5];
    let prom = Prometheus::start_with(
        &sandbox.path("prom"),
        &fleet,
        end,
        &live_textfile(),
        Some(&web),
    );
    let ca_file = format!("ca_file = \"{}\"\n", ca.ca.display());
    let digest = |config: &std::path::Path, password: &str| -> serde_json::Value {
        let out = rreport()
            .args(["--digest", "--dry-run", "--format", "json", "-c"])
            .args([config])
            .env("RREPORT_PROMETHEUS_USERNAME", "rreport")
            .env("RREPORT_PROMETHEUS_PASSWORD", password)
            .run();
        out.status(0);
        assert!(
            !out.stdout.contains(password) && !out.stderr.contains(password),
            "the password leaked"
        );
        serde_json::from_str(&out.stdout).unwrap()
    };
    let trusted = digest_config(&sandbox, &prom.url, "");
    let text = std::fs::read_to_string(&trusted).unwrap() + &ca_file;
    std::fs::write(&trusted, text).unwrap();
    // Prometheus takes a moment to open its TSDB and to scrape the live host.
    let mut d = serde_json::Value::Null;
    let ready = eventually(std::time::Duration::from_secs(60), || {
        d = digest(&trusted, "rreport-test-password");
        d["error"].is_null() && d["hosts_total"] == 6
    });
    assert!(ready, "{d}");
    let wrong = digest(&trusted, "not-the-password");
    assert!(
        wrong["error"]
            .as_str()
            .unwrap()
            .contains("refused the credentials (HTTP 401)"),
        "{wrong}"
    );
    let untrusted = sandbox.write(
        "untrusted.toml",
        &format!(
            "[digest]\nprometheus = \"{}\"\ntimeout_secs = 2\n",
            prom.url
        ),
    );
    let refused = digest(&untrusted, "rreport-test-password");
    let why = refused["error"].as_str().unwrap();
    assert!(
        why.contains("unreachable") && why.to_lowercase().contains("certificate"),
        "{why}"
    );
}

/// `template_dir` holds the admin's digest templates as it holds a report's.
#[test]
fn the_admins_digest_template_replaces_the_built_in_one() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("templates");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("digest.txt"),
        "ours: {{ hosts_total }} hosts; {{ error }}\n",
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let report = format!("[report]\ntemplate_dir = \"{}\"\n", dir.display());
    let config = digest_config(&sandbox, &url, &report);
    let out = rreport()
        .args(["--digest", "--dry-run", "--format", "text", "-c"])
        .args([&config])
        .run();
    out.status(0);
    assert!(
        out.stdout
            .starts_with(&format!("ours: 0 hosts; Prometheus at {url} unreachable")),
        "{}",
        out.stdout
    );
}
