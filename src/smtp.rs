//! SMTP delivery of a message's bytes: the relays in order, TLS, AUTH, one RCPT per
//! recipient, DATA. Through lettre's `SmtpConnection` rather than `SmtpTransport`,
//! for two things the transport cannot do: deliver to the recipients a server
//! accepted when it refuses others (the transport fails the whole transaction on one
//! refused RCPT), and let the caller act between the 250 to DATA and the QUIT (the
//! outbox removes its file there, so a lost QUIT reply cannot cause a second copy).
//!
//! `SendError` tells a permanent refusal (an explicit 5xx) from everything else,
//! which is worth retrying, and a relay that could not be reached at all
//! (`Unreachable`: the next message would fare the same) from one that deferred this
//! message. Every text a server sent passes through the `Redactor` before it
//! reaches an error: a relay that echoes the credentials cannot get them logged.

use crate::notify::progress;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials as SmtpCredentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::Error as LettreError;

use crate::config::{Server, SmtpSettings, TlsMode};
use crate::secret::Redactor;

/// Why a message was not delivered. Each names the server.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No relay could be talked to (connection, TLS, timeout, greeting, AUTH): the
    /// next queued message would fare the same, so a flush stops here.
    #[error("{server}: {detail}")]
    Unreachable { server: String, detail: String },
    /// The relay deferred this message (a 4xx to MAIL, RCPT or DATA): try it later.
    #[error("{server}: {detail}")]
    Transient { server: String, detail: String },
    /// The server said no with a 5xx; the same message will be refused again.
    #[error("{server}: {detail}")]
    Permanent { server: String, detail: String },
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent { .. })
    }

    pub fn relay_down(&self) -> bool {
        matches!(self, SendError::Unreachable { .. })
    }
}

/// A recipient the server would not take while it took the message for others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub address: String,
    /// The server's reply, redacted.
    pub reply: String,
    /// A 5xx: this address will not take the message. A 4xx: try it again later.
    pub permanent: bool,
}

/// The server took the message (250 to DATA) for every recipient but `refused`.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub server: String,
    pub refused: Vec<Refusal>,
}

/// Called between the server's 250 to DATA and the QUIT.
pub type OnAccepted<'a> = &'a mut dyn FnMut(&Accepted);

/// Delivers `bytes` to the first relay that takes them. A 5xx from one is final (the
/// next would say the same of the same message); anything else moves on to the
/// next relay, unless `keep_going` says rreport is stopping.
pub fn send(
    smtp: &SmtpSettings,
    hello: &str,
    envelope: &Envelope,
    bytes: &[u8],
    keep_going: &dyn Fn() -> bool,
    on_accepted: OnAccepted,
) -> Result<Accepted, SendError> {
    let redactor = match &smtp.credentials {
        Some(c) => Redactor::new(&c.username, &c.password),
        None => Redactor::none(),
    };
    let mut failures = Vec::new();
    for server in &smtp.servers {
        if !failures.is_empty() && !keep_going() {
            break;
        }
        let session = Session {
            smtp,
            server,
            redactor: &redactor,
        };
        match session.deliver(hello, envelope, bytes, on_accepted) {
            Ok(accepted) => return Ok(accepted),
            Err(e) if e.is_permanent() => return Err(e),
            Err(e) => failures.push(e),
        }
    }
    combine(failures)
}

/// One error for several relays' failures: unreachable only if every one was.
fn combine(mut failures: Vec<SendError>) -> Result<Accepted, SendError> {
    if failures.len() == 1 {
        return Err(failures.remove(0));
    }
    let detail = failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let server = "every relay failed".to_string();
    Err(match failures.iter().all(SendError::relay_down) {
        true => SendError::Unreachable { server, detail },
        false => SendError::Transient { server, detail },
    })
}

/// One relay, for one message.
struct Session<'a> {
    smtp: &'a SmtpSettings,
    server: &'a Server,
    redactor: &'a Redactor,
}

