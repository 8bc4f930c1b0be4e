//! fail2ban's bans since the previous report: from its own log (/var/log/fail2ban.log,
//! Debian's default target: "2026-11-26 04:00:01,123 fail2ban.actions [812]:
//! NOTICE  [sshd] Ban 203.0.113.7", in the host's local time), or from the journal
//! where it logs there (`logtarget = SYSTEMD-JOURNAL`, or stdout under systemd): the
//! same message, without the time, which the entry carries.

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

/// Bans counted as they are read.
#[derive(Debug, Default)]
pub struct Tally {
    count: u64,
    jails: BTreeMap<String, u64>,
    addresses: BTreeMap<String, u64>,
}

impl Tally {
    /// One line of fail2ban's; true when it was a ban.
    pub fn add(&mut self, message: &str) -> bool {
        let Some((jail, address)) = ban(message) else {
            return false;
        };
        self.count += 1;
        *self.jails.entry(jail).or_insert(0) += 1;
        *self.addresses.entry(address).or_insert(0) += 1;
        true
    }

    pub fn bans(&self) -> Bans {
        Bans {
            count: self.count,
            jails: top(&self.jails),
            addresses: top(&self.addresses),
        }
    }
}

/// The bans logged after `since`; None without fail2ban's log.
pub fn bans_since(log: &Path, since: DateTime<Utc>) -> Option<Bans> {
    let tail = |len: u64| len.saturating_sub(TAIL);
    let bytes = crate::regular::read_from(log, TAIL, crate::regular::Links::Refuse, tail).ok()?;
    let mut tally = Tally::default();
    for line in String::from_utf8_lossy(&bytes).lines() {
        let at = line
            .get(..19)
            .and_then(|t| super::host_time(t, "%Y-%m-%d %H:%M:%S"));
        if at.is_some_and(|at| at > since) {
            tally.add(line);
        }
    }
    Some(tally.bans())
}

fn top(counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(10);
    v
}

/// A "[jail] Ban address" message: the jail and the address.
fn ban(message: &str) -> Option<(String, String)> {
    let (before, rest) = message
        .split_once("] Ban ")
        .or_else(|| message.split_once("]  Ban "))?;
    let jail = before.rsplit('[').next()?;
    let address = rest.split_whitespace().next()?;
    Some((super::shown(jail.trim()), super::shown(address)))
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

    /// The journal's message is the same line without its time.
    #[test]
    fn a_journal_message_is_a_ban_too() {
        let mut tally = Tally::default();
        assert!(tally.add("fail2ban.actions        [812]: NOTICE  [sshd] Ban 198.51.100.1"));
        assert!(!tally.add("fail2ban.actions        [812]: NOTICE  [sshd] Unban 198.51.100.1"));
        assert!(!tally.add("fail2ban.filter         [812]: INFO    [sshd] Found 198.51.100.1"));
        assert_eq!(tally.bans().jails, [("sshd".to_string(), 1)]);
    }
}
