//! Recall sweeps on dense networks of N = 1,000 and 10,000 units. Throughput is counted in weights
//! visited (N² per sweep), so criterion's elements/s read as weights/s; `memory/read` measures how
//! fast this machine streams the same number of f64 (the goal: a synchronous sweep within 2x of
//! reading W once).

use std::hint::black_box;

use cg_core::Solver;
use cg_hopfield::{Hopfield, Mode, Recall};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn network(n: usize) -> (Hopfield, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut w = DMatrix::<f64>::zeros(n, n);
    for j in 0..n {
        for i in 0..j {
            let v: f64 = rng.random_range(-1.0..1.0);
            w[(i, j)] = v;
            w[(j, i)] = v;
        }
    }
    let cue = (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
    (Hopfield::new(w, DVector::zeros(n)).unwrap(), cue)
}

fn sweeps(c: &mut Criterion) {
    // As in the experiments binary: the sweeps' parallel loops start on a worker of the pool.
    cg_core::join_global_pool();
    let mut group = c.benchmark_group("hopfield");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let (net, cue) = network(n);
        group.throughput(Throughput::Elements((n * n) as u64));
        for (name, mode) in [("sync", Mode::Sync), ("async", Mode::Async)] {
            group.bench_with_input(BenchmarkId::new(name, format!("units={n}")), &n, |b, _| {
                // The sweep alone: no energy pass after synchronous sweeps, and the starting state
                // (whose energy costs a pass over W) made once outside the timed loop.
                let mut recall = Recall::new(&net, mode).without_energy();
                let mut rng = ChaCha8Rng::seed_from_u64(2);
                let start = recall.start(&cue).unwrap();
                // The other workers kept awake between sweeps, as `cg_core::run` keeps them.
                cg_core::with_workers_awake(|| {
                    b.iter(|| {
                        let mut state = start.clone();
                        black_box(recall.step(&mut state, &mut rng).unwrap())
                    })
                })
            });
        }
        let flat = net.weights().as_slice();
        group.bench_with_input(BenchmarkId::new("memory/read", format!("units={n}")), &n, |b, _| {
            // Eight independent sums, so the loop is limited by memory rather than by the latency
            // of one chain of additions.
            b.iter(|| {
                let acc = black_box(flat).chunks_exact(8).fold([0.0f64; 8], |mut acc, c| {
                    for k in 0..8 {
                        acc[k] += c[k];
                    }
                    acc
                });
                black_box(acc.iter().sum::<f64>())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sweeps);
criterion_main!(benches);
