//! What one report's collectors found, typed: the numbers status judges, and what the
//! template context is made of. JSON comes last (`context`), so a threshold reads a
//! field the compiler checks, never a key in a map.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    boot::Boot,
    certificates::Certificate,
    checks::Outcome,
    clock::Clock,
    cpu::Cpu,
    disk::Disk,
    diskio::DiskIo,
    files::Files,
    journal::{Journal, Kill, Logins, Reboots},
    load::Load,
    memory::Memory,
    network::Network,
    package_log::Packages,
    processes::Processes,
    raid::Raid,
    reboot::Reboot,
    smart::Smart,
    system::System,
    temperatures::Sensor,
    units::Units,
    updates::Updates,
    users::Session,
};
use crate::context::{CollectorFailure, Context};
use crate::sections::Sections;

/// `None`: the section is not shown (no key in the context); `Some(None)`: its
/// collector failed (null, and an `errors` entry); `Some(Some(_))`: what it found.
pub type Shown<T> = Option<Option<T>>;

/// Everything one report collected.
#[derive(Debug, Default)]
pub struct Readings {
    pub hostname: String,
    /// The report's time, in the configured zone (RFC 3339).
    pub generated_at: String,
    pub sections: Sections,
    pub boot: Shown<Boot>,
    /// What this host is (in the host section).
    pub system: Shown<System>,
    pub cpu: Shown<Cpu>,
    pub memory: Shown<Memory>,
    pub load: Shown<Load>,
    pub disks: Shown<Vec<Disk>>,
    pub network: Shown<Network>,
    pub diskio: Shown<DiskIo>,
    pub processes: Shown<Processes>,
    /// The admin's checks (none configured or not shown: no key).
    pub checks: Option<Vec<Outcome>>,
    pub updates: Shown<Updates>,
    pub reboot: Shown<Reboot>,
    pub units: Shown<Units>,
    pub smart: Shown<Smart>,
    pub raid: Shown<Raid>,
    /// The `[[certificates]]` (none configured or not shown: no key).
    pub certificates: Option<Vec<Certificate>>,
    pub clock: Shown<Clock>,
    pub temperatures: Shown<Vec<Sensor>>,
    pub journal: Shown<Journal>,
    pub oom: Shown<Vec<Kill>>,
    pub logins: Shown<Logins>,
    pub packages: Shown<Packages>,
    pub reboots: Shown<Reboots>,
    pub users: Shown<Vec<Session>>,
    pub files: Shown<Files>,
    /// Collectors a caller added (tests), by name.
    pub extra: Vec<(String, Option<Value>)>,
    pub errors: Vec<CollectorFailure>,
}

impl Readings {
    /// The template context: every reading under its key (see `Shown`).
    pub fn context(&self) -> Context {
        let mut ctx = Context(Map::new());
        ctx.put("hostname", &self.hostname);
        ctx.put("generated_at", &self.generated_at);
        ctx.put("sections", &self.sections);
        shown(&mut ctx, "boot", &self.boot);
        shown(&mut ctx, "system", &self.system);
        shown(&mut ctx, "cpu", &self.cpu);
        shown(&mut ctx, "memory", &self.memory);
        shown(&mut ctx, "load", &self.load);
        shown(&mut ctx, "disks", &self.disks);
        shown(&mut ctx, "network", &self.network);
        shown(&mut ctx, "diskio", &self.diskio);
        shown(&mut ctx, "processes", &self.processes);
        shown(&mut ctx, "checks", &self.checks.as_ref().map(Some));
        shown(&mut ctx, "updates", &self.updates);
        shown(&mut ctx, "reboot", &self.reboot);
        shown(&mut ctx, "units", &self.units);
        shown(&mut ctx, "smart", &self.smart);
        shown(&mut ctx, "raid", &self.raid);
        shown(
            &mut ctx,
            "certificates",
            &self.certificates.as_ref().map(Some),
        );
        shown(&mut ctx, "clock", &self.clock);
        shown(&mut ctx, "temperatures", &self.temperatures);
        shown(&mut ctx, "journal", &self.journal);
        shown(&mut ctx, "oom", &self.oom);
        shown(&mut ctx, "logins", &self.logins);
        shown(&mut ctx, "packages", &self.packages);
        shown(&mut ctx, "reboots", &self.reboots);
        shown(&mut ctx, "users", &self.users);
        shown(&mut ctx, "files", &self.files);
        for (name, value) in &self.extra {
            ctx.put(name, value);
        }
        ctx.put("errors", &self.errors);
        ctx
    }
}

fn shown<T: Serialize>(ctx: &mut Context, key: &str, value: &Shown<T>) {
    if let Some(found) = value {
        ctx.put(key, found);
    }
}
