//! The machine's matrix-multiply peak: the best GFLOP/s faer reaches on large square products,
//! on one thread and on all of rayon's threads, in f32 and f64, and (on x86-64 with AVX-512) the
//! arithmetic ceiling of one core: independent 16-lane fused multiply-adds and nothing else.
//! bench_mlp's timing.json reports its own GFLOP/s (6 x parameters x samples per epoch) to
//! compare with. Last, products with few output rows (a network's output layer) through the
//! toolkit's `product_into` (its AVX-512 few-rows kernel where the CPU has one) against faer.
//! And bench_mlp's own products of one batch part (64 columns) on one thread, with their
//! operands in cache and after 32 MB were touched (about the rates those products get inside an
//! epoch on a machine that keeps little of a training step in its cache).
//!
//!     cargo run --release -p cg-autodiff --example gemm_peak

use std::time::Instant;

use cg_autodiff::vector::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use nalgebra::DMatrix;

/// GFLOP/s of `run` (`flop` operations), best of five timings of `budget / flop` calls each.
fn best_of_five(flop: f64, budget: f64, run: &mut dyn FnMut()) -> f64 {
    let reps = ((budget / flop) as usize).max(1);
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                run();
            }
            flop * reps as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// faer on n × n · n × n: best of five timed runs of about 0.2 s each, in GFLOP/s.
fn gflops<T: faer::traits::ComplexField>(n: usize, par: Par, from: impl Fn(f64) -> T) -> f64 {
    let a = Mat::<T>::from_fn(n, n, |i, j| from(((i * 7 + j * 3) % 13) as f64 * 0.01));
    let b = Mat::<T>::from_fn(n, n, |i, j| from(((i * 5 + j) % 11) as f64 * 0.01));
    let mut c = Mat::<T>::zeros(n, n);
    let mut run = || matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), T::one_impl(), par);
    run();
    best_of_five(2.0 * (n * n * n) as f64, 2e10, &mut run)
}

/// One core's f32 multiply-add ceiling in GFLOP/s: twelve independent AVX-512 accumulators.
#[cfg(target_arch = "x86_64")]
fn fma_ceiling() -> Option<f64> {
    use std::arch::x86_64::{__m512, _mm512_fmadd_ps, _mm512_reduce_add_ps, _mm512_set1_ps};
    #[target_feature(enable = "avx512f")]
    fn run(iterations: u64) -> f32 {
        let (a, b) = (_mm512_set1_ps(std::hint::black_box(0.999_9)), _mm512_set1_ps(std::hint::black_box(1e-4)));
        let mut acc: [__m512; 12] = [_mm512_set1_ps(1.0); 12];
        for _ in 0..iterations {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        acc.iter().map(|&x| _mm512_reduce_add_ps(x)).sum()
    }
    if !std::arch::is_x86_feature_detected!("avx512f") {
        return None;
    }
    let iterations = 200_000_000u64;
    let start = Instant::now();
    // SAFETY: the CPU has AVX-512F, checked above.
    let sink = unsafe { run(std::hint::black_box(iterations)) };
    std::hint::black_box(sink);
    Some((iterations * 12 * 16 * 2) as f64 / start.elapsed().as_secs_f64() / 1e9)
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_ceiling() -> Option<f64> {
    None
}

/// Best of five runs of about 0.1 s of `c = a · b` (m × k · k × n, f32, one thread), in GFLOP/s:
/// faer's sequential product, then the toolkit's.
fn few_rows(m: usize, k: usize, n: usize) -> (f64, f64) {
    let a = DMatrix::<f32>::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 13) as f32 * 0.01);
    let b = DMatrix::<f32>::from_fn(k, n, |i, j| ((i * 5 + j) % 11) as f32 * 0.01);
    let mut c = DMatrix::<f32>::zeros(m, n);
    let flop = 2.0 * (m * n * k) as f64;
    let time = |run: &mut dyn FnMut()| best_of_five(flop, 1e8, run);
    let faer = time(&mut || {
        let av = faer::MatRef::from_column_major_slice(a.as_slice(), m, k);
        let bv = faer::MatRef::from_column_major_slice(b.as_slice(), k, n);
        let cv = faer::MatMut::from_column_major_slice_mut(c.as_mut_slice(), m, n);
        matmul(cv, Accum::Replace, av, bv, 1.0, Par::Seq);
    });
    let ours = time(&mut || f32::product_into(&mut c, &a, false, &b, false));
    (faer, ours)
}

