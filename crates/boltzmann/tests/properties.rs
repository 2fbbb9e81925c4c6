//! Boltzmann machines against brute force: partition functions, free energies, conditionals,
//! AIS, Gibbs sampling, and learning that raises the exact likelihood.

use cg_boltzmann::bm::{kl_divergence, state_index};
use cg_boltzmann::{
    ais_betas, base_biases, BmConfig, BmTrainer, BoltzmannMachine, Rbm, RbmConfig, RbmTrainer, Visible,
};
use cg_core::numeric::log_sum_exp;
use cg_core::run;
use cg_core::Validate;
use nalgebra::DMatrix;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn bits(state: u64, n: usize) -> Vec<f64> {
    (0..n).map(|k| f64::from(u8::from(state >> k & 1 == 1))).collect()
}

fn random_rbm(nv: usize, nh: usize, std: f64, seed: u64) -> Rbm {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rbm = Rbm::random(nv, nh, Visible::Bernoulli, std, &mut rng);
    rbm.b.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
    rbm.c.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
    rbm
}

/// log Σ_{v, h} e^{-E(v, h)} over every joint state.
fn brute_log_z(rbm: &Rbm) -> f64 {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let terms: Vec<f64> =
        (0..1u64 << (nv + nh)).map(|s| -rbm.energy(&bits(s & ((1 << nv) - 1), nv), &bits(s >> nv, nh))).collect();
    log_sum_exp(&terms)
}

proptest! {
    #[test]
    fn exact_partition_function_matches_the_joint_sum(nv in 1usize..7, nh in 1usize..7, seed in any::<u64>()) {
        let rbm = random_rbm(nv, nh, 1.0, seed);
        let exact = rbm.log_partition_exact().unwrap();
        let brute = brute_log_z(&rbm);
        prop_assert!((exact - brute).abs() < 1e-10 * brute.abs().max(1.0), "{} vs {}", exact, brute);
    }

    #[test]
    fn free_energy_sums_out_the_hidden_units(nv in 1usize..6, nh in 1usize..6, seed in any::<u64>()) {
        let rbm = random_rbm(nv, nh, 1.0, seed);
        for s in 0..1u64 << nv {
            let v = bits(s, nv);
            let terms: Vec<f64> = (0..1u64 << nh).map(|t| -rbm.energy(&v, &bits(t, nh))).collect();
            prop_assert!((rbm.free_energy(&v) + log_sum_exp(&terms)).abs() < 1e-12);
        }
    }
}

#[test]
fn pseudo_likelihood_is_the_sum_of_exact_conditionals() {
    let rbm = random_rbm(5, 4, 1.0, 3);
    let (nv, nh) = (5, 4);
    let joint = |v: &[f64]| -> f64 {
        let t: Vec<f64> = (0..1u64 << nh).map(|s| -rbm.energy(v, &bits(s, nh))).collect();
        log_sum_exp(&t).exp()
    };
    let rows: Vec<Vec<f64>> = [3u64, 17, 30].iter().map(|&s| bits(s, nv)).collect();
    let mut expected = 0.0;
    for v in &rows {
        for i in 0..nv {
            let mut flipped = v.clone();
            flipped[i] = 1.0 - flipped[i];
            expected += (joint(v) / (joint(v) + joint(&flipped))).ln();
        }
    }
    expected /= rows.len() as f64;
    let data = DMatrix::from_fn(3, nv, |r, c| rows[r][c]);
    let pl = rbm.pseudo_log_likelihood(&data).unwrap();
    assert!((pl - expected).abs() < 1e-12, "{pl} vs {expected}");
    assert!(rbm.pseudo_log_likelihood(&DMatrix::from_element(1, nv, 0.5)).is_err());
}

#[test]
fn gaussian_partition_function_matches_quadrature() {
    // One Gaussian visible unit, three hidden: Z = ∫ Σ_h e^{-E(v, h)} dv by the trapezoid rule.
    let mut rbm = random_rbm(1, 3, 1.0, 9);
    rbm.visible = Visible::Gaussian;
    let exact = rbm.log_partition_exact().unwrap();
    let (lo, hi, steps) = (-40.0, 40.0, 400_000);
    let dv = (hi - lo) / steps as f64;
    let integral: f64 = (0..=steps)
        .map(|k| {
            let v = [lo + k as f64 * dv];
            let weight = if k == 0 || k == steps { 0.5 } else { 1.0 };
            weight * (-rbm.free_energy(&v)).exp()
        })
        .sum::<f64>()
        * dv;
    assert!((exact - integral.ln()).abs() < 1e-9, "{exact} vs {}", integral.ln());
}

