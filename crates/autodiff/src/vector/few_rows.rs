//! Products whose output has 2 to 16 rows (a network's output layer: 10 classes), with AVX-512
//! masked vectors. faer's kernels are built around 96-row (f32) blocks; on one Xeon core they ran
//! such products at 14-72 GFLOP/s f32 where this kernel runs at 16-84, and at 106-116 for 16 rows
//! where this runs at 131-134 (`cargo run --release -p cg-autodiff --example gemm_peak` prints
//! both). One row stays with faer, whose matrix-vector path is five times faster.
//!
//! Each output element is one fused multiply-add chain over k in order, starting from zero: the
//! same operations faer's kernels perform, so the choice between them does not change a bit
//! (tested against faer and against a scalar `mul_add` loop).
//!
//! The column `j` of the output gets `c[.., j] = Σ_p a[.., p] · b[p, j]`: one masked vector of
//! `a`'s column p (its rows are contiguous in our column-major storage, so nothing is packed)
//! times the broadcast `b[p, j]`, for eight columns at a time.

#![allow(unsafe_code)]

use faer::{MatMut, MatRef};

/// Rows an output may have to take this path.
pub(crate) const MIN_ROWS: usize = 2;
pub(crate) const MAX_ROWS: usize = 16;

/// Output columns per register block: 8, 12, 16 and 24 measured within 10% of each other, 8 the
/// best on the 10-row shapes.
const COLUMNS: usize = 8;

/// Whether `c = a · b` takes the few-rows path on this CPU: [`MIN_ROWS`] to [`MAX_ROWS`] output
/// rows stored with unit row stride, `a`'s rows contiguous, f32 or f64, and AVX-512F present.
pub(crate) fn applies<T: 'static>(c: &MatMut<'_, T>, a: &MatRef<'_, T>) -> bool {
    let supported = std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        || std::any::TypeId::of::<T>() == std::any::TypeId::of::<f64>();
    supported && (MIN_ROWS..=MAX_ROWS).contains(&c.nrows()) && c.row_stride() == 1 && a.row_stride() == 1 && avx512()
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512() -> bool {
    false
}

/// `c = a · b` for `T` = f32 or f64, when [`applies`] said so.
///
/// # Panics
/// If `applies` would have said no, or the inner dimensions differ.
pub(crate) fn product<T: 'static>(c: MatMut<'_, T>, a: MatRef<'_, T>, b: MatRef<'_, T>) {
    assert!(applies(&c, &a) && a.ncols() == b.nrows(), "internal: few_rows::product called outside its domain");
    #[cfg(target_arch = "x86_64")]
    {
        let (m, k, n) = (c.nrows(), a.ncols(), c.ncols());
        if m == 0 || n == 0 {
            return;
        }
        let shape =
            Shape { m, k, n, lda: a.col_stride(), brs: b.row_stride(), bcs: b.col_stride(), ldc: c.col_stride() };
        // SAFETY: `applies` checked AVX-512F and T; the pointers and strides come from faer views
        // of the stated shapes, so every offset the kernels form (rows < m, p < k, columns < n)
        // lies inside them. T is exactly f32 or f64 (TypeId above), so the casts are identities.
        unsafe {
            if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
                f32_kernel::product(shape, a.as_ptr().cast(), b.as_ptr().cast(), c.as_ptr_mut().cast());
            } else {
                f64_kernel::product(shape, a.as_ptr().cast(), b.as_ptr().cast(), c.as_ptr_mut().cast());
            }
        }
    }
}

/// Sizes and element strides of `c (m × n) = a (m × k) · b (k × n)`; `a` and `c` have unit
/// row stride.
#[derive(Clone, Copy)]
struct Shape {
    m: usize,
    k: usize,
    n: usize,
    lda: isize,
    brs: isize,
    bcs: isize,
    ldc: isize,
}

