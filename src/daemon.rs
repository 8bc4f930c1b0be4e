//! The daemon: the only loop, and the only code that waits, reads signals and retries.
//!
//! Its `agenda` holds the due times (the next report, the outbox's next retry) and
//! says what is next; it waits on its `clock` towards the earlier, and wakes early
//! when the clock says the wall clock jumped (a suspend, an NTP step): between
//! events it does not wake at all. The clock is the system's in production and one
//! the test moves in tests. A report that fell due while the machine slept is sent once on
//! wake; because the next fire time is always computed strictly after "now", a
//! clock stepped backwards cannot make it send the same report twice. Between
//! reports it wakes for queued messages whose retry time has come.
//!
//! Signals arrive on a channel from a small thread (signal-hook), so every sleep is
//! also a wait for SIGTERM/SIGINT (stop: what is undelivered stays in the outbox)
//! and SIGHUP (reload the config and templates; keep the old ones if the new are bad).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::agenda::{Agenda, Next};
use crate::clock::{Clock, Signal, SystemClock};
use crate::collect::procfs::Procfs;
use crate::delivery::Flushed;
use crate::history::{Sampler, Store};
use crate::outbox::Outbox;
use crate::pipeline::Pipeline;

/// Builds a fresh pipeline from the config file, for SIGHUP.
/// Its error is only logged (the daemon keeps the old pipeline), so any error will do.
pub type Reload<'a> = &'a dyn Fn() -> anyhow::Result<Pipeline>;

/// Runs until SIGTERM or SIGINT: wait for each fire time, send the report, retry
/// what is queued, repeat. On the system's clock, with real signals.
pub fn run(pipeline: Pipeline, outbox: &Outbox, reload: Reload) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, signals) = mpsc::channel();
    listen(stop.clone(), tx.clone())?;
    let clock = SystemClock::watching(tx);
    run_on(pipeline, outbox, reload, &clock, &signals, &stop)
}

/// The daemon on the given clock and signals. `stop` is set by whoever sends
/// `Signal::Stop`, so a long flush can stop between messages.
pub fn run_on(
    pipeline: Pipeline,
    outbox: &Outbox,
    reload: Reload,
    clock: &dyn Clock,
    signals: &Receiver<Signal>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let keep_going = || !stop.load(Ordering::Relaxed);
    let mut daemon = Daemon {
        pipeline,
        outbox,
        clock,
        keep_going: &keep_going,
        agenda: Agenda {
            report: None,
            digest: None,
            retry: None,
            sample: None,
        },
        history: None,
    };
    daemon.start()?;
    let mut watchdog = Watchdog::from_env();
    // Whether work was done since the last wait (the start compiled the templates).
    let mut worked = true;
    loop {
        // Signals first, so a schedule busier than the reports are slow cannot starve them.
        let pending = signals.try_recv().ok();
        let signal = match daemon.agenda.next(clock.now()) {
            _ if pending.is_some() => pending,
            Next::Wait(span) => {
                // The wait may last a day: what the work before it left free in the
                // heap goes back to the system first.
                if std::mem::take(&mut worked) {
                    give_back_free_memory();
                }
                wait(clock, signals, &mut watchdog, span)
            }
            next => {
                worked = true;
                if !daemon.work(next)? {
                    return stopping(outbox);
                }
                None
            }
        };
        match signal {
            Some(Signal::Stop) => return stopping(outbox),
            Some(Signal::Reload) => {
                worked = true;
                daemon.reloaded(reload)?
            }
            Some(Signal::ClockSet) => {
                tracing::debug!("the clock was set; due times measured again")
            }
            None => {}
        }
    }
}

/// Waits `span` (shorter when the watchdog wants a ping sooner) or until a signal.
fn wait(
    clock: &dyn Clock,
    signals: &Receiver<Signal>,
    watchdog: &mut Option<Watchdog>,
    span: std::time::Duration,
) -> Option<Signal> {
    let span = watchdog.as_ref().map_or(span, |w| span.min(w.interval));
    let signal = clock.wait(span, signals);
    if let Some(w) = watchdog {
        w.pet();
    }
    signal
}

/// The daemon's state between two turns of its loop.
struct Daemon<'a> {
    pipeline: Pipeline,
    outbox: &'a Outbox,
    clock: &'a dyn Clock,
    keep_going: &'a dyn Fn() -> bool,
    agenda: Agenda,
    /// The sampler and the store of the history; `None` without a state directory,
    /// or while the store cannot be opened (a report never waits for history).
    history: Option<(Sampler, Store)>,
}