/// `out = op(a) · op(b)` (m × k · k × n) through the toolkit on one thread, in GFLOP/s: best of
/// five runs of about 0.1 s with the operands in cache, then the median of 41 single calls each
/// made after touching 32 MB (the time of the touching left out).
fn warm_and_cold<T: Real>(m: usize, k: usize, n: usize, transpose_a: bool, transpose_b: bool) -> (f64, f64) {
    let (ra, ca) = if transpose_a { (k, m) } else { (m, k) };
    let (rb, cb) = if transpose_b { (n, k) } else { (k, n) };
    let a = DMatrix::<T>::from_fn(ra, ca, |i, j| T::cast(((i * 7 + j * 3) % 13) as f64 * 0.01));
    let b = DMatrix::<T>::from_fn(rb, cb, |i, j| T::cast(((i * 5 + j) % 11) as f64 * 0.01));
    let mut c = DMatrix::<T>::zeros(m, n);
    let flop = 2.0 * (m * n * k) as f64;
    let warm = best_of_five(flop, 1e8, &mut || T::product_into(&mut c, &a, transpose_a, &b, transpose_b));
    let mut junk = vec![1u64; 4 << 20];
    let mut rates: Vec<f64> = (0..41)
        .map(|_| {
            junk.iter_mut().for_each(|x| *x = x.wrapping_add(1));
            std::hint::black_box(&junk);
            let start = Instant::now();
            T::product_into(&mut c, &a, transpose_a, &b, transpose_b);
            flop / start.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (warm, rates[rates.len() / 2])
}

fn main() {
    // faer's peak on the same footing as bench_mlp in the experiments binary: products started
    // on a worker of the pool.
    cg_core::join_global_pool();
    if let Some(ceiling) = fma_ceiling() {
        println!("f32 multiply-add ceiling of one core (AVX-512): {ceiling:.1} GFLOP/s");
    }
    let threads = rayon::current_num_threads();
    println!("matrix-multiply peak (faer, square n x n, best of 5), GFLOP/s");
    for n in [1024, 2048] {
        let f32_seq = gflops::<f32>(n, Par::Seq, |x| x as f32);
        let f32_par = gflops::<f32>(n, Par::rayon(threads), |x| x as f32);
        let f64_seq = gflops::<f64>(n, Par::Seq, |x| x);
        let f64_par = gflops::<f64>(n, Par::rayon(threads), |x| x);
        println!(
            "n = {n}: f32 {f32_seq:6.1} (1 thread) {f32_par:6.1} ({threads} threads)   \
             f64 {f64_seq:6.1} (1 thread) {f64_par:6.1} ({threads} threads)"
        );
    }
    println!("few output rows, f32, one thread (faer / toolkit), GFLOP/s");
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    for (m, k, n) in [
        (1, 512, 64),
        (2, 512, 64),
        (4, 512, 64),
        (8, 512, 64),
        (10, 512, 64),
        (10, 64, 512),
        (10, 512, 128),
        (16, 256, 256),
        (16, 64, 512),
    ] {
        let (faer, ours) = single.install(|| few_rows(m, k, n));
        println!("{m} x {k} x {n}: {faer:6.1} / {ours:6.1}");
    }
    println!("bench_mlp's products of one batch part, one thread: in cache / after 32 MB touched, GFLOP/s");
    for (what, m, k, n, ta, tb) in [
        ("W1 x", 512, 256, 64, false, false),
        ("W2 a1", 512, 512, 64, false, false),
        ("g2 a1^T", 512, 64, 512, false, true),
        ("W2^T g2", 512, 512, 64, true, false),
        ("g1 x^T", 512, 64, 256, false, true),
    ] {
        let (f32_warm, f32_cold) = single.install(|| warm_and_cold::<f32>(m, k, n, ta, tb));
        let (f64_warm, f64_cold) = single.install(|| warm_and_cold::<f64>(m, k, n, ta, tb));
        println!("{what:8} {m} x {k} x {n}: f32 {f32_warm:6.1} / {f32_cold:6.1}   f64 {f64_warm:6.1} / {f64_cold:6.1}");
    }
}
