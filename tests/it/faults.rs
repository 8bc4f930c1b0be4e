//! Regression tests for the faults found by injecting them into the release binary
//! (issue 9): each reproduces one with real parts (a relay that refuses one
//! recipient, echoes the credentials, never answers; a lock held by another
//! process; a kill at the worst moment) and fails on the code before its fix.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::delivery::message_id_of;
use crate::support::*;

const NEVER: &str = "0 0 1 1 *";

/// The text part of a received message.
fn text_of(data: &[u8]) -> String {
    let message = mail_parser::MessageParser::default().parse(data).unwrap();
    message.body_text(0).unwrap().into_owned()
}

#[test]
fn one_refused_recipient_does_not_cost_the_others_their_report() {
    let (sandbox, server, config) = plain_relay();
    server.refuse_recipient("ops@", 550, "5.1.1 <ops@example.com>: no such user");
    let out = once(&config);
    out.status(75)
        .stderr_has("report delivered, but not to every recipient: ops@example.com")
        .stderr_has("5.1.1");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["admin@example.com"]);
    // The refused address keeps a copy in failed/, the queue is done.
    assert!(sandbox.queued().is_empty());
    let failed = sandbox.failed();
    assert_eq!(failed.len(), 1);
    let meta = meta_of(&failed[0]);
    assert_eq!(meta.to, ["ops@example.com"]);
    assert!(meta.last_error.unwrap().contains("550"));
    let listing = rreport().args(["--outbox", "-c"]).args([&config]).run();
    assert!(
        listing.stdout.contains("to ops@example.com") && listing.stdout.contains("5.1.1"),
        "{}",
        listing.stdout
    );
}

#[test]
fn a_deferred_recipient_gets_the_same_message_later_and_only_it() {
    let (sandbox, server, config) = plain_relay();
    server.refuse_recipient("ops@", 450, "4.2.1 mailbox busy");
    once(&config).status(75).stderr_has("4.2.1 mailbox busy");
    let queued = sandbox.queued();
    assert_eq!(queued.len(), 1);
    let meta = meta_of(&queued[0]);
    assert_eq!(
        (meta.to.as_slice(), meta.attempts),
        (&["ops@example.com".to_string()][..], 1)
    );

    server.clear_refusals();
    once(&config).status(0);
    let received = server.received();
    // First report to admin, then the retry to ops alone, then the second report.
    assert_eq!(received[1].to, ["ops@example.com"]);
    assert_eq!(
        message_id_of(&received[0].data),
        message_id_of(&received[1].data)
    );
    assert!(sandbox.queued().is_empty());
}

