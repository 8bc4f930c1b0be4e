//! `--outbox`: what is queued and what failed; `--outbox --drop`: discarding.

use std::io::Write;

use chrono::Utc;

use super::RunError;
use crate::outbox;
use crate::report::filters;

/// `--outbox`: the listing on stdout.
pub(super) fn list(outbox: &outbox::Outbox) -> Result<(), RunError> {
    let listing = listing(outbox, Utc::now()).map_err(anyhow::Error::from)?;
    std::io::stdout()
        .lock()
        .write_all(listing.as_bytes())
        .map_err(anyhow::Error::from)?;
    Ok(())
}

/// `--outbox --drop`: discards what the admin named, under the delivery lock (a
/// message being sent right now must not be removed under the sender's feet).
pub(super) fn drop_messages(outbox: &outbox::Outbox, which: &str) -> Result<(), RunError> {
    let Some(_lock) = outbox
        .lock(std::time::Duration::ZERO)
        .map_err(anyhow::Error::from)?
    else {
        return Err(RunError::Busy(format!(
            "another rreport is delivering from {}; try again when it is done",
            outbox.dir().display()
        )));
    };
    let dropped = outbox.discard(which).map_err(anyhow::Error::from)?;
    if dropped.is_empty() && which != "all-failed" {
        return Err(anyhow::anyhow!(
            "no queued or failed message is named '{which}'; rreport --outbox lists them"
        )
        .into());
    }
    let mut out = std::io::stdout().lock();
    for path in &dropped {
        writeln!(out, "dropped {}", path.display()).map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// `--outbox`: one paragraph per message, queued first, then failed.
fn listing(
    outbox: &outbox::Outbox,
    now: chrono::DateTime<Utc>,
) -> Result<String, outbox::OutboxError> {
    let (queued, failed) = (outbox.queued()?, outbox.failed()?);
    let mut out = String::new();
    for (state, entry) in queued
        .iter()
        .map(|e| ("queued", e))
        .chain(failed.iter().map(|e| ("failed", e)))
    {
        let m = &entry.meta;
        let age = filters::duration((now - m.first_queued).num_seconds().max(0) as u64);
        out += &format!(
            "{state}  {}  age {age}  attempts {}",
            entry.path.display(),
            m.attempts
        );
        if state == "queued" {
            out += &format!(
                "  next try {}",
                m.next_attempt
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        out += &format!("\n        {}  to {}\n", m.message_id, m.to.join(", "));
        if let Some(error) = &m.last_error {
            out += &format!("        last error: {error}\n");
        }
    }
    out += &format!(
        "{} queued in {}, {} failed\n",
        queued.len(),
        outbox.dir().display(),
        failed.len()
    );
    Ok(out)
}