/// One kernel per element type: `$v` vectors of `$lanes` lanes, `$rows` of them per column (so
/// `$rows × $lanes >= MAX_ROWS`).
macro_rules! kernel {
    ($name:ident, $t:ty, $v:ty, $mask:ty, $lanes:expr, $rows:expr,
     $zero:ident, $load:ident, $splat:ident, $fma:ident, $store:ident) => {
        #[cfg(target_arch = "x86_64")]
        mod $name {
            use super::{Shape, COLUMNS};
            use std::arch::x86_64::*;

            /// Lane masks of the `$rows` vectors that cover `m` rows.
            fn masks(m: usize) -> [$mask; $rows] {
                std::array::from_fn(|r| {
                    let live = m.saturating_sub(r * $lanes).min($lanes);
                    ((1u64 << live) - 1) as $mask
                })
            }

            /// `N` output columns starting at `b` and `c`. Pointers step with wrapping
            /// arithmetic: the row vector past `m` and the step after the last `p` may point
            /// outside the matrices, but only masked-off lanes or nothing is read there.
            #[target_feature(enable = "avx512f")]
            unsafe fn columns<const N: usize>(s: Shape, masks: [$mask; $rows], a: *const $t, b: *const $t, c: *mut $t) {
                let mut acc = [[$zero(); $rows]; N];
                let mut col = a;
                let mut row = b;
                for _ in 0..s.k {
                    let mut av = [$zero(); $rows];
                    for r in 0..$rows {
                        av[r] = $load(masks[r], col.wrapping_add(r * $lanes));
                    }
                    for j in 0..N {
                        let bj = $splat(*row.wrapping_offset(j as isize * s.bcs));
                        for r in 0..$rows {
                            acc[j][r] = $fma(av[r], bj, acc[j][r]);
                        }
                    }
                    col = col.wrapping_offset(s.lda);
                    row = row.wrapping_offset(s.brs);
                }
                for j in 0..N {
                    for r in 0..$rows {
                        $store(c.wrapping_offset(j as isize * s.ldc).wrapping_add(r * $lanes), masks[r], acc[j][r]);
                    }
                }
            }

            /// The whole product: blocks of `COLUMNS` columns, then single columns.
            #[target_feature(enable = "avx512f")]
            pub(super) unsafe fn product(s: Shape, a: *const $t, b: *const $t, c: *mut $t) {
                let masks = masks(s.m);
                let mut j = 0;
                while j + COLUMNS <= s.n {
                    columns::<COLUMNS>(
                        s,
                        masks,
                        a,
                        b.wrapping_offset(j as isize * s.bcs),
                        c.wrapping_offset(j as isize * s.ldc),
                    );
                    j += COLUMNS;
                }
                while j < s.n {
                    columns::<1>(
                        s,
                        masks,
                        a,
                        b.wrapping_offset(j as isize * s.bcs),
                        c.wrapping_offset(j as isize * s.ldc),
                    );
                    j += 1;
                }
            }
        }
    };
}

kernel!(
    f32_kernel,
    f32,
    __m512,
    __mmask16,
    16,
    1,
    _mm512_setzero_ps,
    _mm512_maskz_loadu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_mask_storeu_ps
);
kernel!(
    f64_kernel,
    f64,
    __m512d,
    __mmask8,
    8,
    2,
    _mm512_setzero_pd,
    _mm512_maskz_loadu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_mask_storeu_pd
);

#[cfg(test)]
mod tests {
    use super::*;
    use faer::linalg::matmul::matmul;
    use faer::{Accum, Mat, Par};

    /// Every shape with 2 to 16 rows (and k, n around the column-block edges), both element
    /// types, plain and transposed b: bit for bit the scalar fused multiply-add chain and faer.
    #[test]
    fn equals_the_fused_chain_and_faer_bit_for_bit() {
        fn check<T>(m: usize, k: usize, n: usize, transpose_b: bool)
        where
            T: faer::traits::ComplexField + Copy + PartialEq + std::fmt::Debug + 'static,
            T: std::ops::Mul<Output = T> + From<f32> + MulAdd,
        {
            let a = Mat::<T>::from_fn(m, k, |i, p| T::from(((i * 31 + p * 17) % 23) as f32 * 0.137 - 1.3));
            let stored = if transpose_b { (n, k) } else { (k, n) };
            let bs =
                Mat::<T>::from_fn(stored.0, stored.1, |i, j| T::from(((i * 13 + j * 7) % 19) as f32 * 0.291 - 2.3));
            let b = if transpose_b { bs.as_ref().transpose() } else { bs.as_ref() };
            let mut ours = Mat::<T>::from_fn(m, n, |_, _| T::from(7.0));
            if !applies(&ours.as_mut(), &a.as_ref()) {
                eprintln!("few_rows: no AVX-512F on this CPU, kernel not tested");
                return;
            }
            product(ours.as_mut(), a.as_ref(), b);
            let mut theirs = Mat::<T>::zeros(m, n);
            matmul(theirs.as_mut(), Accum::Replace, a.as_ref(), b, T::one_impl(), Par::Seq);
            for i in 0..m {
                for j in 0..n {
                    let mut chain = T::from(0.0);
                    for p in 0..k {
                        chain = a[(i, p)].mul_add(b[(p, j)], chain);
                    }
                    assert_eq!(ours[(i, j)], chain, "{m}x{k}x{n} (b transposed: {transpose_b}) at ({i}, {j})");
                    assert_eq!(ours[(i, j)], theirs[(i, j)], "{m}x{k}x{n} vs faer at ({i}, {j})");
                }
            }
        }
        for m in MIN_ROWS..=MAX_ROWS {
            for (k, n) in [(1, 1), (3, 7), (64, 8), (17, 9), (130, 17), (512, 64)] {
                for transpose_b in [false, true] {
                    check::<f32>(m, k, n, transpose_b);
                    check::<f64>(m, k, n, transpose_b);
                }
            }
        }
    }

    /// `mul_add` for the two element types, so the reference chain is written once.
    trait MulAdd {
        fn mul_add(self, b: Self, c: Self) -> Self;
    }
    impl MulAdd for f32 {
        fn mul_add(self, b: f32, c: f32) -> f32 {
            f32::mul_add(self, b, c)
        }
    }
    impl MulAdd for f64 {
        fn mul_add(self, b: f64, c: f64) -> f64 {
            f64::mul_add(self, b, c)
        }
    }
}
