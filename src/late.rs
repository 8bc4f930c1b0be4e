//! A report delivered long after it was generated says so at its top: "Generated Tue
//! 24 Nov 08:00, delivered Wed 25 Nov 09:12 (25 h later): …". Otherwise an admin
//! reads yesterday's numbers as today's.
//!
//! The queued bytes stay exactly as rendered; only the copy handed to the relay is
//! annotated. The message is one rreport built (multipart/alternative of a text and
//! an HTML part, the HTML inside a multipart/related with its charts), so its parts
//! are found by their own boundaries and decoded by their own headers, and the
//! message is built again as `mail.rs` builds it. Anything unexpected leaves the message as it is: a late report without
//! a note beats no report.

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};

use crate::report::{Image, Rendered};
use crate::zone::Zone;

/// How late a report must be to carry the note.
pub const AFTER: TimeDelta = TimeDelta::hours(1);

/// The note: when the report was generated and delivered, and why it was late.
pub fn note(
    generated: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: &Zone,
    why: Option<&str>,
) -> String {
    let at = |t: DateTime<Utc>| {
        t.with_timezone(zone)
            .format("%a %-d %b %H:%M %:z")
            .to_string()
    };
    let late = now - generated;
    let late = match late.num_hours() {
        h if h >= 1 => format!("{h} h {} min", late.num_minutes() % 60),
        _ => format!("{} min", late.num_minutes()),
    };
    let why = why.map_or(String::new(), |w| format!(" The last delivery error: {w}"));
    format!(
        "This report was generated {} and delivered {}, {late} later, after the mail relay could not take it.{why}",
        at(generated),
        at(now)
    )
}

/// The message with `note` at the top of both parts; None when it is not the shape
/// rreport builds (a text and an HTML part, the HTML maybe in a multipart/related
/// with its images).
pub fn annotate(message: &[u8], note: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(message).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut report = Rendered {
        subject: String::new(),
        html: String::new(),
        text: String::new(),
        images: Vec::new(),
        template_error: None,
    };
    read_parts(head, body, &mut report)?;
    if report.text.is_empty() || report.html.is_empty() {
        return None;
    }
    report.text = format!("{note}\n\n{}", report.text);
    report.html = with_html_note(&report.html, note);
    let mut out = without_content_headers(head).into_bytes();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&crate::mail::body(&report).formatted());
    Some(out)
}

/// The text, the HTML and the images of a multipart body into `report`.
fn read_parts(head: &str, body: &str, report: &mut Rendered) -> Option<()> {
    let boundary = boundary(head)?;
    for part in parts(body, &boundary)? {
        let (headers, content) = part.split_once("\r\n\r\n")?;
        let kind = header(headers, "content-type")?.to_ascii_lowercase();
        if kind.starts_with("multipart/related") {
            read_parts(headers, content, report)?;
        } else if kind.starts_with("text/plain") {
            report.text = text_of(&decode(headers, content)?)?;
        } else if kind.starts_with("text/html") {
            report.html = text_of(&decode(headers, content)?)?;
        } else if let Some(cid) = header(headers, "content-id") {
            report.images.push(Image {
                cid: cid.trim_matches(['<', '>']).to_string(),
                content_type: kind.split(';').next()?.trim().to_string(),
                bytes: decode(headers, content)?,
            });
        }
    }
    Some(())
}

/// The value of a (possibly folded) header, unfolded.
fn header(head: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        match (&mut value, line.starts_with([' ', '\t'])) {
            (Some(v), true) => v.push_str(line),
            (Some(_), false) => break,
            // The continuation of another header (a long Subject is folded).
            (None, true) => {}
            (None, false) => {
                let (key, rest) = line.split_once(':')?;
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim().to_string());
                }
            }
        }
    }
    value
}

fn boundary(head: &str) -> Option<String> {
    let content_type = header(head, "content-type")?;
    let at = content_type.find("boundary=")? + "boundary=".len();
    let rest = &content_type[at..];
    let value = rest.split(';').next()?.trim().trim_matches('"');
    (!value.is_empty()).then(|| value.to_string())
}

/// The parts between `--boundary` lines, up to `--boundary--`.
fn parts<'a>(body: &'a str, boundary: &str) -> Option<Vec<&'a str>> {
    let delimiter = format!("--{boundary}");
    let end = body.find(&format!("{delimiter}--"))?;
    let parts = body[..end]
        .split(&delimiter)
        .skip(1)
        .map(|p| p.trim_start_matches("\r\n").trim_end_matches("\r\n"))
        .collect();
    Some(parts)
}

fn decode(headers: &str, content: &str) -> Option<Vec<u8>> {
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or_else(|| "7bit".into())
        .to_ascii_lowercase();
    match encoding.as_str() {
        "7bit" | "8bit" | "binary" => Some(content.as_bytes().to_vec()),
        "quoted-printable" => {
            quoted_printable::decode(content, quoted_printable::ParseMode::Robust).ok()
        }
        "base64" => {
            let compact: String = content.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()
        }
        _ => None,
    }
}

/// A decoded text part, with the line ends the builder will add back.
fn text_of(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec())
        .ok()
        .map(|s| s.replace("\r\n", "\n"))
}

