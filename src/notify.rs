//! systemd's notification socket (Type=notify): READY, STATUS, RELOADING, STOPPING,
//! and the watchdog. A leaf: the daemon arms the watchdog, and any stage of a report
//! or a delivery says `progress()` when it finishes a bounded step.
//!
//! The watchdog is petted where work advances, never by a timer: a daemon stuck
//! anywhere stops petting, and systemd restarts it. Every step between two
//! `progress()` calls is bounded by a timeout of the config (a relay's answer, a
//! collector's deadline), so the watchdog's interval must be longer than the
//! longest of them: when the unit's `WatchdogSec=` is shorter than the config
//! allows, rreport asks systemd for enough (`WATCHDOG_USEC=`) and says so.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The armed watchdog: its interval, and the last pet.
struct Watchdog {
    interval: Duration,
    last: Instant,
}

static WATCHDOG: Mutex<Option<Watchdog>> = Mutex::new(None);

/// Petting more often than this is only datagrams: once a second is plenty.
const PET_EVERY: Duration = Duration::from_secs(1);

/// Beyond the longest bounded step: room for the work between two steps (a render,
/// a day of history read back) on a loaded host.
const MARGIN: Duration = Duration::from_secs(30);

/// Arms the watchdog when systemd set one for this process (`WatchdogSec=`), long
/// enough for `longest_step`. Returns the interval in force, if any.
pub fn arm_watchdog(longest_step: Duration) -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    let for_us = std::env::var("WATCHDOG_PID")
        .ok()
        .is_none_or(|pid| pid == std::process::id().to_string());
    if usec == 0 || !for_us {
        return None;
    }
    let set = Duration::from_micros(usec);
    let interval = needed(set, longest_step);
    if interval > set {
        tracing::info!(
            "WatchdogSec={} s is shorter than the longest step the config allows ({} s, \
             see timeout_secs and collector_timeout_secs); asking systemd for {} s",
            set.as_secs(),
            longest_step.as_secs(),
            interval.as_secs()
        );
        notify(&format!("WATCHDOG_USEC={}", interval.as_micros()));
    }
    let mut armed = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    *armed = Some(Watchdog {
        interval,
        last: Instant::now(),
    });
    drop(armed);
    notify("WATCHDOG=1");
    Some(interval)
}

/// The watchdog interval to run with: the one set, or the longest step and a margin
/// when that is longer.
pub fn needed(set: Duration, longest_step: Duration) -> Duration {
    set.max(longest_step + MARGIN)
}

/// A bounded step is done: pets the watchdog, if armed (at most once a second).
pub fn progress() {
    let mut armed = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    let Some(w) = armed.as_mut() else {
        return;
    };
    if w.last.elapsed() >= PET_EVERY {
        w.last = Instant::now();
        drop(armed);
        notify("WATCHDOG=1");
    }
}

/// How long the daemon may wait before it must say `progress()` again; None when
/// no watchdog is armed.
pub fn watchdog_wait() -> Option<Duration> {
    let armed = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    armed.as_ref().map(|w| w.interval / 2)
}

/// Tells systemd (Type=notify) our state; a no-op outside systemd.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send(&path, state) {
        tracing::warn!("sd_notify failed: {e}");
    }
}

fn send(path: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
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

    #[track_caller]
    fn check(set_secs: u64, longest_secs: u64, expected_secs: u64) {
        let got = needed(
            Duration::from_secs(set_secs),
            Duration::from_secs(longest_secs),
        );
        assert_eq!(got, Duration::from_secs(expected_secs));
    }

    #[test]
    fn the_watchdog_is_never_shorter_than_a_step_and_its_margin() {
        check(180, 90, 180);
        check(10, 90, 120);
        check(120, 90, 120);
        check(10, 3 * 3600, 3 * 3600 + 30);
    }
}
