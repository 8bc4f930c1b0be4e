//! Shared test environment: run the real binary, a test CA, and a real SMTP server
//! (mailin-embedded) on loopback with STARTTLS and AUTH.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};

use mailin_embedded::response::{AUTH_OK, INVALID_CREDENTIALS, OK};
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig};

pub const USER: &str = "reporter";
pub const PASSWORD: &str = "s3cret-Pa55word";

/// The rreport binary with a clean environment: no credentials, no config, no RUST_LOG.
pub struct Rreport {
    cmd: Command,
}

pub fn rreport() -> Rreport {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rreport"));
    for var in [
        "RREPORT_CONFIG",
        "RREPORT_SMTP_USERNAME",
        "RREPORT_SMTP_PASSWORD",
        "RUST_LOG",
        "JOURNAL_STREAM",
        "NOTIFY_SOCKET",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    Rreport { cmd }
}

impl Rreport {
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Runs rreport through `wrapper` (e.g. setpriv to another user), which then
    /// execs it: `wrapper args… /path/to/rreport`, with this builder's environment.
    pub fn program<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(
        self,
        wrapper: &str,
        args: I,
    ) -> Self {
        let mut cmd = Command::new(wrapper);
        cmd.args(args).arg(self.cmd.get_program());
        for (key, value) in self.cmd.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd.stdin(Stdio::null());
        Rreport { cmd }
    }

    pub fn credentials(self, password: &str) -> Self {
        self.env("RREPORT_SMTP_USERNAME", USER)
            .env("RREPORT_SMTP_PASSWORD", password)
    }

    /// Runs it, killing it if it has not finished within `limit` (a bound so that a
    /// hang fails the test instead of stalling the suite; never a timing assertion).
    pub fn run_within(mut self, limit: std::time::Duration) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
        self.cmd
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        let mut child = self.cmd.spawn().expect("run rreport");
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "rreport hung (killed after {limit:?}); stderr:\n{}",
                    std::fs::read_to_string(&err).unwrap_or_default()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        Outcome {
            code: status.code(),
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    /// Starts it in the background, its stderr going to `log`.
    pub fn spawn(mut self, log: PathBuf) -> Daemon {
        self.cmd
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        Daemon {
            child: self.cmd.spawn().unwrap(),
            log,
        }
    }

    pub fn run(mut self) -> Outcome {
        let Output {
            status,
            stdout,
            stderr,
        } = self.cmd.output().expect("run rreport");
        Outcome {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    #[track_caller]
    pub fn status(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit status; stderr:\n{}\nstdout:\n{}",
            self.stderr,
            head(&self.stdout)
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Neither stream contains the test password.
    #[track_caller]
    pub fn no_secret(&self) -> &Self {
        assert!(
            !self.stderr.contains(PASSWORD) && !self.stdout.contains(PASSWORD),
            "password leaked"
        );
        self
    }
}

fn head(s: &str) -> String {
    s.chars().take(2000).collect()
}

/// A temporary directory holding a config file and whatever else a test needs.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SMTP config for this sandbox (its outbox under `state/`).
    pub fn smtp_config(&self, port: u16, tls: &str, ca: Option<&Path>) -> String {
        smtp_config_in(&self.path("state"), port, tls, ca)
    }

    /// The messages queued in this sandbox's outbox.
    pub fn queued(&self) -> Vec<PathBuf> {
        eml_files(&self.path("state/outbox"))
    }

    /// The messages this sandbox's outbox gave up on.
    pub fn failed(&self) -> Vec<PathBuf> {
        eml_files(&self.path("state/failed"))
    }

    /// Writes `name` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// A CA and a certificate for localhost/127.0.0.1 signed by it, as PEM files.
pub struct TestCa {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    pub fn new(dir: &Path) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "rreport test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        TestCa {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("server.pem", leaf.pem()),
            key: write("server.key", leaf_key.serialize_pem()),
        }
    }
}

/// One message as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub helo: String,
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    pub authenticated_as: Option<String>,
}

/// Recipients the server refuses at RCPT: (part of the address, code, text).
type Refusals = Arc<Mutex<Vec<(String, u16, &'static str)>>>;

/// How the test server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// STARTTLS offered, AUTH PLAIN/LOGIN required with USER/PASSWORD.
    TlsAuth,
    /// Plaintext only: no STARTTLS, no AUTH.
    Plain,
}

#[derive(Clone)]
struct Recorder {
    mode: Mode,
    inbox: Arc<Mutex<Vec<Received>>>,
    /// Replies to give at the end of DATA, in order; then 250.
    script: Arc<Mutex<VecDeque<(u16, &'static str)>>>,
    /// Recipients to refuse at RCPT, with the reply.
    refuse: Refusals,
    /// Refuse every AUTH with a 535 that echoes the credentials in every form.
    echo_auth: Arc<std::sync::atomic::AtomicBool>,
    current: Received,
}

impl Handler for Recorder {
    fn helo(&mut self, _ip: std::net::IpAddr, domain: &str) -> Response {
        self.current = Received {
            helo: domain.to_string(),
            ..Received::default()
        };
        OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let refuse = self.refuse.lock().unwrap();
        match refuse
            .iter()
            .find(|(address, _, _)| to.contains(address.as_str()))
        {
            Some((_, code, text)) => Response::custom(*code, text.to_string()),
            None => OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        if self.mode == Mode::TlsAuth && self.current.authenticated_as.is_none() {
            return mailin_embedded::response::AUTHENTICATION_REQUIRED;
        }
        self.current.from = from.to_string();
        self.current.to = to.to_vec();
        self.current.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some((code, text)) = self.script.lock().unwrap().pop_front() {
            return Response::custom(code, text.to_string());
        }
        self.inbox.lock().unwrap().push(self.current.clone());
        OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.auth_login(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        if self.echo_auth.load(std::sync::atomic::Ordering::Relaxed) {
            use base64::Engine;
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            return Response::custom(
                535,
                format!(
                    "5.7.8 no: {password} {user}:{password} {} {}",
                    b64(password),
                    b64(&format!("\0{user}\0{password}"))
                ),
            );
        }
        if user == USER && password == PASSWORD {
            self.current.authenticated_as = Some(user.to_string());
            AUTH_OK
        } else {
            INVALID_CREDENTIALS
        }
    }
}

/// A real SMTP server on 127.0.0.1, in a thread of the test process.
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<(u16, &'static str)>>>,
    refuse: Refusals,
    echo_auth: Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpServer {
    pub fn start(mode: Mode, ca: &TestCa) -> SmtpServer {
        SmtpServer::start_at(mode, ca, 0)
    }

    /// Starts on a given port (0: any free one).
    pub fn start_at(mode: Mode, ca: &TestCa, port: u16) -> SmtpServer {
        static PROVIDER: Once = Once::new();
        PROVIDER.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let refuse = Arc::new(Mutex::new(Vec::new()));
        let echo_auth = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut server = Server::new(Recorder {
            mode,
            inbox: inbox.clone(),
            script: script.clone(),
            refuse: refuse.clone(),
            echo_auth: echo_auth.clone(),
            current: Received::default(),
        });
        server
            .with_name("mx.test")
            .with_tcp_listener(listener)
            .with_num_threads(2);
        if mode == Mode::TlsAuth {
            server
                .with_ssl(SslConfig::SelfSigned {
                    cert_path: ca.cert.display().to_string(),
                    key_path: ca.key.display().to_string(),
                })
                .unwrap()
                .with_auth(AuthMechanism::Plain)
                .with_auth(AuthMechanism::Login);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpServer {
            port,
            inbox,
            script,
            refuse,
            echo_auth,
        }
    }

    /// RCPT TO an address containing `address` gets this reply.
    pub fn refuse_recipient(&self, address: &str, code: u16, text: &'static str) {
        self.refuse
            .lock()
            .unwrap()
            .push((address.to_string(), code, text));
    }

    pub fn clear_refusals(&self) {
        self.refuse.lock().unwrap().clear();
    }

    /// Every AUTH is refused with a 535 that echoes what the client sent.
    pub fn echo_credentials_in_refusal(&self) {
        self.echo_auth
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The next messages get these replies at the end of DATA instead of 250.
    pub fn reply_with(&self, replies: &[(u16, &'static str)]) {
        self.script.lock().unwrap().extend(replies.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }
}

/// A port on loopback where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every section but `updates`: apt's resolver takes seconds of CPU, and each test
/// has a state directory of its own, so none would find apt's answer cached. The
/// updates section has tests of its own, against an apt repository they build.
pub const NO_APT: &str = "sections = [\"attention\", \"host\", \"cpu\", \"memory\", \"filesystems\", \"diskio\", \"network\", \"processes\", \"checks\", \"reboot\", \"units\", \"certificates\", \"users\", \"files\", \"errors\"]\n";

/// The config for sending to `port` on localhost, with the outbox in the sandbox.
pub fn smtp_config_in(state: &Path, port: u16, tls: &str, ca: Option<&Path>) -> String {
    let ca = ca
        .map(|p| format!("ca_file = \"{}\"\n", p.display()))
        .unwrap_or_default();
    format!(
        "schedule = \"*/5 * * * *\"\ntimezone = \"UTC\"\nstate_dir = \"{}\"\n[report]\ncpu_sample_ms = 50\n{NO_APT}\
         [smtp]\nhost = \"localhost\"\nport = {port}\ntls = \"{tls}\"\n{ca}\
         from = \"rreport <rreport@example.com>\"\nto = [\"admin@example.com\", \"Ops Team <ops@example.com>\"]\n\
         timeout_secs = 5\nretry_initial = \"1s\"\nretry_max = \"2s\"\n",
        state.display()
    )
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// A server that accepts TCP connections and never says a word.
pub fn silent_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(8) {
            held.push(conn);
        }
    });
    (port, handle)
}

/// A running daemon whose stderr goes to a file the test can read at any time.
pub struct Daemon {
    pub child: std::process::Child,
    log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, log: PathBuf, notify: Option<&Path>) -> Daemon {
        Daemon::start_with(config, log, notify, &[])
    }

    /// As `start`, with more variables in its environment (systemd's `WATCHDOG_USEC`).
    pub fn start_with(
        config: &Path,
        log: PathBuf,
        notify: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Daemon {
        let mut cmd = rreport().cmd;
        cmd.envs(env.iter().copied());
        cmd.arg("-c")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(socket) = notify {
            cmd.env("NOTIFY_SOCKET", socket);
        }
        Daemon {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Waits up to `limit` for the daemon to exit; its exit code, or None if it did not.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<Option<i32>> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `condition` every 50 ms for up to `limit`; whether it came true.
pub fn eventually(limit: std::time::Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `rreport --once -c config`, in a clean environment.
pub fn once(config: &Path) -> Outcome {
    rreport().args(["--once", "-c"]).args([config]).run()
}

/// `rreport --check -c config`, in a clean environment.
pub fn check(config: &Path) -> Outcome {
    rreport().args(["--check", "-c"]).args([config]).run()
}

/// A sandbox, a relay in `mode`, and a config file sending to it with `tls`,
/// trusting the test CA when `trust_ca`.
pub fn relay(mode: Mode, tls: &str, trust_ca: bool) -> (Sandbox, SmtpServer, PathBuf) {
    let sandbox = Sandbox::new();
    let ca = TestCa::new(sandbox.dir.path());
    let server = SmtpServer::start(mode, &ca);
    let config = sandbox.smtp_config(server.port, tls, trust_ca.then_some(ca.ca.as_path()));
    let config = sandbox.write("config.toml", &config);
    (sandbox, server, config)
}

/// A plaintext relay without AUTH (like Postfix on the same host).
pub fn plain_relay() -> (Sandbox, SmtpServer, PathBuf) {
    relay(Mode::Plain, "none", false)
}

/// The queue metadata of a file in outbox/ or failed/.
pub fn meta_of(path: &Path) -> rreport::outbox::Meta {
    rreport::outbox::parse_entry(&std::fs::read(path).unwrap())
        .unwrap()
        .0
}
