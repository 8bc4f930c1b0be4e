//! The daemon: the only loop, and the only code that sleeps, reads signals and retries.
//!
//! It computes the next fire time from the wall clock and sleeps towards it, but
//! never longer than a minute at a time, so a suspend or an NTP step is noticed
//! within a minute. A report that fell due while the machine slept is sent once on
//! wake; because the next fire time is always computed strictly after "now", a
//! clock stepped backwards cannot make it send the same report twice. Between
//! reports it wakes for queued messages whose retry time has come.
//!
//! Signals arrive on a channel from a small thread (signal-hook), so every sleep is
//! also a wait for SIGTERM/SIGINT (stop: what is undelivered stays in the outbox)
//! and SIGHUP (reload the config and templates; keep the old ones if the new are bad).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::delivery::Flushed;
use crate::outbox::Outbox;
use crate::pipeline::Pipeline;

/// The longest single sleep: the bound on noticing a clock jump or a resume.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// What the loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Fire,
    Sleep(Duration),
}

/// Pure: given the time and the due time, act now or sleep how long (at most a minute).
pub fn step(now: DateTime<Utc>, due: DateTime<Utc>) -> Step {
    match (due - now).to_std() {
        Ok(left) if !left.is_zero() => Step::Sleep(left.min(MAX_SLEEP)),
        _ => Step::Fire,
    }
}

enum Signal {
    Stop,
    Reload,
}

/// Builds a fresh pipeline from the config file, for SIGHUP.
/// Its error is only logged (the daemon keeps the old pipeline), so any error will do.
pub type Reload<'a> = &'a dyn Fn() -> anyhow::Result<Pipeline>;

/// Runs until SIGTERM or SIGINT: wait for each fire time, send the report, retry
/// what is queued, repeat.
pub fn run(mut pipeline: Pipeline, outbox: &Outbox, reload: Reload) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let signals = listen(stop.clone())?;
    let keep_going = || !stop.load(Ordering::Relaxed);
    let mut watchdog = Watchdog::from_env();
    let mut retry_at = flush(&pipeline, outbox, false, &keep_going);
    let mut due = next_fire(&pipeline, Utc::now())?;
    notify(&format!(
        "READY=1\nSTATUS=next report at {}",
        local(&pipeline, due)
    ));
    tracing::info!("started; next report at {}", local(&pipeline, due));
    loop {
        // Signals first, so a schedule busier than the reports are slow cannot starve them.
        match signals.try_recv() {
            Ok(Signal::Stop) => return stopping(outbox),
            Ok(Signal::Reload) => {
                due = reloaded(&mut pipeline, reload, due)?;
                continue;
            }
            Err(_) => {}
        }
        let now = Utc::now();
        if step(now, due) == Step::Fire {
            let late = now - due;
            if late > chrono::TimeDelta::minutes(2) {
                tracing::info!(
                    "report due at {} is {} min late (suspend or clock change); sending it now",
                    local(&pipeline, due),
                    late.num_minutes()
                );
            }
            flush(&pipeline, outbox, false, &keep_going);
            // After SIGTERM: no new report, no new relay; what is queued stays queued.
            if keep_going() {
                report(&pipeline, outbox, now, &keep_going);
            }
            if !keep_going() {
                return stopping(outbox);
            }
            retry_at = flush(&pipeline, outbox, true, &keep_going);
            due = next_fire(&pipeline, Utc::now().max(now))?;
            notify(&format!("STATUS=next report at {}", local(&pipeline, due)));
            continue;
        }
        if retry_at.is_some_and(|r| r <= now) {
            retry_at = flush(&pipeline, outbox, true, &keep_going);
            continue;
        }
        let wake = retry_at.map_or(due, |r| r.min(due));
        let Step::Sleep(mut sleep) = step(now, wake) else {
            continue;
        };
        if let Some(w) = &watchdog {
            sleep = sleep.min(w.interval);
        }
        match signals.recv_timeout(sleep) {
            Ok(Signal::Stop) => return stopping(outbox),
            Ok(Signal::Reload) => due = reloaded(&mut pipeline, reload, due)?,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
        if let Some(w) = &mut watchdog {
            w.pet();
        }
    }
}

fn stopping(outbox: &Outbox) -> anyhow::Result<()> {
    notify("STOPPING=1");
    tracing::info!(
        "stopping; undelivered messages stay in {}",
        outbox.dir().display()
    );
    Ok(())
}

/// SIGHUP: a fresh pipeline from the config file, or the old one if the new is bad.
/// Returns the (possibly new) next fire time.
fn reloaded(
    pipeline: &mut Pipeline,
    reload: Reload,
    due: DateTime<Utc>,
) -> anyhow::Result<DateTime<Utc>> {
    notify("RELOADING=1");
    let due = match reload() {
        Ok(fresh) => {
            *pipeline = fresh;
            let due = next_fire(pipeline, Utc::now())?;
            tracing::info!("config reloaded; next report at {}", local(pipeline, due));
            due
        }
        Err(e) => {
            tracing::error!("reload failed, still running on the previous config: {e}");
            due
        }
    };
    notify(&format!(
        "READY=1\nSTATUS=next report at {}",
        local(pipeline, due)
    ));
    Ok(due)
}

