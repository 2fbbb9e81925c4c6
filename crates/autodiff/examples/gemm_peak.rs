//! The machine's matrix-multiply peak: the best GFLOP/s faer reaches on large square products,
//! on one thread and on all of rayon's threads, in f32 and f64. bench_mlp's timing.json reports
//! its own GFLOP/s (6 x parameters x samples per epoch) to compare with.
//!
//!     cargo run --release -p cg-autodiff --example gemm_peak

use std::time::Instant;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};

/// Best of five timed runs of about 0.2 s each, in GFLOP/s.
fn gflops<T: faer::traits::ComplexField>(n: usize, par: Par, from: impl Fn(f64) -> T) -> f64 {
    let a = Mat::<T>::from_fn(n, n, |i, j| from(((i * 7 + j * 3) % 13) as f64 * 0.01));
    let b = Mat::<T>::from_fn(n, n, |i, j| from(((i * 5 + j) % 11) as f64 * 0.01));
    let mut c = Mat::<T>::zeros(n, n);
    let flop = 2.0 * (n * n * n) as f64;
    let mut run = || matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), T::one_impl(), par);
    run();
    let reps = ((2e10 / flop) as usize).max(1);
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

fn main() {
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
}
