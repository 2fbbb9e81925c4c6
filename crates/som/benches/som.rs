//! Training alone (no quality pass) on the SOM issue's workload shape: 1797 samples of 64 values
//! in [0, 1] (uniform random here, so the bench needs no data file), a 20 x 20 rectangular planar
//! map, Gaussian neighbourhood. `online` is 1000 single-sample updates; `batch` is one epoch, run
//! on 1 and 2 threads (same result bits on both).

use cg_core::Validate;
use std::hint::black_box;

use cg_core::Solver;
use cg_som::{Som, SomConfig};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn som(text: &str) -> Som<'static> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data: Vec<f64> = (0..1797 * 64).map(|_| rng.random_range(0.0..1.0)).collect();
    let params = toml::from_str::<SomConfig>(text).unwrap().validate().unwrap();
    Som::new(params, data, 64).unwrap().without_quality()
}

fn training(c: &mut Criterion) {
    let mut group = c.benchmark_group("som");
    group.sample_size(20);
    let online =
        "rows = 20\ncols = 20\ntraining = \"online\"\nepochs = 1000\niterations_per_epoch = 1000\ninit = \"random\"\n\
                  learning_rate = { start = 0.5, end = 0.1 }\nradius = { start = 1.0, end = 0.3 }";
    group.throughput(Throughput::Elements(1000));
    group.bench_function("online/1000 updates", |b| {
        let mut s = som(online);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut state = s.init(&mut rng).unwrap();
        b.iter(|| {
            state.epochs_done %= 1000;
            black_box(s.step(&mut state, &mut rng).unwrap())
        });
    });
    let batch = "rows = 20\ncols = 20\ntraining = \"batch\"\nepochs = 1000\ninit = \"uniform\"\ntruncate = 2.0\n\
                 radius = { start = 5.0, end = 0.5 }";
    group.throughput(Throughput::Elements(1797));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        group.bench_with_input(BenchmarkId::new("batch/epoch", format!("threads={threads}")), &threads, |b, _| {
            let mut s = som(batch);
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let mut state = s.init(&mut rng).unwrap();
            b.iter(|| {
                state.epochs_done %= 1000;
                pool.install(|| black_box(s.step(&mut state, &mut rng).unwrap()))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
