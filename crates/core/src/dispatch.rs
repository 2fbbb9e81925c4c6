//! Run-time choice between a baseline and an AVX2 build of the same loop.

/// Defines `fn NAME(args) -> ret` that calls `body(args)` compiled with AVX2 when the CPU has it
/// and compiled for the baseline otherwise. `body` should be `#[inline(always)]` so it is built
/// into both. The two builds run the same operations in the same order (Rust never fuses a
/// multiply and an add on its own), so they give the same bits: only the vector width differs.
/// The function may have one type parameter with one bound (`fn name<T: Bound>(...)`), inferred
/// from the arguments.
#[macro_export]
macro_rules! avx2_dispatch {
    ($(#[$attr:meta])* $vis:vis fn $name:ident $(<$g:ident: $bound:path>)? ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:path) => {
        $(#[$attr])*
        $vis fn $name $(<$g: $bound>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2 $(<$g: $bound>)? ($($arg: $ty),*) $(-> $ret)? {
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

    trait Number: Copy + Into<f64> {}
    impl Number for f32 {}

    #[inline(always)]
    fn scaled_sum<T: Number>(xs: &[T], by: f64) -> f64 {
        xs.iter().map(|&x| x.into() * by).sum()
    }

    crate::avx2_dispatch!(fn generic<T: Number>(xs: &[T], by: f64) -> f64 => scaled_sum);

    #[test]
    fn both_builds_agree() {
        let xs: Vec<f64> = (0..1000).map(|k| f64::from(k).sin()).collect();
        assert_eq!(dispatched(&xs).to_bits(), sum_of_squares(&xs).to_bits());
        let ys: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
        assert_eq!(generic(&ys, 0.3).to_bits(), scaled_sum(&ys, 0.3).to_bits());
    }
}