#[test]
fn a_relay_that_echoes_the_credentials_gets_them_nowhere() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (sandbox, server, config) = relay(Mode::TlsAuth, "starttls", true);
    server.echo_credentials_in_refusal();
    let out = rreport()
        .args(["--once", "--verbose", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run();
    out.status(75).no_secret().stderr_has("535");
    let spooled: Vec<u8> = sandbox
        .queued()
        .into_iter()
        .chain(sandbox.failed())
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(!spooled.is_empty(), "the report is kept");
    let spooled = String::from_utf8_lossy(&spooled);
    for form in [
        PASSWORD.to_string(),
        b64(PASSWORD),
        b64(&format!("\0{USER}\0{PASSWORD}")),
    ] {
        assert!(
            !out.stderr.contains(&form),
            "stderr has {form}:\n{}",
            out.stderr
        );
        assert!(!spooled.contains(&form), "the spool has {form}");
    }
}

/// Holds the outbox's delivery lock as another rreport would.
fn hold_lock(sandbox: &Sandbox) -> File {
    std::fs::create_dir_all(sandbox.path("state")).unwrap();
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(sandbox.path("state/lock"))
        .unwrap();
    lock.lock().unwrap();
    lock
}

/// A `--once` started while the lock is held, once it waits for the lock to send
/// its new report (its flush has left the queue to the holder).
fn once_waiting_for_the_lock(sandbox: &Sandbox, config: &Path) -> Daemon {
    let once = rreport()
        .args(["--once", "--verbose", "-c"])
        .args([config])
        .spawn(sandbox.path("once.log"));
    // The new report's own wait (not its flush's, which leaves the queue to the holder).
    assert!(
        eventually(Duration::from_secs(30), || once
            .log()
            .contains("; waiting up to ")),
        "{}",
        once.log()
    );
    once
}

#[test]
fn a_new_report_is_queued_only_under_the_lock_so_no_other_flush_can_send_it_too() {
    let (sandbox, server, config) = plain_relay();
    let lock = hold_lock(&sandbox);
    let mut waiting = once_waiting_for_the_lock(&sandbox, &config);
    // Before the fix the message was in outbox/ here, for the holder's flush to send.
    assert!(sandbox.queued().is_empty(), "queued before taking the lock");
    drop(lock);
    assert_eq!(
        waiting.wait_exit(Duration::from_secs(60)),
        Some(Some(0)),
        "{}",
        waiting.log()
    );
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_kill_before_the_report_is_queued_loses_no_file_change() {
    let (sandbox, server, config) = plain_relay();
    let tree = sandbox.path("etc");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("hosts"), "127.0.0.1 localhost\n").unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("[[watch]]\npath = \"{}\"\n", tree.display()));
    std::fs::write(&config, text).unwrap();
    once(&config).status(0);

    std::fs::write(tree.join("sudoers"), "ALL ALL=(ALL) NOPASSWD: ALL\n").unwrap();
    let lock = hold_lock(&sandbox);
    let mut waiting = once_waiting_for_the_lock(&sandbox, &config);
    // Killed (OOM, TimeoutStopSec, power) after collecting, before queueing.
    waiting.signal("KILL");
    waiting.wait_exit(Duration::from_secs(10));
    drop(lock);

    once(&config).status(0);
    let received = server.received();
    let last = text_of(&received.last().unwrap().data);
    assert!(
        last.contains(&tree.join("sudoers").display().to_string()),
        "the change is still reported:\n{last}"
    );
}

/// A relay that accepts connections and never says a word, counting them.
fn counting_silent_relay() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(32) {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    (port, count)
}

