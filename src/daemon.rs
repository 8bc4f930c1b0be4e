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
use std::time::Instant;

use chrono::{DateTime, Utc};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::agenda::{Agenda, Next};
use crate::clock::{Clock, Signal, SystemClock};
use crate::collect::procfs::Procfs;
use crate::delivery::Flushed;
use crate::history::{Sampler, Store};
use crate::notify::{self, notify};
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
    // Asked between the bounded steps of long work (each relay, each message): the
    // place that shows the daemon is advancing, so it is where the watchdog is petted.
    let keep_going = || {
        notify::progress();
        !stop.load(Ordering::Relaxed)
    };
    let mut daemon = Daemon::new(pipeline, outbox, clock, &keep_going);
    daemon.start()?;
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
                wait(clock, signals, span)
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
    span: std::time::Duration,
) -> Option<Signal> {
    let span = notify::watchdog_wait().map_or(span, |w| span.min(w));
    let signal = clock.wait(span, signals);
    notify::progress();
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
    /// The first retry is the start's flush, of every queued message, due or not.
    first_flush: bool,
    /// The fire time missed while rreport was not running, which the next report
    /// stands in for (planned at the start, sent in the loop).
    catch_up: Option<DateTime<Utc>>,
}

impl<'a> Daemon<'a> {
    fn new(
        pipeline: Pipeline,
        outbox: &'a Outbox,
        clock: &'a dyn Clock,
        keep_going: &'a dyn Fn() -> bool,
    ) -> Daemon<'a> {
        let agenda = Agenda {
            report: None,
            digest: None,
            retry: None,
            sample: None,
        };
        Daemon {
            pipeline,
            outbox,
            clock,
            keep_going,
            agenda,
            history: None,
            first_flush: true,
            catch_up: None,
        }
    }

    /// The report that is due: the queue first, then the report, then the next fire
    /// time. False after SIGTERM: no new report, no new relay; what is queued stays.
    fn report_due(&mut self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let due = self.agenda.report.unwrap_or(now);
        let late = now - due;
        let missed = self.catch_up.take();
        if let Some(due) = missed {
            tracing::info!(
                "the report due at {} was missed (rreport was not running); sending it now",
                self.local(due)
            );
        } else if late > chrono::TimeDelta::minutes(2) {
            tracing::info!(
                "report due at {} is {} min late (suspend or clock change); sending it now",
                self.local(due),
                late.num_minutes()
            );
        }
        self.first_flush = false;
        self.flush(false);
        if (self.keep_going)() {
            self.report(now, missed);
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
            Next::Retry => {
                let only_due = !std::mem::take(&mut self.first_flush);
                self.agenda.retry = self.flush(only_due)
            }
            Next::Sample => self.sample(),
            Next::Wait(_) => {}
        }
        Ok(true)
    }

    /// The history opened and the work planned: the queue's flush now, a missed
    /// report next, then the schedule's; READY, then the first sample. Nothing that
    /// talks to a relay runs before READY: a relay that never answers must not keep
    /// the service from starting (systemd would kill it at TimeoutStartSec= and
    /// start it again, for ever, with no report made and no sample taken).
    fn start(&mut self) -> anyhow::Result<()> {
        notify::arm_watchdog(self.pipeline.config.longest_step());
        self.open_history();
        let now = self.clock.now();
        self.agenda.retry = Some(now);
        self.catch_up = self.missed(now);
        self.agenda.report = match self.catch_up {
            Some(due) => Some(due),
            None => self.next_fire(now)?,
        };
        self.agenda.digest = self.next_digest(now);
        let status = self.status();
        notify(&format!("READY=1\nSTATUS={status}"));
        tracing::info!("started; {status}");
        if self.history.is_some() {
            self.sample();
        }
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
                notify::arm_watchdog(self.pipeline.config.longest_step());
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
