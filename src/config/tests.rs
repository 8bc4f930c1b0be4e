//! Config parsing, table-tested on strings.

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "config.toml", &no_env)
}

/// `text` is refused with exactly `expected`.
#[track_caller]
fn check_err(text: &str, expected: &str) {
    match parse(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => assert_eq!(e.to_string(), expected, "for {text:?}"),
    }
}

const SMTP: &str = "[smtp]\nhost = \"mx\"\nfrom = \"r@example.com\"\nto = [\"a@example.com\"]\n";

#[test]
fn empty_text_is_the_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.schedule.as_ref().map(|s| s.as_str()), Some("0 8 * * *"));
    assert_eq!(c.report.subject, None, "the built-in subject");
    assert_eq!(c.report.cpu_sample, Duration::from_millis(200));
    assert!(c.smtp.is_none() && c.hostname.is_none() && c.report.filesystems.is_none());
}

#[test]
fn the_example_config_parses() {
    let text = include_str!("../../config.example.toml");
    let c = Config::parse(text, "config.example.toml", &no_env).unwrap();
    let smtp = c.smtp.unwrap();
    assert_eq!(smtp.servers[0].port, 587);
    assert_eq!(smtp.tls, TlsMode::Starttls);
    assert_eq!(smtp.to.len(), 2);
    assert_eq!(
        c.timezone,
        crate::zone::Zone::named("Europe/Berlin").unwrap()
    );
}

#[test]
fn port_follows_tls() {
    for (tls, port) in [("starttls", 587), ("tls", 465), ("none", 25)] {
        let c = parse(&format!("{SMTP}tls = \"{tls}\"\n")).unwrap();
        assert_eq!(c.smtp.unwrap().servers[0].port, port, "{tls}");
    }
    assert_eq!(
        parse(&format!("{SMTP}port = 2525\n"))
            .unwrap()
            .smtp
            .unwrap()
            .servers[0]
            .port,
        2525
    );
}

#[test]
fn errors_say_where_and_what() {
    check_err("schedul = \"x\"", "config.toml:1:1: unknown field `schedul`, expected one of `schedule`, `timezone`, `hostname`, `state_dir`, `collector_timeout_secs`, `report`, `smtp`, `thresholds`, `checks`, `watch`, `history`, `updates`, `reboot`, `certificates`, `journal`, `export`, `digest`");
    check_err(&format!("{SMTP}tsl = \"tls\"\n"), "config.toml:5:1: unknown field `tsl`, expected one of `host`, `port`, `tls`, `ca_file`, `from`, `to`, `timeout_secs`, `retry_initial`, `retry_max`, `max_queue_age`");
    check_err(
        &format!("{SMTP}tls = \"ssl\"\n"),
        "config.toml:5:7: unknown variant `ssl`, expected one of `starttls`, `tls`, `none`",
    );
    check_err("schedule = \"0 8 * *\"", "config.toml:1:12: invalid schedule '0 8 * *': expected 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or an @ macro; found 4");
    check_err(
        "\n\nschedule = \"0 25 * * *\"",
        "config.toml:3:12: invalid schedule '0 25 * * *': hour field '25': expected 0-23",
    );
    check_err("timezone = \"Mars/Olympus\"", "config.toml:1:12: unknown time zone 'Mars/Olympus': no such file /usr/share/zoneinfo/Mars/Olympus; expected an IANA name such as \"Europe/Berlin\" or \"UTC\" (the tz database is the tzdata package)");
    check_err(
        &format!("{SMTP}port = 70000\n"),
        "config.toml:5:8: port 70000 is out of range; expected 1 to 65535",
    );
    check_err(
        &format!("{SMTP}port = 0\n"),
        "config.toml:5:8: port 0 is out of range; expected 1 to 65535",
    );
    check_err("[smtp]\nhost = \"mx\"\nfrom = \"not an address\"\n", "config.toml:3:8: smtp.from: 'not an address' is not an email address; expected \"name@example.com\" or \"Name <name@example.com>\"");
    check_err("[smtp]\nhost = \"mx\"\nfrom = \"r@example.com\"\nto = [\"ok@example.com\", \"bad@\"]\n", "config.toml:4:25: smtp.to: 'bad@' is not an email address; expected \"name@example.com\" or \"Name <name@example.com>\"");
    check_err(
        "[smtp]\nhost = \"mx\"\n",
        "config.toml:1:1: missing field `from`",
    );
    check_err(
        "[report]\ncpu_sample_ms = \"fast\"\n",
        "config.toml:2:17: expected a number, found the string \"fast\"",
    );
    check_err(
        "[report]\ncpu_sample_ms = 600000\n",
        "config.toml:2:17: cpu_sample_ms = 600000 is out of range; expected 10 to 60000",
    );
    check_err(
        &format!("{SMTP}timeout_secs = 0\n"),
        "config.toml:5:16: timeout_secs = 0 is out of range; expected 1 to 3600",
    );
    check_err(
        "schedule = \"0 8 * * *\"\nschedule = \"1 8 * * *\"\n",
        "config.toml:2:1: `schedule` is set twice; keep one",
    );
    check_err(
        "hostname = \"  \"",
        "config.toml:1:12: hostname is empty; leave it out to use the system's",
    );
}

