//! Temperatures from the kernel's hwmon sensors (/sys/class/hwmon/*/temp*_input: the
//! chip's name, the sensor's label, millidegrees), with the sensor's own max and crit
//! where the driver gives them. World-readable: no privilege needed. Drive
//! temperatures come from the smart section and are judged with these.

use serde::Serialize;

use super::procfs::Procfs;
use super::CollectError;

/// Sensors listed; a 2-socket server has ~40 cores' worth, enough.
const SENSORS_MAX: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sensor {
    /// The chip ("coretemp", "nvme", "k10temp") and the sensor's label ("Package id 0").
    pub chip: String,
    pub label: String,
    /// °C.
    pub celsius: f64,
    /// The sensor's own limits, °C, when the driver gives them.
    pub max: Option<f64>,
    pub crit: Option<f64>,
}

/// Every hwmon temperature sensor, hottest first; an empty list where there are none
/// (virtual machines).
pub fn collect(procfs: &Procfs) -> Result<Vec<Sensor>, CollectError> {
    let mut sensors = Vec::new();
    let Ok(chips) = std::fs::read_dir(procfs.sys("class/hwmon")) else {
        return Ok(sensors);
    };
    let mut chips: Vec<_> = chips.flatten().map(|e| e.path()).collect();
    chips.sort();
    for chip in chips {
        let name = read(&chip.join("name")).unwrap_or_else(|| "?".into());
        let mut inputs: Vec<String> = std::fs::read_dir(&chip)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|f| f.starts_with("temp") && f.ends_with("_input"))
            .collect();
        inputs.sort_by_key(|f| (f.len(), f.clone()));
        for input in inputs {
            let base = input.trim_end_matches("_input");
            let Some(celsius) = millidegrees(&chip.join(&input)) else {
                continue;
            };
            let label =
                read(&chip.join(format!("{base}_label"))).unwrap_or_else(|| base.to_string());
            sensors.push(Sensor {
                chip: name.clone(),
                label,
                celsius,
                // 0 or absurd limits are drivers that fill the field with nothing.
                max: millidegrees(&chip.join(format!("{base}_max"))).filter(|m| *m > 0.0),
                crit: millidegrees(&chip.join(format!("{base}_crit"))).filter(|c| *c > 0.0),
            });
        }
    }
    sensors.sort_by(|a, b| b.celsius.total_cmp(&a.celsius));
    sensors.truncate(SENSORS_MAX);
    Ok(sensors)
}

fn read(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// A millidegree file as °C; None when absent, unreadable (a sensor that errors on
/// read: EIO, ENODATA) or absurd.
fn millidegrees(path: &std::path::Path) -> Option<f64> {
    let value: i64 = read(path)?.parse().ok()?;
    let celsius = value as f64 / 1000.0;
    (-70.0..=250.0).contains(&celsius).then_some(celsius)
}
