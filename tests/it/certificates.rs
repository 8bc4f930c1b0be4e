//! `[[certificates]]` against certificates made here with rcgen: expired, two days
//! left, thirty days left, and a file that is no certificate, found through a glob.

use chrono::{Datelike, TimeDelta, Utc};

use crate::support::{rreport, Sandbox};

/// A self-signed certificate for `name` that expires `days` from now (negative: ago).
fn certificate(sandbox: &Sandbox, file: &str, name: &str, days: i64) {
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
