//! Never lose a report: the outbox across server outages, crashes and signals,
//! with the real daemon and a real SMTP server.

use std::time::Duration;

use crate::delivery::message_id_of;
use crate::support::*;

const NEVER: &str = "0 0 1 1 *"; // New Year only: no report fires during a test
const EVERY_SECOND: &str = "* * * * * *";

fn config_with(sandbox: &Sandbox, port: u16, schedule: &str, timeout: u32) -> std::path::PathBuf {
    let text = sandbox
        .smtp_config(port, "none", None)
        .replace("*/5 * * * *", schedule)
        .replace("timeout_secs = 5", &format!("timeout_secs = {timeout}"))
        .replace("cpu_sample_ms = 50", "cpu_sample_ms = 10");
    sandbox.write("config.toml", &text)
}

fn ids(server: &SmtpServer) -> Vec<String> {
    server
        .received()
        .iter()
        .map(|m| message_id_of(&m.data))
        .collect()
}

#[test]
fn sigkill_between_queueing_and_sending_loses_nothing() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    // The relay accepts the connection and never answers: the daemon is mid-send.
    let (silent, _held) = silent_server();
    let config = config_with(&sandbox, silent, EVERY_SECOND, 60);
    let mut daemon = Daemon::start(&config, sandbox.path("daemon.log"), None);
    assert!(
        eventually(Duration::from_secs(10), || sandbox.queued().len() == 1),
        "{}",
        daemon.log()
    );
    daemon.signal("KILL");
    daemon.wait_exit(Duration::from_secs(5)).expect("killed");
    let queued = sandbox.queued();
    assert_eq!(queued.len(), 1);
    let queued_id = message_id_of(&std::fs::read(&queued[0]).unwrap());

    // Restarted against a working relay: the start-up flush sends it, once.
    let server = SmtpServer::start(Mode::Plain, &ca);
    let config = config_with(&sandbox, server.port, NEVER, 5);
    let daemon = Daemon::start(&config, sandbox.path("daemon2.log"), None);
    assert!(
        eventually(Duration::from_secs(10), || sandbox.queued().is_empty()),
        "{}",
        daemon.log()
    );
    assert_eq!(ids(&server), [queued_id]);
}

#[test]
fn sigterm_during_a_slow_transaction_exits_cleanly_and_keeps_the_report() {
    let sandbox = Sandbox::new();
    let (silent, _held) = silent_server();
    let timeout = 2;
    let config = config_with(&sandbox, silent, EVERY_SECOND, timeout);
    let mut daemon = Daemon::start(&config, sandbox.path("daemon.log"), None);
    assert!(
        eventually(Duration::from_secs(10), || sandbox.queued().len() == 1),
        "{}",
        daemon.log()
    );
    daemon.signal("TERM");
    // The in-flight transaction ends at its timeout; then the daemon stops. The bound
    // here is loose on purpose (a loaded machine); the design bound is timeout + 2 s.
    assert_eq!(
        daemon.wait_exit(Duration::from_secs(timeout as u64 + 15)),
        Some(Some(0)),
        "{}",
        daemon.log()
    );
    assert!(
        !sandbox.queued().is_empty(),
        "the undelivered report stays queued"
    );
    assert!(
        daemon
            .log()
            .contains("stopping; undelivered messages stay in"),
        "{}",
        daemon.log()
    );
}

