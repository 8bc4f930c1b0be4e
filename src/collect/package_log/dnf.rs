//! dnf's record of what it did to the rpm database, /var/log/dnf.rpm.log: one line
//! per package of a transaction, "2026-11-26T04:00:02+0000 SUBDEBUG Upgrade:
//! hello-3.0-2.noarch", the package named name-[epoch:]version-release.arch. An
//! upgrade is two lines, the new package ("Upgrade:") and then the one it replaced
//! ("Upgraded:"), which are made one change here, as dpkg logs it.

use chrono::{DateTime, Utc};

use super::Change;
use crate::collect::journal::shown;
use crate::zone::Zone;

/// The changes in `text`, oldest first.
pub fn changes(text: &str, zone: &Zone) -> Vec<(DateTime<Utc>, Change)> {
    let mut out: Vec<(DateTime<Utc>, Change)> = Vec::new();
    for line in text.lines() {
        let Some((at, verb, name, version)) = parse(line) else {
            continue;
        };
        let (action, from, to) = match verb {
            "Installed" | "Obsolete" => ("install", "<none>", version.as_str()),
            "Erase" | "Erased" | "Obsoleted" => ("remove", version.as_str(), "<none>"),
            "Upgrade" => ("upgrade", "?", version.as_str()),
            "Downgrade" => ("downgrade", "?", version.as_str()),
            "Upgraded" | "Downgraded" => {
                // The version the line before replaced.
                let replaced = out
                    .iter_mut()
                    .rev()
                    .take(64)
                    .find(|(_, c)| c.package == name && c.from == "?" && c.action != "install");
                if let Some((_, c)) = replaced {
                    c.from = version;
                }
                continue;
            }
            _ => continue,
        };
        let change = Change {
            time: zone.rfc3339(at),
            action: action.to_string(),
            package: name.clone(),
            from: from.to_string(),
            to: to.to_string(),
        };
        out.push((at, change));
    }
    out
}

/// A line's time, verb, package name and version ("1:3.0.7-25.el9"), made safe to show.
fn parse(line: &str) -> Option<(DateTime<Utc>, &str, String, String)> {
    let mut words = line.split_whitespace();
    let at = DateTime::parse_from_str(words.next()?, "%Y-%m-%dT%H:%M:%S%z").ok()?;
    let _level = words.next()?;
    let verb = words.next()?.strip_suffix(':')?;
    let nevra = words.next()?;
    let (nevr, _arch) = nevra.rsplit_once('.')?;
    let (nev, release) = nevr.rsplit_once('-')?;
    let (name, version) = nev.rsplit_once('-')?;
    let version = format!("{version}-{release}");
    Some((at.with_timezone(&Utc), verb, shown(name), shown(&version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines in dnf 4.14's layout (tests/it/dnf.rs reads what real dnf writes); the
    /// epoch and the dashed name are written here, to hold the parse to them.
    #[test]
    fn an_upgrade_is_one_change_with_both_versions() {
        let log = "2026-11-26T06:17:49+0000 INFO --- logging initialized ---\n\
            2026-11-26T06:17:49+0000 SUBDEBUG Upgrade: open-ssl-lite-1:3.0.7-25.el9.x86_64\n\
            2026-11-26T06:17:49+0000 SUBDEBUG Upgraded: open-ssl-lite-1:3.0.7-24.el9.x86_64\n\
            2026-11-26T06:17:50+0000 SUBDEBUG Installed: fresh-2.0-1.noarch\n\
            2026-11-26T06:17:50+0000 SUBDEBUG Erase: gone-1.0-1.noarch\n\
            2026-11-26T06:17:51+0000 SUBDEBUG Reinstall: fresh-2.0-1.noarch\n\
            not a line of dnf's\n";
        let seen: Vec<(String, String, String, String)> = changes(log, &Zone::utc())
            .into_iter()
            .map(|(_, c)| (c.action, c.package, c.from, c.to))
            .collect();
        let owned = |a: &str, p: &str, f: &str, t: &str| {
            (a.to_string(), p.to_string(), f.to_string(), t.to_string())
        };
        assert_eq!(
            seen,
            [
                owned(
                    "upgrade",
                    "open-ssl-lite",
                    "1:3.0.7-24.el9",
                    "1:3.0.7-25.el9"
                ),
                owned("install", "fresh", "<none>", "2.0-1"),
                owned("remove", "gone", "1.0-1", "<none>"),
            ]
        );
    }
}
