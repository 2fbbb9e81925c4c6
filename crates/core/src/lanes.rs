//! Dot products in a fixed order of eight lanes: lane k of a row sums x[8c + k] · y[8c + k] for
//! c = 0, 1, ... (a multiply then an add, never fused), then the lanes are added in order and
//! the tail after the last whole chunk is added last. Every path (the portable loop, AVX2)
//! gives the same bits, so results do not depend on the CPU or on how rows are grouped.

/// Σ x_k y_k for `R` rows `a` against one `b` (each row at least as long as `b`), in the
/// eight-lane order of this module: the portable reference.
#[inline(always)]
pub fn dots_portable<const R: usize>(a: [&[f64]; R], b: &[f64]) -> [f64; R] {
    let (cb, b_tail) = b.as_chunks::<8>();
    let n = cb.len();
    let mut acc = [[0.0f64; 8]; R];
    for (c, y) in cb.iter().enumerate() {
        for r in 0..R {
            let x = &a[r][8 * c..8 * c + 8];
            for k in 0..8 {
                acc[r][k] += x[k] * y[k];
            }
        }
    }
    std::array::from_fn(|r| finish(&acc[r], &a[r][8 * n..], b_tail))
}

/// The lanes summed in order, then the tail's products.
#[inline(always)]
fn finish(lanes: &[f64; 8], a_tail: &[f64], b_tail: &[f64]) -> f64 {
    let tail = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum::<f64>();
    lanes.iter().sum::<f64>() + tail
}

/// [`dots_portable`], with AVX2 written out in intrinsics where the CPU has it (two 256-bit sums
/// per row in registers, one load of `b` per chunk for all rows; up to four rows fit in the
/// registers), which LLVM's own vectorisation of the portable loop did not reach: it spilled
/// sums and split rows into 128-bit halves, and a Hopfield sweep of N = 1,000 on four rows at
/// a time ran 25% slower. The same bits either way (tested).
///
/// # Panics
/// A row shorter than `b`.
pub fn dots<const R: usize>(a: [&[f64]; R], b: &[f64]) -> [f64; R] {
    assert!(a.iter().all(|r| r.len() >= b.len()), "dots: a row shorter than b");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above); every row is as long as b
        // (asserted above).
        return unsafe { dots_avx2(a, b) };
    }
    dots_portable(a, b)
}

/// # Safety
/// The CPU must support AVX2, and every row of `a` must be at least as long as `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dots_avx2<const R: usize>(a: [&[f64]; R], b: &[f64]) -> [f64; R] {
    use std::arch::x86_64::{_mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd};
    let n = b.len() / 8;
    let mut acc = [[_mm256_setzero_pd(); 2]; R];
    let (pb, pa) = (b.as_ptr(), a.map(<[f64]>::as_ptr));
    for c in 0..n {
        // SAFETY: 8c + 8 <= b.len() <= each row's length.
        unsafe {
            let (y0, y1) = (_mm256_loadu_pd(pb.add(8 * c)), _mm256_loadu_pd(pb.add(8 * c + 4)));
            for r in 0..R {
                let (x0, x1) = (_mm256_loadu_pd(pa[r].add(8 * c)), _mm256_loadu_pd(pa[r].add(8 * c + 4)));
                acc[r][0] = _mm256_add_pd(acc[r][0], _mm256_mul_pd(x0, y0));
                acc[r][1] = _mm256_add_pd(acc[r][1], _mm256_mul_pd(x1, y1));
            }
        }
    }
    // The sums leave their registers here, once: a closure reading `acc` itself took its address
    // and LLVM then stored all eight registers to the stack on every pass of the loop (twice the
    // memory traffic of the loads; the sweep ran at half the speed of a plain read of W).
    let mut lanes = [[0.0f64; 8]; R];
    for (l, sums) in lanes.iter_mut().zip(acc) {
        // SAFETY: each row of lanes holds eight f64, written as two groups of four.
        unsafe {
            _mm256_storeu_pd(l.as_mut_ptr(), sums[0]);
            _mm256_storeu_pd(l.as_mut_ptr().add(4), sums[1]);
        }
    }
    std::array::from_fn(|r| finish(&lanes[r], &a[r][8 * n..], &b[8 * n..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn every_path_gives_the_same_bits() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for len in [0, 1, 7, 8, 9, 63, 64, 1000, 1003] {
            let rows: Vec<Vec<f64>> = (0..4).map(|_| (0..len).map(|_| rng.random_range(-1e3..1e3)).collect()).collect();
            let b: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
            let a = [&rows[0][..], &rows[1][..], &rows[2][..], &rows[3][..]];
            let want = dots_portable(a, &b);
            assert_eq!(dots(a, &b).map(f64::to_bits), want.map(f64::to_bits), "length {len}");
            // One row at a time, and two: the same sums.
            for r in 0..4 {
                assert_eq!(dots_portable([a[r]], &b)[0].to_bits(), want[r].to_bits());
                assert_eq!(dots([a[r]], &b)[0].to_bits(), want[r].to_bits());
            }
            assert_eq!(dots([a[2], a[3]], &b).map(f64::to_bits), [want[2], want[3]].map(f64::to_bits));
            // The order is the eight lanes': an independent scalar writing of it.
            let n = len / 8;
            for r in 0..4 {
                let mut lanes = [0.0f64; 8];
                for c in 0..n {
                    for k in 0..8 {
                        lanes[k] += rows[r][8 * c + k] * b[8 * c + k];
                    }
                }
                let mut total = 0.0;
                for l in lanes {
                    total += l;
                }
                let mut tail = 0.0;
                for k in 8 * n..len {
                    tail += rows[r][k] * b[k];
                }
                assert_eq!((total + tail).to_bits(), want[r].to_bits(), "length {len}, row {r}");
            }
        }
    }
}