impl Session<'_> {
    fn deliver(
        &self,
        hello: &str,
        envelope: &Envelope,
        bytes: &[u8],
        on_accepted: OnAccepted,
    ) -> Result<Accepted, SendError> {
        let mut conn = self.open(hello)?;
        let result = self.transaction(&mut conn, envelope, bytes);
        match &result {
            Ok(accepted) => {
                on_accepted(accepted);
                // The message is the server's now; a lost reply to QUIT changes nothing.
                let _ = conn.quit();
            }
            Err(_) => conn.abort(),
        }
        result
    }

    /// Connects, says EHLO, starts TLS as configured, authenticates.
    fn open(&self, hello: &str) -> Result<SmtpConnection, SendError> {
        let (smtp, server) = (self.smtp, self.server);
        let tls = match smtp.tls {
            TlsMode::None => None,
            TlsMode::Starttls | TlsMode::Tls => Some(tls_parameters(smtp, server).map_err(
                |detail| SendError::Unreachable {
                    server: server.to_string(),
                    detail,
                },
            )?),
        };
        let hello = client_id(hello);
        let wrapper = tls.as_ref().filter(|_| smtp.tls == TlsMode::Tls);
        let setup = |e: LettreError| self.failure(&e, true);
        let mut conn = SmtpConnection::connect(
            (server.host.as_str(), server.port),
            Some(smtp.timeout),
            &hello,
            wrapper,
            None,
        )
        .map_err(setup)?;
        // Each step is bounded by `timeout_secs`; finishing one is progress (the
        // watchdog's measure, see `Config::longest_step`).
        progress();
        if let (TlsMode::Starttls, Some(params)) = (smtp.tls, &tls) {
            conn.starttls(params, &hello).map_err(setup)?;
            progress();
        }
        if let Some(c) = &smtp.credentials {
            let credentials =
                SmtpCredentials::new(c.username.clone(), c.password.expose().to_string());
            conn.auth(DEFAULT_MECHANISMS, &credentials).map_err(setup)?;
            progress();
        }
        Ok(conn)
    }

    /// MAIL, one RCPT per recipient (a refused one is noted, not fatal), DATA.
    fn transaction(
        &self,
        conn: &mut SmtpConnection,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> Result<Accepted, SendError> {
        let mut params = Vec::new();
        let addresses = envelope.to().iter().chain(envelope.from());
        if addresses.map(AsRef::<str>::as_ref).any(|a| !a.is_ascii()) {
            params.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        conn.command(Mail::new(envelope.from().cloned(), params))
            .map_err(|e| self.failure(&e, false))?;
        progress();
        let mut refused = Vec::new();
        let mut taken = 0;
        for to in envelope.to() {
            match conn.command(Rcpt::new(to.clone(), vec![])) {
                Ok(_) => taken += 1,
                // A reply: this address is refused. No reply: the connection is gone.
                Err(e) if e.status().is_some() => refused.push(Refusal {
                    address: to.to_string(),
                    reply: self.redactor.redact(&e.to_string()),
                    permanent: e.is_permanent(),
                }),
                Err(e) => return Err(self.failure(&e, true)),
            }
            progress();
        }
        if taken == 0 {
            return Err(self.nobody_took_it(&refused));
        }
        conn.command(Data).map_err(|e| self.failure(&e, false))?;
        progress();
        conn.message(bytes).map_err(|e| self.failure(&e, false))?;
        progress();
        Ok(Accepted {
            server: self.server.to_string(),
            refused,
        })
    }

    /// Every recipient refused: permanent only if every refusal was.
    fn nobody_took_it(&self, refused: &[Refusal]) -> SendError {
        let server = self.server.to_string();
        let detail = refused
            .iter()
            .map(|r| format!("{}: {}", r.address, r.reply))
            .collect::<Vec<_>>()
            .join("; ");
        match refused.iter().all(|r| r.permanent) {
            true => SendError::Permanent { server, detail },
            false => SendError::Transient { server, detail },
        }
    }

    /// A lettre error as a `SendError`, redacted, with advice where we have some.
    /// `setup`: it happened before the server could judge this message.
    fn failure(&self, e: &LettreError, setup: bool) -> SendError {
        let server = self.server.to_string();
        let detail = self.redactor.redact(&self.describe(e));
        if e.is_permanent() {
            SendError::Permanent { server, detail }
        } else if setup || e.status().is_none() {
            SendError::Unreachable { server, detail }
        } else {
            SendError::Transient { server, detail }
        }
    }

    /// What went wrong, in words an admin can act on.
    fn describe(&self, e: &LettreError) -> String {
        let (smtp, port) = (self.smtp, self.server.port);
        if timed_out(e) {
            let advice = match (smtp.tls, port) {
                (TlsMode::Starttls | TlsMode::None, 465) => {
                    "; port 465 expects TLS from the first byte: set tls = \"tls\""
                }
                _ => "",
            };
            return format!(
                "no answer within {} s (timeout_secs){advice}",
                smtp.timeout.as_secs()
            );
        }
        let text = e.to_string();
        let advice = if text.contains("InvalidContentType") || text.contains("InvalidMessage") {
            "; this port does not speak TLS from the first byte: try tls = \"starttls\" with port 587"
        } else if text.contains("STARTTLS is not supported") {
            "; the server offers no STARTTLS: for a relay on this host or a trusted network set tls = \"none\""
        } else if text.contains("No compatible authentication mechanism") {
            "; the server offers no AUTH here (many offer it only after STARTTLS): use tls = \"starttls\", or unset RREPORT_SMTP_USERNAME and RREPORT_SMTP_PASSWORD"
        } else {
            ""
        };
        format!("{text}{advice}")
    }
}

/// A read that timed out: io's TimedOut, or WouldBlock ("Resource temporarily
/// unavailable"), which is how a socket read timeout surfaces on Linux.
fn timed_out(e: &LettreError) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        source = err.source();
    }
    false
}

fn tls_parameters(smtp: &SmtpSettings, server: &Server) -> Result<TlsParameters, String> {
    let mut params = TlsParameters::builder(server.host.clone());
    if let Some(pem) = &smtp.ca_pem {
        let ca = Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("smtp.ca_file: {e}"))?;
        params = params.add_root_certificate(ca);
    }
    params.build_rustls().map_err(|e| format!("TLS setup: {e}"))
}

/// The EHLO name: the hostname when it is a plausible domain, else lettre's default,
/// so an odd hostname cannot break the SMTP dialogue.
fn client_id(hostname: &str) -> ClientId {
    let plausible = !hostname.is_empty()
        && hostname.len() <= 253
        && hostname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if plausible {
        ClientId::Domain(hostname.to_string())
    } else {
        ClientId::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_hostnames_do_not_reach_ehlo() {
        assert_eq!(
            client_id("web-1.example.com").to_string(),
            "web-1.example.com"
        );
        assert_eq!(
            client_id("web 1\r\nMAIL FROM:<x>").to_string(),
            ClientId::default().to_string()
        );
        assert_eq!(client_id("").to_string(), ClientId::default().to_string());
    }
}