impl Daemon<'_> {
    /// The report that is due: the queue first, then the report, then the next fire
    /// time. False after SIGTERM: no new report, no new relay; what is queued stays.
    fn report_due(&mut self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let due = self.agenda.report.unwrap_or(now);
        let late = now - due;
        if late > chrono::TimeDelta::minutes(2) {
            tracing::info!(
                "report due at {} is {} min late (suspend or clock change); sending it now",
                self.local(due),
                late.num_minutes()
            );
        }
        self.flush(false);
        if (self.keep_going)() {
            self.report(now, None);
        }
        if !(self.keep_going)() {
            return Ok(false);
        }
        self.agenda.retry = self.flush(true);
        // Strictly after now: a clock stepped back cannot send the same report twice.
        self.agenda.report = self.next_fire(self.clock.now().max(now))?;
        notify(&format!("STATUS={}", self.status()));
        Ok(true)
    }

    /// The fleet digest that is due, then the next one planned.
    fn digest_due(&mut self) {
        let now = self.clock.now();
        let started = Instant::now();
        match self.pipeline.send_digest(self.outbox, now, self.keep_going) {
            Ok(sent) => {
                let ms = started.elapsed().as_millis();
                tracing::info!("digest sent in {ms} ms: {}", sent.subject)
            }
            Err(e) => tracing::error!("digest: {e}"),
        }
        self.agenda.retry = self.flush(true);
        // Strictly after now, as for the report.
        self.agenda.digest = self.next_digest(self.clock.now().max(now));
    }

    /// What the daemon waits for next, for systemd's status line and the log.
    fn status(&self) -> String {
        let report = match self.agenda.report {
            Some(t) => format!("next report at {}", self.local(t)),
            None => "no reports (schedule = \"off\")".to_string(),
        };
        match self.agenda.digest {
            Some(t) => format!("{report}, next digest at {}", self.local(t)),
            None => report,
        }
    }

    /// Does what is due; false when rreport is stopping instead.
    fn work(&mut self, next: Next) -> anyhow::Result<bool> {
        match next {
            Next::Report => return self.report_due(),
            Next::Digest => self.digest_due(),
            Next::Retry => self.agenda.retry = self.flush(true),
            Next::Sample => self.sample(),
            Next::Wait(_) => {}
        }
        Ok(true)
    }

    /// The history opened, the queue flushed, a missed report sent, the first report
    /// planned; READY.
    fn start(&mut self) -> anyhow::Result<()> {
        self.open_history();
        self.agenda.retry = self.flush(false);
        let now = self.clock.now();
        if let Some(due) = self.missed(now).filter(|_| (self.keep_going)()) {
            tracing::info!(
                "the report due at {} was missed (rreport was not running); sending it now",
                self.local(due)
            );
            self.report(now, Some(due));
            self.agenda.retry = self.flush(true);
        }
        self.agenda.report = self.next_fire(self.clock.now())?;
        self.agenda.digest = self.next_digest(self.clock.now());
        let status = self.status();
        notify(&format!("READY=1\nSTATUS={status}"));
        tracing::info!("started; {status}");
        Ok(())
    }

    /// The fire time missed while the daemon was not running (the host was off, the
    /// service stopped): the latest one after the previous report and not after
    /// `now`. One, however many were missed: a catch-up, never a burst. None when
    /// there was never a report (a new install sends nothing until its first time).
    fn missed(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let state = self.pipeline.state_dir.as_ref()?;
        let last = crate::previous::load(state, false).counters?.taken_at;
        let mut missed = None;
        let mut fire = self.next_fire(last).ok()??;
        // A minutely schedule down for two months is 90,000 fire times; enough.
        for _ in 0..100_000 {
            if fire > now {
                break;
            }
            missed = Some(fire);
            fire = self.next_fire(fire).ok()??;
        }
        missed
    }

    /// Opens the sample history in the state directory and plans the first sample.
    fn open_history(&mut self) {
        let Some(state) = &self.pipeline.state_dir else {
            return;
        };
        let now = self.clock.now();
        match Store::open(&state.history(), now) {
            Ok((store, _moved)) => {
                let filesystems = self.pipeline.config.report.filesystems.clone();
                let sampler = Sampler::new(Procfs::default(), filesystems);
                self.history = Some((sampler, store));
                self.agenda.sample = Some(now);
            }
            Err(e) => tracing::error!("no history this run: {e}"),
        }
    }

    /// Takes one sample into the history and plans the next; the metrics for
    /// node_exporter are written again with the outbox as it is now.
    fn sample(&mut self) {
        self.pipeline.export_again(self.outbox);
        let now = self.clock.now();
        let interval = self.pipeline.config.history.sample_interval;
        self.agenda.sample = chrono::TimeDelta::from_std(interval).ok().map(|d| now + d);
        let days = self.pipeline.config.history.days;
        if let Some((sampler, store)) = &mut self.history {
            let sample = sampler.take(now);
            if let Err(e) = store.add(&sample) {
                tracing::warn!("cannot keep a sample: {e}");
            }
            // Once an hour is enough to keep the retention and the averages.
            if now.timestamp() % 3600 < interval.as_secs() as i64 {
                if let Err(e) = store.maintain(now, days) {
                    tracing::warn!("cannot thin out old samples: {e}");
                }
            }
        }
    }

    /// SIGHUP: a fresh pipeline from the config file, or the old one if the new is bad.
    fn reloaded(&mut self, reload: Reload) -> anyhow::Result<()> {
        notify("RELOADING=1");
        match reload() {
            Ok(fresh) => {
                self.pipeline = fresh;
                self.agenda.report = self.next_fire(self.clock.now())?;
                self.agenda.digest = self.next_digest(self.clock.now());
                tracing::info!("config reloaded; {}", self.status());
            }
            Err(e) => tracing::error!("reload failed, still running on the previous config: {e}"),
        }
        notify(&format!("READY=1\nSTATUS={}", self.status()));
        Ok(())
    }

    /// Sends one new report and logs its outcome in one line, with its subject (which
    /// carries the status): the journal alone then tells how the host was.
    fn report(&self, now: DateTime<Utc>, missed: Option<DateTime<Utc>>) {
        let started = Instant::now();
        let smtp = self.pipeline.config.smtp.as_ref();
        let to = smtp
            .map(|s| {
                s.to.iter()
                    .map(|m| m.email.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let ms = || started.elapsed().as_millis();
        match self
            .pipeline
            .send_report(self.outbox, now, missed, self.keep_going)
        {
            Ok(sent) => tracing::info!("report sent to {to} in {} ms: {}", ms(), sent.subject),
            Err(e) => tracing::error!("report to {to} ({} ms): {e}", ms()),
        }
    }

    /// Flushes the outbox, logging rather than failing: the daemon must keep running.
    /// Returns when to flush again.
    fn flush(&self, only_due: bool) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        let in_a_minute = Some(now + chrono::TimeDelta::minutes(1));
        match self
            .pipeline
            .flush(self.outbox, now, only_due, self.keep_going)
        {
            Ok(Flushed::Done { next_due }) => next_due,
            Ok(Flushed::Busy) => {
                tracing::info!(
                    "another rreport is delivering from the outbox; trying again in a minute"
                );
                in_a_minute
            }
            Err(e) => {
                tracing::error!("cannot flush the outbox: {e}");
                in_a_minute
            }
        }
    }

    /// The report's next fire time after `after`; None with `schedule = "off"`.
    fn next_fire(&self, after: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
        let config = &self.pipeline.config;
        let Some(schedule) = &config.schedule else {
            return Ok(None);
        };
        let next = schedule.next_after(after, &config.timezone);
        let next =
            next.ok_or_else(|| anyhow::anyhow!("schedule '{}' never fires", schedule.as_str()))?;
        Ok(Some(next.with_timezone(&Utc)))
    }

    /// The digest's next fire time, where `[digest]` has a schedule (checked to fire).
    fn next_digest(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let config = &self.pipeline.config;
        let schedule = config.digest.as_ref()?.schedule.as_ref()?;
        let next = schedule.next_after(after, &config.timezone)?;
        Some(next.with_timezone(&Utc))
    }

    fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.pipeline.config.timezone).to_rfc3339()
    }
}

/// A report (a day of history read back, its charts drawn, the message built) leaves
/// a megabyte and more free inside the heap, which glibc keeps for the next one;
/// the daemon would then sleep most of a day at that size. Trimming hands it back,
/// before each wait that follows work (a sample, a retry, the start's compiling).
#[allow(unsafe_code)]
fn give_back_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own free lists,
    // under its own locks; it is safe to call at any time, from any thread.
    unsafe {
        libc::malloc_trim(0);
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

/// SIGTERM/SIGINT and SIGHUP, delivered to the loop as messages. `stop` is also set
/// at once, so a long flush can stop between messages.
fn listen(stop: Arc<AtomicBool>, tx: mpsc::Sender<Signal>) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
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
    Ok(())
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
