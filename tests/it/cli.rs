//! The command line as a user meets it: exit statuses, stdout, stderr.

use crate::support::*;

/// `[report]` with a `template_dir` line, to put in place of a bare `[report]`.
fn template_dir_line(dir: &std::path::Path) -> String {
    format!("[report]\ntemplate_dir = \"{}\"\n", dir.display())
}

#[test]
fn dry_run_works_with_no_config_at_all() {
    let out = rreport().args(["--once", "--dry-run"]).run();
    out.status(0);
    assert!(
        out.stdout.starts_with("<!DOCTYPE html>"),
        "{}",
        &out.stdout[..100.min(out.stdout.len())]
    );
    assert!(out.stdout.contains("Filesystems") && out.stdout.trim_end().ends_with("</html>"));
    assert!(out.stderr.is_empty(), "quiet on success:\n{}", out.stderr);
}

#[test]
fn dry_run_formats() {
    let text = rreport()
        .args(["--once", "--dry-run", "--format", "text"])
        .run();
    text.status(0);
    assert!(
        text.stdout.contains("MEMORY") && !text.stdout.contains('<'),
        "{}",
        text.stdout
    );

    let json = rreport()
        .args(["--once", "--dry-run", "--format", "json"])
        .run();
    json.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    for key in [
        "hostname",
        "generated_at",
        "status",
        "attention",
        "boot",
        "cpu",
        "load",
        "memory",
        "disks",
        "diskio",
        "network",
        "processes",
        "errors",
    ] {
        assert!(ctx.get(key).is_some(), "context lacks {key}");
    }
    // The level depends on how busy this machine is right now; that it is one does not.
    assert!(
        ["ok", "careful", "warning", "critical"].contains(&ctx["status"].as_str().unwrap()),
        "{}",
        ctx["status"]
    );
    assert!(ctx["attention"].is_array());
    assert!(json.stdout.contains("\n  \"boot\": {"), "pretty-printed");
}

#[test]
fn output_goes_to_a_file() {
    let sandbox = Sandbox::new();
    let file = sandbox.path("report.txt");
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "text", "-o"])
        .args([&file])
        .run();
    out.status(0);
    assert!(out.stdout.is_empty());
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("FILESYSTEMS"));
}

#[test]
fn unwritable_output_is_exit_1() {
    rreport()
        .args(["--once", "--dry-run", "-o", "/nonexistent-dir/report.html"])
        .run()
        .status(1)
        .stderr_has("cannot write /nonexistent-dir/report.html");
}

#[test]
fn usage_errors_are_exit_2() {
    rreport().args(["--dry-run"]).run().status(2);
    rreport().args(["--bogus"]).run().status(2);
    rreport()
        .args(["--once", "--dry-run", "--format", "pdf"])
        .run()
        .status(2);
    rreport().args(["--once", "--check"]).run().status(2);
}

