//! `pow`, `log` and `log10` for the whole binary, from the libm crate (musl's, in
//! Rust), so that it does not need libm.so.6. These three are all it would take from
//! that library (the charts' axis rounding and minijinja's `**`), and mapping it
//! costs every run 0.3 MB of resident memory (the kernel maps 64 KiB around each
//! page touched) and its relocations. The linker finds these names here before it
//! looks in a shared library, and rustc's --as-needed then leaves libm.so.6 out.
//! Accuracy is musl's: within one unit in the last place, as glibc's.
//!
//! `no_mangle` is unsafe_code to rustc, which cannot know that nothing else in the
//! binary defines these names: nothing does (libm.so.6 is no longer linked, and the
//! binary exports no symbols for a shared library to bind to).
#![allow(unsafe_code)]

#[no_mangle]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[no_mangle]
pub extern "C" fn log(x: f64) -> f64 {
    libm::log(x)
}

#[no_mangle]
pub extern "C" fn log10(x: f64) -> f64 {
    libm::log10(x)
}

#[cfg(test)]
mod tests {
    /// Within two units in the last place of glibc's answers (Python's math module
    /// on Debian 12, which calls glibc's libm).
    fn close(a: f64, glibc: f64) -> bool {
        (a - glibc).abs() <= 2.0 * f64::EPSILON * glibc.abs()
    }

    #[test]
    fn agree_with_glibc() {
        let x = 1234.5678;
        assert!(close(super::pow(x, 0.37), 13.927_094_737_336_24));
        assert!(close(super::log(x), 7.118_476_228_297_786));
        assert!(close(super::log10(x), 3.091_514_945_509_201_3));
        assert_eq!(super::pow(10.0, 3.0), 1000.0);
        assert_eq!(super::log10(1e-5), -5.0);
        assert!(super::log(-1.0).is_nan() && super::log(0.0) == f64::NEG_INFINITY);
    }
}
