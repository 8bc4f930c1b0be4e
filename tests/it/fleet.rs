//! Many hosts: the report's metrics for node_exporter's textfile collector, checked
//! by Debian's promtool (issue 14). The digest's tests are in `digest.rs`.

use std::process::Command;

use crate::support::*;

/// `promtool check metrics` on `text`: its complaints, empty when it has none.
fn promtool_check(text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || !said.is_empty(),
        "promtool failed silently"
    );
    if out.status.success() {
        String::new()
    } else {
        said
    }
}

/// The fixture's context (every section, a hostile check name) as metrics: promtool
/// finds nothing to say, and the values are the report's.
#[test]
fn the_textfile_passes_promtool_and_carries_the_reports_values() {
    let text = std::fs::read_to_string("tests/fixtures/context.json").unwrap();
    let mut map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    map["checks"][0]["name"] = "we\"ird\\name\nline".into();
    let ctx = rreport::context::Context(map);
    let outbox = rreport::textfile::Outbox {
        queued: 2,
        failed: 1,
    };
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T07:00:00Z")
        .unwrap()
        .to_utc();
    let metrics = rreport::textfile::render(&ctx, outbox, at);
    assert_eq!(promtool_check(&metrics), "", "{metrics}");
    for line in [
        "rreport_status 3",
        "rreport_level{item=\"filesystem:/\"} 0",
        "rreport_check_up{check=\"we\\\"ird\\\\name\\nline\"} 0",
        "rreport_outbox_messages{state=\"queued\"} 2",
        "rreport_outbox_messages{state=\"failed\"} 1",
        "rreport_reboot_required 1",
        &format!("rreport_last_report_timestamp_seconds {}", at.timestamp()),
        &format!(
            "rreport_updates_pending{{security=\"true\"}} {}",
            ctx.0["updates"]["security"]
        ),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in\n{metrics}"
        );
    }
    let attention = metrics
        .lines()
        .filter(|l| l.starts_with("rreport_attention{"))
        .count();
    let listed = ctx.0["attention"].as_array().unwrap().len();
    assert_eq!(attention, listed.min(rreport::textfile::ATTENTION_MAX));
}

/// A report sent with `[export] textfile` leaves its metrics beside it, readable by
/// node_exporter's user, and nothing else in the directory.
#[test]
fn a_sent_report_writes_the_textfile() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let dir = sandbox.path("textfile");
    std::fs::create_dir_all(&dir).unwrap();
    let prom = dir.join("rreport.prom");
    let config = sandbox.smtp_config(server.port, "none", None)
        + &format!("\n[export]\ntextfile = \"{}\"\n", prom.display());
    let config = sandbox.write("config.toml", &config);
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert_eq!(server.received().len(), 1);
    let metrics = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(promtool_check(&metrics), "", "{metrics}");
    assert!(
        metrics.contains("rreport_outbox_messages{state=\"queued\"} 0"),
        "{metrics}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&prom).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}