fn config_for(sandbox: &Sandbox, hosts: &[u16], timeout: u32) -> std::path::PathBuf {
    let list = hosts
        .iter()
        .map(|p| format!("\"127.0.0.1:{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = sandbox
        .smtp_config(hosts[0], "none", None)
        .replace("host = \"localhost\"", &format!("host = [{list}]"))
        .replace("*/5 * * * *", NEVER)
        .replace("timeout_secs = 5", &format!("timeout_secs = {timeout}"))
        .replace("cpu_sample_ms = 50", "cpu_sample_ms = 10");
    sandbox.write("config.toml", &text)
}

#[test]
fn a_flush_stops_at_a_silent_relay_instead_of_waiting_out_every_message() {
    let sandbox = Sandbox::new();
    let down = closed_port();
    let config = config_for(&sandbox, &[down], 1);
    for _ in 0..6 {
        once(&config).status(75);
    }
    assert_eq!(sandbox.queued().len(), 6);

    let (silent, connections) = counting_silent_relay();
    let config = config_for(&sandbox, &[silent], 1);
    once(&config).status(75);
    // One try for the queue (the oldest), one for the new report; before the fix,
    // one per queued message: 7 timeouts with the outbox lock held.
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert_eq!(sandbox.queued().len(), 7);
}

#[test]
fn sigterm_stops_before_the_next_relay() {
    let sandbox = Sandbox::new();
    let config = config_for(&sandbox, &[closed_port()], 1);
    once(&config).status(75);
    let relays: Vec<_> = (0..3).map(|_| counting_silent_relay()).collect();
    let ports: Vec<u16> = relays.iter().map(|(p, _)| *p).collect();
    let config = config_for(&sandbox, &ports, 3);
    let mut daemon = Daemon::start(&config, sandbox.path("daemon.log"), None);
    // The start-up flush is talking to the first relay.
    assert!(eventually(Duration::from_secs(30), || relays[0]
        .1
        .load(Ordering::SeqCst)
        == 1));
    daemon.signal("TERM");
    assert_eq!(
        daemon.wait_exit(Duration::from_secs(30)),
        Some(Some(0)),
        "{}",
        daemon.log()
    );
    let tried: Vec<usize> = relays
        .iter()
        .map(|(_, c)| c.load(Ordering::SeqCst))
        .collect();
    assert_eq!(tried, [1, 0, 0], "no relay after SIGTERM\n{}", daemon.log());
    assert_eq!(sandbox.queued().len(), 1, "the message stays queued");
}

/// A relay speaking just enough SMTP to take one message; at QUIT it records
/// whether `watched` (the outbox) still held a queue file, then says 221.
fn relay_checking_the_outbox_at_quit(watched: std::path::PathBuf) -> (u16, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let queued_at_quit = Arc::new(AtomicBool::new(true));
    let flag = queued_at_quit.clone();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut out = stream.try_clone().unwrap();
        let mut lines = BufReader::new(stream);
        out.write_all(b"220 mx.test ESMTP\r\n").unwrap();
        let mut in_data = false;
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap_or(0) > 0 {
            let reply: &[u8] = match (in_data, line.trim_end()) {
                (true, ".") => {
                    in_data = false;
                    b"250 2.0.0 queued\r\n"
                }
                (true, _) => b"",
                (false, "DATA") => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                (false, "QUIT") => {
                    flag.store(!eml_files_in(&watched).is_empty(), Ordering::SeqCst);
                    out.write_all(b"221 bye\r\n").unwrap();
                    break;
                }
                (false, cmd) if cmd.starts_with("EHLO") => b"250 mx.test\r\n",
                (false, _) => b"250 ok\r\n",
            };
            out.write_all(reply).unwrap();
            line.clear();
        }
    });
    (port, queued_at_quit)
}

fn eml_files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_queue_file_is_gone_before_quit_so_a_lost_221_cannot_send_it_twice() {
    let sandbox = Sandbox::new();
    let (port, queued_at_quit) = relay_checking_the_outbox_at_quit(sandbox.path("state/outbox"));
    let config = config_for(&sandbox, &[port], 5);
    once(&config).status(0);
    assert!(!queued_at_quit.load(Ordering::SeqCst));
    assert!(sandbox.queued().is_empty());
}

#[test]
fn drop_discards_by_name_or_message_id_and_never_under_a_delivering_process() {
    let sandbox = Sandbox::new();
    let config = config_for(&sandbox, &[closed_port()], 1);
    for _ in 0..2 {
        once(&config).status(75);
    }
    let queued = sandbox.queued();
    let (first, second) = (queued[0].clone(), queued[1].clone());
    let drop = |which: &str| {
        rreport()
            .args(["--outbox", "--drop", which, "-c"])
            .args([&config])
            .run()
    };
    // Not while another process holds the delivery lock: it may be sending it.
    let lock = hold_lock(&sandbox);
    drop(first.file_stem().unwrap().to_str().unwrap())
        .status(75)
        .stderr_has("another rreport is delivering");
    std::mem::drop(lock);
    assert_eq!(sandbox.queued().len(), 2);

    let out = drop(first.file_name().unwrap().to_str().unwrap());
    out.status(0);
    assert_eq!(out.stdout, format!("dropped {}\n", first.display()));
    let id = meta_of(&second).message_id;
    drop(&id).status(0);
    assert!(sandbox.queued().is_empty());
    drop("no-such-message")
        .status(1)
        .stderr_has("no queued or failed message is named 'no-such-message'");
}

