//! The email: a multipart/alternative MIME message (lettre's builder), with its
//! Message-ID. Knows nothing of collectors, and nothing of SMTP: `smtp.rs` sends it.

use std::time::SystemTime;

use lettre::message::header::ContentType;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::Message;

use crate::config::SmtpSettings;
use crate::report::Rendered;

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
        .multipart(body(report))?;
    Ok((message, id))
}

/// Text and HTML as alternatives; with images, the HTML and its images as one
/// multipart/related part, each image inline under its Content-ID.
pub(crate) fn body(report: &Rendered) -> MultiPart {
    if report.images.is_empty() {
        return MultiPart::alternative_plain_html(report.text.clone(), report.html.clone());
    }
    let html = MultiPart::related().singlepart(SinglePart::html(report.html.clone()));
    let html = report.images.iter().fold(html, |related, image| {
        let kind = ContentType::parse(&image.content_type)
            .unwrap_or(ContentType::parse("application/octet-stream").expect("a valid type"));
        related
            .singlepart(Attachment::new_inline(image.cid.clone()).body(image.bytes.clone(), kind))
    });
    MultiPart::alternative()
        .singlepart(SinglePart::plain(report.text.clone()))
        .multipart(html)
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
    fn images_go_inline_beside_the_html_under_their_content_ids() {
        let smtp = crate::config::Config::parse(
            "[smtp]\nhost = \"mx\"\nfrom = \"r@corp.lan\"\nto = [\"a@corp.lan\"]\n",
            "config.toml",
            &|_| None,
        )
        .unwrap()
        .smtp
        .unwrap();
        let png = b"\x89PNG\r\n\x1a\n not really".to_vec();
        let report = Rendered {
            subject: "s".into(),
            html: "<img src=\"cid:cpu@rreport\">".into(),
            text: "t".into(),
            images: vec![crate::report::Image {
                cid: "cpu@rreport".into(),
                content_type: "image/png".into(),
                bytes: png.clone(),
            }],
            template_error: None,
        };
        let (message, _) = build(&smtp, &report, SystemTime::now()).unwrap();
        let bytes = message.formatted();
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("multipart/related") && text.contains("Content-ID: <cpu@rreport>"));
        assert_eq!(parsed.body_text(0).as_deref(), Some("t"));
        assert!(parsed.body_html(0).unwrap().contains("cid:cpu@rreport"));
        let image = parsed.attachment(0).expect("the image part");
        assert_eq!(image.contents(), png.as_slice());
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
