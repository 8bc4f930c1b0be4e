//! The `boot` collector: when the machine booted and how long it has been up.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::CollectError;
use crate::zone::Zone;

#[derive(Debug, Clone, Serialize)]
pub struct Boot {
    /// RFC 3339 in the configured zone.
    pub time: String,
    /// From /proc/uptime, which (unlike now minus boot time) ignores wall-clock jumps.
    pub uptime_secs: u64,
}

pub fn collect(zone: &Zone) -> Result<Boot, CollectError> {
    let booted: DateTime<Utc> = psutil::host::boot_time()
        .map_err(|e| CollectError::new(format!("boot time: {e}")))?
        .into();
    let uptime = psutil::host::uptime().map_err(|e| CollectError::new(format!("uptime: {e}")))?;
    Ok(Boot {
        time: zone.rfc3339(booted),
        uptime_secs: uptime.as_secs(),
    })
}