/// Runs as the unprivileged user the service runs as (this test must be root to
/// set that up, as CI is).
fn as_nobody(run: Rreport) -> Rreport {
    run.program(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", "--"],
    )
}

fn owner(path: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().uid()
}

/// A sandbox whose state directory belongs to nobody, as the service's does.
fn service_sandbox() -> (Sandbox, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test plays root beside a service user, as CI runs it"
    );
    let sandbox = Sandbox::new();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = sandbox.path("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    (sandbox, state)
}

#[test]
fn a_root_once_beside_the_service_leaves_files_the_service_can_read() {
    let (sandbox, state) = service_sandbox();
    let config = config_for(&sandbox, &[closed_port()], 1);
    once(&config).status(75);
    let queued = sandbox.queued();
    assert_eq!(queued.len(), 1);
    for path in [
        state.join("outbox"),
        state.join("failed"),
        state.join("lock"),
        state.join("counters.json"),
        queued[0].clone(),
    ] {
        assert_eq!(
            owner(&path),
            65534,
            "{} is not the service's",
            path.display()
        );
    }
    let listing = as_nobody(rreport())
        .args(["--outbox", "-c"])
        .args([&config])
        .run();
    assert!(listing.stdout.contains("1 queued"), "{}", listing.stdout);
}

#[test]
fn a_manifest_that_cannot_be_read_is_an_error_not_a_new_baseline() {
    use std::os::unix::fs::PermissionsExt;
    let (sandbox, state) = service_sandbox();
    let tree = sandbox.path("etc");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("hosts"), "x\n").unwrap();
    let text = format!(
        "state_dir = \"{}\"\n[[watch]]\npath = \"{}\"\n",
        state.display(),
        tree.display()
    );
    let config = sandbox.write("config.toml", &text);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    // What an older root run left: a manifest only root can read.
    let manifest = state.join("files.json");
    std::fs::write(&manifest, "{\"version\":2,\"taken_at\":null,\"trees\":{}}").unwrap();
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = as_nobody(rreport())
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(ctx["files"].is_null(), "no new baseline: {}", ctx["files"]);
    let errors = ctx["errors"].to_string();
    assert!(
        errors.contains("files.json: Permission denied")
            && errors.contains("chown -R --reference="),
        "{errors}"
    );
}

#[test]
fn a_report_delivered_hours_late_says_so_at_its_top() {
    let (sandbox, server, config) = plain_relay();
    let up = std::fs::read_to_string(&config).unwrap();
    let down = config_for(&sandbox, &[closed_port()], 1);
    once(&down).status(75);
    // The relay was down for two hours: the queue says the report was made then.
    let queued = sandbox.queued()[0].clone();
    let (mut meta, message) =
        rreport::outbox::parse_entry(&std::fs::read(&queued).unwrap()).unwrap();
    meta.first_queued -= chrono::TimeDelta::hours(2);
    let mut file = format!(
        "X-Rreport-Queue: {}\r\n",
        serde_json::to_string(&meta).unwrap()
    )
    .into_bytes();
    file.extend_from_slice(&message);
    std::fs::write(&queued, file).unwrap();

    std::fs::write(&config, up).unwrap();
    once(&config).status(0);
    let received = server.received();
    let late = received
        .iter()
        .find(|m| message_id_of(&m.data) == meta.message_id.trim_matches(['<', '>']))
        .expect("the late report");
    let text = text_of(&late.data);
    assert!(
        text.starts_with("This report was generated ") && text.contains(", 2 h 0 min later, after the mail relay could not take it. The last delivery error: "),
        "{text}"
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(&late.data)
        .unwrap();
    assert!(parsed.body_html(0).unwrap().contains("2 h 0 min later"));
    // The report made just now carries no note.
    let fresh = received.iter().find(|m| m.data != late.data).unwrap();
    assert!(!text_of(&fresh.data).contains("This report was generated "));
}
