//! Where the daemon reads the time and waits for it: the system's clock in
//! production; in tests, a clock the test moves, so the daemon's schedule, retries
//! and reloads are tested in an instant instead of by sleeping.
//!
//! A wait measures monotonic time, which stands still while the machine sleeps and
//! does not follow the wall clock when it is set. So the system clock keeps a
//! watcher: a timerfd armed far in the future with TFD_TIMER_CANCEL_ON_SET, which
//! the kernel cancels whenever the wall clock jumps (settimeofday, an NTP step, a
//! resume from suspend), and which then tells the daemon (`Signal::ClockSet`) to
//! measure its due times again. Without it (no timerfd), no wait is longer than a
//! minute, and a jump is noticed within one.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// What the daemon is told from outside while it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT.
    Stop,
    /// SIGHUP.
    Reload,
    /// The wall clock jumped, or the machine woke up: due times are measured again.
    ClockSet,
}

pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
    /// Waits at most `span` for a signal; `None` when the time passed without one.
    fn wait(&self, span: Duration, signals: &Receiver<Signal>) -> Option<Signal>;
}

/// The longest wait when no watcher tells of clock jumps.
const UNWATCHED_WAIT: Duration = Duration::from_secs(60);

/// The real time, and a real wait (on the signal channel, so a signal ends it).
pub struct SystemClock {
    /// Whether a watcher sends `Signal::ClockSet` into the channel waited on.
    watched: bool,
}

impl SystemClock {
    /// The system clock, with a watcher sending to `signals` when one can be started.
    pub fn watching(signals: Sender<Signal>) -> SystemClock {
        let watched = watch(signals)
            .map_err(|e| tracing::warn!("clock jumps are noticed within a minute only: {e}"))
            .is_ok();
        SystemClock { watched }
    }
}

/// Starts the thread that sends `Signal::ClockSet` on each jump of the wall clock.
fn watch(signals: Sender<Signal>) -> std::io::Result<()> {
    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    let timer = TimerFd::new(ClockId::CLOCK_REALTIME, TimerFlags::TFD_CLOEXEC)?;
    // 2200-01-01: never reached; only a jump of the clock ends the wait.
    let never = Expiration::OneShot(TimeSpec::new(7_258_118_400, 0));
    let flags = TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET;
    timer.set(never, flags)?;
    std::thread::Builder::new()
        .name("clock watch".into())
        .spawn(move || {
            // Each jump cancels the timer (its read fails with ECANCELED, which
            // `wait` returns as Ok); arming it again clears that.
            while timer.wait().is_ok() && timer.set(never, flags).is_ok() {
                if signals.send(Signal::ClockSet).is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn wait(&self, span: Duration, signals: &Receiver<Signal>) -> Option<Signal> {
        let span = match self.watched {
            true => span,
            false => span.min(UNWATCHED_WAIT),
        };
        match signals.recv_timeout(span) {
            Ok(signal) => Some(signal),
            Err(RecvTimeoutError::Timeout) => None,
            // No one left to signal: wait out the span all the same, never spin.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(span);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::time::{clock_gettime, clock_settime, ClockId};

    #[test]
    fn a_jump_of_the_wall_clock_ends_the_wait() {
        let (tx, rx) = std::sync::mpsc::channel();
        let clock = SystemClock::watching(tx);
        assert!(clock.watched, "no timerfd watcher");
        // A real set of the clock, a millisecond forward: the kernel cancels the
        // watcher's timer on any set, however small.
        let ahead = clock_gettime(ClockId::CLOCK_REALTIME).unwrap()
            + nix::sys::time::TimeSpec::from_duration(Duration::from_millis(1));
        clock_settime(ClockId::CLOCK_REALTIME, ahead)
            .expect("setting the clock needs CAP_SYS_TIME: the tests run as root");
        // Only the watcher ends this wait early: without it, None after two minutes.
        assert_eq!(
            clock.wait(Duration::from_secs(120), &rx),
            Some(Signal::ClockSet)
        );
    }
}
