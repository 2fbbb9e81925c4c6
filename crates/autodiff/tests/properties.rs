//! Every derivative algorithm against the others and against finite differences, on random DAGs.

mod common;

use std::sync::Arc;

use cg_autodiff::random::{random_dag, RandomDagSpec};
use cg_autodiff::{ScalarDag, Tape};
use cg_core::LocalFunction;
use cg_expr::Expr;
use proptest::prelude::*;
use rand::Rng;

/// Smooth functions by arity (no kinks, so finite differences are meaningful everywhere), with
/// arguments `a`, `b`, `c` in order of first use.
const FUNCTIONS: [&[&str]; 3] = [
    &["sin(a)", "cos(a)", "tanh(a)", "sigmoid(a)", "a * a", "0.5 * a + 1", "exp(0.5 * a)", "softplus(a)"],
    &["a * b", "a + b", "sin(a) * cos(b)", "tanh(a - b)", "a * b + a", "(a + b) / 2", "a / (1 + b * b)"],
    &["a * b * c", "a + b * c", "sin(a + b + c)", "a * tanh(b) - c"],
];

fn random_graph(seed: u64, n_sources: usize, n_computed: usize) -> (ScalarDag, Tape) {
    let spec = RandomDagSpec { n_sources, n_computed, max_fan_in: 3, window: None, source_range: 1.0 };
    let (dag, mut tape) = random_dag(spec, seed, |arity, rng| {
        let pool = FUNCTIONS[arity - 1];
        let f: Arc<dyn LocalFunction> = Arc::new(Expr::parse(pool[rng.random_range(0..pool.len())]).unwrap());
        f
    })
    .unwrap();
    dag.forward(&mut tape).unwrap();
    (dag, tape)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// For every node i and output t: reverse mode, forward mode, all-pairs and explicit path sums
    /// agree to 1e-12 of the path sums' scale Σ|Π z| (the bound on their rounding differences).
    #[test]
    fn exact_algorithms_agree(seed in any::<u64>(), n_sources in 1usize..4, n_computed in 1usize..6) {
        let (dag, tape) = random_graph(seed, n_sources, n_computed);
        let all = dag.all_pairs(&tape);
        let outputs: Vec<_> = dag.outputs().collect();
        for &t in &outputs {
            let reverse = dag.reverse(&tape, &[(t, 1.0)]).unwrap();
            for &i in dag.order() {
                if i == t { continue; }
                let paths = dag.pathwise(&tape, i, t, 1_000_000).unwrap();
                let tol = 1e-12 * paths.abs_sum.max(1e-300);
                let forward = dag.tangents(&tape, i)[t];
                let pair = all.get(i, t);
                prop_assert_eq!(pair.is_some(), paths.paths > 0, "all-pairs lists a pair iff a path exists");
                let pair = pair.unwrap_or(0.0);
                for (what, v) in [("reverse", reverse[i]), ("forward", forward), ("all-pairs", pair)] {
                    prop_assert!((v - paths.value).abs() <= tol,
                        "{} d{}/d{} = {} but path sum = {}", what, dag.name(t), dag.name(i), v, paths.value);
                }
            }
        }
    }

    /// Reverse mode with loss seeds c_t at the outputs equals Σ_t c_t S(i, t), and every node's
    /// derivative matches Richardson-extrapolated central differences to 1e-6 relative.
    #[test]
    fn reverse_mode_matches_finite_differences(seed in any::<u64>(), n_sources in 1usize..4, n_computed in 1usize..7) {
        let (dag, tape) = random_graph(seed, n_sources, n_computed);
        let outputs: Vec<_> = dag.outputs().collect();
        let coefficients: Vec<f64> = (0..outputs.len()).map(|k| 1.0 - 0.37 * k as f64).collect();
        let seeds: Vec<_> = outputs.iter().copied().zip(coefficients.iter().copied()).collect();
        let delta = dag.reverse(&tape, &seeds).unwrap();
        let all = dag.all_pairs(&tape);
        let loss = |tp: &Tape| seeds.iter().map(|&(t, c)| c * tp.value(t)).sum::<f64>();
        for &i in dag.order() {
            let via_pairs: f64 = seeds.iter().map(|&(t, c)| if t == i { c } else { c * all.get(i, t).unwrap_or(0.0) }).sum();
            prop_assert!((delta[i] - via_pairs).abs() <= 1e-12 * (1.0 + via_pairs.abs()));
            let fd = dag.finite_difference(&tape, i, 1e-3, loss).unwrap();
            prop_assert!((fd - delta[i]).abs() <= 1e-6 * (1.0 + delta[i].abs()),
                "dL/d{}: reverse {} vs finite differences {}", dag.name(i), delta[i], fd);
        }
    }
}

#[test]
fn path_count_grows_exponentially_with_depth() {
    // Figure 11.7's shape: k layers of two nodes, each reading both nodes of the layer before,
    // have 2^k paths from the input to the output.
    for layers in [1usize, 5, 20, 60] {
        let mut nodes = vec![("h1_1".to_string(), "x".to_string()), ("h1_2".to_string(), "-x".to_string())];
        for i in 2..=layers {
            nodes.push((format!("h{i}_1"), format!("h{}_1 + h{}_2", i - 1, i - 1)));
            nodes.push((format!("h{i}_2"), format!("h{}_1 - h{}_2", i - 1, i - 1)));
        }
        nodes.push(("o".into(), format!("h{layers}_1 + h{layers}_2")));
        let refs: Vec<(&str, &str)> = nodes.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let g = common::build(&[("x", cg_core::Role::Input, 1.0)], &refs);
        assert_eq!(g.dag.path_count(g.id("x"), g.id("o")), 1u128 << layers);
    }
}
