//! The machine's matrix-multiply peak: the best GFLOP/s faer reaches on large square products,
//! on one thread and on all of rayon's threads, in f32 and f64, and (on x86-64 with AVX-512) the
//! arithmetic ceiling of one core: independent 16-lane fused multiply-adds and nothing else.
//! bench_mlp's timing.json reports its own GFLOP/s (6 x parameters x samples per epoch) to
//! compare with. Then products with few output rows (a network's output layer) through the
//! toolkit's `product_into` (its AVX-512 few-rows kernel where the CPU has one) against faer.
//! And bench_mlp's own products of one batch part (64 columns) on one thread, with their
//! operands in cache and after 32 MB were touched (about the rates those products get inside an
//! epoch on a machine that keeps little of a training step in its cache). Last, bench_mlp's
//! training reduced to its products, ReLUs and SGD update (no graph engine, loss, biases or
//! checks), in the trainer's layout: what a trainer doing nothing but these products and passes
//! reaches, against which bench_mlp's own GFLOP/s shows what the engine around the products costs.
//!
//!     cargo run --release -p cg-autodiff --example gemm_peak

use std::time::Instant;

use cg_autodiff::vector::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

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

/// One batch part's buffers: the inputs, both hidden layers' activations, the outputs and the
/// hidden layers' deltas (the output delta overwrites the outputs).
struct PartBuffers<T: Real> {
    x: DMatrix<T>,
    a1: DMatrix<T>,
    a2: DMatrix<T>,
    z3: DMatrix<T>,
    d2: DMatrix<T>,
    d1: DMatrix<T>,
    grads: [DMatrix<T>; 3],
}

/// bench_mlp's 256-512-512-10 network trained for five epochs on 8,192 samples, batches of 128
/// cut into two parts of 64 computed in parallel (as the trainer does), with nothing but the
/// products (through the toolkit's `product_into`), ReLUs and their masks, a stand-in output
/// delta and the SGD update of each weight from both parts' gradients. GFLOP/s over the five
/// epochs, counted as bench_mlp's timing.json counts them.
fn bare_training<T: Real>() -> f64 {
    let (sizes, samples, part) = ([256, 512, 512, 10], 8192, 64);
    let fill = |r: usize, c: usize, seed: usize| {
        DMatrix::<T>::from_fn(r, c, |i, j| T::cast((((i * 7 + j * 3 + seed) % 13) as f64 - 6.0) * 0.01))
    };
    let data = fill(sizes[0], samples, 0);
    let mut weights: Vec<DMatrix<T>> = (0..3).map(|l| fill(sizes[l + 1], sizes[l], l + 1)).collect();
    let buffers = || PartBuffers {
        x: DMatrix::zeros(sizes[0], part),
        a1: DMatrix::zeros(0, 0),
        a2: DMatrix::zeros(0, 0),
        z3: DMatrix::zeros(0, 0),
        d2: DMatrix::zeros(0, 0),
        d1: DMatrix::zeros(0, 0),
        grads: [DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0)],
    };
    let mut parts = [buffers(), buffers()];
    let relu = |m: &mut DMatrix<T>| m.iter_mut().for_each(|v| *v = v.max(T::zero()));
    let mask = |d: &mut DMatrix<T>, a: &DMatrix<T>| {
        d.iter_mut().zip(a.iter()).for_each(|(d, a)| *d = if *a > T::zero() { *d } else { T::zero() })
    };
    let pass = |w: &[DMatrix<T>], columns: &[usize], p: &mut PartBuffers<T>| {
        for (j, &c) in columns.iter().enumerate() {
            p.x.column_mut(j).copy_from(&data.column(c));
        }
        T::product_into(&mut p.a1, &w[0], false, &p.x, false);
        relu(&mut p.a1);
        T::product_into(&mut p.a2, &w[1], false, &p.a1, false);
        relu(&mut p.a2);
        T::product_into(&mut p.z3, &w[2], false, &p.a2, false);
        p.z3.iter_mut().for_each(|v| *v = (*v - T::cast(0.1)) * T::cast(1e-3));
        T::product_into(&mut p.grads[2], &p.z3, false, &p.a2, true);
        T::product_into(&mut p.d2, &w[2], true, &p.z3, false);
        mask(&mut p.d2, &p.a2);
        T::product_into(&mut p.grads[1], &p.d2, false, &p.a1, true);
        T::product_into(&mut p.d1, &w[1], true, &p.d2, false);
        mask(&mut p.d1, &p.a1);
        T::product_into(&mut p.grads[0], &p.d1, false, &p.x, true);
    };
    let mut order: Vec<usize> = (0..samples).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let epochs = 5;
    let start = Instant::now();
    for _ in 0..epochs {
        order.shuffle(&mut rng);
        for batch in order.chunks(2 * part) {
            let [p0, p1] = &mut parts;
            let (c0, c1) = batch.split_at(part);
            rayon::join(|| pass(&weights, c0, p0), || pass(&weights, c1, p1));
            for (l, w) in weights.iter_mut().enumerate() {
                let (g0, g1) = (parts[0].grads[l].as_slice(), parts[1].grads[l].as_slice());
                w.as_mut_slice().par_chunks_mut(1 << 13).enumerate().for_each(|(c, w)| {
                    let at = c << 13;
                    for (i, w) in w.iter_mut().enumerate() {
                        *w -= T::cast(0.01) * (g0[at + i] + g1[at + i]);
                    }
                });
            }
        }
    }
    let parameters: usize = weights.iter().map(|w| w.len()).sum::<usize>() + sizes[1..].iter().sum::<usize>();
    6.0 * (parameters * samples * epochs) as f64 / start.elapsed().as_secs_f64() / 1e9
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
    println!(
        "bench_mlp's training reduced to its products, ReLUs and SGD update ({threads} threads, 5 epochs), GFLOP/s"
    );
    // Workers poll for work through the run, as the experiments binary keeps them.
    let (f32_rate, f64_rate) = cg_core::with_workers_awake(|| (bare_training::<f32>(), bare_training::<f64>()));
    println!("bare training: f32 {f32_rate:6.1}   f64 {f64_rate:6.1}");
}