#[test]
fn ais_agrees_with_the_exact_partition_function() {
    for (seed, std) in [(1, 0.5), (2, 1.0)] {
        let rbm = random_rbm(16, 12, std, seed);
        let exact = rbm.log_partition_exact().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let base = vec![0.0; 16];
        let est = rbm.ais_log_partition(&base, &ais_betas(2000), 200, &mut rng).unwrap();
        assert!(
            (est.log_z - exact).abs() < 0.05 && est.log_z_low - 0.02 <= exact && exact <= est.log_z_high + 0.02,
            "AIS {est:?}, exact {exact}"
        );
    }
}

#[test]
fn ais_agrees_with_the_exact_partition_function_for_gaussian_units() {
    // Gaussian visible units: log Z is exact by integrating v for each of the 2^12 hidden
    // states; AIS starts from N(base, I) with free hidden units.
    for (seed, std) in [(3, 0.3), (4, 0.6)] {
        let mut rbm = random_rbm(10, 12, std, seed);
        rbm.visible = Visible::Gaussian;
        let exact = rbm.log_partition_exact().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let base = rbm.b.iter().map(|b| 0.5 * b).collect::<Vec<_>>();
        let est = rbm.ais_log_partition(&base, &ais_betas(2000), 200, &mut rng).unwrap();
        assert!(
            (est.log_z - exact).abs() < 0.05 && est.log_z_low - 0.02 <= exact && exact <= est.log_z_high + 0.02,
            "AIS {est:?}, exact {exact}"
        );
    }
}

/// Binary rows near three prototypes (each bit flipped with probability 0.05).
fn prototypes(n: usize, nv: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let protos: Vec<Vec<f64>> =
        (0..3).map(|_| (0..nv).map(|_| f64::from(u8::from(rng.random::<bool>()))).collect()).collect();
    DMatrix::from_fn(n, nv, |r, c| {
        let x = protos[r % 3][c];
        if rng.random::<f64>() < 0.05 {
            1.0 - x
        } else {
            x
        }
    })
}

fn rbm_params(text: &str) -> cg_boltzmann::RbmParams {
    toml::from_str::<RbmConfig>(text).unwrap().validate().unwrap()
}