#[test]
fn version_and_help() {
    let out = rreport().args(["--version"]).run();
    out.status(0);
    assert_eq!(
        out.stdout.trim(),
        format!("rreport {}", env!("CARGO_PKG_VERSION"))
    );
    let help = rreport().args(["--help"]).run();
    help.status(0);
    for flag in [
        "--once",
        "--dry-run",
        "--format",
        "--output",
        "--check",
        "--next",
        "--config",
        "--verbose",
    ] {
        assert!(help.stdout.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn a_named_config_that_does_not_exist_is_an_error() {
    rreport()
        .args(["--once", "--dry-run", "-c", "/nonexistent/rreport.toml"])
        .run()
        .status(78)
        .stderr_has("/nonexistent/rreport.toml: cannot read config file");
    rreport()
        .args(["--once", "--dry-run"])
        .env("RREPORT_CONFIG", "/nonexistent/env.toml")
        .run()
        .status(78)
        .stderr_has("/nonexistent/env.toml");
}

#[test]
fn config_errors_are_exit_78_with_file_line_col() {
    let sandbox = Sandbox::new();
    let cases = [
        (
            "schedule = \"0 8 * * *\"\n[smtp]\nhost = \"mx\"\ntsl = \"tls\"\n",
            "4:1: unknown field `tsl`",
        ),
        (
            "schedule = \"0 8 * * 9\"\n",
            "1:12: invalid schedule '0 8 * * 9': day-of-week field '9'",
        ),
        (
            "timezone = \"Europe/Berln\"\n",
            "1:12: unknown time zone 'Europe/Berln'",
        ),
        (
            "[smtp]\nhost = \"mx\"\nport = 99999\nfrom = \"a@b.c\"\n",
            "3:8: port 99999 is out of range",
        ),
        (
            "[smtp]\nhost = \"mx\"\nfrom = \"a@b.c\"\nto = [\"nobody\"]\n",
            "4:7: smtp.to: 'nobody' is not an email address",
        ),
        (
            "[smtp]\nhost = \"mx\"\nfrom = \"a@b.c\"\npassword = \"hunter2\"\n",
            "4:12: smtp.password is not allowed in the config file; set RREPORT_SMTP_PASSWORD",
        ),
        (
            "[smtp]\nhost = \"mx\"\nfrom = \"a@b.c\"\nca_file = \"/nonexistent/ca.pem\"\n",
            "4:11: smtp.ca_file '/nonexistent/ca.pem' cannot be read",
        ),
        (
            "[report]\nsubject = \"{% if %}\"\n",
            "2:11: report.subject: syntax error",
        ),
        ("schedule = \n", "1:12: "),
        // Found by fault injection: exit 1 at every start, so the unit restart-looped.
        (
            "schedule = \"0 0 30 2 *\"\n",
            "1:12: schedule '0 0 30 2 *' never fires",
        ),
    ];
    for (text, expected) in cases {
        let config = sandbox.write("config.toml", text);
        let out = rreport()
            .args(["--once", "--dry-run", "-c"])
            .args([&config])
            .run();
        out.status(78)
            .stderr_has(&format!("{}:{expected}", config.display()));
        assert!(!out.stderr.contains("hunter2"));
    }
}

#[test]
fn sending_without_recipients_is_exit_78() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        "[smtp]\nhost = \"mx\"\nfrom = \"a@b.c\"\nto = []\n",
    );
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(78)
        .stderr_has(&format!(
            "{}:4:6: smtp.to lists no recipients",
            config.display()
        ));
    rreport()
        .args(["--check", "-c"])
        .args([&config])
        .run()
        .status(78);
    // --dry-run needs no recipients.
    rreport()
        .args(["--once", "--dry-run", "-c"])
        .args([&config])
        .run()
        .status(0);
}

#[test]
fn half_the_credentials_is_exit_78() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        &sandbox.smtp_config(closed_port(), "none", None),
    );
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .env("RREPORT_SMTP_PASSWORD", PASSWORD)
        .run()
        .status(78)
        .no_secret()
        .stderr_has("environment: RREPORT_SMTP_PASSWORD is set but RREPORT_SMTP_USERNAME is not");
}

#[test]
fn check_runs_the_checks_and_warns_of_failures_without_failing() {
    let sandbox = Sandbox::new();
    let mut text = sandbox.smtp_config(closed_port(), "none", None);
    text.push_str(&format!(
        "[[checks]]\nname = \"web\"\ntcp = \"127.0.0.1:{}\"\n[[checks]]\nname = \"fine\"\ncommand = [\"true\"]\n",
        closed_port()
    ));
    let config = sandbox.write("config.toml", &text);
    let out = rreport().args(["--check", "-c"]).args([&config]).run();
    out.status(0)
        .stderr_has("check 'web' failed now: 127.0.0.1:");
    assert!(!out.stderr.contains("'fine'"), "{}", out.stderr);
}

