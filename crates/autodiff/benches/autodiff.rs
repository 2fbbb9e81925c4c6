//! Forward + reverse passes on random scalar DAGs of 10^3..10^6 nodes, and all-pairs derivatives on
//! 10^2..10^3 nodes. Throughput is in nodes, so criterion reports nodes per second; the README
//! turns that into ns per node. The workload matches `scripts/peers/micrograd_bench.py`: each
//! computed node applies `tanh(a)`, `relu(a)`, `a * b` or `tanh(a + b)` to one or two of the 64
//! nodes before it, with 16 inputs drawn from [-1, 1]; every value stays in [-1, 1], so no run
//! overflows or sinks into subnormals.

use std::hint::black_box;
use std::sync::Arc;

use cg_autodiff::random::{random_dag, RandomDagSpec};
use cg_autodiff::{ScalarDag, Tape};
use cg_core::LocalFunction;
use cg_expr::Expr;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::Rng;

fn workload(n_computed: usize) -> (ScalarDag, Tape) {
    let spec = RandomDagSpec { n_sources: 16, n_computed, max_fan_in: 2, window: Some(64), source_range: 1.0 };
    let ops: Vec<Arc<dyn LocalFunction>> = ["tanh(a)", "relu(a)", "a * b", "tanh(a + b)"]
        .iter()
        .map(|s| Arc::new(Expr::parse(s).unwrap()) as Arc<dyn LocalFunction>)
        .collect();
    random_dag(spec, 7, |arity, rng| ops[2 * (arity - 1) + rng.random_range(0..2)].clone()).unwrap()
}

fn forward_reverse(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward_reverse");
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let (dag, mut tape) = workload(n);
        let seeds: Vec<_> = dag.outputs().map(|t| (t, 1.0)).collect();
        group.throughput(Throughput::Elements(n as u64));
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("nodes", n), &n, |b, _| {
            b.iter(|| {
                dag.forward(black_box(&mut tape)).unwrap();
                black_box(dag.reverse(&tape, black_box(&seeds)).unwrap())
            })
        });
    }
    group.finish();
}

fn all_pairs(c: &mut Criterion) {
    let mut group = c.benchmark_group("all_pairs");
    for n in [100usize, 300, 1_000] {
        let (dag, mut tape) = workload(n);
        dag.forward(&mut tape).unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::new("nodes", n), &n, |b, _| {
            b.iter(|| black_box(dag.all_pairs(black_box(&tape))))
        });
    }
    group.finish();
}

criterion_group!(benches, forward_reverse, all_pairs);
criterion_main!(benches);
