//! Run-time choice between a baseline and an AVX2 build of the same loop.

/// Defines `fn NAME(args) -> ret` that calls `body(args)` compiled with AVX2 when the CPU has it
/// and compiled for the baseline otherwise. `body` should be `#[inline(always)]` so it is built
/// into both. The two builds run the same operations in the same order (Rust never fuses a
/// multiply and an add on its own), so they give the same bits: only the vector width differs.
#[macro_export]
macro_rules! avx2_dispatch {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:path) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    #[inline(always)]
    fn sum_of_squares(xs: &[f64]) -> f64 {
        xs.iter().map(|x| x * x).sum()
    }

    crate::avx2_dispatch!(fn dispatched(xs: &[f64]) -> f64 => sum_of_squares);

    #[test]
    fn both_builds_agree() {
        let xs: Vec<f64> = (0..1000).map(|k| f64::from(k).sin()).collect();
        assert_eq!(dispatched(&xs).to_bits(), sum_of_squares(&xs).to_bits());
    }
}
