//! The hardware sections from fixture trees, through the collectors, status and the
//! templates: hwmon temperatures, md arrays from a /proc/mdstat, and the smart section
//! of this machine (a VM: its virtio disk speaks no SMART, and the section says so).

use std::path::Path;
use std::time::Duration;

use rreport::collect;
use rreport::collect::Context;
use rreport::sections::{Section, Sections};

use crate::support::{rreport, Sandbox};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// Gathers `sections` with /proc at `proc` and /sys at the hwmon fixture; the context
/// as status leaves it, and both parts rendered.
fn report(proc: &Path, sections: Vec<Section>) -> (Context, rreport::report::Rendered) {
    let mut settings = collect::Settings::new(
        rreport::zone::Zone::utc(),
        Duration::from_millis(10),
        Duration::from_secs(10),
    );
    settings.procfs = collect::procfs::Procfs::at(proc, &fixtures().join("hwmon"));
    settings.sections = Sections::new(sections).unwrap();
    let readings = collect::gather(&settings, chrono::Utc::now());
    let zone = rreport::zone::Zone::utc();
    let period = rreport::history::Period::none(&zone);
    let ctx = rreport::status::context(&readings, &period, &Default::default());
    let renderer =
        rreport::report::Renderer::new(rreport::report::DEFAULT_SUBJECT, None, true).unwrap();
    let rendered = renderer.render(&ctx).unwrap();
    (ctx, rendered)
}

#[test]
fn hwmon_sensors_hottest_first_judged_by_their_own_limits() {
    let proc = tempfile::tempdir().unwrap();
    let (ctx, rendered) = report(proc.path(), vec![Section::Attention, Section::Temperatures]);
    let sensors = ctx.0["temperatures"].as_array().unwrap();
    let seen: Vec<(&str, &str, f64, &str)> = sensors
        .iter()
        .map(|s| {
            (
                s["chip"].as_str().unwrap(),
                s["label"].as_str().unwrap(),
                s["celsius"].as_f64().unwrap(),
                s["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("coretemp", "Package id 0", 88.0, "warning"),
            ("coretemp", "Core 0", 61.0, "ok"),
            ("coretemp", "Core 8", 57.0, "ok"),
            ("nvme", "Composite", 47.85, "ok"),
            ("acpitz", "temp1", 27.8, "ok"),
        ],
        "the broken chip's sensors are skipped"
    );
    assert_eq!(sensors[0]["max"], 84.0);
    assert!(sensors[4]["crit"].is_null(), "a crit of 0 is no limit");
    assert_eq!(ctx.0["status"], "warning");
    assert_eq!(
        ctx.0["attention"][0]["text"],
        "coretemp Package id 0 is at 88 °C"
    );
    assert!(
        rendered
            .text
            .contains("88.0 °C  coretemp Package id 0 (max 84, crit 100) [WARNING]"),
        "{}",
        rendered.text
    );
    assert!(rendered
        .html
        .contains("coretemp <span class=\"muted\" style=\"color:#6b7280\">Package id 0</span>"));
}

#[test]
fn md_arrays_from_mdstat_degraded_first() {
    let proc = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("mdstat/recovering.txt"),
        proc.path().join("mdstat"),
    )
    .unwrap();
    let (ctx, rendered) = report(proc.path(), vec![Section::Attention, Section::Raid]);
    let arrays = ctx.0["raid"]["arrays"].as_array().unwrap();
    let levels: Vec<(&str, &str)> = arrays
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["level"].as_str().unwrap()))
        .collect();
    assert_eq!(levels, [("md2", "critical"), ("md3", "careful")]);
    assert_eq!(
        ctx.0["attention"][0]["text"],
        "RAID array md2 (raid5) is degraded: 2 of 3 devices working; recovery under way (8.5%, done in 283.7min)"
    );
    assert_eq!(
        ctx.0["attention"][1]["text"],
        "RAID array md3 (raid1): resync under way (delayed)"
    );
    assert!(
        rendered.text.contains(
            "md2: raid5 active, 2/3 devices, recovery 8.5% (done in 283.7min) [CRITICAL]"
        ),
        "{}",
        rendered.text
    );
    assert!(rendered.text.contains("sdc1 (failed)"));
}

#[test]
fn smart_on_a_host_without_smart_drives_says_so_without_a_level() {
    let proc = tempfile::tempdir().unwrap();
    let (ctx, rendered) = report(proc.path(), vec![Section::Attention, Section::Smart]);
    let smart = &ctx.0["smart"];
    assert_eq!(smart["drives"], serde_json::json!([]), "{smart}");
    let why = smart["unavailable"].as_str().unwrap();
    assert!(why.contains("disk") || why == "no disks", "{why}");
    assert_eq!(ctx.0["status"], "ok");
    assert!(
        rendered.text.contains("DISK HEALTH: not available ("),
        "{}",
        rendered.text
    );
}

/// Every section of the report, each collector made to fail or find nothing: the
/// report still goes out, every section saying what it could.
#[test]
fn a_report_whose_every_section_fails_or_is_absent_still_goes_out() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        "[report]\ncpu_sample_ms = 10\n\
         [[certificates]]\npath = \"/nonexistent/*.pem\"\n\
         [[certificates]]\nendpoint = \"127.0.0.1:1\"\n\
         [[checks]]\nname = \"nothing\"\ncommand = [\"/nonexistent/check\"]\n",
    );
    // A PATH with no tools at all: no apt, systemctl, smartctl, chronyc, zpool.
    let empty = sandbox.path("bin");
    std::fs::create_dir_all(&empty).unwrap();
    for format in ["text", "html", "json"] {
        let out = rreport()
            .env("PATH", &empty)
            .args(["--once", "--dry-run", "--format", format, "-c"])
            .args([&config])
            .run();
        out.status(0);
        assert!(!out.stdout.is_empty());
    }
    let text = rreport()
        .env("PATH", &empty)
        .args(["--once", "--dry-run", "--format", "text", "-c"])
        .args([&config])
        .run()
        .stdout;
    for said in [
        "UPDATES: not available",
        "FAILED UNITS: not available",
        // "smartctl is not installed" where a disk could speak SMART; a VM's says
        // its disks cannot, without asking.
        "DISK HEALTH: not available (",
        "CLOCK: sync not known (neither chronyc nor timedatectl is installed)",
        "CERTIFICATES",
    ] {
        assert!(text.contains(said), "{said:?} in:\n{text}");
    }
}