/// Sends one new report and logs its outcome in one line, with its subject (which
/// carries the status): the journal alone then tells how the host was.
fn report(pipeline: &Pipeline, outbox: &Outbox, now: DateTime<Utc>, keep_going: &dyn Fn() -> bool) {
    let started = Instant::now();
    let to = pipeline
        .config
        .smtp
        .as_ref()
        .map(|s| {
            s.to.iter()
                .map(|m| m.email.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let ms = || started.elapsed().as_millis();
    match pipeline.send_report(outbox, now, keep_going) {
        Ok(sent) => tracing::info!("report sent to {to} in {} ms: {}", ms(), sent.subject),
        Err(e) => tracing::error!("report to {to} ({} ms): {e}", ms()),
    }
}

/// Flushes the outbox, logging rather than failing: the daemon must keep running.
/// Returns when to flush again.
fn flush(
    pipeline: &Pipeline,
    outbox: &Outbox,
    only_due: bool,
    keep_going: &dyn Fn() -> bool,
) -> Option<DateTime<Utc>> {
    let in_a_minute = || Some(Utc::now() + chrono::TimeDelta::minutes(1));
    match pipeline.flush(outbox, Utc::now(), only_due, keep_going) {
        Ok(Flushed::Done { next_due }) => next_due,
        Ok(Flushed::Busy) => {
            tracing::info!(
                "another rreport is delivering from the outbox; trying again in a minute"
            );
            in_a_minute()
        }
        Err(e) => {
            tracing::error!("cannot flush the outbox: {e}");
            in_a_minute()
        }
    }
}

fn next_fire(pipeline: &Pipeline, after: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let config = &pipeline.config;
    config
        .schedule
        .next_after(after, &config.timezone)
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow::anyhow!("schedule '{}' never fires", config.schedule.as_str()))
}

fn local(pipeline: &Pipeline, t: DateTime<Utc>) -> String {
    t.with_timezone(&pipeline.config.timezone).to_rfc3339()
}

/// SIGTERM/SIGINT and SIGHUP, delivered to the loop as messages. `stop` is also set
/// at once, so a long flush can stop between messages.
fn listen(stop: Arc<AtomicBool>) -> std::io::Result<Receiver<Signal>> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            let message = if signal == SIGHUP {
                Signal::Reload
            } else {
                stop.store(true, Ordering::Relaxed);
                Signal::Stop
            };
            if tx.send(message).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// systemd's watchdog (WatchdogSec= sets WATCHDOG_USEC): pet it at half the interval.
struct Watchdog {
    interval: Duration,
    last: Instant,
}

impl Watchdog {
    fn from_env() -> Option<Watchdog> {
        let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .is_none_or(|pid| pid == std::process::id().to_string());
        (usec > 0 && for_us).then(|| Watchdog {
            interval: Duration::from_micros(usec / 2),
            last: Instant::now(),
        })
    }

    fn pet(&mut self) {
        if self.last.elapsed() >= self.interval / 2 {
            notify("WATCHDOG=1");
            self.last = Instant::now();
        }
    }
}

/// Tells systemd (Type=notify) our state; a no-op outside systemd.
fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send_notify(&path, state) {
        tracing::warn!("sd_notify failed: {e}");
    }
}

fn send_notify(path: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let bytes = path.as_bytes();
    // A leading '@' names a socket in the abstract namespace.
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(std::path::Path::new(path))?,
    };
    UnixDatagram::unbound()?.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, s).unwrap()
    }

    #[test]
    fn sleeps_towards_the_due_time_at_most_a_minute_at_a_time() {
        assert_eq!(
            step(at(7, 0, 0), at(8, 0, 0)),
            Step::Sleep(Duration::from_secs(60))
        );
        assert_eq!(
            step(at(7, 59, 30), at(8, 0, 0)),
            Step::Sleep(Duration::from_secs(30))
        );
    }

    #[test]
    fn fires_when_due_or_overdue() {
        assert_eq!(step(at(8, 0, 0), at(8, 0, 0)), Step::Fire);
        // Woken from a suspend three hours late: fire (once: the caller then moves `due` past now).
        assert_eq!(step(at(11, 0, 0), at(8, 0, 0)), Step::Fire);
    }

    #[test]
    fn a_clock_stepped_back_waits_instead_of_resending() {
        // Fired at 08:00, due is tomorrow 08:00; the clock steps back to 07:59: wait.
        let due = at(8, 0, 0) + chrono::TimeDelta::days(1);
        assert!(matches!(step(at(7, 59, 0), due), Step::Sleep(_)));
    }
}