#[test]
fn check_prints_only_the_next_fire_times() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        &sandbox
            .smtp_config(closed_port(), "none", None)
            .replace("*/5 * * * *", "30 6 * * MON")
            .replace("\"UTC\"", "\"Europe/Berlin\""),
    );
    let out = rreport()
        .args(["--check", "--next", "3", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = out
        .stdout
        .lines()
        .map(|l| chrono::DateTime::parse_from_rfc3339(l).expect(l))
        .collect();
    assert_eq!(times.len(), 3, "{}", out.stdout);
    for t in &times {
        let local = t.with_timezone(&rreport::zone::Zone::named("Europe/Berlin").unwrap());
        assert_eq!(local.format("%a %H:%M").to_string(), "Mon 06:30", "{t}");
        use chrono::Offset;
        assert_eq!(
            *t.offset(),
            local.offset().fix(),
            "printed with the zone's offset"
        );
    }
    assert!(times.windows(2).all(|w| (w[1] - w[0]).num_days() == 7));
    let now = chrono::Utc::now();
    let first = times[0].with_timezone(&chrono::Utc);
    assert!(first > now && first - now <= chrono::TimeDelta::days(7));
}

#[test]
fn check_finds_undefined_variables_in_templates() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path("templates")).unwrap();
    sandbox.write(
        "templates/report.txt",
        "{{ hostname }}\n{{ memroy.total }}\n",
    );
    let text = sandbox
        .smtp_config(closed_port(), "none", None)
        .replace("[report]\n", &template_dir_line(&sandbox.path("templates")));
    let config = sandbox.write("config.toml", &text);
    rreport()
        .args(["--check", "-c"])
        .args([&config])
        .run()
        .status(78)
        .stderr_has("templates/report.txt:2: undefined value: memroy.total");
    // --check refuses a syntax error outright.
    sandbox.write("templates/report.txt", "{% for %}\n");
    rreport()
        .args(["--check", "-c"])
        .args([&config])
        .run()
        .status(78)
        .stderr_has("templates/report.txt:1: syntax error");
}

#[test]
fn a_broken_user_template_still_gives_a_report_with_a_banner() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path("templates")).unwrap();
    let config = sandbox.write(
        "config.toml",
        &format!(
            "[report]\ntemplate_dir = \"{}\"\n",
            sandbox.path("templates").display()
        ),
    );
    let cases = [
        (
            "report.txt",
            "{% for %}\n",
            "text",
            "report.txt:1: syntax error",
        ),
        (
            "report.txt",
            "ok\n{% for x in 42 %}{% endfor %}\n",
            "text",
            "report.txt:2: invalid operation",
        ),
        (
            "report.html",
            "<p>{{ hostname | bytes(1, 2, 3) }}</p>\n",
            "html",
            "report.html:1: ",
        ),
        // A preview of the HTML renders no built-in text, but the admin's, so its
        // failure is still reported.
        (
            "report.txt",
            "ok\n{% for x in 42 %}{% endfor %}\n",
            "html",
            "report.txt:2: invalid operation",
        ),
    ];
    for (file, source, format, error) in cases {
        let _ = std::fs::remove_file(sandbox.path("templates/report.txt"));
        let _ = std::fs::remove_file(sandbox.path("templates/report.html"));
        sandbox.write(&format!("templates/{file}"), source);
        let out = rreport()
            .args(["--once", "--dry-run", "--format", format, "-c"])
            .args([&config])
            .run();
        out.status(0)
            .stderr_has("template failed, the built-in one was used instead: ")
            .stderr_has(error);
        assert!(
            out.stdout
                .contains("Your report template failed, so this report uses the built-in one"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(error),
            "the banner names file, line and error: {error}\n{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("FILESYSTEMS") || out.stdout.contains("Filesystems"),
            "the whole built-in report follows"
        );
    }
}

