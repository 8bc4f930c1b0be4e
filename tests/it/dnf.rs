//! Pending updates against a real dnf: packages built here with rpmbuild, a repository
//! made with createrepo_c carrying a security advisory (modifyrepo_c), an installroot
//! whose rpm database says older versions are installed, and its metadata fetched
//! with `dnf makecache` as the system's timer would. rreport runs dnf and rpm through
//! two-line wrappers that add `--installroot` and `--root` (dnf reads no environment
//! variable for its root, as apt reads `APT_CONFIG`); the programs are the real ones.
//! apt is hidden from rreport in a mount namespace, as on an RPM host (needs root:
//! CI runs as root).

use std::path::Path;
use std::process::Command;

use crate::support::{rreport, Sandbox};

#[track_caller]
fn run(program: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        code == 0 || (program.ends_with("dnf") && code == 100),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, text)
}

/// An empty noarch package `name-version-release` built under `top`.
fn rpm(top: &Path, name: &str, version: &str, release: &str) -> String {
    let spec = top.join(format!("{name}-{version}-{release}.spec"));
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: {release}\nSummary: test\nLicense: MIT\n\
             BuildArch: noarch\n%description\nA package for rreport's tests.\n%files\n"
        ),
    )
    .unwrap();
    let topdir = format!("_topdir {}", top.display());
    run(
        "rpmbuild",
        &[
            "--quiet",
            "--define",
            &topdir,
            "-bb",
            spec.to_str().unwrap(),
        ],
    );
    let file = format!("RPMS/noarch/{name}-{version}-{release}.noarch.rpm");
    top.join(file).display().to_string()
}

const ADVISORY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="security@example.org" status="stable" type="security" version="2.0">
    <id>RRSA-2026:0001</id>
    <title>Important: openssl-lite security update</title>
    <severity>Important</severity>
    <issued date="2026-11-20 00:00:00"/>
    <description>A test advisory.</description>
    <pkglist><collection short="test"><name>test</name>
      <package name="openssl-lite" version="3.0" release="2" epoch="0" arch="noarch" src="openssl-lite-3.0-2.src.rpm">
        <filename>openssl-lite-3.0-2.noarch.rpm</filename>
      </package>
    </collection></pkglist>
  </update>
</updates>
"#;

/// The installroot, the repository and the dnf configuration; returns the bin
/// directory of the wrappers.
fn rpm_host(sandbox: &Sandbox) -> std::path::PathBuf {
    let (top, root, repo) = (
        sandbox.path("rpmbuild"),
        sandbox.path("root"),
        sandbox.path("repo"),
    );
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&top).unwrap();
    let root_arg = format!("--root={}", root.display());
    run("rpm", &[&root_arg, "--initdb"]);
    for (name, old, new) in [
        ("hello", "1", "2"),
        ("openssl-lite", "1", "2"),
        ("steady", "1", "1"),
    ] {
        let installed = rpm(&top, name, "3.0", old);
        run(
            "rpm",
            &[
                &root_arg,
                "-i",
                "--nodeps",
                "--justdb",
                "--ignoreos",
                "--ignorearch",
                &installed,
            ],
        );
        let candidate = rpm(&top, name, "3.0", new);
        std::fs::copy(
            &candidate,
            repo.join(Path::new(&candidate).file_name().unwrap()),
        )
        .unwrap();
    }
    run("createrepo_c", &["-q", repo.to_str().unwrap()]);
    let advisory = sandbox.write("updateinfo.xml", ADVISORY);
    let repodata = repo.join("repodata");
    run(
        "modifyrepo_c",
        &[
            "--mdtype=updateinfo",
            advisory.to_str().unwrap(),
            repodata.to_str().unwrap(),
        ],
    );
    let repos = sandbox.path("repos.d");
    std::fs::create_dir_all(&repos).unwrap();
    let source = format!(
        "[local]\nname=test\nbaseurl=file://{}\nenabled=1\ngpgcheck=0\n",
        repo.display()
    );
    std::fs::write(repos.join("local.repo"), source).unwrap();
    let bin = sandbox.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dnf_args = format!(
        "--installroot={} --setopt=reposdir={} --setopt=cachedir={} --releasever=1 --noplugins",
        root.display(),
        repos.display(),
        sandbox.path("cache").display()
    );
    let wrapper = |name: &str, body: String| {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    wrapper("dnf", format!("exec /usr/bin/dnf {dnf_args} \"$@\""));
    wrapper("rpm", format!("exec /usr/bin/rpm {root_arg} \"$@\""));
    // What dnf-makecache.timer does on the host: fetch the metadata.
    run(bin.join("dnf").to_str().unwrap(), &["makecache"]);
    // Fetched two hours ago: dnf tells the metadata's age from its files' times (and
    // says nothing of an age of 0 s, so a test must not race it).
    let cache = sandbox.path("cache");
    run(
        "find",
        &[
            cache.to_str().unwrap(),
            "-type",
            "f",
            "-exec",
            "touch",
            "-d",
            "2 hours ago",
            "{}",
            "+",
        ],
    );
    bin
}

