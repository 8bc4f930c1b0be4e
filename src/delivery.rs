//! Delivery from the outbox: one attempt at one queued message, the retry schedule,
//! and when to give up. Sends through `smtp`, records through `outbox`.
//!
//! Only an explicit 5xx is permanent (the message moves to failed/ at once); a
//! refused connection, a timeout, a TLS failure or a 4xx is transient, because
//! losing a report is worse than retrying it. A transient failure older than
//! `max_queue_age` also moves to failed/; nothing is ever deleted undelivered.
//! Recipients are settled one by one: those a server refused with a 5xx get a copy
//! in failed/, those it deferred stay queued, the rest are done.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::{Address, Envelope};

use crate::config::{RetryPolicy, SmtpSettings};
use crate::late;
use crate::outbox::{Entry, Meta, Outbox, OutboxError};
use crate::smtp::{self, Accepted, Refusal, SendError};
use crate::zone::Zone;

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt {
    /// A server took it. `refused` recipients did not: those refused for good have
    /// a copy in `failed_copy`; the deferred ones stay queued until `retry_at`.
    Delivered {
        refused: Vec<Refusal>,
        failed_copy: Option<PathBuf>,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Still queued; tried again at `next`.
    Deferred {
        error: SendError,
        next: DateTime<Utc>,
    },
    /// Given up: moved to failed/ at `path`.
    Failed { error: SendError, path: PathBuf },
}

/// How long to wait for the delivery lock: enough for the holder's flush to try
/// every relay once (a flush stops at a dead relay), with room to spare.
pub fn patience(smtp: &SmtpSettings) -> Duration {
    let relays = u32::try_from(smtp.servers.len()).unwrap_or(u32::MAX);
    smtp.timeout
        .saturating_mul(2)
        .saturating_mul(relays.max(1))
        .saturating_add(Duration::from_secs(10))
}

/// Tries to deliver one queued message now and records the outcome in the outbox.
/// Logs nothing: the caller says what happened, once.
pub fn attempt(
    outbox: &Outbox,
    smtp: &SmtpSettings,
    hello: &str,
    entry: &mut Entry,
    now: DateTime<Utc>,
    keep_going: &dyn Fn() -> bool,
    zone: &Zone,
) -> Result<Attempt, OutboxError> {
    let mut settled = None;
    let late = late_copy(entry, now, zone);
    let sent = {
        let queued = &*entry;
        let bytes = late.as_deref().unwrap_or(&queued.message);
        // Settled between the server's 250 and our QUIT: the window in which a
        // crash would send the message again is as short as it can be.
        let mut on_accepted = |accepted: &Accepted| {
            settled = Some(settle(outbox, queued, accepted, now, &smtp.retry));
        };
        envelope(queued)
            .and_then(|env| smtp::send(smtp, hello, &env, bytes, keep_going, &mut on_accepted))
    };
    match (sent, settled) {
        (Ok(accepted), Some(settled)) => {
            let settled = settled?;
            if let Some(meta) = settled.kept {
                entry.meta = meta;
            }
            Ok(Attempt::Delivered {
                refused: accepted.refused,
                failed_copy: settled.failed_copy,
                retry_at: settled.retry_at,
            })
        }
        (Ok(_), None) => unreachable!("smtp::send calls on_accepted before it returns Ok"),
        (Err(error), _) => defer_or_fail(outbox, smtp, entry, now, error),
    }
}

/// The copy to send of a report more than an hour late: with a note at its top
/// saying so. The queue file keeps the bytes as rendered.
fn late_copy(entry: &Entry, now: DateTime<Utc>, zone: &Zone) -> Option<Vec<u8>> {
    let generated = entry.meta.first_queued;
    if now - generated <= late::AFTER {
        return None;
    }
    let note = late::note(generated, now, zone, entry.meta.last_error.as_deref());
    late::annotate(&entry.message, &note)
}

/// What settling an accepted message left behind.
struct Settled {
    failed_copy: Option<PathBuf>,
    /// The entry's new metadata when deferred recipients keep it queued.
    kept: Option<Meta>,
    retry_at: Option<DateTime<Utc>>,
}

/// The message was taken: a failed/ copy for recipients refused for good, the queue
/// file kept for deferred ones, else removed.
fn settle(
    outbox: &Outbox,
    entry: &Entry,
    accepted: &Accepted,
    now: DateTime<Utc>,
    retry: &RetryPolicy,
) -> Result<Settled, OutboxError> {
    let replies = |refused: &[&Refusal]| {
        let addresses = refused.iter().map(|r| r.address.clone()).collect();
        let replies = refused
            .iter()
            .map(|r| format!("{}: {}", r.address, r.reply))
            .collect::<Vec<_>>();
        (
            addresses,
            format!("{}: {}", accepted.server, replies.join("; ")),
        )
    };
    let (permanent, deferred): (Vec<&Refusal>, Vec<&Refusal>) =
        accepted.refused.iter().partition(|r| r.permanent);
    let failed_copy = match permanent.is_empty() {
        true => None,
        false => {
            let (to, error) = replies(&permanent);
            Some(outbox.fail_copy(entry, to, error)?)
        }
    };
    if deferred.is_empty() {
        outbox.remove(entry)?;
        return Ok(Settled {
            failed_copy,
            kept: None,
            retry_at: None,
        });
    }
    let (to, error) = replies(&deferred);
    let mut kept = Entry {
        path: entry.path.clone(),
        meta: entry.meta.clone(),
        message: Vec::new(),
    };
    kept.meta.to = to;
    kept.meta.attempts += 1;
    kept.meta.last_error = Some(error);
    kept.meta.next_attempt = retry_time(now, kept.meta.attempts, retry);
    outbox.rewrite(&kept, &entry.message)?;
    Ok(Settled {
        failed_copy,
        retry_at: Some(kept.meta.next_attempt),
        kept: Some(kept.meta),
    })
}

/// Not delivered: back off, or give up to failed/ on a 5xx or old age.
fn defer_or_fail(
    outbox: &Outbox,
    smtp: &SmtpSettings,
    entry: &mut Entry,
    now: DateTime<Utc>,
    error: SendError,
) -> Result<Attempt, OutboxError> {
    entry.meta.attempts += 1;
    entry.meta.last_error = Some(error.to_string());
    let too_old = now - entry.meta.first_queued
        >= chrono::TimeDelta::from_std(smtp.retry.max_queue_age).unwrap_or(chrono::TimeDelta::MAX);
    if error.is_permanent() || too_old {
        let path = outbox.fail(entry)?;
        return Ok(Attempt::Failed { error, path });
    }
    let next = retry_time(now, entry.meta.attempts, &smtp.retry);
    entry.meta.next_attempt = next;
    outbox.update(entry)?;
    Ok(Attempt::Deferred { error, next })
}

/// When to try again after `attempts` failures. Checked: a date past what chrono
/// holds must not panic the daemon at every start.
fn retry_time(now: DateTime<Utc>, attempts: u32, retry: &RetryPolicy) -> DateTime<Utc> {
    let wait = backoff(attempts, retry, fastrand::f64());
    chrono::TimeDelta::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now + chrono::TimeDelta::hours(1))
}

