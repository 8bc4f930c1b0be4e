//! Delivery end to end: the real binary, a real SMTP server on loopback.

use mail_parser::{MessageParser, MimeHeaders};

use crate::support::*;

/// MemTotal from /proc/meminfo, formatted as the report prints sizes (binary units).
fn mem_total_shown() -> String {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut value = kib * 1024.0;
    let mut units = ["B", "KiB", "MiB", "GiB", "TiB"].iter();
    let mut unit = units.next().unwrap();
    while value >= 1024.0 {
        value /= 1024.0;
        unit = units.next().unwrap();
    }
    format!("{value:.1} {unit}")
}

/// The subject after its "[STATUS] " prefix, which must be one of the four levels.
fn without_status(subject: &str) -> &str {
    let rest = ["[OK] ", "[CAREFUL] ", "[WARNING] ", "[CRITICAL] "]
        .iter()
        .find_map(|p| subject.strip_prefix(p));
    rest.unwrap_or_else(|| panic!("subject does not start with a status: {subject}"))
}

/// Whether a subject (after its status) names `host` and then either says all is
/// well or names the first thing that needs attention, which depends on this
/// machine's load right now.
#[track_caller]
fn assert_subject_names(subject: &str, host: &str) {
    let rest = without_status(subject)
        .strip_prefix(host)
        .unwrap_or_else(|| panic!("subject does not name {host}: {subject}"));
    assert!(
        rest == " system report" || rest.starts_with(": "),
        "{subject}"
    );
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn starttls_auth_two_recipients_two_parts() {
    let (_sandbox, server, config) = relay(Mode::TlsAuth, "starttls", true);

    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run()
        .status(0)
        .no_secret();

    let mails = server.received();
    assert_eq!(mails.len(), 1, "exactly one message");
    let mail = &mails[0];
    assert_eq!(
        mail.authenticated_as.as_deref(),
        Some(USER),
        "AUTH happened (only offered after STARTTLS)"
    );
    assert_eq!(mail.from, "rreport@example.com");
    assert_eq!(mail.to, ["admin@example.com", "ops@example.com"]);
    assert_eq!(mail.helo, hostname());

    let msg = MessageParser::default()
        .parse(&mail.data)
        .expect("a parseable message");
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_string());
    assert_eq!(
        header("From").as_deref(),
        Some("rreport <rreport@example.com>")
    );
    let to = header("To").unwrap();
    assert!(
        to.contains("admin@example.com") && to.contains("ops@example.com"),
        "{to}"
    );
    assert_subject_names(msg.subject().unwrap(), &hostname());
    assert!(msg.date().is_some(), "Date header");
    let id = msg.message_id().expect("Message-ID");
    assert!(
        id.starts_with("rreport.") && id.ends_with("@example.com"),
        "{id}"
    );
    assert_eq!(header("Auto-Submitted").as_deref(), Some("auto-generated"));
    assert_eq!(
        header("X-Mailer"),
        Some(format!("rreport/{}", env!("CARGO_PKG_VERSION")))
    );
    let content_type = msg.content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("multipart", Some("alternative"))
    );

    let text = msg.body_text(0).expect("text/plain part");
    let html = msg.body_html(0).expect("text/html part");
    let total = mem_total_shown();
    assert!(text.contains(&hostname()) && html.contains(&hostname()));
    assert!(
        text.contains(&format!("of {total}")),
        "text shows MemTotal {total}:\n{text}"
    );
    assert!(
        html.contains(&format!("of {total}")),
        "html shows MemTotal {total}"
    );
    assert!(html
        .contains("<h2 style=\"margin:24px 0 8px;font-size:16px;color:#111827\">Filesystems</h2>"));
}

#[test]
fn plaintext_relay_without_auth() {
    // tls = "none", no credentials: a local relay, as Postfix on the same host would be.
    let (_sandbox, server, config) = plain_relay();
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert_eq!(server.received().len(), 1);
}

/// The Message-ID in a queued or received message.
pub fn message_id_of(bytes: &[u8]) -> String {
    // A queue file's first line is one more header, so it parses the same way.
    let msg = MessageParser::default().parse(bytes).expect("a message");
    msg.message_id().expect("a Message-ID").to_string()
}

