//! Where the daemon reads the time and waits for it: the system's clock in
//! production; in tests, a clock the test moves, so the daemon's schedule, retries
//! and reloads are tested in an instant instead of by sleeping.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// What the daemon is told from outside while it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT.
    Stop,
    /// SIGHUP.
    Reload,
}

pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
    /// Waits at most `span` for a signal; `None` when the time passed without one.
    fn wait(&self, span: Duration, signals: &Receiver<Signal>) -> Option<Signal>;
}

/// The real time, and a real wait (on the signal channel, so a signal ends it).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn wait(&self, span: Duration, signals: &Receiver<Signal>) -> Option<Signal> {
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