#[test]
fn a_password_in_the_file_names_the_environment_variable() {
    check_err(&format!("{SMTP}password = \"hunter2\"\n"), "config.toml:5:12: smtp.password is not allowed in the config file; set RREPORT_SMTP_PASSWORD in the environment instead (e.g. in /etc/rreport/env, mode 0600)");
    check_err(&format!("{SMTP}username = \"me\"\n"), "config.toml:5:12: smtp.username is not allowed in the config file; set RREPORT_SMTP_USERNAME in the environment instead (e.g. in /etc/rreport/env, mode 0600)");
    let err = parse(&format!("{SMTP}password = \"hunter2\"\n")).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[test]
fn a_broken_subject_template_is_a_config_error() {
    let err = parse("[report]\nsubject = \"{{ hostname \"\n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("config.toml:2:11: report.subject: "),
        "{err}"
    );
}

#[test]
fn credentials_come_from_the_environment_both_or_neither() {
    let both = |name: &str| match name {
        USERNAME_VAR => Some("me".to_string()),
        PASSWORD_VAR => Some("hunter2".to_string()),
        _ => None,
    };
    let c = Config::parse(SMTP, "config.toml", &both).unwrap();
    let creds = c.smtp.unwrap().credentials.unwrap();
    assert_eq!(
        (creds.username.as_str(), creds.password.expose()),
        ("me", "hunter2")
    );

    let only_password = |name: &str| (name == PASSWORD_VAR).then(|| "hunter2".to_string());
    let err = Config::parse(SMTP, "config.toml", &only_password).unwrap_err();
    assert_eq!(err.to_string(), "environment: RREPORT_SMTP_PASSWORD is set but RREPORT_SMTP_USERNAME is not; set both, or neither to send without AUTH");
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[test]
fn credentials_come_from_systemd_credentials_when_not_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smtp-password"), "hunter2\n").unwrap();
    let creds_dir = dir.path().display().to_string();
    let env = |name: &str| match name {
        "CREDENTIALS_DIRECTORY" => Some(creds_dir.clone()),
        USERNAME_VAR => Some("me".to_string()),
        _ => None,
    };
    let c = Config::parse(SMTP, "config.toml", &env).unwrap();
    let creds = c.smtp.unwrap().credentials.unwrap();
    assert_eq!(
        (creds.username.as_str(), creds.password.expose()),
        ("me", "hunter2")
    );
    // Without the file, half the credentials is the same error as in the environment.
    std::fs::remove_file(dir.path().join("smtp-password")).unwrap();
    let err = Config::parse(SMTP, "config.toml", &env).unwrap_err();
    assert!(
        err.to_string()
            .contains("RREPORT_SMTP_USERNAME is set but RREPORT_SMTP_PASSWORD is not"),
        "{err}"
    );
}

#[test]
fn sending_needs_smtp_and_recipients() {
    let err = parse("").unwrap().smtp_for_sending().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("config.toml: no [smtp] section"),
        "{err}"
    );
    let c = parse("[smtp]\nhost = \"mx\"\nfrom = \"r@example.com\"\nto = []\n").unwrap();
    assert_eq!(
        c.smtp_for_sending().unwrap_err().to_string(),
        "config.toml:4:6: smtp.to lists no recipients; expected at least one address"
    );
}

