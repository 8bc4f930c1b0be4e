//! fail2ban's bans since the previous report, from its own log (/var/log/fail2ban.log,
//! Debian's default target): "2026-11-26 04:00:01,123 fail2ban.actions [812]:
//! NOTICE  [sshd] Ban 203.0.113.7", in the host's local time.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The log's last bytes read: weeks of bans.
const TAIL: u64 = 4 << 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Bans {
    pub count: u64,
    /// Bans by jail, and the addresses banned most, with counts.
    pub jails: Vec<(String, u64)>,
    pub addresses: Vec<(String, u64)>,
}

/// The bans logged after `since`; None without fail2ban's log.
pub fn bans_since(log: &Path, since: DateTime<Utc>) -> Option<Bans> {
    let tail = |len: u64| len.saturating_sub(TAIL);
    let bytes = crate::regular::read_from(log, TAIL, crate::regular::Links::Refuse, tail).ok()?;
    let (mut jails, mut addresses) = (BTreeMap::new(), BTreeMap::new());
    let mut count = 0;
    for line in String::from_utf8_lossy(&bytes).lines() {
        let Some((at, jail, address)) = ban(line) else {
            continue;
        };
        if at > since {
            count += 1;
            *jails.entry(jail).or_insert(0) += 1;
            *addresses.entry(address).or_insert(0) += 1;
        }
    }
    Some(Bans {
        count,
        jails: top(jails),
        addresses: top(addresses),
    })
}

fn top(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(10);
    v
}

/// One "Ban" line: when, the jail, the address.
fn ban(line: &str) -> Option<(DateTime<Utc>, String, String)> {
    let stamp = line.get(..19)?;
    let at = super::host_time(stamp, "%Y-%m-%d %H:%M:%S")?;
    let (_, rest) = line
        .split_once("] Ban ")
        .or_else(|| line.split_once("]  Ban "))?;
    let jail = line
        .split_once("] Ban")
        .map(|(j, _)| j)?
        .rsplit('[')
        .next()?;
    let address = rest.split_whitespace().next()?;
    Some((at, super::shown(jail.trim()), super::shown(address)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_after_the_previous_report_by_jail_and_address() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("fail2ban.log");
        let at = |minutes: i64| {
            (chrono::Local::now() - chrono::TimeDelta::minutes(minutes))
                .format("%Y-%m-%d %H:%M:%S,123")
        };
        let text = format!(
            "{} fail2ban.actions        [812]: NOTICE  [sshd] Ban 198.51.100.1\n\
             {} fail2ban.filter         [812]: INFO    [sshd] Found 203.0.113.7 - 2026-11-26 04:00:01\n\
             {} fail2ban.actions        [812]: NOTICE  [sshd] Ban 203.0.113.7\n\
             {} fail2ban.actions        [812]: NOTICE  [nginx-http-auth] Ban 203.0.113.7\n\
             {} fail2ban.actions        [812]: NOTICE  [sshd] Unban 203.0.113.7\n",
            at(120), at(30), at(30), at(20), at(10)
        );
        std::fs::write(&log, text).unwrap();
        let since = Utc::now() - chrono::TimeDelta::minutes(60);
        let bans = bans_since(&log, since).unwrap();
        assert_eq!(bans.count, 2, "{bans:?}");
        assert_eq!(bans.addresses, [("203.0.113.7".to_string(), 2)]);
        assert_eq!(
            bans.jails,
            [("nginx-http-auth".to_string(), 1), ("sshd".to_string(), 1)]
        );
        assert_eq!(bans_since(&dir.path().join("none"), since), None);
    }
}
