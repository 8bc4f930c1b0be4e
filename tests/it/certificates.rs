//! `[[certificates]]` against certificates made here with rcgen: expired, two days
//! left, thirty days left, and a file that is no certificate, found through a glob;
//! and a TLS server on loopback presenting one, for `endpoint`.

use chrono::{Datelike, TimeDelta, Utc};

use crate::support::{rreport, Sandbox};

/// A self-signed certificate for `name` that expires `days` from now (negative: ago),
/// written to live/`file`; returned with its key, for a server to present.
fn certificate(sandbox: &Sandbox, file: &str, name: &str, days: i64) -> (String, String) {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let mut params = CertificateParams::new(vec![name.to_string(), format!("www.{name}")]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let start = Utc::now() - TimeDelta::days(400);
    // rcgen takes a date: the certificate ends at midnight UTC, so `days` is whole
    // days after today's midnight (between days - 1 and days from now).
    let end = Utc::now() + TimeDelta::days(days);
    params.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    params.not_after = rcgen::date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir_all(sandbox.path("live")).unwrap();
    std::fs::write(sandbox.path(&format!("live/{file}")), cert.pem()).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn certificates_say_when_they_expire_with_levels_worst_first() {
    let sandbox = Sandbox::new();
    certificate(&sandbox, "a.pem", "thirty.example", 30);
    certificate(&sandbox, "b.pem", "two.example", 2);
    certificate(&sandbox, "c.pem", "expired.example", -5);
    std::fs::write(sandbox.path("live/d.pem"), "not a certificate\n").unwrap();
    let config = sandbox.write(
        "config.toml",
        &format!(
            "[report]\ncpu_sample_ms = 10\nsections = [\"attention\", \"certificates\", \"errors\"]\n\
             [[certificates]]\npath = \"{}/*.pem\"\n",
            sandbox.path("live").display()
        ),
    );
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let certs = ctx["certificates"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = certs
        .iter()
        .map(|c| (c["subject"].as_str().unwrap(), c["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("expired.example", "critical"),
            ("two.example", "critical"),
            ("thirty.example", "ok")
        ],
        "soonest first"
    );
    assert_eq!(
        certs[2]["names"],
        serde_json::json!(["thirty.example", "www.thirty.example"])
    );
    let days = certs[2]["days_left"].as_f64().unwrap();
    assert!((29.0..=30.0).contains(&days), "{days}");
    let attention: Vec<&str> = ctx["attention"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    assert!(
        attention[0].starts_with("certificate expired.example expired 4 days ago")
            || attention[0].starts_with("certificate expired.example expired 5 days ago"),
        "{attention:?}"
    );
    // Ends at midnight UTC two days on: 1 whole day left, or (just after midnight) 2.
    assert!(
        attention[1].starts_with("certificate two.example expires in 1 day (")
            || attention[1].starts_with("certificate two.example expires in 2 days"),
        "{attention:?}"
    );
    assert_eq!(ctx["errors"][0]["collector"], "certificates");
    assert!(
        ctx["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("d.pem: no PEM certificate in it"),
        "{}",
        ctx["errors"]
    );
    // The text part says the same.
    let text = rreport()
        .args(["--once", "--dry-run", "--format", "text", "-c"])
        .args([&config])
        .run();
    assert!(
        text.stdout.contains("expired  expired.example (until"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_relative_certificate_path_is_refused_where_it_is_written() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("config.toml", "[[certificates]]\npath = \"cert.pem\"\n");
    rreport()
        .args(["--check", "-c"])
        .args([&config])
        .run()
        .status(78)
        .stderr_has(
            "config.toml:2:8: certificates.path = \"cert.pem\" must be an absolute path or glob",
        );
}

/// A TLS server on loopback that presents `pem` to each client and records the
/// name each sent as SNI.
fn tls_server(pem: &str, key: &str) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = vec![CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = names.clone();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let mut socket = socket.unwrap();
            let mut tls = rustls::ServerConnection::new(config.clone()).unwrap();
            // The client stops at the certificate: the handshake ends in its alert.
            while tls.is_handshaking() && tls.complete_io(&mut socket).is_ok() {}
            let name = tls.server_name().unwrap_or("(none)").to_string();
            seen.lock().unwrap().push(name);
        }
    });
    (port, names)
}

fn endpoint_report(sandbox: &Sandbox, entries: &str) -> serde_json::Value {
    serde_json::from_str(&endpoint_preview(sandbox, entries, "json")).unwrap()
}

fn endpoint_preview(sandbox: &Sandbox, entries: &str, format: &str) -> String {
    let config = sandbox.write(
        "config.toml",
        &format!(
            "collector_timeout_secs = 2\n[report]\ncpu_sample_ms = 10\n\
             sections = [\"attention\", \"certificates\", \"errors\"]\n{entries}"
        ),
    );
    let out = rreport()
        .args(["--once", "--dry-run", "--format", format, "-c"])
        .args([&config])
        .run();
    out.status(0);
    out.stdout
}

#[test]
fn an_endpoint_presents_its_certificate_by_sni_verified_or_not() {
    let sandbox = Sandbox::new();
    let (pem, key) = certificate(&sandbox, "server.pem", "localhost", 2);
    let (port, names) = tls_server(&pem, &key);
    let ca = sandbox.path("live/server.pem");
    let ctx = endpoint_report(
        &sandbox,
        &format!(
            "[[certificates]]\nendpoint = \"localhost:{port}\"\n\
             [[certificates]]\nendpoint = \"localhost:{port}\"\nca_file = \"{}\"\n",
            ca.display()
        ),
    );
    assert_eq!(
        *names.lock().unwrap(),
        ["localhost", "localhost"],
        "SNI sent"
    );
    let certs = ctx["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2, "{ctx}");
    let place = format!("localhost:{port}");
    for c in certs {
        assert_eq!(c["subject"], "localhost");
        assert_eq!(c["endpoint"], place.as_str());
        assert_eq!(c["level"], "critical", "two days left: {c}");
        let days = c["days_left"].as_f64().unwrap();
        assert!((1.0..=2.0).contains(&days), "{days}");
    }
    let verdicts: Vec<(bool, &str)> = certs
        .iter()
        .map(|c| {
            (
                c["verified"].as_bool().unwrap(),
                c["verify_error"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(verdicts.contains(&(true, "")), "{verdicts:?}");
    assert!(
        verdicts.contains(&(
            false,
            "issuer not trusted (self-signed, or a private CA: set ca_file)"
        )),
        "{verdicts:?}"
    );
    let attention = ctx["attention"].to_string();
    assert!(
        attention.contains(&format!(
            "certificate localhost served at {place} does not verify: issuer not trusted"
        )),
        "{attention}"
    );
    // Both parts say where it was read and whether it verified.
    let entry = format!("[[certificates]]\nendpoint = \"localhost:{port}\"\n");
    let text = endpoint_preview(&sandbox, &entry, "text");
    let said = format!("localhost:{port} (not verified: issuer not trusted");
    assert!(text.contains(&said), "{text}");
    let html = endpoint_preview(&sandbox, &entry, "html");
    let said = format!("localhost:{port} &middot; not verified: issuer not trusted");
    assert!(html.contains(&said), "{html}");
}

#[test]
fn an_endpoint_that_never_answers_or_refuses_is_an_error_and_the_report_goes_out() {
    let sandbox = Sandbox::new();
    // Accepts and then says nothing, as a wedged server does.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || silent.accept().map(|(s, _)| s));
    // Bound and dropped: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let ctx = endpoint_report(
        &sandbox,
        &format!(
            "[[certificates]]\nendpoint = \"127.0.0.1:{silent_port}\"\n\
             [[certificates]]\nendpoint = \"127.0.0.1:{closed_port}\"\n"
        ),
    );
    let errors: Vec<&str> = ctx["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        errors[0],
        format!("127.0.0.1:{silent_port}: no answer from the server (timed out)")
    );
    assert!(
        errors[1].starts_with(&format!(
            "127.0.0.1:{closed_port}: cannot connect to 127.0.0.1:{closed_port}: "
        )),
        "{errors:?}"
    );
    drop(held);
}

#[test]
fn an_endpoint_entry_is_checked_where_it_is_written() {
    let sandbox = Sandbox::new();
    for (entry, error) in [
        ("endpoint = \"example.org\"", "config.toml:2:12: certificates.endpoint = \"example.org\" needs a port: host:port"),
        ("endpoint = \"::1:443\"", "config.toml:2:12: certificates.endpoint = \"::1:443\" is an IPv6 address: write it as [addr]:port"),
        ("endpoint = \"a b:443\"", "is not a host name or address"),
        ("path = \"/x.pem\"\nendpoint = \"a:1\"", "has a path or an endpoint, not both"),
        ("warning_days = 3", "config.toml:1:1: a [[certificates]] entry needs a path (PEM files) or an endpoint (host:port)"),
    ] {
        let config = sandbox.write("config.toml", &format!("[[certificates]]\n{entry}\n"));
        rreport()
            .args(["--check", "-c"])
            .args([&config])
            .run()
            .status(78)
            .stderr_has(error);
    }
}
