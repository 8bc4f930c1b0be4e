//! The report's sections: their names, the order an admin reads them in, and the
//! admin's choice of them (`report.sections`). A collector runs only when a section
//! that shows it is chosen, so a disabled section costs nothing at report time.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    /// What needs attention, worst first.
    Attention,
    /// Boot time and uptime.
    Host,
    /// CPU use and load.
    Cpu,
    /// Memory and swap.
    Memory,
    Filesystems,
    Diskio,
    Network,
    Processes,
    Checks,
    /// Pending package updates.
    Updates,
    /// Whether the host wants a reboot.
    Reboot,
    /// Every failed systemd unit.
    Units,
    /// Disk health (smartctl).
    Smart,
    /// md arrays, ZFS pools, btrfs device errors.
    Raid,
    /// The `[[certificates]]` and when they expire.
    Certificates,
    /// Whether the clock is synchronized.
    Clock,
    /// hwmon sensors and drives.
    Temperatures,
    /// The journal's errors and warnings since the previous report.
    Journal,
    /// OOM kills since the previous report.
    Oom,
    /// Logins, failed logins and sudo since the previous report.
    Logins,
    /// Packages installed, upgraded and removed since the previous report.
    Packages,
    /// Whether the host rebooted since the previous report, and cleanly.
    Reboots,
    Users,
    /// Changes under the `[[watch]]` paths.
    Files,
    /// Collectors that failed.
    Errors,
}

impl Section {
    /// Every section, in the default order: the order the issue that asked for them set.
    pub const ALL: [Section; 25] = [
        Section::Attention,
        Section::Host,
        Section::Cpu,
        Section::Memory,
        Section::Filesystems,
        Section::Diskio,
        Section::Network,
        Section::Processes,
        Section::Checks,
        Section::Updates,
        Section::Reboot,
        Section::Units,
        Section::Smart,
        Section::Raid,
        Section::Certificates,
        Section::Clock,
        Section::Temperatures,
        Section::Journal,
        Section::Oom,
        Section::Logins,
        Section::Packages,
        Section::Reboots,
        Section::Users,
        Section::Files,
        Section::Errors,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Attention => "attention",
            Section::Host => "host",
            Section::Cpu => "cpu",
            Section::Memory => "memory",
            Section::Filesystems => "filesystems",
            Section::Diskio => "diskio",
            Section::Network => "network",
            Section::Processes => "processes",
            Section::Checks => "checks",
            Section::Updates => "updates",
            Section::Reboot => "reboot",
            Section::Units => "units",
            Section::Smart => "smart",
            Section::Raid => "raid",
            Section::Certificates => "certificates",
            Section::Clock => "clock",
            Section::Temperatures => "temperatures",
            Section::Journal => "journal",
            Section::Oom => "oom",
            Section::Logins => "logins",
            Section::Packages => "packages",
            Section::Reboots => "reboots",
            Section::Users => "users",
            Section::Files => "files",
            Section::Errors => "errors",
        }
    }

    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }

    /// "attention, host, …" for error messages.
    pub fn all_names() -> String {
        Section::ALL.map(Section::name).join(", ")
    }
}

/// The chosen sections, in the chosen order, each at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sections(Vec<Section>);

impl Default for Sections {
    fn default() -> Sections {
        Sections(Section::ALL.to_vec())
    }
}

impl Sections {
    /// Refuses a list that names a section twice, returning that section.
    pub fn new(chosen: Vec<Section>) -> Result<Sections, Section> {
        for (i, s) in chosen.iter().enumerate() {
            if chosen[..i].contains(s) {
                return Err(*s);
            }
        }
        Ok(Sections(chosen))
    }

    pub fn shows(&self, section: Section) -> bool {
        self.0.contains(&section)
    }

    /// The chosen sections' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name()).collect()
    }
}
