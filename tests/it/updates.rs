//! Pending updates against a real apt: a repository built here (dpkg-deb and
//! apt-ftparchive) with a normal and a `-security` suite, a private apt root whose
//! dpkg status says older versions are installed, and apt pointed at it through
//! `APT_CONFIG` — the same `apt-get -s dist-upgrade` rreport runs on a host.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{rreport, Sandbox};

#[track_caller]
fn run(program: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A package `name` at `version` built into `pool`.
fn package(pool: &Path, name: &str, version: &str) {
    let dir = pool.join(format!("{name}-{version}"));
    std::fs::create_dir_all(dir.join("DEBIAN")).unwrap();
    let control = format!(
        "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: test\n"
    );
    std::fs::write(dir.join("DEBIAN/control"), control).unwrap();
    let deb = pool.join(format!("{name}_{version}_all.deb"));
    run(
        "dpkg-deb",
        &[
            "--build",
            "--root-owner-group",
            dir.to_str().unwrap(),
            deb.to_str().unwrap(),
        ],
        &[],
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// One suite of the repository: its packages, Packages index and Release file.
fn suite(repo: &Path, suite: &str, packages: &[(&str, &str)]) {
    let pool = repo.join("pool").join(suite);
    std::fs::create_dir_all(&pool).unwrap();
    for (name, version) in packages {
        package(&pool, name, version);
    }
    let index = repo.join(format!("dists/{suite}/main/binary-all"));
    std::fs::create_dir_all(&index).unwrap();
    let relative = format!("pool/{suite}");
    let mut cmd = Command::new("apt-ftparchive");
    let out = cmd
        .current_dir(repo)
        .args(["packages", &relative])
        .output()
        .unwrap();
    std::fs::write(index.join("Packages"), out.stdout).unwrap();
    let dists = repo.join(format!("dists/{suite}"));
    let release = run(
        "apt-ftparchive",
        &[
            "-o",
            "APT::FTPArchive::Release::Origin=Test",
            "-o",
            "APT::FTPArchive::Release::Label=Test",
            "-o",
            &format!("APT::FTPArchive::Release::Suite={suite}"),
            "-o",
            "APT::FTPArchive::Release::Components=main",
            "-o",
            "APT::FTPArchive::Release::Architectures=all amd64",
            "release",
            dists.to_str().unwrap(),
        ],
        &[],
    );
    std::fs::write(dists.join("Release"), release).unwrap();
}

/// A private apt root on the repository, its lists updated; the APT_CONFIG file.
fn apt_root(sandbox: &Sandbox, installed: &[(&str, &str)]) -> PathBuf {
    let (root, repo) = (sandbox.path("root"), sandbox.path("repo"));
    suite(&repo, "stable", &[("hello", "1.1"), ("quiet", "1.0")]);
    suite(&repo, "stable-security", &[("libsec", "1.1")]);
    for dir in [
        "etc/apt/sources.list.d",
        "etc/apt/preferences.d",
        "etc/apt/apt.conf.d",
        "var/lib/apt/lists/partial",
        "var/lib/dpkg",
        "var/cache/apt/archives/partial",
        "var/log/apt",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let status: String = installed
        .iter()
        .map(|(name, version)| format!("Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: test\n\n"))
        .collect();
    std::fs::write(root.join("var/lib/dpkg/status"), status).unwrap();
    let sources = format!(
        "deb [trusted=yes] file:{repo} stable main\ndeb [trusted=yes] file:{repo} stable-security main\n",
        repo = repo.display()
    );
    std::fs::write(root.join("etc/apt/sources.list"), sources).unwrap();
    let conf = sandbox.path("apt.conf");
    let text = format!(
        "Dir \"{root}/\";\nDir::State::status \"{root}/var/lib/dpkg/status\";\nAPT::Architecture \"amd64\";\nAPT::Architectures {{ \"amd64\"; }};\nDir::Etc::TrustedParts \"/etc/apt/trusted.gpg.d\";\n",
        root = root.display()
    );
    std::fs::write(&conf, text).unwrap();
    run("apt-get", &["update", "-qq"], &[("APT_CONFIG", &conf)]);
    conf
}

fn preview(sandbox: &Sandbox, conf: &Path) -> serde_json::Value {
    // The state directory the daemon would have made; a preview makes none.
    std::fs::create_dir_all(sandbox.path("state")).unwrap();
    let config = sandbox.write(
        "config.toml",
        &format!(
            "state_dir = \"{}\"\n[report]\ncpu_sample_ms = 10\nsections = [\"attention\", \"updates\"]\n",
            sandbox.path("state").display()
        ),
    );
    let out = rreport()
        .env("APT_CONFIG", conf)
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn pending_updates_are_what_apt_would_install_with_security_apart() {
    let sandbox = Sandbox::new();
    let conf = apt_root(
        &sandbox,
        &[("hello", "1.0"), ("libsec", "1.0"), ("quiet", "1.0")],
    );
    let ctx = preview(&sandbox, &conf);
    let u = &ctx["updates"];
    assert_eq!(
        (u["total"].as_u64(), u["security"].as_u64()),
        (Some(2), Some(1)),
        "{u}"
    );
    let first = &u["packages"][0];
    assert_eq!(
        (first["name"].as_str(), first["security"].as_bool()),
        (Some("libsec"), Some(true))
    );
    assert_eq!(
        (first["installed"].as_str(), first["candidate"].as_str()),
        (Some("1.0"), Some("1.1"))
    );
    assert_eq!(u["packages"][1]["name"], "hello");
    assert!(
        u["lists_age_days"].as_f64().unwrap() < 0.1,
        "lists just updated: {u}"
    );
    assert_eq!(u["level"], "careful");
    assert_eq!(
        ctx["attention"][0]["text"],
        "1 security updates pending (2 updates in all)"
    );
    // apt's answer is cached against its files: a second preview reads the cache...
    let cache = sandbox.path("state/updates-cache.json");
    let cached = std::fs::read_to_string(&cache).unwrap();
    assert!(cached.contains("\"hello\""), "{cached}");
    std::fs::write(
        &cache,
        cached.replace("\"hello\"", "\"hello-from-the-cache\""),
    )
    .unwrap();
    let again = preview(&sandbox, &conf);
    assert_eq!(
        again["updates"]["packages"][1]["name"],
        "hello-from-the-cache"
    );
    // ...until dpkg's status changes (libsec upgraded past the candidate: a new size,
    // since apt's own cache would not notice a same-size change within a second).
    let status = sandbox.path("root/var/lib/dpkg/status");
    let before = std::fs::read_to_string(&status).unwrap();
    let text = before.replace(
        "Package: libsec\nStatus: install ok installed\nVersion: 1.0",
        "Package: libsec\nStatus: install ok installed\nVersion: 1.10",
    );
    assert_ne!(text, before);
    std::fs::write(&status, text).unwrap();
    let after = preview(&sandbox, &conf);
    assert_eq!(
        (
            after["updates"]["total"].as_u64(),
            after["updates"]["security"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(after["updates"]["level"], "ok");
}

#[test]
fn without_apt_the_section_says_so_in_one_line_without_an_error() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "config.toml",
        "[report]\ncpu_sample_ms = 10\nsections = [\"updates\", \"errors\"]\n",
    );
    let out = rreport()
        .env("PATH", "/nonexistent")
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .run();
    out.status(0);
    let ctx: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        ctx["updates"]["unavailable"],
        "no apt, dnf or yum on this host"
    );
    assert_eq!(ctx["errors"], serde_json::json!([]));
    assert_eq!(ctx["updates"]["level"], "ok");
}
