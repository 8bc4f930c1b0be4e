//! The `network` collector: per interface, bytes and packets received and sent,
//! errors and drops, since boot and since the previous report (/proc/net/dev).
//! The loopback interface, and interfaces that never moved a byte, are left out.

use serde::Serialize;

use super::counters::{self, Previous, Table};
use super::procfs::Procfs;
use super::CollectError;

/// The columns kept from /proc/net/dev, in this order.
const FIELDS: [&str; 8] = [
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
];
/// Their positions among /proc/net/dev's 16 numbers.
const COLUMNS: [usize; 8] = [0, 1, 2, 3, 8, 9, 10, 11];

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// When the counters the deltas start from were taken; null on the first report
    /// and after a reboot.
    pub previous_report: Option<String>,
    pub interval_secs: Option<u64>,
    pub interfaces: Vec<Interface>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Interface {
    pub name: String,
    /// Since boot, by field name (rx_bytes, tx_packets, ...).
    pub total: serde_json::Map<String, serde_json::Value>,
    /// Since the previous report; null when there is none (or the interface is new).
    pub delta: Option<serde_json::Map<String, serde_json::Value>>,
    /// Average bytes per second over that period.
    pub rx_rate: Option<u64>,
    pub tx_rate: Option<u64>,
}

pub fn read() -> Result<Table, CollectError> {
    read_in(&Procfs::default())
}

/// From `net/dev` under `proc`.
pub fn read_in(proc: &Procfs) -> Result<Table, CollectError> {
    Ok(parse(&proc.read("net/dev")?))
}

/// The interfaces of /proc/net/dev (loopback excluded) and their counters.
pub fn parse(text: &str) -> Table {
    text.lines()
        .filter_map(|line| {
            let (name, numbers) = line.split_once(':')?;
            let name = name.trim();
            let values: Vec<u64> = numbers
                .split_whitespace()
                .map(|n| n.parse().ok())
                .collect::<Option<_>>()?;
            let used = values.iter().any(|&v| v > 0);
            (name != "lo" && used && values.len() >= 16).then(|| {
                (
                    name.to_string(),
                    COLUMNS.iter().map(|&c| values[c]).collect(),
                )
            })
        })
        .collect()
}

/// The report section from the current counters and the previous report's.
pub fn report(now: &Table, previous: Option<Previous>, zone: &crate::zone::Zone) -> Network {
    let interfaces = now
        .iter()
        .map(|(name, values)| {
            let delta = counters::since(previous, name, values);
            Interface {
                name: name.clone(),
                total: counters::named(&FIELDS, values),
                rx_rate: delta.as_ref().map(|(d, s)| counters::rate(d[0], *s)),
                tx_rate: delta.as_ref().map(|(d, s)| counters::rate(d[4], *s)),
                delta: delta.map(|(d, _)| counters::named(&FIELDS, &d)),
            }
        })
        .collect();
    let (previous_report, interval_secs) = counters::period(previous, zone);
    Network {
        previous_report,
        interval_secs,
        interfaces,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    const DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 38232850   96728    0    0    0     0          0         0 38232850   96728    0    0    0     0       0          0
  eth0: 1000 10 1 2 0 0 0 0 5000 50 3 4 0 0 0 0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
";

    #[test]
    fn parses_proc_net_dev_without_loopback() {
        let t = parse(DEV);
        assert_eq!(t.keys().collect::<Vec<_>>(), ["eth0"]);
        assert_eq!(t["eth0"], [1000, 10, 1, 2, 5000, 50, 3, 4]);
    }

    #[test]
    fn deltas_and_rates_since_the_previous_report() {
        let before = parse(DEV);
        let now = parse(
            &DEV.replace("eth0: 1000 10", "eth0: 4600 40")
                .replace("5000 50", "9000 90"),
        );
        let taken_at = Utc::now() - chrono::TimeDelta::seconds(60);
        let net = report(
            &now,
            Some(Previous {
                table: &before,
                taken_at,
                seconds: 60.0,
            }),
            &crate::zone::Zone::utc(),
        );
        let eth0 = &net.interfaces[0];
        assert_eq!(eth0.delta.as_ref().unwrap()["rx_bytes"], 3600);
        assert_eq!((eth0.rx_rate, eth0.tx_rate), (Some(60), Some(67)));
        assert_eq!(net.interval_secs, Some(60));
        let first = report(&now, None, &crate::zone::Zone::utc());
        assert!(first.previous_report.is_none() && first.interfaces[0].delta.is_none());
    }
}
