//! Delivery from the outbox: one attempt at one queued message, the retry schedule,
//! and when to give up. Sends through `mail`, records through `outbox`.
//!
//! Only an explicit 5xx is permanent (the message moves to failed/ at once); a
//! refused connection, a timeout, a TLS failure or a 4xx is transient, because
//! losing a report is worse than retrying it. A transient failure older than
//! `max_queue_age` also moves to failed/; nothing is ever deleted undelivered.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::{Address, Envelope};

use crate::config::{RetryPolicy, SmtpSettings};
use crate::mail::{self, SendError};
use crate::outbox::{Entry, Outbox, OutboxError};

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt {
    Delivered,
    /// Still queued; tried again at `next`.
    Deferred {
        error: SendError,
        next: DateTime<Utc>,
    },
    /// Given up: moved to failed/ at `path`.
    Failed {
        error: SendError,
        path: PathBuf,
    },
}

/// Tries to deliver one queued message now and records the outcome in the outbox.
/// Logs nothing: the caller says what happened, once.
pub fn attempt(
    outbox: &Outbox,
    smtp: &SmtpSettings,
    hello: &str,
    entry: &mut Entry,
    now: DateTime<Utc>,
) -> Result<Attempt, OutboxError> {
    let error = match envelope(entry).and_then(|env| mail::send(smtp, hello, &env, &entry.message))
    {
        Ok(()) => {
            outbox.remove(entry)?;
            return Ok(Attempt::Delivered);
        }
        Err(e) => e,
    };
    entry.meta.attempts += 1;
    entry.meta.last_error = Some(error.to_string());
    let too_old = now - entry.meta.first_queued
        >= chrono::TimeDelta::from_std(smtp.retry.max_queue_age).unwrap_or(chrono::TimeDelta::MAX);
    if matches!(error, SendError::Permanent { .. }) || too_old {
        let path = outbox.fail(entry)?;
        return Ok(Attempt::Failed { error, path });
    }
    let wait = backoff(entry.meta.attempts, &smtp.retry, fastrand::f64());
    // Checked: a date past what chrono holds must not panic the daemon at every start.
    let next = chrono::TimeDelta::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now + chrono::TimeDelta::hours(1));
    entry.meta.next_attempt = next;
    outbox.update(entry)?;
    Ok(Attempt::Deferred { error, next })
}

/// One attempt at every queued message (only those due at `now` when `only_due`),
/// oldest first, while `keep_going()` says so (a SIGTERM stops it between messages).
/// Returns the earliest time a message left queued is due again.
pub fn flush(
    outbox: &Outbox,
    smtp: &SmtpSettings,
    hello: &str,
    now: DateTime<Utc>,
    only_due: bool,
    keep_going: &dyn Fn() -> bool,
) -> Result<Option<DateTime<Utc>>, OutboxError> {
    let _lock = outbox.lock()?;
    let mut next_due = None;
    for mut entry in outbox.queued()? {
        if (only_due && entry.meta.next_attempt > now) || !keep_going() {
            next_due = earliest(next_due, entry.meta.next_attempt);
            continue;
        }
        let id = entry.meta.message_id.clone();
        match attempt(outbox, smtp, hello, &mut entry, now)? {
            Attempt::Delivered => tracing::info!(
                "delivered queued {id} to {} (attempt {})",
                entry.meta.to.join(", "),
                entry.meta.attempts + 1
            ),
            Attempt::Deferred { error, next } => {
                tracing::warn!(
                    "queued {id} not delivered (attempt {}), next try at {}: {error}",
                    entry.meta.attempts,
                    next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                next_due = earliest(next_due, next);
            }
            Attempt::Failed { error, path } => {
                tracing::error!("gave up on {id}, moved to {}: {error}", path.display())
            }
        }
    }
    Ok(next_due)
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// The wait after `attempts` failures: initial × 2^(attempts−1), capped at max, then
/// spread by ±10 % (`jitter` in 0..1) so many hosts do not retry in lockstep.
pub fn backoff(attempts: u32, policy: &RetryPolicy, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let base = policy
        .initial
        .saturating_mul(1 << doublings)
        .min(policy.max);
    base.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0))
}

/// The SMTP envelope stored with the message.
fn envelope(entry: &Entry) -> Result<Envelope, SendError> {
    let bad = |detail: String| SendError::Permanent {
        server: "outbox".into(),
        detail,
    };
    let parse =
        |a: &String| Address::from_str(a).map_err(|e| bad(format!("stored address '{a}': {e}")));
    let from = entry.meta.from.as_ref().map(parse).transpose()?;
    let to = entry
        .meta
        .to
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(from, to).map_err(|e| bad(format!("stored envelope: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::outbox::new_meta;

    /// SMTP settings for a relay on a loopback port where nothing listens.
    fn unreachable_relay(max_queue_age: &str) -> SmtpSettings {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let text = format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"r@example.com\"\nto = [\"a@example.com\"]\nmax_queue_age = \"{max_queue_age}\"\n"
        );
        Config::parse(&text, "test.toml", &|_| None)
            .unwrap()
            .smtp
            .unwrap()
    }

    #[test]
    fn a_message_older_than_max_queue_age_goes_to_failed_after_its_last_try() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let smtp = unreachable_relay("7d");
        let queued_at = Utc::now();
        let mut entry = outbox
            .enqueue(
                new_meta(
                    "<a@b>",
                    Some("r@example.com".into()),
                    vec!["a@example.com".into()],
                    queued_at,
                ),
                b"Subject: x\r\n\r\nx\r\n".to_vec(),
            )
            .unwrap();

        // Six days later the relay is still down: deferred, kept.
        let outcome = attempt(
            &outbox,
            &smtp,
            "test",
            &mut entry,
            queued_at + chrono::TimeDelta::days(6),
        )
        .unwrap();
        assert!(matches!(outcome, Attempt::Deferred { .. }), "{outcome:?}");
        assert_eq!(outbox.queued().unwrap().len(), 1);

        // Past seven days: one last try, then failed/, never deleted.
        let outcome = attempt(
            &outbox,
            &smtp,
            "test",
            &mut entry,
            queued_at + chrono::TimeDelta::days(8),
        )
        .unwrap();
        let Attempt::Failed { path, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(outbox.queued().unwrap().is_empty());
        let failed = outbox.failed().unwrap();
        assert_eq!((failed.len(), &failed[0].path), (1, &path));
        assert_eq!(failed[0].meta.attempts, 2);
        assert!(failed[0]
            .meta
            .last_error
            .as_deref()
            .unwrap()
            .contains("Connection refused"));
    }

    #[test]
    fn backoff_doubles_from_a_minute_to_an_hour() {
        let policy = RetryPolicy {
            initial: Duration::from_secs(60),
            max: Duration::from_secs(3600),
            max_queue_age: Duration::from_secs(604_800),
        };
        let mins = |attempts| backoff(attempts, &policy, 0.5).as_secs() / 60;
        assert_eq!(
            (1..=8).map(mins).collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 32, 60, 60]
        );
        assert_eq!(mins(u32::MAX), 60);
        assert_eq!(backoff(1, &policy, 0.0), Duration::from_secs(54));
        assert_eq!(backoff(1, &policy, 1.0), Duration::from_secs(66));
    }
}
