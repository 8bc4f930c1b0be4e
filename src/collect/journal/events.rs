//! The events a report names one by one: OOM kills (the kernel's lines), logins and
//! failed logins (sshd), sudo and its failures, fail2ban's bans. Recognized by the words the programs
//! log (OpenSSH 9, sudo 1.9, Linux 6); every value taken from a message is made safe
//! by `entry::shown` before it is kept, and a user name an attacker typed is only
//! ever shown as text.

use std::collections::BTreeMap;

use serde::Serialize;

use super::entry::Entry;

/// Kills, logins and sudo uses listed; the counts cover them all.
pub const LISTED: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kill {
    #[serde(skip)]
    pub time_us: i64,
    pub time: String,
    pub pid: u64,
    pub process: String,
    /// Resident memory when killed.
    pub rss_bytes: u64,
    /// The unit (or cgroup) it ran in, from the kernel's `oom-kill:` line.
    pub unit: Option<String>,
    /// The unit is one a `[[checks]]` entry watches.
    pub checked: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Login {
    #[serde(skip)]
    pub time_us: i64,
    pub time: String,
    pub user: String,
    pub from: String,
    /// "password", "publickey", "keyboard-interactive/pam".
    pub method: String,
    /// Not seen in a successful login before (kept in the state directory).
    pub new_address: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Failed {
    pub count: u64,
    /// Of them, for user names that do not exist.
    pub invalid_users: u64,
    /// The addresses and the user names tried most, with counts.
    pub sources: Vec<(String, u64)>,
    pub users: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sudo {
    pub user: String,
    pub command: String,
    pub count: u64,
    /// For a failure: "3 incorrect password attempts", "user NOT in sudoers".
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Logins {
    /// The login records (wtmp) since the previous report: console, ssh, su -l.
    pub records: Vec<crate::collect::users::Session>,
    /// fail2ban's bans since the previous report, where fail2ban logs.
    pub bans: Option<super::Bans>,
    /// The latest successful logins, and how many there were in all.
    pub accepted: Vec<Login>,
    pub accepted_total: u64,
    pub failed: Failed,
    pub sudo: Vec<Sudo>,
    pub sudo_failures: Vec<Sudo>,
}

/// The events seen while the journal streams by.
#[derive(Default)]
pub struct Events {
    pub kills: Vec<Kill>,
    /// The last `oom-kill:` line's cgroup, for the kill line that follows it.
    memcg: Option<String>,
    pub accepted: Vec<Login>,
    accepted_total: u64,
    failed: u64,
    invalid: u64,
    sources: BTreeMap<String, u64>,
    users: BTreeMap<String, u64>,
    sudo: BTreeMap<(String, String, Option<String>), u64>,
    /// fail2ban's bans, where it logs to the journal.
    bans: Option<super::fail2ban::Tally>,
    /// Kernel lines left in the OOM killer's dump that is being read, if one is.
    dump_left: u16,
}

/// The kernel's report of one OOM kill (the task, its call trace, the memory and
/// the tasks tables) is a few dozen lines; a dump whose kill line never comes is
/// over after this many all the same.
const DUMP_LINES: u16 = 400;

impl Events {
    /// Reads one entry; true when it is a line of the OOM killer's dump, which is
    /// the kill's detail and counted as the kill, not as a journal warning each
    /// (the kill line itself is not part of the dump: it is the event).
    pub fn add(&mut self, e: &Entry) -> bool {
        if e.kernel && self.in_dump(&e.message) {
            return true;
        }
        match e.source.as_str() {
            "kernel" => self.kernel(e),
            s if s.starts_with("ssh") || s == "sshd" || s == "sshd-session" => {
                self.sshd(&e.message, e.time_us)
            }
            s if s == "sudo" || s.starts_with("sudo") => self.sudo(&e.message),
            s if s.starts_with("fail2ban") => {
                self.bans
                    .get_or_insert_with(Default::default)
                    .add(&e.message);
            }
            _ => {}
        }
        false
    }

    /// Whether this kernel line belongs to an OOM dump: from "invoked oom-killer"
    /// up to, not including, the line that names the kill (or the end of the dump).
    fn in_dump(&mut self, m: &str) -> bool {
        if m.contains("invoked oom-killer:") {
            self.dump_left = DUMP_LINES;
            return true;
        }
        if self.dump_left == 0 || m.contains("Killed process ") || m.contains("out of memory") {
            self.dump_left = 0;
            return false;
        }
        self.dump_left -= 1;
        // The cgroup of the kill is on this line; read it too.
        !m.starts_with("oom-kill:")
    }

    fn kernel(&mut self, e: &Entry) {
        let m = &e.message;
        if let Some(rest) = m.strip_prefix("oom-kill:") {
            self.memcg = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("task_memcg="))
                .map(unit_of);
            return;
        }
        let Some(rest) = m.split_once("Killed process ").map(|(_, r)| r) else {
            return;
        };
        if !m.contains("out of memory") && !m.contains("Out of memory") {
            return;
        }
        let pid = rest
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let process = rest
            .split_once('(')
            .and_then(|(_, r)| r.split_once(')'))
            .map_or("", |(p, _)| p);
        let rss_kb: u64 = ["anon-rss:", "file-rss:", "shmem-rss:"]
            .iter()
            .filter_map(|k| {
                m.split_once(k)
                    .and_then(|(_, r)| r.split("kB").next())
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .sum();
        if self.kills.len() < 1000 {
            self.kills.push(Kill {
                time_us: e.time_us,
                pid,
                process: process.to_string(),
                rss_bytes: rss_kb * 1024,
                unit: self.memcg.take(),
                ..Default::default()
            });
        }
    }

    fn sshd(&mut self, m: &str, time_us: i64) {
        let words: Vec<&str> = m.split_whitespace().collect();
        match words.as_slice() {
            ["Accepted", method, "for", user, "from", from, "port", ..] => {
                self.accepted_total += 1;
                // The latest are the ones listed: keep a window of them.
                if self.accepted.len() >= 4 * LISTED {
                    self.accepted.drain(..2 * LISTED);
                }
                self.accepted.push(Login {
                    time_us,
                    user: user.to_string(),
                    from: from.to_string(),
                    method: method.to_string(),
                    ..Default::default()
                });
            }
            ["Failed", _, "for", "invalid", "user", user, "from", from, ..] => {
                self.failure(user, from, true)
            }
            ["Failed", _, "for", user, "from", from, ..] => self.failure(user, from, false),
            _ => {}
        }
    }

    fn failure(&mut self, user: &str, from: &str, invalid: bool) {
        self.failed += 1;
        self.invalid += u64::from(invalid);
        // Bounded: a scan from a botnet is ten thousand addresses.
        if self.sources.len() < 10_000 || self.sources.contains_key(from) {
            *self.sources.entry(from.to_string()).or_default() += 1;
        }
        if self.users.len() < 10_000 || self.users.contains_key(user) {
            *self.users.entry(user.to_string()).or_default() += 1;
        }
    }

    /// "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
    /// and failures: "alice : 3 incorrect password attempts ; TTY=… ; COMMAND=…".
    fn sudo(&mut self, m: &str) {
        let Some((user, rest)) = m.split_once(" : ") else {
            return;
        };
        let fields: Vec<&str> = rest.split(" ; ").collect();
        let Some(command) = fields.iter().find_map(|f| f.strip_prefix("COMMAND=")) else {
            return;
        };
        let failure = fields
            .first()
            .filter(|f| !f.contains('='))
            .map(|f| f.to_string());
        if self.sudo.len() < 10_000 {
            *self
                .sudo
                .entry((user.trim().to_string(), command.to_string(), failure))
                .or_default() += 1;
        }
    }

    /// The logins section: counts sorted most first, lists cut to `LISTED`.
    pub fn logins(&self) -> Logins {
        let top = |m: &BTreeMap<String, u64>| {
            let mut v: Vec<(String, u64)> = m.iter().map(|(k, n)| (k.clone(), *n)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(10);
            v
        };
        let (mut sudo, mut sudo_failures) = (Vec::new(), Vec::new());
        for ((user, command, failure), count) in &self.sudo {
            let s = Sudo {
                user: user.clone(),
                command: command.clone(),
                count: *count,
                failure: failure.clone(),
            };
            match failure {
                Some(_) => sudo_failures.push(s),
                None => sudo.push(s),
            }
        }
        for list in [&mut sudo, &mut sudo_failures] {
            list.sort_by(|a, b| b.count.cmp(&a.count).then(a.user.cmp(&b.user)));
            list.truncate(LISTED);
        }
        Logins {
            records: Vec::new(),
            bans: self.bans.as_ref().map(|t| t.bans()),
            accepted: self
                .accepted
                .iter()
                .rev()
                .take(LISTED)
                .rev()
                .cloned()
                .collect(),
            accepted_total: self.accepted_total,
            failed: Failed {
                count: self.failed,
                invalid_users: self.invalid,
                sources: top(&self.sources),
                users: top(&self.users),
            },
            sudo,
            sudo_failures,
        }
    }
}

/// "/system.slice/mysql.service" → "mysql.service"; a cgroup without a unit stays whole.
fn unit_of(cgroup: &str) -> String {
    let last = cgroup.rsplit('/').next().unwrap_or(cgroup);
    match last.ends_with(".service") || last.ends_with(".scope") {
        true => last.to_string(),
        false => cgroup.to_string(),
    }
}
