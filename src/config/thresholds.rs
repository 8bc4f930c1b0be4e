//! The `[thresholds]` table: three ascending numbers per metric (careful, warning,
//! critical), and per mount point:
//!
//! ```toml
//! [thresholds]
//! memory = [60, 80, 95]
//! "/boot" = [80, 90, 95]
//! ```

use std::collections::BTreeMap;

use toml::Spanned;

use super::{ConfigError, Locator};

/// The three thresholds of one metric, ascending.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub careful: f64,
    pub warning: f64,
    pub critical: f64,
}

impl Levels {
    pub const fn new(careful: f64, warning: f64, critical: f64) -> Levels {
        Levels {
            careful,
            warning,
            critical,
        }
    }
}

/// Every threshold, with glances' defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub cpu: Levels,
    pub memory: Levels,
    pub swap: Levels,
    pub filesystem: Levels,
    pub inodes: Levels,
    /// The 5-minute load average per logical CPU.
    pub load: Levels,
    /// Per mount point, replacing `filesystem` (and `inodes`) there.
    pub filesystems: BTreeMap<String, Levels>,
    /// `[updates]`: security updates pending this many days are a warning…
    pub security_updates_days: f64,
    /// …and so are package lists not updated for this many.
    pub package_lists_days: f64,
    /// `[reboot] warning_days`: a reboot wanted this long is a warning.
    pub reboot_days: f64,
    /// °C, for sensors and drives that give no limits of their own.
    pub temperature: Levels,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        let percent = Levels::new(50.0, 70.0, 90.0);
        Thresholds {
            cpu: percent,
            memory: percent,
            swap: percent,
            filesystem: percent,
            inodes: percent,
            load: Levels::new(0.7, 1.0, 5.0),
            filesystems: BTreeMap::new(),
            security_updates_days: 7.0,
            package_lists_days: 7.0,
            reboot_days: 7.0,
            // lm-sensors' and drive makers' usual: a CPU past 85 °C or a drive past
            // 60 °C is throttling or ageing.
            temperature: Levels::new(65.0, 75.0, 85.0),
        }
    }
}

pub(super) type RawThresholds = BTreeMap<String, Spanned<Vec<f64>>>;

const NAMES: &str =
    "cpu, memory, swap, filesystem, inodes, load, temperature, or a mount point such as \"/boot\"";

pub(super) fn check(raw: Option<RawThresholds>, loc: &Locator) -> Result<Thresholds, ConfigError> {
    let mut t = Thresholds::default();
    for (key, value) in raw.unwrap_or_default() {
        let levels = levels(value.get_ref()).ok_or_else(|| {
            loc.at(value.span().start, format!("thresholds.{key} must be three ascending numbers, at least 0 (careful, warning, critical), such as [50, 70, 90]"))
        })?;
        let slot = match key.as_str() {
            "cpu" => &mut t.cpu,
            "memory" => &mut t.memory,
            "swap" => &mut t.swap,
            "filesystem" => &mut t.filesystem,
            "inodes" => &mut t.inodes,
            "load" => &mut t.load,
            "temperature" => &mut t.temperature,
            path if path.starts_with('/') => {
                t.filesystems.entry(path.to_string()).or_insert(levels)
            }
            other => {
                return Err(loc.at(
                    value.span().start,
                    format!("unknown threshold '{other}', expected {NAMES}"),
                ))
            }
        };
        *slot = levels;
    }
    Ok(t)
}

fn levels(values: &[f64]) -> Option<Levels> {
    match *values {
        [careful, warning, critical]
            if 0.0 <= careful && careful <= warning && warning <= critical =>
        {
            Some(Levels::new(careful, warning, critical))
        }
        _ => None,
    }
}
