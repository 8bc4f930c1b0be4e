//! The `memory` collector: RAM and swap, as free(1) counts them, from /proc/meminfo.
//!
//! `used` is `total - available` (MemAvailable), not psutil's own `used`, which
//! subtracts caches and buffers and reads lower than what the kernel can hand out.

use serde::Serialize;

use super::procfs::Procfs;
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
    collect_in(&Procfs::default())
}

/// From `meminfo` under `proc`.
pub fn collect_in(proc: &Procfs) -> Result<Memory, CollectError> {
    parse_meminfo(&proc.read("meminfo")?).ok_or_else(|| {
        CollectError::new(format!(
            "{}: no MemTotal line",
            proc.path("meminfo").display()
        ))
    })
}

/// The counts of /proc/meminfo (kB) as figures. MemAvailable is there since Linux
/// 3.14; before, free + buffers + page cache stands in for it.
pub fn parse_meminfo(text: &str) -> Option<Memory> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kb| kb.saturating_mul(1024))
    };
    let total = field("MemTotal")?;
    let free = field("MemFree").unwrap_or(0);
    let available = field("MemAvailable")
        .unwrap_or_else(|| free + field("Buffers").unwrap_or(0) + field("Cached").unwrap_or(0));
    let (swap_total, swap_free) = (
        field("SwapTotal").unwrap_or(0),
        field("SwapFree").unwrap_or(0),
    );
    Some(from_counts(total, available, free, swap_total, swap_free))
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
    fn meminfo_in_kilobytes() {
        let m = parse_meminfo("MemTotal:       16000 kB\nMemFree:         1200 kB\nMemAvailable:    9000 kB\nSwapTotal:       2000 kB\nSwapFree:        1500 kB\n").unwrap();
        assert_eq!(
            (m.total, m.available, m.free),
            (16_384_000, 9_216_000, 1_228_800)
        );
        assert_eq!((m.swap_used, m.percent), (512_000, 43.8));
        // An old kernel without MemAvailable: free + buffers + cache.
        let old = parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n")
            .unwrap();
        assert_eq!(old.available, 35 * 1024);
        assert!(parse_meminfo("nonsense").is_none());
    }

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