#[test]
fn server_down_queues_then_the_next_run_delivers_exactly_once() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let port = closed_port();
    let config = sandbox.write(
        "config.toml",
        &sandbox.smtp_config(port, "starttls", Some(&ca.ca)),
    );
    let once = || {
        rreport()
            .args(["--once", "-c"])
            .args([&config])
            .credentials(PASSWORD)
            .run()
    };

    let out = once();
    out.status(75).no_secret()
        .stderr_has(&format!("rreport: report not delivered, queued as {}", sandbox.path("state/outbox").display()))
        .stderr_has(&format!("for the daemon or the next --once to retry: localhost:{port}: Connection error: Connection refused"));
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "one clear line:\n{}",
        out.stderr
    );
    let queued = sandbox.queued();
    assert_eq!(queued.len(), 1, "the report waits in the outbox");
    let queued_id = message_id_of(&std::fs::read(&queued[0]).unwrap());

    // The relay comes back on the same port; the next run sends the old report first.
    let server = SmtpServer::start_at(Mode::TlsAuth, &ca, port);
    once().status(0).no_secret();
    let ids: Vec<String> = server
        .received()
        .iter()
        .map(|m| message_id_of(&m.data))
        .collect();
    assert_eq!(ids.len(), 2, "the queued report and the new one: {ids:?}");
    assert_eq!(ids[0], queued_id, "the queued report keeps its Message-ID");
    assert_ne!(ids[1], queued_id);
    assert!(sandbox.queued().is_empty() && sandbox.failed().is_empty());
    // Nothing is sent twice on a further run.
    once().status(0);
    let again: Vec<String> = server
        .received()
        .iter()
        .map(|m| message_id_of(&m.data))
        .collect();
    assert_eq!(again.iter().filter(|id| **id == queued_id).count(), 1);
}

#[test]
fn refused_auth_exits_75_without_the_password() {
    let (_sandbox, server, config) = relay(Mode::TlsAuth, "starttls", true);
    let out = rreport()
        .args(["--once", "--verbose", "-c"])
        .args([&config])
        .env("RREPORT_SMTP_USERNAME", USER)
        .env("RREPORT_SMTP_PASSWORD", "wrong-but-secret")
        .run();
    out.status(75).stderr_has("535");
    assert!(
        !out.stderr.contains("wrong-but-secret") && !out.stdout.contains("wrong-but-secret"),
        "password leaked:\n{}",
        out.stderr
    );
    assert!(server.received().is_empty());
}

#[test]
fn required_starttls_not_offered_exits_75() {
    let (_sandbox, server, config) = relay(Mode::Plain, "starttls", true);
    let out = rreport()
        .args(["--once", "--verbose", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run();
    out.status(75)
        .no_secret()
        .stderr_has(&format!("localhost:{}", server.port));
    assert!(
        server.received().is_empty(),
        "nothing may go out in plaintext"
    );
}

#[test]
fn an_untrusted_certificate_is_refused() {
    // Without ca_file the test CA is not trusted: STARTTLS must fail, not fall back.
    let (_sandbox, server, config) = relay(Mode::TlsAuth, "starttls", false);
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run()
        .status(75)
        .no_secret();
    assert!(server.received().is_empty());
}

#[test]
fn a_4xx_is_retried_and_the_same_message_delivered() {
    let (sandbox, server, config) = plain_relay();
    server.reply_with(&[(451, "4.3.0 try again later")]);
    let out = rreport().args(["--once", "-c"]).args([&config]).run();
    out.status(75).stderr_has("451");
    let queued = sandbox.queued();
    assert_eq!(queued.len(), 1);
    let id = message_id_of(&std::fs::read(&queued[0]).unwrap());
    let meta = meta_of(&queued[0]);
    assert_eq!(meta.attempts, 1);
    assert!(
        meta.last_error.unwrap().contains("451"),
        "the server's reply is kept"
    );

    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        message_id_of(&received[0].data),
        id,
        "the retried message is the one first refused"
    );
    assert!(sandbox.queued().is_empty());
}

#[test]
fn a_5xx_moves_the_report_to_failed_at_once() {
    let (sandbox, server, config) = plain_relay();
    server.reply_with(&[(550, "5.7.1 message content rejected")]);
    let out = rreport().args(["--once", "-c"]).args([&config]).run();
    out.status(75)
        .stderr_has("report refused, moved to ")
        .stderr_has("5.7.1 message content rejected");
    assert!(sandbox.queued().is_empty());
    let failed = sandbox.failed();
    assert_eq!(failed.len(), 1, "kept, never deleted");
    let meta = meta_of(&failed[0]);
    assert!(
        meta.last_error.unwrap().contains("550"),
        "the server's reply is kept"
    );
    // A later run does not send it again.
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_server_that_never_speaks_times_out_and_the_report_stays_queued() {
    let sandbox = Sandbox::new();
    let (port, _server) = silent_server();
    let config = sandbox
        .smtp_config(port, "none", None)
        .replace("timeout_secs = 5", "timeout_secs = 1");
    let config = sandbox.write("config.toml", &config);
    let out = rreport().args(["--once", "-c"]).args([&config]).run();
    // Bounded by timeout_secs, as it says (not lettre's "Resource temporarily
    // unavailable (os error 11)").
    out.status(75)
        .stderr_has("queued as")
        .stderr_has("no answer within 1 s (timeout_secs)");
    assert_eq!(sandbox.queued().len(), 1);
}

#[test]
fn tls_mistakes_are_named_with_the_setting_that_fixes_them() {
    // Found on a first install: each of these was a message a new admin could not act on.
    let (_sandbox, _server, config) = relay(Mode::Plain, "tls", true);
    once(&config)
        .status(75)
        .stderr_has("this port does not speak TLS from the first byte: try tls = \"starttls\"");
    let (_sandbox, _server, config) = relay(Mode::Plain, "starttls", true);
    once(&config)
        .status(75)
        .stderr_has("the server offers no STARTTLS: for a relay on this host or a trusted network set tls = \"none\"");
    let (_sandbox, _server, config) = relay(Mode::Plain, "none", false);
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run()
        .status(75)
        .no_secret()
        .stderr_has("the server offers no AUTH here");
}

#[test]
fn the_second_relay_is_tried_when_the_first_is_down() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let down = closed_port();
    let config = sandbox.smtp_config(server.port, "none", None).replace(
        "host = \"localhost\"\nport = ",
        &format!(
            "host = [\"127.0.0.1:{down}\", \"localhost:{}\"]\nport = ",
            server.port
        ),
    );
    let config = sandbox.write("config.toml", &config);
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert_eq!(server.received().len(), 1);
    assert!(sandbox.queued().is_empty());
}

#[test]
fn hostile_hostnames_cannot_inject_headers_and_arrive_encoded() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let hostile = r#"wéb-1 🚀 <script>x</script>\r\nBcc: victim@example.com\r\n\r\nbody"#;
    let config = sandbox.smtp_config(server.port, "none", None).replace(
        "timezone = \"UTC\"",
        &format!("timezone = \"UTC\"\nhostname = \"{hostile}\""),
    );
    let config = sandbox.write("config.toml", &config);
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    let mails = server.received();
    assert_eq!(
        mails[0].to,
        ["admin@example.com", "ops@example.com"],
        "no recipient added"
    );
    let raw = String::from_utf8_lossy(&mails[0].data).into_owned();
    let head = raw.split("\r\n\r\n").next().unwrap();
    assert!(
        !head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{head}"
    );
    assert_eq!(
        head.lines().filter(|l| l.starts_with("Subject:")).count(),
        1
    );
    assert!(
        head.is_ascii(),
        "headers are 7-bit (RFC 2047 encoded):\n{head}"
    );
    let msg = MessageParser::default().parse(&mails[0].data).unwrap();
    assert_subject_names(
        msg.subject().unwrap(),
        "wéb-1 🚀 <script>x</script> Bcc: victim@example.com body",
    );
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("wéb-1 🚀 &lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>"));
}

