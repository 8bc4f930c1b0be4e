//! The daemon: sends on schedule, tells systemd it is ready, refuses a broken config.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

#[test]
fn sends_on_schedule_and_notifies_systemd() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    // Every second (a leading sixth field is seconds), so the test waits a moment, not a minute.
    let config = sandbox
        .smtp_config(server.port, "none", None)
        .replace("*/5 * * * *", "* * * * * *")
        .replace("cpu_sample_ms = 50", "cpu_sample_ms = 10");
    let config = sandbox.write("config.toml", &config);
    let notify_path = sandbox.path("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();

    let mut daemon = Command::new(env!("CARGO_BIN_EXE_rreport"))
        .args(["-c"])
        .arg(&config)
        .env("NOTIFY_SOCKET", &notify_path)
        .env_remove("RREPORT_SMTP_USERNAME")
        .env_remove("RREPORT_SMTP_PASSWORD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut buf = [0u8; 256];
    let n = notify
        .recv(&mut buf)
        .expect("a notification from the daemon");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        ready.starts_with("READY=1\nSTATUS=next report at "),
        "{ready}"
    );

    let deadline = Instant::now() + Duration::from_secs(15);
    while server.received().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon.kill().unwrap();
    let out = daemon.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mails = server.received();
    assert!(
        mails.len() >= 2,
        "two reports within 15 s of a per-second schedule; got {}\n{stderr}",
        mails.len()
    );
    let ids: Vec<String> = mails
        .iter()
        .map(|m| {
            let msg = mail_parser::MessageParser::default()
                .parse(&m.data)
                .unwrap();
            msg.message_id().unwrap().to_string()
        })
        .collect();
    assert_ne!(ids[0], ids[1], "each report has its own Message-ID");
    assert!(
        stderr.contains("report sent to admin@example.com, ops@example.com in "),
        "one info line per report:\n{stderr}"
    );
    // The line carries the subject, and with it the status: the journal alone says how
    // the host was.
    let line = stderr
        .lines()
        .find(|l| l.contains("report sent to"))
        .unwrap();
    assert!(
        [
            "ms: [OK] ",
            "ms: [CAREFUL] ",
            "ms: [WARNING] ",
            "ms: [CRITICAL] "
        ]
        .iter()
        .any(|s| line.contains(s)),
        "{line}"
    );
}

#[test]
fn a_broken_config_stops_the_daemon_with_78() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("config.toml", "schedule = \"every day\"\n");
    rreport()
        .args(["-c"])
        .args([&config])
        .run()
        .status(78)
        .stderr_has(":1:12: invalid schedule 'every day'");
}

#[test]
fn the_daemon_needs_smtp_settings() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("config.toml", "schedule = \"0 8 * * *\"\n");
    rreport()
        .args(["-c"])
        .args([&config])
        .run()
        .status(78)
        .stderr_has("no [smtp] section");
}
