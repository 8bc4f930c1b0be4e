//! `Secret`: a string that never prints itself.
//!
//! The SMTP password lives in one of these from the moment it is read from the
//! environment, so a `{:?}` of the config in a log line or an error cannot leak it.

use std::fmt;

/// Where the SMTP credentials come from. Named here, with the type that holds them,
/// so what must keep them from others (a check's program) need not know the config.
pub const USERNAME_VAR: &str = "RREPORT_SMTP_USERNAME";
pub const PASSWORD_VAR: &str = "RREPORT_SMTP_PASSWORD";

/// A credential. `Debug` and `Display` print `***`; only `expose` gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value itself, for the one place that must hand it to the SMTP client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Removes a password from text a server sent back. A relay may echo what it was
/// given in its 535 reply; that text goes to the log, to errors and into queue
/// files, so every form of the password the SMTP client sent is cut out of it:
/// the password itself, `user:password`, and their AUTH PLAIN and LOGIN base64 forms.
pub struct Redactor {
    /// Longest first, so a longer form is cut before a shorter one inside it.
    needles: Vec<String>,
}

impl Redactor {
    pub fn new(username: &str, password: &Secret) -> Redactor {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let password = password.expose();
        let mut needles = vec![
            password.to_string(),
            format!("{username}:{password}"),
            b64(password),
            b64(&format!("\0{username}\0{password}")),
            b64(&format!("{username}\0{username}\0{password}")),
        ];
        // The base64 forms without their padding, as some servers echo them.
        let unpadded: Vec<String> = needles
            .iter()
            .map(|n| n.trim_end_matches('=').to_string())
            .collect();
        needles.extend(unpadded);
        needles.retain(|n| n.len() >= 3);
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Redactor { needles }
    }

    /// A redactor with nothing to hide (no credentials configured).
    pub fn none() -> Redactor {
        Redactor {
            needles: Vec::new(),
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), "***");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{Redactor, Secret};

    #[test]
    fn a_reply_that_echoes_the_credentials_is_redacted_in_every_form() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let r = Redactor::new("me", &Secret::new("hunter2-long".into()));
        for echoed in [
            "hunter2-long".to_string(),
            "me:hunter2-long".to_string(),
            b64("hunter2-long"),
            b64("\0me\0hunter2-long"),
            b64("\0me\0hunter2-long").trim_end_matches('=').to_string(),
        ] {
            let reply = format!("535 5.7.8 bad credentials {echoed} rejected");
            assert_eq!(
                r.redact(&reply),
                "535 5.7.8 bad credentials *** rejected",
                "{echoed}"
            );
        }
        assert_eq!(Redactor::none().redact("535 me"), "535 me");
    }

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), "hunter2");
    }
}