#[test]
fn ca_file_must_be_readable_pem() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let text = format!("{SMTP}ca_file = \"{}\"\n", junk.display());
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("config.toml:5:11: smtp.ca_file")
            && err.contains("is not a PEM certificate"),
        "{err}"
    );
    let missing = format!(
        "{SMTP}ca_file = \"{}\"\n",
        dir.path().join("nope.pem").display()
    );
    let err = parse(&missing).unwrap_err().to_string();
    assert!(err.contains("cannot be read"), "{err}");
}

#[test]
fn locate_counts_lines_and_characters_from_one() {
    assert_eq!(locate("f", "ab\ncdé\nx", 0), "f:1:1");
    assert_eq!(locate("f", "ab\ncdé\nx", 3), "f:2:1");
    assert_eq!(locate("f", "ab\ncdé\nx", 8), "f:3:1");
    assert_eq!(locate("f", "ab\ncdé\nx", 9), "f:3:2");
    assert_eq!(locate("f", "ab\ncdé\nx", 7), "f:2:4");
}

#[test]
fn thresholds_per_metric_and_per_mount_point() {
    let c = parse(
        "[thresholds]\nmemory = [60, 80, 95]\nload = [1, 2.5, 10]\n\"/boot\" = [80, 90, 95]\n",
    )
    .unwrap();
    let t = &c.thresholds;
    assert_eq!(
        (t.memory.careful, t.memory.warning, t.memory.critical),
        (60.0, 80.0, 95.0)
    );
    assert_eq!(t.load.warning, 2.5);
    assert_eq!(t.filesystems["/boot"].critical, 95.0);
    assert_eq!(
        t.cpu,
        Thresholds::default().cpu,
        "the rest keep glances' defaults"
    );
    check_err("[thresholds]\ncpuu = [1, 2, 3]\n", "config.toml:2:8: unknown threshold 'cpuu', expected cpu, memory, swap, filesystem, inodes, load, temperature, or a mount point such as \"/boot\"");
    check_err("[thresholds]\ncpu = [90, 70, 50]\n", "config.toml:2:7: thresholds.cpu must be three ascending numbers, at least 0 (careful, warning, critical), such as [50, 70, 90]");
    check_err("[thresholds]\ncpu = [50, 70]\n", "config.toml:2:7: thresholds.cpu must be three ascending numbers, at least 0 (careful, warning, critical), such as [50, 70, 90]");
}

#[test]
fn sections_choose_and_order() {
    use crate::sections::Section;
    let c = parse("[report]\nsections = [\"checks\", \"host\"]\n").unwrap();
    assert!(c.report.sections.shows(Section::Checks) && c.report.sections.shows(Section::Host));
    assert!(!c.report.sections.shows(Section::Processes));
    assert_eq!(
        serde_json::to_value(&c.report.sections).unwrap(),
        serde_json::json!(["checks", "host"])
    );
    assert!(parse("").unwrap().report.sections.shows(Section::Files));
    check_err("[report]\nsections = [\"host\", \"disks\"]\n", "config.toml:2:21: unknown section 'disks', expected one of attention, host, cpu, memory, filesystems, diskio, network, processes, checks, updates, reboot, units, smart, raid, certificates, clock, temperatures, journal, oom, logins, packages, reboots, users, files, errors");
    check_err(
        "[report]\nsections = [\"host\", \"cpu\", \"host\"]\n",
        "config.toml:2:28: section 'host' is listed twice",
    );
}

