//! Whether the system clock is synchronized: chrony's own answer when it runs
//! (`chronyc -c tracking`: the offset too), else systemd's (`timedatectl show`:
//! NTPSynchronized, which is the kernel's flag, so it holds for ntpd as well). Neither
//! answering is a line, not a level: containers keep the host's clock.

use std::time::Duration;

use serde::Serialize;

use super::command;
use super::CollectError;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Clock {
    /// None when nothing could say.
    pub synchronized: Option<bool>,
    /// Who said: "chrony", "systemd".
    pub source: String,
    /// How far off the clock is (seconds; positive: fast), when chrony says.
    pub offset_secs: Option<f64>,
    /// The server it follows, when chrony says.
    pub server: Option<String>,
    /// Whether NTP is turned on at all (timedatectl's NTP), when systemd says.
    pub ntp_enabled: Option<bool>,
    /// Why nothing could say.
    pub unavailable: Option<String>,
}

pub fn collect(timeout: Duration) -> Result<Clock, CollectError> {
    let chrony = ask(&["chronyc", "-c", "-n", "tracking"], timeout)?;
    if let Some(clock) = chrony.as_deref().and_then(chrony_tracking) {
        return Ok(clock);
    }
    let systemd = ask(&["timedatectl", "show"], timeout)?;
    if let Some(clock) = systemd.as_deref().and_then(timedatectl) {
        return Ok(clock);
    }
    let said = [systemd, chrony].into_iter().flatten().find_map(|t| {
        t.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    });
    Ok(Clock {
        unavailable: Some(
            said.unwrap_or_else(|| "neither chronyc nor timedatectl is installed".into()),
        ),
        ..Default::default()
    })
}

/// A program's output; None when it is not installed.
fn ask(argv: &[&str], timeout: Duration) -> Result<Option<String>, CollectError> {
    match command::run_keeping(argv, timeout, 64 * 1024) {
        Ok((done, _)) if done.timed_out => Err(CollectError::new(format!(
            "{}: no answer within {} s",
            argv[0],
            timeout.as_secs()
        ))),
        Ok((_, out)) => Ok(Some(String::from_utf8_lossy(&out).into_owned())),
        Err(_) => Ok(None),
    }
}

/// `chronyc -c tracking`: one CSV line; the 5th field is the offset (seconds, slow
/// positive: chrony reports how far the system clock is *behind*), the last the
/// leap status ("Not synchronised" when it is not).
pub fn chrony_tracking(text: &str) -> Option<Clock> {
    let fields: Vec<&str> = text.lines().next()?.split(',').collect();
    if fields.len() < 14 {
        return None;
    }
    let behind: Option<f64> = fields[4].parse().ok();
    let synchronized = fields[13].trim() != "Not synchronised";
    let server = match fields[1] {
        "" | "127.127.1.1" => None,
        s => Some(s.to_string()),
    };
    Some(Clock {
        synchronized: Some(synchronized),
        source: "chrony".into(),
        offset_secs: behind.map(|b| -b),
        server,
        ..Default::default()
    })
}

/// `timedatectl show`: Key=value lines.
pub fn timedatectl(text: &str) -> Option<Clock> {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim() == "yes")
    };
    let synchronized = value("NTPSynchronized")?;
    Some(Clock {
        synchronized: Some(synchronized),
        source: "systemd".into(),
        ntp_enabled: value("NTP"),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrony_says_whether_and_how_far() {
        // `chronyc -c -n tracking` (chrony 4.3): the clock 12.3 µs slow of NTP time.
        let line = "A9FEA97B,169.254.169.123,4,1795664217.123456789,0.000012345,0.000001234,0.000023456,-12.345,-0.001,0.012,0.000345678,0.000123456,64.2,Normal\n";
        let clock = chrony_tracking(line).unwrap();
        assert_eq!(clock.synchronized, Some(true));
        assert_eq!(clock.server.as_deref(), Some("169.254.169.123"));
        assert_eq!(
            clock.offset_secs,
            Some(-0.000012345),
            "slow is a negative offset"
        );
        let lost = "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,0.000000000,0.000000000,0.0,Not synchronised\n";
        let clock = chrony_tracking(lost).unwrap();
        assert_eq!((clock.synchronized, clock.server), (Some(false), None));
        assert_eq!(chrony_tracking("506 Cannot talk to daemon\n"), None);
    }

    #[test]
    fn systemd_says_whether() {
        let text = crate::collect::fixture("systemd-252/timedatectl-show.txt");
        let clock = timedatectl(&text).unwrap();
        assert_eq!(
            (clock.synchronized, clock.ntp_enabled),
            (Some(false), Some(false))
        );
        assert_eq!(clock.source, "systemd");
        let synced = "Timezone=Europe/Berlin\nNTP=yes\nNTPSynchronized=yes\n";
        assert_eq!(timedatectl(synced).unwrap().synchronized, Some(true));
        assert_eq!(
            timedatectl(
                "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
            ),
            None
        );
    }
}
