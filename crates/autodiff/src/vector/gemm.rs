//! Matrix products for the vector engine, computed by faer on nalgebra's storage (both are
//! column-major, so the views cost nothing). faer was chosen by measurement: on the bench_mlp
//! workload it is several times faster than nalgebra's own product.
//!
//! Products large enough to pay for a second thread are cut into blocks of whole output columns
//! (or rows, for tall skinny outputs), each block computed by faer's sequential kernel on rayon's
//! pool. Every output element is the same sequential dot product whichever block holds it, so
//! the numbers do not depend on the number of threads (tested below). Cutting the work ourselves
//! and calling faer once per block beat faer's own threading on all five large bench_mlp shapes
//! (e.g. 205 vs 172 GFLOP/s for Wᵀ G with W 512 x 512 and G 512 x 128, two cores).
//!
//! Outputs of 2 to 16 rows (a network's output layer) go to `few_rows`, an AVX-512 kernel that
//! performs the same fused multiply-add chains as faer, 12-25% faster for those shapes on a Xeon.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use nalgebra::DMatrix;

use super::few_rows;

/// Below this many multiply-adds a product runs on one thread. Measured on bench_mlp's shapes
/// (2 cores): the output layer's 10 x 512 x 128 products (0.66 M)
/// run at 70 GFLOP/s f32 on one core and 45-58 when cut in two, the hidden layers' (>= 16 M)
/// at 110 on one core and 180-207 cut in two.
const PARALLEL_FROM: usize = 1 << 19;

/// Blocks are cut at multiples of this many rows or columns (a multiple of every SIMD width, so
/// no block gets a ragged vector tail it would not have had anyway).
const ALIGN: usize = 16;

fn view<T: faer::traits::ComplexField>(a: &DMatrix<T>, transpose: bool) -> MatRef<'_, T> {
    let v = MatRef::from_column_major_slice(a.as_slice(), a.nrows(), a.ncols());
    if transpose {
        v.transpose()
    } else {
        v
    }
}

/// `out = op(a) · op(b)`, reusing `out`'s allocation when it already has the right shape (the
/// engine's buffers keep their shapes from one mini-batch to the next).
///
/// # Panics
/// If the inner dimensions differ (callers check shapes first).
pub(crate) fn product_into<T: faer::traits::ComplexField + nalgebra::Scalar>(
    out: &mut DMatrix<T>,
    a: &DMatrix<T>,
    transpose_a: bool,
    b: &DMatrix<T>,
    transpose_b: bool,
) {
    let (av, bv) = (view(a, transpose_a), view(b, transpose_b));
    let (m, k, n) = (av.nrows(), av.ncols(), bv.ncols());
    assert_eq!(k, bv.nrows(), "internal: inner dimensions differ");
    if out.shape() != (m, n) {
        *out = DMatrix::from_element(m, n, T::zero_impl());
    }
    let blocks = if m * n * k >= PARALLEL_FROM { rayon::current_num_threads().max(1) } else { 1 };
    let c = MatMut::from_column_major_slice_mut(out.as_mut_slice(), m, n);
    in_blocks(c, av, bv, blocks);
}

/// Computes `c = a · b` in `blocks` parts, halving the longer output side at each level.
fn in_blocks<T: faer::traits::ComplexField + 'static>(
    c: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    blocks: usize,
) {
    let (m, n) = (c.nrows(), c.ncols());
    let long = m.max(n);
    if blocks < 2 || long < 2 * ALIGN {
        if few_rows::applies(&c, &a) {
            few_rows::product(c, a, b);
        } else {
            matmul(c, Accum::Replace, a, b, T::one_impl(), Par::Seq);
        }
        return;
    }
    let left = blocks / 2;
    let cut = (long * left / blocks).div_ceil(ALIGN) * ALIGN;
    if n >= m {
        let (c0, c1) = c.split_at_col_mut(cut);
        let (b0, b1) = b.split_at_col(cut);
        rayon::join(|| in_blocks(c0, a, b0, left), || in_blocks(c1, a, b1, blocks - left));
    } else {
        let (c0, c1) = c.split_at_row_mut(cut);
        let (a0, a1) = a.split_at_row(cut);
        rayon::join(|| in_blocks(c0, a0, b, left), || in_blocks(c1, a1, b, blocks - left));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Mat = DMatrix<f64>;

    fn product(a: &Mat, ta: bool, b: &Mat, tb: bool) -> Mat {
        let mut out = Mat::zeros(0, 0);
        product_into(&mut out, a, ta, b, tb);
        out
    }

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

    #[test]
    fn blocks_give_the_same_bits_as_one_sequential_product() {
        // Wide, tall and odd shapes, f32 and f64, 1 to 5 blocks: each must equal faer's single
        // sequential call bit for bit, so thread counts never change a result.
        fn check<T: faer::traits::ComplexField + nalgebra::Scalar + Copy + From<f32>>(m: usize, k: usize, n: usize) {
            let a = DMatrix::<T>::from_fn(m, k, |i, j| T::from(((i * 31 + j * 17) % 23) as f32 * 0.37 - 4.1));
            let b = DMatrix::<T>::from_fn(k, n, |i, j| T::from(((i * 13 + j * 7) % 19) as f32 * 0.29 - 2.3));
            let mut one = DMatrix::from_element(m, n, T::zero_impl());
            let c = MatMut::from_column_major_slice_mut(one.as_mut_slice(), m, n);
            matmul(c, Accum::Replace, view(&a, false), view(&b, false), T::one_impl(), Par::Seq);
            for blocks in 1..=5 {
                let mut cut = DMatrix::from_element(m, n, T::zero_impl());
                let c = MatMut::from_column_major_slice_mut(cut.as_mut_slice(), m, n);
                in_blocks(c, view(&a, false), view(&b, false), blocks);
                assert!(cut == one, "{m}x{k}x{n} in {blocks} blocks");
            }
        }
        for (m, k, n) in [(512, 300, 128), (10, 512, 128), (512, 10, 128), (97, 131, 203)] {
            check::<f32>(m, k, n);
            check::<f64>(m, k, n);
        }
    }
}