/// One attempt at every queued message (only those due at `now` when `only_due`),
/// oldest first, while `keep_going()` says so (a SIGTERM stops it between messages).
/// When the relays cannot be reached, the flush stops there: the rest would only
/// wait out the same timeout (Postfix marks such a destination dead the same way).
/// Returns the earliest time a message left queued is due again, or `Busy` when
/// another process holds the delivery lock: that one is delivering the queue, so
/// this flush has nothing to add and does not wait.
pub fn flush(
    outbox: &Outbox,
    smtp: &SmtpSettings,
    hello: &str,
    now: DateTime<Utc>,
    only_due: bool,
    keep_going: &dyn Fn() -> bool,
    zone: &Zone,
) -> Result<Flushed, OutboxError> {
    let Some(_lock) = outbox.lock(Duration::ZERO)? else {
        return Ok(Flushed::Busy);
    };
    let mut dead_until = None;
    for mut entry in outbox.queued()? {
        if !keep_going() {
            break;
        }
        if only_due && entry.meta.next_attempt > now {
            continue;
        }
        let id = entry.meta.message_id.clone();
        let outcome = attempt(outbox, smtp, hello, &mut entry, now, keep_going, zone)?;
        if let Attempt::Deferred { error, next } = &outcome {
            if error.relay_down() {
                dead_until = Some(*next);
            }
        }
        log_attempt(&id, &entry, outcome);
        if dead_until.is_some() {
            break;
        }
    }
    // Read again: another process may have queued a message meanwhile; and while the
    // relay is down, nothing is due before the relay's own retry time.
    let due = outbox
        .queued_meta()?
        .iter()
        .map(|m| dead_until.map_or(m.next_attempt, |d| m.next_attempt.max(d)))
        .min();
    Ok(Flushed::Done { next_due: due })
}

/// What a flush came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flushed {
    /// The earliest time a message left queued is due again.
    Done { next_due: Option<DateTime<Utc>> },
    /// Another process holds the delivery lock.
    Busy,
}

/// One log line for one attempt from a flush.
fn log_attempt(id: &str, entry: &Entry, outcome: Attempt) {
    let when = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match outcome {
        Attempt::Delivered {
            refused,
            failed_copy,
            retry_at,
        } => {
            tracing::info!(
                "delivered queued {id} (attempt {})",
                entry.meta.attempts + 1
            );
            log_refused(id, &refused, failed_copy.as_deref(), retry_at);
        }
        Attempt::Deferred { error, next } => tracing::warn!(
            "queued {id} not delivered (attempt {}), next try at {}: {error}",
            entry.meta.attempts,
            when(next)
        ),
        Attempt::Failed { error, path } => {
            tracing::error!("gave up on {id}, moved to {}: {error}", path.display())
        }
    }
}

/// The recipients a server did not take, for the log.
pub fn log_refused(
    id: &str,
    refused: &[Refusal],
    failed_copy: Option<&std::path::Path>,
    retry_at: Option<DateTime<Utc>>,
) {
    for r in refused {
        match (r.permanent, failed_copy, retry_at) {
            (true, Some(copy), _) => tracing::error!(
                "{id}: {} refused it for good, copy kept in {}: {}",
                r.address,
                copy.display(),
                r.reply
            ),
            (false, _, Some(t)) => tracing::warn!(
                "{id}: {} deferred it, retried at {}: {}",
                r.address,
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                r.reply
            ),
            _ => tracing::error!("{id}: {} refused it: {}", r.address, r.reply),
        }
    }
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
        let outbox = Outbox::open(&crate::state::StateDir::at(dir.path())).unwrap();
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
            &|| true,
            &Zone::utc(),
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
            &|| true,
            &Zone::utc(),
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
