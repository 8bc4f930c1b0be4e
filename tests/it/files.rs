//! Watched files through the real binary: a baseline on the first report, then
//! what was created, modified, chmod'ed and deleted under a temp dir, seen by a
//! new process (the manifest lives in state_dir, so restarts lose nothing).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{json, Value};

use crate::support::{plain_relay, rreport};

fn dry_run(config: &Path) -> Value {
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([config])
        .run();
    out.status(0);
    serde_json::from_str(&out.stdout).unwrap()
}

/// A real report (`--once`): sent, so its manifest becomes the next one's baseline.
fn send(config: &Path) {
    rreport()
        .args(["--once", "-c"])
        .args([config])
        .run()
        .status(0);
}

/// The text part of the last message the relay received.
fn last_text(server: &crate::support::SmtpServer) -> String {
    let received = server.received();
    let data = &received.last().expect("a message").data;
    let message = mail_parser::MessageParser::default().parse(data).unwrap();
    message.body_text(0).unwrap().into_owned()
}

fn changes(ctx: &Value) -> Vec<(String, Vec<String>)> {
    ctx["files"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let what = c["what"].as_array().unwrap();
            (
                c["path"].as_str().unwrap().to_string(),
                what.iter()
                    .map(|w| w.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn created_modified_chmod_deleted_across_restarts() {
    let (sandbox, server, config) = plain_relay();
    let tree = sandbox.path("etc");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("hosts"), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(tree.join("sub/app.conf"), "port = 80\n").unwrap();
    std::fs::write(tree.join("old.conf"), "x\n").unwrap();
    std::fs::write(tree.join("editor.swp"), "ignored\n").unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "[[watch]]\npath = \"{}\"\nexclude = [\"*.swp\"]\n",
        tree.display()
    ));
    std::fs::write(&config, text).unwrap();
    let key = tree.display().to_string();

    // The first report records the baseline and lists nothing.
    send(&config);
    let first = last_text(&server);
    assert!(
        first.contains(&format!(
            "FILE CHANGES: baseline recorded for {key} (5 entries)"
        )),
        "{first}"
    );

    std::fs::write(tree.join("new.conf"), "hello\n").unwrap();
    std::fs::write(tree.join("hosts"), "127.0.0.1 localhost web-1\n").unwrap();
    std::fs::set_permissions(
        tree.join("sub/app.conf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::remove_file(tree.join("old.conf")).unwrap();
    std::fs::write(tree.join("editor.swp"), "still ignored\n").unwrap();

    // A new process, reading the manifest the first one left.
    let ctx = dry_run(&config);
    let p = |name: &str| tree.join(name).display().to_string();
    let v = |what: &[&str]| what.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    assert_eq!(
        changes(&ctx),
        [
            (p("hosts"), v(&["modified"])),
            (p("new.conf"), v(&["created"])),
            (p("old.conf"), v(&["deleted"])),
            (p("sub/app.conf"), v(&["mode"])),
        ]
    );
    assert_eq!(ctx["files"]["total"], 4);
    let hosts = &ctx["files"]["changes"][0];
    assert_eq!(hosts["detail"], "20 → 26 bytes");
    assert_eq!(ctx["files"]["changes"][3]["detail"], "mode 0644 → 0600");
    assert_eq!(ctx["files"]["watched"][0]["baseline"], false);

    // A preview does not move the baseline; a sent report does.
    assert_eq!(changes(&dry_run(&config)).len(), 4);
    send(&config);
    let second = last_text(&server);
    for line in [
        format!(
            "  deleted           {} (file, 2 bytes, mode 0644, ",
            p("old.conf")
        ),
        format!(
            "  mode              {} (mode 0644 → 0600)",
            p("sub/app.conf")
        ),
    ] {
        assert!(second.contains(&line), "{line} not in\n{second}");
    }
    let third = dry_run(&config);
    assert_eq!(third["files"]["changes"], json!([]));
    assert_eq!(third["files"]["total"], 0);
}

#[test]
fn a_touch_is_not_a_change_but_an_edit_of_the_same_size_is() {
    let (sandbox, _server, config) = plain_relay();
    let file = sandbox.path("motd");
    std::fs::write(&file, "abc\n").unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("[[watch]]\npath = \"{}\"\n", file.display()));
    std::fs::write(&config, text).unwrap();
    send(&config);

    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(dry_run(&config)["files"]["changes"], json!([]));

    std::fs::write(&file, "xyz\n").unwrap();
    let ctx = dry_run(&config);
    assert_eq!(
        ctx["files"]["changes"][0]["detail"],
        "content changed, same size"
    );
}

#[test]
fn a_missing_watch_is_an_error_not_a_lost_report() {
    let (sandbox, _server, config) = plain_relay();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "[[watch]]\npath = \"{}\"\n",
        sandbox.path("nonexistent").display()
    ));
    std::fs::write(&config, text).unwrap();
    let ctx = dry_run(&config);
    let error = ctx["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["collector"] == "files")
        .unwrap_or_else(|| panic!("{}", ctx["errors"]));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("nonexistent: No such file or directory (os error 2)"),
        "{error}"
    );
    assert!(ctx["files"]["watched"][0]["error"].is_string());
}

#[test]
fn names_that_differ_only_in_invalid_utf8_are_told_apart() {
    // Found by fault injection: keyed by a lossy conversion, "a\xff" and "a\xfe" were
    // one entry, so a change to either could go unseen.
    use std::os::unix::ffi::OsStrExt;
    let (sandbox, _server, config) = plain_relay();
    let tree = sandbox.path("etc");
    std::fs::create_dir_all(&tree).unwrap();
    let name = |b: &[u8]| tree.join(std::ffi::OsStr::from_bytes(b));
    std::fs::write(name(b"a\xff"), "one\n").unwrap();
    std::fs::write(name(b"a\xfe"), "two\n").unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("[[watch]]\npath = \"{}\"\n", tree.display()));
    std::fs::write(&config, text).unwrap();
    send(&config);

    std::fs::write(name(b"a\xfe"), "TWO\n").unwrap();
    let ctx = dry_run(&config);
    let shown = |suffix: &str| format!("{}/a{suffix}", tree.display());
    assert_eq!(
        changes(&ctx),
        [(shown("\\xfe"), vec!["modified".to_string()])]
    );
    assert_eq!(ctx["files"]["watched"][0]["entries"], 3);
}

