//! The email: a multipart/alternative MIME message, and its delivery over SMTP (lettre,
//! rustls, no OpenSSL).
//!
//! Sends bytes it is given and knows nothing of collectors. `SendError` tells a
//! permanent refusal (an explicit 5xx) from everything else, which is worth retrying:
//! a refused connection, a timeout, a TLS failure, a 4xx. The password goes to lettre
//! and nowhere else; no error here can contain it, because lettre never echoes it.

use std::time::SystemTime;

use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart};
use lettre::transport::smtp::authentication::Credentials as SmtpCredentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

use crate::config::{Server, SmtpSettings, TlsMode};
use crate::report::Rendered;

/// Why a message was not delivered. Both name the server.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: network, TLS, timeout, 4xx.
    #[error("{server}: {detail}")]
    Transient { server: String, detail: String },
    /// The server said no with a 5xx; the same message will be refused again.
    #[error("{server}: {detail}")]
    Permanent { server: String, detail: String },
}

/// The message could not be assembled (an address or header lettre refuses).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the email: {0}")]
pub struct BuildError(#[from] lettre::error::Error);

/// Builds the complete message for one report; returns it with its Message-ID.
pub fn build(
    smtp: &SmtpSettings,
    report: &Rendered,
    date: SystemTime,
) -> Result<(Message, String), BuildError> {
    let to: Mailboxes = smtp.to.iter().cloned().collect();
    let id = message_id(&smtp.from);
    let message = Message::builder()
        .from(smtp.from.clone())
        .mailbox(lettre::message::header::To::from(to))
        .subject(report.subject.clone())
        .date(date)
        .message_id(Some(id.clone()))
        .header(AutoSubmitted)
        .header(XMailer)
        .multipart(MultiPart::alternative_plain_html(
            report.text.clone(),
            report.html.clone(),
        ))?;
    Ok((message, id))
}

/// Delivers the stored bytes of a message to the first relay that takes them.
/// Relays are tried in order; a 5xx from one is final (the next would say the same
/// of the same message), anything else moves on to the next relay.
pub fn send(
    smtp: &SmtpSettings,
    hello: &str,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), SendError> {
    let mut failures = Vec::new();
    for server in &smtp.servers {
        match send_to(smtp, server, hello, envelope, bytes) {
            Ok(()) => return Ok(()),
            Err(e @ SendError::Permanent { .. }) => return Err(e),
            Err(e) => failures.push(e),
        }
    }
    match failures.len() {
        1 => Err(failures.remove(0)),
        _ => Err(SendError::Transient {
            server: "every relay failed".into(),
            detail: failures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

fn send_to(
    smtp: &SmtpSettings,
    server: &Server,
    hello: &str,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), SendError> {
    let transient = |detail: String| SendError::Transient {
        server: server.to_string(),
        detail,
    };
    let tls = match smtp.tls {
        TlsMode::None => Tls::None,
        TlsMode::Starttls => Tls::Required(tls_parameters(smtp, server).map_err(&transient)?),
        TlsMode::Tls => Tls::Wrapper(tls_parameters(smtp, server).map_err(&transient)?),
    };
    let mut builder = SmtpTransport::builder_dangerous(&server.host)
        .port(server.port)
        .tls(tls)
        .timeout(Some(smtp.timeout))
        .hello_name(client_id(hello));
    if let Some(c) = &smtp.credentials {
        builder = builder.credentials(SmtpCredentials::new(
            c.username.clone(),
            c.password.expose().to_string(),
        ));
    }
    match builder.build().send_raw(envelope, bytes) {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendError::Permanent {
            server: server.to_string(),
            detail: e.to_string(),
        }),
        // lettre reports a read timeout as "Resource temporarily unavailable".
        Err(e) if e.is_timeout() => Err(transient(format!(
            "no answer within {} s (timeout_secs)",
            smtp.timeout.as_secs()
        ))),
        Err(e) => Err(transient(e.to_string())),
    }
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

/// A globally unique Message-ID in the sender's domain: time, process and randomness.
fn message_id(from: &Mailbox) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "<rreport.{nanos:x}.{:x}.{:016x}@{}>",
        std::process::id(),
        fastrand::u64(..),
        from.email.domain()
    )
}

/// `Auto-Submitted: auto-generated` (RFC 3834): vacation responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `X-Mailer: rreport/<version>`.
#[derive(Clone)]
struct XMailer;

impl Header for XMailer {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Mailer")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(XMailer)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(
            Self::name(),
            concat!("rreport/", env!("CARGO_PKG_VERSION")).into(),
        )
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

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let from: Mailbox = "r <r@example.com>".parse().unwrap();
        let (a, b) = (message_id(&from), message_id(&from));
        assert_ne!(a, b);
        assert!(
            a.starts_with("<rreport.") && a.ends_with("@example.com>"),
            "{a}"
        );
    }
}
