//! The shipped unit file is hardened: systemd-analyze rates it OK or better.
//! .ci/run installs systemd-analyze where it is missing, so this test always runs.

use std::process::Command;

#[test]
fn unit_rates_ok_or_better() {
    let unit = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/rreport.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", unit])
        .output()
        .expect("systemd-analyze is installed (.ci/run installs the systemd package)");
    let text = String::from_utf8_lossy(&out.stdout);
    let verdict = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no verdict:\n{text}"));
    let score: f64 = verdict
        .split(':')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(score <= 3.9, "exposure {score} is worse than OK: {verdict}");
    assert!(
        verdict.contains(" OK") || verdict.contains("SAFE"),
        "{verdict}"
    );
}

#[test]
fn unit_keeps_the_contract() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/rreport.service"
    ))
    .unwrap();
    for line in [
        "Type=notify",
        "EnvironmentFile=-/etc/rreport/env",
        "RestartPreventExitStatus=78",
        "StateDirectory=rreport",
        "User=rreport\nGroup=rreport\n",
        "WatchdogSec=3min",
        "ExecReload=/usr/local/bin/rreport --validate\nExecReload=/bin/kill -HUP $MAINPID",
        "CapabilityBoundingSet=\n",
        "MemoryMax=",
        "LimitCORE=0",
        "PrivateMounts=yes",
    ] {
        assert!(unit.contains(line), "unit lacks {line:?}");
    }
    // Under DynamicUser= every D-Bus client rreport runs fails (systemd #22737).
    assert!(!unit.contains("DynamicUser=yes"));
    let sysusers = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/rreport.sysusers"
    ))
    .unwrap();
    assert!(
        sysusers.contains("\nu rreport - "),
        "the user the unit runs as"
    );
}

/// The SMART drop-in, applied over the unit: every key known to systemd, and the
/// whole still rated by systemd-analyze (worse than the unit alone: it grants
/// capabilities, which is its point).
#[test]
fn the_smart_drop_in_applies_cleanly() {
    let drop_in = applies_cleanly("smart.conf");
    for granted in [
        "CAP_SYS_RAWIO",
        "SupplementaryGroups=disk",
        "PrivateDevices=no",
    ] {
        assert!(drop_in.contains(granted), "{granted}");
    }
}

/// The textfile drop-in opens one directory for writing and joins one group.
#[test]
fn the_export_drop_in_applies_cleanly() {
    let drop_in = applies_cleanly("export.conf");
    let settings: Vec<&str> = (drop_in.lines())
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .collect();
    assert_eq!(
        settings,
        [
            "ReadWritePaths=/var/lib/prometheus/node-exporter",
            "SupplementaryGroups=prometheus"
        ]
    );
}

/// The unit with `drop_in` after it, as systemd merges them: systemd-analyze knows
/// every key. Returns the drop-in's text.
fn applies_cleanly(name: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let unit = std::fs::read_to_string(format!("{root}/systemd/rreport.service")).unwrap();
    let drop_in = std::fs::read_to_string(format!("{root}/systemd/{name}")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let combined = dir.path().join("rreport.service");
    std::fs::write(&combined, format!("{unit}\n{drop_in}")).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&combined)
        .output()
        .unwrap();
    let (text, errors) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !errors.contains("Unknown") && !errors.contains("Failed to parse"),
        "{errors}"
    );
    assert!(text.contains("Overall exposure level"), "{text}\n{errors}");
    drop_in
}
