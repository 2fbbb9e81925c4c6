//! Numerically stable scalar functions shared by the solver crates.

/// The logistic function 1 / (1 + e^-x), without overflow for large |x|.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// softplus(x) = log(1 + e^x), without overflow for large x or loss of precision for very
/// negative x.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// Exponents below this give exactly 0 in [`exp_or_zero`]: e^-500 ≈ 7e-218 cannot move any
/// number above about 1e-201 it is added to, but kept, its products with ordinary numbers land
/// in the subnormal range, which Intel cores compute by microcode assists (tens of times slower).
/// A rule of arithmetic rather than a CPU mode (flush-to-zero), so every CPU gives the same
/// bits.
pub const NEGLIGIBLE_EXPONENT: f64 = -500.0;

/// e^x for x ≤ 0, exactly 0 below [`NEGLIGIBLE_EXPONENT`]; branch-free like
/// [`exp_nonpositive`].
#[inline(always)]
pub fn exp_or_zero(x: f64) -> f64 {
    let e = exp_nonpositive(x);
    if x < NEGLIGIBLE_EXPONENT {
        0.0
    } else {
        e
    }
}

/// e^x for x ≤ 0 (arguments below -708 are taken as -708, whose e^x ≈ 3e-308 stands in for the
/// subnormal range), written without branches or library calls so that loops over slices
/// vectorise. Range reduction x = k ln 2 + r with |r| ≤ ln2/2, then a degree-13 Taylor polynomial:
/// relative error below 3e-16 (tested against `f64::exp`).
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5 · 2^52: adding it rounds to an integer held in the low mantissa bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.max(-708.0);
    let t = x * LOG2E + SHIFT;
    let k = t - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^k from k's bits: t's bit pattern minus SHIFT's is k as a two's-complement integer.
    let ki = t.to_bits().wrapping_sub(SHIFT.to_bits());
    p * f64::from_bits(ki.wrapping_add(1023) << 52)
}

crate::avx2_dispatch!(
/// The logistic function applied in place to every element, in a form that vectorises (no
/// branch, no library call): σ(x) = s or e·s with e = e^{-|x|}, s = 1/(1 + e). Agrees with
/// [`sigmoid`] to a few units in the last place.
///
/// Compiled for the baseline and for AVX2 ([`crate::avx2_dispatch`]): the same bits either way.
pub fn sigmoid_in_place(xs: &mut [f64]) => sigmoid_body);

#[inline(always)]
fn sigmoid_body(xs: &mut [f64]) {
    for x in xs {
        let e = exp_or_zero(-x.abs());
        let s = 1.0 / (1.0 + e);
        *x = if *x >= 0.0 { s } else { e * s };
    }
}

/// ln(1 + y) for 0 ≤ y ≤ 1, branch-free so that loops vectorise: with w = (1 + y) / 2 when
/// 1 + y > √2 (and ln 2 added back), ln(1 + y) = 2 atanh(s) for s = y / (2 + y) or (y - 1) / (y + 3)
/// (|s| ≤ 0.172, formed from y so tiny y keep their precision), summed to s²¹: relative error
/// below 5e-16 (tested against `f64::ln_1p`).
#[inline(always)]
fn ln_1p_unit(y: f64) -> f64 {
    let big = y > std::f64::consts::SQRT_2 - 1.0;
    let s = if big { (y - 1.0) / (y + 3.0) } else { y / (2.0 + y) };
    let s2 = s * s;
    let mut p = 1.0 / 21.0;
    for c in
        [1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0]
    {
        p = p * s2 + c;
    }
    2.0 * s * p + if big { std::f64::consts::LN_2 } else { 0.0 }
}

/// softplus(x) = max(x, 0) + ln(1 + e^{-|x|}) in a branch-free form that vectorises; agrees with
/// [`softplus`] to a few units in the last place (arguments below -708 give e^-708 ≈ 3e-308
/// instead of a smaller number).
#[inline(always)]
pub fn softplus_fast(x: f64) -> f64 {
    x.max(0.0) + ln_1p_unit(exp_nonpositive(-x.abs()))
}

crate::avx2_dispatch!(
/// [`softplus_fast`] applied in place to every element; compiled for the baseline and for AVX2
/// ([`crate::avx2_dispatch`]), the same bits either way.
pub fn softplus_in_place(xs: &mut [f64]) => softplus_body);

#[inline(always)]
fn softplus_body(xs: &mut [f64]) {
    xs.iter_mut().for_each(|x| *x = softplus_fast(*x));
}

/// log Σ e^xᵢ, shifted by the maximum; -∞ for an empty slice.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || m.is_nan() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectorisable_exp_and_sigmoid_are_accurate() {
        let mut worst: f64 = 0.0;
        for k in 0..200_000 {
            let x = -708.0 * f64::from(k) / 200_000.0;
            let (a, b) = (exp_nonpositive(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 3e-16, "relative error {worst}");
        let xs: Vec<f64> = (-4000..=4000).map(|k| f64::from(k) * 0.01).chain([-800.0, 800.0, 0.0]).collect();
        let mut ys = xs.clone();
        sigmoid_in_place(&mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            let exact = sigmoid(*x);
            assert!((y - exact).abs() <= 1e-15 * exact.max(1e-300) + 4e-308, "σ({x}) = {y}, expected {exact}");
        }
    }

    #[test]
    fn vectorisable_softplus_is_accurate() {
        let mut worst: f64 = 0.0;
        for k in 0..=100_000 {
            let y = f64::from(k) / 100_000.0;
            let (a, b) = (ln_1p_unit(y), y.ln_1p());
            if b > 0.0 {
                worst = worst.max(((a - b) / b).abs());
            }
        }
        assert!(worst < 5e-16, "ln_1p relative error {worst}");
        assert_eq!(ln_1p_unit(1e-300), 1e-300);
        for k in -7000..=7000 {
            let x = f64::from(k) * 0.01;
            let (a, b) = (softplus_fast(x), softplus(x));
            assert!((a - b).abs() <= 1e-15 * b.max(1e-300), "softplus({x}) = {a}, expected {b}");
        }
    }

    #[test]
    fn stable_at_the_extremes() {
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert!((sigmoid(0.3) - 1.0 / (1.0 + (-0.3f64).exp())).abs() < 1e-16);
        assert_eq!(softplus(800.0), 800.0);
        assert!((softplus(-40.0) - (-40.0f64).exp()).abs() < 1e-30);
        assert!((softplus(0.7) - (1.0 + 0.7f64.exp()).ln()).abs() < 1e-15);
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
    }
}

/// The number of elements of a buffer with these dimensions, or `None` when the product
/// overflows `usize`: sizes that come from a config are multiplied through this before anything
/// is allocated, so a huge setting is an error instead of a wrapped (too small) buffer.
pub fn extent(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

#[cfg(test)]
mod extent_tests {
    #[test]
    fn extents_are_checked_products() {
        assert_eq!(super::extent(&[3, 4, 5]), Some(60));
        assert_eq!(super::extent(&[]), Some(1));
        assert_eq!(super::extent(&[usize::MAX, 2]), None);
    }
}