#[test]
fn sighup_with_a_broken_config_keeps_the_old_one() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let config = config_with(&sandbox, server.port, NEVER, 5);
    let notify_path = sandbox.path("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut daemon = Daemon::start(&config, sandbox.path("daemon.log"), Some(&notify_path));
    let mut buf = [0u8; 512];
    let mut next = || {
        let n = notify.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(next().starts_with("READY=1"));

    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        good.replace("timezone = \"UTC\"", "timezone = \"UTC\"\ntsl = \"on\""),
    )
    .unwrap();
    daemon.signal("HUP");
    assert_eq!(next(), "RELOADING=1");
    assert!(next().starts_with("READY=1"));
    let log = daemon.log();
    assert!(
        log.contains("reload failed, still running on the previous config: ")
            && log.contains("config.toml:3:1: unknown field `tsl`"),
        "{log}"
    );
    assert!(daemon.child.try_wait().unwrap().is_none(), "still running");

    // A good config is taken: the next report moves to its schedule's time.
    std::fs::write(&config, good.replace(NEVER, "0 0 2 1 *")).unwrap();
    daemon.signal("HUP");
    assert_eq!(next(), "RELOADING=1");
    let ready = next();
    assert!(ready.contains("-01-02T00:00:00"), "{ready}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(Some(0)));
}

#[test]
fn kill_9_at_random_points_never_leaves_a_partial_or_lost_report() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let config = config_with(&sandbox, server.port, NEVER, 5);
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut reported = std::collections::BTreeSet::new();
    // Kill anywhere within one whole run as long as it takes on this machine now, so
    // a loaded CI machine still sees kills before, during and after queueing.
    // The slowest of three runs, with room: one quick run on a machine that then gets
    // busy (the rest of the suite) would put every kill before the queueing.
    let mut slowest = 0;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        rreport()
            .args(["--once", "-c"])
            .args([&config])
            .run()
            .status(0);
        slowest = slowest.max(started.elapsed().as_micros() as u64);
    }
    let span = (slowest * 15 / 10).max(20_000);
    for i in 0..200 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rreport"))
            .args(["--once", "--verbose", "-c"])
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.u64(0..span)));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        // What the process said it queued before it died must not be lost.
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            if let Some(rest) = line
                .split("queued ")
                .nth(1)
                .filter(|_| line.contains(" DEBUG "))
            {
                reported.insert(rest.split(' ').next().unwrap().to_string());
            }
        }
        // Every file in the outbox is whole: metadata and a message with its Message-ID.
        for path in sandbox.queued() {
            let bytes = std::fs::read(&path).unwrap();
            let (meta, message) = rreport::outbox::parse_entry(&bytes)
                .unwrap_or_else(|e| panic!("iteration {i}: partial {}: {e}", path.display()));
            assert_eq!(
                message_id_of(&message),
                meta.message_id.trim_matches(|c| c == '<' || c == '>'),
                "iteration {i}"
            );
        }
    }
    // One run left to finish delivers whatever the killed runs queued.
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert!(sandbox.queued().is_empty());
    let received: std::collections::BTreeSet<String> = ids(&server)
        .into_iter()
        .map(|id| format!("<{id}>"))
        .collect();
    assert!(
        reported.len() >= 5,
        "the kills should land after queueing often: {}",
        reported.len()
    );
    let lost: Vec<_> = reported.difference(&received).collect();
    assert!(
        lost.is_empty(),
        "reported as queued but never delivered: {lost:?}"
    );
}

#[test]
fn a_fifo_named_like_a_queue_file_is_skipped_not_waited_on() {
    // Found by fault injection: opening it blocked --outbox, --once and the daemon.
    let (sandbox, server, config) = plain_relay();
    std::fs::create_dir_all(sandbox.path("state/outbox")).unwrap();
    let fifo = sandbox.path("state/outbox/20260101T000000.000000Z-1-deadbeef.eml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let limit = Duration::from_secs(30);
    let listing = rreport()
        .args(["--outbox", "-c"])
        .args([&config])
        .run_within(limit);
    listing
        .status(0)
        .stderr_has("skipping unreadable queue file")
        .stderr_has("not a regular file but a FIFO");
    assert!(listing.stdout.contains("0 queued"), "{}", listing.stdout);
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run_within(limit)
        .status(0);
    assert_eq!(server.received().len(), 1);
    assert!(fifo.exists(), "what is not ours is left alone");
}