#[test]
fn checks_of_every_kind() {
    use crate::collect::checks::Probe;
    let c = parse(
        r#"
[[checks]]
name = "nginx"
process = "nginx"
max = 9

[[checks]]
name = "php"
cmdline = "^php-fpm: pool (www|api)"
min = 2

[[checks]]
name = "app"
pidfile = "/run/app.pid"

[[checks]]
name = "db"
tcp = "[::1]:5432"
timeout_secs = 2

[[checks]]
name = "cron"
systemd = "cron.service"

[[checks]]
name = "replica set"
command = ["mongosh", "--quiet", "--eval", "rs.status().ok"]

[[checks]]
name = "queue"
command = "test $(ls /var/spool/q | wc -l) -lt 100"
shell = true
"#,
    )
    .unwrap();
    let kinds: Vec<_> = c.checks.iter().map(|c| c.probe.kind()).collect();
    assert_eq!(
        kinds,
        ["process", "process", "pidfile", "tcp", "systemd", "command", "command"]
    );
    assert!(matches!(
        &c.checks[0].probe,
        Probe::Process { name: Some(n), cmdline: None, min: 1, max: Some(9) } if n == "nginx"
    ));
    assert_eq!(c.checks[3].timeout, Duration::from_secs(2));
    assert_eq!(c.checks[0].timeout, Duration::from_secs(5), "the default");
    assert!(matches!(&c.checks[6].probe, Probe::Command(argv) if argv[..2] == ["/bin/sh", "-c"]));
}

#[test]
fn check_mistakes_say_where_and_what() {
    let kinds = "process (or cmdline), pidfile, tcp, systemd or command";
    check_err(
        "[[checks]]\nname = \"x\"\n",
        &format!("config.toml:1:1: check 'x' has no kind; give one of {kinds}"),
    );
    check_err(
        "[[checks]]\nname = \"x\"\ntcp = \"a:1\"\nsystemd = \"b\"\n",
        &format!("config.toml:1:1: check 'x' has more than one kind; give exactly one of {kinds}"),
    );
    check_err(
        "[[checks]]\nprocess = \"x\"\n",
        "config.toml:1:1: a [[checks]] entry needs a name",
    );
    check_err("[[checks]]\nname = \"x\"\ntcp = \"localhost\"\n", "config.toml:3:7: checks.tcp = \"localhost\" is not host:port; expected something like \"db.example.com:5432\" or \"[::1]:22\"");
    check_err("[[checks]]\nname = \"x\"\ncommand = \"pgrep x\"\n", "config.toml:3:11: checks.command is one string, which would need a shell: give the program and its arguments as a list, or set shell = true to run it with /bin/sh -c");
    check_err(
        "[[checks]]\nname = \"x\"\ncommand = []\n",
        "config.toml:3:11: checks.command is empty; expected the program and its arguments, such as [\"/usr/local/bin/check-app\", \"--quick\"]",
    );
    check_err(
        "[[checks]]\nname = \"x\"\ncmdline = \"(\"\n",
        "config.toml:3:11: checks.cmdline is not a valid regular expression: found open group without closing ')'",
    );
    check_err(
        "[[checks]]\nname = \"x\"\nprocess = \"x\"\nmin = 3\nmax = 2\n",
        "config.toml:5:7: check 'x': max = 2 is below min = 3",
    );
    check_err(
        "[[checks]]\nname = \"x\"\ntcp = \"a:1\"\nmin = 3\n",
        "config.toml:4:7: checks.min only applies to a process check",
    );
    check_err(
        "[[checks]]\nname = \"x\"\npidfile = \"run/x.pid\"\n",
        "config.toml:3:11: checks.pidfile must be an absolute path",
    );
    check_err(
        "[[checks]]\nname = \"x\"\nsystemd = \"a\"\n[[checks]]\nname = \"x\"\nsystemd = \"b\"\n",
        "config.toml:4:1: two checks are named 'x'; names must differ, they label the report's lines",
    );
}

#[test]
fn watches() {
    let c = parse("[[watch]]\npath = \"/etc/\"\nexclude = [\"*.swp\"]\n[[watch]]\npath = \"/srv/app\"\nrecursive = false\nhash_max_bytes = 0\n").unwrap();
    let w = &c.watches;
    assert_eq!(
        (w[0].path.to_str(), w[0].recursive, w[0].hash_max_bytes),
        (Some("/etc"), true, 1 << 20)
    );
    assert_eq!((w[1].recursive, w[1].hash_max_bytes), (false, 0));
    check_err(
        "[[watch]]\npath = \"etc\"\n",
        "config.toml:2:8: watch.path = \"etc\" must be an absolute path",
    );
    check_err(
        "[[watch]]\npath = \"/etc\"\n[[watch]]\npath = \"/etc/\"\n",
        "config.toml:4:8: /etc is watched twice",
    );
    check_err("[[watch]]\npath = \"/etc\"\nexclude = [\"a[\"]\n", "config.toml:3:12: watch.exclude pattern \"a[\" is not a valid glob: Pattern syntax error near position 1: invalid range pattern");
}

