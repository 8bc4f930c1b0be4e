//! The daemon: the only loop, and the only code that sleeps.
//!
//! It computes the next fire time from the wall clock and sleeps towards it, but
//! never longer than a minute at a time, so a suspend or an NTP step is noticed
//! within a minute. A report that fell due while the machine slept is sent once on
//! wake; because the next fire time is always computed strictly after "now", a
//! clock stepped backwards cannot make it send the same report twice.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::pipeline::Pipeline;

/// The longest single sleep: the bound on noticing a clock jump or a resume.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// What the loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Fire,
    Sleep(Duration),
}

/// Pure: given the time and the due fire time, fire now or sleep how long.
pub fn step(now: DateTime<Utc>, due: DateTime<Utc>) -> Step {
    match (due - now).to_std() {
        Ok(left) if !left.is_zero() => Step::Sleep(left.min(MAX_SLEEP)),
        _ => Step::Fire,
    }
}

/// Runs forever: wait for each fire time, send the report, repeat.
pub fn run(pipeline: &Pipeline) -> anyhow::Result<()> {
    let config = &pipeline.config;
    let next_after = |t: DateTime<Utc>| {
        config
            .schedule
            .next_after(t, config.timezone)
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow::anyhow!("schedule '{}' never fires", config.schedule.as_str()))
    };
    let mut due = next_after(Utc::now())?;
    tracing::info!(
        "next report at {}",
        due.with_timezone(&config.timezone).to_rfc3339()
    );
    notify(&format!(
        "READY=1\nSTATUS=next report at {}",
        due.with_timezone(&config.timezone).to_rfc3339()
    ));
    loop {
        let now = Utc::now();
        match step(now, due) {
            Step::Sleep(d) => std::thread::sleep(d),
            Step::Fire => {
                let late = now - due;
                if late > chrono::TimeDelta::minutes(2) {
                    tracing::info!("report due at {due} is {} min late (suspend or clock change); sending it now", late.num_minutes());
                }
                pipeline.send_report(now).log();
                due = next_after(Utc::now().max(now))?;
                tracing::debug!(
                    "next report at {}",
                    due.with_timezone(&config.timezone).to_rfc3339()
                );
                notify(&format!(
                    "STATUS=next report at {}",
                    due.with_timezone(&config.timezone).to_rfc3339()
                ));
            }
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