#[test]
fn a_template_that_never_ends_fails_like_any_other() {
    // Found by fault injection: no report, memory without bound, --check hung.
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path("templates")).unwrap();
    let text = sandbox
        .smtp_config(closed_port(), "none", None)
        .replace("[report]\n", &template_dir_line(&sandbox.path("templates")));
    let config = sandbox.write("config.toml", &text);
    let limit = std::time::Duration::from_secs(60);
    for (file, source, format, error) in [
        (
            "report.txt",
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}\n",
            "text",
            "out of fuel",
        ),
        (
            "report.html",
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ hostname * 1000 }}{% endfor %}{% endfor %}\n",
            "html",
            "the output passed 16 MiB",
        ),
    ] {
        let _ = std::fs::remove_file(sandbox.path("templates/report.txt"));
        let _ = std::fs::remove_file(sandbox.path("templates/report.html"));
        sandbox.write(&format!("templates/{file}"), source);
        let out = rreport()
            .args(["--once", "--dry-run", "--format", format, "-c"])
            .args([&config])
            .run_within(limit);
        out.status(0)
            .stderr_has("template failed, the built-in one was used instead: ");
        assert!(
            out.stdout
                .contains("Your report template failed, so this report uses the built-in one"),
            "{}",
            &out.stdout[..out.stdout.len().min(3000)]
        );
        rreport()
            .args(["--check", "-c"])
            .args([&config])
            .run_within(limit)
            .status(78)
            .stderr_has(&format!("templates/{file}"))
            .stderr_has(error);
    }
}

#[test]
fn user_templates_replace_the_built_in_ones() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path("templates")).unwrap();
    sandbox.write(
        "templates/report.html",
        "<p>{{ hostname }} has {{ memory.total | bytes }}</p>\n",
    );
    let config = sandbox.write(
        "config.toml",
        &format!(
            "[report]\ntemplate_dir = \"{}\"\n",
            sandbox.path("templates").display()
        ),
    );
    let out = rreport()
        .args(["--once", "--dry-run", "-c"])
        .args([&config])
        .run();
    out.status(0);
    assert!(
        out.stdout.starts_with("<p>")
            && out.stdout.contains(" has ")
            && out.stdout.contains("iB</p>"),
        "{}",
        out.stdout
    );
    // report.txt was not replaced: the built-in one is used.
    let text = rreport()
        .args(["--once", "--dry-run", "--format", "text", "-c"])
        .args([&config])
        .run();
    assert!(text.stdout.contains("FILESYSTEMS"));
}

#[test]
fn under_systemd_log_lines_carry_no_timestamp() {
    let plain = rreport()
        .args(["--once", "--dry-run", "--verbose", "--format", "json"])
        .run();
    plain.status(0);
    let first = plain
        .stderr
        .lines()
        .next()
        .expect("--verbose logs something");
    assert!(
        first.starts_with("20"),
        "a timestamp outside systemd: {first}"
    );
    let journal = rreport()
        .args(["--once", "--dry-run", "--verbose", "--format", "json"])
        .env("JOURNAL_STREAM", "8:12345")
        .run();
    journal.status(0);
    for line in journal.stderr.lines() {
        assert!(
            !line.starts_with("20") && !line.contains('\u{1b}'),
            "journal lines have no timestamp or colour: {line}"
        );
    }
}

#[test]
fn check_warns_about_a_readable_env_file_with_the_password() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        &sandbox.smtp_config(closed_port(), "none", None),
    );
    let env_file = sandbox.write(
        "env",
        &format!("RREPORT_SMTP_USERNAME={USER}\nRREPORT_SMTP_PASSWORD={PASSWORD}\n"),
    );
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = rreport().args(["--check", "-c"]).args([&config]).run();
    out.status(0).no_secret().stderr_has(&format!(
        "{} holds RREPORT_SMTP_PASSWORD and other users can read it (mode 0644); run: chmod 600",
        env_file.display()
    ));
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = rreport().args(["--check", "-c"]).args([&config]).run();
    out.status(0);
    assert!(!out.stderr.contains("can read it"), "{}", out.stderr);
}

