//! One RBM training epoch on the shape of `configs/rbm_digits.toml` (1797 binary rows of 64
//! pixels, 64 hidden units, batches of 10, CD-1 and PCD-1), and the evaluations: the exact
//! pseudo-log-likelihood over the data and one AIS estimate (100 chains, 1000 temperatures).

use cg_core::Validate;
use std::hint::black_box;

use cg_boltzmann::{ais_betas, base_biases, RbmConfig, RbmTrainer};
use cg_core::Solver;
use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data() -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    DMatrix::from_fn(1797, 64, |_, c| f64::from(u8::from(rng.random::<f64>() < 0.2 + 0.005 * c as f64)))
}

fn rbm(c: &mut Criterion) {
    let mut group = c.benchmark_group("rbm");
    group.sample_size(20);
    let data = data();
    for method in ["cd", "pcd"] {
        let text = format!("hidden = 64\nmethod = \"{method}\"\nlearning_rate = 0.1\nbatch_size = 10\nepochs = 20");
        let params = toml::from_str::<RbmConfig>(&text).unwrap().validate().unwrap();
        group.bench_function(format!("epoch/{method}"), |b| {
            let mut t = RbmTrainer::new(params.clone(), data.clone()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let mut s = t.init(&mut rng);
            b.iter(|| black_box(t.step(&mut s, &mut rng).unwrap()));
        });
    }
    let params = toml::from_str::<RbmConfig>("hidden = 64\nlearning_rate = 0.1\nbatch_size = 10\nepochs = 1")
        .unwrap()
        .validate()
        .unwrap();
    let mut t = RbmTrainer::new(params, data.clone()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut s = t.init(&mut rng);
    t.step(&mut s, &mut rng).unwrap();
    group
        .bench_function("pseudo_log_likelihood", |b| b.iter(|| black_box(s.rbm.pseudo_log_likelihood(&data).unwrap())));
    group.sample_size(10);
    let (base, betas) = (base_biases(&data), ais_betas(1000));
    group.bench_function("ais/100x1000", |b| {
        b.iter(|| black_box(s.rbm.ais_log_partition(&base, &betas, 100, &mut rng).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, rbm);
criterion_main!(benches);