#[test]
fn cd_and_pcd_raise_the_exact_likelihood() {
    let data = prototypes(300, 10, 4);
    // PCD gets a smaller step and no momentum: with 10 persistent chains and three well-separated
    // modes, larger steps make the chains lag and the likelihood oscillate.
    for (method, rate, momentum, epochs) in [("cd", 0.1, 0.5, 30), ("pcd", 0.05, 0.0, 60)] {
        let p = rbm_params(&format!(
            "hidden = 6\nmethod = \"{method}\"\nlearning_rate = {rate}\nmomentum = {momentum}\nbatch_size = 10\n\
             epochs = {epochs}\ninit_std = 0.1"
        ));
        let mut trainer = RbmTrainer::new(p, data.clone()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut state = trainer.init(&mut rng);
        let ll = |r: &Rbm| r.mean_log_likelihood(&data, r.log_partition_exact().unwrap());
        let before = ll(&state.rbm);
        run(&mut trainer, &mut state, epochs, &mut rng, &mut []).unwrap();
        let after = ll(&state.rbm);
        // Three prototypes with 5% noise: entropy 10 H(0.05) + log 3 ≈ 3.09 nats per sample.
        assert!(after > before + 1.5 && after > -4.0, "{method}: {before} -> {after}");
    }
}

#[test]
fn gaussian_visible_units_learn_real_data() {
    // Two clusters in 4-D, unit variance around ±1.5: the likelihood of a Gaussian RBM must rise.
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let data = DMatrix::from_fn(400, 4, |r, _| {
        let centre = if r % 2 == 0 { 1.5 } else { -1.5 };
        centre + rng.random_range(-1.0..1.0)
    });
    let mut p = rbm_params("hidden = 3\nvisible = \"gaussian\"\nlearning_rate = 0.01\nbatch_size = 20\nepochs = 40");
    p.init_std = 0.1;
    let mut trainer = RbmTrainer::new(p, data.clone()).unwrap();
    let mut state = trainer.init(&mut rng);
    let ll = |r: &Rbm| r.mean_log_likelihood(&data, r.log_partition_exact().unwrap());
    let before = ll(&state.rbm);
    run(&mut trainer, &mut state, 40, &mut rng, &mut []).unwrap();
    assert!(ll(&state.rbm) > before + 0.3, "{before} -> {}", ll(&state.rbm));
}

#[test]
fn same_seed_same_machine() {
    let data = prototypes(60, 8, 7);
    let train = || {
        let p = rbm_params("hidden = 4\nmethod = \"pcd\"\nk = 2\nlearning_rate = 0.05\nbatch_size = 7\nepochs = 3");
        let mut t = RbmTrainer::new(p, data.clone()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut s = t.init(&mut rng);
        run(&mut t, &mut s, 3, &mut rng, &mut []).unwrap();
        s.rbm
    };
    assert_eq!(train(), train());
}

fn teacher(nv: usize, seed: u64) -> BoltzmannMachine {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut m = BoltzmannMachine::fully_connected(nv, 0);
    for &(i, j) in m.edges().to_vec().iter() {
        m.set_weight(i, j, rng.random_range(-1.0..1.0));
    }
    m.b.iter_mut().for_each(|x| *x = rng.random_range(-0.5..0.5));
    m
}

#[test]
fn gibbs_sampling_reaches_the_exact_distribution() {
    let m = teacher(5, 10);
    let exact = m.visible_distribution().unwrap();
    assert!((exact.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut s = vec![0.0; 5];
    let mut counts = vec![0.0; 32];
    for _ in 0..100 {
        m.gibbs_sweep(&mut s, false, &mut rng);
    }
    let sweeps = 200_000;
    for _ in 0..sweeps {
        m.gibbs_sweep(&mut s, false, &mut rng);
        counts[state_index(&s)] += 1.0;
    }
    for (k, (&c, &p)) in counts.iter().zip(&exact).enumerate() {
        let f = c / sweeps as f64;
        // Correlated samples: allow 5 binomial standard errors (a sweep is nearly independent).
        let se = (p * (1.0 - p) / sweeps as f64).sqrt();
        assert!((f - p).abs() < 5.0 * se + 1e-4, "state {k}: {f} vs {p}");
    }
}

#[test]
fn a_boltzmann_machine_learns_its_teachers_distribution() {
    let t = teacher(6, 12);
    let truth = t.visible_distribution().unwrap();
    // 4000 samples from the exact distribution.
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let cumulative: Vec<f64> = truth
        .iter()
        .scan(0.0, |a, p| {
            *a += p;
            Some(*a)
        })
        .collect();
    let data: Vec<Vec<f64>> = (0..4000)
        .map(|_| {
            let u: f64 = rng.random();
            let k = cumulative.iter().position(|&c| u < c).unwrap_or(truth.len() - 1);
            bits(k as u64, 6)
        })
        .collect();
    let params = toml::from_str::<BmConfig>(
        "hidden = 0\nlearning_rate = 0.05\nepochs = 30\nbatch_size = 100\nchains = 100\nsweeps = 1",
    )
    .unwrap()
    .validate()
    .unwrap();
    let mut trainer = BmTrainer::new(params, data).unwrap();
    let mut state = trainer.start(BoltzmannMachine::fully_connected(6, 0), &mut rng);
    let kl0 = kl_divergence(&truth, &state.machine.visible_distribution().unwrap());
    run(&mut trainer, &mut state, 30, &mut rng, &mut []).unwrap();
    let kl = kl_divergence(&truth, &state.machine.visible_distribution().unwrap());
    assert!(kl < 0.02 && kl < kl0 / 10.0, "KL {kl0} -> {kl}");
    assert_eq!(state.machine.to_graph().edge_count(), 15);
}

#[test]
fn base_biases_follow_the_data_marginals() {
    let data = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    let b = base_biases(&data);
    assert!((b[0] - 3f64.ln()).abs() < 1e-12);
    assert!((b[1] - (1e-3f64 / (1.0 - 1e-3)).ln()).abs() < 1e-12);
}