#[test]
fn a_two_megabyte_hostname_is_cut_and_the_report_says_so() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        &format!("hostname = \"{}\"\n", "h".repeat(2 << 20)),
    );
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(ctx["hostname"].as_str().unwrap().chars().count(), 254);
    assert_eq!(
        ctx["errors"][0]["message"],
        "hostname is 2097152 characters long; the report shows the first 253"
    );
    let html = rreport()
        .args(["--once", "--dry-run", "-c"])
        .args([&config])
        .run();
    assert!(html.stdout.len() < 100_000, "{} bytes", html.stdout.len());
}

#[test]
fn counters_since_the_previous_report_survive_between_runs() {
    let (sandbox, server, config) = plain_relay();
    let json = || {
        let out = rreport()
            .args(["--once", "--dry-run", "--format", "json", "-c"])
            .args([&config])
            .run();
        out.status(0);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = json();
    assert!(
        first["diskio"]["previous_report"].is_null()
            && first["network"]["previous_report"].is_null()
    );
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert!(sandbox.path("state/counters.json").exists());
    // A preview does not move "since the previous report"; a sent report does.
    let second = json();
    let third = json();
    assert_eq!(
        second["network"]["previous_report"],
        third["network"]["previous_report"]
    );
    assert!(
        second["network"]["previous_report"].is_string(),
        "{}",
        second["network"]
    );
    for section in ["network", "diskio"] {
        let items = second[section][if section == "network" {
            "interfaces"
        } else {
            "devices"
        }]
        .as_array()
        .unwrap()
        .clone();
        for item in items {
            assert!(item["delta"].is_object(), "{section}: {item}");
        }
    }
    assert!(
        first["processes"]["top_io"].is_null(),
        "no I/O to compare on a first report"
    );
    assert!(
        second["processes"]["top_io"].is_array(),
        "{}",
        second["processes"]
    );
    // CPU over the sample window first, then since the sent report (which ran a
    // whole window before the preview began: longer ago than a window).
    assert_eq!(first["processes"]["cpu_since_previous_report"], false);
    assert_eq!(second["processes"]["cpu_since_previous_report"], true);
    assert_eq!(server.received().len(), 1);
}
