//! What a package manager says it would upgrade, whichever manager it is (apt in
//! `updates.rs`, dnf and yum in `dnf.rs`): the rows `updates` counts and lists.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// None: a new package a dist-upgrade would install.
    pub installed: Option<String>,
    pub candidate: String,
    pub security: bool,
    /// Where the candidate comes from: `Debian-Security:12/stable-security`, or the
    /// repository (dnf).
    pub origin: String,
}

/// What the package manager said, parsed.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub packages: Vec<Package>,
    pub held: usize,
}
