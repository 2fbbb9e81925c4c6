//! Exact inference against enumeration and published numbers; the samplers against exact
//! marginals within their own error bars, on networks with deterministic nodes too; the Ising
//! sampler against brute force.

use cg_core::run;
use cg_pgm::sampling::{self, Compiled, Method, Settings};
use cg_pgm::{
    all_marginals, ancestral, effective_sample_size, enumerate, onsager_magnetisation, variable_elimination,
    BayesianNetwork, Factor, Ising, VariableSpec, CRITICAL_TEMPERATURE,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn spec(name: &str, parents: &[&str], cpt: Vec<Vec<f64>>) -> VariableSpec {
    VariableSpec {
        name: name.into(),
        states: vec!["false".into(), "true".into()],
        parents: parents.iter().map(|p| p.to_string()).collect(),
        cpt,
    }
}

/// The sprinkler network of Russell and Norvig (AIMA, figure 14.12).
fn sprinkler() -> BayesianNetwork {
    BayesianNetwork::new(&[
        spec("cloudy", &[], vec![vec![0.5, 0.5]]),
        spec("sprinkler", &["cloudy"], vec![vec![0.5, 0.5], vec![0.9, 0.1]]),
        spec("rain", &["cloudy"], vec![vec![0.8, 0.2], vec![0.2, 0.8]]),
        spec(
            "wet_grass",
            &["sprinkler", "rain"],
            vec![vec![1.0, 0.0], vec![0.1, 0.9], vec![0.1, 0.9], vec![0.01, 0.99]],
        ),
    ])
    .unwrap()
}

#[test]
fn sprinkler_posteriors_match_the_published_values() {
    let bn = sprinkler();
    let wet = [(3, 1)];
    let rain = variable_elimination(&bn.factors, &bn.cards, &[2], &wet).unwrap();
    let spr = variable_elimination(&bn.factors, &bn.cards, &[1], &wet).unwrap();
    // P(rain | wet) = 0.4581 / 0.6471 = 0.7079, P(sprinkler | wet) = 0.2781 / 0.6471 = 0.4298.
    assert!((rain.values[1] - 0.4581 / 0.6471).abs() < 1e-4, "{:?}", rain.values);
    assert!((spr.values[1] - 0.2781 / 0.6471).abs() < 1e-4, "{:?}", spr.values);
    let e = enumerate(&bn.factors, &bn.cards, &[2], &wet).unwrap();
    assert!((e.values[1] - rain.values[1]).abs() < 1e-15);
}

fn settings(method: Method, samples: usize) -> Settings {
    Settings { method, chains: 4, burn_in: 500, samples, thin: 1, blocks: true }
}

/// The sampler's estimate of P(target | evidence) against variable elimination: every state
/// within 4 standard errors; Gibbs chains converged.
fn agrees(bn: &BayesianNetwork, target: usize, evidence: &[(usize, usize)], s: &Settings, seed: u64) {
    let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
    let m = sampling::estimate(&c, target, evidence, s, seed).unwrap();
    let exact = variable_elimination(&bn.factors, &bn.cards, &[target], evidence).unwrap();
    for (x, e) in exact.values.iter().enumerate() {
        let (p, se) = (m.probabilities[x], m.standard_errors[x]);
        assert!((p - e).abs() <= 4.0 * se, "{:?} {} = {x}: {p} ± {se} vs exact {e}", s.method, bn.names[target]);
        assert!(se > 0.0 && m.intervals[x].0 <= p && p <= m.intervals[x].1);
    }
    assert!(m.converged(), "R-hat {:?}", m.r_hat);
}

#[test]
fn every_sampler_agrees_with_elimination_on_the_sprinkler() {
    let bn = sprinkler();
    for method in [Method::Gibbs, Method::LikelihoodWeighting, Method::Forward] {
        for v in 0..3 {
            agrees(&bn, v, &[(3, 1)], &settings(method, 20_000), 1);
        }
    }
}

/// Asia (Lauritzen and Spiegelhalter, 1988), with the states of every variable in `order`
/// (yes-first or no-first): `either` is a deterministic OR of `tub` and `lung`.
fn asia(yes_first: bool) -> BayesianNetwork {
    let states = |_: ()| if yes_first { vec!["yes".to_string(), "no".into()] } else { vec!["no".into(), "yes".into()] };
    // A row P(yes), P(no) in the chosen order.
    let row = |p_yes: f64| if yes_first { vec![p_yes, 1.0 - p_yes] } else { vec![1.0 - p_yes, p_yes] };
    // Rows over parent configurations in the chosen state order (last parent fastest).
    let rows = |yes_values: &[f64]| -> Vec<Vec<f64>> {
        let n = yes_values.len();
        let order: Vec<usize> = if yes_first { (0..n).collect() } else { (0..n).rev().collect() };
        order.iter().map(|&k| row(yes_values[k])).collect()
    };
    let v = |name: &str, parents: &[&str], cpt: Vec<Vec<f64>>| VariableSpec {
        name: name.into(),
        states: states(()),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        cpt,
    };
    // Parent configurations listed yes-first: (yes), (no); (yes, yes), (yes, no), ...
    BayesianNetwork::new(&[
        v("asia", &[], vec![row(0.01)]),
        v("tub", &["asia"], rows(&[0.05, 0.01])),
        v("smoke", &[], vec![row(0.5)]),
        v("lung", &["smoke"], rows(&[0.1, 0.01])),
        v("bronc", &["smoke"], rows(&[0.6, 0.3])),
        v("either", &["lung", "tub"], rows(&[1.0, 1.0, 1.0, 0.0])),
        v("xray", &["either"], rows(&[0.98, 0.05])),
        v("dysp", &["bronc", "either"], rows(&[0.9, 0.8, 0.7, 0.1])),
    ])
    .unwrap()
}

#[test]
fn asia_is_sampled_right_whatever_the_state_order() {
    for yes_first in [true, false] {
        let bn = asia(yes_first);
        let lung = bn.id("lung").unwrap();
        let yes = bn.state(lung, "yes").unwrap();
        // The textbook value first: P(lung = yes) = 0.5 x 0.1 + 0.5 x 0.01.
        let exact = variable_elimination(&bn.factors, &bn.cards, &[lung], &[]).unwrap();
        assert!((exact.values[yes] - 0.055).abs() < 1e-15);
        let s = settings(Method::Gibbs, 20_000);
        agrees(&bn, lung, &[], &s, 7);
        let (xray, dysp) = (bn.id("xray").unwrap(), bn.id("dysp").unwrap());
        let evidence = [(xray, bn.state(xray, "yes").unwrap()), (dysp, bn.state(dysp, "yes").unwrap())];
        agrees(&bn, lung, &evidence, &s, 8);
        agrees(&bn, bn.id("tub").unwrap(), &evidence, &settings(Method::LikelihoodWeighting, 200_000), 9);
        let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
        let blocks = sampling::estimate(&c, lung, &[], &settings(Method::Gibbs, 100), 1).unwrap().blocks;
        let names: Vec<Vec<&str>> = blocks.iter().map(|b| b.iter().map(|&v| bn.names[v].as_str()).collect()).collect();
        assert_eq!(names, vec![vec!["tub", "lung", "either"]]);
    }
}

#[test]
fn chains_stuck_in_different_modes_are_flagged_and_blocks_free_them() {
    // Two variables that must be equal (a table with zeros): single-site updates never leave
    // (0, 0) or (1, 1); chains from dispersed starts sit in different modes.
    let equal = Factor::new(&[0, 1], &[2, 2], vec![1.0, 0.0, 0.0, 3.0]).unwrap();
    let factors = [equal, Factor::new(&[0], &[2], vec![1.0, 1.0]).unwrap()];
    let c = Compiled::new(&factors, &[2, 2]).unwrap();
    let mut s = Settings { method: Method::Gibbs, chains: 8, burn_in: 100, samples: 4000, thin: 1, blocks: false };
    let stuck = sampling::estimate(&c, 0, &[], &s, 5).unwrap();
    assert!(!stuck.converged(), "R-hat {:?}", stuck.r_hat);
    s.blocks = true;
    let free = sampling::estimate(&c, 0, &[], &s, 5).unwrap();
    assert!(free.converged(), "R-hat {:?}", free.r_hat);
    // P(x0 = 1) = 3 / 4.
    assert!((free.probabilities[1] - 0.75).abs() <= 4.0 * free.standard_errors[1], "{:?}", free.probabilities);
}

#[test]
fn samplers_that_need_a_dag_say_so_and_hopeless_evidence_is_an_error() {
    let bn = sprinkler();
    let c = Compiled::new(&bn.factors, &bn.cards).unwrap();
    let e = sampling::estimate(&c, 0, &[(3, 1)], &settings(Method::Forward, 100), 1).unwrap_err();
    assert!(e.to_string().contains("need a Bayesian network"), "{e}");
    // wet_grass = true given neither sprinkler nor rain has probability 0.
    let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
    let e = sampling::estimate(&c, 0, &[(1, 0), (2, 0), (3, 1)], &settings(Method::LikelihoodWeighting, 100), 1)
        .unwrap_err();
    assert!(e.to_string().contains("positive weight"), "{e}");
}

#[test]
fn impossible_evidence_in_a_part_cut_off_from_the_query_is_still_an_error() {
    // a -> b and, unconnected, c -> d with d = c deterministic: evidence c = 0, d = 1 is
    // impossible; the query on b does not need that part, but the evidence is still refused.
    let bn = BayesianNetwork::new(&[
        spec("a", &[], vec![vec![0.3, 0.7]]),
        spec("b", &["a"], vec![vec![0.9, 0.1], vec![0.2, 0.8]]),
        spec("c", &[], vec![vec![0.5, 0.5]]),
        spec("d", &["c"], vec![vec![1.0, 0.0], vec![0.0, 1.0]]),
    ])
    .unwrap();
    let e = variable_elimination(&bn.factors, &bn.cards, &[1], &[(2, 0), (3, 1)]).unwrap_err();
    assert!(e.to_string().contains("probability zero"), "{e}");
    let ok = variable_elimination(&bn.factors, &bn.cards, &[1], &[(2, 1), (3, 1)]).unwrap();
    assert!((ok.values[1] - (0.3 * 0.1 + 0.7 * 0.8)).abs() < 1e-15);
}

#[test]
fn a_cycle_is_refused_with_its_path() {
    let e = BayesianNetwork::new(&[
        spec("a", &["b"], vec![vec![0.5, 0.5], vec![0.5, 0.5]]),
        spec("b", &["a"], vec![vec![0.5, 0.5], vec![0.5, 0.5]]),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("a -> b -> a") || e.contains("b -> a -> b"), "{e}");
    let e = BayesianNetwork::new(&[spec("a", &[], vec![vec![0.5, 0.6]])]).unwrap_err().to_string();
    assert_eq!(e, "variable `a`: cpt row 1 is not a distribution (sums to 1.1)");
}

/// A random network over `n` variables with 2 or 3 states; each variable's parents are drawn
/// from the earlier ones.
fn random_network(n: usize, seed: u64) -> BayesianNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cards: Vec<usize> = (0..n).map(|_| rng.random_range(2..=3)).collect();
    let specs: Vec<VariableSpec> = (0..n)
        .map(|k| {
            let parents: Vec<usize> = (0..k).filter(|_| rng.random::<f64>() < 0.4).take(3).collect();
            let rows: usize = parents.iter().map(|&p| cards[p]).product();
            let cpt = (0..rows)
                .map(|_| {
                    let w: Vec<f64> = (0..cards[k]).map(|_| rng.random_range(0.05..1.0)).collect();
                    let s: f64 = w.iter().sum();
                    w.iter().map(|x| x / s).collect::<Vec<f64>>()
                })
                .map(|mut row: Vec<f64>| {
                    // Rows must sum to one within 1e-9 after the division.
                    let s: f64 = row[..row.len() - 1].iter().sum();
                    *row.last_mut().unwrap() = 1.0 - s;
                    row
                })
                .collect();
            VariableSpec {
                name: format!("x{k}"),
                states: (0..cards[k]).map(|s| s.to_string()).collect(),
                parents: parents.iter().map(|p| format!("x{p}")).collect(),
                cpt,
            }
        })
        .collect();
    BayesianNetwork::new(&specs).unwrap()
}

proptest! {
    #[test]
    fn the_junction_tree_gives_every_marginal_elimination_gives(n in 3usize..9, seed in any::<u64>(), e in 0usize..9, x in 0usize..2) {
        let bn = random_network(n, seed);
        let evidence = vec![(e % n, x)];
        let all = all_marginals(&bn.factors, &bn.cards, &evidence).unwrap();
        for v in 0..n {
            match &all[v] {
                None => prop_assert_eq!(v, e % n),
                Some(m) => {
                    let ve = variable_elimination(&bn.factors, &bn.cards, &[v], &evidence).unwrap();
                    for (a, b) in m.values.iter().zip(&ve.values) {
                        prop_assert!((a - b).abs() < 1e-12, "x{}: {:?} vs {:?}", v, m.values, ve.values);
                    }
                }
            }
        }
    }

    #[test]
    fn elimination_equals_enumeration(n in 3usize..7, seed in any::<u64>(), q in 0usize..7, e in 0usize..7) {
        let bn = random_network(n, seed);
        let (q, e) = (q % n, e % n);
        let evidence = if e == q { vec![] } else { vec![(e, 0)] };
        let a = variable_elimination(&bn.factors, &bn.cards, &[q], &evidence).unwrap();
        let b = enumerate(&bn.factors, &bn.cards, &[q], &evidence).unwrap();
        // Barren variables left out: the same answer.
        let keep = ancestral(&bn.parents, &[q], &evidence);
        let pruned: Vec<Factor> = bn.factors.iter().enumerate().filter(|&(v, _)| keep[v]).map(|(_, f)| f.clone()).collect();
        let c = variable_elimination(&pruned, &bn.cards, &[q], &evidence).unwrap();
        for ((x, y), z) in a.values.iter().zip(&b.values).zip(&c.values) {
            prop_assert!((x - y).abs() < 1e-12 && (z - y).abs() < 1e-12, "{:?} vs {:?} vs {:?}", a.values, b.values, c.values);
        }
        prop_assert!((a.values.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn samplers_on_random_networks_agree_with_elimination() {
    for seed in 0..3 {
        let bn = random_network(6, seed);
        for method in [Method::Gibbs, Method::LikelihoodWeighting] {
            for v in [0, 2] {
                agrees(&bn, v, &[(5, 1)], &settings(method, 20_000), seed);
            }
        }
    }
}

#[test]
fn effective_sample_size_of_iid_and_ar1_series() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let iid: Vec<f64> = (0..20_000).map(|_| rng.random::<f64>()).collect();
    let ess = effective_sample_size(&iid);
    assert!((ess / 20_000.0 - 1.0).abs() < 0.1, "iid ESS {ess}");
    // AR(1) with ρ = 0.9: τ = (1 + ρ) / (1 - ρ) = 19.
    let mut x = 0.0;
    let ar: Vec<f64> = (0..200_000)
        .map(|_| {
            x = 0.9 * x + rng.random_range(-1.0..1.0);
            x
        })
        .collect();
    let ess = effective_sample_size(&ar);
    assert!((200_000.0 / ess / 19.0 - 1.0).abs() < 0.15, "AR(1) τ {}", 200_000.0 / ess);
}

#[test]
fn onsager_values() {
    assert!((CRITICAL_TEMPERATURE - 2.0 / (1.0 + 2f64.sqrt()).ln()).abs() < 1e-15);
    assert!((onsager_magnetisation(2.0) - 0.911_319_9).abs() < 1e-6);
    assert_eq!(onsager_magnetisation(2.5), 0.0);
}

#[test]
fn heat_bath_sampler_matches_brute_force_on_a_small_torus() {
    // 4 x 4 torus at T = 2.5 with a small field: <m> and <|m|> over all 2^16 states.
    let model = Ising::new(4, 1.0, 0.1, 2.5).unwrap();
    let (mut z, mut m1, mut mabs) = (0.0, 0.0, 0.0);
    let mut st = model.all_up();
    for bits in 0u32..1 << 16 {
        for k in 0..16 {
            st.spins[k] = if bits >> k & 1 == 1 { 1 } else { -1 };
        }
        let (m, e) = model.observables(&st);
        let w = (-16.0 * e / model.temperature).exp();
        z += w;
        m1 += w * m;
        mabs += w * m.abs();
    }
    let (exact_m, exact_abs) = (m1 / z, mabs / z);
    let mut solver = model;
    let mut state = solver.all_up();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    run(&mut solver, &mut state, 1000, &mut rng, &mut []).unwrap();
    let (_, records) = cg_core::run_recorded(&mut solver, &mut state, 100_000, &mut rng).unwrap();
    let series: Vec<f64> = records.iter().map(|r| r.magnetisation).collect();
    let abs: Vec<f64> = series.iter().map(|m| m.abs()).collect();
    for (xs, exact, name) in [(&series, exact_m, "m"), (&abs, exact_abs, "|m|")] {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let se = (var / effective_sample_size(xs)).sqrt();
        assert!((mean - exact).abs() < 3.0 * se, "{name}: {mean} ± {se} vs {exact}");
    }
    // The same model as factors: a spin's marginal by elimination equals brute force.
    let (cards, factors) = model.factors();
    let names: Vec<String> = (0..16).map(|k| format!("s{k}")).collect();
    let g = cg_pgm::markov_graph(&names, &cards, &factors).unwrap();
    assert_eq!((g.node_count(), g.edge_count()), (16, 32), "a 4 x 4 torus has 2 N bonds");
    let p_up = variable_elimination(&factors, &cards, &[5], &[]).unwrap().values[1];
    // <s_5> = <m> by symmetry of the torus; p(+1) = (1 + <s>) / 2.
    assert!((p_up - (1.0 + exact_m) / 2.0).abs() < 1e-12, "{p_up} vs {}", (1.0 + exact_m) / 2.0);
}

proptest! {
    #[test]
    fn products_and_sums_equal_their_definitions(seed in any::<u64>(), keep in 0usize..32) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cards: Vec<usize> = (0..5).map(|_| rng.random_range(1..4)).collect();
        let table = |vars: &[usize], rng: &mut ChaCha8Rng| {
            let c: Vec<usize> = vars.iter().map(|&v| cards[v]).collect();
            let values = (0..c.iter().product::<usize>()).map(|_| rng.random::<f64>()).collect();
            Factor::new(vars, &c, values).unwrap()
        };
        let (f, g) = (table(&[0, 2, 3], &mut rng), table(&[1, 2, 4], &mut rng));
        let fg = f.product(&g);
        prop_assert_eq!(&fg.vars, &vec![0, 1, 2, 3, 4]);
        // Every entry of the product is the product of the entries (by full assignments).
        let mut x = vec![0usize; 5];
        for code in 0..fg.values.len() {
            let mut rest = code;
            for v in (0..5).rev() {
                x[v] = rest % cards[v];
                rest /= cards[v];
            }
            prop_assert_eq!(fg.value_at(&x), f.value_at(&x) * g.value_at(&x));
        }
        // Summing down to a subset at once equals summing the others out one by one.
        let kept: Vec<usize> = (0..5).filter(|v| keep >> v & 1 == 1).collect();
        let once = fg.sum_to(&kept);
        let stepwise = (0..5).filter(|v| !kept.contains(v)).fold(fg.clone(), |f, v| f.sum_out(v));
        prop_assert_eq!(&once.vars, &stepwise.vars);
        for (a, b) in once.values.iter().zip(&stepwise.values) {
            prop_assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0));
        }
    }
}
