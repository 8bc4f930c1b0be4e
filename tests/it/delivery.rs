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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn starttls_auth_two_recipients_two_parts() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::TlsAuth, &ca);
    let config = sandbox.write(
        "config.toml",
        &smtp_config(server.port, "starttls", Some(&ca.ca)),
    );

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
    assert_eq!(
        msg.subject(),
        Some(format!("[OK] {} system report", hostname()).as_str())
    );
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
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let config = sandbox.write("config.toml", &smtp_config(server.port, "none", None));
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(0);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn server_down_exits_75_naming_the_server() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let port = closed_port();
    let config = sandbox.write("config.toml", &smtp_config(port, "starttls", Some(&ca.ca)));
    let out = rreport()
        .args(["--once", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run();
    out.status(75).no_secret().stderr_has(&format!(
        "rreport: report not delivered: localhost:{port}: Connection error"
    ));
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("rreport:"))
            .count(),
        1,
        "one clear line:\n{}",
        out.stderr
    );
}

#[test]
fn refused_auth_exits_75_without_the_password() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::TlsAuth, &ca);
    let config = sandbox.write(
        "config.toml",
        &smtp_config(server.port, "starttls", Some(&ca.ca)),
    );
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
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::Plain, &ca);
    let config = sandbox.write(
        "config.toml",
        &smtp_config(server.port, "starttls", Some(&ca.ca)),
    );
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
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(Mode::TlsAuth, &ca);
    let config = sandbox.write("config.toml", &smtp_config(server.port, "starttls", None));
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .credentials(PASSWORD)
        .run()
        .status(75)
        .no_secret();
    assert!(server.received().is_empty());
}