/// A tmpfs mounted for the length of a test, unmounted when dropped.
struct Mounted(std::path::PathBuf);

impl Mounted {
    fn tmpfs(at: &Path) -> Mounted {
        std::fs::create_dir_all(at).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "rreport-test"])
            .arg(at)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "this test mounts a tmpfs and needs root (CI runs as root)"
        );
        Mounted(at.to_path_buf())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_mount_point_under_a_watch_is_skipped_without_being_touched() {
    // Found by fault injection: the lstat of a dead NFS mount point under a watch
    // blocked, and with it file-change reporting for the whole tree. Mount points come
    // from the mount table now and are never looked at; a tmpfs stands in for NFS.
    let (sandbox, _server, config) = plain_relay();
    let tree = sandbox.path("srv");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("app.conf"), "x\n").unwrap();
    let _mount = Mounted::tmpfs(&tree.join("nfs"));
    std::fs::write(tree.join("nfs/data"), "y\n").unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("[[watch]]\npath = \"{}\"\n", tree.display()));
    std::fs::write(&config, text).unwrap();
    let ctx = dry_run(&config);
    let watched = &ctx["files"]["watched"][0];
    assert_eq!(
        watched["entries"], 2,
        "the tree and app.conf, not the mount: {watched}"
    );
    assert_eq!(
        watched["mounts_skipped"],
        json!([tree.join("nfs").display().to_string()])
    );
}
