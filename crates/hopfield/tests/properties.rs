//! Properties of Hopfield networks: energy descent, symmetric weights, fixed points, cycles.

use cg_core::{run, Solver};
use cg_hopfield::{Hopfield, Learner, Mode, Recall, Rule};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_patterns(rng: &mut ChaCha8Rng, p: usize, n: usize) -> Vec<Vec<f64>> {
    (0..p).map(|_| (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Asynchronous updates never increase E = -1/2 sᵀWs + θᵀs, for any symmetric zero-diagonal
    /// W and any thresholds; the incrementally tracked energy equals the recomputed one.
    #[test]
    fn energy_never_increases(seed in any::<u64>(), n in 2usize..40) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut w = DMatrix::from_fn(n, n, |_, _| rng.random_range(-1.0..1.0));
        w = (&w + w.transpose()) * 0.5;
        w.fill_diagonal(0.0);
        let theta = DVector::from_fn(n, |_, _| rng.random_range(-0.5..0.5));
        let net = Hopfield::new(w, theta).unwrap();
        let cue: Vec<f64> = (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
        let mut recall = Recall::new(&net, Mode::Async);
        let mut state = recall.start(&cue).unwrap();
        let mut last = state.energy;
        for _ in 0..50 {
            let m = recall.step(&mut state, &mut rng).unwrap();
            let e = m.energy;
            prop_assert!(e <= last + 1e-9, "energy rose from {last} to {e}");
            prop_assert!((e - net.energy(&state.s)).abs() <= 1e-9 * (1.0 + e.abs()));
            last = e;
            if m.changed == 0 { break; }
        }
    }

    /// Both rules give exactly symmetric weights with a zero diagonal.
    #[test]
    fn learned_weights_are_symmetric_with_zero_diagonal(seed in any::<u64>(), n in 2usize..30, p in 1usize..8) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pats = random_patterns(&mut rng, p, n);
        for rule in [Rule::Hebbian, Rule::Storkey] {
            let w = Hopfield::store(rule, &pats).unwrap().weights().clone();
            prop_assert_eq!(&w, &w.transpose());
            prop_assert!(w.diagonal().iter().all(|&d| d == 0.0));
        }
    }

    /// Far below capacity (P/N = 0.03) every stored random pattern is a fixed point of both rules.
    #[test]
    fn stored_patterns_below_capacity_are_fixed_points(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pats = random_patterns(&mut rng, 6, 200);
        for rule in [Rule::Hebbian, Rule::Storkey] {
            let net = Hopfield::store(rule, &pats).unwrap();
            for p in &pats {
                let mut recall = Recall::new(&net, Mode::Async);
                let mut state = recall.start(p).unwrap();
                let m = recall.step(&mut state, &mut rng).unwrap();
                prop_assert_eq!(m.changed, 0, "{:?} moved a stored pattern", rule);
            }
        }
    }
}

#[test]
fn incremental_learning_equals_storing_all_at_once() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pats = random_patterns(&mut rng, 5, 50);
    for rule in [Rule::Hebbian, Rule::Storkey] {
        let mut l = Learner::new(rule, 50);
        for p in &pats {
            l.add(p).unwrap();
        }
        assert_eq!(l.network(), Hopfield::store(rule, &pats).unwrap());
    }
}

#[test]
fn synchronous_updates_stop_at_a_two_cycle() {
    // Two units that each want the opposite of the other: [1, 1] -> [-1, -1] -> [1, 1].
    let net = Hopfield::new(DMatrix::from_row_slice(2, 2, &[0.0, -1.0, -1.0, 0.0]), DVector::zeros(2)).unwrap();
    let mut recall = Recall::new(&net, Mode::Sync);
    let mut state = recall.start(&[1.0, 1.0]).unwrap();
    let out = run(&mut recall, &mut state, 10, &mut ChaCha8Rng::seed_from_u64(0), &mut []).unwrap();
    assert_eq!((out.steps, out.stop), (2, cg_core::Stop::Stalled));
    assert!(state.in_two_cycle());
}

#[test]
fn sparse_recall_matches_dense_recall() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let pats = random_patterns(&mut rng, 3, 40);
    let net = Hopfield::store(Rule::Hebbian, &pats).unwrap();
    let graph = net.to_graph();
    let mut cue = pats[0].clone();
    for v in cue.iter_mut().take(8) {
        *v = -*v;
    }
    for mode in [Mode::Async, Mode::Sync] {
        let mut dense = Recall::new(&net, mode);
        let mut sparse = Recall::sparse(&graph, mode).unwrap();
        let (mut a, mut b) = (dense.start(&cue).unwrap(), sparse.start(&cue).unwrap());
        run(&mut dense, &mut a, 20, &mut ChaCha8Rng::seed_from_u64(1), &mut []).unwrap();
        run(&mut sparse, &mut b, 20, &mut ChaCha8Rng::seed_from_u64(1), &mut []).unwrap();
        assert_eq!(a.s, b.s, "{mode:?}");
        assert_eq!(a.s.as_slice(), pats[0].as_slice(), "8 of 40 bits flipped are corrected");
    }
}

#[test]
fn cues_must_fit_the_network() {
    let net = Hopfield::store(Rule::Hebbian, &[vec![1.0, -1.0, 1.0]]).unwrap();
    let recall = Recall::new(&net, Mode::Async);
    assert_eq!(recall.start(&[1.0, 1.0]).unwrap_err().to_string(), "pattern 0 has 2 values, the network has 3 units");
    assert_eq!(recall.start(&[1.0, 0.5, 1.0]).unwrap_err().to_string(), "pattern 0, unit 1: 0.5 is not -1 or +1");
}
