//! The `memory` collector: RAM and swap, as free(1) and psutil count them.
//!
//! `used` is `total - available` (MemAvailable), not psutil's own `used`, which
//! subtracts caches and buffers and reads lower than what the kernel can hand out.

use serde::Serialize;

use super::{percent, CollectError};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Memory {
    pub total: u64,
    pub available: u64,
    pub used: u64,
    pub free: u64,
    pub percent: f64,
    pub swap_total: u64,
    pub swap_used: u64,
    pub swap_percent: f64,
}

pub fn collect() -> Result<Memory, CollectError> {
    let ram = psutil::memory::virtual_memory()
        .map_err(|e| CollectError::new(format!("/proc/meminfo: {e}")))?;
    let swap = psutil::memory::swap_memory()
        .map_err(|e| CollectError::new(format!("/proc/meminfo: {e}")))?;
    Ok(from_counts(
        ram.total(),
        ram.available(),
        ram.free(),
        swap.total(),
        swap.free(),
    ))
}

/// The figures from the raw /proc/meminfo counts (in bytes).
pub fn from_counts(
    total: u64,
    available: u64,
    free: u64,
    swap_total: u64,
    swap_free: u64,
) -> Memory {
    let used = total.saturating_sub(available);
    let swap_used = swap_total.saturating_sub(swap_free);
    Memory {
        total,
        available,
        used,
        free,
        percent: percent(used, total),
        swap_total,
        swap_used,
        swap_percent: percent(swap_used, swap_total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_is_total_minus_available() {
        let m = from_counts(16_000, 9_000, 1_200, 2_000, 2_000);
        assert_eq!(
            (m.used, m.percent, m.swap_used, m.swap_percent),
            (7_000, 43.8, 0, 0.0)
        );
        // No swap at all is 0 %, not a division by zero.
        let m = from_counts(100, 100, 100, 0, 0);
        assert_eq!((m.percent, m.swap_percent), (0.0, 0.0));
    }
}
