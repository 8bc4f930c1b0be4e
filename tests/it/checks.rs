//! The admin's checks through the real binary: a listening socket and a closed
//! port, a command that times out (and its children with it), a process and a
//! pidfile made here, and systemctl as it answers on this machine.

use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::Value;

use crate::support::{closed_port, rreport, Sandbox, PASSWORD};

/// Runs a dry run with only the checks section, and returns the context.
fn report(sandbox: &Sandbox, checks: &str) -> Value {
    let config = format!(
        "state_dir = \"{}\"\n[report]\nsections = [\"attention\", \"checks\"]\n{checks}",
        sandbox.path("state").display()
    );
    let config = sandbox.write("config.toml", &config);
    let out = rreport()
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .env("RREPORT_SMTP_PASSWORD", PASSWORD)
        .run();
    out.status(0).no_secret();
    serde_json::from_str(&out.stdout).unwrap()
}

fn outcome<'a>(ctx: &'a Value, name: &str) -> &'a Value {
    ctx["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {}", ctx["checks"]))
}

#[track_caller]
fn expect(ctx: &Value, name: &str, ok: bool, detail_starts: &str) {
    let c = outcome(ctx, name);
    assert_eq!(c["ok"], ok, "{c}");
    assert!(
        c["detail"].as_str().unwrap().starts_with(detail_starts),
        "{name}: {c}"
    );
}

#[test]
fn tcp_connects_to_a_listener_and_fails_on_a_closed_port() {
    let sandbox = Sandbox::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = closed_port();
    let ctx = report(
        &sandbox,
        &format!(
            "[[checks]]\nname = \"open\"\ntcp = \"127.0.0.1:{open}\"\n\
             [[checks]]\nname = \"closed\"\ntcp = \"localhost:{closed}\"\ntimeout_secs = 2\n"
        ),
    );
    expect(
        &ctx,
        "open",
        true,
        &format!("connected to 127.0.0.1:{open} in "),
    );
    expect(&ctx, "closed", false, "");
    let detail = outcome(&ctx, "closed")["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(":{closed}: Connection refused")),
        "{detail}"
    );
    assert!(outcome(&ctx, "open")["secs"].as_f64().unwrap() < 2.0);
    // A failed check is critical, and says so first.
    assert_eq!(ctx["status"], "critical");
    let first = ctx["attention"][0]["text"].as_str().unwrap();
    assert!(first.starts_with("check closed failed: "), "{first}");
    assert!(
        ctx.get("processes").is_none() && ctx.get("disks").is_none(),
        "collectors of sections not chosen do not run"
    );
}

/// Whether any process has exactly this command line.
fn running(cmdline: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|raw| String::from_utf8_lossy(&raw).replace('\0', " ").trim() == cmdline)
    })
}

#[test]
fn a_command_that_overruns_is_killed_with_its_children() {
    let sandbox = Sandbox::new();
    // The shell starts a child and waits: killing the shell alone would leave it.
    let ctx = report(
        &sandbox,
        "[[checks]]\nname = \"slow\"\ncommand = \"echo starting; sleep 3117 & wait\"\nshell = true\ntimeout_secs = 1\n\
         [[checks]]\nname = \"quick\"\ncommand = [\"true\"]\n",
    );
    expect(&ctx, "slow", false, "killed after its timeout of 1 s");
    assert_eq!(
        outcome(&ctx, "slow")["output"],
        serde_json::json!(["starting"])
    );
    expect(&ctx, "quick", true, "exit status 0");
    // It ran until its timeout (how much longer depends on the machine's load).
    let secs = outcome(&ctx, "slow")["secs"].as_f64().unwrap();
    assert!(secs >= 1.0, "{secs}");
    assert!(
        crate::support::eventually(Duration::from_secs(5), || !running("sleep 3117")),
        "the shell's child outlived the timeout"
    );
}

#[test]
fn a_command_keeps_its_first_lines_and_never_sees_the_credentials() {
    let sandbox = Sandbox::new();
    let ctx = report(
        &sandbox,
        "[[checks]]\nname = \"app\"\ncommand = [\"sh\", \"-c\", \"echo ${RREPORT_SMTP_PASSWORD:-no password here}; seq 1 100 >&2; exit 2\"]\n\
         [[checks]]\nname = \"missing\"\ncommand = [\"/nonexistent/check-app\"]\n",
    );
    expect(&ctx, "app", false, "exit status 2");
    assert_eq!(
        outcome(&ctx, "app")["output"],
        serde_json::json!(["no password here", "1", "2", "3", "4"])
    );
    expect(
        &ctx,
        "missing",
        false,
        "cannot run /nonexistent/check-app: ",
    );
}

#[test]
fn a_command_cannot_read_the_password_from_rreports_own_environ() {
    // Found by fault injection: the check ran as rreport's user, so it could read
    // /proc/<rreport>/environ. As the service does, run as an unprivileged user (root
    // may read any process's environ, so as root the test drops to nobody).
    let sandbox = Sandbox::new();
    let root = nix::unistd::geteuid().is_root();
    let config = sandbox.write(
        "config.toml",
        "[report]\nsections = [\"checks\"]\n\
         [[checks]]\nname = \"peek\"\ncommand = [\"sh\", \"-c\", \"tr '\\\\0' '\\\\n' < /proc/$PPID/environ | grep RREPORT_ || echo unreadable\"]\n\
         [[checks]]\nname = \"parent\"\ncommand = [\"sh\", \"-c\", \"cat /proc/$PPID/comm\"]\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut run = rreport();
    if root {
        run = rreport().program(
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "--"],
        );
    }
    let out = run
        .args(["--once", "--dry-run", "--format", "json", "-c"])
        .args([&config])
        .env("RREPORT_SMTP_USERNAME", "reporter")
        .env("RREPORT_SMTP_PASSWORD", PASSWORD)
        .run();
    out.status(0).no_secret();
    let ctx: Value = serde_json::from_str(&out.stdout).unwrap();
    // The check did look at rreport, not at some other parent.
    assert_eq!(
        outcome(&ctx, "parent")["output"],
        serde_json::json!(["rreport"])
    );
    let peek = outcome(&ctx, "peek")["output"].to_string();
    assert!(
        peek.contains("Permission denied") && peek.ends_with("\"unreadable\"]"),
        "{peek}"
    );
}