/// The note as a paragraph right after `<body …>` (or first, without one).
fn with_html_note(html: &str, note: &str) -> String {
    let escaped = note
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let paragraph = format!(
        "<p style=\"margin:0;padding:10px 12px;background:#fffbeb;color:#78350f;border-bottom:2px solid #b45309;font-family:sans-serif;font-size:14px\">{escaped}</p>"
    );
    let at = html
        .to_ascii_lowercase()
        .find("<body")
        .and_then(|start| html[start..].find('>').map(|end| start + end + 1))
        .unwrap_or(0);
    format!("{}{paragraph}{}", &html[..at], &html[at..])
}

/// The top-level headers without those of the old body; the new multipart brings its own.
fn without_content_headers(head: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if !skipping {
                out.push(line);
            }
            continue;
        }
        let name = line.split(':').next().unwrap_or_default();
        skipping = name.eq_ignore_ascii_case("content-type")
            || name.eq_ignore_ascii_case("content-transfer-encoding");
        if !skipping {
            out.push(line);
        }
    }
    out.join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::MultiPart;

    fn message(text: &str, html: &str) -> Vec<u8> {
        let multipart = MultiPart::alternative_plain_html(text.to_string(), html.to_string());
        let mut out = b"From: r@corp.lan\r\nSubject: [OK] web-1\r\nMessage-ID: <a@corp.lan>\r\nMIME-Version: 1.0\r\n".to_vec();
        out.extend_from_slice(&multipart.formatted());
        out
    }

    #[test]
    fn both_parts_get_the_note_and_the_headers_stay() {
        let long_html = format!(
            "<html><body style=\"x\">{}</body></html>",
            "é =".repeat(200)
        );
        let original = message("web-1: OK\nall fine\n", &long_html);
        let annotated = annotate(&original, "Late <by> 2 h").unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(&annotated)
            .unwrap();
        assert_eq!(parsed.message_id(), Some("a@corp.lan"));
        assert_eq!(parsed.subject(), Some("[OK] web-1"));
        let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert!(
            text.starts_with("Late <by> 2 h\n\nweb-1: OK\nall fine"),
            "{text:?}"
        );
        let html = parsed.body_html(0).unwrap();
        assert!(
            html.starts_with("<html><body style=\"x\"><p style="),
            "{html}"
        );
        assert!(html.contains("Late &lt;by&gt; 2 h</p>é =é ="));
    }

    #[test]
    fn a_folded_subject_does_not_hide_the_body() {
        // Found in a test run: a long subject is folded onto a line without a colon.
        let mut original = b"Subject: [CAREFUL] vm: CPU is 50.0% busy now (a short sample: no previous\r\n report to average over)\r\n".to_vec();
        original.extend_from_slice(&message("vm: CAREFUL\n", "<body>x</body>"));
        let annotated = annotate(&original, "Late").expect("annotated");
        assert!(
            annotated.starts_with(&original[..100]),
            "the headers stay as they were"
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(&annotated)
            .unwrap();
        assert!(parsed.body_text(0).unwrap().starts_with("Late"));
    }

    #[test]
    fn a_message_of_another_shape_is_left_alone() {
        assert_eq!(annotate(b"Subject: x\r\n\r\nbody\r\n", "late"), None);
        assert_eq!(annotate(b"\xff\xfe", "late"), None);
    }

    #[test]
    fn the_note_says_when_in_the_configured_zone() {
        let generated = "2026-11-24T07:00:00Z".parse().unwrap();
        let now = "2026-11-25T08:12:00Z".parse().unwrap();
        let zone = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(
            note(generated, now, &zone, Some("mx:587: Connection refused")),
            "This report was generated Tue 24 Nov 08:00 +01:00 and delivered Wed 25 Nov 09:12 +01:00, 25 h 12 min later, after the mail relay could not take it. The last delivery error: mx:587: Connection refused"
        );
    }

    #[test]
    fn a_report_with_charts_keeps_them_and_gets_the_note() {
        let report = Rendered {
            subject: String::new(),
            html: "<html><body><img src=\"cid:chart0.1@rreport\"></body></html>".into(),
            text: "web-1: OK\n".into(),
            images: vec![Image {
                cid: "chart0.1@rreport".into(),
                content_type: "image/png".into(),
                bytes: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255],
            }],
            template_error: None,
        };
        let mut original =
            b"From: r@corp.lan\r\nSubject: [OK] web-1\r\nMIME-Version: 1.0\r\n".to_vec();
        original.extend_from_slice(&crate::mail::body(&report).formatted());
        let annotated = annotate(&original, "Late by 2 h").expect("the shape rreport builds");
        let parsed = mail_parser::MessageParser::default()
            .parse(&annotated)
            .unwrap();
        assert!(parsed.body_text(0).unwrap().starts_with("Late by 2 h"));
        let html = parsed.body_html(0).unwrap();
        assert!(
            html.contains("Late by 2 h</p><img src=\"cid:chart0.1@rreport\">"),
            "{html}"
        );
        let image = parsed.parts.iter().find(|p| {
            use mail_parser::MimeHeaders;
            p.content_id() == Some("chart0.1@rreport")
        });
        assert_eq!(
            image.unwrap().contents(),
            [0x89, b'P', b'N', b'G', 0, 1, 2, 255]
        );
    }
}