#[test]
fn check_warns_of_what_is_valid_but_wrong_and_refuses_a_missing_template_dir() {
    let sandbox = Sandbox::new();
    let text = sandbox.smtp_config(closed_port(), "none", None);
    let config = sandbox.write("config.toml", &text);
    crate::support::check(&config)
        .status(0)
        .stderr_has("admin@example.com is an example address; mail to it goes nowhere");
    let text = text.replace("[report]\n", &template_dir_line(&sandbox.path("tmpl")));
    let config = sandbox.write("config.toml", &text);
    crate::support::check(&config)
        .status(78)
        .stderr_has("tmpl' does not exist; fix the path, or remove template_dir");
}

#[test]
fn outbox_lists_queued_and_failed_messages() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        &sandbox.smtp_config(closed_port(), "none", None),
    );
    let empty = rreport().args(["--outbox", "-c"]).args([&config]).run();
    empty.status(0);
    assert!(
        empty.stdout.ends_with(", 0 failed\n") && empty.stdout.starts_with("0 queued in "),
        "{}",
        empty.stdout
    );
    rreport()
        .args(["--once", "-c"])
        .args([&config])
        .run()
        .status(75);
    let out = rreport().args(["--outbox", "-c"]).args([&config]).run();
    out.status(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("queued  ")
            && lines[0].contains("  age ")
            && lines[0].contains("  attempts 1  next try "),
        "{}",
        out.stdout
    );
    assert!(
        lines[1].trim_start().starts_with("<rreport.")
            && lines[1].ends_with("to admin@example.com, ops@example.com"),
        "{}",
        out.stdout
    );
    assert!(
        lines[2].trim_start().starts_with("last error: ")
            && lines[2].contains("Connection refused"),
        "{}",
        out.stdout
    );
    assert!(lines[3].starts_with("1 queued in ") && lines[3].ends_with(", 0 failed"));
}

#[test]
fn an_unwritable_state_dir_is_a_config_error_naming_it() {
    let sandbox = Sandbox::new();
    let text = sandbox.smtp_config(closed_port(), "none", None).replace(
        &format!("state_dir = \"{}\"", sandbox.path("state").display()),
        "state_dir = \"/proc/rreport-state\"",
    );
    let config = sandbox.write("config.toml", &text);
    for args in [["--once", "-c"], ["--check", "-c"]] {
        rreport()
            .args(args)
            .args([&config])
            .run()
            .status(78)
            .stderr_has("state_dir /proc/rreport-state: cannot create directory: ");
    }
}

/// `--validate`, the unit's ExecReload= before it signals: silent and 0 for what a
/// reload takes; 78 and the place for what it would refuse, so that `systemctl
/// reload` fails visibly (the systemd findings of 2026-12-07, finding 8). It
/// neither collects nor creates the state directory.
#[test]
fn validate_says_whether_a_reload_would_take_the_config() {
    let sandbox = Sandbox::new();
    let good = sandbox.write(
        "good.toml",
        &sandbox.smtp_config(closed_port(), "none", None),
    );
    let out = rreport().args(["--validate", "-c"]).args([&good]).run();
    out.status(0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    assert!(
        !sandbox.path("state").exists(),
        "a validation wrote nothing"
    );
    let broken = sandbox.write("broken.toml", "[smtp]\nhost = \"mail\n");
    rreport()
        .args(["--validate", "-c"])
        .args([&broken])
        .run()
        .status(78)
        .stderr_has("broken.toml:2:");
    let no_smtp = sandbox.write("no-smtp.toml", "schedule = \"0 8 * * *\"\n");
    rreport()
        .args(["--validate", "-c"])
        .args([&no_smtp])
        .run()
        .status(78)
        .stderr_has("[smtp]");
}