fn sleeper(secs: &str) -> Child {
    Command::new("sleep").arg(secs).spawn().unwrap()
}

#[test]
fn processes_and_pidfiles() {
    let sandbox = Sandbox::new();
    let mut child = sleeper("3118");
    let mut gone = sleeper("0");
    gone.wait().unwrap();
    sandbox.write("app.pid", &format!("{}\n", child.id()));
    sandbox.write("gone.pid", &gone.id().to_string());
    sandbox.write("junk.pid", "-1");
    let pidfile = |name: &str| sandbox.path(name).display().to_string();
    let ctx = report(
        &sandbox,
        &format!(
            "[[checks]]\nname = \"sleeper\"\nprocess = \"sleep\"\ncmdline = \"^sleep 3118$\"\nmax = 1\n\
             [[checks]]\nname = \"nothing\"\nprocess = \"no-such-daemon\"\n\
             [[checks]]\nname = \"app\"\npidfile = \"{}\"\n\
             [[checks]]\nname = \"gone\"\npidfile = \"{}\"\n\
             [[checks]]\nname = \"junk\"\npidfile = \"{}\"\n\
             [[checks]]\nname = \"absent\"\npidfile = \"{}\"\n",
            pidfile("app.pid"),
            pidfile("gone.pid"),
            pidfile("junk.pid"),
            pidfile("absent.pid")
        ),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    expect(
        &ctx,
        "sleeper",
        true,
        &format!("1 running (pid {})", child.id()),
    );
    expect(&ctx, "nothing", false, "no process named no-such-daemon");
    expect(
        &ctx,
        "app",
        true,
        &format!("pid {} (sleep) is running", child.id()),
    );
    expect(&ctx, "gone", false, &format!("pid {} from ", gone.id()));
    expect(&ctx, "junk", false, "");
    assert!(outcome(&ctx, "junk")["detail"]
        .as_str()
        .unwrap()
        .ends_with("does not hold a pid: \"-1\""));
    expect(&ctx, "absent", false, "cannot read ");
}

#[test]
fn a_pidfile_that_is_a_fifo_or_dev_zero_fails_the_check_without_blocking_or_reading() {
    // Found by fault injection: a watched service can put these where its pidfile
    // was; reading /dev/zero took the daemon from 5 MB to 3.6 GB in 7 s.
    let sandbox = Sandbox::new();
    let fifo = sandbox.path("fifo.pid");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let zero = sandbox.path("zero.pid");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = sandbox.write("big.pid", &"1".repeat(4096));
    let ctx = report(
        &sandbox,
        &format!(
            "[[checks]]\nname = \"fifo\"\npidfile = \"{}\"\n\
             [[checks]]\nname = \"zero\"\npidfile = \"{}\"\n\
             [[checks]]\nname = \"big\"\npidfile = \"{}\"\n",
            fifo.display(),
            zero.display(),
            big.display()
        ),
    );
    let detail = |name: &str| outcome(&ctx, name)["detail"].as_str().unwrap().to_string();
    assert!(
        detail("fifo").ends_with(": not a regular file but a FIFO"),
        "{}",
        detail("fifo")
    );
    assert!(
        detail("zero").ends_with(": not a regular file but a character device"),
        "{}",
        detail("zero")
    );
    assert!(
        detail("big").ends_with(": larger than 512 bytes"),
        "{}",
        detail("big")
    );
}

#[test]
fn systemd_units_through_systemctl() {
    let sandbox = Sandbox::new();
    // This machine's own systemctl: whether or not systemd runs here, a unit that
    // does not exist is not active.
    let ctx = report(
        &sandbox,
        "[[checks]]\nname = \"nosuch\"\nsystemd = \"rreport-no-such-unit.service\"\n",
    );
    let c = outcome(&ctx, "nosuch");
    assert_eq!(c["ok"], false, "{c}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail == "rreport-no-such-unit.service is inactive"
            || detail.starts_with("systemctl failed: "),
        "{detail}"
    );
}

#[test]
fn checks_run_side_by_side_not_one_after_another() {
    // Each check waits until all three have started: one after another, the first
    // would wait alone until its timeout and fail. No clock is read.
    use rreport::collect::checks::{self, Check, Probe};
    let sandbox = Sandbox::new();
    let dir = sandbox.path("started");
    std::fs::create_dir(&dir).unwrap();
    let rendezvous = |name: &str| Check {
        name: name.into(),
        probe: Probe::Command(vec![
            "sh".into(),
            "-c".into(),
            format!(
                "touch {dir}/{name}; while [ $(ls {dir} | wc -l) -lt 3 ]; do sleep 0.05; done",
                dir = dir.display()
            ),
        ]),
        timeout: Duration::from_secs(20),
    };
    let outcomes = checks::start(&[rendezvous("a"), rendezvous("b"), rendezvous("c")]).finish();
    assert!(outcomes.iter().all(|o| o.ok), "{outcomes:?}");
}