/// The commented-out examples of `[[checks]]` and `[[watch]]` in
/// config.example.toml parse once uncommented.
#[test]
fn the_example_checks_and_watches_parse() {
    let text = include_str!("../../config.example.toml");
    let from = text.find("# [[checks]]").unwrap();
    let uncommented: String = text[from..]
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.starts_with('[') || l.split(" = ").count() > 1)
        .map(|l| format!("{l}\n"))
        .collect();
    let c = Config::parse(&uncommented, "example", &no_env).unwrap();
    assert_eq!(c.checks.len(), 7, "{uncommented}");
    assert_eq!(c.watches.len(), 1);
    assert_eq!(c.journal.ignore.len(), 1);
    assert_eq!(c.journal.timeout, Duration::from_secs(30));
    check_err(
        "[journal]\ntimeout_secs = 0\n",
        "config.toml:2:16: journal.timeout_secs = 0 is out of range; expected 1 to 3600",
    );
}

#[test]
fn durations_are_bounded_where_they_are_written() {
    // Found by fault injection: "100000000d" passed and then overflowed a date at
    // every start while a message was queued; "0s" retried ~700 times a second.
    check_err(
        &format!("{SMTP}retry_initial = \"100000000d\"\n"),
        "config.toml:5:17: smtp.retry_initial = \"100000000d\" is out of range; expected 1s to 1d",
    );
    check_err(
        &format!("{SMTP}retry_initial = \"0s\"\n"),
        "config.toml:5:17: smtp.retry_initial = \"0s\" is out of range; expected 1s to 1d",
    );
    check_err(
        &format!("{SMTP}retry_max = \"30d\"\n"),
        "config.toml:5:13: smtp.retry_max = \"30d\" is out of range; expected 1s to 7d",
    );
    check_err(
        &format!("{SMTP}max_queue_age = \"99999d\"\n"),
        "config.toml:5:17: smtp.max_queue_age = \"99999d\" is out of range; expected 1s to 365d",
    );
    let c = parse(&format!(
        "{SMTP}retry_initial = \"1s\"\nmax_queue_age = \"365d\"\n"
    ))
    .unwrap();
    let retry = c.smtp.unwrap().retry;
    assert_eq!(retry.initial, Duration::from_secs(1));
    assert_eq!(retry.max_queue_age, Duration::from_secs(365 * 86_400));
}

#[test]
fn a_schedule_that_never_fires_is_refused_where_it_is_written() {
    check_err(
        "timezone = \"UTC\"\nschedule = \"0 0 30 2 *\"\n",
        "config.toml:2:12: schedule '0 0 30 2 *' never fires (no such date in any year); check the day-of-month and month fields",
    );
    // February 29th exists, if rarely.
    assert!(parse("schedule = \"0 0 29 2 *\"\n").is_ok());
}

#[test]
fn invalid_utf8_is_located_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, b"timezone = \"UTC\"\nhostname = \"caf\xe9\"\n").unwrap();
    let err = Config::load(&path, true, &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:16: byte 0xe9 is not UTF-8; the config must be UTF-8 text (was it saved as Latin-1?)",
            path.display()
        )
    );
}

#[test]
fn history_sampling_defaults_to_a_minute_and_is_bounded() {
    let c = parse("").unwrap();
    assert_eq!(c.history.sample_interval, Duration::from_secs(60));
    assert_eq!(c.history.days, 35);
    let c = parse("[history]\nsample_interval_secs = 10\nhistory_days = 90\n").unwrap();
    assert_eq!(
        (c.history.sample_interval, c.history.days),
        (Duration::from_secs(10), 90)
    );
    check_err(
        "[history]\nsample_interval_secs = 0\n",
        "config.toml:2:24: history.sample_interval_secs = 0 is out of range; expected 1 to 3600",
    );
}
