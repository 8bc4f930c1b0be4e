//! Writes what a package ships beside the binary, generated from the clap definition
//! so it can never disagree with `--help`: the man page rreport(1) (clap_mangen, with
//! sections on the config file, the environment, the exit status and the files) and
//! bash, zsh and fish completions (clap_complete). A dev tool, so neither crate is in
//! the binary.
//!
//! `cargo run --example assets -- <dir>` writes `<dir>/rreport.1`,
//! `<dir>/rreport.bash`, `<dir>/_rreport` and `<dir>/rreport.fish`.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

/// The sections clap knows nothing of, in roff.
const MORE: &str = r#".SH CONFIGURATION
The configuration is TOML, read from \fI/etc/rreport/config.toml\fR (or \fB\-c\fR, or
\fBRREPORT_CONFIG\fR); without it, built\-in defaults. \fBrreport \-\-check\fR validates
it and names every mistake as \fIfile:line:col\fR. The commented example in
\fI/usr/share/doc/rreport/config.example.toml\fR lists every setting: \fBschedule\fR
(crontab(5), in \fBtimezone\fR), \fB[smtp]\fR, \fB[report]\fR, \fB[thresholds]\fR,
\fB[[checks]]\fR, \fB[[watch]]\fR, \fB[history]\fR, \fB[journal]\fR,
\fB[[certificates]]\fR, \fB[export]\fR and \fB[digest]\fR. Credentials are never
written in it.
.SH ENVIRONMENT
.TP
.B RREPORT_CONFIG
The config file when \fB\-c\fR is not given.
.TP
.BR RREPORT_SMTP_USERNAME ", " RREPORT_SMTP_PASSWORD
The relay's credentials (both or neither); also read from systemd credentials
\fIsmtp\-username\fR and \fIsmtp\-password\fR. The shipped unit reads them from
\fI/etc/rreport/env\fR (mode 0600).
.TP
.BR RREPORT_PROMETHEUS_USERNAME ", " RREPORT_PROMETHEUS_PASSWORD ", " RREPORT_PROMETHEUS_TOKEN
Basic auth or a bearer token for the fleet digest's Prometheus.
.TP
.B RUST_LOG
A log level (\fBdebug\fR, \fBinfo\fR, ...) instead of the default.
.SH EXIT STATUS
.TP
.B 0
Success.
.TP
.B 1
Anything else (an output file that cannot be written).
.TP
.B 2
A usage error.
.TP
.B 75
The report was not delivered now, or not to every recipient (EX_TEMPFAIL); it is
queued for retry, or in failed/ after a permanent refusal.
.TP
.B 78
A config or template error (EX_CONFIG); the message starts with \fIfile:line:col\fR.
.SH FILES
.TP
.I /etc/rreport/config.toml
The configuration.
.TP
.I /etc/rreport/env
The credentials, as \fIVAR=value\fR lines, mode 0600.
.TP
.I /var/lib/rreport/
The state: the outbox (\fIqueue/\fR, \fIfailed/\fR), what the previous report saw,
and the sample history (\fIhistory.sqlite\fR).
.SH SEE ALSO
crontab(5), systemd.exec(5), journalctl(1), node_exporter(1),
\fI/usr/share/doc/rreport/README.md\fR
"#;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/assets".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let command = rreport::cli::Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    page.extend_from_slice(MORE.as_bytes());
    std::fs::File::create(dir.join("rreport.1"))?.write_all(&page)?;
    for (shell, name) in [
        (Shell::Bash, "rreport.bash"),
        (Shell::Zsh, "_rreport"),
        (Shell::Fish, "rreport.fish"),
    ] {
        let mut out = std::fs::File::create(dir.join(name))?;
        clap_complete::generate(shell, &mut command.clone(), "rreport", &mut out);
    }
    Ok(())
}
