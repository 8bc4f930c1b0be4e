//! One drive, from what `smartctl --json --info --health --attributes` printed:
//! ATA (attributes by id), NVMe (the health log) and SCSI (what little it has).
//! smartctl's JSON is read as a tree, field by field, so a drive that lacks a field,
//! or firmware that prints an odd one, costs that field, never the drive.

use serde::Serialize;
use serde_json::Value;

/// ATA attributes that matter (Backblaze's and smartd's pick), by id.
const REALLOCATED: u64 = 5;
const PENDING: u64 = 197;
const OFFLINE_UNCORRECTABLE: u64 = 198;
const CRC_ERRORS: u64 = 199;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Drive {
    /// The device smartctl read ("/dev/sda") and how ("ATA", "NVMe", "SCSI").
    pub device: String,
    pub protocol: String,
    pub model: String,
    pub serial: String,
    /// The drive's own overall assessment; None when it gave none.
    pub passed: Option<bool>,
    /// °C now, and the drive's own limit when it says (ATA SCT, NVMe warning).
    pub temperature: Option<f64>,
    pub temperature_limit: Option<f64>,
    pub power_on_hours: Option<u64>,
    /// ATA raw counters: sectors remapped, waiting to be, found unreadable offline;
    /// interface CRC errors (a cable, usually).
    pub reallocated: Option<u64>,
    pub pending: Option<u64>,
    pub offline_uncorrectable: Option<u64>,
    pub crc_errors: Option<u64>,
    /// NVMe: the critical-warning bits, the wear estimate (%, may pass 100) and media errors.
    pub critical_warning: Option<u64>,
    pub percentage_used: Option<u64>,
    pub media_errors: Option<u64>,
    /// What grew since the previous report: (counter, by how much, now).
    pub changes: Vec<Change>,
    /// In standby: not woken to be read (smartctl -n standby).
    pub standby: bool,
    /// Why it could not be read; the other fields are then empty.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub counter: &'static str,
    /// Up (grown) or down since the previous report.
    pub by: i64,
    pub now: u64,
}

impl Drive {
    /// The counters compared across reports, by name; None: not known.
    pub fn counters(&self) -> [(&'static str, Option<u64>); 6] {
        [
            ("reallocated", self.reallocated),
            ("pending", self.pending),
            ("offline_uncorrectable", self.offline_uncorrectable),
            ("crc_errors", self.crc_errors),
            ("media_errors", self.media_errors),
            ("critical_warning", self.critical_warning),
        ]
    }

    /// What names this drive across reports (device names move): model and serial.
    pub fn key(&self) -> String {
        match self.serial.is_empty() {
            true => self.device.clone(),
            false => format!("{} {}", self.model, self.serial),
        }
    }
}

/// The first error message smartctl printed, if any.
pub fn message(json: &Value) -> Option<String> {
    let messages = json.pointer("/smartctl/messages")?.as_array()?;
    let error = |m: &&Value| m.get("severity").and_then(Value::as_str) == Some("error");
    let first = messages.iter().find(error).or(messages.first())?;
    first.get("string")?.as_str().map(str::to_string)
}

/// A drive from smartctl's JSON for `device`.
pub fn parse(device: &str, json: &Value) -> Drive {
    let text = |p: &str| {
        json.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let number = |p: &str| json.pointer(p).and_then(Value::as_u64);
    let mut d = Drive {
        device: device.to_string(),
        protocol: text("/device/protocol"),
        model: text("/model_name"),
        serial: text("/serial_number"),
        passed: json
            .pointer("/smart_status/passed")
            .and_then(Value::as_bool),
        temperature: json.pointer("/temperature/current").and_then(Value::as_f64),
        temperature_limit: json
            .pointer("/temperature/op_limit_max")
            .and_then(Value::as_f64),
        power_on_hours: number("/power_on_time/hours"),
        ..Default::default()
    };
    if let Some(table) = json
        .pointer("/ata_smart_attributes/table")
        .and_then(Value::as_array)
    {
        let raw = |id: u64| {
            let row = table
                .iter()
                .find(|r| r.get("id").and_then(Value::as_u64) == Some(id))?;
            // The low 32 bits: some firmware packs other numbers above them (Seagate).
            row.pointer("/raw/value")
                .and_then(Value::as_u64)
                .map(|v| v & 0xffff_ffff)
        };
        d.reallocated = raw(REALLOCATED);
        d.pending = raw(PENDING);
        d.offline_uncorrectable = raw(OFFLINE_UNCORRECTABLE);
        d.crc_errors = raw(CRC_ERRORS);
    }
    if json.get("nvme_smart_health_information_log").is_some() {
        let log = |f: &str| number(&format!("/nvme_smart_health_information_log/{f}"));
        d.critical_warning = log("critical_warning");
        d.percentage_used = log("percentage_used");
        d.media_errors = log("media_errors");
        d.temperature_limit = d
            .temperature_limit
            .or(number("/nvme_warning_temperature").map(|t| t as f64));
    }
    d
}

/// What NVMe's critical-warning bits say, in words.
pub fn critical_warning(bits: u64) -> String {
    let said: Vec<&str> = [
        "spare capacity below its threshold",
        "temperature out of range",
        "reliability degraded",
        "media made read-only",
        "volatile memory backup failed",
        "persistent memory region read-only",
    ]
    .iter()
    .enumerate()
    .filter(|(bit, _)| bits & (1 << bit) != 0)
    .map(|(_, s)| *s)
    .collect();
    match said.is_empty() {
        true => format!("critical warning 0x{bits:02x}"),
        false => said.join(", "),
    }
}
