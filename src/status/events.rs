//! What happened since the previous report, judged: the journal's errors, OOM kills,
//! logins and sudo.

use super::{judged, Assessment, Judged, Kind, Level};
use crate::collect::journal::{Journal, Kill, Login};
use crate::collect::Readings;
use crate::units::bytes;

pub(super) fn events(r: &Readings, a: &mut Assessment, all: &mut Vec<Judged>) {
    let mut keep = |j: Judged| {
        let level = j.level;
        all.push(j);
        level
    };
    if let Some(Some(j)) = &r.journal {
        a.journal = journal(j).map(&mut keep);
        if let Some(why) = &j.unreadable {
            let level = keep(noted(Level::Warning, why.clone()));
            a.journal = a.journal.max(Some(level));
        }
    }
    for k in r.oom.iter().flatten().flatten() {
        a.oom.push(keep(kill(k)));
    }
    if let Some(Some(b)) = &r.reboots {
        a.reboots = unclean(b).map(|text| keep(noted(Level::Warning, text)));
    }
    if let Some(Some(logins)) = &r.logins {
        a.logins = logins.accepted.iter().map(|l| keep(login(l))).collect();
        for s in &logins.sudo_failures {
            let times = if s.count == 1 {
                String::new()
            } else {
                format!(" ({} times)", s.count)
            };
            let why = s.failure.as_deref().unwrap_or("failed");
            let text = format!("sudo by {} failed: {why}{times}", s.user);
            a.sudo_failures.push(keep(noted(Level::Warning, text)));
        }
    }
}

/// The source of the most emergency, alert and critical entries among the groups
/// listed, and how many.
fn most_severe(j: &Journal) -> Option<(&str, u64)> {
    let mut by_source: std::collections::BTreeMap<&str, u64> = Default::default();
    for g in j.messages.iter().filter(|g| g.priority <= 2) {
        *by_source.entry(g.source.as_str()).or_default() += g.count;
    }
    let (source, n) = by_source
        .into_iter()
        .max_by_key(|(s, n)| (*n, std::cmp::Reverse(*s)))?;
    Some((source, n))
}

fn noted(level: Level, text: String) -> Judged {
    judged(level, text, Kind::Maintenance, 1.0)
}

/// Emergency, alert or critical entries: critical; more errors than
/// `journal.error_warning`: a warning, naming the unit with the most.
fn journal(j: &Journal) -> Option<Judged> {
    let c = &j.counts;
    let worst = j.units.first().filter(|u| u.errors > 0);
    let most = worst.map_or(String::new(), |u| format!("; {} from {}", u.errors, u.unit));
    let severe = c.emerg + c.alert + c.crit;
    if severe > 0 {
        // Named from the severe entries alone: the unit with the most errors may have
        // logged none of them.
        let most = most_severe(j).map_or(String::new(), |(source, n)| {
            format!("; {n} of them from {source}")
        });
        let text = format!("{severe} emergency, alert or critical entries in the journal since the previous report{most}");
        return Some(noted(Level::Critical, text));
    }
    (c.err > j.error_warning).then(|| {
        let text = format!(
            "{} errors in the journal since the previous report{most}",
            c.err
        );
        judged(
            Level::Warning,
            text,
            Kind::Maintenance,
            c.err as f64 / (j.error_warning.max(1) as f64),
        )
    })
}

/// Every OOM kill is a warning; of a unit a check watches, critical.
fn kill(k: &Kill) -> Judged {
    let level = if k.checked {
        Level::Critical
    } else {
        Level::Warning
    };
    let unit = k
        .unit
        .as_ref()
        .map_or(String::new(), |u| format!(" in {u}"));
    let text = format!(
        "the OOM killer killed {} (pid {}, {}){unit}",
        k.process,
        k.pid,
        bytes(k.rss_bytes as f64)
    );
    noted(level, text)
}

/// A root login by password, or a login from an address never seen before: careful.
fn login(l: &Login) -> Judged {
    let (user, from, method) = (&l.user, &l.from, &l.method);
    match (user == "root" && method == "password", l.new_address) {
        (true, _) => noted(
            Level::Careful,
            format!("root logged in by password from {from}"),
        ),
        (false, true) => noted(
            Level::Careful,
            format!("{user} logged in from {from}, an address not seen before ({method})"),
        ),
        _ => noted(Level::Ok, String::new()),
    }
}

/// What an unclean end among the period's boots says; None when every one was clean.
fn unclean(b: &crate::collect::journal::Reboots) -> Option<String> {
    let last = b.ended.iter().rev().find(|e| !e.clean)?;
    let ended = format!("ended {} with \"{}\"", last.ended, last.last_message);
    Some(match (b.boots, b.unclean) {
        (0 | 1, _) => format!("the host rebooted without a clean shutdown (booted {}; the boot before {ended})", b.booted_at),
        (n, 1) => format!("the host rebooted {n} times since the previous report, once without a clean shutdown (that boot {ended})"),
        (n, k) => format!("the host rebooted {n} times since the previous report, {k} times without a clean shutdown (the last such boot {ended})"),
    })
}
