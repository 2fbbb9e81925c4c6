//! Matrix products for the vector engine, computed by faer on nalgebra's storage (both are
//! column-major, so the views cost nothing). faer was chosen by measurement: on the bench_mlp
//! workload it is several times faster than nalgebra's own product, and it can use both cores.
//!
//! Products large enough to pay for threads run on rayon's pool; small ones stay sequential. Each
//! output block is summed in a fixed order, so a run gives the same numbers every time on the same
//! machine (checked by the regression tests).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use nalgebra::DMatrix;

/// Below this many multiply-adds a product runs on one thread. Measured on bench_mlp (2 cores):
/// 2^19 lets the skinny output-layer products (10 x 512 x 128) use both cores, 0.265 -> 0.21
/// s/epoch in f32; digits_mlp's products (at most 64 x 64 x 32) stay sequential. The split is
/// over output blocks, so results do not change.
const PARALLEL_FROM: usize = 1 << 19;

fn view<T: faer::traits::ComplexField>(a: &DMatrix<T>, transpose: bool) -> MatRef<'_, T> {
    let v = MatRef::from_column_major_slice(a.as_slice(), a.nrows(), a.ncols());
    if transpose {
        v.transpose()
    } else {
        v
    }
}

/// op(a) · op(b), where op transposes when asked.
///
/// # Panics
/// If the inner dimensions differ (callers check shapes first).
pub(crate) fn product<T: faer::traits::ComplexField + nalgebra::Scalar>(
    a: &DMatrix<T>,
    transpose_a: bool,
    b: &DMatrix<T>,
    transpose_b: bool,
) -> DMatrix<T> {
    let (av, bv) = (view(a, transpose_a), view(b, transpose_b));
    let (m, k, n) = (av.nrows(), av.ncols(), bv.ncols());
    assert_eq!(k, bv.nrows(), "internal: inner dimensions differ");
    let mut out = DMatrix::from_element(m, n, T::zero_impl());
    let par = if m * n * k >= PARALLEL_FROM { Par::rayon(0) } else { Par::Seq };
    matmul(MatMut::from_column_major_slice_mut(out.as_mut_slice(), m, n), Accum::Replace, av, bv, T::one_impl(), par);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Mat = DMatrix<f64>;

    #[test]
    fn matches_nalgebra_for_every_transpose_combination() {
        let a = Mat::from_fn(5, 3, |i, j| (i * 3 + j) as f64 * 0.1 - 0.7);
        let b = Mat::from_fn(3, 4, |i, j| (i + 2 * j) as f64 * 0.3 - 1.0);
        let close = |x: &Mat, y: &Mat| x.shape() == y.shape() && (x - y).abs().max() < 1e-14;
        assert!(close(&product(&a, false, &b, false), &(&a * &b)));
        assert!(close(&product(&b, true, &a, true), &(b.transpose() * a.transpose())));
        let c = Mat::from_fn(5, 4, |i, j| (i as f64 - j as f64) * 0.2);
        assert!(close(&product(&a, true, &c, false), &(a.transpose() * &c)));
        assert!(close(&product(&c, false, &b, true), &(&c * b.transpose())));
        // Large enough to take the parallel path.
        let big = Mat::from_fn(200, 120, |i, j| ((i * 7 + j * 13) % 17) as f64 - 8.0);
        let big2 = Mat::from_fn(120, 150, |i, j| ((i * 5 + j * 3) % 11) as f64 - 5.0);
        assert!(close(&product(&big, false, &big2, false), &(&big * &big2)));
    }
}
