//! How the report writes a number of bytes, shared by the templates' `bytes` filter
//! and the attention list's sentences. A leaf.

/// Binary units, one decimal: 1536 → "1.5 KiB", 1_063_780_352 → "1.0 GiB".
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = n;
    let mut unit = 0;
    // From 1000 of a unit on, the next unit: "1.0 GiB", never "1014.5 MiB", so a
    // number never has four digits before its point.
    while value.abs() >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