#[test]
fn dnf_updates_with_security_advisories_and_installed_versions() {
    let sandbox = Sandbox::new();
    let bin = rpm_host(&sandbox);
    let config = sandbox.write(
        "config.toml",
        "[report]\ncpu_sample_ms = 10\nsections = [\"attention\", \"updates\", \"errors\"]\n",
    );
    // An RPM host has no apt: in a mount namespace of its own, apt-config is made
    // /dev/null (not a program), so rreport asks dnf, first on the PATH.
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let hide_apt = "mount --bind /dev/null /usr/bin/apt-config && exec \"$@\"";
    let out = rreport()
        .env("PATH", path)
        .program(
            "unshare",
            [
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                hide_apt,
                "sh",
            ],
        )
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let u = &ctx["updates"];
    assert_eq!(ctx["errors"], serde_json::json!([]), "{ctx}");
    assert_eq!(u["manager"], "dnf");
    // dnf itself, asked here, lists the same packages.
    let (code, listed) = run(
        bin.join("dnf").to_str().unwrap(),
        &["--cacheonly", "-q", "check-update"],
    );
    assert_eq!(code, 100);
    let rows = listed.lines().filter(|l| l.contains(" local")).count();
    assert_eq!((u["total"].as_u64().unwrap(), rows), (2, 2), "{u}");
    assert_eq!(u["security"], 1);
    let packages: Vec<(&str, &str, &str, bool)> = u["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["installed"].as_str().unwrap(),
                p["candidate"].as_str().unwrap(),
                p["security"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        packages,
        [
            ("openssl-lite", "3.0-1", "3.0-2", true),
            ("hello", "3.0-1", "3.0-2", false)
        ]
    );
    let hours = u["lists_age_days"].as_f64().unwrap() * 24.0;
    assert!(
        (2.0..2.1).contains(&hours),
        "metadata fetched 2 h ago: {hours}"
    );
    assert_eq!(u["level"], "careful");
    assert_eq!(
        ctx["attention"][0]["text"],
        "1 security updates pending (2 updates in all)"
    );
}

/// The packages section on an RPM host: what real dnf wrote to dnf.rpm.log when it
/// upgraded one package and removed another, each one change with its versions.
#[test]
fn dnf_history_from_its_rpm_log() {
    let sandbox = Sandbox::new();
    let bin = rpm_host(&sandbox);
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(2);
    let dnf = bin.join("dnf");
    run(dnf.to_str().unwrap(), &["-y", "-q", "upgrade", "hello"]);
    run(dnf.to_str().unwrap(), &["-y", "-q", "remove", "steady"]);
    let log = sandbox.path("root/var/log/dnf.rpm.log");
    let mut s = rreport::collect::Settings::new(
        rreport::zone::Zone::utc(),
        std::time::Duration::from_millis(10),
        std::time::Duration::from_secs(10),
    );
    s.sections =
        rreport::sections::Sections::new(vec![rreport::sections::Section::Packages]).unwrap();
    let missing = sandbox.path("no-dpkg.log");
    s.package_logs = rreport::collect::package_log::logs();
    s.package_logs[0].0 = missing;
    s.package_logs[1].0 = log.clone();
    let now = chrono::Utc::now() + chrono::TimeDelta::seconds(1);
    let mut with_previous = s.clone();
    with_previous.previous.counters = rreport::collect::gather_and_remember(&s, before).1.counters;
    let (readings, _) = rreport::collect::gather_and_remember(&with_previous, now);
    let p = readings.packages.flatten().unwrap();
    assert_eq!(p.log.as_deref(), log.to_str());
    let seen: Vec<(&str, &str, &str, &str)> = p
        .changes
        .iter()
        .map(|c| {
            (
                c.action.as_str(),
                c.package.as_str(),
                c.from.as_str(),
                c.to.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("upgrade", "hello", "3.0-1", "3.0-2"),
            ("remove", "steady", "3.0-1", "<none>")
        ],
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert_eq!((p.installed, p.upgraded, p.removed), (0, 1, 1));
}
